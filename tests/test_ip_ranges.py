"""Where a caller really is: the cloud providers' published address ranges (the snapshot shipped in the
package is the providers' own files of 2025-07-24, see fixtures/ip-ranges/SOURCES.md), what ingest stores for
an address, `[geo]` in the config, and `sovaudit ip-ranges show` and `update`."""

import gzip
import hashlib
import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import SAMPLES, run_cli
from local_http import LocalServer

from sovaudit import open_lake
from sovaudit.config import GeoSection
from sovaudit.ip_ranges.files import load_ip_ranges, snapshot_dir
from sovaudit.lake import Lake
from sovaudit.pull import pull_source
from sovaudit.sources import config_from_flags

REPO = Path(__file__).resolve().parents[1]
AZURE_FIXTURES = REPO / "fixtures" / "azure"


@pytest.mark.parametrize(("address", "cloud", "region", "service"), [
    ("34.240.1.1", "aws", "eu-west-1", "EC2"),              # SOURCES.md: checked by hand
    ("52.239.246.0", "azure", "eastus", "AzureStorage"),    # SOURCES.md: tag Storage.EastUS
    ("2a05:d018::1", "aws", "eu-west-1", "EC2"),            # IPv6
    ("35.195.0.1", "gcp", "europe-west1", None),
    ("13.69.0.1", "azure", "westeurope", None),             # only AzureCloud.westeurope: no service
    ("3.225.16.109", "aws", "us-east-1", "EC2"),            # the Stratus Red Team sample's caller
    ("104.40.82.76", "azure", "westus", None),              # Microsoft's Key Vault documentation sample
])
def test_the_shipped_snapshot_places_published_addresses(address, cloud, region, service):
    place = load_ip_ranges().place(address)
    assert (place.cloud, place.region, place.service) == (cloud, region, service)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.0.1.1", "2001:4860:4860::8888", "not an address", ""])
def test_addresses_outside_every_cloud_range_have_no_place(address):
    assert load_ip_ranges().place(address) is None


def test_each_distinct_address_is_placed_once_per_pull():
    """CallerLocator keeps what it looked up: a pull's many events from few callers cost a few lookups. (The
    one stub here counts the calls; the lookups are the real ones.)"""
    from sovaudit.geoip import CallerLocator

    ranges = load_ip_ranges()
    calls = []
    place = ranges.place
    ranges.place = lambda address: calls.append(address) or place(address)
    locator = CallerLocator(ranges)
    first = locator.locate(["34.240.1.1", "12.0.0.77", "34.240.1.1", "10.0.0.1"])
    again = locator.locate(["12.0.0.77", "34.240.1.1", "35.195.0.1"])
    assert sorted(calls) == ["12.0.0.77", "34.240.1.1", "35.195.0.1"]  # private 10.0.0.1 is never looked up
    assert first[0] == first[2] == again[1] and first[0].cloud_region == "eu-west-1"
    assert first[3] == (None, None, None, None) and again[0].country == "US" and again[0].cloud is None


def _aws_file(path: Path, prefixes: list[dict], v6: list[dict] = ()) -> Path:
    path.write_bytes(gzip.compress(json.dumps({"syncToken": "1", "createDate": "2026-11-30-10-00-00",
                                               "prefixes": prefixes, "ipv6_prefixes": list(v6)}).encode()))
    return path


