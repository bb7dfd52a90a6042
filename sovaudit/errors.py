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


class StorageError(SovauditError):
    """The lake or an output path cannot be written: no permission, a read-only file system, a full disk,
    a file where a directory should be. What was committed before stays as it was."""

    exit_code = 2


class SourceError(SovauditError):
    """A source could not be read completely: the evidence is partial."""

    exit_code = 3
