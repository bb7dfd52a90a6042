"""What a source family provides, and the settings every `[[sources]]` entry shares.

A family (CloudTrail, Azure Monitor, Kafka, …) is a folder under `sovaudit/sources/` whose `SOURCES` lists one
`Source` per `[[sources]] type` it reads. `sovaudit.sources.SOURCES` joins them: the one list the config, the
pull and the command line read. docs/architecture.md ("Adding a source") walks through adding one.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sovaudit.errors import UsageError
from sovaudit.ingest.blobs import FailedInput, ListingDone, RawBlob
from sovaudit.ingest.prepared import BlobPreparer

if TYPE_CHECKING:
    import typer

    from sovaudit.lake import Lake

Items = Iterator[RawBlob | FailedInput | ListingDone]


class StrictModel(BaseModel):
    """Unknown keys are errors (a misspelt key must not be silently ignored); values never change after load."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(StrictModel):
    """The keys every `[[sources]]` entry has. A family's config adds `type: Literal["its-type"]` and its own keys,
    which mirror the flags of its `sovaudit pull <type>` command."""

    # Keys whose values a config error never echoes: a misplaced secret must not reach the terminal or CI logs.
    never_shown: ClassVar[frozenset[str]] = frozenset()

    name: str = Field(min_length=1)
    since: str | None = None
    until: str | None = None

    def ledger_record(self) -> dict[str, Any]:
        """What the ledger says about the source: its settings, never the pull's window (the entry has its own)
        and never a credential. Unset values are left out."""
        return {k: v for k, v in self.model_dump(exclude={"since", "until"}).items()
                if v is not None and v is not False and v != [] and v != {}}


@dataclass
class PullContext:
    """What a source's listing may use besides its own settings."""

    lake: "Lake"
    since: datetime | None
    until: datetime | None
    notes: list[str]  # said once, in the pull's summary
    warn: Callable[[str], None]  # said at once, above the progress bar

    def ledger_entries(self) -> list[dict[str, Any]]:
        """Earlier pulls: where an incremental source goes on from."""
        return self.lake.ledger.entries()


class PullCommand(Protocol):
    """Runs one command-line pull: the flags of `sovaudit pull <source_type>` become its config entry."""

    def __call__(self, source_type: str, flags: dict[str, Any], *, since: str | None, until: str | None,
                 lake: str | None, config: str | None, fmt: str, lock_timeout: float) -> None: ...


class Source(Protocol):
    """One `[[sources]] type`: the tables it writes, how it lists and fetches blobs, how a blob becomes records of
    those tables, what the ledger says about it, and its `sovaudit pull <type>` command."""

    type: str
    config: type[SourceConfig]
    tables: tuple[str, ...]

    def items(self, spec: Any, context: PullContext) -> Items:
        """The blobs to archive and normalize, as the source delivers them, in a stable order; FailedInput for an
        input that could not be read whole, ListingDone once the number of blobs is known."""

    def preparer(self, spec: Any) -> BlobPreparer:
        """Turns one of this source's blobs into records of its tables."""

    def ledger_record(self, spec: Any) -> dict[str, Any]:
        """The source's settings as the ledger keeps them: never a credential."""

    def config_from_flags(self, flags: dict[str, Any], configured: Iterable[Any] = ()) -> Any:
        """The config entry that `sovaudit pull <type>` flags describe (`configured`: the config's entries)."""

    def register_command(self, pull_app: "typer.Typer", pull: PullCommand) -> None:
        """Add `sovaudit pull <type>` to the command line."""

    def where(self, record: dict[str, Any]) -> str | None:
        """Where the source reads, for the report's scope, from its ledger record (a bucket, a path, …)."""


def flag_errors(source_type: str, exc: ValidationError, hint: str = "") -> UsageError:
    """One line for a command line whose flags do not make a valid config entry, naming each flag at fault."""
    problems = "; ".join(
        f"--{str(e['loc'][-1]).replace('_', '-')}: {e['msg'].removeprefix('Value error, ')}" if e["loc"]
        else e["msg"].removeprefix("Value error, ") for e in exc.errors())
    return UsageError(f"pull {source_type}: {problems}{hint}")


class BaseSource:
    """Defaults for a `Source`: the ledger record from the config entry, and flags read as the entry's keys."""

    type: ClassVar[str]
    config: ClassVar[type[SourceConfig]]
    tables: ClassVar[tuple[str, ...]]
    flag_hint: ClassVar[str] = ""  # appended to a flag error, e.g. which flags choose the input

    def ledger_record(self, spec: SourceConfig) -> dict[str, Any]:
        return spec.ledger_record()

    def where(self, record: dict[str, Any]) -> str | None:
        return record.get("path")

    def base_entry(self, flags: dict[str, Any], configured: Iterable[Any]) -> dict[str, Any]:
        """The settings the flags are laid over: by default none but the name and type."""
        return {"name": "cli", "type": self.type}

    def config_from_flags(self, flags: dict[str, Any], configured: Iterable[Any] = ()) -> SourceConfig:
        given = {k: v for k, v in flags.items() if v not in (None, [], {})}
        try:
            return self.config.model_validate({**self.base_entry(given, configured), **given})
        except ValidationError as exc:
            raise flag_errors(self.type, exc, self.flag_hint) from None