def test_the_most_specific_prefix_with_a_region_wins(tmp_path):
    """A /32 inside a /16, a global prefix inside a regional one, AMAZON beside EC2 for the same block
    (documentation and benchmarking blocks, which no provider publishes)."""
    aws = _aws_file(tmp_path / "aws.json.gz", [
        {"ip_prefix": "198.18.0.0/16", "region": "eu-west-1", "service": "AMAZON"},
        {"ip_prefix": "198.18.0.0/16", "region": "eu-west-1", "service": "EC2"},
        {"ip_prefix": "198.18.2.0/24", "region": "GLOBAL", "service": "CLOUDFRONT"},
        {"ip_prefix": "198.18.2.3/32", "region": "eu-central-1", "service": "AMAZON"},
        {"ip_prefix": "198.19.0.0/16", "region": "GLOBAL", "service": "AMAZON"},
    ], [{"ipv6_prefix": "2001:db8::/33", "region": "us-east-1", "service": "EC2"},
        {"ipv6_prefix": "2001:db8:4000::/36", "region": "us-east-1", "service": "S3"}])
    ranges = load_ip_ranges(GeoSection(aws_ip_ranges=str(aws)))
    place = {a: ranges.place(a) for a in ("198.18.9.9", "198.18.2.9", "198.18.2.3", "198.19.1.1", "2001:db8::1",
                                          "2001:db8:4000::1")}
    assert (place["198.18.9.9"].region, place["198.18.9.9"].service) == ("eu-west-1", "EC2")
    # The /24 names no region, so the /16 places it; its service is the /24's, the more specific.
    assert (place["198.18.2.9"].region, place["198.18.2.9"].service) == ("eu-west-1", "CLOUDFRONT")
    assert place["198.18.2.3"].region == "eu-central-1"
    assert (place["198.19.1.1"].cloud, place["198.19.1.1"].region, place["198.19.1.1"].service) == ("aws", None, None)
    assert (place["2001:db8::1"].region, place["2001:db8::1"].service) == ("us-east-1", "EC2")
    assert place["2001:db8:4000::1"].service == "S3"
    # The Azure and Google files are still the snapshot's.
    assert ranges.place("35.195.0.1").cloud == "gcp"
    assert ranges.about()["aws"]["published"] == "2026-11-30T10:00:00Z"


def _pulled_samples(lake_dir: Path):
    result = pull_source(Lake(lake_dir), config_from_flags("cloudtrail", path=str(SAMPLES)))
    return result, open_lake(lake_dir)


def test_ingest_stores_where_a_caller_is_on_a_third_party_sample(lake_dir):
    """Stratus Red Team's attack simulation (fixtures/aws/cloudtrail, MIT) called from EC2 in us-east-1, from
    private addresses and as AWS services."""
    result, lake = _pulled_samples(lake_dir)
    rows = dict((ip, rest) for ip, *rest in lake.sql(
        "SELECT src_ip, any_value(src_country), any_value(src_cloud), any_value(src_cloud_region), "
        "any_value(src_cloud_service), count(*) FROM cloudtrail GROUP BY src_ip").fetchall())
    assert rows["3.225.16.109"] == ["US", "aws", "us-east-1", "EC2", 9]
    assert rows["52.45.102.28"][:4] == ["US", "aws", "us-east-1", "EC2"]
    assert rows["192.168.10.20"][:4] == [None, None, None, None]
    assert rows[None][:4] == [None, None, None, None]  # AWS Internal, secretsmanager.amazonaws.com …
    ranges = result.entry["ip_ranges"]
    assert ranges["aws"]["published"] == "2025-07-24T20:23:14Z" and ranges["gcp"]["published"] == "2025-07-24T19:16:28Z"
    assert ranges["azure"]["edition"] == "363"
    for cloud, file in (("aws", "aws-ip-ranges.json.gz"), ("azure", "microsoft-azure-ip-ranges.json.gz"),
                        ("gcp", "google-cloud-ip-ranges.json.gz")):
        assert ranges[cloud]["sha256"] == hashlib.sha256((snapshot_dir() / file).read_bytes()).hexdigest()
        assert ranges[cloud]["file"] == "snapshot shipped with sovaudit"


def test_an_azure_caller_is_placed_in_its_region(lake_dir):
    """Microsoft's Key Vault AuditEvent documentation sample (fixtures/azure): callerIpAddress 104.40.82.76."""
    proc = run_cli("pull", "azure", "--path", str(AZURE_FIXTURES / "keyvault-auditevent-vaultget.azure-docs-2020.json"),
                   "--lake", str(lake_dir))
    assert proc.returncode == 0, proc.stderr
    [row] = open_lake(lake_dir).sql("SELECT src_ip, src_country, src_cloud, src_cloud_region FROM events").fetchall()
    assert row == ("104.40.82.76", "US", "azure", "westus")


def test_a_lake_written_before_the_cloud_columns_still_reads(lake_dir):
    _, lake = _pulled_samples(lake_dir)
    [part] = [p for p in (lake_dir / "tables" / "cloudtrail").rglob("*.parquet")][:1]
    old = pq.read_table(part).drop_columns(["src_cloud", "src_cloud_region", "src_cloud_service"])
    pq.write_table(old, part)
    lake.refresh()
    total, placed = lake.sql("SELECT count(*), count(src_cloud) FROM cloudtrail").fetchall()[0]
    assert total == 1817 and placed < lake.sql("SELECT count(src_country) FROM cloudtrail").fetchall()[0][0]
    proc = run_cli("sql", "SELECT count(*) AS n, count(src_cloud_region) AS r FROM events", "--format", "json",
                   "--lake", str(lake_dir))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["n"] == 1817


