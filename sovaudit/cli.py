"""The `sovaudit` command: a thin Typer layer over the library."""

import json
import os
import sys
from importlib.resources import files
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from sovaudit import __version__
from sovaudit.config import load_config, resolve_lake_path
from sovaudit.errors import SovauditError, UsageError
from sovaudit.lake import Lake
from sovaudit.output import dumps, write_rows
from sovaudit.pull import PullResult, pull_source, source_from_flags

app = typer.Typer(
    name="sovaudit",
    help="Data-sovereignty audit: cloud audit logs into an evidence-backed Parquet lake, queried with SQL.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
pull_app = typer.Typer(rich_markup_mode="rich")
app.add_typer(pull_app, name="pull")

# Piped output is read by people in CI logs too: give tables room instead of Rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)
err = Console(stderr=True)

LakeOpt = Annotated[str | None, typer.Option("--lake", help="Lake directory (else $SOVAUDIT_LAKE, \\[lake] path, ./sovaudit-lake).")]
ConfigOpt = Annotated[str | None, typer.Option("--config", help="Config file (else ./sovaudit.toml when present).")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Start: ISO date/time or relative (7d, 24h).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="End: ISO date/time or relative (7d, 24h).")]
LockOpt = Annotated[float, typer.Option("--lock-timeout", help="Seconds to wait for another pull's lock.")]


def _fail(exc: SovauditError) -> None:
    for line in str(exc).splitlines():
        err.print(Text(f"error: {line}", style="bold red"))
    raise typer.Exit(exc.exit_code)


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        _fail(UsageError(f"--format: found {fmt!r}, expected {', '.join(allowed[:-1])} or {allowed[-1]}"))


def _lake(lake: str | None, config: str | None) -> Lake:
    loaded = load_config(config)
    return Lake(resolve_lake_path(lake, loaded))


def _version(value: bool) -> None:
    if value:
        console.print(f"sovaudit {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Print the version and exit.")] = False) -> None:
    """sovaudit: pull, normalize and query audit logs for data-sovereignty evidence."""


# -- init ------------------------------------------------------------------------------------------

@app.command()
def init(path: Annotated[Path, typer.Argument(help="Where to write the config.")] = Path("sovaudit.toml"),
         force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False) -> None:
    """Write a commented example [bold]sovaudit.toml[/bold].

    Example: [cyan]sovaudit init && $EDITOR sovaudit.toml[/cyan]
    """
    if path.exists() and not force:
        _fail(UsageError(f"{path} exists; use --force to overwrite"))
    path.write_text(files("sovaudit").joinpath("init_template.toml").read_text(encoding="utf-8"), encoding="utf-8")
    console.print(f"wrote {path}")


# -- pull ------------------------------------------------------------------------------------------

class _RichProgress:
    def __init__(self, progress: Progress, task: int):
        self.progress, self.task = progress, task
        self.blobs = self.bytes = self.events = 0

    def blob_done(self, nbytes: int, events: int) -> None:
        self.blobs += 1
        self.bytes += nbytes
        self.events += events
        self.progress.update(self.task, advance=1, stats=f"{self.blobs:,} objects · {self.bytes / 1e6:,.1f} MB · "
                                                         f"{self.events:,} events")

    def total_known(self, blobs: int) -> None:
        self.progress.update(self.task, total=blobs + self.blobs)

    def note(self, message: str) -> None:
        self.progress.console.print(Text(f"warning: {message}", style="yellow"))


def _run_pull(lake: Lake, spec, since, until, lock_timeout, quiet: bool) -> PullResult:
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), console=err,
                  disable=quiet, transient=False) as progress:
        task = progress.add_task(f"pull {spec.name}", total=None, stats="")
        return pull_source(lake, spec, since=since, until=until, progress=_RichProgress(progress, task),
                           lock_timeout=lock_timeout,
                           on_lock_wait=lambda pid: err.print(f"waiting for the lake lock held by pid {pid} …"))


