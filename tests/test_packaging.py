import subprocess
import sys
import zipfile

from conftest import REPO


def test_the_wheel_carries_every_query_template_and_data_file(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                   check=True, timeout=300)
    [wheel] = tmp_path.glob("sovaudit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [f"sovaudit/{p.relative_to(REPO).as_posix()}" for folder in ("queries", "report_templates")
               for p in (REPO / folder).rglob("*") if p.is_file()]
    assert any(name.endswith("normalize/cloudtrail.sql") for name in shipped)
    demo = [f"sovaudit/{p.relative_to(REPO / 'sovaudit').as_posix()}"
            for p in (REPO / "sovaudit" / "demo" / "data").rglob("*.gz")]
    assert len(demo) > 10
    for required in [*shipped, *demo, "sovaudit/data/geography.json", "sovaudit/init_template.toml",
                     "sovaudit/cli.py", "sovaudit/report_templates/report.css",
                     "sovaudit/queries/normalize/cloudtrail.fields.toml"]:
        assert required in names, required
    # The native extractor, compiled by maturin from native/ (abi3: one build for every Python from 3.11).
    assert any(name.startswith("sovaudit/_native.") and name.endswith((".so", ".pyd")) for name in names), names
    assert not any(name.startswith(("queries/", "report_templates/", "native/")) for name in names)
