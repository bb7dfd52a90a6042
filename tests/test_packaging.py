import subprocess
import sys
import zipfile

from conftest import REPO


def test_the_wheel_carries_queries_templates_and_data(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                   check=True, timeout=300)
    [wheel] = tmp_path.glob("sovaudit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("sovaudit/queries/normalize/cloudtrail.sql", "sovaudit/queries/normalize/commit.sql",
                     "sovaudit/queries/schema/cloudtrail.sql", "sovaudit/data/geography.json",
                     "sovaudit/init_template.toml", "sovaudit/cli.py"):
        assert required in names, required
    assert any(n.startswith("sovaudit/report_templates/") for n in names)
