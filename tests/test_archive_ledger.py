import os
import stat

import pytest
from conftest import SAMPLES

from sovaudit.archive import EvidenceArchive, sha256_hex
from sovaudit.fsutil import contained_path
from sovaudit.lake import Lake
from sovaudit.ledger import GENESIS, Ledger, entry_hash
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags


def test_archive_stores_each_blob_once_under_its_sha256_and_read_only(tmp_path):
    archive = EvidenceArchive(tmp_path / "raw")
    digest, created = archive.put(b"evidence")
    assert (digest, created) == (sha256_hex(b"evidence"), True)
    assert archive.put(b"evidence") == (digest, False)
    path = archive.path_for(digest)
    assert path == tmp_path / "raw" / digest[:2] / digest and path.read_bytes() == b"evidence"
    assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert list(archive.digests()) == [digest]
    with pytest.raises(ValueError):
        archive.path_for("../../etc/passwd")


def test_ledger_entries_chain_by_hash(tmp_path):
    lake = Lake(tmp_path / "lake")
    for path in sorted(SAMPLES.glob("*.gz"))[:3]:
        pull_source(lake, config_from_flags("cloudtrail", path=str(path)))
    entries = lake.ledger.entries()
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev_hash"] == GENESIS
    for before, after in zip(entries, entries[1:], strict=False):
        assert after["prev_hash"] == before["hash"]
    for entry in entries:
        assert entry_hash(entry) == entry["hash"]
        assert set(entry) >= {"run_id", "source", "inputs", "counts", "files", "window", "geoip", "started_at"}
        assert entry["geoip"].startswith("iptocc ")
        assert entry["inputs"][0]["blob"] == sha256_hex(SAMPLES.joinpath(entry["inputs"][0]["path"]).read_bytes())
    assert lake.ledger.head() == entries[-1]["hash"]


def test_a_torn_last_line_is_not_an_entry_and_is_repaired(tmp_path):
    ledger = Ledger(tmp_path / "ledger.jsonl")
    first = ledger.append({"run_id": "a"})
    with open(ledger.path, "ab") as handle:
        handle.write(b'{"run_id": "half')
    assert [e["run_id"] for e in ledger.entries()] == ["a"]
    ledger.repair_torn_tail()
    second = ledger.append({"run_id": "b"})
    assert second["prev_hash"] == first["hash"] and len(ledger.entries()) == 2


def test_names_from_remote_keys_cannot_escape(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    assert contained_path(root, "a", "b.json") == (root / "a" / "b.json").resolve()
    for hostile in ("../evil", "/etc/passwd", "a/../../evil"):
        with pytest.raises(ValueError, match="escapes"):
            contained_path(root, hostile)
    lake = Lake(root)
    lake.ledger.append({"files": [{"table": "cloudtrail", "path": "../outside.parquet"}]})
    with pytest.raises(ValueError, match="escapes"):
        lake.committed_files()
