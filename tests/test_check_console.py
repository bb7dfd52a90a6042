"""The check run in a terminal: long ids (ARNs, Azure resource ids, principals) are folded or wrapped, never cut
to `arn:aws:s3:::acme-…`, at any width: two buckets must never look the same."""

import io

import pytest
from rich.console import Console

from sovaudit.checks.console import FINDINGS_TABLE_WIDTH, _finding_cells, print_run
from sovaudit.checks.runner import run_checks
from sovaudit.config import load_config

WIDTHS = [40, 60, 80, 100, FINDINGS_TABLE_WIDTH, 160, 240]


@pytest.fixture(scope="module")
def planted_run(planted_scenario):
    _, lake, config = planted_scenario
    return run_checks(lake, load_config(config))


def _rendered(run, width: int) -> str:
    out = io.StringIO()
    print_run(run, Console(file=out, width=width), "high")
    return out.getvalue()


def _table_cells(text: str, column: int) -> list[str]:
    """Column `column` of every findings table (rows between ├ / └ rules), each cell's lines joined."""
    cells, current, inside, findings_header = [], [], False, False
    for line in text.splitlines():
        if line.startswith("┃"):
            findings_header = findings_header or " resource " in line  # not the summary table
        elif line.startswith("┡"):
            inside, current, findings_header = findings_header, [], False
        elif inside and line.startswith("│"):
            current.append(line.split("│")[column + 1].strip())
        elif inside and line.startswith(("├", "└")):
            cells.append("".join(current))
            current, inside = [], not line.startswith("└")
    return cells


def _record_values(text: str, label: str) -> list[str]:
    """Every `label` value of the findings shown as records: its line and the folded lines that continue it
    (blank under the label, text under the value)."""
    lines, values = text.splitlines(), []
    for i, line in enumerate(lines):
        if line.startswith(f"  {label} "):
            rest = line[len(label) + 2:]
            offset = len(line) - len(rest.lstrip())
            value = line[offset:].rstrip()
            for more in lines[i + 1:]:
                if more[:offset].strip() or not more[offset:].strip():
                    break
                value += more[offset:].rstrip()
            values.append(value)
    return values


def _squeezed(value: str) -> str:
    return "".join(value.split())


@pytest.mark.parametrize("width", WIDTHS)
def test_resource_and_actor_ids_are_whole_at_any_width(planted_run, width):
    findings = [f for r in planted_run.results for f in r.findings]
    long_ids = {f.resource for f in findings if f.resource and len(f.resource) > 30}
    assert len(long_ids) > 10  # the planted cases have ARNs and Azure resource ids of 40 to 170 characters
    text = _rendered(planted_run, width)
    if width >= FINDINGS_TABLE_WIDTH:
        resources, actors = _table_cells(text, 1), _table_cells(text, 2)  # after the finding id
    else:
        resources, actors = _record_values(text, "resource"), _record_values(text, "actor")
    assert len(resources) == len(findings) == len(actors)
    assert sorted(map(_squeezed, resources)) == sorted(_squeezed(f.resource or "-") for f in findings)
    assert sorted(map(_squeezed, actors)) == sorted(_squeezed(f.actor or "-") for f in findings)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    boxed = [line for line in lines if line and line[0] in "┏┃┡│├└"]
    assert all(line[-1] in "┓┃┩│┤┘" for line in boxed), width  # no table cropped at the edge either
    shown = [r.check.title + r.status_reason for r in planted_run.results]
    shown += [value for f in findings for value in _finding_cells(f).values()]
    assert text.count("…") == sum(value.count("…") for value in shown)  # Rich never cut a cell with its "…"


def test_two_buckets_that_share_a_long_prefix_stay_apart(planted_run):
    text = _rendered(planted_run, 80)
    buckets = sorted({f.resource for r in planted_run.results for f in r.findings
                      if (f.resource or "").startswith("arn:aws:s3:::acme-")})
    assert len(buckets) >= 2
    shown = {_squeezed(v) for v in _record_values(text, "resource")}
    assert set(buckets) <= shown
