"""sovaudit: data-sovereignty audit and evidence tool."""

from typing import Any

__all__ = ["Lake", "open_lake", "__version__"]


def __getattr__(name: str) -> Any:
    # Resolved on first use, so that importing any sovaudit module (the CLI answering --help) does not load
    # DuckDB for the lake, nor importlib.metadata for the version.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("sovaudit")
        except PackageNotFoundError:  # running from a source tree that is not installed
            found = "0.0.0+src"
        globals()["__version__"] = found
        return found
    if name in ("Lake", "open_lake"):
        from sovaudit import lake

        return getattr(lake, name)
    raise AttributeError(f"module 'sovaudit' has no attribute {name!r}")
