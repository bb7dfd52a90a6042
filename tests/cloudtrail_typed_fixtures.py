"""CloudTrail records whose requests and responses carry what the typed columns hold (lifecycle_rules,
replication_destinations, grantee_principal, pending_window_in_days, trail_name, trail_arn, trail_settings,
event_selectors, advanced_event_selectors, insight_types), each with the values normalize must give it, and records
of the wrong shape that must read as NULL without setting the record aside. Request shapes follow the AWS CLI and API
references (put-bucket-lifecycle-configuration, put-bucket-replication, create-grant, schedule-key-deletion,
create-trail, put-event-selectors, put-insight-selectors) as CloudTrail logs them (camelCase members, S3's
PascalCase configuration documents); PascalCase trail members are how the API and SDKs spell them."""

from conftest import ct_event

TRAIL = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-trail"
KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
NO_FIELD_SELECTOR = {"field": None, "equals": None, "starts_with": None, "ends_with": None, "not_equals": None,
                     "not_starts_with": None, "not_ends_with": None}


def _trail(uid: str, name: str, request: dict | None, response: dict | None = None) -> dict:
    return ct_event(uid, eventSource="cloudtrail.amazonaws.com", eventName=name, requestParameters=request,
                    responseElements=response, eventCategory="Management", additionalEventData=None)