def _report_pulls(results: list[PullResult], fmt: str) -> int:
    if fmt == "json":
        print(dumps([{"source": r.source, "run_id": r.entry["run_id"], "counts": r.counts,
                      "blobs": r.entry["blobs"], "failures": r.entry["failures"],
                      "quarantine_file": r.entry["quarantine_file"], "ledger_hash": r.entry["hash"],
                      "notes": r.notes} for r in results]))
    else:
        table = Table(title="pull summary", header_style="bold cyan")
        for column in ("source", "read", "stored", "duplicate", "quarantined", "objects"):
            table.add_column(column, justify="left" if column == "source" else "right", no_wrap=True)
        for r in results:
            table.add_row(Text(r.source), *(f"{r.counts[k]:,}" for k in ("read", "stored", "duplicate", "quarantined")),
                          f"{r.entry['blobs']['blobs']:,}")
        console.print(table)
        for r in results:
            b = r.entry["blobs"]
            if b["blobs_skipped"]:
                console.print(Text(f"note: {b['blobs_skipped']:,} object(s) were already in the lake (same bytes) "
                                   "and were not read again", style="dim"))
            if b["digest_blobs"]:
                console.print(Text(f"note: {b['digest_blobs']:,} CloudTrail digest file(s) archived for "
                                   "verification", style="dim"))
            for note in r.notes:
                console.print(Text(f"note: {note}", style="dim"))
            for failure in r.entry["failures"]:
                console.print(Text(f"failed: {failure['error']}", style="red"))
            if r.entry["quarantine_file"]:
                console.print(Text(f"{r.counts['quarantined']} record(s) quarantined; see the `quarantine` table "
                                   f"(sovaudit sql \"FROM quarantine\") or {r.entry['quarantine_file']['path']}",
                                   style="yellow"))
        console.print(Text(f"ledger head {results[-1].entry['hash']}" if results else "nothing pulled", style="dim"))
    return max((r.exit_code for r in results), default=0)


FormatOpt = Annotated[str, typer.Option("--format", help="table or json.")]


@pull_app.callback(invoke_without_command=True)
def pull(ctx: typer.Context, lake: LakeOpt = None, config: ConfigOpt = None, since: SinceOpt = None,
         until: UntilOpt = None, source: Annotated[list[str] | None, typer.Option("--source",
         help="Only these \\[\\[sources]] names.")] = None, fmt: FormatOpt = "table",
         lock_timeout: LockOpt = 60.0) -> None:
    """Pull audit logs into the evidence archive and the lake: every \\[\\[sources]] entry, or one source type.

    Example: [cyan]sovaudit pull --since 7d[/cyan]
    """
    if ctx.invoked_subcommand:
        return
    _check_format(fmt, ("table", "json"))
    try:
        loaded = load_config(config)
        target = Lake(resolve_lake_path(lake, loaded))
        specs = [s for s in loaded.config.sources if not source or s.name in source]
        if not specs:
            raise UsageError("no [[sources]] to pull: add them to sovaudit.toml (see `sovaudit init`) "
                             "or use `sovaudit pull cloudtrail --path DIR`")
        results = [_run_pull(target, s, since, until, lock_timeout, fmt == "json") for s in specs]
    except SovauditError as exc:
        _fail(exc)
    raise typer.Exit(_report_pulls(results, fmt))


@pull_app.command("cloudtrail")
def pull_cloudtrail(
    path: Annotated[str | None, typer.Option("--path", help="Directory (walked recursively), file or glob.")] = None,
    bucket: Annotated[str | None, typer.Option("--bucket", help="S3 bucket with the trail's delivery.")] = None,
    prefix: Annotated[str | None, typer.Option("--prefix", help="Key prefix before AWSLogs/.")] = None,
    account: Annotated[list[str] | None, typer.Option("--account", help="Only these account ids.")] = None,
    region: Annotated[list[str] | None, typer.Option("--region", help="Only these regions (API regions with --lookup).")] = None,
    endpoint_url: Annotated[str | None, typer.Option("--endpoint-url", help="S3/CloudTrail endpoint override.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile name.")] = None,
    role_arn: Annotated[str | None, typer.Option("--role-arn", help="Role to assume for reading.")] = None,
    lookup: Annotated[bool, typer.Option("--lookup", help="Use the LookupEvents API (90 days, management events).")] = False,
    since: SinceOpt = None, until: UntilOpt = None, lake: LakeOpt = None, config: ConfigOpt = None,
    fmt: FormatOpt = "table", lock_timeout: LockOpt = 60.0,
) -> None:
    """Pull AWS CloudTrail logs from files, an S3 trail bucket, or the LookupEvents API.

    Examples:

      [cyan]sovaudit pull cloudtrail --path ./exports/[/cyan]

      [cyan]sovaudit pull cloudtrail --bucket org-trail --account 111122223333 --region eu-west-1 --since 7d[/cyan]

      [cyan]sovaudit pull cloudtrail --lookup --region eu-west-1 --since 24h[/cyan]
    """
    _check_format(fmt, ("table", "json"))
    try:
        target = _lake(lake, config)
        spec = source_from_flags(path=path, bucket=bucket, prefix=prefix, accounts=account, regions=region,
                                 endpoint_url=endpoint_url, profile=profile, role_arn=role_arn, lookup=lookup)
        result = _run_pull(target, spec, since, until, lock_timeout, fmt == "json")
    except SovauditError as exc:
        _fail(exc)
    raise typer.Exit(_report_pulls([result], fmt))


