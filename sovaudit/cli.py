"""The `sovaudit` command: a thin Typer layer over the library.

Only Typer is imported up front: `--help` and `--version` answer without loading DuckDB, pyarrow, pydantic or a
source's SDK. Each verb imports what it needs when it runs, and `pull`'s commands are loaded when `pull` is asked
for (see `_PullGroup`).
"""

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from sovaudit.cli_help import tidy
from sovaudit.cli_options import (
    ConfigOpt,
    EngineOpt,
    FormatOpt,
    LakeOpt,
    LockOpt,
    SinceOpt,
    SparkConfOpt,
    SparkLakeUriOpt,
    SparkMasterOpt,
    UntilOpt,
)
from sovaudit.errors import SovauditError, UsageError

if TYPE_CHECKING:
    from sovaudit.lake import Lake
    from sovaudit.pull import PullResult


class _LazyConsole:
    """A Rich console made on first use: importing Rich is left to the verbs that print with it."""

    def __init__(self, **settings: Any):
        self._settings, self._console = settings, None

    def get(self) -> Any:
        if self._console is None:
            from rich.console import Console

            settings = dict(self._settings)
            if settings.pop("stdout_width", False):
                # Piped output is read by people in CI logs too: give tables room instead of Rich's 80 columns.
                settings["width"] = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
            self._console = Console(**settings)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


console: Any = _LazyConsole(stdout_width=True)
err: Any = _LazyConsole(stderr=True)


def _rich(target: Any) -> Any:
    """The Rich console itself, for what takes one (Progress, the prompt), also when a test put one in place."""
    return target.get() if isinstance(target, _LazyConsole) else target


class _PullGroup(TyperGroup):
    """`sovaudit pull`, whose `pull <type>` commands the source families register: loaded (with the registry
    and the config models, never an SDK) only when `pull`'s commands are listed or one is run."""

    loads_lazily = True

    def _load(self) -> None:
        if getattr(self, "_loaded", False):
            return
        self._loaded = True
        from sovaudit.sources import SOURCES

        staging = typer.Typer(rich_markup_mode="rich", context_settings=CONTEXT)
        staging.callback()(lambda: None)
        # Each source type adds its own `pull <type>` command, with its flags and examples.
        for source in SOURCES.values():
            source.register_command(staging, _pull_from_flags)
        for name, command in typer.main.get_command(staging).commands.items():
            self.add_command(tidy(command), name)

    def list_commands(self, ctx: Any) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        self._load()
        return super().get_command(ctx, cmd_name)


CONTEXT = {"help_option_names": ["-h", "--help"]}
app = typer.Typer(
    name="sovaudit",
    help="Data-sovereignty audit: cloud audit logs into an evidence-backed Parquet lake, queried with SQL.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    context_settings=CONTEXT,
)
pull_app = typer.Typer(rich_markup_mode="rich", cls=_PullGroup)
app.add_typer(pull_app, name="pull")


def _text(text: str, style: str = "") -> Any:
    from rich.text import Text

    return Text(text, style=style)


def _visible(text: str) -> str:
    from sovaudit.output import visible

    return visible(text)


def _fail(exc: SovauditError) -> None:
    for line in str(exc).splitlines():
        err.print(_text(f"error: {_visible(line)}", "bold red"), soft_wrap=True)
    raise typer.Exit(exc.exit_code)


@contextmanager
def _writing(what: str, path: Path) -> Iterator[None]:
    """A refused write (permissions, read-only file system, full disk) ends the command with one line."""
    from sovaudit.fsutil import storage_errors

    try:
        with storage_errors(what, path, scope=path.parent):
            yield
    except SovauditError as exc:
        _fail(exc)


def _check_format(fmt: str, allowed: tuple[str, ...]) -> None:
    if fmt not in allowed:
        _fail(UsageError(f"--format: found {fmt!r}, expected {', '.join(allowed[:-1])} or {allowed[-1]}"))


def _lake(lake: str | None, config: str | None) -> "Lake":
    from sovaudit.config import load_config, resolve_lake_path
    from sovaudit.lake import Lake

    return Lake(resolve_lake_path(lake, load_config(config)))


def _read_lake(target: "Lake") -> "Lake":
    """The lake for a verb that reads it: refused with one line when the path is not a lake (missing, a file,
    empty, no ledger) or its ledger was altered, with a warning if a pull's last append was cut short (the next
    pull removes it)."""
    from sovaudit.lake_location import require_lake

    require_lake(target.root)
    lines = target.ledger.lines()
    target.ledger.entries(lines)
    torn = target.ledger.torn_tail(lines)
    if torn:
        err.print(_text(f"warning: {_visible(torn)}", "yellow"), soft_wrap=True)
    return target


def _version(value: bool) -> None:
    if value:
        from sovaudit import __version__

        print(f"sovaudit {__version__}")
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
    from importlib.resources import files

    if path.exists() and not force:
        _fail(UsageError(f"{path} exists; use --force to overwrite"))
    path.write_text(files("sovaudit").joinpath("init_template.toml").read_text(encoding="utf-8"), encoding="utf-8")
    console.print(f"wrote {path}")


# -- pull ------------------------------------------------------------------------------------------

class _RichProgress:
    def __init__(self, progress: Any, task: int):
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
        self.progress.console.print(_text(f"warning: {_visible(message)}", "yellow"), soft_wrap=True)


