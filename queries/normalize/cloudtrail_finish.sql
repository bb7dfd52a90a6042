-- The resource of the services other than S3 and KMS, from the resource mapping table (cloudtrail_resources.csv,
-- the table ct_resource_rules): run by sovaudit.ingest once per flush over the rows cloudtrail.sql produced (the
-- view `batch`, with each row's position `_row`), not once per blob, so that its plan is made once per pull.
-- It returns `_row` and the new `resource`, `resource_region`, `key_id` and `arns` of the rows it names a resource
-- for, and the `copy_call_fields` of the copy and sharing calls (ct_copy_call_fields: their request and response
-- walked here, once per flush over those few rows, rather than in every batch); the other rows are left as they are.
--
-- A resources[] entry of the event's own service, which CloudTrail writes itself, comes first; else the first rule
-- of the table, in file order, for the event source and name whose parameters are all given. A KMS call whose key
-- resources[] names (key_id is an ARN) is already done. Each step is plain rows and columns: lambdas inside lambdas
-- would run row by row.
WITH records AS (
    SELECT _row, event_source, event_name, aws_region, coalesce(recipient_account_id, user_identity_account_id) AS _account,
           request_parameters, response_elements, additional_event_data, service_event_details, key_id, arns,
           CASE WHEN contains(CAST(resources AS VARCHAR), ':' || split_part(event_source, '.', 1) || ':')
                THEN list_filter(json_extract_string(resources, '$[*].ARN'),
                                 lambda a: split_part(a, ':', 3) = split_part(event_source, '.', 1))[1] END AS _own_arn,
           CASE WHEN _own_arn IS NULL THEN lower(CAST(request_parameters AS VARCHAR)) END AS _request_text
    FROM batch
    WHERE list_contains((SELECT list(DISTINCT event_source) FROM ct_resource_rules), event_source)
      AND NOT (event_source = 'kms.amazonaws.com' AND coalesce(starts_with(key_id, 'arn:'), false))
      AND _problem IS NULL
),
-- Each parameter of each rule that may apply to a record: its event name matches, and its key appears in the
-- field's text (in lower case), which is cheaper to see than to parse the field.
pairs AS (
    SELECT t._row, t.aws_region, t._account, r.rule, r.value_glob, r.service, r.n_params, r.tokens,
           t.request_parameters, t.response_elements, t.additional_event_data, t.service_event_details,
           unnest(r.params) AS _param
    FROM records AS t
    JOIN ct_resource_rules AS r
      ON r.event_source = t.event_source AND t.event_name GLOB r.event_name AND t._own_arn IS NULL
     AND (r.need_key IS NULL OR contains(CASE WHEN r.need_root = 'requestParameters' THEN t._request_text
                                              ELSE lower(CAST(ct_field(r.need_root, t.request_parameters,
                                                  t.response_elements, t.additional_event_data,
                                                  t.service_event_details) AS VARCHAR)) END, r.need_key))
),
-- Its value, one key at a time (keys matched case-insensitively).
key1 AS (
    SELECT * EXCLUDE (request_parameters, response_elements, additional_event_data, service_event_details),
           ct_key(ct_field(_param.root, request_parameters, response_elements, additional_event_data,
                           service_event_details), _param.key1) AS _v1
    FROM pairs
),
key2 AS (SELECT * EXCLUDE (_v1), CASE WHEN _param.key2 IS NULL THEN _v1 ELSE ct_key(_v1, _param.key2) END AS _v2 FROM key1),
key3 AS (SELECT * EXCLUDE (_v2), CASE WHEN _param.key3 IS NULL THEN _v2 ELSE ct_key(_v2, _param.key3) END AS _v3 FROM key2),
scalars AS (SELECT * EXCLUDE (_v3), ct_scalar(_v3) AS _text FROM key3),
valued AS (
    SELECT _row, rule, any_value(aws_region) AS aws_region, any_value(_account) AS _account,
           any_value(value_glob) AS value_glob, any_value(service) AS service, any_value(n_params) AS n_params,
           any_value(tokens) AS tokens, list(ct_param_text(_text, _param.filter) ORDER BY _param.i) AS vals
    FROM scalars
    GROUP BY _row, rule
    UNION ALL
    -- Rules without parameters (a fixed resource, such as Athena's primary workgroup) need no values.
    SELECT t._row, r.rule, t.aws_region, t._account, r.value_glob, r.service, r.n_params, r.tokens,
           CAST([] AS VARCHAR[]) AS vals
    FROM records AS t
    JOIN ct_resource_rules AS r
      ON r.event_source = t.event_source AND t.event_name GLOB r.event_name AND t._own_arn IS NULL AND r.n_params = 0
),
built AS (
    SELECT _row, rule, ct_if_arn(ct_fill(service, tokens, vals, aws_region, _account)) AS arn
    FROM valued
    WHERE list_count(vals) = n_params AND (value_glob IS NULL OR coalesce(vals[-1] GLOB value_glob, false))
),
named AS (
    SELECT t._row, any_value(t.event_source) AS event_source, any_value(t.key_id) AS key_id, any_value(t.arns) AS arns,
           coalesce(any_value(t._own_arn), arg_min(b.arn, b.rule) FILTER (WHERE b.arn IS NOT NULL)) AS _named
    FROM records AS t LEFT JOIN built AS b USING (_row)
    GROUP BY t._row
),
resourced AS (
    SELECT _row,
           _named AS resource,
           nullif(split_part(_named, ':', 4), '') AS resource_region,
           CASE WHEN event_source = 'kms.amazonaws.com' THEN _named ELSE key_id END AS key_id,
           list_sort(list_distinct(list_append(arns, _named))) AS arns
    FROM named
    WHERE _named IS NOT NULL
),
copy_calls AS (
    SELECT _row, ct_copy_call_fields(request_parameters, response_elements) AS copy_call_fields
    FROM batch
    WHERE ct_is_copy_call(event_name) AND _problem IS NULL
)
-- A row either names a resource, is a copy or sharing call, or both; what it does not change stays as it was.
SELECT b._row,
       CASE WHEN r._row IS NULL THEN b.resource ELSE r.resource END AS resource,
       CASE WHEN r._row IS NULL THEN b.resource_region ELSE r.resource_region END AS resource_region,
       CASE WHEN r._row IS NULL THEN b.key_id ELSE r.key_id END AS key_id,
       CASE WHEN r._row IS NULL THEN b.arns ELSE r.arns END AS arns,
       CASE WHEN c._row IS NULL THEN b.copy_call_fields ELSE c.copy_call_fields END AS copy_call_fields
FROM batch AS b
LEFT JOIN resourced AS r ON r._row = b._row
LEFT JOIN copy_calls AS c ON c._row = b._row
WHERE r._row IS NOT NULL OR c._row IS NOT NULL
