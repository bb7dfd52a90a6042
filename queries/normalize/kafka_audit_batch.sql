-- Normalize one Kafka blob's Confluent audit events, as the native extractor took them, into rows of the
-- `kafka_audit` table: the same rows as kafka_audit.sql (tests/test_native_normalize.py holds them to it), with no
-- JSON parsing but of the small values whose shape varies (a principal, a client address, a result that may be a
-- string). queries/normalize/kafka_audit.fields.toml names the fields, and its [envelope] the broker's envelope.
--
-- Reads: `extracted`, the Arrow record batch of sovaudit.ingest.extract (registered under that name), with
-- `_record_text` added by sovaudit.sources.kafka.envelopes: the event's text, for the rows without an id.
-- It may hold several blobs' records: `evidence_blob` is each one's blob, and goes into the lake as it is
-- (sovaudit/ingest/batch_rows.py), as `_position` holds the rows to the batch's.
-- Parameters: $run, $pull_started as for every table; $region, the cluster's configured region.
--
-- What kafka_audit.sql decides elsewhere is decided before this runs (sovaudit.sources.kafka.envelopes): a base64
-- value that is not UTF-8 or not JSON, and an event lacking specversion, type or data, are set aside there, with
-- kafka_audit.sql's reasons; a record that is no object, by the extractor. Differences, each in the input's favour:
-- a string field holding an object is its JSON text as delivered (kafka_audit.sql re-serializes it); an envelope's
-- value that is no object is named in JSON's words ("a JSON string", "a JSON number"), not DuckDB's
-- ("varchar", "bigint"); an envelope without a partition or offset is named with `null` for it, where
-- kafka_audit.sql's reason became NULL, and so no reason: such a tombstone was stored as an event.
WITH fields AS MATERIALIZED (
    SELECT
        extracted.*,
        ce_time AS _time_text,
        method_name AS _method,
        lower(method_name) AS _method_l,
        ce_type AS _type,
        TRY_CAST(_granted AS BOOLEAN) AS _granted_b,
        CASE WHEN starts_with(result, '"') THEN json_extract_string(result, '$') ELSE _result_status END AS _status,
        CASE WHEN starts_with(_principal_json, '"') THEN json_extract_string(_principal_json, '$')
             ELSE coalesce(_principal_email, _principal_user, _principal_sa, _principal_external) END AS _principal,
        coalesce(CASE WHEN starts_with(_client_address, '"') THEN json_extract_string(_client_address, '$') END,
                 json_extract_string(_client_address, '$[0].ip'),
                 json_extract_string(_client_address_camel, '$[0].ip'),
                 CASE WHEN starts_with(_client_address_camel, '"')
                      THEN json_extract_string(_client_address_camel, '$') END) AS _address,
        concat_ws(' ', ce_source, service_name, resource_name, ce_subject) AS _crns
    FROM extracted
),
derived AS MATERIALIZED (
    SELECT
        fields.*,
        regexp_extract(coalesce(_address, ''), '[^/]*$') AS _host_port,
        nullif(regexp_extract(_crns, '(?:^|/)kafka=([^/ ]+)', 1), '') AS _cluster,
        nullif(regexp_extract(_crns, '(?:^|/)organization=([^/ ]+)', 1), '') AS _organization,
        CASE WHEN NOT _enveloped THEN 'record '
             ELSE 'message at partition ' || coalesce(kafka_partition, 'null') || ' offset '
                  || coalesce(kafka_offset, 'null') || ' ' END AS _where,
        CASE
            WHEN _granted_b = false THEN 'failure'
            WHEN _status IS NOT NULL AND upper(_status) NOT IN ('SUCCESS', 'OK', 'ALLOWED', 'GRANTED') THEN 'failure'
            ELSE 'success'
        END AS _outcome
    FROM fields
)
SELECT
    _position,
    specversion,
    id,
    ce_source,
    _type AS ce_type,
    ce_subject,
    _time_text AS ce_time,
    datacontenttype,
    route,
    service_name,
    _method AS method_name,
    resource_name,
    _principal AS principal,
    authentication_info,
    _granted_b AS granted,
    _operation AS operation,
    _resource_type AS resource_type,
    _authz_resource_name AS authz_resource_name,
    _pattern_type AS pattern_type,
    TRY_CAST(_super_user AS BOOLEAN) AS super_user_authorization,
    authorization_info,
    coalesce(_client_id, _client_id_camel) AS client_id,
    coalesce(_correlation_id, _correlation_id_camel) AS correlation_id,
    coalesce(_address, CAST(json_extract(_client_address, '$') AS VARCHAR)) AS client_address,
    request,
    request_metadata,
    _status AS result_status,
    _result_message AS result_message,
    result,
    cloud_resources,
    kafka_cluster_id,
    kafka_topic,
    CAST(kafka_partition AS INTEGER) AS kafka_partition,
    CAST(kafka_offset AS BIGINT) AS kafka_offset,
    kafka_time(kafka_timestamp_ms) AS kafka_timestamp,

    -- common columns ---------------------------------------------------------------------------
    -- An event without an id is named by its text, as kafka_audit.sql named it: a broker value as DuckDB
    -- re-serializes it (`r->'$.value'`), a file's record and a decoded base64 value as delivered.
    coalesce(nullif(id, ''), 'sha256:' || sha256(
        CASE WHEN _enveloped AND value_base64 IS NULL THEN CAST(json_extract(_record_text, '$') AS VARCHAR)
             ELSE _record_text END)) AS event_uid,
    'kafka_audit' AS source,
    _time AS time,
    coalesce(_cluster, _organization, kafka_cluster_id) AS account,
    $region AS region,
    coalesce(lower(nullif(split_part(_method, '.', 1), '')), 'kafka') AS service,
    _method AS action,
    CASE
        WHEN _type LIKE '%/authentication' OR _method_l IN ('kafka.authentication', 'mds.authorize') THEN 'auth'
        WHEN _method_l IN ('kafka.deletetopics', 'kafka.deleterecords', 'kafka.deletegroups') THEN 'delete'
        WHEN _method_l IN ('kafka.createtopics', 'kafka.createpartitions', 'kafka.alterconfigs',
                           'kafka.incrementalalterconfigs', 'kafka.createacls', 'kafka.deleteacls',
                           'kafka.alterpartitionreassignments', 'kafka.createclusterlinks',
                           'kafka.deleteclusterlinks', 'kafka.altermirrors', 'kafka.alterclientquotas',
                           'kafka.alteruserscramcredentials', 'kafka.alterreplicalogdirs')
            OR _operation IN ('Create', 'Alter', 'AlterConfigs') THEN 'config'
        WHEN _method_l = 'kafka.produce' OR _operation = 'Write' THEN 'write'
        WHEN _method_l IN ('kafka.fetch', 'kafka.fetchconsumer', 'kafka.listoffsets', 'kafka.offsetfetch',
                           'kafka.metadata', 'kafka.describeconfigs', 'kafka.describeacls', 'kafka.describegroups',
                           'kafka.listgroups', 'kafka.describecluster')
            OR _operation IN ('Read', 'Describe', 'DescribeConfigs') THEN 'read'
        ELSE 'other'
    END AS action_class,
    _outcome AS outcome,
    CASE WHEN _outcome = 'failure' THEN coalesce(CASE WHEN upper(_status) <> 'SUCCESS' THEN _status END, 'DENIED')
    END AS error_code,
    _principal AS actor,
    _organization AS actor_account,
    nullif(CASE
        WHEN _host_port LIKE '[%' THEN regexp_extract(_host_port, '^\[([^\]]*)\]', 1)
        WHEN regexp_matches(_host_port, '^[0-9.]+:[0-9]+$') THEN split_part(_host_port, ':', 1)
        ELSE _host_port
    END, '') AS src_ip,
    CAST(NULL AS VARCHAR) AS src_country,
    CAST(NULL AS VARCHAR) AS src_cloud,
    CAST(NULL AS VARCHAR) AS src_cloud_region,
    CAST(NULL AS VARCHAR) AS src_cloud_service,
    coalesce(_client_id, _client_id_camel) AS user_agent,
    coalesce(resource_name, _authz_resource_name, ce_subject) AS resource,
    CASE WHEN _cluster IS NOT NULL THEN $region END AS resource_region,
    CAST(NULL AS VARCHAR) AS dest_resource,
    CAST(NULL AS VARCHAR) AS dest_region,
    CAST(NULL AS VARCHAR) AS key_id,
    CAST(NULL AS BIGINT) AS bytes_out,
    CAST(_position AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,

    CASE
        WHEN _enveloped AND coalesce(_record_type, 'null') = 'null' THEN _where || 'has no value (a tombstone)'
        WHEN _record_type <> 'object'
            THEN _where || 'is a JSON ' || _record_type || ', expected a CloudEvents object'
        WHEN _time_text IS NULL THEN 'event has no time'
        WHEN _time IS NULL THEN 'event time is not a timestamp: ' || left(_time_text, 64)
        ELSE future_time_problem('event time', _time_text, _time, $pull_started)
    END AS _problem
FROM derived
