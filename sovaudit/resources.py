"""Locate the SQL and template files, whether installed from a wheel or run from a checkout."""

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


@cache
def resource_dir(name: str) -> Path:
    # A wheel carries queries/ and report_templates/ inside the package; a checkout has them at the top.
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"sovaudit resource directory {name!r} is missing from the installation")


def query_text(relative: str) -> str:
    return (resource_dir("queries") / relative).read_text(encoding="utf-8")
