"""Settings precedence: options > environment > config file > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from aisync.errors import ConfigError
from aisync.settings import load_settings, parse_duration, redact_userinfo, without_userinfo


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3600", 3600), ("45s", 45), ("30m", 1800), ("12h", 43200), ("7d", 604800), ("1h30m", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "12x", "-5", "h", "nan", "inf", "1e400", "36501d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_duration(text)


def test_precedence(tmp_path: Path) -> None:
    config = tmp_path / "aisync.toml"
    config.write_text('database_url = "sqlite:///file.db"\ncache_ttl = "1h"\ntimeout = 10\n')
    from_file = load_settings(environ={}, config_path=config)
    assert (from_file.database_url, from_file.cache_ttl, from_file.timeout) == (
        "sqlite:///file.db",
        3600,
        10,
    )
    env = {"AISYNC_DATABASE_URL": "sqlite:///env.db", "AISYNC_CACHE_TTL": "2h"}
    from_env = load_settings(environ=env, config_path=config)
    assert (from_env.database_url, from_env.cache_ttl) == ("sqlite:///env.db", 7200)
    from_option = load_settings(
        {"database_url": "sqlite:///opt.db"}, environ=env, config_path=config
    )
    assert from_option.database_url == "sqlite:///opt.db"


def test_retry_settings(tmp_path: Path) -> None:
    config = tmp_path / "aisync.toml"
    config.write_text('retries = 5\nretry_wait_cap = "2s"\n')
    from_file = load_settings(environ={}, config_path=config)
    assert (from_file.max_retries, from_file.retry_wait_cap) == (5, 2)
    env = {"AISYNC_RETRIES": "0", "AISYNC_RETRY_WAIT_CAP": "0.01"}
    from_env = load_settings(environ=env, config_path=config)
    assert (from_env.max_retries, from_env.retry_wait_cap) == (0, 0.01)
    assert load_settings(environ={}).retry_wait_cap == 10


def test_aisync_config_variable_and_default_path(tmp_path: Path) -> None:
    config = tmp_path / "custom.toml"
    config.write_text('env = "development"\n')
    assert load_settings(environ={"AISYNC_CONFIG": str(config)}).env == "development"
    assert load_settings(environ={}).env == "production"


def test_provider_instance_settings(tmp_path: Path) -> None:
    config = tmp_path / "aisync.toml"
    config.write_text(
        '[providers.openai-eu]\ntype = "openai"\nbase_url = "https://eu.example/v1"\n'
        'api_key_env = "EU_KEY"\ncache_ttl = "6h"\n'
    )
    settings = load_settings(environ={"EU_KEY": "k-eu"}, config_path=config)
    eu = settings.provider_config("openai-eu")
    assert (eu.type, eu.base_url, eu.api_key, eu.api_key_source) == (
        "openai",
        "https://eu.example/v1",
        "k-eu",
        "EU_KEY",
    )
    assert settings.cache_ttl_for("openai-eu") == 6 * 3600
    override = load_settings(
        environ={"EU_KEY": "k-eu", "AISYNC_OPENAI_EU_API_KEY": "k-generic"}, config_path=config
    )
    assert override.provider_config("openai-eu").api_key == "k-generic"
    assert "k-eu" not in repr(eu)


def test_missing_explicit_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Config file not found"):
        load_settings(environ={"AISYNC_CONFIG": str(tmp_path / "nope.toml")})


def test_enrichment_settings_from_file_environment_and_options(tmp_path: Path) -> None:
    config = tmp_path / "aisync.toml"
    config.write_text(
        '[enrich]\nsources = ["litellm", "models.dev"]\ncache_ttl = "6h"\n\n'
        '[enrich.models-dev]\nurl = "https://mirror.internal/models.json"\n\n'
        '[enrich.litellm]\nurl = "https://mirror.internal/litellm.json"\n',
        encoding="utf-8",
    )
    from_file = load_settings(environ={}, config_path=config)
    assert from_file.enrich_sources == ("litellm", "models.dev")
    assert from_file.enrich_cache_ttl == 6 * 3600
    assert from_file.source_config("models.dev") == {"url": "https://mirror.internal/models.json"}
    env = {
        "AISYNC_ENRICH": " Models.dev , litellm,models.dev",
        "AISYNC_ENRICH_CACHE_TTL": "30m",
        "AISYNC_LITELLM_URL": "http://127.0.0.1:9/prices.json",
    }
    from_env = load_settings(environ=env, config_path=config)
    assert from_env.enrich_sources == ("models.dev", "litellm")
    assert from_env.enrich_cache_ttl == 1800
    assert from_env.source_config("litellm") == {"url": "http://127.0.0.1:9/prices.json"}
    assert load_settings({"enrich": "none"}, environ=env).enrich_sources == ()
    assert load_settings(environ={}).enrich_sources == ("models.dev", "litellm")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[enrich]\nsourcez = []\n", "Unknown key 'sourcez' in [enrich]"),
        ("[enrich]\nsources = [1]\n", "Invalid enrichment sources: [1]"),
        ('[enrich]\nsources = ["none", "litellm"]\n', "('none' stands alone)"),
        ("[enrich.litellm]\nurl = 5\n", "[enrich.litellm].url"),
        ('enrich = "yes"\n', "'enrich' in"),
    ],
)
def test_bad_enrichment_settings(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "aisync.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, config_path=config)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("url", "masked", "stripped"),
    [
        ("https://u:p@host/v1", "https://***@host/v1", "https://host/v1"),
        ("http://u:p@ss@host:8/v1?x=@", "http://***@host:8/v1?x=@", "http://host:8/v1?x=@"),
        ("u:p@host:11434", "***@host:11434", "host:11434"),
        ("https://host/v1/a@b", "https://host/v1/a@b", "https://host/v1/a@b"),
        ("https://host?next=a@b", "https://host?next=a@b", "https://host?next=a@b"),
    ],
)
def test_url_userinfo_is_masked_or_stripped_and_nothing_else(
    url: str, masked: str, stripped: str
) -> None:
    assert redact_userinfo(url) == masked
    assert without_userinfo(url) == stripped