# -- sql and tables --------------------------------------------------------------------------------

SqlFormat = Annotated[str, typer.Option("--format", help="table, csv, json or ndjson.")]


def _run_query(target: Lake, query: str, fmt: str, max_rows: int) -> None:
    for statement in target.split_statements(query):
        _show(target.sql(statement), fmt, max_rows)


def _show(relation, fmt: str, max_rows: int) -> None:
    if relation is None:
        return
    columns = list(relation.columns)
    rows = relation.limit(max_rows + 1).fetchall() if fmt == "table" else relation.fetchall()
    truncated = fmt == "table" and len(rows) > max_rows
    write_rows(columns, rows[:max_rows] if truncated else rows, fmt, console)
    if truncated:
        err.print(f"(showing the first {max_rows:,} rows; use --max-rows or --format csv for all)")


def _interactive(target: Lake, fmt: str, max_rows: int) -> None:
    import duckdb

    if sys.stdin.isatty():
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory

        history = Path(os.environ.get("SOVAUDIT_HISTORY", Path.home() / ".sovaudit_sql_history"))
        session = PromptSession(history=FileHistory(str(history)))
        console.print("sovaudit sql — read-only. Tables: events, cloudtrail, quarantine, ledger. Ctrl-D to quit.")
        read = lambda: session.prompt("sovaudit> ")  # noqa: E731
    else:
        pending = iter([sys.stdin.read()])
        read = lambda: next(pending)  # noqa: E731
    while True:
        try:
            text = read()
        except (EOFError, StopIteration, KeyboardInterrupt):
            return
        if not text.strip():
            continue
        try:
            _run_query(target, text, fmt, max_rows)
        except (SovauditError, duckdb.Error) as exc:
            err.print(Text(f"error: {str(exc).splitlines()[0]}", style="red"))
            if not sys.stdin.isatty():
                raise typer.Exit(2) from None


@app.command()
def sql(query: Annotated[str | None, typer.Argument(help="SQL to run; omit for an interactive prompt.")] = None,
        fmt: SqlFormat = "table", lake: LakeOpt = None, config: ConfigOpt = None,
        max_rows: Annotated[int, typer.Option("--max-rows", help="Rows shown in table format.")] = 1000) -> None:
    """Read-only SQL over the lake (DuckDB). Writes are refused.

    Example: [cyan]sovaudit sql "SELECT region, count(*) FROM events GROUP BY ALL"[/cyan]
    """
    import duckdb

    _check_format(fmt, ("table", "csv", "json", "ndjson"))
    try:
        target = _lake(lake, config)
        if query is None:
            _interactive(target, fmt, max_rows)
        else:
            _run_query(target, query, fmt, max_rows)
    except SovauditError as exc:
        _fail(exc)
    except duckdb.Error as exc:
        _fail(UsageError(f"SQL error: {str(exc).splitlines()[0]}"))


@app.command()
def tables(fmt: FormatOpt = "table", lake: LakeOpt = None, config: ConfigOpt = None) -> None:
    """List the lake's tables, their columns and row counts.

    Example: [cyan]sovaudit tables --format json[/cyan]
    """
    _check_format(fmt, ("table", "json"))
    try:
        target = _lake(lake, config)
        described = target.table_columns()
        counts = {name: target.sql(f"SELECT count(*) FROM {name}").fetchall()[0][0] for name in described}  # noqa: S608
    except SovauditError as exc:
        _fail(exc)
    if fmt == "json":
        print(json.dumps({name: {"rows": counts[name], "columns": [{"name": c, "type": t} for c, t in cols]}
                          for name, cols in described.items()}, indent=2))
        return
    for name, cols in described.items():
        table = Table(title=f"{name} ({counts[name]:,} rows)", header_style="bold cyan", title_justify="left")
        table.add_column("column")
        table.add_column("type")
        for column, kind in cols:
            table.add_row(column, kind)
        console.print(table)


if __name__ == "__main__":
    app()
