from sovaudit.checks.session import SESSION_SCRIPTS
from sovaudit.resources import resource_dir


def test_every_session_script_is_loaded_once():
    # lake_core.sql is the body of checks.lake_core, not a script of its own.
    on_disk = {p.name for p in (resource_dir("queries") / "session").glob("*.sql")} - {"lake_core.sql"}
    assert sorted(SESSION_SCRIPTS) == sorted(on_disk)


# Callers of every kind the place text tells apart: a cloud region of known jurisdiction (Azure's service tag
# shortened), a cloud's address without a region or with one of no known jurisdiction, a cloud policy does not
# label, a plain address whose country is or is not its jurisdiction, one of no known jurisdiction, none at all.
CALLERS = [
    ("aws", "eu-west-1", "EC2", "US", "AWS EC2 in eu-west-1 (EU)", "EU"),
    ("azure", "eastus", "AzureStorage", "NL", "Azure Storage in eastus (US)", "US"),
    ("azure", None, "AzureCloud", "NL", "an address of Azure Cloud, registered to NL (EU)", "EU"),
    ("aws", "xx-nowhere-1", None, "US", "an address of AWS in xx-nowhere-1, registered to US", "US"),
    ("othercloud", None, None, "DE", "an address of othercloud, registered to DE (EU)", "EU"),
    (None, None, None, "US", "an address registered to US", "US"),
    (None, None, None, "RU", "an address registered to RU (no known jurisdiction)", None),
    (None, None, None, "<b>XX</b>", "an address registered to <b>XX</b> (no known jurisdiction)", None),
    (None, None, None, None, None, None),
]


def test_lake_core_gives_each_caller_the_place_and_jurisdiction_the_macros_give(tmp_path):
    """lake_core's src_place and src_jurisdiction, joined once, are what checks.caller_place and
    checks.caller_jurisdiction (kept for users' DuckDB checks) return, and the joins add no rows."""
    import duckdb

    from sovaudit.checks.session import CORE_COLUMNS, lake_core_query
    from sovaudit.config import parse_config
    from sovaudit.policy import load_policy

    con = duckdb.connect()
    load_policy(con, parse_config("", tmp_path / "sovaudit.toml"))
    columns = ", ".join(f"{c} {'TIMESTAMPTZ' if c == 'time' else 'BIGINT' if c == 'bytes_out' else 'VARCHAR'}"
                        for c in CORE_COLUMNS)
    con.execute(f"CREATE TABLE main.events ({columns})")
    for i, (cloud, region, service, country, _, _) in enumerate(CALLERS):
        con.execute("INSERT INTO main.events (event_uid, src_cloud, src_cloud_region, src_cloud_service, src_country) "
                    "VALUES (?, ?, ?, ?, ?)", [f"e{i}", cloud, region, service, country])
    con.execute("CREATE SCHEMA checks")
    con.execute(f"CREATE TABLE checks.lake_core AS {lake_core_query()}")
    common = (resource_dir("queries") / "session" / "common.sql").read_text(encoding="utf-8")
    for statement in common.split(";\n"):
        body = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
        if body.startswith("CREATE OR REPLACE MACRO checks.caller_"):
            con.execute(body)
    rows = con.execute("""
        SELECT src_place, src_jurisdiction,
               checks.caller_place(src_cloud, src_cloud_region, src_cloud_service, src_country),
               checks.caller_jurisdiction(src_cloud_region, src_country)
        FROM checks.lake_core ORDER BY CAST(substr(event_uid, 2) AS INTEGER)""").fetchall()
    assert rows == [(place, j, place, j) for *_, place, j in CALLERS]
