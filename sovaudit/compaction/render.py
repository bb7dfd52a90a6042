"""`sovaudit compact` output for people: per table, the days rewritten, files, rows and bytes before and after."""

from rich.console import Console
from rich.table import Table
from rich.text import Text

from sovaudit.compaction.run import CompactionResult
from sovaudit.output import visible


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} B"


def render_compaction(result: CompactionResult, console: Console) -> None:
    title = "compaction (dry run: nothing was changed)" if result.dry_run else "compaction"
    table = Table(title=title, header_style="bold cyan", title_justify="left")
    for column in ("table", "days", "files", "rows", "bytes"):
        table.add_column(column, justify="left" if column == "table" else "right")
    for t in result.tables:
        table.add_row(Text(visible(t.table)), f"{t.days:,}", f"{t.files_before:,} → {t.files_after:,}", f"{t.rows:,}",
                      f"{_size(t.bytes_before)} → {_size(t.bytes_after)}")
    console.print(table)
    if not result.changed:
        console.print(Text("nothing to compact: every day of every table is one file (or at the size limit)", "dim"))
    elif result.dry_run:
        console.print(Text("run without --dry-run to rewrite these days; bytes after are known only then", "dim"))
    elif result.entry:
        console.print(Text(f"committed as ledger entry seq {result.entry['seq']} (run {result.entry['run_id']}); "
                           f"ledger head {result.entry['hash']}", "dim"), soft_wrap=True)
