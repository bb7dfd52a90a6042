"""`[[sources]]` entries for Azure Monitor: the Activity Log API, diagnostic exports in a storage account, and
local exports."""

import re
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from sovaudit.sources.base import SourceConfig

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _url(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is not None and not re.match(rf"({'|'.join(schemes)})://[^/?#\s]+", value):
        raise ValueError(f"a URL starting with {' or '.join(s + '://' for s in schemes)}")
    return value


class _AzureSourceConfig(SourceConfig):
    # resourceId glob -> Azure location, for records that do not say where they ran (REST activity events,
    # Key Vault logs). Matched case-insensitively; the first match wins.
    locations: dict[str, str] = {}


class _AzureSignInConfig(_AzureSourceConfig):
    tenant_id: str | None = Field(default=None, min_length=1)
    client_id: str | None = None

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, v: str | None) -> str | None:
        if v is not None and not _GUID.fullmatch(v):
            raise ValueError("an application (client) id, a GUID such as 00000000-0000-0000-0000-000000000000")
        return v


class AzureActivitySourceConfig(_AzureSignInConfig):
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


class AzureStorageSourceConfig(_AzureSignInConfig):
    """`[[sources]]` type azure-storage: diagnostic-log exports in a storage account."""

    never_shown: ClassVar[frozenset[str]] = frozenset({"connection_string_env", "account_url"})

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


class AzureFilesSourceConfig(_AzureSourceConfig):
    """`[[sources]]` type azure: local exports, REST pages or JSON lines."""

    type: Literal["azure"]
    path: str = Field(min_length=1)


AzureSourceConfig = AzureActivitySourceConfig | AzureStorageSourceConfig | AzureFilesSourceConfig