def _run_pull(lake: "Lake", spec, since, until, lock_timeout, quiet: bool, ip_ranges=None,
              compact: bool = False) -> "PullResult":
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from sovaudit.pull import pull_source

    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                  TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), console=_rich(err),
                  disable=quiet, transient=False) as progress:
        task = progress.add_task(f"pull {spec.name}", total=None, stats="")
        return pull_source(lake, spec, since=since, until=until, progress=_RichProgress(progress, task),
                           lock_timeout=lock_timeout, ip_ranges=ip_ranges, compact=compact,
                           on_lock_wait=lambda pid: err.print(f"waiting for the lake lock held by pid {pid} …"))


def _report_pulls(results: list["PullResult"], fmt: str, lake: "Lake | None" = None) -> int:
    from rich.table import Table

    from sovaudit.output import dumps, visible
    from sovaudit.pull_summary import quarantined_lines

    if fmt == "json":
        print(dumps([{"source": r.source, "run_id": r.entry["run_id"], "counts": r.counts,
                      "blobs": r.entry["blobs"], "failures": r.entry["failures"],
                      "quarantine_file": r.entry["quarantine_file"], "ledger_hash": r.entry["hash"],
                      "compaction": _compaction_of(r), "notes": r.notes} for r in results]))
    else:
        table = Table(title="pull summary", header_style="bold cyan")
        for column in ("source", "read", "stored", "duplicate", "quarantined", "objects"):
            table.add_column(column, justify="left" if column == "source" else "right", overflow="fold")
        for r in results:
            counts = (f"{r.counts[k]:,}" for k in ("read", "stored", "duplicate", "quarantined"))
            table.add_row(_text(visible(r.source)), *counts, f"{r.entry['blobs']['blobs']:,}")
        console.print(table)
        for r in results:
            b = r.entry["blobs"]
            if b["blobs_skipped"]:
                console.print(_text(f"note: {b['blobs_skipped']:,} object(s) were already in the lake (same bytes) "
                                    "and were not read again", "dim"))
            if b["digest_blobs"]:
                console.print(_text(f"note: {b['digest_blobs']:,} digest file(s) archived for verification "
                                    "(sovaudit verify)", "dim"))
            for note in r.notes:
                console.print(_text(f"note: {visible(note)}", "dim"))
            for failure in r.entry["failures"]:
                console.print(_text(f"failed: {visible(failure['error'])}", "red"))
            if r.entry["quarantine_file"]:
                path = visible(r.entry["quarantine_file"]["path"])
                console.print(_text(f"{r.counts['quarantined']:,} record(s) quarantined; see the `quarantine` table "
                                    f"(sovaudit sql \"FROM quarantine\") or {path}:", "yellow"), soft_wrap=True)
                # One line each, however long the path: they are grepped for in CI logs.
                for line in quarantined_lines(lake, r.entry["quarantine_file"], r.counts["quarantined"]):
                    console.print(_text(f"  {visible(line)}", "yellow"), soft_wrap=True)
        last = results[-1] if results else None
        head = (last.compaction or last.entry)["hash"] if last else None
        console.print(_text(f"ledger head {head}" if last else "nothing pulled", "dim"))
    return max((r.exit_code for r in results), default=0)


def _compaction_of(result: "PullResult") -> dict[str, Any] | None:
    """What `[lake] compact` did after the pull, for JSON: the entry's run, head and counts."""
    entry = result.compaction
    if entry is None:
        return None
    return {"run_id": entry["run_id"], "ledger_hash": entry["hash"], "files_replaced": len(entry["replaced"]),
            "files_written": len(entry["files"]), "rows": entry["rows"]}


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
    from sovaudit.config import ip_ranges_of, load_config, resolve_lake_path
    from sovaudit.lake import Lake
    from sovaudit.sources import SOURCES

    _check_format(fmt, ("table", "json"))
    try:
        loaded = load_config(config)
        target = Lake(resolve_lake_path(lake, loaded))
        specs = [s for s in loaded.config.sources if not source or s.name in source]
        if not specs:
            raise UsageError("no [[sources]] to pull: add them to sovaudit.toml (see `sovaudit init`) "
                             f"or pull one with `sovaudit pull TYPE …` ({', '.join(SOURCES)})")
        ranges = ip_ranges_of(loaded)
        results = [_run_pull(target, s, since, until, lock_timeout, fmt == "json", ranges, loaded.config.lake.compact)
                   for s in specs]
    except SovauditError as exc:
        _fail(exc)
    raise typer.Exit(_report_pulls(results, fmt, target))


def _pull_from_flags(source_type: str, flags: dict, *, since: str | None, until: str | None, lake: str | None,
                     config: str | None, fmt: str, lock_timeout: float) -> None:
    """`sovaudit pull <source_type> --flag …`: one pull of the config entry the flags describe."""
    from sovaudit.config import ip_ranges_of, load_config, resolve_lake_path
    from sovaudit.lake import Lake
    from sovaudit.sources import config_from_flags

    _check_format(fmt, ("table", "json"))
    try:
        loaded = load_config(config)
        target = Lake(resolve_lake_path(lake, loaded))
        spec = config_from_flags(source_type, loaded.config.sources, **flags)
        result = _run_pull(target, spec, since, until, lock_timeout, fmt == "json", ip_ranges_of(loaded),
                           loaded.config.lake.compact)
    except SovauditError as exc:
        _fail(exc)
    raise typer.Exit(_report_pulls([result], fmt, target))


# -- check and checks ------------------------------------------------------------------------------

checks_app = typer.Typer(rich_markup_mode="rich", no_args_is_help=True,
                         help="The check catalogue: list the checks, show one with its SQL, lint check SQL, or "
                              "export the checks compiled for Spark, Trino or Athena.")
app.add_typer(checks_app, name="checks")
CHECK_FORMATS = ("table", "json", "csv", "junit", "sarif", "ocsf")


