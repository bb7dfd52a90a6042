from sovaudit.checks.session import SESSION_SCRIPTS
from sovaudit.resources import resource_dir


def test_every_session_script_is_loaded_once():
    # lake_core.sql is the body of checks.lake_core, not a script of its own.
    on_disk = {p.name for p in (resource_dir("queries") / "session").glob("*.sql")} - {"lake_core.sql"}
    assert sorted(SESSION_SCRIPTS) == sorted(on_disk)
