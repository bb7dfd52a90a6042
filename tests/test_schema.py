from datetime import UTC, datetime

import duckdb

from sovaudit.ingest.run import TIME_MACROS
from sovaudit.resources import query_text
from sovaudit.schema import COMMON_COLUMNS, lake_tables
from sovaudit.sources.cloudtrail.preparer import CloudTrailPreparer


def test_every_lake_table_carries_the_common_columns():
    con = duckdb.connect()
    for name, schema in lake_tables().items():
        if not schema.in_events:
            continue
        con.execute(schema.ddl)
        described = {row[0]: row[1] for row in con.execute(f"DESCRIBE {name}").fetchall()}
        for column, kind in COMMON_COLUMNS:
            assert described.get(column) == kind, (name, column)


def test_cloudtrail_normalize_output_matches_the_table_definition(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(lake_tables()["cloudtrail"].ddl)
    preparer = CloudTrailPreparer()
    for setup in (TIME_MACROS, *preparer.setup_queries):
        name, params = (setup, None) if isinstance(setup, str) else setup
        con.execute(query_text(name), params)
    expected = [(r[0], r[1]) for r in con.execute("DESCRIBE cloudtrail").fetchall()]
    relation = con.sql(query_text("normalize/cloudtrail.sql"),
                       params={"path": str(empty), "index_map": None, "blob": "b", "run": "r",
                               "pull_started": datetime.now(UTC), **preparer.sql_params("cloudtrail")})
    produced = [(name, str(kind)) for name, kind in zip(relation.columns, relation.types, strict=True)]
    assert produced == [*expected, ("_problem", "VARCHAR")]
