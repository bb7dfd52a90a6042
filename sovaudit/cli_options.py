"""Command-line options shared by `sovaudit` verbs and by the `pull <type>` commands source families register."""

from typing import Annotated

import typer

LakeOpt = Annotated[str | None, typer.Option("--lake", help="Lake directory (else $SOVAUDIT_LAKE, \\[lake] path, "
                                             "./sovaudit-lake).")]
ConfigOpt = Annotated[str | None, typer.Option("--config", help="Config file (else ./sovaudit.toml when present).")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Start: ISO date/time or relative (7d, 24h).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="End: ISO date/time or relative (7d, 24h).")]
LockOpt = Annotated[float, typer.Option("--lock-timeout", help="Seconds to wait for another pull's lock.")]
FormatOpt = Annotated[str, typer.Option("--format", help="table or json.")]
