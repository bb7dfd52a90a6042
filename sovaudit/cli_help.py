"""`--help` as people read it: a placeholder per value (PATH, DATE, ID) instead of Python types, and
docstring paragraphs rewrapped to the terminal instead of broken where the source line ended."""

import inspect
from typing import Any

from typer.core import TyperArgument, TyperOption

# The placeholder each option shows; an option not listed shows its own name in capitals (--bucket BUCKET).
METAVARS = {
    "--lake": "PATH", "--config": "FILE", "--out": "PATH", "--path": "PATH", "--dir": "DIR",
    "--since": "DATE", "--until": "DATE",
    "--lock-timeout": "SECONDS", "--timeout": "SECONDS", "--max-rows": "N",
    "--format": "FORMAT", "--fail-on": "SEVERITY", "--check": "ID", "--source": "NAME",
    "--expect-head": "HASH", "--role-arn": "ARN", "--profile": "NAME",
    "--endpoint-url": "URL", "--endpoint": "URL", "--account-url": "URL",
    "--account": "ID", "--subscription": "ID", "--tenant-id": "TENANT", "--client-id": "ID",
    "--container": "NAME", "--connection-string-env": "VAR", "--header": "NAME",
    "--bootstrap": "HOST:PORT", "--mirror-alias": "ALIAS", "--table": "NAME", "--max-file-mb": "MB",
}


class _Argument(TyperArgument):
    """An argument shows its placeholder only: `QUERY`, not `QUERY <str>`."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def rewrap(text: str | None) -> str | None:
    """Each paragraph of a docstring as one line for the help to wrap; indented lines (examples) as written."""
    if not text:
        return text
    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        lines = paragraph.split("\n")
        indented = any(line.startswith(" ") for line in lines)
        paragraphs.append(paragraph if indented else " ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)


def _metavar(param: Any) -> str:
    if isinstance(param, TyperOption):
        if param.is_flag:
            return ""  # a flag takes no value
        name = max(param.opts, key=len)
        return METAVARS.get(name, name.lstrip("-").upper().replace("-", "_"))
    return (param.name or "value").upper()


def _quiet_help_option(command: Any) -> None:
    """--help is made when a context asks for it, not listed in `params`: it is a flag too."""
    made = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = made(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = get_help_option


def tidy(command: Any) -> Any:
    """Placeholders and rewrapped help for `command` and, recursively, the commands of a group (a group that
    loads its commands when asked tidies them then: see `tidy_loaded`)."""
    command.help = rewrap(command.help)
    for param in command.params:
        if param.metavar is None:
            param.metavar = _metavar(param)
        if isinstance(param, TyperArgument):
            param.__class__ = _Argument
    _quiet_help_option(command)
    if not getattr(command, "loads_lazily", False):
        for sub in getattr(command, "commands", {}).values():
            tidy(sub)
    return command
