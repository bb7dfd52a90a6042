import re
from datetime import date

import pytest

from sovaudit.geography import load_geography, normalise_jurisdiction

ALPHA2 = re.compile(r"^[A-Z]{2}$")


@pytest.fixture(scope="module")
def geo():
    return load_geography()


def test_load_is_cached(geo):
    assert load_geography() is geo
    assert geo.vintage == "2026-11"


def test_every_aws_region_has_a_valid_country(geo):
    aws = [r for r in geo.regions.values() if r.provider == "aws"]
    assert len(aws) >= 40
    for region in aws:
        assert region.country is not None and ALPHA2.match(region.country), region
        assert region.name
        assert region.group.startswith("aws"), region


def test_azure_locations_have_country_or_null_and_a_cloud(geo):
    azure = [r for r in geo.regions.values() if r.provider == "azure"]
    assert len(azure) >= 100
    clouds = {r.group for r in azure}
    assert {"AzureCloud", "AzureUSGovernment", "AzureChinaCloud", "AzureGermanCloud"} <= clouds
    for region in azure:
        assert region.country is None or ALPHA2.match(region.country), region
        assert region.region == region.region.lower() and " " not in region.region


@pytest.mark.parametrize(
    ("region", "country", "jurisdiction"),
    [
        ("eu-west-1", "IE", "EU"),
        ("eu-west-2", "GB", "UK"),
        ("eu-central-1", "DE", "EU"),
        ("eu-central-2", "CH", "CH"),
        ("eu-north-1", "SE", "EU"),
        ("us-east-1", "US", "US"),
        ("us-gov-west-1", "US", "US"),
        ("cn-north-1", "CN", "CN"),
        ("cn-northwest-1", "CN", "CN"),
        ("eusc-de-east-1", "DE", "EU"),
        ("us-iso-east-1", "US", "US"),
        ("me-central-1", "AE", "AE"),
        ("il-central-1", "IL", "IL"),
        ("ap-east-2", "TW", "TW"),
        ("ap-southeast-6", "NZ", "NZ"),
        ("EU-WEST-1", "IE", "EU"),
        ("westeurope", "NL", "EU"),
        ("West Europe", "NL", "EU"),
        ("northeurope", "IE", "EU"),
        ("norwayeast", "NO", "EU"),
        ("uksouth", "GB", "UK"),
        ("UK West", "GB", "UK"),
        ("switzerlandnorth", "CH", "CH"),
        ("usgovvirginia", "US", "US"),
        ("usdodeast", "US", "US"),
        ("chinaeast2", "CN", "CN"),
        ("germanycentral", "DE", "EU"),
        ("global", None, None),
    ],
)
def test_spot_checks(geo, region, country, jurisdiction):
    assert geo.country_of(region) == country
    assert geo.jurisdiction_of(region) == jurisdiction


def test_unknown_region_has_no_country_or_jurisdiction(geo):
    assert geo.country_of("mars-north-1") is None
    assert geo.jurisdiction_of("mars-north-1") is None


def test_eu_eea_has_30_countries(geo):
    members = geo.eu_eea_countries
    assert len(members) == 30
    assert sum(1 for m in members.values() if m["member"] == "EU") == 27
    assert {c for c, m in members.items() if m["member"] == "EEA"} == {"IS", "LI", "NO"}
    assert "GB" not in members and "CH" not in members
    assert geo.is_eu_eea("de") and geo.is_eu_eea("NO")
    assert not geo.is_eu_eea("GB") and not geo.is_eu_eea("UK") and not geo.is_eu_eea(None)


def test_country_jurisdiction(geo):
    assert geo.country_jurisdiction("DE") == "EU"
    assert geo.country_jurisdiction("IS") == "EU"
    assert geo.country_jurisdiction("GB") == "UK"
    assert geo.country_jurisdiction("UK") == "UK"
    assert geo.country_jurisdiction("US") == "US"
    assert geo.country_jurisdiction("ch") == "CH"
    assert geo.country_jurisdiction(None) is None


