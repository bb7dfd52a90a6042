"""The source registry is the one place a source family joins: its contract for every registered type, and a
family added at run time that pulls, records and gets its command with no change anywhere else."""

import json
import re
from pathlib import Path
from typing import Literal

import pytest
import typer
from conftest import REPO, assert_counts_add_up, ct_event
from typer.testing import CliRunner

from sovaudit.config import SOURCE_TYPES, parse_config
from sovaudit.errors import ConfigError, UsageError
from sovaudit.ingest.blobs import ListingDone, RawBlob
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.resources import resource_dir
from sovaudit.schema import lake_tables
from sovaudit.sources import FAMILIES, SOURCES, config_from_flags
from sovaudit.sources.base import BaseSource, PullContext, SourceConfig
from sovaudit.sources.cloudtrail.preparer import CloudTrailPreparer


def test_every_source_declares_its_type_tables_and_sql():
    for source_type, source in SOURCES.items():
        assert source.type == source_type
        assert source.config.model_fields["type"].annotation == Literal[source_type], source_type
        spec = source.config.model_construct(name="x", type=source_type)
        assert source.preparer(spec).tables == source.tables, source_type
        for table in source.tables:
            assert table in lake_tables(), (source_type, table)
            assert (resource_dir("queries") / "normalize" / f"{table}.sql").is_file(), (source_type, table)


def test_the_config_accepts_exactly_the_registered_types(tmp_path):
    assert SOURCE_TYPES == tuple(SOURCES)
    with pytest.raises(ConfigError) as raised:
        parse_config('[[sources]]\nname = "x"\ntype = "no-such-type"\n', "cfg.toml")
    assert f"expected one of: {', '.join(SOURCES)}" in str(raised.value)


def test_every_source_type_has_a_pull_command_with_an_example():
    from sovaudit.cli import app

    runner = CliRunner()
    for source_type in SOURCES:
        shown = runner.invoke(app, ["pull", source_type, "--help"], env={"COLUMNS": "200"})
        assert shown.exit_code == 0, (source_type, shown.output)
        assert f"sovaudit pull {source_type}" in shown.output, source_type


def test_pull_ingest_and_cli_name_no_source_family():
    """The flow is generic: families are reached through the registry only."""
    package = REPO / "sovaudit"
    generic = [package / "pull.py", *sorted((package / "ingest").glob("*.py"))]
    names = {family.__name__.rsplit(".", 1)[-1] for family in FAMILIES} | set(SOURCES)
    for path in generic:
        text = path.read_text(encoding="utf-8").lower()
        for name in names:
            assert not re.search(rf"\b{re.escape(name)}\b", text), (path.name, name)
    cli = (package / "cli.py").read_text(encoding="utf-8")
    assert not re.search(r"sovaudit\.sources\.\w+", cli.replace("sovaudit.sources import", "")), \
        "cli.py imports a source family"
    assert "pull_app.command(" not in cli


class _MemoryTrailConfig(SourceConfig):
    type: Literal["memory-trail"]
    records: int = 2


class _MemoryTrailSource(BaseSource):
    """A family written the way the guide in docs/architecture.md says: CloudTrail records from memory."""

    type = "memory-trail"
    config = _MemoryTrailConfig
    tables = CloudTrailPreparer.tables

    def preparer(self, spec):
        return CloudTrailPreparer()

    def items(self, spec, context: PullContext):
        context.notes.append(f"{spec.records} records made in memory")
        yield ListingDone(1)
        records = [ct_event(f"mem-{i}") for i in range(spec.records)]
        yield RawBlob(json.dumps({"Records": records}).encode(), {"kind": "memory", "records": spec.records},
                      "memory:0")

    def register_command(self, pull_app, pull):
        @pull_app.command(self.type)
        def pull_memory_trail(records: int = 2) -> None:
            """Example: sovaudit pull memory-trail --records 3"""
            pull(self.type, {"records": records}, since=None, until=None, lake=None, config=None, fmt="json",
                 lock_timeout=1.0)


def test_a_family_added_to_the_registry_pulls_with_no_other_change(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(SOURCES, "memory-trail", _MemoryTrailSource())
    spec = config_from_flags("memory-trail", records=3)
    assert spec == _MemoryTrailConfig(name="cli", type="memory-trail", records=3)

    lake = Lake(tmp_path / "lake")
    result = pull_source(lake, spec)
    assert_counts_add_up(result)
    assert result.counts["stored"] == 3 and result.notes == ["3 records made in memory"]
    entry = lake.ledger.entries()[-1]
    assert entry["source"] == {"name": "cli", "type": "memory-trail", "records": 3}
    assert entry["tables"] == ["cloudtrail"] and entry["inputs"][0]["kind"] == "memory"
    assert sorted(r[0] for r in lake.sql("SELECT event_uid FROM cloudtrail").fetchall()) == ["mem-0", "mem-1", "mem-2"]


def test_a_family_registers_its_own_pull_command():
    calls = []
    pull_app = typer.Typer()
    pull_app.callback()(lambda: None)
    _MemoryTrailSource().register_command(pull_app, lambda source_type, flags, **common: calls.append(
        (source_type, flags, common["fmt"])))
    assert CliRunner().invoke(pull_app, ["memory-trail", "--records", "5"]).exit_code == 0
    assert calls == [("memory-trail", {"records": 5}, "json")]


def test_flag_errors_name_the_flag_and_the_command():
    with pytest.raises(UsageError, match=r"pull cloudtrail: --accounts: an AWS account id is 12 digits"):
        config_from_flags("cloudtrail", path="x", accounts=["12"])
    with pytest.raises(UsageError, match=r"pull cloudtrail: set exactly one of path, bucket or lookup = true "
                                        r"\(use --path, --bucket or --lookup --region R\)"):
        config_from_flags("cloudtrail")
    with pytest.raises(UsageError, match="no source type 'no-such-type'"):
        config_from_flags("no-such-type", path="x")


@pytest.mark.parametrize(("source_type", "flags", "where"), [
    ("cloudtrail", {"bucket": "org-trail"}, "org-trail"),
    ("cloudtrail", {"path": "/exports"}, "/exports"),
    ("azure-activity", {"subscription": "00000000-0000-0000-0000-0000000000AB"}, "00000000-0000-0000-0000-0000000000ab"),
    ("azure-storage", {"account_url": "https://logs.blob.core.windows.net/?sv=1&sig=SECRET"},
     "https://logs.blob.core.windows.net"),
    ("azure", {"path": "/azure"}, "/azure"),
    ("kafka-audit", {"bootstrap": "kafka.eu:9092"}, "kafka.eu:9092"),
    ("kafka-inventory", {"path": "/inventory"}, "/inventory"),
])
def test_the_report_says_where_each_source_read_from_its_ledger_record(source_type, flags, where):
    source = SOURCES[source_type]
    record = source.ledger_record(config_from_flags(source_type, **flags))
    assert source.where(record) == where
    assert "SECRET" not in json.dumps(record)