def _check_formats(fmt: str, out: Path | None, out_dir: Path | None) -> list[str]:
    """`--format json,junit,sarif` writes each into --out-dir (table, if named, still goes to the terminal)."""
    formats = [f.strip() for f in fmt.split(",") if f.strip()] or [""]
    for f in formats:
        _check_format(f, CHECK_FORMATS)
    if len(set(formats)) != len(formats):
        _fail(UsageError(f"--format: found {fmt!r}, which names a format twice"))
    if out is not None and out_dir is not None:
        _fail(UsageError("--out and --out-dir: give one (--out for one format, --out-dir for several)"))
    if out_dir is None and len(formats) > 1:
        _fail(UsageError(f"--format: found {fmt!r}; several formats need --out-dir DIR"))
    return formats
FailOnOpt = Annotated[str, typer.Option("--fail-on", help="Exit 1 on findings at or above: critical, high, medium, "
                                        "low or info; none never fails on findings (a report-only run).")]


def _write_output(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
        return
    from sovaudit.fsutil import write_atomic

    with _writing("the output", out):
        out.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(out, text.encode("utf-8"))
    err.print(f"wrote {out}")


@app.command()
def check(
    check_id: Annotated[list[str] | None, typer.Option("--check", help="Run only this check id (repeatable).")] = None,
    family: Annotated[list[str] | None, typer.Option("--family", help="Run only this family (repeatable): "
                      "cross_region, egress, key_use, retention, integrity.")] = None,
    fail_on: FailOnOpt = "high",
    fmt: Annotated[str, typer.Option("--format", help="table, json, csv, junit, sarif or ocsf; several, "
                                     "comma-separated, with --out-dir.")] = "table",
    out: Annotated[Path | None, typer.Option("--out", help="Write the output to this file.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Write each --format to this directory: "
                                                 "findings.json, findings.csv, junit.xml, findings.sarif, "
                                                 "findings.ocsf.json.")] = None,
    since: SinceOpt = None, until: UntilOpt = None, lake: LakeOpt = None, config: ConfigOpt = None,
    engine: EngineOpt = "duckdb", spark_master: SparkMasterOpt = None, spark_conf: SparkConfOpt = None,
    lake_uri: SparkLakeUriOpt = None,
) -> None:
    """Run the sovereignty checks over the lake and the config's policy.

    Each check ends PASS, FAIL or NOT_ASSESSED (its data or policy is missing, with the reason).
    The window defaults to the last 30 days of data in the lake.

    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or config error or no lake at the path,
    3 partial evidence.

    Examples:

      [cyan]sovaudit check[/cyan]

      [cyan]sovaudit check --family integrity --since 2024-05-01 --until 2024-06-01[/cyan]

      [cyan]sovaudit check --fail-on medium --format junit --out junit.xml[/cyan]

      [cyan]sovaudit check --format json,junit,sarif,ocsf --out-dir results/[/cyan]

      [cyan]sovaudit check --engine spark --spark-master 'local[4]' --spark-conf spark.driver.memory=8g[/cyan]
    """
    from sovaudit.checks.console import print_run, suppression_notes
    from sovaudit.checks.formats import FILE_NAMES, WRITERS
    from sovaudit.checks.runner import run_checks
    from sovaudit.config import load_config, resolve_lake_path
    from sovaudit.lake import Lake

    formats = _check_formats(fmt, out, out_dir)
    try:
        loaded = load_config(config)
        target = _read_lake(Lake(resolve_lake_path(lake, loaded)))
        run = run_checks(target, loaded, check_ids=check_id, families=family, since=since, until=until,
                         fail_on=fail_on, **_engine_options(engine, spark_master, spark_conf, lake_uri))
    except SovauditError as exc:
        _fail(exc)
    for fmt in formats:
        if fmt == "table" and out is not None:
            from rich.console import Console

            with _writing("the output", out), open(out, "w", encoding="utf-8") as handle:
                print_run(run, Console(file=handle, width=160), fail_on)
            err.print(f"wrote {out}")
        elif fmt == "table":
            print_run(run, console, fail_on)
        else:
            _write_output(WRITERS[fmt](run), out_dir / FILE_NAMES[fmt] if out_dir is not None else out)
    for note in suppression_notes(run):
        err.print(_text(note, "yellow"), soft_wrap=True)
    for result in run.results:
        if result.error:
            err.print(_text(f"error: {result.check.id}: {_visible(result.status_reason)}", "bold red"))
    raise typer.Exit(run.exit_code(fail_on))


def _engine_options(engine: str, spark_master: str | None, spark_conf: list[str] | None,
                    lake_uri: str | None) -> dict[str, Any]:
    """CheckSession's engine options from --engine, --spark-master, --spark-conf and --lake-uri."""
    from sovaudit.checks.runner import ENGINES

    if engine not in ENGINES:
        raise UsageError(f"--engine: found {engine!r}, expected one of {', '.join(ENGINES)}")
    if engine != "spark":
        for name, given in (("--spark-master", spark_master), ("--spark-conf", spark_conf), ("--lake-uri", lake_uri)):
            if given:
                raise UsageError(f"{name}: only with --engine spark")
        return {}
    from sovaudit.engines.spark import parse_conf

    return {"engine": engine, "spark_master": spark_master, "spark_conf": parse_conf(spark_conf or []),
            "lake_uri": lake_uri}


def _catalogue(config: str | None):
    from sovaudit.checks.runner import load_catalogue
    from sovaudit.config import load_config

    return load_catalogue(load_config(config))


@checks_app.command("list")
def checks_list(fmt: Annotated[str, typer.Option("--format", help="table, json or markdown.")] = "table",
                config: ConfigOpt = None) -> None:
    """List the checks: built-in ones and those in the config's \\[checks] paths.

    Example: [cyan]sovaudit checks list --format markdown[/cyan]
    """
    from sovaudit.checks.console import catalogue_markdown, catalogue_table
    from sovaudit.output import dumps

    _check_format(fmt, ("table", "json", "markdown"))
    try:
        catalogue = _catalogue(config)
    except SovauditError as exc:
        _fail(exc)
    if fmt == "json":
        print(dumps([{"id": c.id, "title": c.title, "family": c.family, "severity": c.severity,
                      "gdpr": list(c.gdpr), "requires": list(c.requires), "requires_any": c.requires_any,
                      "policy": list(c.policy),
                      "baseline": c.baseline, "report": c.report, "description": c.description,
                      "remediation": c.remediation,
                      "path": str(c.path), "builtin": c.builtin} for c in catalogue]))
    elif fmt == "markdown":
        sys.stdout.write(catalogue_markdown(catalogue))
    else:
        console.print(catalogue_table(catalogue))


@checks_app.command("export")
def checks_export(
    dialect: Annotated[str, typer.Option("--dialect", help="spark, trino or athena.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the script to this file (else standard output).")] = None,
    lake_uri: Annotated[str | None, typer.Option("--lake-uri", help="Where the engine reads the lake's tables/ "
                                                 "(s3a://bucket/lake, abfss://…); default the lake's path.")] = None,
    check_id: Annotated[list[str] | None, typer.Option("--check", help="Only this check id (repeatable).")] = None,
    since: SinceOpt = None, until: UntilOpt = None, lake: LakeOpt = None, config: ConfigOpt = None,
) -> None:
    """Write the checks compiled for another engine: one SQL script with the lake's views, the config's policy,
    the session's views and one view per check (checks_xr_001 …), the window bound as literals.

    For running the catalogue where sovaudit does not run (Athena over the same Parquet, a Spark SQL job). Reasons
    are sovaudit's to render: each view returns the facts its `-- reason:` template names.

    Examples:

      [cyan]sovaudit checks export --dialect spark --lake-uri s3a://audit-bucket/sovaudit-lake --out checks.sql[/cyan]

      [cyan]sovaudit checks export --dialect athena --since 2025-03-01 --until 2025-04-01 --check XR-001[/cyan]
    """
    from sovaudit.checks.collected import live_until, pulls_table
    from sovaudit.checks.runner import load_catalogue, select_checks
    from sovaudit.checks.session import resolve_window
    from sovaudit.config import load_config, resolve_lake_path
    from sovaudit.engines.compile import CompileError
    from sovaudit.engines.export import export_script
    from sovaudit.lake import Lake

    try:
        loaded = load_config(config)
        target = _read_lake(Lake(resolve_lake_path(lake, loaded)))
        checks = select_checks(load_catalogue(loaded), check_id, None)
        entries = target.ledger.entries()
        con = target.connect()
        try:
            window = resolve_window(con, since, until, loaded.config.thresholds.baseline_days, live_until(entries))
        finally:
            con.close()
        script, left_out = export_script(dialect, loaded.config, checks, window.since, window.until,
                                         window.baseline_since, lake_uri or str(target.root.resolve()),
                                         pulls_table(entries),
                                         {t for t, files in target.committed_files(entries).items() if files})
    except CompileError as exc:
        _fail(UsageError(str(exc)))
    except SovauditError as exc:
        _fail(exc)
    _write_output(script, out)
    for check, why in left_out.items():
        err.print(_text(f"warning: {check} left out: it does not compile for {dialect}: {why}", "yellow"),
                  soft_wrap=True)


@checks_app.command("show")
def checks_show(check_id: Annotated[str, typer.Argument(help="A check id, e.g. XR-001.", metavar="ID")],
                config: ConfigOpt = None) -> None:
    """Show one check: its metadata and its SQL.

    Example: [cyan]sovaudit checks show IN-001[/cyan]
    """
    from sovaudit.checks.console import check_detail

    try:
        catalogue = {c.id: c for c in _catalogue(config)}
    except SovauditError as exc:
        _fail(exc)
    chosen = catalogue.get(check_id.upper())
    if chosen is None:
        _fail(UsageError(f"no check {check_id!r}; `sovaudit checks list` shows the catalogue"))
    console.print(check_detail(chosen))


@checks_app.command("lint")
def checks_lint(
    paths: Annotated[list[Path] | None, typer.Argument(help="Check or session SQL files, or directories of them.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
    config: ConfigOpt = None,
) -> None:
    """Lint check SQL against the portable check dialect (docs/portable-sql.md): each construct that does not run
    the same on every engine, as FILE:LINE: CONSTRUCT: why; write the portable alternative.

    Without PATHS: the built-in checks, the session scripts, the report's queries and the check files in the config's \\[checks] paths.
    Exit codes: 0 clean, 1 violations, 2 a path that is not there.

    Examples:

      [cyan]sovaudit checks lint[/cyan]

      [cyan]sovaudit checks lint our-checks/ --format json[/cyan]
    """
    from sovaudit.engines.lint import default_paths, expand, lint_file
    from sovaudit.output import dumps

    _check_format(fmt, ("text", "json"))
    try:
        if paths:
            missing = [p for p in paths if not p.exists()]
            if missing:
                raise UsageError(f"{missing[0]}: no such file or directory")
            files = expand(paths)
        else:
            from sovaudit.config import load_config

            loaded = load_config(config)
            base = loaded.path.parent if loaded.path else Path.cwd()
            files = default_paths([base / p for p in loaded.config.checks.paths])
        violations = []
        for path in files:
            with _reading(path):
                violations += lint_file(path)
    except SovauditError as exc:
        _fail(exc)
    if fmt == "json":
        print(dumps([v.as_dict() for v in violations]))
    else:
        for violation in violations:
            sys.stdout.write(_visible(str(violation)) + "\n")
        err.print(f"{len(violations)} violation{'s' if len(violations) != 1 else ''} in {len(files)} "
                  f"file{'s' if len(files) != 1 else ''}", highlight=False)
    raise typer.Exit(1 if violations else 0)


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    try:
        yield
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read: {exc}") from None


# -- ip-ranges -------------------------------------------------------------------------------------

ip_ranges_app = typer.Typer(rich_markup_mode="rich", no_args_is_help=True,
                            help="The cloud providers' published address ranges that place a caller in a cloud region.")
app.add_typer(ip_ranges_app, name="ip-ranges")


@ip_ranges_app.command("show")
def ip_ranges_show(address: Annotated[str, typer.Argument(help="An IPv4 or IPv6 address.", metavar="ADDRESS")],
                   fmt: FormatOpt = "table", config: ConfigOpt = None) -> None:
    """What sovaudit knows of an address: the country it is registered to, the cloud, region and service
    whose published range holds it, the jurisdiction the checks give it and why, and the data's dates.

    Example: [cyan]sovaudit ip-ranges show 34.240.1.1[/cyan]
    """
    from rich.table import Table
    from rich.text import Text

    from sovaudit.config import ip_ranges_of, load_config
    from sovaudit.ip_ranges.address import describe
    from sovaudit.output import dumps, visible

    _check_format(fmt, ("table", "json"))
    try:
        loaded = load_config(config)
        known = describe(address, ip_ranges_of(loaded), loaded.config.jurisdictions)
    except SovauditError as exc:
        _fail(exc)
    if fmt == "json":
        print(dumps(known, indent=2))
        return
    table = Table(title=f"address {known['address']}", header_style="bold cyan", title_justify="left",
                  show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value")
    rows = [("registered to", known["registered_country"] or ("-" if known["public"] else "- (not a public address)")),
            ("cloud", " ".join(filter(None, (known["cloud_label"], known["cloud_service"]))) or "-"),
            ("cloud region", known["cloud_region"] or "-"),
            ("jurisdiction", f"{known['jurisdiction']} (from {known['jurisdiction_from']})"
             if known["jurisdiction"] else "unknown: the checks do not place this caller"),
            ("prefixes", "\n".join(f"{p['prefix']} {p['cloud']} {p['region'] or '(no region)'} "
                                   f"{p['service'] or ''}".rstrip() for p in known["prefixes"]) or "-")]
    rows += [(f"{cloud} data", f"{about.get('published') or 'date unknown'} · {about.get('file')}")
             for cloud, about in known["data"].items() if isinstance(about, dict)]
    rows.append(("registration data", known["data"]["registration"]))
    for what, value in rows:
        table.add_row(what, Text(visible(str(value))))
    console.print(table)


@ip_ranges_app.command("update")
def ip_ranges_update(
        directory: Annotated[Path | None, typer.Option("--dir", help="Where to write the files (else \\[geo] "
                                                       "ip_ranges_dir, else ./ip-ranges).", metavar="DIR")] = None,
        fmt: FormatOpt = "table", config: ConfigOpt = None,
        timeout: Annotated[float, typer.Option("--timeout", help="Seconds per download.")] = 60.0) -> None:
    """Download the providers' current files (AWS ip-ranges.json, Azure ServiceTags_Public, Google Cloud
    cloud.json) from their official addresses, or \\[geo] urls. Pulls use them once \\[geo] ip_ranges_dir
    names the directory; until then they use the snapshot shipped with sovaudit.

    Example: [cyan]sovaudit ip-ranges update --dir ip-ranges[/cyan]
    """
    from rich.table import Table
    from rich.text import Text

    from sovaudit.config import load_config
    from sovaudit.fsutil import storage_errors
    from sovaudit.ip_ranges.update import update
    from sovaudit.output import dumps, visible

    _check_format(fmt, ("table", "json"))
    try:
        loaded = load_config(config)
        geo = loaded.config.geo
        base = loaded.path.parent if loaded.path else Path.cwd()
        target = directory or (base / geo.ip_ranges_dir if geo.ip_ranges_dir else Path("ip-ranges"))
        with storage_errors("the ip-ranges directory", target):
            results = update(target, dict(geo.urls), timeout=timeout)
    except SovauditError as exc:
        _fail(exc)
    failed = [r for r in results if not r.ok]
    if fmt == "json":
        print(dumps({"dir": str(target), "providers": [{"cloud": r.cloud, "url": r.url, "ok": r.ok,
                                                         "message": r.message, **r.about} for r in results]},
                    indent=2))
    else:
        table = Table(title=f"ip-ranges update → {target}", header_style="bold cyan", title_justify="left")
        for column in ("provider", "status", "published", "url", "detail"):
            table.add_column(column)
        for r in results:
            table.add_row(r.cloud, Text("ok", "green") if r.ok else Text("failed", "bold red"),
                          r.about.get("published") or "-", Text(visible(r.url)), Text(visible(r.message)))
        console.print(table)
        if not loaded.config.geo.ip_ranges_dir and not failed:
            err.print(f"pulls use these files once the config says: [geo] ip_ranges_dir = \"{target}\"")
    for r in failed:
        err.print(Text(f"error: {r.cloud}: {visible(r.url)}: {visible(r.message)}", style="bold red"), soft_wrap=True)
    raise typer.Exit(0 if not failed else 3 if len(failed) < len(results) else 2)


# -- report and scan -------------------------------------------------------------------------------

def _print_report_set(result, out_dir: Path, fail_on: str, pulls: list["PullResult"] | None = None) -> None:
    from rich.table import Table
    from rich.text import Text

    from sovaudit.checks.console import suppression_notes
    from sovaudit.output import visible

    run = result.run
    counts = {s: sum(r.status == s for r in run.results) for s in ("FAIL", "ACCEPTED", "NOT_ASSESSED", "PASS")}
    table = Table(title="sovaudit scan" if pulls is not None else "sovaudit report", header_style="bold cyan",
                  title_justify="left", show_header=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    if pulls is not None:
        for p in pulls:
            table.add_row(f"pulled {p.source}", f"{p.counts['read']:,} read, {p.counts['stored']:,} stored, "
                                                f"{p.counts['duplicate']:,} duplicate, {p.counts['quarantined']:,} quarantined")
    table.add_row("window", f"{run.as_dict()['window']['since']} – {run.as_dict()['window']['until']}")
    table.add_row("checks", Text.assemble((f"{counts['FAIL']} FAIL", "bold red" if counts["FAIL"] else ""), ", ",
                                          (f"{counts['ACCEPTED']} ACCEPTED", "blue" if counts["ACCEPTED"] else ""), ", ",
                                          (f"{counts['NOT_ASSESSED']} NOT_ASSESSED", "yellow" if counts["NOT_ASSESSED"] else ""),
                                          ", ", (f"{counts['PASS']} PASS", "green")))
    accepted = sum(len(r.accepted_findings) for r in run.results)
    if accepted or run.suppressions:
        table.add_row("accepted findings", f"{accepted} (not counted towards --fail-on; see the report's "
                                           "Accepted findings)")
    failing = run.failing(fail_on)
    if fail_on == "none":
        table.add_row("--fail-on none", Text("findings do not fail the run", style="dim"))
    else:
        table.add_row(f"at or above {fail_on}", Text(", ".join(r.check.id for r in failing) or "none",
                                                    style="bold red" if failing else "green"))
    for reason in run.partial_reasons:
        table.add_row("partial evidence", Text(visible(reason), style="yellow"))
    table.add_row("ledger head", run.ledger_head or "-")
    for name, path in result.files.items():
        table.add_row(name, Text(visible(str(path))))
    console.print(table)
    for note in suppression_notes(run):
        err.print(_text(note, "yellow"), soft_wrap=True)


@app.command()
def report(
    fmt: Annotated[str, typer.Option("--format", help="html, pdf or json.")] = "html",
    out: Annotated[Path | None, typer.Option("--out", help="The report file (default ./report.<format>). "
                                             "evidence.csv and findings.csv are written next to it.")] = None,
    since: SinceOpt = None, until: UntilOpt = None, fail_on: FailOnOpt = "high",
    lake: LakeOpt = None, config: ConfigOpt = None,
    engine: EngineOpt = "duckdb", spark_master: SparkMasterOpt = None, spark_conf: SparkConfOpt = None,
    lake_uri: SparkLakeUriOpt = None,
) -> None:
    """Render the GDPR Article 30 evidence report from the lake and the config's policy.

    The HTML is one self-contained file (no JavaScript, no external URL); the PDF is the same HTML printed by
    WeasyPrint; the JSON is `sovaudit check --format json` plus the Article 30 records. Exit codes as for check.

    Examples:

      [cyan]sovaudit report --format pdf --out evidence/2024-Q2.pdf --since 2024-04-01 --until 2024-07-01[/cyan]

      [cyan]sovaudit report --format html --fail-on none[/cyan]

      [cyan]sovaudit report --format pdf --engine spark --spark-master yarn[/cyan]
    """
    from sovaudit.config import load_config, resolve_lake_path
    from sovaudit.fsutil import storage_errors
    from sovaudit.lake import Lake
    from sovaudit.report.build import write_reports

    _check_format(fmt, ("html", "pdf", "json"))
    target_path = out or Path(f"report.{fmt}")
    try:
        loaded = load_config(config)
        target = _read_lake(Lake(resolve_lake_path(lake, loaded)))
        with err.status("checking and rendering …"), \
                storage_errors("the report", target_path, scope=target_path.parent):
            result = write_reports(target, loaded, target_path.parent, formats=(fmt,), machine=False, since=since,
                                   until=until, fail_on=fail_on, stem=target_path.stem,
                                   engine=_engine_options(engine, spark_master, spark_conf, lake_uri))
            if target_path.suffix != f".{fmt}":
                os.replace(result.files.pop(f"{target_path.stem}.{fmt}"), target_path)
                result.files[target_path.name] = target_path
    except SovauditError as exc:
        _fail(exc)
    _print_report_set(result, target_path.parent, fail_on)
    raise typer.Exit(result.run.exit_code(fail_on))


@app.command()
def scan(
    out: Annotated[Path | None, typer.Option("--out", help="Directory for the report set (default ./sovaudit-scan, "
                                             "or ./sovaudit-demo with --demo).")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Run on the bundled Acme Retail demo: no account, no config.")] = False,
    since: SinceOpt = None, until: UntilOpt = None, fail_on: FailOnOpt = "high",
    lake: LakeOpt = None, config: ConfigOpt = None, lock_timeout: LockOpt = 60.0,
    engine: EngineOpt = "duckdb", spark_master: SparkMasterOpt = None, spark_conf: SparkConfOpt = None,
    lake_uri: SparkLakeUriOpt = None,
) -> None:
    """Pull every configured source, run the checks, and write the report set: the one-shot for auditors and CI.

    Writes report.html, report.pdf, findings.json, findings.csv, junit.xml, findings.sarif, findings.ocsf.json
    and evidence.csv to --out.
    Without \\[\\[sources]] it reports on the lake as it is, which must then exist.

    Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage or config error or no lake at the path,
    3 partial evidence.

    Examples:

      [cyan]sovaudit scan --demo[/cyan]   (the bundled demo; writes ./sovaudit-demo/)

      [cyan]sovaudit scan --config sovaudit.toml --since 30d --out evidence/ --fail-on high[/cyan]

      [cyan]sovaudit scan --demo --engine spark[/cyan]   (the same checks, on a local Spark)
    """
    from sovaudit.config import ip_ranges_of, load_config, resolve_lake_path
    from sovaudit.fsutil import storage_errors
    from sovaudit.lake import Lake
    from sovaudit.report.build import write_reports

    try:
        engine_options = _engine_options(engine, spark_master, spark_conf, lake_uri)
        if demo:
            from sovaudit.demo.bundle import prepare_demo

            out_dir = out or Path("sovaudit-demo")
            with storage_errors("the report set", out_dir):
                loaded, target, specs = prepare_demo(out_dir, Path(lake) if lake else None)
        else:
            out_dir = out or Path("sovaudit-scan")
            loaded = load_config(config)
            target = Lake(resolve_lake_path(lake, loaded))
            specs = list(loaded.config.sources)
            if not specs:
                try:
                    _read_lake(target)  # a pull would refuse an altered ledger, and remove a torn line, itself
                except UsageError as exc:
                    raise UsageError(f"nothing to scan: no [[sources]] in the config (see `sovaudit init`, or try "
                                     f"`sovaudit scan --demo`), and {exc}") from None
        ranges = ip_ranges_of(loaded)
        pulls = [_run_pull(target, spec, since, until, lock_timeout, False, ranges, loaded.config.lake.compact)
                 for spec in specs]
        with err.status("checking, verifying the lake and rendering the report …"), \
                storage_errors("the report set", out_dir):
            result = write_reports(target, loaded, out_dir, formats=("html", "pdf"), since=since, until=until,
                                   fail_on=fail_on, engine=engine_options)
    except SovauditError as exc:
        _fail(exc)
    _print_report_set(result, out_dir, fail_on, pulls)
    code = result.run.exit_code(fail_on)
    if code == 0 and any(p.exit_code for p in pulls):
        code = 3
    raise typer.Exit(code)


# -- sql and tables --------------------------------------------------------------------------------

SqlFormat = Annotated[str, typer.Option("--format", help="table, csv, json or ndjson.")]


def _run_query(target: "Lake", query: str, fmt: str, max_rows: int) -> None:
    for statement in target.split_statements(query):
        _show(target.sql(statement), fmt, max_rows)


def _show(relation, fmt: str, max_rows: int) -> None:
    from sovaudit.output import write_rows

    if relation is None:
        return
    columns = list(relation.columns)
    rows = relation.limit(max_rows + 1).fetchall() if fmt == "table" else relation.fetchall()
    truncated = fmt == "table" and len(rows) > max_rows
    write_rows(columns, rows[:max_rows] if truncated else rows, fmt, console)
    if truncated:
        err.print(f"(showing the first {max_rows:,} rows; use --max-rows or --format csv for all)")


def _interactive(target: "Lake", fmt: str, max_rows: int) -> None:
    import duckdb

    if sys.stdin.isatty():
        from sovaudit.sql_prompt import interactive

        interactive(target.connection(), lambda text: _run_query(target, text, fmt, max_rows), _rich(console),
                    _rich(err), (duckdb.Error,))
        return
    script = sys.stdin.read()
    if not script.strip():
        return
    try:
        _run_query(target, script, fmt, max_rows)
    except (SovauditError, duckdb.Error) as exc:
        err.print(_text(f"error: {_visible(str(exc).splitlines()[0])}", "red"), soft_wrap=True)
        raise typer.Exit(2) from None


def _attach_checks(target: "Lake", config: str | None, since: str | None, until: str | None) -> None:
    """Policy tables and one view per check (checks.xr_001 …) with full evidence lists, for `sovaudit sql`."""
    from sovaudit.checks.collected import live_until
    from sovaudit.checks.runner import load_catalogue
    from sovaudit.checks.session import prepare, resolve_window
    from sovaudit.config import load_config

    loaded = load_config(config)
    con = target.connection()
    entries = target.ledger.entries()
    window = resolve_window(con, since, until, loaded.config.thresholds.baseline_days, live_until(entries))
    prepare(con, loaded.config, window, load_catalogue(loaded), entries)


@app.command()
def sql(query: Annotated[str | None, typer.Argument(help="SQL to run; omit for an interactive prompt.")] = None,
        fmt: SqlFormat = "table", lake: LakeOpt = None, config: ConfigOpt = None,
        max_rows: Annotated[int, typer.Option("--max-rows", help="Rows shown in table format.")] = 1000,
        since: Annotated[str | None, typer.Option("--since", help="Window start for the checks.* views.")] = None,
        until: Annotated[str | None, typer.Option("--until", help="Window end for the checks.* views.")] = None,
        ) -> None:
    """Read-only SQL over the lake (DuckDB). Writes are refused, and could not happen: the connection opens no
    file (other files cannot be read either) and its settings are locked.

    Besides the lake's tables there are the policy tables (policy_regions, policy_data_classes, …) and a
    view per check, [bold]checks.xr_001[/bold] …, whose rows are its findings with their full evidence lists
    (default window: the last 30 days of data).

    Without a query, in a terminal: a prompt with history, where a statement runs when it ends with ;
    (over as many lines as it takes) and .tables, .schema [TABLE], .help and exit answer at once.
    Without a query and with input piped in: the input, run as a script.

    Examples:

      [cyan]sovaudit sql "SELECT region, count(*) FROM events GROUP BY ALL"[/cyan]

      [cyan]sovaudit sql "SELECT unnest(evidence) AS event_uid FROM checks.in_001"[/cyan]
    """
    import duckdb

    _check_format(fmt, ("table", "csv", "json", "ndjson"))
    try:
        target = _read_lake(_lake(lake, config))
        if query is None or "checks." in query.lower() or "policy_" in query.lower():
            _attach_checks(target, config, since, until)
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
    from rich.table import Table

    _check_format(fmt, ("table", "json"))
    try:
        target = _read_lake(_lake(lake, config))
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
        table.add_column("column", overflow="fold")
        table.add_column("type", overflow="fold")
        for column, kind in cols:
            table.add_row(column, kind)
        console.print(table)


# -- compact ---------------------------------------------------------------------------------------

@app.command()
def compact(
    table: Annotated[list[str] | None, typer.Option("--table", help="Only this lake table (repeat for more); "
                                                    "default: every table.")] = None,
    max_file_mb: Annotated[int, typer.Option("--max-file-mb", help="Largest file to make: a day whose files add "
                                             "up to more becomes several.")] = 512,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be rewritten; change nothing.")] = False,
    fmt: FormatOpt = "table", lake: LakeOpt = None, config: ConfigOpt = None, lock_timeout: LockOpt = 60.0,
) -> None:
    """Rewrite each table's part files as one file per day, so that the checks read a few large files instead of
    many small ones. The rows stay exactly as they are; one ledger entry names the files replaced and the files
    written, with their SHA-256 and rows, so [bold]sovaudit verify[/bold] stays exact. A file that does not match
    the ledger is never compacted.

    Exit 0 when compacted or nothing to do, 1 when a file to compact does not verify (nothing is changed), 2 on
    bad usage or no lake at the path.

    Examples:

      [cyan]sovaudit compact --dry-run[/cyan]

      [cyan]sovaudit compact --lake sovaudit-lake --table cloudtrail --format json[/cyan]
    """
    from sovaudit.compaction import compact as run_compact
    from sovaudit.compaction.render import render_compaction
    from sovaudit.output import dumps

    _check_format(fmt, ("table", "json"))
    try:
        target = _read_lake(_lake(lake, config))
        result = run_compact(target, tables=table, max_file_mb=max_file_mb, dry_run=dry_run,
                             lock_timeout=lock_timeout,
                             on_lock_wait=lambda pid: err.print(f"waiting for the lake lock held by pid {pid} …"))
    except SovauditError as exc:
        _fail(exc)
    if fmt == "json":
        print(dumps(result.as_dict()))
    else:
        render_compaction(result, console)


# -- verify ----------------------------------------------------------------------------------------

@app.command()
def verify(
    cloudtrail: Annotated[bool, typer.Option("--cloudtrail", help="Also validate CloudTrail digest files and the "
                                             "log files they list (as aws cloudtrail validate-logs), and record "
                                             "the verdicts in the cloudtrail_digest table.")] = False,
    expect_head: Annotated[str | None, typer.Option("--expect-head", help="A ledger head recorded earlier (e.g. "
                                                    "in a report; 64 hex digits): fail if the chain no longer "
                                                    "holds it.")] = None,
    endpoint_url: Annotated[str | None, typer.Option("--endpoint-url", help="CloudTrail endpoint override for "
                                                     "ListPublicKeys.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="AWS profile for ListPublicKeys.")] = None,
    role_arn: Annotated[str | None, typer.Option("--role-arn", help="Role to assume for ListPublicKeys.")] = None,
    fmt: FormatOpt = "table", lake: LakeOpt = None, config: ConfigOpt = None,
) -> None:
    """Check the chain of custody: the ledger's hash chain, every archived blob, every committed Parquet file
    and every row's evidence blob; with --cloudtrail, CloudTrail's own digest signatures and log hashes.

    Exit 0 when everything verifies, 1 when anything does not, 2 on bad usage or no lake at the path.

    Examples:

      [cyan]sovaudit verify[/cyan]

      [cyan]sovaudit verify --cloudtrail --profile audit --format json > custody.json[/cyan]
    """
    from sovaudit.output import dumps
    from sovaudit.verify import CloudTrailPublicKeys
    from sovaudit.verify import verify as run_verify
    from sovaudit.verify.lake_integrity import ledger_head_argument
    from sovaudit.verify.render import render_report

    _check_format(fmt, ("table", "json"))
    try:
        expect_head = ledger_head_argument(expect_head)
        target = _lake(lake, config)
        keys = CloudTrailPublicKeys.from_settings(profile=profile, role_arn=role_arn, endpoint_url=endpoint_url)
        report = run_verify(target, cloudtrail=cloudtrail, public_keys=keys, expect_head=expect_head)
    except SovauditError as exc:
        _fail(exc)
    if fmt == "json":
        print(dumps(report.as_dict()))
    else:
        render_report(report, console)
    raise typer.Exit(report.exit_code)


def run() -> None:
    """The `sovaudit` command (the console script and `python -m sovaudit.cli`): the app with its help tidied."""
    from sovaudit.cli_startup import load_typer_help

    load_typer_help()
    tidy(typer.main.get_command(app))(prog_name="sovaudit")


if __name__ == "__main__":
    run()