def _config(tmp_path: Path, geo: str) -> Path:
    path = tmp_path / "sovaudit.toml"
    path.write_text(f"[geo]\n{geo}\n")
    return path


def test_a_configured_ranges_directory_without_its_files_is_one_line(tmp_path, lake_dir):
    (tmp_path / "ranges").mkdir()
    config = _config(tmp_path, 'ip_ranges_dir = "ranges"')
    proc = run_cli("pull", "cloudtrail", "--path", str(SAMPLES), "--lake", str(lake_dir), "--config", str(config))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "aws-ip-ranges.json.gz: AWS address ranges file not found; run `sovaudit ip-ranges update`" in proc.stderr


def test_a_ranges_file_that_is_not_the_providers_format_is_one_line(tmp_path, lake_dir):
    (tmp_path / "cloud.json").write_text('{"hello": []}')
    config = _config(tmp_path, 'gcp_ip_ranges = "cloud.json"')
    proc = run_cli("pull", "cloudtrail", "--path", str(SAMPLES), "--lake", str(lake_dir), "--config", str(config))
    assert proc.returncode == 2
    assert "[geo] gcp_ip_ranges cloud.json: cannot read Google Cloud address ranges: not a Google Cloud ranges " \
           "file: expected a list 'prefixes', found hello" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_downloaded_file_the_config_names_is_used_and_recorded(tmp_path, lake_dir):
    aws = _aws_file(tmp_path / "ip-ranges.json", [{"ip_prefix": "192.168.0.0/16", "region": "eu-west-3",
                                                   "service": "EC2"},
                                                  {"ip_prefix": "3.225.0.0/16", "region": "eu-north-1",
                                                   "service": "EC2"}])
    config = _config(tmp_path, f'aws_ip_ranges = "{aws.name}"')
    proc = run_cli("pull", "cloudtrail", "--path", str(SAMPLES), "--lake", str(lake_dir), "--config", str(config),
                   "--format", "json")
    assert proc.returncode == 0, proc.stderr
    lake = open_lake(lake_dir)
    assert lake.sql("SELECT DISTINCT src_cloud_region FROM cloudtrail WHERE src_ip = '3.225.16.109'"
                    ).fetchall() == [("eu-north-1",)]
    # Private addresses are never looked up, whatever a file says.
    assert lake.sql("SELECT count(src_cloud) FROM cloudtrail WHERE src_ip = '192.168.10.20'").fetchall() == [(0,)]
    [entry] = lake.ledger.entries()
    assert entry["ip_ranges"]["aws"]["file"] == "[geo] aws_ip_ranges ip-ranges.json"
    assert entry["ip_ranges"]["aws"]["published"] == "2026-11-30T10:00:00Z"


def test_show_says_what_is_known_of_an_address_and_why():
    proc = run_cli("ip-ranges", "show", "34.240.1.1", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    known = json.loads(proc.stdout)
    assert (known["registered_country"], known["cloud"], known["cloud_region"], known["cloud_service"]) == (
        "US", "aws", "eu-west-1", "EC2")
    assert known["jurisdiction"] == "EU" and known["jurisdiction_from"] == "the cloud region eu-west-1"
    assert known["prefixes"][0] == {"prefix": "34.240.0.0/13", "cloud": "aws", "region": "eu-west-1",
                                    "service": "EC2"}
    assert known["data"]["aws"]["published"] == "2025-07-24T20:23:14Z"
    us = json.loads(run_cli("ip-ranges", "show", "12.0.0.77", "--format", "json").stdout)
    assert us["cloud"] is None and us["jurisdiction"] == "US"
    assert us["jurisdiction_from"] == "the country the address is registered to, US"
    table = run_cli("ip-ranges", "show", "52.239.246.0")
    assert table.returncode == 0 and "Azure AzureStorage" in table.stdout and "US (from the cloud region eastus)" in table.stdout
    bad = run_cli("ip-ranges", "show", "999.1.1.1")
    assert bad.returncode == 2 and bad.stderr.strip() == "error: '999.1.1.1' is not an IPv4 or IPv6 address"


class _Provider(BaseHTTPRequestHandler):
    """The providers' three addresses, served from the snapshot: AWS and Google as JSON, Azure as a
    Download Center page that links to the week's file."""
    missing: set[str] = set()

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        if path in self.missing:
            self.send_error(404)
            return
        base = f"http://{self.headers['Host']}"
        bodies = {
            "/ip-ranges.json": gzip.decompress((snapshot_dir() / "aws-ip-ranges.json.gz").read_bytes()),
            "/ipranges/cloud.json": gzip.decompress((snapshot_dir() / "google-cloud-ip-ranges.json.gz").read_bytes()),
            "/download/details.aspx": (f'<html><a href="{base}/download/7/1/D/ServiceTags_Public_20261130.json" '
                                       'class="mscom-link">Download</a></html>').encode(),
            "/download/7/1/D/ServiceTags_Public_20261130.json": gzip.decompress(
                (snapshot_dir() / "microsoft-azure-ip-ranges.json.gz").read_bytes()),
        }
        if path not in bodies:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(bodies[path])))
        self.end_headers()
        self.wfile.write(bodies[path])

    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture
