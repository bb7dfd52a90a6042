"""Start-up and help: `--help` and `--version` load no part of the data stack (DuckDB, pyarrow, pydantic, the
source SDKs), `pull --help` still lists every source type, and the help shows placeholders (PATH, DATE, ID)
rather than Python types, with docstring paragraphs rewrapped. benchmarks/startup.py measures the time."""

import os
import re
import subprocess
import sys

import pytest
from conftest import REPO, run_cli

from sovaudit.cli_help import rewrap

HEAVY = ("duckdb", "pyarrow", "pydantic", "boto3", "botocore", "azure", "confluent_kafka", "weasyprint", "jinja2",
         "prompt_toolkit", "iptocc", "rich.progress", "sovaudit.lake", "sovaudit.config", "sovaudit.sources",
         "rich.markdown", "markdown_it", "rich.traceback")
SDKS = ("duckdb", "pyarrow", "boto3", "botocore", "azure", "confluent_kafka", "weasyprint")
VERBS = [["init"], ["check"], ["report"], ["scan"], ["sql"], ["tables"], ["verify"], ["compact"], ["pull"],
         ["checks", "list"],
         ["checks", "show"], ["ip-ranges", "show"], ["ip-ranges", "update"]]
# -P: the installed sovaudit (or PYTHONPATH's), never the checkout's copy by way of the working directory, which has
# no native extractor built unless someone built it there.
TREE = {"PYTHONPATH": os.environ["PYTHONPATH"]} if "PYTHONPATH" in os.environ else {}
PYTHON_TYPES = ("<str>", "<bool>", "<int>", "<float>", "<path>", "<list[str]>", "TEXT", "INTEGER", "BOOLEAN")


def _modules_loaded_by(*args: str) -> set[str]:
    """The modules `sovaudit ARGS` has imported when it exits, from a process of its own."""
    script = ("import sys\nsys.argv = ['sovaudit', *sys.argv[1:]]\nfrom sovaudit.cli import run\n"
              "try:\n    run()\nexcept SystemExit:\n    pass\nprint('\\n'.join(sys.modules), file=sys.stderr)\n")
    proc = subprocess.run([sys.executable, "-P", "-c", script, *args], capture_output=True, text=True, cwd=REPO,
                          env={"COLUMNS": "100", "PATH": "/usr/bin:/bin", **TREE}, timeout=120)
    return set(proc.stderr.splitlines())


def _heavy(modules: set[str], names: tuple[str, ...]) -> set[str]:
    return {m for m in modules if any(m == n or m.startswith(n + ".") for n in names)}


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_load_nothing_heavy(args):
    loaded = _modules_loaded_by(*args)
    assert "sovaudit.cli" in loaded
    assert _heavy(loaded, HEAVY) == set()


def test_typer_renderers_deferred_at_start_up_still_build_the_real_ones():
    """The stand-ins `cli_startup` gives Typer's help module build Rich's own Markdown and Traceback, and a later
    `import rich.markdown` is the real module."""
    script = """
import sys
from sovaudit.cli_startup import load_typer_help
load_typer_help()
import typer.rich_utils as r
from typer.models import DeveloperExceptionConfig
assert "rich.markdown" not in sys.modules and "rich.traceback" not in sys.modules
markdown = r.Markdown("# title")
try:
    raise ValueError("boom")
except ValueError as error:
    traceback = r.get_traceback(error, DeveloperExceptionConfig(), [])
import rich.markdown, rich.traceback
assert type(markdown) is rich.markdown.Markdown, type(markdown)
assert type(traceback) is rich.traceback.Traceback, type(traceback)
assert rich.markdown.__file__.endswith("markdown.py")
print("ok")
"""
    proc = subprocess.run([sys.executable, "-P", "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_pull_help_lists_every_source_type_without_loading_an_sdk():
    from sovaudit.sources import SOURCES

    proc = run_cli("pull", "--help")
    assert proc.returncode == 0, proc.stderr
    for source_type in SOURCES:  # each with its help beside it
        assert re.search(rf"^│ {re.escape(source_type)} +Pull|^│ {re.escape(source_type)} +Snapshot", proc.stdout,
                         re.MULTILINE), source_type
    assert "Pull AWS CloudTrail logs from files, an S3 trail bucket, or the LookupEvents API." in proc.stdout
    assert _heavy(_modules_loaded_by("pull", "--help"), SDKS) == set()
    assert _heavy(_modules_loaded_by("pull", "azure-activity", "--help"), SDKS) == set()


def _helps() -> list[tuple[list[str], str]]:
    from sovaudit.sources import SOURCES

    shown = []
    for verb in [*VERBS, *(["pull", t] for t in SOURCES)]:
        proc = run_cli(*verb, "--help")
        assert proc.returncode == 0, (verb, proc.stderr)
        shown.append((verb, proc.stdout))
    return shown


def test_help_shows_placeholders_not_python_types():
    helps = dict((" ".join(verb), text) for verb, text in _helps())
    for verb, text in helps.items():
        for python_type in PYTHON_TYPES:
            assert python_type not in text, (verb, python_type)
    for verb, option, placeholder in [("check", "--lake", "PATH"), ("check", "--since", "DATE"),
                                      ("check", "--check", "ID"), ("check", "--fail-on", "SEVERITY"),
                                      ("verify", "--expect-head", "HASH"), ("sql", "--max-rows", "N"),
                                      ("pull", "--lock-timeout", "SECONDS"), ("pull cloudtrail", "--bucket", "BUCKET"),
                                      ("pull kafka-audit", "--bootstrap", "HOST:PORT"),
                                      ("pull azure-activity", "--subscription", "ID")]:
        line = next(line for line in helps[verb].splitlines() if re.match(rf"│ (\*\s+)?{option} ", line))
        assert line.split(option, 1)[1].split()[0] == placeholder, (verb, line)
    flag = next(line for line in helps["pull cloudtrail"].splitlines() if line.startswith("│ --lookup "))
    assert flag.split("--lookup", 1)[1].split()[0] == "Use"  # a flag shows no placeholder
    assert "Usage: sovaudit sql [OPTIONS] [QUERY]" in helps["sql"]
    assert "Usage: sovaudit checks show [OPTIONS] {ID}" in helps["checks show"]


def test_help_paragraphs_are_rewrapped_not_split_where_the_docstring_line_ended():
    proc = run_cli("sql", "--help", env={"COLUMNS": "250"})
    assert "(policy_regions, policy_data_classes, …) and a view per check, checks.xr_001 …" in proc.stdout
    proc = run_cli("check", "--help", env={"COLUMNS": "250"})
    assert "(its data or policy is missing, with the reason). The window defaults" in proc.stdout


def test_rewrap_joins_lines_and_keeps_examples():
    doc = """First line
    goes on.

    A paragraph
    over three
    lines.

    Examples:

      [cyan]sovaudit check[/cyan]
      [cyan]sovaudit check --family egress[/cyan]
    """
    assert rewrap(doc) == ("First line goes on.\n\nA paragraph over three lines.\n\nExamples:\n\n"
                           "  [cyan]sovaudit check[/cyan]\n  [cyan]sovaudit check --family egress[/cyan]")
