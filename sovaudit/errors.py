"""Exceptions that the CLI turns into one clear message and an exit code."""

from sovaudit.redact import redact


class SovauditError(Exception):
    """A failure the user can act on; `str()` is the one-line message, with any credential in it redacted."""

    exit_code = 2

    def __init__(self, *args: object):
        super().__init__(*(redact(arg) if isinstance(arg, str) else arg for arg in args))


class ConfigError(SovauditError):
    exit_code = 2


class UsageError(SovauditError):
    exit_code = 2


class LakeLockedError(SovauditError):
    exit_code = 2


class ReadOnlyViolation(SovauditError):
    exit_code = 2


class StorageError(SovauditError):
    """The lake or an output path cannot be written: no permission, a read-only file system, a full disk,
    a file where a directory should be. What was committed before stays as it was."""

    exit_code = 2


class SourceError(SovauditError):
    """A source could not be read completely: the evidence is partial."""

    exit_code = 3


class LedgerDamaged(SovauditError):
    """A complete ledger line is not an entry: the ledger was altered, so what the lake holds is unknown."""

    exit_code = 2
