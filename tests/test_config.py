import json
import shutil

import pytest
from conftest import SAMPLES, run_cli

from sovaudit.config import Config, load_config, parse_config, resolve_lake_path
from sovaudit.errors import ConfigError

VALID = """
[organisation]
controller = "Example B.V."
[[data_classes]]
name = "pii"
home = "eu"
tier = 1
retention_days = 30
resources = ["arn:aws:s3:::pii-*"]
allowed_transfers = [{ to = "gb", safeguard = "adequacy" }]
[jurisdictions]
"West Europe" = "DE"
"""


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "conf.toml")
    return str(caught.value)


def test_init_writes_a_commented_example_that_validates(tmp_path):
    proc = run_cli("init", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "sovaudit.toml").read_text()
    assert text.count("#") > 10
    config = parse_config(text)
    assert config.data_classes[0].home == "EU" and config.sources[0].type == "cloudtrail"
    assert run_cli("init", cwd=tmp_path).returncode == 2  # never overwrites silently
    assert run_cli("init", "--force", cwd=tmp_path).returncode == 0


def test_values_are_normalised():
    config = parse_config(VALID)
    assert config.data_classes[0].home == "EU"
    assert config.data_classes[0].allowed_transfers[0].to == "UK"
    assert config.jurisdictions == {"westeurope": "EU"}
    assert config.thresholds.egress_bytes_per_actor_day == 1_000_000_000
    assert (config.thresholds.anomaly_k, config.thresholds.baseline_days) == (3.0, 30)


@pytest.mark.parametrize(("text", "expected"), [
    ("[lake]\npaht = 'x'", "conf.toml: lake.paht: unknown key"),
    ("[[data_classes]]\nname='a'\nhome='EU'\ntier=5\nretention_days=1\nresources=['x']",
     "conf.toml: data_classes[0].tier: found 5, expected input should be less than or equal to 3"),
    ("[thresholds]\nanomaly_k = 'lots'", "conf.toml: thresholds.anomaly_k: found 'lots', expected"),
    ("[[sources]]\nname='s'\ntype='splunk'", "conf.toml: sources[0].type: found 'splunk', expected one of"),
    ("[[sources]]\nname='s'\ntype='cloudtrail'", "conf.toml: sources[0]: found keys name, type, expected set exactly one of"),
    ("[[sources]]\nname='s'\ntype='cloudtrail'\nbucket='b'\naccounts=['12']",
     "conf.toml: sources[0].accounts: found ['12'], expected an AWS account id is 12 digits"),
    ("[[data_classes]]\nname='a'\nhome='Europe'\ntier=1\nretention_days=1\nresources=['x']",
     "conf.toml: data_classes[0].home: found 'Europe'"),
    ("[[processing_activities]]\nname='p'\npurpose='q'\ndata_classes=['ghost']",
     "processing_activities[0].data_classes: found 'ghost', expected the name of a [[data_classes]] entry"),
    ("[lake\npath='x'", "conf.toml: invalid TOML"),
])
def test_bad_config_gets_one_line_naming_file_key_found_and_expected(text, expected):
    message = error_of(text)
    assert expected in message, message
    assert len(message.splitlines()) == 1


CLASS = "[[data_classes]]\nname='a'\ntier=1\nresources=['x']\n"


@pytest.mark.parametrize(("text", "line"), [
    (CLASS + "home='Europe'\nretention_days=1",
     "conf.toml: data_classes[0].home: found 'Europe', expected EU, UK or a two-letter country code (the "
     "jurisdiction's ISO 3166-1 code, e.g. DE)"),
    ("[threshold]\nbaseline_days = 10\nanomaly_k = 2",
     "conf.toml: threshold: unknown key 'threshold'; did you mean 'thresholds'?"),
    # The misspelt key is the one line: not also "missing retention_days", and not before it.
    (CLASS + "home='EU'\nretension_days=30",
     "conf.toml: data_classes[0].retension_days: unknown key 'retension_days'; did you mean 'retention_days'?"),
    ("[[sources]]\nname='s'\ntype='cloudtrail'\nbukcet='b'",
     "conf.toml: sources[0].bukcet: unknown key 'bukcet'; did you mean 'bucket'?"),
    ("[[sources]]\nname='s'\ntype='kafka-audit'\nbootstrap='h:9092'\ntopik='t'",
     "conf.toml: sources[0].topik: unknown key 'topik'; did you mean 'topic'?"),
    (CLASS + "home='EU'\nretention_days=1\nallowed_transfers=[{to='UK', safegaurd='adequacy'}]",
     "conf.toml: data_classes[0].allowed_transfers[0].safegaurd: unknown key 'safegaurd'; did you mean "
     "'safeguard'?"),
    ("[organisation]\nowner='x'",
     "conf.toml: organisation.owner: unknown key 'owner'; expected one of: controller, address, dpo, contact, "
     "evidence_period_days, accounts"),
])
def test_config_errors_are_one_clear_line_with_a_suggestion_for_a_near_miss(text, line):
    assert error_of(text) == line


