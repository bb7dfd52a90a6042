-- Normalize the Confluent audit events of one Kafka blob into rows of the `kafka_audit` table.
--
-- Parameters (bound by sovaudit.ingest, never formatted into this text):
--   $path       a JSON array file of the blob's records, byte-for-byte as delivered
--   $index_map  INTEGER[]: each array element's position (line) in the original blob
--   $blob       SHA-256 of the archived blob          $run  id of the pull
--   $pull_started  when the pull started: a record time more than a day after it is quarantined
--   $region     the cluster's region, from its [[sources]] entry (NULL when not configured)
--
-- A record is either a CloudEvent as a file holds it, or, from a broker, an envelope
-- {"kafka": {cluster_id, topic, partition, offset, timestamp}, "value": <the message value>} whose value
-- is base64 (`value_base64`) when it was not one line of UTF-8 JSON. A record that is not an audit event (not
-- UTF-8, not JSON, a tombstone, no specversion/type/data, no usable time) gets a `_problem` and is quarantined.
WITH raw AS (
    SELECT row_number() OVER () AS _position, json AS r
    FROM read_json_objects($path, format = 'array')
),
envelopes AS MATERIALIZED (
    SELECT
        _position, r,
        CASE WHEN json_exists(r, '$.kafka.offset') THEN r->'$.kafka' END AS k,
        try(decode(from_base64(r->>'$.value_base64'))) AS _value_text
    FROM raw
),
unwrapped AS MATERIALIZED (
    SELECT
        _position, r, k, _value_text,
        CASE
            WHEN k IS NULL THEN r
            WHEN json_exists(r, '$.value_base64') THEN try(CAST(_value_text AS JSON))
            WHEN json_type(r->'$.value') <> 'NULL' THEN r->'$.value'
        END AS e
    FROM envelopes
),
-- Each event is parsed once into the parts the mapping reads: a JSON path on the whole event re-parses it
-- every time, which made this query five times slower. Parts whose shape varies stay JSON.
parsed AS MATERIALIZED (
    SELECT
        _position, r, k, e, _value_text,
        json_keys(e) AS _keys,
        from_json(e, '{"specversion": "VARCHAR", "id": "VARCHAR", "source": "VARCHAR", "type": "VARCHAR",
                       "subject": "VARCHAR", "time": "VARCHAR", "datacontenttype": "VARCHAR",
                       "confluentRouting": {"route": "VARCHAR"},
                       "data": {"serviceName": "VARCHAR", "methodName": "VARCHAR", "resourceName": "VARCHAR",
                                "authenticationInfo": "JSON", "authorizationInfo": "JSON", "request": "JSON",
                                "requestMetadata": "JSON", "result": "JSON", "cloudResources": "JSON"}}') AS ce
    FROM unwrapped
),
fields AS MATERIALIZED (
    SELECT
        parsed.*,
        ce.data.authenticationInfo AS _authn,
        ce.data.authorizationInfo AS _authz,
        ce.data.request AS _request,
        ce.data.requestMetadata AS _rm,
        ce.time AS _time_text,
        rfc3339_time(ce.time) AS _time,
        ce.data.methodName AS _method,
        lower(ce.data.methodName) AS _method_l,
        ce.type AS _type,
        TRY_CAST(ce.data.authorizationInfo->>'$.granted' AS BOOLEAN) AS _granted,
        ce.data.authorizationInfo->>'$.operation' AS _operation,
        -- Platform and Cloud authorization events: result.status; some Cloud events: "result": "SUCCESS".
        CASE WHEN json_type(ce.data.result) = 'VARCHAR' THEN ce.data.result->>'$'
             ELSE ce.data.result->>'$.status' END AS _status,
        CASE WHEN json_type(ce.data.authenticationInfo->'$.principal') = 'VARCHAR'
             THEN ce.data.authenticationInfo->>'$.principal'
             ELSE coalesce(ce.data.authenticationInfo->>'$.principal.email',
                           ce.data.authenticationInfo->>'$.principal.confluentUser.resourceId',
                           ce.data.authenticationInfo->>'$.principal.confluentServiceAccount.resourceId',
                           ce.data.authenticationInfo->>'$.principal.externalAccount.resourceId') END AS _principal,
        -- Platform: "/192.0.2.4" (InetAddress.toString, maybe "host/192.0.2.4"); Cloud: [{"ip": …, "port": …}].
        coalesce(CASE WHEN json_type(ce.data.requestMetadata->'$.client_address') = 'VARCHAR'
                      THEN ce.data.requestMetadata->>'$.client_address' END,
                 ce.data.requestMetadata->>'$.client_address[0].ip',
                 ce.data.requestMetadata->>'$.clientAddress[0].ip',
                 CASE WHEN json_type(ce.data.requestMetadata->'$.clientAddress') = 'VARCHAR'
                      THEN ce.data.requestMetadata->>'$.clientAddress' END) AS _address,
        concat_ws(' ', ce.source, ce.data.serviceName, ce.data.resourceName, ce.subject) AS _crns
    FROM parsed
),
derived AS MATERIALIZED (
    SELECT
        fields.*,
        regexp_extract(coalesce(_address, ''), '[^/]*$') AS _host_port,
        nullif(regexp_extract(_crns, '(?:^|/)kafka=([^/ ]+)', 1), '') AS _cluster,
        nullif(regexp_extract(_crns, '(?:^|/)organization=([^/ ]+)', 1), '') AS _organization,
        CASE WHEN k IS NULL THEN 'record '
             ELSE 'message at partition ' || (k->>'$.partition') || ' offset ' || (k->>'$.offset') || ' ' END AS _where,
        list_filter(['specversion', 'type', 'data'], lambda key: NOT list_contains(_keys, key)) AS _missing,
        CASE
            WHEN _granted = false THEN 'failure'
            WHEN _status IS NOT NULL AND upper(_status) NOT IN ('SUCCESS', 'OK', 'ALLOWED', 'GRANTED') THEN 'failure'
            ELSE 'success'
        END AS _outcome
    FROM fields
)
SELECT
    ce.specversion AS specversion,
    ce.id AS id,
    ce.source AS ce_source,
    _type AS ce_type,
    ce.subject AS ce_subject,
    _time_text AS ce_time,
    ce.datacontenttype AS datacontenttype,
    ce.confluentRouting.route AS route,
    ce.data.serviceName AS service_name,
    _method AS method_name,
    ce.data.resourceName AS resource_name,
    _principal AS principal,
    _authn AS authentication_info,
    _granted AS granted,
    _operation AS operation,
    _authz->>'$.resourceType' AS resource_type,
    _authz->>'$.resourceName' AS authz_resource_name,
    _authz->>'$.patternType' AS pattern_type,
    TRY_CAST(_authz->>'$.superUserAuthorization' AS BOOLEAN) AS super_user_authorization,
    _authz AS authorization_info,
    coalesce(_request->>'$.client_id', _request->>'$.clientId') AS client_id,
    coalesce(_request->>'$.correlation_id', _request->>'$.correlationId') AS correlation_id,
    coalesce(_address, CAST(_rm->'$.client_address' AS VARCHAR)) AS client_address,
    _request AS request,
    _rm AS request_metadata,
    _status AS result_status,
    ce.data.result->>'$.message' AS result_message,
    ce.data.result AS result,
    ce.data.cloudResources AS cloud_resources,
    k->>'$.cluster_id' AS kafka_cluster_id,
    k->>'$.topic' AS kafka_topic,
    TRY_CAST(k->>'$.partition' AS INTEGER) AS kafka_partition,
    TRY_CAST(k->>'$.offset' AS BIGINT) AS kafka_offset,
    kafka_time(k->>'$.timestamp') AS kafka_timestamp,

    -- common columns ---------------------------------------------------------------------------
    coalesce(nullif(ce.id, ''), 'sha256:' || sha256(CAST(e AS VARCHAR))) AS event_uid,
    'kafka_audit' AS source,
    _time AS time,
    coalesce(_cluster, _organization, k->>'$.cluster_id') AS account,
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
    coalesce(_request->>'$.client_id', _request->>'$.clientId') AS user_agent,
    coalesce(ce.data.resourceName, _authz->>'$.resourceName', ce.subject) AS resource,
    CASE WHEN _cluster IS NOT NULL THEN $region END AS resource_region,
    CAST(NULL AS VARCHAR) AS dest_resource,
    CAST(NULL AS VARCHAR) AS dest_region,
    CAST(NULL AS VARCHAR) AS key_id,
    CAST(NULL AS BIGINT) AS bytes_out,
    $blob AS evidence_blob,
    CAST(coalesce($index_map[_position], _position - 1) AS INTEGER) AS evidence_index,
    $run AS ingest_run,
    CAST(_time AS DATE) AS date,

    CASE
        -- A cast that fails would fail the query, and with it every record of the blob.
        WHEN k IS NOT NULL AND TRY_CAST(k->>'$.offset' AS BIGINT) IS NULL
            THEN 'kafka.offset is not a 64-bit integer: ' || left(k->>'$.offset', 64)
        WHEN k IS NOT NULL AND k->>'$.partition' IS NOT NULL AND TRY_CAST(k->>'$.partition' AS INTEGER) IS NULL
            THEN 'kafka.partition is not a 32-bit integer: ' || left(k->>'$.partition', 64)
        WHEN k IS NOT NULL AND json_exists(r, '$.value_base64') AND _value_text IS NULL
            THEN _where || 'is not UTF-8 text'
        WHEN k IS NOT NULL AND json_exists(r, '$.value_base64') AND e IS NULL THEN _where || 'is not JSON'
        WHEN k IS NOT NULL AND e IS NULL THEN _where || 'has no value (a tombstone)'
        WHEN json_type(e) <> 'OBJECT'
            THEN _where || 'is a JSON ' || lower(json_type(e)) || ', expected a CloudEvents object'
        WHEN len(_missing) > 0
            THEN _where || 'is not a Confluent audit event (CloudEvents): no ' || array_to_string(_missing, ', ')
                 || '; found keys: ' || coalesce(nullif(array_to_string(_keys[1:8], ', '), ''), 'none')
        WHEN _time_text IS NULL THEN 'event has no time'
        WHEN _time IS NULL THEN 'event time is not a timestamp: ' || left(_time_text, 64)
        ELSE future_time_problem('event time', _time_text, _time, $pull_started)
    END AS _problem
FROM derived
