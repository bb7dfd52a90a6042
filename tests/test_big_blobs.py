"""A blob far bigger than one normalize query should take (a sink connector's day of audit events, an hour of
busy storage logs) is normalized a slice at a time, and its rows reach Parquet as they pile up. Here the
slice size and the flush size are made small (one constant each) so that a few thousand records exercise
what a file of millions would."""

import gzip
import json

from kafka_fixtures import audit_event

import sovaudit.ingest.run as run
from sovaudit.ingest.records import ArrayFile
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources.kafka.config import KafkaAuditSourceConfig
from sovaudit.verify.lake_integrity import verify_lake


def test_array_file_starts_a_new_slice_at_its_size(tmp_path):
    sink = ArrayFile(tmp_path / "blob.json", max_bytes=100)
    for n in range(10):
        sink.add(n * 3, 0, json.dumps({"n": n, "pad": "x" * 20}).encode(), {})
    sink.close()
    assert len(sink.chunks) == 5  # records of 37 bytes: two fit in 100, a third would not
    assert [p.name for p, _ in sink.chunks] == ["blob.json", "blob.1.json", "blob.2.json", "blob.3.json",
                                                "blob.4.json"]
    read = [json.loads(p.read_bytes()) for p, _ in sink.chunks]
    assert [r["n"] for chunk in read for r in chunk] == list(range(10))
    assert [positions for _, positions in sink.chunks] == [[0, 3], [6, 9], [12, 15], [18, 21], [24, 27]]
    assert all(len(p.read_bytes()) <= 100 + 2 for p, _ in sink.chunks)


def test_a_big_kafka_export_is_normalized_in_slices(tmp_path, monkeypatch):
    # The extractor's batch is normalized EXTRACTED_ROWS at a time.
    monkeypatch.setattr(run, "EXTRACTED_ROWS", 256)
    monkeypatch.setattr(run, "FLUSH_ROWS", 500)
    events = [audit_event(n, time_text=f"2026-03-02T{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z")
              for n in range(3000)]
    lines = [json.dumps(e) for e in events]
    lines[1234] = lines[1234][:50]  # one damaged record in the middle
    path = tmp_path / "export" / "audit.ndjson.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))

    lake = Lake(tmp_path / "lake")
    spec = KafkaAuditSourceConfig(name="export", type="kafka-audit", path=str(path.parent), region="eu-west-1")
    counts = pull_source(lake, spec).counts
    assert counts == {"read": 3000, "stored": 2999, "duplicate": 0, "quarantined": 1}
    parts = list((tmp_path / "lake").rglob("kafka_audit/**/*.parquet"))
    assert len(parts) >= 5  # flushed as the slices piled up
    # Every row still points at its own line of the blob.
    rows = dict(lake.sql("SELECT id, evidence_index FROM kafka_audit").fetchall())
    assert rows[events[0]["id"]] == 0 and rows[events[2999]["id"]] == 2999 and rows[events[1235]["id"]] == 1235
    assert events[1234]["id"] not in rows
    assert verify_lake(lake).ok
