"""CloudTrail's `resource` for every data-holding service (the mapping table queries/normalize/cloudtrail_resources.csv)
and the `arns` column, on the published samples: the Stratus Red Team simulation in fixtures/aws/cloudtrail and
the examples of the AWS service guides in fixtures/aws/cloudtrail-docs."""

import pytest
from conftest import REPO, SAMPLES, assert_counts_add_up, ct_event, write_trail_file

from sovaudit import open_lake
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags
from sovaudit.sources.cloudtrail.resource_map import ResourceMapError, parse_map, resource_rules

DOCS = REPO / "fixtures" / "aws" / "cloudtrail-docs"
ACCOUNT = "123837392027"  # the simulation's account
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:stratus-red-team-retrieve-secret"


def pull(lake_dir, path):
    result = pull_source(Lake(lake_dir), config_from_flags("cloudtrail", path=str(path)))
    assert_counts_add_up(result)
    return result


@pytest.fixture(scope="module")
def sample_lake(tmp_path_factory):
    lake_dir = tmp_path_factory.mktemp("resources") / "lake"
    assert pull(lake_dir, SAMPLES).counts["stored"] == 1817
    return open_lake(lake_dir)


def rows(lake, sql, *params):
    cursor = lake.sql(sql, params=list(params)) if params else lake.sql(sql)
    return cursor.fetchall()


# -- the table itself -------------------------------------------------------------------------------------------

def test_the_shipped_table_loads_and_covers_every_data_holding_service():
    sources = {rule.event_source for rule in resource_rules()}
    assert sources >= {"secretsmanager.amazonaws.com", "ssm.amazonaws.com", "dynamodb.amazonaws.com",
                       "rds.amazonaws.com", "ec2.amazonaws.com", "ebs.amazonaws.com", "backup.amazonaws.com",
                       "cloudtrail.amazonaws.com", "lambda.amazonaws.com", "sqs.amazonaws.com", "sns.amazonaws.com",
                       "kinesis.amazonaws.com", "glue.amazonaws.com", "athena.amazonaws.com",
                       "elasticfilesystem.amazonaws.com", "redshift.amazonaws.com", "elasticache.amazonaws.com"}


@pytest.mark.parametrize(("row", "message"), [
    ("s.amazonaws.com,*,,arn:{partition}:s:{region}:{account}:x/{name|upper},n", "table.csv:2: unknown filter 'upper'"),
    ("s.amazonaws.com,*,,https://{name},n", "table.csv:2: the template must start with 'arn:'"),
    ("s.amazonaws.com,*,,arn:{partition}:s::{account}:x/{a b},n", "table.csv:2: placeholder {a b} is not a parameter path"),
    ("s.amazonaws.com,*,,arn:{partition}:{svc}:{region}:{account}:x/{name},n", "service '{svc}' must be written out"),
    ("s.amazonaws.com,*,alias/*,arn:{partition}:s:{region}:{account}:x/1,n", "value_glob needs a parameter"),
    ("s.amazonaws.com,,,arn:{partition}:s:{region}:{account}:x/{name},n", "event_name and arn_template are required"),
    ("s.amazonaws.com,*,arn:x,n", "expected 5 columns, found 4"),
])
def test_a_bad_row_is_refused_with_its_line(row, message):
    with pytest.raises(ResourceMapError) as raised:
        parse_map("event_source,event_name,value_glob,arn_template,notes\n" + row + "\n", "table.csv")
    assert message in str(raised.value) and str(raised.value).startswith("table.csv:")


# -- the simulation: real records of the services -----------------------------------------------------------------

# Every record of these event names names its resource; only calls throttled before they were logged
# (requestParameters null, ThrottlingException) name none.
MAPPED_NAMES = ["GetSecretValue", "DescribeSecret", "PutSecretValue", "DeleteSecret", "CreateSecret",
                "GetResourcePolicy", "StartSecretVersionDelete", "EndSecretVersionDelete",
                "CreateSnapshot", "ModifySnapshotAttribute", "DeleteSnapshot", "SharedSnapshotVolumeCreated",
                "ModifyImageAttribute", "DeregisterImage", "CreateVolume", "DeleteVolume",
                "CreateTrail", "DeleteTrail", "StartLogging", "StopLogging", "GetTrailStatus", "PutEventSelectors",
                "GetEventSelectors", "CreateDBInstance", "DeleteDBInstance", "ModifyDBSnapshotAttribute",
                "DeleteDBSnapshot", "GetParameter", "GetParameters", "PutParameter", "DeleteParameter",
                "CreateLogGroup", "ListTagsLogGroup"]


