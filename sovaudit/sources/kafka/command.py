"""`sovaudit pull kafka-audit`, `pull kafka-inventory` and `pull kafka-lineage`. Client settings (security, SASL …)
come from the [[sources]] entry of the same type with the same bootstrap; the flags override it."""

from typing import Annotated

import typer

from sovaudit.cli_options import ConfigOpt, FormatOpt, LakeOpt, LockOpt, SinceOpt, UntilOpt
from sovaudit.sources.base import PullCommand

BootstrapOpt = Annotated[str | None, typer.Option("--bootstrap", help="HOST:PORT of the cluster (client settings "
                                                  "come from the \\[\\[sources]] entry with the same bootstrap).")]
KafkaRegionOpt = Annotated[str | None, typer.Option("--region", help="The cluster's region, e.g. eu-west-1.")]


def register_kafka_audit(pull_app: typer.Typer, pull: PullCommand) -> None:
    @pull_app.command("kafka-audit")
    def pull_kafka_audit(
        bootstrap: Annotated[str | None, typer.Option("--bootstrap", help="HOST:PORT of the cluster holding the "
                                                      "audit-log topic.")] = None,
        topic: Annotated[str | None, typer.Option("--topic", help="Audit-log topic (default "
                                                  "confluent-audit-log-events).")] = None,
        path: Annotated[str | None, typer.Option("--path", help="Directory (walked recursively), file or glob of "
                                                 "exported events instead of a broker.")] = None,
        region: KafkaRegionOpt = None, since: SinceOpt = None, until: UntilOpt = None, lake: LakeOpt = None,
        config: ConfigOpt = None, fmt: FormatOpt = "table", lock_timeout: LockOpt = 60.0,
    ) -> None:
        """Pull Confluent audit events (CloudEvents 0.3 and 1.0) from the audit-log topic or from files.

        From a broker, each partition is read up to its high watermark at the start, from where the last pull
        stopped (the ledger keeps the offsets); --since starts at the offsets for that time.

        Examples:

          [cyan]sovaudit pull kafka-audit --bootstrap kafka-audit.eu.example:9092 --region eu-west-1[/cyan]

          [cyan]sovaudit pull kafka-audit --path ./audit-export/ --region eu-west-1[/cyan]
        """
        pull("kafka-audit", {"bootstrap": bootstrap, "topic": topic, "path": path, "region": region},
             since=since, until=until, lake=lake, config=config, fmt=fmt, lock_timeout=lock_timeout)


def register_kafka_inventory(pull_app: typer.Typer, pull: PullCommand) -> None:
    @pull_app.command("kafka-inventory")
    def pull_kafka_inventory(
        bootstrap: BootstrapOpt = None,
        path: Annotated[str | None, typer.Option("--path", help="Directory (walked recursively), file or glob of "
                                                 "inventory snapshots (NDJSON, optionally .gz) instead of a "
                                                 "broker.")] = None,
        mirror_alias: Annotated[list[str] | None, typer.Option("--mirror-alias", help="Alias of a cluster "
                                                               "MirrorMaker 2 mirrors into this one (others are "
                                                               "found from its topics).")] = None,
        region: KafkaRegionOpt = None, lake: LakeOpt = None, config: ConfigOpt = None, fmt: FormatOpt = "table",
        lock_timeout: LockOpt = 60.0,
    ) -> None:
        """Snapshot a cluster's topics into kafka_topics: retention.ms, retention.bytes, cleanup.policy and
        MirrorMaker 2 artefacts (remote topics <alias>.<topic>, heartbeats, mm2-offset-syncs.*).

        From files, snapshots taken elsewhere are read as they are: one JSON line per topic, as a broker pull writes.

        Examples:

          [cyan]sovaudit pull kafka-inventory --bootstrap kafka.us.example:9092 --region us-east-1[/cyan]

          [cyan]sovaudit pull kafka-inventory --path ./kafka-inventory/ --region us-east-1 --mirror-alias eu[/cyan]
        """
        pull("kafka-inventory", {"bootstrap": bootstrap, "path": path, "mirror_aliases": mirror_alias,
                                 "region": region},
             since=None, until=None, lake=lake, config=config, fmt=fmt, lock_timeout=lock_timeout)


def register_kafka_lineage(pull_app: typer.Typer, pull: PullCommand) -> None:
    @pull_app.command("kafka-lineage")
    def pull_kafka_lineage(
        bootstrap: BootstrapOpt = None,
        path: Annotated[str | None, typer.Option("--path", help="Directory (walked recursively), file or glob of a "
                                                 "header export (NDJSON, optionally .gz) instead of a broker.")] = None,
        topic: Annotated[list[str] | None, typer.Option("--topic", help="Data topic whose headers to read "
                                                        "(repeatable; required with --bootstrap).")] = None,
        header: Annotated[list[str] | None, typer.Option("--header", help="Another header name to keep, besides "
                                                         "region_origin, encryption_key_id, "
                                                         "processing_timestamp.")] = None,
        region: KafkaRegionOpt = None, since: SinceOpt = None, until: UntilOpt = None, lake: LakeOpt = None,
        config: ConfigOpt = None, fmt: FormatOpt = "table", lock_timeout: LockOpt = 60.0,
    ) -> None:
        """Pull lineage headers of messages on data topics into kafka_lineage; message values are never read or stored.

        From files (one JSON line per message, as a broker pull writes), every record is pulled as exported:
        --topic and --header only choose what is read from a broker.

        Examples:

          [cyan]sovaudit pull kafka-lineage --bootstrap kafka.eu.example:9092 --topic eu.loyalty.transactions --region eu-west-1[/cyan]

          [cyan]sovaudit pull kafka-lineage --path ./lineage-export/ --region eu-west-1[/cyan]
        """
        pull("kafka-lineage", {"bootstrap": bootstrap, "path": path, "topics": topic, "headers": header,
                               "region": region},
             since=since, until=until, lake=lake, config=config, fmt=fmt, lock_timeout=lock_timeout)


# Each source type's command, by type (its Source's register_command looks it up).
COMMANDS = {
    "kafka-audit": register_kafka_audit,
    "kafka-inventory": register_kafka_inventory,
    "kafka-lineage": register_kafka_lineage,
}
