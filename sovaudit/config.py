"""Load and validate `sovaudit.toml`: the policy (data classes, processing activities, thresholds …) and the
`[[sources]]`, whose models the source families provide. Every bad value becomes one line naming file, key, found
and expected."""

import os
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sovaudit.errors import ConfigError

if TYPE_CHECKING:
    from sovaudit.ip_ranges.files import IpRanges
from sovaudit.geography import normalise_jurisdiction
from sovaudit.sources import SOURCES
from sovaudit.sources.base import StrictModel

DEFAULT_CONFIG_NAME = "sovaudit.toml"
DEFAULT_LAKE = "./sovaudit-lake"


Jurisdiction = Annotated[str, AfterValidator(normalise_jurisdiction)]


class LakeSection(StrictModel):
    path: str | None = None


class OrganisationSection(StrictModel):
    controller: str | None = None
    # Art. 30(1)(a) asks for the controller's contact details; the report's title is the name alone.
    address: str | None = None
    dpo: str | None = None
    contact: str | None = None
    # How long the organisation must be able to show audit evidence; audit logs kept for less lose it.
    evidence_period_days: int | None = Field(default=None, gt=0)


class AllowedTransfer(StrictModel):
    to: Jurisdiction
    safeguard: str


class DataClass(StrictModel):
    name: str = Field(min_length=1)
    home: Jurisdiction
    tier: int = Field(ge=1, le=3)
    retention_days: int = Field(gt=0)
    resources: list[str] = []
    keys: list[str] = []
    topics: list[str] = []  # Kafka topic names (GLOB); a MirrorMaker 2 copy `<alias>.<topic>` is classed too
    allowed_transfers: list[AllowedTransfer] = []

    @model_validator(mode="after")
    def _patterns(self) -> "DataClass":
        if not self.resources and not self.topics:
            raise ValueError(f"data class {self.name!r}: list at least one pattern in resources or topics")
        return self


class Thresholds(StrictModel):
    egress_bytes_per_actor_day: int = Field(default=1_000_000_000, gt=0)
    anomaly_k: float = Field(default=3.0, gt=0)
    baseline_days: int = Field(default=30, gt=0)
    key_failure_burst: int = Field(default=10, gt=0)
    coverage_min_share: float = Field(default=0.75, gt=0, le=1)
    kafka_denied_burst: int = Field(default=20, gt=0)
    # How late a log may arrive: CloudTrail delivers within about 15 minutes, S3 server access logs and Azure
    # exports within an hour. Silence shorter than this at the end of what was collected is not judged.
    delivery_delay_hours: int = Field(default=2, ge=0)


class DeclaredTransfer(StrictModel):
    to: Jurisdiction
    recipient: str
    safeguard: str


class ProcessingActivity(StrictModel):
    name: str = Field(min_length=1)
    purpose: str
    data_subjects: list[str] = []
    data_categories: list[str] = []
    recipients: list[str] = []
    data_classes: list[str] = []
    transfers: list[DeclaredTransfer] = []
    retention: str | None = None
    security_measures: list[str] = []


class ChecksSection(StrictModel):
    paths: list[str] = []


class GeoSection(StrictModel):
    """The cloud providers' published address ranges: a directory `sovaudit ip-ranges update` fills, or
    files downloaded by hand; without either, the snapshot shipped with sovaudit. Relative paths are
    relative to the config file."""
    ip_ranges_dir: str | None = None
    aws_ip_ranges: str | None = None
    azure_service_tags: str | None = None
    gcp_ip_ranges: str | None = None
    # Where `ip-ranges update` downloads from instead of the providers' own addresses (a mirror or proxy).
    urls: dict[Literal["aws", "azure", "gcp"], str] = {}


SOURCE_TYPES = tuple(SOURCES)
# Every source family's config model, told apart by `type`.
AnySourceConfig = Annotated[Union[tuple(source.config for source in SOURCES.values())],  # noqa: UP007
                         Field(discriminator="type")]
