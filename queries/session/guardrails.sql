-- The `checks` schema: changes that weaken the guardrails meant to keep data in place (see common.sql for the
-- load order). IN-008 judges them.
--
-- checks.guardrail_changes: one row per successful change in the window:
--   AWS Organizations (management account, logged in us-east-1): DetachPolicy and DeletePolicy of a policy
--     (p-…; not p-FullAWSAccess, whose removal tightens), UpdatePolicy (its new content), DisablePolicyType of
--     SERVICE_CONTROL_POLICY on a root. A policy whose type the lake shows (CreatePolicy, UpdatePolicy,
--     DescribePolicy responses) is judged only when it is a service control policy; its name comes from the
--     same responses, a target OU's name from CreateOrganizationalUnit.
--   Azure Policy: Microsoft.Authorization/policyAssignments/delete and policyExemptions/write.
-- `allowed_locations` says whether the policy is a region guardrail: an SCP whose content (as last seen, or as
-- written) has an aws:RequestedRegion condition, or whose name says allowed regions; an Azure assignment or
-- exemption whose name, display name or definition is Allowed locations (built-in definitions
-- e56962a6-4747-49cd-b67b-bf8b01975c4c and e765b5de-1225-4ba3-bd56-1ac6695af988).
CREATE OR REPLACE VIEW checks.guardrail_changes AS
WITH org AS (
    SELECT event_uid, time, event_name, account, region, actor, src_ip, org_policy, org_unit, policy_id, policy_type,
           policy_content, policy_target_id
    FROM main.cloudtrail
    WHERE event_source = 'organizations.amazonaws.com' AND outcome = 'success'
      AND event_name IN ('CreatePolicy', 'UpdatePolicy', 'DescribePolicy', 'DetachPolicy', 'DeletePolicy',
                         'DisablePolicyType', 'CreateOrganizationalUnit')
),
-- What the lake knows of each policy, of all time: its type, name and content as last written or read.
policies AS (
    SELECT coalesce(org_policy.id, policy_id) AS policy_id,
           arg_max(org_policy.type, time) FILTER (WHERE org_policy.type IS NOT NULL) AS policy_type,
           arg_max(org_policy.name, time) FILTER (WHERE org_policy.name IS NOT NULL) AS policy_name,
           arg_max(coalesce(org_policy.content, policy_content), time)
               FILTER (WHERE coalesce(org_policy.content, policy_content) IS NOT NULL) AS content
    FROM org
    WHERE event_name IN ('CreatePolicy', 'UpdatePolicy', 'DescribePolicy')
    GROUP BY 1
),
units AS (
    SELECT org_unit.id AS unit_id, arg_max(org_unit.name, time) AS unit_name
    FROM org WHERE event_name = 'CreateOrganizationalUnit' GROUP BY 1
),
changed AS (
    SELECT o.*, o.policy_target_id AS target_id, o.policy_type AS disabled_type,
           -- the content before this call: the last one the lake saw before it
           (SELECT arg_max(coalesce(b.org_policy.content, b.policy_content), b.time)
            FROM org AS b
            WHERE b.time < o.time AND b.event_name IN ('CreatePolicy', 'UpdatePolicy', 'DescribePolicy')
              AND coalesce(b.org_policy.id, b.policy_id) = o.policy_id) AS content_before,
           o.policy_content AS content_after
    FROM org AS o
    WHERE o.time >= getvariable('window_since') AND o.time < getvariable('window_until')
      AND o.event_name IN ('DetachPolicy', 'DeletePolicy', 'UpdatePolicy', 'DisablePolicyType')
),
aws AS (
    SELECT [c.event_uid] AS evidence, c.time, c.event_name AS action, c.account, c.region, c.actor, c.src_ip,
           CASE WHEN c.event_name = 'DisablePolicyType' THEN 'service control policies'
                ELSE concat_ws(' ', 'SCP', c.policy_id, '(' || p.policy_name || ')') END AS policy,
           CASE WHEN c.target_id IS NULL THEN NULL
                WHEN starts_with(c.target_id, 'ou-') THEN concat_ws(' ', 'OU', c.target_id, '(' || u.unit_name || ')')
                WHEN starts_with(c.target_id, 'r-') THEN 'the organisation root ' || c.target_id
                ELSE 'account ' || c.target_id END AS target,
           CASE c.event_name
               WHEN 'DetachPolicy' THEN 'detached from'
               WHEN 'DeletePolicy' THEN 'deleted'
               WHEN 'DisablePolicyType' THEN 'disabled on'
               ELSE CASE WHEN contains(lower(c.content_before), 'aws:requestedregion')
                              AND NOT contains(lower(coalesce(c.content_after, '')), 'aws:requestedregion')
                         THEN 'rewritten without its aws:RequestedRegion condition'
                         ELSE 'rewritten' END END AS what,
           coalesce(contains(lower(coalesce(c.content_after, '') || coalesce(c.content_before, '')
                                   || coalesce(p.content, '')), 'aws:requestedregion'), false)
               OR regexp_matches(lower(coalesce(p.policy_name, '')), 'region|location') AS allowed_locations
    FROM changed AS c
    LEFT JOIN policies AS p ON p.policy_id = c.policy_id
    LEFT JOIN units AS u ON u.unit_id = c.target_id
    WHERE CASE WHEN c.event_name = 'DisablePolicyType' THEN c.disabled_type = 'SERVICE_CONTROL_POLICY'
               ELSE starts_with(c.policy_id, 'p-') AND c.policy_id <> 'p-FullAWSAccess'
                    AND coalesce(p.policy_type, 'SERVICE_CONTROL_POLICY') = 'SERVICE_CONTROL_POLICY' END
),
azure AS (
    SELECT az.evidence, az.first_seen AS time, az.action, split_part(az.resource, '/', 3) AS account, az.region,
           az.actor, az.src_ip,
           CASE WHEN az.op = 'microsoft.authorization/policyassignments/delete'
                THEN concat_ws(' ', 'policy assignment', regexp_extract(az.resource, '[^/]+$'),
                               '(' || az.policy_display_name || ')')
                ELSE concat_ws(' ', 'policy exemption', regexp_extract(az.resource, '[^/]+$'),
                               '(' || az.policy_exemption_category || ')') END
               AS policy,
           coalesce(nullif(split_part(az.resource, '/providers/microsoft.authorization/', 1), ''), '/') AS target,
           CASE WHEN az.op = 'microsoft.authorization/policyassignments/delete' THEN 'deleted at'
                ELSE 'exempting from ' || coalesce(lower(az.policy_assignment_id),
                                                   'an assignment the log does not name') || ' written at' END AS what,
           regexp_matches(lower(concat_ws(' ', az.resource, CAST(az.body AS VARCHAR))),
                          'allowed[-_ ]?locations|e56962a6-4747-49cd-b67b-bf8b01975c4c|e765b5de-1225-4ba3-bd56-1ac6695af988')
               AS allowed_locations
    FROM checks.azure_changes AS az
    WHERE az.op IN ('microsoft.authorization/policyassignments/delete', 'microsoft.authorization/policyexemptions/write')
      AND az.outcome = 'success'
)
SELECT * FROM aws
UNION ALL
SELECT * FROM azure;
