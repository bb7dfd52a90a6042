"""Chain of custody: is the lake's evidence what was collected, and are CloudTrail's logs what AWS delivered?

    from sovaudit.verify import verify
    report = verify(open_lake("sovaudit-lake"), cloudtrail=True,
                    public_keys=CloudTrailPublicKeys.from_settings(profile="audit"))
    report.ok, report.breaks
"""

from sovaudit.verify.cloudtrail.public_keys import CloudTrailPublicKeys
from sovaudit.verify.cloudtrail.validation import DigestValidation, Verdict, validate_cloudtrail
from sovaudit.verify.lake_integrity import LakeVerification, verify_lake
from sovaudit.verify.outcome import Break, CheckOutcome
from sovaudit.verify.run import VerifyReport, verify
from sovaudit.verify.summary import evidence_integrity

__all__ = ["Break", "CheckOutcome", "CloudTrailPublicKeys", "DigestValidation", "LakeVerification", "Verdict",
           "VerifyReport", "evidence_integrity", "validate_cloudtrail", "verify", "verify_lake"]
