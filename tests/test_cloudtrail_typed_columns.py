"""What the checks read of a CloudTrail record's request and response is typed at normalize (issue 18: no JSON parsing
at check time): each typed column of a pulled record holds what its request and response say, only for the events
named, and a member of the wrong shape reads as NULL without setting its record aside. A lake written before the
columns existed still opens, and reads them as NULL. (tests/test_native_normalize.py holds both normalize paths to
the same values on the same records.)"""

import pyarrow.parquet as pq
from cloudtrail_typed_fixtures import typed_cases
from conftest import write_trail_file

from sovaudit.checks.runner import run_checks
from sovaudit.config import Config, LoadedConfig
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

TYPED = ("lifecycle_rules", "replication_destinations", "grantee_principal", "pending_window_in_days", "trail_name",
         "trail_arn", "trail_settings", "event_selectors", "advanced_event_selectors", "insight_types")


def _pulled(tmp_path) -> Lake:
    write_trail_file(tmp_path / "logs" / "typed.json.gz", [record for record, _ in typed_cases()])
    lake = Lake(tmp_path / "lake")
    result = pull_source(lake, config_from_flags("cloudtrail", path=str(tmp_path / "logs")))
    assert result.counts["stored"] == len(typed_cases()) and not result.counts["quarantined"], result.counts
    return lake


def test_each_typed_column_holds_what_the_request_and_response_say(tmp_path):
    lake = _pulled(tmp_path)
    con = lake.connect()
    columns = ", ".join(TYPED)
    got = {row[0]: dict(zip(TYPED, row[1:], strict=True))
           for row in con.execute(f"SELECT event_uid, {columns} FROM cloudtrail").fetchall()}  # noqa: S608
    for record, expected in typed_cases():
        assert got[record["eventID"]] == {**dict.fromkeys(TYPED), **expected}, record["eventID"]


def test_a_lake_written_before_the_typed_columns_opens_and_reads_them_as_null(tmp_path):
    lake = _pulled(tmp_path)
    [path] = [p for p in lake.committed_files()["cloudtrail"]]
    old = pq.read_table(path)
    pq.write_table(old.drop_columns(list(TYPED)), path)
    for con in (lake.connect(), lake.connection()):  # DuckDB's own reader, and the pyarrow dataset `sql` reads
        counts = ", ".join(f"count({c})" for c in TYPED)
        rows = con.execute(f"SELECT count(*), {counts} FROM cloudtrail").fetchone()  # noqa: S608
        assert rows == (len(typed_cases()), *([0] * len(TYPED)))
    run = run_checks(lake, LoadedConfig(config=Config(), path=None),
                     check_ids=["IN-001", "IN-002", "KU-004", "RT-001", "XR-003"],
                     since="2024-01-01T00:00:00Z", until="2024-01-03T00:00:00Z")
    assert {r.check.id: r.status for r in run.results}.keys() == {"IN-001", "IN-002", "KU-004", "RT-001", "XR-003"}
    assert not [r for r in run.results if r.error], [r.reason for r in run.results if r.error]
    # IN-001 still names the stopped trail from the resource the mapping table gave it.
    [stopped] = next(r for r in run.results if r.check.id == "IN-001").findings
    assert stopped.resource.endswith(":trail/org-trail")



def test_the_typed_columns_of_a_fresh_lake_read_the_same_through_both_connections(tmp_path):
    lake = _pulled(tmp_path)
    query = f"SELECT event_uid, {', '.join(TYPED)} FROM cloudtrail ORDER BY event_uid"  # noqa: S608
    fresh = lake.connect().execute(query).fetchall()
    assert fresh == lake.connection().execute(query).fetchall()
    assert sum(row[1] is not None for row in fresh) == 4  # the four lifecycle events