# Values never echoed in an error message: a misplaced secret must not reach the terminal or CI logs.
_NEVER_SHOWN = frozenset().union(*(source.config.never_shown for source in SOURCES.values()))


class Config(StrictModel):
    lake: LakeSection = LakeSection()
    organisation: OrganisationSection = OrganisationSection()
    jurisdictions: dict[str, Jurisdiction] = {}
    resource_regions: dict[str, str] = {}
    data_classes: list[DataClass] = []
    thresholds: Thresholds = Thresholds()
    processing_activities: list[ProcessingActivity] = []
    checks: ChecksSection = ChecksSection()
    geo: GeoSection = GeoSection()
    sources: list[AnySourceConfig] = []

    @field_validator("jurisdictions")
    @classmethod
    def _jurisdictions(cls, v: dict[str, str]) -> dict[str, str]:
        return {region.lower().replace(" ", ""): code for region, code in v.items()}

    @model_validator(mode="after")
    def _references(self) -> "Config":
        names = [dc.name for dc in self.data_classes]
        if len(set(names)) != len(names):
            raise ValueError(f"data_classes: names must be unique, found {names}")
        known = set(names)
        for i, activity in enumerate(self.processing_activities):
            for name in activity.data_classes:
                if name not in known:
                    raise ValueError(
                        f"processing_activities[{i}].data_classes: found {name!r}, "
                        f"expected the name of a [[data_classes]] entry ({', '.join(sorted(known)) or 'none defined'})"
                    )
        source_names = [s.name for s in self.sources]
        if len(set(source_names)) != len(source_names):
            raise ValueError(f"sources: names must be unique, found {source_names}")
        return self


class LoadedConfig(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)
    config: Config
    path: Path | None


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in SOURCE_TYPES and out.startswith("sources"):
            continue  # the discriminator tag adds no information to the key path
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    found = error.get("input")
    msg = error["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return f"unknown key (found {found!r}); check the spelling against `sovaudit init`"
    if kind == "missing":
        return "missing, expected a value"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"found {error.get('ctx', {}).get('tag', found)!r}, expected one of: {', '.join(SOURCE_TYPES)}"
    if error["loc"] and error["loc"][-1] in _NEVER_SHOWN:
        shown = "a value (not shown: it may hold a secret)"
    elif isinstance(found, dict):
        shown = "keys " + ", ".join(found) if found else "an empty table"
    else:
        shown = repr(found)
    return f"found {shown}, expected {msg[0].lower() + msg[1:]}" if msg else f"found {shown}"


def _format_errors(path: Path | str, exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc += ("type",)
        lines.append(f"{path}: {_location(loc)}: {_describe(error)}")
    return "\n".join(lines)


def parse_config(text: str, path: Path | str = DEFAULT_CONFIG_NAME) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc)) from None


def load_config(explicit: str | Path | None = None) -> LoadedConfig:
    """`--config PATH` if given, else ./sovaudit.toml when present, else built-in defaults."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
    else:
        path = Path(DEFAULT_CONFIG_NAME)
        if not path.is_file():
            return LoadedConfig(config=Config(), path=None)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    return LoadedConfig(config=parse_config(text, path), path=path)


def resolve_lake_path(cli_lake: str | None, loaded: LoadedConfig) -> Path:
    """--lake, then $SOVAUDIT_LAKE, then [lake] path (relative to the config file), then ./sovaudit-lake."""
    if cli_lake:
        return Path(cli_lake)
    env = os.environ.get("SOVAUDIT_LAKE")
    if env:
        return Path(env)
    if loaded.config.lake.path:
        configured = Path(loaded.config.lake.path).expanduser()
        if not configured.is_absolute() and loaded.path is not None:
            configured = loaded.path.parent / configured
        return configured
    return Path(DEFAULT_LAKE)


def ip_ranges_of(loaded: LoadedConfig) -> "IpRanges":
    """The address ranges the config names ([geo]), else the snapshot shipped with sovaudit."""
    from sovaudit.ip_ranges.files import load_ip_ranges

    return load_ip_ranges(loaded.config.geo, loaded.path.parent if loaded.path else None)
