-- Helpers of cloudtrail.sql and cloudtrail_finish.sql; created once per pull, before them
-- (CloudTrailPreparer.setup_queries).

-- The value of a JSON object's key, the key matched case-insensitively (`key` is in lower case): most services
-- log their parameters in camelCase (secretId), some in the API's PascalCase (SecretId). NULL when the object has
-- no such key, or is not an object.
CREATE OR REPLACE MACRO ct_key(node, key) AS
    json_extract(node, list_filter(json_keys(node), lambda k: lower(k) = key)[1]);

-- A JSON value as text: a string or a number, else NULL (an object or a list names no resource).
CREATE OR REPLACE MACRO ct_scalar(value) AS
    CASE WHEN json_type(value) IN ('VARCHAR', 'BIGINT', 'UBIGINT') THEN trim(json_extract_string(value, '$')) END;

-- A parameter after a mapping rule's filter, or NULL when it names nothing: missing, empty, or the wildcard '*'.
-- `text` must be a plain column or lambda variable: a macro repeats its arguments.
CREATE OR REPLACE MACRO ct_param_text(text, filter) AS nullif(nullif(CASE filter
    WHEN 'lower' THEN lower(text)
    WHEN 'basename' THEN regexp_extract(rtrim(text, '/'), '[^/]*$')
    WHEN 'noslash' THEN ltrim(text, '/')
    ELSE text
END, ''), '*');

-- The AWS partition of a region, for ARNs built from names.
CREATE OR REPLACE MACRO ct_partition(region) AS CASE
    WHEN starts_with(region, 'cn-') THEN 'aws-cn'
    WHEN starts_with(region, 'us-gov-') THEN 'aws-us-gov'
    WHEN starts_with(region, 'us-isob-') THEN 'aws-iso-b'
    WHEN starts_with(region, 'us-iso-') THEN 'aws-iso'
    ELSE 'aws'
END;

-- Every ARN-looking string in a JSON text (resources[], request parameters, response elements): quoted values,
-- and ARNs inside embedded documents such as policies, which end at their escaped quote. A `|` ends one too:
-- stream iterators and tokens put an ARN first and opaque data after it.
CREATE OR REPLACE MACRO ct_arns_in(text) AS
    CASE WHEN contains(text, 'arn:')
         THEN regexp_extract_all(text, 'arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[a-z0-9-]*:[^"\\|[:space:]]+')
    END;

CREATE OR REPLACE MACRO ct_if_arn(text) AS CASE WHEN starts_with(text, 'arn:') THEN text END;

-- The record field a mapping rule's parameter starts from.
CREATE OR REPLACE MACRO ct_field(root, request, response, additional, service_details) AS CASE root
    WHEN 'responseElements' THEN response
    WHEN 'additionalEventData' THEN additional
    WHEN 'serviceEventDetails' THEN service_details
    ELSE request
END;

-- A rule's ARN from its parameter values (`vals`, in placeholder order, none NULL; a column, as it is used more than
-- once): a last value that is already an ARN of the rule's service is the resource (an ARN of another service
-- gives nothing); else the template's tokens filled with the values and the event's region, account and partition.
CREATE OR REPLACE MACRO ct_fill(service, tokens, vals, region, account) AS CASE
    WHEN starts_with(vals[-1], 'arn:')
        THEN CASE WHEN service IS NULL OR split_part(vals[-1], ':', 3) = service THEN vals[-1] END
    ELSE list_reduce(list_transform(tokens, lambda k: CASE k.ref
             WHEN 0 THEN k.lit WHEN -1 THEN region WHEN -2 THEN account WHEN -3 THEN ct_partition(region)
             ELSE vals[k.ref] END), lambda a, b: a || b)
END;