def typed_cases() -> list[tuple[dict, dict]]:
    """(record, the typed columns it must give: the others NULL)."""
    settings = {"multi_region": None, "global_service_events": None, "log_file_validation": None,
                "log_file_validation_requested": None, "kms_key_id": None, "s3_bucket_name": None,
                "s3_key_prefix": None}
    return [
        (ct_event("lifecycle-list", eventName="PutBucketLifecycleConfiguration", requestParameters={
            "bucketName": "pii-eu", "LifecycleConfiguration": {"Rule": [
                {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 400}},
                {"ID": "dated", "Status": "Disabled", "Expiration": {"Date": "2025-01-01T00:00:00.000Z"}},
                {"ID": "<b>odd</b>", "Expiration": {"Days": "thirty"}}]}}),
         {"lifecycle_rules": [
             {"id": "expire", "status": "Enabled", "expiration_days": 400, "expiration_date": None},
             {"id": "dated", "status": "Disabled", "expiration_days": None,
              "expiration_date": "2025-01-01T00:00:00.000Z"},
             {"id": "<b>odd</b>", "status": None, "expiration_days": None, "expiration_date": None}]}),
        (ct_event("lifecycle-one", eventName="PutBucketLifecycle", requestParameters={
            "bucketName": "pii-eu", "LifecycleConfiguration": {"Rule": {
                "ID": "one", "Status": "Enabled", "Expiration": {"Days": 30}}}}),
         {"lifecycle_rules": [{"id": "one", "status": "Enabled", "expiration_days": 30, "expiration_date": None}]}),
        (ct_event("lifecycle-none", eventName="PutBucketLifecycle", requestParameters={"bucketName": "pii-eu"}),
         {"lifecycle_rules": []}),
        (ct_event("replication-list", eventName="PutBucketReplication", requestParameters={
            "bucketName": "pii-eu", "ReplicationConfiguration": {"Role": "arn:aws:iam::111122223333:role/r", "Rule": [
                {"Destination": {"Bucket": "arn:aws:s3:::copy-us"}}, {"Status": "Enabled"},
                {"Destination": {"Bucket": "arn:aws:s3:::copy-eu"}}]}}),
         {"replication_destinations": ["arn:aws:s3:::copy-us", "arn:aws:s3:::copy-eu"]}),
        (ct_event("replication-one", eventName="PutBucketReplication", requestParameters={
            "bucketName": "pii-eu", "ReplicationConfiguration": {"Rule": {
                "Destination": {"Bucket": "arn:aws:s3:::copy-us"}}}}),
         {"replication_destinations": ["arn:aws:s3:::copy-us"]}),
        (ct_event("grant", eventSource="kms.amazonaws.com", eventName="CreateGrant", requestParameters={
            "keyId": KEY, "granteePrincipal": "arn:aws:iam::444455556666:root", "operations": ["Decrypt"]}),
         {"grantee_principal": "arn:aws:iam::444455556666:root"}),
        (ct_event("deletion", eventSource="kms.amazonaws.com", eventName="ScheduleKeyDeletion",
                  requestParameters={"keyId": KEY, "pendingWindowInDays": 7}),
         {"pending_window_in_days": 7}),
        (ct_event("deletion-odd", eventSource="kms.amazonaws.com", eventName="ScheduleKeyDeletion",
                  requestParameters={"keyId": KEY, "pendingWindowInDays": "a week"}),
         {}),
        (_trail("create", "CreateTrail", {
            "name": "org-trail", "s3BucketName": "org-trail-logs", "s3KeyPrefix": "audit", "isMultiRegionTrail": True,
            "includeGlobalServiceEvents": True, "enableLogFileValidation": True, "kmsKeyId": KEY},
            {"trailARN": TRAIL, "name": "org-trail", "logFileValidationEnabled": True}),
         {"trail_name": "org-trail", "trail_arn": TRAIL, "trail_settings": {
             "multi_region": True, "global_service_events": True, "log_file_validation": True,
             "log_file_validation_requested": True, "kms_key_id": KEY, "s3_bucket_name": "org-trail-logs",
             "s3_key_prefix": "audit"}}),
        (_trail("update-pascal", "UpdateTrail", {"Name": TRAIL, "IsMultiRegionTrail": "false"},
                {"LogFileValidationEnabled": False, "S3BucketName": "elsewhere"}),
         {"trail_name": TRAIL, "trail_settings": {**settings, "multi_region": False, "log_file_validation": False,
                                                  "s3_bucket_name": "elsewhere"}}),
        (_trail("stop", "StopLogging", {"name": TRAIL}), {"trail_name": TRAIL, "trail_settings": settings}),
        (_trail("selectors", "PutEventSelectors", {"trailName": TRAIL, "eventSelectors": [
            {"readWriteType": "ReadOnly", "includeManagementEvents": True,
             "excludeManagementEventSources": ["kms.amazonaws.com"],
             "dataResources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::pii-eu/"]}]},
            {"ReadWriteType": "All", "IncludeManagementEvents": "FALSE", "DataResources": [{"Type": "AWS::Lambda::Function"}]}]}),
         {"trail_name": TRAIL, "trail_settings": settings, "event_selectors": [
             {"read_write_type": "ReadOnly", "include_management_events": True,
              "exclude_management_event_sources": ["kms.amazonaws.com"],
              "data_resources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::pii-eu/"]}]},
             {"read_write_type": "All", "include_management_events": False, "exclude_management_event_sources": None,
              "data_resources": [{"type": "AWS::Lambda::Function", "values": None}]}],
          "advanced_event_selectors": None}),
        (_trail("advanced", "PutEventSelectors", {"trailName": "org-trail"},
                {"trailARN": TRAIL, "advancedEventSelectors": [
                    {"name": "S3 writes to pii-eu", "fieldSelectors": [
                        {"field": "eventCategory", "equals": ["Data"]},
                        {"field": "resources.type", "equals": ["AWS::S3::Object"]},
                        {"field": "resources.ARN", "startsWith": ["arn:aws:s3:::pii-eu/"]},
                        {"field": "readOnly", "equals": ["false"]},
                        {"Field": "eventName", "NotStartsWith": ["Get"], "EndsWith": ["Object"],
                         "NotEquals": ["DeleteObject"], "NotEndsWith": ["Tagging"]}]},
                    {"name": "no fields"}]}),
         {"trail_name": "org-trail", "trail_arn": TRAIL, "trail_settings": settings, "event_selectors": None,
          "advanced_event_selectors": [
              {"name": "S3 writes to pii-eu", "field_selectors": [
                  {**NO_FIELD_SELECTOR, "field": "eventCategory", "equals": ["Data"]},
                  {**NO_FIELD_SELECTOR, "field": "resources.type", "equals": ["AWS::S3::Object"]},
                  {**NO_FIELD_SELECTOR, "field": "resources.ARN", "starts_with": ["arn:aws:s3:::pii-eu/"]},
                  {**NO_FIELD_SELECTOR, "field": "readOnly", "equals": ["false"]},
                  {**NO_FIELD_SELECTOR, "field": "eventName", "not_starts_with": ["Get"], "ends_with": ["Object"],
                   "not_equals": ["DeleteObject"], "not_ends_with": ["Tagging"]}]},
              {"name": "no fields", "field_selectors": None}]}),
        (_trail("insights", "PutInsightSelectors", {"trailName": TRAIL, "insightSelectors": [
            {"insightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}]}),
         {"trail_name": TRAIL, "trail_settings": settings,
          "insight_types": ["ApiCallRateInsight", "ApiErrorRateInsight"]}),
        # The wrong shapes: a scalar where a list or an object belongs. Nothing is read, nothing raises.
        (ct_event("lifecycle-scalar", eventName="PutBucketLifecycle", requestParameters={
            "bucketName": "pii-eu", "LifecycleConfiguration": {"Rule": "expire everything"}}),
         {"lifecycle_rules": []}),
        (ct_event("replication-scalar", eventName="PutBucketReplication", requestParameters={
            "bucketName": "pii-eu", "ReplicationConfiguration": {"Rule": [7, {"Destination": "copy-us"}]}}),
         {"replication_destinations": []}),
        (_trail("selectors-scalar", "PutEventSelectors", {"trailName": TRAIL, "eventSelectors": {"readWriteType": "All"},
                                                          "advancedEventSelectors": [{"fieldSelectors": "all",
                                                                                      "name": 5}]}),
         {"trail_name": TRAIL, "trail_settings": settings, "event_selectors": None,
          "advanced_event_selectors": [{"name": "5", "field_selectors": None}]}),
        (_trail("selector-values-scalar", "PutEventSelectors", {"trailName": TRAIL, "eventSelectors": [
            {"excludeManagementEventSources": "kms.amazonaws.com", "dataResources": [
                {"type": "AWS::S3::Object", "values": "arn:aws:s3:::pii-eu/"}]}]}),
         {"trail_name": TRAIL, "trail_settings": settings, "event_selectors": [
             {"read_write_type": None, "include_management_events": None, "exclude_management_event_sources": None,
              "data_resources": [{"type": "AWS::S3::Object", "values": None}]}],
          "advanced_event_selectors": None}),
        (_trail("insights-scalar", "PutInsightSelectors", {"trailName": TRAIL, "insightSelectors": "ApiCallRateInsight"}),
         {"trail_name": TRAIL, "trail_settings": settings}),
        # Another event carrying the same members: the columns are the named events' only.
        (ct_event("get", requestParameters={"bucketName": "pii-eu", "LifecycleConfiguration": {"Rule": []},
                                            "granteePrincipal": "x", "trailName": "t"}), {}),
    ]
