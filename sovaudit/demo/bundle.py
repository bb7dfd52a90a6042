"""The bundled demo: Acme Retail's CloudTrail and Azure Monitor logs, shipped in the package, and their policy."""

from importlib.resources import files
from pathlib import Path

from sovaudit.config import AzureFilesSourceConfig, CloudTrailSourceConfig, LoadedConfig, parse_config
from sovaudit.demo.scenario import AZURE_LOCATIONS, POLICY
from sovaudit.lake import Lake


def demo_logs_dir() -> Path:
    """sovaudit/demo/data: written by `python -m sovaudit.demo.scenario sovaudit/demo/data` (a test checks
    that it still matches the generator): CloudTrail under AWSLogs/, Azure exports under azure/."""
    return Path(str(files("sovaudit") / "demo" / "data"))


def demo_sources(logs: Path) -> list[CloudTrailSourceConfig | AzureFilesSourceConfig]:
    """The demo's two sources: its trail, and its Azure exports with the locations of its resource groups."""
    return [CloudTrailSourceConfig(name="acme-demo-trail", type="cloudtrail", path=str(logs / "AWSLogs")),
            AzureFilesSourceConfig(name="acme-demo-azure", type="azure", path=str(logs / "azure"),
                                   locations=AZURE_LOCATIONS)]


def prepare_demo(out_dir: Path, lake_dir: Path | None = None) -> tuple[
        LoadedConfig, Lake, list[CloudTrailSourceConfig | AzureFilesSourceConfig]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    config_path = out_dir / "sovaudit.toml"
    config_path.write_text(POLICY, encoding="utf-8")
    loaded = LoadedConfig(config=parse_config(POLICY, config_path), path=config_path)
    return loaded, Lake(lake_dir or out_dir / "lake"), demo_sources(demo_logs_dir())
