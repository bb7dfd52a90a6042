"""The README's examples run: every `sovaudit` command line of its shell blocks that needs no network, every
transcript (`$ sovaudit …` and what it prints), the Python examples and every TOML snippet as a config.
Lines that need a cloud, a broker or a tool sovaudit does not ship are listed in NEEDS_NETWORK with the reason;
a listed line that is no longer in the README fails the test, so the list cannot go stale."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from sovaudit.config import parse_config

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, re.S)

# Each: a prefix of the README line, and why the test cannot run it here.
NEEDS_NETWORK = {
    "python3 -m venv .venv": "installs from PyPI (the fresh-clone check runs it)",
    "bash .ci/run": "the whole CI, which runs this test",
    "aws cloudtrail lookup-events": "the AWS CLI against AWS",
    "sovaudit pull cloudtrail --path lookup-eu-west-1.json": "reads the file the AWS CLI line writes",
    "elasticdump": "an Elasticsearch cluster",
    "sovaudit pull cloudtrail --path cloudtrail-hits.ndjson": "reads the file the elasticdump line writes",
    "sovaudit pull azure-activity": "the Azure Activity Log API",
    "SOVAUDIT_AZURE_LOGS=": "the Azure CLI and a storage account",
    "sovaudit pull kafka-audit --bootstrap": "a Kafka broker",
    "sovaudit pull kafka-inventory --bootstrap": "a Kafka broker",
    "sovaudit pull kafka-lineage --bootstrap": "a Kafka broker",
    "sovaudit verify --expect-head 6272cb": "an elided hash from an earlier report",
    "sovaudit ip-ranges update": "the providers' download sites",
    "pip install 'sovaudit[spark]'": "installs from PyPI (.ci/run installs the spark extra)",
    "aws s3 cp": "the AWS CLI against S3",
    "spark-submit --master yarn": "a YARN cluster (EMR)",
}


def _shell_lines() -> list[str]:
    lines: list[str] = []
    for lang, body in BLOCKS:
        if lang not in ("sh", "bash"):
            continue
        pending = ""
        for line in body.replace("\\\n", " ").splitlines():
            if not pending and (not line.strip() or line.startswith("#")):
                continue
            pending = f"{pending}\n{line}" if pending else line.strip()
            try:
                shlex.split(pending, comments=True)
            except ValueError:  # a quoted string goes on to the next line
                continue
            lines.append(pending)
            pending = ""
    return lines


def _transcripts() -> list[tuple[str, list[str]]]:
    out = []
    for lang, body in BLOCKS:
        lines = body.splitlines()
        if lang == "" and lines and lines[0].startswith("$ sovaudit "):
            out.append((lines[0][2:], lines[1:]))
    return out


def _needs_network(line: str) -> bool:
    return any(line.startswith(prefix) for prefix in NEEDS_NETWORK)


def test_every_network_exception_is_still_in_the_readme():
    lines = _shell_lines() + [command for command, _ in _transcripts()]
    stale = [prefix for prefix in NEEDS_NETWORK if not any(line.startswith(prefix) for line in lines)]
    assert not stale, f"NEEDS_NETWORK lists lines the README no longer has: {stale}"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A working directory as a reader has it after the README's first command: the demo's lake as
    ./sovaudit-lake (and sovaudit-demo/lake), the repository's fixtures, and `sovaudit` on PATH."""
    root = tmp_path_factory.mktemp("readme")
    bin_dir = root / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "sovaudit"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -P -m sovaudit.cli "$@"\n')
    wrapper.chmod(0o755)
    (root / "fixtures").symlink_to(REPO / "fixtures")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "COLUMNS": "200"}
    env.pop("SOVAUDIT_LAKE", None)
    demo = subprocess.run(["sovaudit", "scan", "--demo", "--out", "sovaudit-demo", "--lake", "sovaudit-lake"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert demo.returncode == 1, demo.stderr  # the demo's planted findings
    # A reader's `sovaudit scan --demo` leaves its lake in sovaudit-demo/lake, as some examples expect.
    (root / "sovaudit-demo" / "lake").symlink_to(root / "sovaudit-lake")
    return root, env


# A scan on Spark pulls the demo, starts a JVM and runs the checks and the report's queries there: ~8 min here.
SPARK_LINE_TIMEOUT = 1200


@pytest.mark.parametrize("line", [
    pytest.param(line, marks=pytest.mark.timeout(SPARK_LINE_TIMEOUT + 300)) if "--engine spark" in line else line
    for line in _shell_lines() if not _needs_network(line)])
def test_shell_example_runs(line, sandbox):
    root, env = sandbox
    timeout = SPARK_LINE_TIMEOUT if "--engine spark" in line else 600
    proc = subprocess.run(["bash", "-c", line], cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
    # 1: findings at or above --fail-on; 3: partial evidence (the fixtures hold records set aside on purpose)
    assert proc.returncode in (0, 1, 3), (line, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, (line, proc.stderr)


@pytest.mark.parametrize(("command", "shown"), [t for t in _transcripts() if not _needs_network(t[0])],
                         ids=lambda value: value if isinstance(value, str) else "")
def test_transcript_prints_what_the_readme_shows(command, shown, sandbox):
    root, env = sandbox
    proc = subprocess.run(["sovaudit", *shlex.split(command)[1:]], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for line in shown:
        cells = [c for c in re.split(r"\s{2,}|[│┃]", line.strip()) if c.strip() and "…" not in c]
        for cell in cells:
            assert cell.strip() in proc.stdout, (cell, proc.stdout)


def test_python_examples_run(sandbox):
    """The "From Python" examples, in order, as one script (the second uses the first's `lake`); the
    third needs AWS's public keys for CloudTrail digests, so it runs with the offline part only."""
    root, env = sandbox
    python = [body for lang, body in BLOCKS if lang == "python"]
    assert len(python) == 3
    exports = root / "exports"
    exports.mkdir(exist_ok=True)
    for sample in (REPO / "fixtures" / "aws" / "cloudtrail").glob("*.json.gz"):
        (exports / sample.name).write_bytes(sample.read_bytes())
    third = python[2].replace("cloudtrail=True, public_keys=CloudTrailPublicKeys.from_settings(profile=\"audit\")",
                              "cloudtrail=False")
    assert third != python[2]
    script = "\n".join([python[0], python[1], "print(result.counts)", third,
                        "print(report.ok, report.exit_code)"])
    proc = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "'read': 1817" in proc.stdout and "True 0" in proc.stdout


@pytest.mark.parametrize("snippet", [body for lang, body in BLOCKS if lang == "toml"])
def test_config_snippet_is_a_valid_config(snippet, monkeypatch):
    monkeypatch.setenv("KAFKA_AUDIT_KEY", "key")
    monkeypatch.setenv("KAFKA_AUDIT_SECRET", "secret")
    parse_config(snippet, "README.md")


def test_the_readme_counts_the_demo_sources_right():
    from sovaudit.demo.bundle import demo_logs_dir, demo_sources

    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}
    assert f"`scan --demo` pulls {words[len(demo_sources(demo_logs_dir()))]} sources" in README