def provider_server():
    _Provider.missing = set()
    with_server = LocalServer(_Provider, "ip-ranges").start()
    yield with_server
    with_server.stop()


def _mirror_config(tmp_path: Path, url: str, extra: str = "") -> Path:
    return _config(tmp_path, f'{extra}\n[geo.urls]\naws = "{url}/ip-ranges.json"\n'
                             f'azure = "{url}/download/details.aspx?id=56519"\ngcp = "{url}/ipranges/cloud.json"')


def test_update_downloads_checks_and_records_each_providers_file(tmp_path, provider_server):
    config = _mirror_config(tmp_path, provider_server.url, 'ip_ranges_dir = "ranges"')
    proc = run_cli("ip-ranges", "update", "--config", str(config), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    done = {p["cloud"]: p for p in json.loads(proc.stdout)["providers"]}
    assert all(p["ok"] for p in done.values())
    assert done["azure"]["url"].endswith("/download/7/1/D/ServiceTags_Public_20261130.json")
    assert done["azure"]["published"] == "2026-11-30" and done["aws"]["published"] == "2025-07-24T20:23:14Z"
    ranges = tmp_path / "ranges"
    for name in ("aws-ip-ranges.json.gz", "microsoft-azure-ip-ranges.json.gz", "google-cloud-ip-ranges.json.gz"):
        assert gzip.decompress((ranges / name).read_bytes())  # stored compressed
    manifest = json.loads((ranges / "manifest.json").read_text())
    assert manifest["azure"]["sha256"] == hashlib.sha256(
        (ranges / "microsoft-azure-ip-ranges.json.gz").read_bytes()).hexdigest()
    shown = json.loads(run_cli("ip-ranges", "show", "52.239.246.0", "--format", "json", "--config",
                               str(config)).stdout)
    assert shown["data"]["azure"]["published"] == "2026-11-30"  # from the manifest: Azure's file has no date
    assert shown["data"]["azure"]["file"] == str(ranges / "microsoft-azure-ip-ranges.json.gz")


def test_a_failed_download_keeps_the_copy_it_had(tmp_path, provider_server):
    config = _mirror_config(tmp_path, provider_server.url, 'ip_ranges_dir = "ranges"')
    assert run_cli("ip-ranges", "update", "--config", str(config)).returncode == 0
    kept = (tmp_path / "ranges" / "aws-ip-ranges.json.gz").read_bytes()
    _Provider.missing = {"/ip-ranges.json"}
    proc = run_cli("ip-ranges", "update", "--config", str(config))
    assert proc.returncode == 3
    assert "error: aws: " in proc.stderr and "HTTP 404" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "ranges" / "aws-ip-ranges.json.gz").read_bytes() == kept


def test_an_unreachable_mirror_is_one_line_per_provider(tmp_path):
    config = _mirror_config(tmp_path, "http://127.0.0.1:9")
    proc = run_cli("ip-ranges", "update", "--dir", str(tmp_path / "out"), "--config", str(config), "--timeout", "5")
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3 and all("unreachable" in line for line in errors)
    assert "Traceback" not in proc.stderr
