"""Where sovaudit and each check are documented: the links SARIF's helpUri and OCSF's src_url carry."""

INFORMATION_URI = "https://github.com/sovaudit/sovaudit"


def catalogue_anchor(check_id: str) -> str:
    """The check's anchor in the README's catalogue table (`checks list --format markdown` writes it)."""
    return f"check-{check_id.lower()}"


def help_uri(check_id: str) -> str:
    """The check's row in the README's catalogue."""
    return f"{INFORMATION_URI}/blob/main/README.md#{catalogue_anchor(check_id)}"
