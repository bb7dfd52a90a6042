"""The pull summary names what was quarantined: the first few inputs with a reason each, then "and N more",
instead of a count and "see the quarantine table"."""

import gzip
import json

from conftest import SAMPLES, run_cli

from sovaudit.lake import Lake
from sovaudit.pull_summary import quarantined_lines


def _inputs(tmp_path):
    """Seven third-party trail objects cut short, and a JSON-lines file with five bad records and a good one."""
    folder = tmp_path / "in"
    folder.mkdir()
    for n, sample in enumerate(sorted(SAMPLES.glob("*.json.gz"))[:7], start=1):
        (folder / f"t{n}.json.gz").write_bytes(sample.read_bytes()[:150])
    good = json.loads(gzip.decompress(sorted(SAMPLES.glob("*.json.gz"))[0].read_bytes()))["Records"][0]
    (folder / "bad.jsonl").write_text("\n".join([json.dumps(good), "not json", '{"x": 1}', "[1, 2]",
                                                 '{"eventID": "b"}', "nope"]) + "\n")
    return folder


def test_the_summary_names_the_first_inputs_and_their_reasons(tmp_path):
    folder = _inputs(tmp_path)
    proc = run_cli("pull", "cloudtrail", "--path", str(folder), "--lake", str(tmp_path / "lake"))
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "record(s) quarantined" in line)
    assert lines[at].startswith("12 record(s) quarantined; see the `quarantine` table")
    offset = (folder / "bad.jsonl").read_bytes().index(b"not json")  # the extractor names where the JSON broke
    assert lines[at + 1:at + 7] == [
        f"  {folder}/bad.jsonl, record 1: invalid JSON on line 2: expected a JSON value, found 'n' at byte offset "
        f"{offset} (+4 more from this input)",
        *(f"  {folder}/t{n}.json.gz: truncated or corrupt gzip (150 compressed bytes): Compressed file ended "
          "before the end-of-stream marker was reached" for n in range(1, 5)),
        "  and 3 more",
    ]


def test_every_record_is_counted_once(tmp_path):
    proc = run_cli("pull", "cloudtrail", "--path", str(_inputs(tmp_path)), "--lake", str(tmp_path / "lake"),
                   "--format", "json")
    lake = Lake(tmp_path / "lake")
    entry = lake.ledger.entries()[-1]
    assert proc.returncode == 3
    for shown in (1, 2, 5, 8, 20):
        lines = list(quarantined_lines(lake, entry["quarantine_file"], entry["counts"]["quarantined"], shown))
        listed = sum(1 + int(line.split("(+")[1].split()[0]) if "(+" in line else 1
                     for line in lines if not line.startswith("and "))
        rest = int(lines[-1].split()[1]) if lines[-1].startswith("and ") else 0
        assert listed + rest == entry["counts"]["quarantined"] == 12, (shown, lines)
        assert len([line for line in lines if not line.startswith("and ")]) == min(shown, 8)


def test_an_unreadable_quarantine_file_leaves_the_count_line_alone(tmp_path):
    lake = Lake(tmp_path)
    assert list(quarantined_lines(lake, {"path": "quarantine/missing.jsonl"}, 3)) == []
    assert list(quarantined_lines(lake, {"path": "../../etc/passwd"}, 3)) == []  # never outside the lake
    assert list(quarantined_lines(None, {"path": "quarantine/x.jsonl"}, 3)) == []
