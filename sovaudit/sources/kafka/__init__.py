"""Apache Kafka: Confluent audit events, topic inventories and lineage headers, into kafka_audit, kafka_topics and
kafka_lineage."""

from sovaudit.sources.kafka.source import KafkaAuditSource, KafkaInventorySource, KafkaLineageSource

SOURCES = (KafkaAuditSource(), KafkaInventorySource(), KafkaLineageSource())
