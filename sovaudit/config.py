"""Load and validate `sovaudit.toml`: the policy (data classes, processing activities, thresholds …) and the
`[[sources]]`, whose models the source families provide. Every bad value becomes one line naming file, key, found
and expected."""

import os
import tomllib
from datetime import date
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

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
AwsAccountId = Annotated[str, Field(pattern=r"^[0-9]{12}$")]


class LakeSection(StrictModel):
    path: str | None = None
    compact: bool = False  # pulls compact the days they wrote to (sovaudit.compaction)


class OrganisationSection(StrictModel):
    controller: str | None = None
    # Art. 30(1)(a) asks for the controller's contact details; the report's title is the name alone.
    address: str | None = None
    dpo: str | None = None
    contact: str | None = None
    # How long the organisation must be able to show audit evidence; audit logs kept for less lose it.
    evidence_period_days: int | None = Field(default=None, gt=0)
    # The organisation's AWS accounts: a snapshot shared with any other account leaves it (EG-007). Without the
    # list, the accounts the lake's trails deliver for stand in.
    accounts: list[AwsAccountId] = []


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


class Account(StrictModel):
    """An AWS account or Azure subscription and where its data stores belong (XR-007): the jurisdiction, and the
    regions it may use, if only some of the jurisdiction's."""
    id: str = Field(min_length=1)  # an AWS account id or an Azure subscription id
    jurisdiction: Jurisdiction
    allowed_regions: list[str] = []

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return v.strip().lower()  # the lake keeps Azure subscription ids in lower case

    @field_validator("allowed_regions")
    @classmethod
    def _regions(cls, v: list[str]) -> list[str]:
        return [region.lower().replace(" ", "") for region in v]


class ChecksSection(StrictModel):
    paths: list[str] = []


class Suppression(StrictModel):
    """An accepted finding (Prowler's mutelist, with the justification an auditor needs on paper): findings of
    `check` whose resource and actor match the GLOBs are ACCEPTED instead of FAIL, shown apart, never hidden.
    `expires` is required: an acceptance without an end is a finding muted for good. It holds through that day
    (UTC); from the next day it matches nothing and the output says so."""
    check: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]*-[0-9]{3}$")
    resource: str = Field(default="*", min_length=1)
    actor: str = Field(default="*", min_length=1)
    reason: str = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    expires: date

    @field_validator("check")
    @classmethod
    def _upper(cls, v: str) -> str:
        return v.upper()


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
    accounts: list[Account] = []
    thresholds: Thresholds = Thresholds()
    processing_activities: list[ProcessingActivity] = []
    checks: ChecksSection = ChecksSection()
    geo: GeoSection = GeoSection()
    suppressions: list[Suppression] = []
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
        account_ids = [a.id for a in self.accounts]
        if len(set(account_ids)) != len(account_ids):
            raise ValueError(f"accounts: ids must be unique, found {account_ids}")
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


def _model_of(annotation: Any, value: Any) -> type[BaseModel] | None:
    """The model that validates `value` as `annotation` (through Optional and Annotated; for the sources'
    union, the model whose `type` the value names); None for a list, a dict or a scalar."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (list, dict):
        return None
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is Annotated:
        return _model_of(args[0], value)
    models = [m for m in (_model_of(a, value) for a in args) if m is not None]
    if len(models) > 1 and isinstance(value, dict):
        models = [m for m in models if _type_tag(m) == (value.get("type"),)]
    return models[0] if len(models) == 1 else None


def _type_tag(model: type[BaseModel]) -> tuple[Any, ...]:
    """The values of a source model's `type: Literal[…]`."""
    field = model.model_fields.get("type")
    return get_args(field.annotation) if field else ()


def _item_of(annotation: Any) -> Any:
    """The element type of a list annotation (through Optional and Annotated)."""
    if get_origin(annotation) is list:
        return get_args(annotation)[0]
    for arg in get_args(annotation):
        if get_origin(arg) is list:
            return get_args(arg)[0]
    return None


def _keys_at(loc: tuple[Any, ...], raw: Any) -> list[str]:
    """The keys the config's models allow in the table at `loc` (as pydantic reports it), found by walking the
    models along the raw config."""
    annotation: Any = Config
    value = raw
    for part in loc:
        if isinstance(part, int):
            annotation = _item_of(annotation)
            value = value[part] if isinstance(value, list) and 0 <= part < len(value) else None
            continue
        model = _model_of(annotation, value)
        if model is None:
            return []
        if part not in model.model_fields:
            if part in SOURCE_TYPES:
                continue  # the discriminator tag pydantic puts in the location
            return []
        annotation = model.model_fields[part].annotation
        value = value.get(part) if isinstance(value, dict) else None
    model = _model_of(annotation, value)
    return list(model.model_fields) if model is not None else []


def _near_miss(error: dict[str, Any], raw: Any) -> str | None:
    """For an unknown key, the allowed key it was probably meant to be."""
    loc = tuple(error["loc"])
    if error["type"] != "extra_forbidden" or not loc:
        return None
    matches = get_close_matches(str(loc[-1]), _keys_at(loc[:-1], raw), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _unknown_key(error: dict[str, Any], raw: Any) -> str:
    # Never the value: a misspelt key may hold a secret (connection_sting = "…AccountKey=…").
    key = str(error["loc"][-1]) if error["loc"] else "?"
    near = _near_miss(error, raw)
    if near:
        return f"unknown key {key!r}; did you mean {near!r}?"
    allowed = _keys_at(tuple(error["loc"][:-1]), raw)
    if allowed and len(allowed) <= 12:
        return f"unknown key {key!r}; expected one of: {', '.join(allowed)}"
    return f"unknown key {key!r}; check the spelling against `sovaudit init`"


def _expected(msg: str) -> str:
    """A validator's message as the end of "expected …": lower-case first letter, unless it is an acronym (EU)."""
    return msg[0].lower() + msg[1:] if msg[:1].isupper() and not msg[1:2].isupper() else msg


def _describe(error: dict[str, Any], raw: Any = None) -> str:
    kind = error["type"]
    found = error.get("input")
    msg = error["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return _unknown_key(error, raw)
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
    return f"found {shown}, expected {_expected(msg)}" if msg else f"found {shown}"


def _format_errors(path: Path | str, exc: ValidationError, raw: Any = None) -> str:
    errors = exc.errors(include_url=False)
    # A required key reported missing beside an unknown key that is its misspelling: one line, the near miss.
    misspelt = {tuple(e["loc"][:-1]) + (near,) for e in errors if (near := _near_miss(e, raw))}
    lines = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "missing" and loc in misspelt:
            continue
        if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc += ("type",)
        lines.append(f"{path}: {_location(loc)}: {_describe(error, raw)}")
    return "\n".join(lines)


def parse_config(text: str, path: Path | str = DEFAULT_CONFIG_NAME) -> Config:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc, raw)) from None


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
