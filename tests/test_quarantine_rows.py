"""The pull's quarantine rows, spilled as they come: the file at commit holds every row, in the order the ledger's
readers have always had it (origin, then record index, a missing or zero index first, else arrival), and its
SHA-256 is the file's."""

import hashlib
import json
import random

from sovaudit.ingest.quarantine_rows import QuarantineRows


def rows(n: int, seed: int = 7) -> list[dict]:
    pick = random.Random(seed)
    origins = [None, "s3://b/2.json.gz", "s3://b/10.json.gz", "/tmp/é\u2028.json", "a"]
    return [{"run_id": "r", "source": "cli", "origin": pick.choice(origins), "blob": f"{i:064x}",
             "record_index": pick.choice([None, 0, 1, 2, 7, 4_999, 10**12]), "byte_offset": pick.choice([None, i]),
             "reason": pick.choice(["bad <b>&", "record is a JSON array, expected an object", "\ud800 \x00"])}
            for i in range(n)]


def expected_bytes(items: list[dict]) -> bytes:
    ordered = sorted(items, key=lambda q: (q["origin"] or "", q["record_index"] or -1))
    return b"".join(json.dumps(q, ensure_ascii=True).encode() + b"\n" for q in ordered)


def test_the_file_holds_every_row_in_origin_then_record_order_with_its_hash(tmp_path, monkeypatch):
    monkeypatch.setattr("sovaudit.ingest.quarantine_rows._COPY_BYTES", 1_000)  # several copies and row chunks
    monkeypatch.setattr("sovaudit.ingest.quarantine_rows._ROWS_AT_ONCE", 7)
    items = rows(500)
    spilled = QuarantineRows(tmp_path / "spill.jsonl")
    for item in items:
        spilled.add(item)
    assert len(spilled) == 500
    target = tmp_path / "out" / "run.jsonl"
    target.parent.mkdir()
    digest = spilled.write(target)
    data = target.read_bytes()
    assert data == expected_bytes(items)
    assert digest == hashlib.sha256(data).hexdigest()
    assert [p.name for p in target.parent.iterdir()] == ["run.jsonl"]  # no temporary file left beside it


def test_one_row_and_rows_of_one_origin_keep_their_arrival_order_on_ties(tmp_path):
    items = [{"run_id": "r", "source": "cli", "origin": "o", "blob": "b", "record_index": None, "byte_offset": None,
              "reason": f"r{i}"} for i in range(5)]
    spilled = QuarantineRows(tmp_path / "spill.jsonl")
    for item in items:
        spilled.add(item)
    target = tmp_path / "run.jsonl"
    spilled.write(target)
    assert [json.loads(line)["reason"] for line in target.read_text().splitlines()] == [f"r{i}" for i in range(5)]
