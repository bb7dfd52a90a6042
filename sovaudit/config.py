"""Load and validate `sovaudit.toml`. Every bad value becomes one line naming file, key, found and expected."""

import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

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
from sovaudit.geography import normalise_jurisdiction
from sovaudit.sources.kafka_config import (
    KAFKA_SOURCE_TYPES,
    KafkaAuditSourceConfig,
    KafkaInventorySourceConfig,
    KafkaLineageSourceConfig,
)

DEFAULT_CONFIG_NAME = "sovaudit.toml"
DEFAULT_LAKE = "./sovaudit-lake"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Jurisdiction = Annotated[str, AfterValidator(normalise_jurisdiction)]


class LakeSection(_Strict):
    path: str | None = None


class OrganisationSection(_Strict):
    controller: str | None = None
    dpo: str | None = None
    contact: str | None = None
    # How long the organisation must be able to show audit evidence; audit logs kept for less lose it.
    evidence_period_days: int | None = Field(default=None, gt=0)


class AllowedTransfer(_Strict):
    to: Jurisdiction
    safeguard: str


class DataClass(_Strict):
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


class Thresholds(_Strict):
    egress_bytes_per_actor_day: int = Field(default=1_000_000_000, gt=0)
    anomaly_k: float = Field(default=3.0, gt=0)
    baseline_days: int = Field(default=30, gt=0)
    key_failure_burst: int = Field(default=10, gt=0)
    coverage_min_share: float = Field(default=0.75, gt=0, le=1)
    kafka_denied_burst: int = Field(default=20, gt=0)


class DeclaredTransfer(_Strict):
    to: Jurisdiction
    recipient: str
    safeguard: str


class ProcessingActivity(_Strict):
    name: str = Field(min_length=1)
    purpose: str
    data_subjects: list[str] = []
    data_categories: list[str] = []
    recipients: list[str] = []
    data_classes: list[str] = []
    transfers: list[DeclaredTransfer] = []
    retention: str | None = None
    security_measures: list[str] = []


class ChecksSection(_Strict):
    paths: list[str] = []


class CloudTrailSourceConfig(_Strict):
    """One `[[sources]]` entry of type cloudtrail; its keys mirror `sovaudit pull cloudtrail` flags."""

    name: str = Field(min_length=1)
    type: Literal["cloudtrail"]
    path: str | None = None
    bucket: str | None = None
    prefix: str | None = None
    accounts: list[str] = []
    regions: list[str] = []
    endpoint_url: str | None = None
    profile: str | None = None
    role_arn: str | None = None
    lookup: bool = False
    since: str | None = None
    until: str | None = None

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, v: list[str]) -> list[str]:
        for account in v:
            if not re.fullmatch(r"\d{12}", account):
                raise ValueError(f"an AWS account id is 12 digits, found {account!r}")
        return v

    @model_validator(mode="after")
    def _one_input(self) -> "CloudTrailSourceConfig":
        chosen = [k for k in ("path", "bucket") if getattr(self, k)] + (["lookup"] if self.lookup else [])
        if len(chosen) != 1:
            raise ValueError("set exactly one of path, bucket or lookup = true")
        if self.lookup and not self.regions:
            raise ValueError("lookup = true needs regions = [\"...\"] (the API regions to query)")
        return self


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _url(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is not None and not re.match(rf"({'|'.join(schemes)})://[^/?#\s]+", value):
        raise ValueError(f"a URL starting with {' or '.join(s + '://' for s in schemes)}")
    return value


class _AzureSource(_Strict):
    name: str = Field(min_length=1)
    # resourceId glob -> Azure location, for records that do not say where they ran (REST activity events,
    # Key Vault logs). Matched case-insensitively; the first match wins.
    locations: dict[str, str] = {}
    since: str | None = None
    until: str | None = None


class _AzureSignIn(_AzureSource):
    tenant_id: str | None = Field(default=None, min_length=1)
    client_id: str | None = None

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, v: str | None) -> str | None:
        if v is not None and not _GUID.fullmatch(v):
            raise ValueError("an application (client) id, a GUID such as 00000000-0000-0000-0000-000000000000")
        return v


class AzureActivitySourceConfig(_AzureSignIn):
    """`[[sources]]` type azure-activity: the Activity Log API; keys mirror `sovaudit pull azure-activity`."""

    type: Literal["azure-activity"]
    subscription: str
    endpoint: str | None = None  # Azure Resource Manager; another cloud's, e.g. https://management.usgovcloudapi.net

    @field_validator("subscription")
    @classmethod
    def _subscription(cls, v: str) -> str:
        if not _GUID.fullmatch(v):
            raise ValueError("an Azure subscription id, a GUID such as 00000000-0000-0000-0000-000000000000")
        return v.lower()

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str | None) -> str | None:
        return _url(v, ("https",))


class AzureStorageSourceConfig(_AzureSignIn):
    """`[[sources]]` type azure-storage: diagnostic-log exports in a storage account."""

    type: Literal["azure-storage"]
    account_url: str
    containers: list[str] = []  # default: the five insights-* export containers
    connection_string_env: str | None = None  # the NAME of the variable holding it, never the string

    @field_validator("account_url")
    @classmethod
    def _account_url(cls, v: str) -> str:
        return _url(v, ("https", "http"))

    @field_validator("connection_string_env")
    @classmethod
    def _env_name(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", v):
            raise ValueError("the name of an environment variable holding the connection string, "
                             "not the connection string itself")
        return v


class AzureFilesSourceConfig(_AzureSource):
    """`[[sources]]` type azure: local exports, REST pages or JSON lines."""

    type: Literal["azure"]
    path: str = Field(min_length=1)


SOURCE_TYPES = ("cloudtrail", "azure-activity", "azure-storage", "azure", *KAFKA_SOURCE_TYPES)
AnySourceConfig = (CloudTrailSourceConfig | AzureActivitySourceConfig | AzureStorageSourceConfig | AzureFilesSourceConfig
                   | KafkaAuditSourceConfig | KafkaInventorySourceConfig | KafkaLineageSourceConfig)
SourceConfig = Annotated[AnySourceConfig, Field(discriminator="type")]
# Values never echoed in an error message: a misplaced secret must not reach the terminal or CI logs.
_NEVER_SHOWN = {"connection_string_env", "account_url"}


class Config(_Strict):
    lake: LakeSection = LakeSection()
    organisation: OrganisationSection = OrganisationSection()
    jurisdictions: dict[str, Jurisdiction] = {}
    resource_regions: dict[str, str] = {}
    data_classes: list[DataClass] = []
    thresholds: Thresholds = Thresholds()
    processing_activities: list[ProcessingActivity] = []
    checks: ChecksSection = ChecksSection()
    sources: list[SourceConfig] = []

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
