"""The config's policy as DuckDB tables that checks join. Values travel as Arrow data, never as SQL text.

Tables (all in the connection's main schema):
  policy_regions           region, provider, country, jurisdiction, origin (builtin | config)
  policy_countries         country, jurisdiction, eu_eea, adequacy (the Commission decision, if any)
  policy_data_classes      class_name, home, tier, retention_days
  policy_class_patterns    class_name, kind (resource | key | topic), pattern (a GLOB), and the GLOB compiled
                           (sovaudit/engines/glob_regex.py): regex, like_pattern, like_exact; the checks match
                           `x LIKE p.like_pattern ESCAPE '!' AND (p.like_exact OR regexp_matches(x, p.regex))`
  policy_allowed_transfers class_name, to_jurisdiction, safeguard
  policy_resource_regions  pattern, regex, like_pattern, like_exact, region: where a resource lives when the logs
                           do not say
  policy_thresholds        one row, one column per threshold, and evidence_period_days ([organisation])
  policy_audit_topics      topic: the Kafka audit-log topics (the default, and each kafka-audit source's)
  policy_clouds            cloud (aws | azure | gcp), label: the providers whose ranges give src_cloud
  policy_org_accounts      account: the organisation's AWS accounts ([organisation] accounts)
  policy_accounts          account, jurisdiction, allowed_regions ([[accounts]]: where each account's stores belong)
  policy_region_pairs      region, paired_region: Azure's regional pairs (sovaudit/data/azure_region_pairs.csv)
"""

import csv
import io
from importlib.resources import files
from typing import Any

import duckdb
import pyarrow as pa

from sovaudit.config import Config
from sovaudit.engines.glob_regex import compile_glob
from sovaudit.geography import load_geography
from sovaudit.ip_ranges.providers import providers
from sovaudit.sources.kafka.config import DEFAULT_AUDIT_TOPIC


def _countries() -> list[dict[str, Any]]:
    geography = load_geography()
    codes = {r.country for r in geography.regions.values() if r.country}
    codes |= set(geography.eu_eea_countries)
    codes |= {d["country"] for d in geography.adequacy_decisions if d.get("country")}
    rows = []
    for code in sorted(codes):
        decision = geography.adequacy(code)
        rows.append({"country": code, "jurisdiction": geography.country_jurisdiction(code),
                     "eu_eea": geography.is_eu_eea(code),
                     "adequacy": decision["instrument"] if decision else None})
    return rows


def _region_pairs() -> list[dict[str, str]]:
    text = (files("sovaudit") / "data" / "azure_region_pairs.csv").read_text(encoding="utf-8")
    return [{"region": r["region"], "paired_region": r["paired_region"]} for r in csv.DictReader(io.StringIO(text))]


_COMPILED = [("regex", pa.string()), ("like_pattern", pa.string()), ("like_exact", pa.bool_())]


def _compiled(pattern: str) -> dict[str, Any]:
    compiled = compile_glob(pattern)
    return {"regex": compiled.regex, "like_pattern": compiled.like_pattern, "like_exact": compiled.like_exact}


def policy_tables(config: Config) -> dict[str, pa.Table]:
    geography = load_geography()
    regions = geography.region_rows(config.jurisdictions)
    classes = config.data_classes
    patterns = [{"class_name": c.name, "kind": "resource", "pattern": p} for c in classes for p in c.resources]
    patterns += [{"class_name": c.name, "kind": "key", "pattern": p} for c in classes for p in c.keys]
    patterns += [{"class_name": c.name, "kind": "topic", "pattern": p} for c in classes for p in c.topics]
    for row in patterns:
        row.update(_compiled(row["pattern"]))
    thresholds = {**config.thresholds.model_dump(), "evidence_period_days": config.organisation.evidence_period_days}
    audit_topics = sorted({DEFAULT_AUDIT_TOPIC} | {s.topic for s in config.sources if s.type == "kafka-audit"})
    return {
        "policy_regions": pa.Table.from_pylist(
            [{"region": r["region"], "provider": r["provider"], "country": r["country"],
              "jurisdiction": r["jurisdiction"], "origin": r["source"]} for r in regions],
            schema=pa.schema([("region", pa.string()), ("provider", pa.string()), ("country", pa.string()),
                              ("jurisdiction", pa.string()), ("origin", pa.string())])),
        "policy_countries": pa.Table.from_pylist(
            _countries(), schema=pa.schema([("country", pa.string()), ("jurisdiction", pa.string()),
                                            ("eu_eea", pa.bool_()), ("adequacy", pa.string())])),
        "policy_data_classes": pa.Table.from_pylist(
            [{"class_name": c.name, "home": c.home, "tier": c.tier, "retention_days": c.retention_days}
             for c in classes],
            schema=pa.schema([("class_name", pa.string()), ("home", pa.string()), ("tier", pa.int32()),
                              ("retention_days", pa.int32())])),
        "policy_class_patterns": pa.Table.from_pylist(
            patterns, schema=pa.schema([("class_name", pa.string()), ("kind", pa.string()),
                                        ("pattern", pa.string()), *_COMPILED])),
        "policy_allowed_transfers": pa.Table.from_pylist(
            [{"class_name": c.name, "to_jurisdiction": t.to, "safeguard": t.safeguard}
             for c in classes for t in c.allowed_transfers],
            schema=pa.schema([("class_name", pa.string()), ("to_jurisdiction", pa.string()),
                              ("safeguard", pa.string())])),
        "policy_resource_regions": pa.Table.from_pylist(
            [{"pattern": k, **_compiled(k), "region": v} for k, v in config.resource_regions.items()],
            schema=pa.schema([("pattern", pa.string()), *_COMPILED, ("region", pa.string())])),
        "policy_thresholds": pa.Table.from_pylist([thresholds], schema=pa.schema(
            [(k, pa.int64() if k == "evidence_period_days" else pa.scalar(v).type) for k, v in thresholds.items()])),
        "policy_audit_topics": pa.Table.from_pylist([{"topic": t} for t in audit_topics],
                                                    schema=pa.schema([("topic", pa.string())])),
        "policy_clouds": pa.Table.from_pylist([{"cloud": p.cloud, "label": p.label} for p in providers().values()],
                                              schema=pa.schema([("cloud", pa.string()), ("label", pa.string())])),
        "policy_org_accounts": pa.Table.from_pylist([{"account": a} for a in sorted(set(config.organisation.accounts))],
                                                    schema=pa.schema([("account", pa.string())])),
        "policy_accounts": pa.Table.from_pylist(
            [{"account": a.id, "jurisdiction": a.jurisdiction, "allowed_regions": a.allowed_regions}
             for a in config.accounts],
            schema=pa.schema([("account", pa.string()), ("jurisdiction", pa.string()),
                              ("allowed_regions", pa.list_(pa.string()))])),
        "policy_region_pairs": pa.Table.from_pylist(
            _region_pairs(), schema=pa.schema([("region", pa.string()), ("paired_region", pa.string())])),
    }


def load_policy(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    for name, table in policy_tables(config).items():
        con.register("_policy_source", table)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _policy_source")  # noqa: S608 (our names)
        con.unregister("_policy_source")