def test_every_record_of_a_mapped_event_name_gets_an_arn(sample_lake):
    named = rows(sample_lake, """
        SELECT event_name, count(*), count(*) FILTER (WHERE starts_with(resource, 'arn:'))
        FROM cloudtrail WHERE list_contains(?, event_name) OR event_source = 'lambda.amazonaws.com'
        GROUP BY 1""", MAPPED_NAMES)
    assert {name for name, _, _ in named} >= set(MAPPED_NAMES)
    unnamed = rows(sample_lake, """
        SELECT event_name, error_code, request_parameters IS NULL, count(*) FROM cloudtrail
        WHERE (list_contains(?, event_name) OR event_source = 'lambda.amazonaws.com') AND resource IS NULL
        GROUP BY ALL ORDER BY 1""", MAPPED_NAMES)
    assert unnamed == [("DeleteParameter", "ThrottlingException", True, 22),
                       ("PutParameter", "ThrottlingException", True, 25)]
    assert sum(total for _, total, _ in named) - sum(with_arn for _, _, with_arn in named) == 47


@pytest.mark.parametrize(("event_uid", "resource"), [
    # GetSecretValue and DescribeSecret name the secret by ARN: it is the resource as given.
    ("053143af-e3f4-4e9a-ab17-9d9339853be5", f"{SECRET}-0-xehWok"),
    # CreateSecret names it by name; the response has its ARN, with the random suffix.
    ("054b6bc9-3c74-4834-8855-cb98a3ba8df3", f"{SECRET}-15-wL771x"),
    # ModifySnapshotAttribute (a snapshot shared with another account); snapshot ARNs have no account.
    ("3ad01b1d-ebc1-4830-994b-9210534ab9f2", "arn:aws:ec2:us-east-1::snapshot/snap-083d3b857c13988bc"),
    # Another account made a volume from a shared snapshot: named in serviceEventDetails.
    ("895dc875-cb08-45a5-b8c2-9158838741c0", "arn:aws:ec2:us-east-1::snapshot/snap-0e83092ae538da583"),
    ("8d96ddae-ab7e-4230-9935-44dde036f058", "arn:aws:ec2:us-east-1::image/ami-0aa1d83d0b0985c86"),
    # CreateSnapshot: the volume snapshotted; CreateVolume without a snapshot: the new volume of the response.
    ("9eede385-5c6d-405e-9dda-fd10950e9069", f"arn:aws:ec2:us-east-1:{ACCOUNT}:volume/vol-0fc2e34e74650e145"),
    ("396f94bc-78ec-4b64-917d-aadc2260c81d", f"arn:aws:ec2:us-east-1:{ACCOUNT}:volume/vol-0a2e548958718390d"),
    # DeleteTrail and StopLogging name the trail (these failed: TrailNotFoundException; the name is still theirs).
    ("b7e19efd-92be-4182-bbbc-b6468296710b",
     f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/stratus-red-team-cloudtraild-trail-aueolsaccp"),
    ("9790ee84-ed2b-4866-83d1-f32af0dd4cd2",
     f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/stratus-red-team-ct-stop-trail-qzbgnfqisx"),
    ("076e96d5-2983-473f-920a-2fc2d7e02777",
     f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/stratus-red-team-ctes-trail-qyxyekjbtk"),
    # ModifyDBSnapshotAttribute: an RDS snapshot shared with another account.
    ("2d19ab1e-82e9-4302-ad10-a405b50c8d49", f"arn:aws:rds:us-east-1:{ACCOUNT}:snapshot:exfiltration"),
    # GetParameter: CloudTrail's own resources[] entry, the parameter without its leading slash.
    ("02ff71b9-bf4a-4e0d-9cce-7f12eb150495",
     f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/credentials/stratus-red-team/credentials-29"),
    # UpdateFunctionCode names the function by ARN.
    ("0ea8187c-26a8-425d-8daf-48479996e44d",
     f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:stratus-red-team-olc-func-xhfgzaowxc"),
])
def test_named_records_get_the_arn_of_what_they_touched(sample_lake, event_uid, resource):
    assert rows(sample_lake, "SELECT resource FROM cloudtrail WHERE event_uid = ?", event_uid) == [(resource,)]


def test_s3_and_kms_keep_their_own_resources(sample_lake):
    """Bucket and object ARNs from the S3 fields, the key ARN from resources[]: as before the table."""
    s3, kms = rows(sample_lake, """
        SELECT count(*) FILTER (WHERE event_source = 's3.amazonaws.com' AND NOT starts_with(resource, 'arn:aws:s3:::')),
               count(*) FILTER (WHERE event_source = 'kms.amazonaws.com' AND resource <> key_id)
        FROM cloudtrail""")[0]
    assert (s3, kms) == (0, 0)


def test_arns_holds_every_arn_a_record_mentions(sample_lake):
    [(arns,)] = rows(sample_lake, "SELECT arns FROM cloudtrail WHERE event_uid = ?", "0ea8187c-26a8-425d-8daf-48479996e44d")
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:stratus-red-team-olc-func-xhfgzaowxc"
    # The request's function, the response's qualified function ARN and the function's role.
    assert arns == sorted(arns) and len(set(arns)) == len(arns)
    assert {function, f"{function}:1", f"arn:aws:iam::{ACCOUNT}:role/stratus-red-team-olc-lambda-xhfgzaowxc"} <= set(arns)
    # GetParameters: one call, ten parameters, all in resources[]; the resource is the first.
    [(resource, many)] = rows(sample_lake, "SELECT resource, arns FROM cloudtrail WHERE event_name = 'GetParameters' "
                                           "ORDER BY event_uid LIMIT 1")
    assert len(many) == 10 and resource in many
    # A bucket policy: the ARNs inside the policy document, a JSON string in the request.
    [(policy,)] = rows(sample_lake, "SELECT arns FROM cloudtrail WHERE event_name = 'PutBucketPolicy' ORDER BY event_uid LIMIT 1")
    assert "arn:aws:s3:::stratus-red-team-ctes-bucket-qyxyekjbtk" in policy
    # Every entry is an ARN, and every resource that is an ARN is in its record's list.
    assert rows(sample_lake, """
        SELECT count(*) FILTER (WHERE len(list_filter(arns, lambda a: NOT starts_with(a, 'arn:aws'))) > 0),
               count(*) FILTER (WHERE starts_with(resource, 'arn:') AND NOT list_contains(arns, resource)),
               count(*) FILTER (WHERE arns IS NULL)
        FROM cloudtrail""") == [(0, 0, 0)]


def test_arns_finds_a_record_by_any_resource_it_touched(sample_lake):
    """The ten parameters of a GetParameters call: each finds it, though only the first is its resource."""
    arn = f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/credentials/stratus-red-team/credentials-9"
    found = rows(sample_lake, "SELECT event_name, resource = ? FROM cloudtrail WHERE list_contains(arns, ?) "
                              "ORDER BY event_name", arn, arn)
    assert ("GetParameters", False) in found


# -- the service guides' examples: DynamoDB, EFS, ElastiCache, Kinesis, Redshift, SQS, Glue, Athena, … -------------

DOC_RESOURCES = {
    # DynamoDB: resources[] of its own service first (the guide's example names another account there) …
    "dynamodb-PutItem.json": "arn:aws:dynamodb:us-west-2:123456789012:table/Music",
    "dynamodb-ExecuteStatement.json": "arn:aws:dynamodb:us-west-2:123456789012:table/Music",
    # … else tableName in the recipient account, or the table of the response when the request has none.
    "dynamodb-DeleteTable.json": "arn:aws:dynamodb:us-west-2:111122223333:table/Music",
    "dynamodb-UpdateTable.json": "arn:aws:dynamodb:us-west-2:111122223333:table/Music",
    "dax-CreateCluster.json": "arn:aws:dax:us-west-2:111122223333:cache/daxcluster",
    "elasticfilesystem-CreateTags.json": "arn:aws:elasticfilesystem:us-west-2:111122223333:file-system/fs-00112233",
    "elasticfilesystem-NewClientConnection.json":
        "arn:aws:elasticfilesystem:us-east-2:0123456789ab:file-system/fs-01234567",
    "elasticache-ModifyCacheCluster.json": "arn:aws:elasticache:us-west-2:123456789012:cluster:test-memcached",
    "elasticache-DescribeCacheClusters.json": None,
    "redshift-AuthorizeDataShare.json":
        "arn:aws:redshift:us-east-1:111122223333:datashare:4c64c6ec-73d5-42be-869b-b7f7c43c7a53/testshare",
    "redshift-data-ExecuteStatement.json": "arn:aws:redshift:us-east-1:123456789012:cluster:example-cluster-identifier",
    # SQS names a queue by URL: the queue is its last part.
    "sqs-SetQueueAttributes.json": "arn:aws:sqs:us-east-2:123456789012:MyQueue",
    "sqs-CreateQueue.json": "arn:aws:sqs:us-east-2:123456789012:MyQueue",
    "glue-DeleteCrawler.json": "arn:aws:glue:us-east-1:123456789012:crawler/tes-alpha",
    # A nested parameter: connectionInput.name.
    "glue-CreateConnection.json": "arn:aws:glue:us-east-1:123456789012:connection/test-connection-alpha",
    # A query that names no workgroup runs in the primary one.
    "athena-StartQueryExecution.json": "arn:aws:athena:us-east-1:123456789012:workgroup/primary",
    # A rotation names its secret in additionalEventData, in PascalCase (SecretId).
    "secretsmanager-RotationFailed.json": "arn:aws:secretsmanager:us-east-2:123456789012:secret:MyDatabaseSecret-a1b2c3",
    "kms-Decrypt.json": "arn:aws:kms:us-east-2:123456789012:key/f8f4f94f-e588-4254-b7e8-078b99270be7",
}


@pytest.fixture(scope="module")
def doc_rows(tmp_path_factory):
    """Each guide example in a lake of its own: the guides reuse event ids from one example to the next."""
    found = {}
    for path in sorted(DOCS.glob("*.json")):
        lake_dir = tmp_path_factory.mktemp("docs") / "lake"
        result = pull(lake_dir, path)
        assert result.counts["quarantined"] == 0, path.name
        found[path.name] = rows(open_lake(lake_dir), "SELECT action, resource, resource_region, arns FROM cloudtrail")
    return found


@pytest.mark.parametrize("name", sorted(DOC_RESOURCES))
def test_each_service_guide_example_gets_its_resource(doc_rows, name):
    [(_, resource, _, arns)] = doc_rows[name]
    assert resource == DOC_RESOURCES[name]
    assert resource is None or resource in arns


def test_the_kinesis_guide_names_its_stream_in_every_call_but_the_listing(doc_rows):
    assert sorted((a, r) for a, r, _, _ in doc_rows["kinesis-6-events.json"]) == [
        *[(a, "arn:aws:kinesis:us-east-1:012345678910:stream/GoodStream")
          for a in ("CreateStream", "DeleteStream", "DescribeStream")],
        ("ListStreams", None),
        *[(a, "arn:aws:kinesis:us-east-1:012345678910:stream/GoodStream") for a in ("MergeShards", "SplitShard")]]


def test_a_stream_iterator_is_not_an_arn(doc_rows):
    """GetRecords' shard iterator starts with the stream's ARN and carries opaque data after a `|`."""
    [(_, _, _, arns)] = doc_rows["dynamodb-GetRecords.json"]
    assert arns == ["arn:aws:dynamodb:us-west-2:123456789012:table/Music",
                    "arn:aws:dynamodb:us-west-2:123456789012:table/Music/stream/2021-04-15T04:02:47.428"]


# -- how names become ARNs ----------------------------------------------------------------------------------------

def _secret_read(event_id, region="us-east-1", **params):
    """GetSecretValue as the simulation logs it, with the request parameters given."""
    return ct_event(event_id, eventSource="secretsmanager.amazonaws.com", eventName="GetSecretValue",
                    awsRegion=region, requestParameters=params, additionalEventData=None, resources=None,
                    eventCategory="Management", recipientAccountId=ACCOUNT)


CASES = [
    # A name, in the API's PascalCase as some SDKs log it, and an ARN of the same secret.
    (_secret_read("name", SecretId="loyalty-db"), f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:loyalty-db"),
    (_secret_read("camel", secretId="loyalty-db"), f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:loyalty-db"),
    (_secret_read("arn", secretId=f"{SECRET}-0-xehWok"), f"{SECRET}-0-xehWok"),
    # China and GovCloud regions are partitions of their own.
    (_secret_read("cn", "cn-north-1", secretId="db"), f"arn:aws-cn:secretsmanager:cn-north-1:{ACCOUNT}:secret:db"),
    (_secret_read("gov", "us-gov-west-1", secretId="db"),
     f"arn:aws-us-gov:secretsmanager:us-gov-west-1:{ACCOUNT}:secret:db"),
    # A wildcard, an empty value, an object or an ARN of another service names no secret: no ARN is made up.
    (_secret_read("star", secretId="*"), None),
    (_secret_read("empty", secretId=" "), None),
    (_secret_read("object", secretId={"name": "db"}), None),
    (_secret_read("other", secretId="arn:aws:s3:::acme-loyalty-eu"), None),
    # KMS: a bare key id or an alias, when the record has no resources[] entry for the key.
    (ct_event("kms-id", eventSource="kms.amazonaws.com", eventName="DescribeKey", resources=None,
              requestParameters={"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab"}, recipientAccountId=ACCOUNT),
     f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    (ct_event("kms-alias", eventSource="kms.amazonaws.com", eventName="DescribeKey", resources=None,
              requestParameters={"keyId": "alias/loyalty"}, recipientAccountId=ACCOUNT),
     f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/loyalty"),
    # RDS identifiers are case-insensitive and stored in lower case.
    (ct_event("rds", eventSource="rds.amazonaws.com", eventName="ModifyDBClusterSnapshotAttribute",
              requestParameters={"dBClusterSnapshotIdentifier": "Loyalty-Nightly", "attributeName": "restore"},
              recipientAccountId=ACCOUNT),
     f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster-snapshot:loyalty-nightly"),
    # A cross-region snapshot copy is logged in the destination region; the snapshot copied is in its own.
    (ct_event("copy", eventSource="ec2.amazonaws.com", eventName="CopySnapshot", awsRegion="us-east-1",
              requestParameters={"sourceRegion": "eu-west-1", "sourceSnapshotId": "snap-0123456789abcdef0"}),
     "arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0"),
    (ct_event("backup", eventSource="backup.amazonaws.com", eventName="StartCopyJob", awsRegion="eu-west-1",
              requestParameters={"recoveryPointArn": "arn:aws:ec2:eu-west-1::snapshot/snap-0fedcba9876543210",
                                 "sourceBackupVaultName": "Default",
                                 "destinationBackupVaultArn": "arn:aws:backup:us-east-1:1:backup-vault:dr"}),
     "arn:aws:ec2:eu-west-1::snapshot/snap-0fedcba9876543210"),
]


@pytest.fixture(scope="module")
def case_rows(tmp_path_factory):
    root = tmp_path_factory.mktemp("cases")
    write_trail_file(root / "in" / "cases.json.gz", [record for record, _ in CASES])
    pull(root / "lake", root / "in")
    return {uid: (resource, region) for uid, resource, region in rows(
        open_lake(root / "lake"), "SELECT event_uid, resource, resource_region FROM cloudtrail")}


@pytest.mark.parametrize(("record", "resource"), CASES, ids=[record["eventID"] for record, _ in CASES])
def test_a_name_becomes_the_arn_of_its_service(case_rows, record, resource):
    assert case_rows[record["eventID"]][0] == resource


def test_the_resource_region_is_where_the_resource_is(case_rows):
    assert case_rows["copy"] == ("arn:aws:ec2:eu-west-1::snapshot/snap-0123456789abcdef0", "eu-west-1")


def test_odd_parameters_cost_nothing_but_their_resource(lake_dir, tmp_path):
    """Parameters of every JSON type, deep and wide: each record is stored, with no made-up ARN."""
    odd = [{"secretId": [1, 2]}, {"secretId": None}, {"secretId": 7}, {"SECRETID": "x", "secretId": "y"},
           {"a" * 300: "b"}, {"secret": {"secretId": "nested"}}, "not an object", [1], 5]
    records = [_secret_read(f"odd-{n}") | {"requestParameters": params} for n, params in enumerate(odd)]
    write_trail_file(tmp_path / "in" / "odd.json.gz", records)
    result = pull(lake_dir, tmp_path / "in")
    assert result.counts == {"read": 9, "stored": 9, "duplicate": 0, "quarantined": 0}
    found = dict(rows(open_lake(lake_dir), "SELECT event_uid, resource FROM cloudtrail"))
    assert found["odd-2"] == f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:7"
    assert found["odd-3"] in {f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:{v}" for v in "xy"}
    assert all(found[f"odd-{n}"] is None for n in (0, 1, 4, 5, 6, 7, 8)), found
