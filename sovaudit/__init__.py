"""sovaudit: data-sovereignty audit and evidence tool."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sovaudit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+src"

from sovaudit.lake import Lake, open_lake  # noqa: E402

__all__ = ["Lake", "open_lake", "__version__"]
