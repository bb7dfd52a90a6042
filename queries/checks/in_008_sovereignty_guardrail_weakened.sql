-- id: IN-008
-- title: A sovereignty guardrail weakened
-- family: integrity
-- severity: high
-- gdpr: Art. 32; Art. 44; Art. 5(2)
-- requires: any of cloudtrail, azure_activity
-- description: A guardrail that keeps data and workloads in their regions was removed or loosened: an AWS
--   Organizations service control policy detached from a root, OU or account, deleted or rewritten
--   (DetachPolicy, DeletePolicy, UpdatePolicy), service control policies disabled on a root
--   (DisablePolicyType), an Azure Policy assignment deleted, or an exemption from one written
--   (policyAssignments/delete, policyExemptions/write). The reason names the policy and its target, and says when
--   it is a region guardrail (an SCP with an aws:RequestedRegion condition, an Azure Allowed locations
--   assignment). Organizations calls are logged by the management account in us-east-1; a policy whose type the
--   lake shows to be other than a service control policy (a tag or backup policy) is not reported, and
--   detaching p-FullAWSAccess, which tightens, is not either.
-- reason: {guardrail_kind}{policy} {what}{on_target} by {changed_by} from {changed_from}
-- remediation: Re-attach or restore the policy (or delete the exemption), find out who changed it and why, and
--   keep policy changes to a change-controlled pipeline; deny organizations:DetachPolicy, DeletePolicy,
--   UpdatePolicy and Microsoft.Authorization/policyAssignments/delete to everyone else.
SELECT
    coalesce(g.target, g.policy) AS resource,
    checks.principal(g.actor) AS actor,
    g.region,
    any_value(r.jurisdiction) AS region_jurisdiction,
    CAST(NULL AS VARCHAR) AS counterpart_jurisdiction,
    min(g.time) AS first_seen,
    max(g.time) AS last_seen,
    sum(array_length(g.evidence)) AS event_count,
    flatten(list(g.evidence ORDER BY g.time, g.evidence)) AS evidence,
    g.policy,
    g.allowed_locations,
    CASE WHEN g.allowed_locations THEN 'region guardrail ' ELSE '' END AS guardrail_kind,
    g.what,
    coalesce(' ' || g.target, '') AS on_target,
    coalesce(checks.principal(g.actor), 'an unknown caller') AS changed_by,
    coalesce(min(g.src_ip), 'an AWS or Azure service') AS changed_from
FROM checks.guardrail_changes AS g
LEFT JOIN policy_regions AS r ON r.region = checks.region_key(g.region)
GROUP BY g.target, g.policy, g.what, checks.principal(g.actor), g.region, g.allowed_locations
