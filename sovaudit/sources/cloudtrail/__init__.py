"""AWS CloudTrail: trail files on disk, an S3 trail bucket, or the LookupEvents API, into the cloudtrail table."""

from sovaudit.sources.cloudtrail.source import CloudTrailSource

SOURCES = (CloudTrailSource(),)
