"""The bundled demo: Acme Retail's CloudTrail logs, shipped in the package, and their policy."""

from importlib.resources import files
from pathlib import Path

from sovaudit.config import CloudTrailSourceConfig, LoadedConfig, parse_config
from sovaudit.demo.scenario import POLICY
from sovaudit.lake import Lake


def demo_logs_dir() -> Path:
    """sovaudit/demo/data: written by `python -m sovaudit.demo.scenario sovaudit/demo/data` (a test checks
    that it still matches the generator)."""
    return Path(str(files("sovaudit") / "demo" / "data"))


def prepare_demo(out_dir: Path, lake_dir: Path | None = None) -> tuple[LoadedConfig, Lake, list[CloudTrailSourceConfig]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    config_path = out_dir / "sovaudit.toml"
    config_path.write_text(POLICY, encoding="utf-8")
    loaded = LoadedConfig(config=parse_config(POLICY, config_path), path=config_path)
    spec = CloudTrailSourceConfig(name="acme-demo-trail", type="cloudtrail", path=str(demo_logs_dir()))
    return loaded, Lake(lake_dir or out_dir / "lake"), [spec]
