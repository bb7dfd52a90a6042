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
EngineOpt = Annotated[str, typer.Option("--engine", help="Where the checks run: duckdb (embedded, the default) or "
                                        "spark (pip install 'sovaudit[spark]').")]
SparkMasterOpt = Annotated[str | None, typer.Option("--spark-master", help="With --engine spark: the master URL "
                                                    "(local[4], yarn, spark://HOST:7077 …); default the one "
                                                    "spark-submit or the cluster gives, else local[*].")]
SparkConfOpt = Annotated[list[str] | None, typer.Option("--spark-conf", help="With --engine spark: a Spark setting "
                                                        "KEY=VALUE (repeatable), e.g. spark.driver.memory=8g.")]
SparkLakeUriOpt = Annotated[str | None, typer.Option("--lake-uri", help="With --engine spark: where Spark reads the "
                                                     "lake's files (s3a://bucket/lake, abfss://…), the ledger's "
                                                     "paths taken under it; default the lake's directory.")]
