"""Exceptions that the CLI turns into one clear message and an exit code."""


class SovauditError(Exception):
    """A failure the user can act on; `str()` is the one-line message."""

    exit_code = 2


class ConfigError(SovauditError):
    exit_code = 2


class UsageError(SovauditError):
    exit_code = 2


class LakeLockedError(SovauditError):
    exit_code = 2


class ReadOnlyViolation(SovauditError):
    exit_code = 2


class SourceError(SovauditError):
    """A source could not be read completely: the evidence is partial."""

    exit_code = 3


class LedgerDamaged(SovauditError):
    """A complete ledger line is not an entry: the ledger was altered, so what the lake holds is unknown."""

    exit_code = 2
