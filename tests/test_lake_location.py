"""A CI gate never passes on no data: every verb that reads a lake refuses a path that is not one (missing, a
file, an empty folder, the report folder, a folder with lake parts but no ledger) with one line naming the path
and exit code 2, instead of reporting "26 not assessed" and exiting 0."""

import shutil

import pytest
from conftest import SAMPLES, run_cli

from sovaudit.demo.scenario import write_policy
from sovaudit.errors import UsageError
from sovaudit.lake import Lake
from sovaudit.lake_location import require_lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

READERS = [
    ["check"],
    ["check", "--format", "json"],
    ["report", "--format", "json", "--out", "{tmp}/out/report.json"],
    ["scan", "--out", "{tmp}/out"],
    ["sql", "SELECT count(*) FROM events"],
    ["tables"],
    ["verify"],
]


@pytest.fixture(scope="module")
def real_lake(tmp_path_factory):
    root = tmp_path_factory.mktemp("real") / "lake"
    pull_source(Lake(root), config_from_flags("cloudtrail", path=str(sorted(SAMPLES.glob("*.json.gz"))[0])))
    return root


def _places(tmp, real_lake):
    """Each kind of path that is not a lake, and the words its error line must say."""
    empty = tmp / "empty"
    empty.mkdir()
    report_folder = tmp / "scan-out"
    (report_folder / "report.html").parent.mkdir()
    (report_folder / "report.html").write_text("<html></html>")
    shutil.copytree(real_lake, report_folder / "lake")
    half = tmp / "half"
    (half / "raw").mkdir(parents=True)
    (half / "tables").mkdir()
    return {
        "missing": (tmp / "no-such-lake", "no such directory"),
        "a file": (SAMPLES.parents[2] / "README.md", "a file, not a lake directory"),
        "empty": (empty, "an empty directory, not a lake"),
        "the report folder": (report_folder, f"did you mean {report_folder / 'lake'}?"),
        "no ledger": (half, "a lake with no ledger.jsonl"),
    }


@pytest.mark.parametrize("verb", READERS, ids=lambda v: " ".join(v[:2]))
def test_every_verb_that_reads_a_lake_refuses_what_is_not_one(verb, tmp_path, real_lake):
    for kind, (path, words) in _places(tmp_path, real_lake).items():
        if verb == ["verify"] and kind == "no ledger":
            continue  # verify reports on a lake whose ledger is missing: tests/test_ledger_damage.py
        args = [a.format(tmp=tmp_path) for a in verb]
        proc = run_cli(*args, "--lake", str(path), cwd=tmp_path)
        assert proc.returncode == 2, (kind, proc.stdout[-500:], proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stdout == "", (kind, proc.stdout, proc.stderr)
        [line] = proc.stderr.splitlines()
        assert line.startswith(f"error: {path}") or line.startswith("error: nothing to scan"), (kind, line)
        assert str(path) in line and words in line, (kind, line)
    assert not (tmp_path / "out").exists()  # nothing was written from no data


@pytest.mark.parametrize("verb", READERS, ids=lambda v: " ".join(v[:2]))
def test_the_same_verbs_read_a_real_lake(verb, tmp_path, real_lake):
    args = [a.format(tmp=tmp_path) for a in verb]
    proc = run_cli(*args, "--lake", str(real_lake), cwd=tmp_path, timeout=600)
    assert proc.returncode in (0, 1, 3), (proc.stdout[-500:], proc.stderr[-2000:])
    assert "error:" not in proc.stderr


def test_a_demo_config_run_from_another_directory_does_not_pass_on_no_data(tmp_path):
    (tmp_path / "demo").mkdir()
    config = write_policy(tmp_path / "demo" / "sovaudit.toml")  # the demo's config names no [lake]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for verb in (["check"], ["report", "--format", "json"]):
        proc = run_cli(*verb, "--config", str(config), cwd=elsewhere, env={"SOVAUDIT_LAKE": ""})
        assert proc.returncode == 2, proc.stdout[-500:]
        assert proc.stderr.splitlines() == ["error: sovaudit-lake: no such directory, so no lake here (create one "
                                            "with `sovaudit pull`, or name it with --lake, $SOVAUDIT_LAKE or [lake] "
                                            "path)"]
    assert not (elsewhere / "report.json").exists()


def test_require_lake_is_the_rule(tmp_path, real_lake):
    require_lake(real_lake)
    (tmp_path / "raw").mkdir()
    with pytest.raises(UsageError, match="a lake with no ledger.jsonl"):
        require_lake(tmp_path)
    require_lake(tmp_path, unledgered=True)  # verify's case: it reports what is there without a ledger
    (tmp_path / "x" / "ledger.jsonl").mkdir(parents=True)
    with pytest.raises(UsageError, match="ledger.jsonl: not a file"):
        require_lake(tmp_path / "x")


def test_a_pull_still_creates_a_lake_where_there_is_none(tmp_path):
    proc = run_cli("pull", "cloudtrail", "--path", str(sorted(SAMPLES.glob("*.json.gz"))[0]),
                   "--lake", str(tmp_path / "new-lake"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "new-lake" / "ledger.jsonl").is_file()
    assert run_cli("tables", "--lake", str(tmp_path / "new-lake")).returncode == 0


@pytest.mark.parametrize("head", ["deadbeef", "g" * 64, "a" * 63, "a" * 65, "0x" + "a" * 62, ""])
def test_a_malformed_expected_head_is_a_usage_error_not_tampering(head, real_lake):
    proc = run_cli("verify", "--lake", str(real_lake), "--expect-head", head)
    assert proc.returncode == 2, proc.stdout[-1000:]
    [line] = proc.stderr.splitlines()
    assert line.startswith("error: --expect-head: found") and "64 hexadecimal digits" in line
    assert "removed or rewritten" not in proc.stdout + proc.stderr


def test_a_well_formed_head_is_still_checked(real_lake):
    head = Lake(real_lake).ledger.head()
    assert run_cli("verify", "--lake", str(real_lake), "--expect-head", head.upper()).returncode == 0
    unknown = run_cli("verify", "--lake", str(real_lake), "--expect-head", "ab" * 32)
    assert unknown.returncode == 1 and "removed or rewritten" in unknown.stdout