def test_override_wins_over_builtin(geo):
    assert geo.jurisdiction_of("eu-west-1", {"eu-west-1": "UK"}) == "UK"
    assert geo.jurisdiction_of("eu-west-1", {"eu-west-1": "gb"}) == "UK"
    assert geo.jurisdiction_of("westeurope", {"West Europe": "ch"}) == "CH"
    assert geo.jurisdiction_of("eu-west-2", {"eu-west-1": "UK"}) == "UK"
    assert geo.jurisdiction_of("eu-west-1", {}) == "EU"


def test_override_for_unknown_name_resolves(geo):
    assert geo.jurisdiction_of("onprem-frankfurt", {"onprem-frankfurt": "eu"}) == "EU"


def test_invalid_override_value_is_rejected(geo):
    with pytest.raises(ValueError):
        geo.jurisdiction_of("eu-west-1", {"eu-west-1": "Ireland"})


def test_region_rows(geo):
    rows = geo.region_rows({"eu-west-1": "UK", "onprem-frankfurt": "EU"})
    by_region = {r["region"]: r for r in rows}
    assert len(rows) == len(geo.regions) + 1
    assert by_region["eu-west-1"] == {
        "region": "eu-west-1",
        "provider": "aws",
        "country": "IE",
        "jurisdiction": "UK",
        "source": "config",
    }
    assert by_region["westeurope"]["provider"] == "azure"
    assert by_region["westeurope"]["jurisdiction"] == "EU"
    assert by_region["westeurope"]["source"] == "builtin"
    assert by_region["global"]["jurisdiction"] is None
    assert by_region["onprem-frankfurt"] == {
        "region": "onprem-frankfurt",
        "provider": "config",
        "country": None,
        "jurisdiction": "EU",
        "source": "config",
    }
    assert {r["source"] for r in geo.region_rows()} == {"builtin"}


def test_adequacy(geo):
    japan = geo.adequacy("JP")
    assert japan is not None and japan["adopted"] == "2019-01-23"
    us = geo.adequacy("us")
    assert us["partial"] is True and us["adopted"] == "2023-07-10"
    assert geo.adequacy("CA")["partial"] is True
    assert geo.adequacy("CH")["partial"] is False
    assert geo.adequacy("UK") is geo.adequacy("GB")
    assert geo.adequacy("KR")["adopted"] == "2021-12-17"
    assert geo.adequacy("CN") is None
    assert geo.adequacy(None) is None


def test_adequacy_decisions_are_well_formed(geo):
    decisions = geo.adequacy_decisions
    assert len(decisions) >= 15
    for decision in decisions:
        date.fromisoformat(decision["adopted"])
        assert decision["scope"] and decision["name"]
        assert isinstance(decision["partial"], bool)
        assert decision.get("country") is None or ALPHA2.match(decision["country"])
        if decision.get("country"):
            assert not geo.is_eu_eea(decision["country"]), decision
    codes = {d["country"] for d in decisions if d.get("country")}
    expected = {"AD", "AR", "CA", "CH", "FO", "GB", "GG", "IL", "IM", "JE", "JP", "KR", "NZ", "US", "UY"}
    assert expected <= codes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("gb", "UK"),
        ("uk", "UK"),
        ("UK", "UK"),
        ("eu", "EU"),
        (" EU ", "EU"),
        ("us", "US"),
        ("ch", "CH"),
        ("de", "EU"),
        ("xx", "XX"),
    ],
)
def test_normalise_jurisdiction(value, expected):
    assert normalise_jurisdiction(value) == expected


@pytest.mark.parametrize("value", ["", "E", "EEA", "United Kingdom", "u1", "12", None, 44, "ü1"])
def test_normalise_jurisdiction_rejects_non_codes(value):
    with pytest.raises(ValueError, match="jurisdiction"):
        normalise_jurisdiction(value)