def test_an_unknown_key_never_shows_its_value():
    # A misspelt connection_string_env holding the connection string itself: the name is shown, never the value.
    message = error_of("[[sources]]\nname='s'\ntype='azure-storage'\naccount_url='https://a.blob.core.windows.net'\n"
                       "conection_string_env='DefaultEndpointsProtocol=https;AccountKey=c2VjcmV0'")
    assert message == ("conf.toml: sources[0].conection_string_env: unknown key 'conection_string_env'; did you mean "
                       "'connection_string_env'?")
    assert "{" not in error_of("[threshold]\nbaseline_days = 10")  # not the table as a dict


def test_bad_config_through_the_cli_exits_2_with_the_message(tmp_path):
    (tmp_path / "sovaudit.toml").write_text("[thresholds]\nbaseline_days = -1\n")
    proc = run_cli("sql", "SELECT 1", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: sovaudit.toml: thresholds.baseline_days: found -1, expected")
    missing = run_cli("sql", "SELECT 1", "--config", str(tmp_path / "absent.toml"))
    assert missing.returncode == 2 and "config file not found" in missing.stderr


def test_lake_location_precedence(tmp_path, monkeypatch):
    conf = tmp_path / "conf" / "sovaudit.toml"
    conf.parent.mkdir()
    conf.write_text("[lake]\npath = 'from-config'\n")
    loaded = load_config(conf)
    monkeypatch.delenv("SOVAUDIT_LAKE", raising=False)
    assert resolve_lake_path(None, loaded) == conf.parent / "from-config"
    monkeypatch.setenv("SOVAUDIT_LAKE", "/from/env")
    assert str(resolve_lake_path(None, loaded)) == "/from/env"
    assert str(resolve_lake_path("/from/flag", loaded)) == "/from/flag"
    monkeypatch.delenv("SOVAUDIT_LAKE")
    monkeypatch.chdir(tmp_path)
    assert str(resolve_lake_path(None, load_config(None))) == "sovaudit-lake"
    assert load_config(None).config == Config()


def test_pull_with_no_arguments_pulls_every_configured_source(tmp_path):
    half = sorted(SAMPLES.glob("*.gz"))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for i, sample in enumerate(half):
        shutil.copy(sample, tmp_path / ("a" if i % 2 else "b") / sample.name)
    (tmp_path / "sovaudit.toml").write_text(
        "[lake]\npath = 'lake'\n"
        "[[sources]]\nname = 'first'\ntype = 'cloudtrail'\npath = 'a'\n"
        "[[sources]]\nname = 'second'\ntype = 'cloudtrail'\npath = 'b'\n")
    proc = run_cli("pull", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [o["source"] for o in out] == ["first", "second"]
    assert sum(o["counts"]["stored"] for o in out) == 1817
    only = run_cli("pull", "--source", "second", "--format", "json", cwd=tmp_path)
    assert [o["source"] for o in json.loads(only.stdout)] == ["second"]
    none = run_cli("pull", cwd=tmp_path / "a")
    assert none.returncode == 2 and "no [[sources]]" in none.stderr


def test_every_verb_has_help_with_an_example():
    for verb in (["init"], ["pull"], ["pull", "cloudtrail"], ["sql"], ["tables"]):
        proc = run_cli(*verb, "--help")
        assert proc.returncode == 0 and "Example" in proc.stdout, verb


def test_the_readme_kafka_configuration_is_valid(tmp_path):
    """The README's Kafka set-up parses as it is printed: classes with topics, the evidence period, all three
    Kafka source types and the threshold."""
    import re

    from conftest import REPO

    blocks = re.findall(r"```toml\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL)
    [kafka] = [b for b in blocks if 'type = "kafka-inventory"' in b]
    config = parse_config(kafka, tmp_path / "sovaudit.toml")
    assert [s.type for s in config.sources] == ["kafka-audit", "kafka-inventory", "kafka-inventory", "kafka-lineage"]
    assert config.data_classes[0].topics == ["eu.loyalty.*"] and config.organisation.evidence_period_days == 365
    assert config.thresholds.kafka_denied_burst == 20


@pytest.mark.parametrize(("text", "expected"), [
    ("[[data_classes]]\nname='a'\nhome='EU'\ntier=1\nretention_days=1\n",
     "data_classes[0]: found keys name, home, tier, retention_days, expected data class 'a': list at least one "
     "pattern in resources or topics"),
    ("[organisation]\nevidence_period_days = 0\n", "organisation.evidence_period_days: found 0"),
])
def test_kafka_policy_values_are_validated(text, expected, tmp_path):
    with pytest.raises(ConfigError) as error:
        parse_config(text, tmp_path / "sovaudit.toml")
    assert expected in str(error.value)
