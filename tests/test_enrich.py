"""Enrichment end to end: recorded listings plus the models.dev and LiteLLM cassettes, real
databases, the real CLI; outages, revalidation and carry-forward against the fake server."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text

from aisync import hookimpl
from aisync.catalog.provenance import model_sources
from aisync.records import RULE, ModelRecord
from aisync.settings import load_settings
from aisync.sync.engine import Syncer
from aisync.sync.enrich import resolve
from aisync.sync.normalize import normalize
from aisync_providers import litellm, models_dev
from aisync_providers.source_ids import model_key, model_keys
from tests.cli import run
from tests.fakeserver import FakeServer, Reply

TESTS = Path(__file__).parent
MODELS_DEV = str(TESTS / "cassettes" / "enrichment" / "models_dev.yaml")
LITELLM = str(TESTS / "cassettes" / "enrichment" / "litellm.yaml")
OPENAI = str(TESTS / "providers" / "cassettes" / "test_openai" / "test_full_listing.yaml")
ANTHROPIC = str(TESTS / "providers" / "cassettes" / "test_anthropic" / "test_full_listing.yaml")


def cassette_body(path: str, interaction: int = 0) -> Any:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return json.loads(data["interactions"][interaction]["response"]["body"]["string"])


def rows(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = [tuple(row) for row in connection.execute(text(sql), params)]
    engine.dispose()
    return found


def current(url: str, provider: str, model_id: str, columns: str) -> tuple[Any, ...]:
    found = rows(
        url,
        f"SELECT {columns} FROM current_models WHERE provider = :p AND model_id = :m",
        p=provider,
        m=model_id,
    )
    assert len(found) == 1
    return found[0]


def sources_of(url: str, provider: str, model_id: str) -> dict[str, str]:
    (value,) = current(url, provider, model_id, "field_sources")
    return json.loads(value) if isinstance(value, str) else value


def versions(url: str, provider: str, model_id: str) -> int:
    return rows(
        url,
        "SELECT COUNT(*) FROM model_versions v JOIN models m ON m.id = v.model "
        "WHERE m.provider = :p AND m.model_id = :m",
        p=provider,
        m=model_id,
    )[0][0]


def enriched_env(url: str, **extra: str) -> dict[str, str]:
    return {
        "AISYNC_DATABASE_URL": url,
        "AISYNC_ENRICH": "models.dev,litellm",
        "OPENAI_API_KEY": "test-key",
        "ANTHROPIC_API_KEY": "test-key",
        "AISYNC_RETRIES": "0",
        **extra,
    }


@pytest.mark.vcr(OPENAI, MODELS_DEV, LITELLM)
def test_done_when_gpt_4o_gets_limits_and_prices_each_with_its_source(
    vcr: Any, database_url: str
) -> None:
    result = run(["sync-models", "--provider", "openai"], enriched_env(database_url))
    assert result.exit_code == 0, result.output
    assert vcr.all_played
    assert current(
        database_url,
        "openai",
        "gpt-4o",
        "context_window, max_output_tokens, input_price_per_mtok, output_price_per_mtok",
    ) == (128000, 16384, 2.5, 10.0)
    origins = sources_of(database_url, "openai", "gpt-4o")
    assert {
        name: origins[name]
        for name in (
            "context_window",
            "max_output_tokens",
            "input_price_per_mtok",
            "output_price_per_mtok",
        )
    } == dict.fromkeys(
        ("context_window", "max_output_tokens", "input_price_per_mtok", "output_price_per_mtok"),
        "models.dev",
    )
    # What models.dev does not publish for gpt-4o comes from LiteLLM, the next source.
    limit, deprecated, successor = current(
        database_url, "openai", "gpt-4o", "max_input_tokens, deprecation_date, successor"
    )
    # Through a view, SQLite gives dates back as text.
    assert (limit, str(deprecated), successor) == (128000, "2027-01-14", "gpt-6-luna")
    assert origins["max_input_tokens"] == origins["successor"] == "litellm"
    assert origins["release_date"] == "api"
    # OpenAI publishes no capabilities: aisync's guess from the id ranks below every source.
    assert origins["capabilities"] == "models.dev"


@pytest.mark.vcr(OPENAI, MODELS_DEV, LITELLM)
def test_capabilities_guessed_from_the_id_are_shown_as_rule(vcr: Any, sqlite_url: str) -> None:
    """What no source knows keeps aisync's guess, named `rule`, not `api`; where a source
    knows the model, its capabilities win."""
    env = enriched_env(sqlite_url)
    assert run(["sync-models", "--provider", "openai"], env).exit_code == 0
    assert vcr.all_played
    assert sources_of(sqlite_url, "openai", "davinci-002") == {
        "capabilities": "rule",
        "release_date": "api",
    }
    shown = run(["models", "show", "openai/davinci-002", "--sources"], env)
    assert "rule" in shown.output
    found = model_sources(create_engine(sqlite_url), "openai", "gpt-4o") or []
    capabilities = {f.field: f for f in found}["capabilities"]
    # models.dev confirms the guess (its features, the guessed kind `chat`): its word now.
    assert capabilities.source == "models.dev"
    assert capabilities.value == ("chat", "vision", "function_calling", "structured_output")


def test_a_source_beats_a_rule_guess_but_not_the_api_or_an_override() -> None:
    (record,), warnings = normalize(
        [
            ModelRecord(
                "gpt-x",
                capabilities=("chat", "vision"),
                release_date=date(2024, 1, 1),
                field_sources={"capabilities": RULE, "context_window": RULE},
            )
        ]
    )
    assert warnings == []
    # A guessed field without a value has no origin; the others are the API's.
    assert record.field_sources == {"capabilities": "rule", "release_date": "api"}
    offer = {"capabilities": ["chat", "function_calling"], "release_date": date(2023, 1, 1)}
    answers: dict[str, Any] = {"models.dev": {"gpt-x": offer}}
    merged = resolve(record, answers, None, {})
    assert merged.capabilities == ("chat", "function_calling")
    assert merged.release_date == date(2024, 1, 1)
    assert merged.field_sources == {"capabilities": "models.dev", "release_date": "api"}
    assert merged.disagreements == {
        "capabilities": {"rule": ("chat", "vision")},
        "release_date": {"models.dev": date(2023, 1, 1)},
    }
    unknown = resolve(record, {"models.dev": {}}, None, {})
    assert unknown.field_sources["capabilities"] == "rule"
    overridden = resolve(record, answers, None, {"capabilities": ("embedding",)})
    assert overridden.field_sources["capabilities"] == "override"
    assert overridden.disagreements["capabilities"] == {
        "rule": ("chat", "vision"),
        "models.dev": ("chat", "function_calling"),
    }


def test_a_plugin_can_name_no_origin_but_rule() -> None:
    (record,), _ = normalize(
        [ModelRecord("m", context_window=8, field_sources={"context_window": "models.dev"})]
    )
    assert record.field_sources == {}


@pytest.mark.vcr(OPENAI, ANTHROPIC, MODELS_DEV, LITELLM)
def test_openai_and_anthropic_are_enriched_field_by_field(vcr: Any, sqlite_url: str) -> None:
    syncer = Syncer(settings=load_settings(environ=enriched_env(sqlite_url)))
    report = syncer.sync_models(["openai", "anthropic"])
    assert report.exit_code == 0
    assert vcr.all_played
    # Only LiteLLM knows this snapshot: its own entry, not gpt-4o's.
    assert current(
        sqlite_url,
        "openai",
        "gpt-4o-mini-2024-07-18",
        "context_window, max_input_tokens, input_price_per_mtok, output_price_per_mtok",
    ) == (None, 128000, 0.15, 0.6)
    assert sources_of(sqlite_url, "openai", "gpt-4o-mini-2024-07-18")["max_input_tokens"] == (
        "litellm"
    )
    # gpt-4o-2024-05-13 has a price of its own, different from its alias gpt-4o.
    assert current(
        sqlite_url, "openai", "gpt-4o-2024-05-13", "input_price_per_mtok, output_price_per_mtok"
    ) == (5.0, 15.0)
    # Neither source knows davinci-002: its fields stay empty, with no origin.
    assert current(sqlite_url, "openai", "davinci-002", "context_window, input_price_per_mtok") == (
        None,
        None,
    )
    assert set(sources_of(sqlite_url, "openai", "davinci-002")) == {"capabilities", "release_date"}
    assert current(
        sqlite_url,
        "anthropic",
        "claude-sonnet-4-5-20250929",
        "context_window, max_output_tokens, input_price_per_mtok, output_price_per_mtok, "
        "cache_read_price_per_mtok, cache_write_price_per_mtok",
    ) == (200000, 64000, 3.0, 15.0, 0.3, 3.75)
    origins = sources_of(sqlite_url, "anthropic", "claude-sonnet-4-5-20250929")
    assert origins["cache_write_price_per_mtok"] == "models.dev"
    found = model_sources(syncer.engine(), "anthropic", "claude-3-haiku-20240307") or []
    fields = {f.field: f for f in found}
    assert fields["context_window"].source == "models.dev"
    assert fields["max_input_tokens"].value is None and fields["max_input_tokens"].source is None
    syncer.close()


@pytest.mark.vcr(OPENAI, MODELS_DEV, LITELLM)
def test_api_values_beat_sources_and_the_disagreement_is_kept(vcr: Any, sqlite_url: str) -> None:
    """OpenAI's `created` date is the API's release date; models.dev says otherwise."""
    syncer = Syncer(settings=load_settings(environ=enriched_env(sqlite_url)))
    assert syncer.sync_models(["openai"]).exit_code == 0
    found = model_sources(syncer.engine(), "openai", "text-embedding-3-large") or []
    fields = {f.field: f for f in found}
    release = fields["release_date"]
    assert release.source == "api"
    assert release.value == date(2024, 1, 22)
    assert release.others == {"models.dev": date(2024, 1, 25)}
    assert model_sources(syncer.engine(), "openai", "no-such-model") is None
    syncer.close()


def source_server(fake_server: FakeServer, *replies: Reply) -> dict[str, str]:
    """models.dev served by the fake server (its recorded subset), LiteLLM turned off."""
    fake_server.route("/api.json", *replies)
    fake_server.route("/v1/models", Reply(200, cassette_body(OPENAI)))
    return {
        "AISYNC_ENRICH": "models.dev",
        "AISYNC_MODELS_DEV_URL": f"{fake_server.url}/api.json",
        "AISYNC_OPENAI_BASE_URL": f"{fake_server.url}/v1",
    }


def source_requests(fake_server: FakeServer) -> list[dict[str, str]]:
    return [r.headers for r in fake_server.requests if r.path == "/api.json"]


MODELS_DEV_BODY = cassette_body(MODELS_DEV)
ETAG = '"8644974c730ce0502eae194484a95ad4604054ec0c08b8a22c6765805aa75c09"'


def test_revalidation_sends_the_etag_and_a_304_reuses_the_copy(
    sqlite_url: str, fake_server: FakeServer
) -> None:
    env = enriched_env(sqlite_url, AISYNC_ENRICH_CACHE_TTL="0")
    env.update(
        source_server(
            fake_server, Reply(200, MODELS_DEV_BODY, headers={"ETag": ETAG}), Reply(304, raw=b"")
        )
    )
    assert run(["sync-models", "--provider", "openai"], env).exit_code == 0
    second = run(["sync-models", "--force", "--provider", "openai", "-v"], env)
    assert second.exit_code == 0
    sent = source_requests(fake_server)
    assert len(sent) == 2
    assert "If-None-Match" not in sent[0]
    assert sent[1]["If-None-Match"] == ETAG
    assert "unavailable" not in second.output
    assert "0 added, 0 changed, 0 removed" in second.stdout
    assert current(sqlite_url, "openai", "gpt-4o", "context_window") == (128000,)
    assert versions(sqlite_url, "openai", "gpt-4o") == 1


def test_a_young_copy_is_used_without_a_request_and_fresh_runs_touch_no_source(
    sqlite_url: str, fake_server: FakeServer
) -> None:
    env = enriched_env(sqlite_url, **source_server(fake_server, Reply(200, MODELS_DEV_BODY)))
    assert run(["sync-models", "--provider", "openai"], env).exit_code == 0
    fresh = run(["sync-models", "--provider", "openai"], env)
    assert "Skipped (cache_valid)" in fresh.stdout
    assert run(["sync-models", "--force", "--provider", "openai"], env).exit_code == 0
    assert len(source_requests(fake_server)) == 1


def test_outage_falls_back_to_the_cached_copy_with_one_warning(
    sqlite_url: str, fake_server: FakeServer
) -> None:
    env = enriched_env(sqlite_url, AISYNC_ENRICH_CACHE_TTL="0")
    env.update(
        source_server(fake_server, Reply(200, MODELS_DEV_BODY), Reply(500, {"error": "down"}))
    )
    fake_server.route("/anthropic/v1/models", Reply(200, cassette_body(ANTHROPIC)))
    env["AISYNC_ANTHROPIC_BASE_URL"] = f"{fake_server.url}/anthropic"
    assert run(["sync-models", "--provider", "openai"], env).exit_code == 0
    # Two providers, one warning line for the run, on stderr (-v or not).
    second = run(["sync-models", "--force", "--provider", "openai", "--provider", "anthropic"], env)
    assert second.exit_code == 0
    assert "models.dev" not in second.stdout
    (warning,) = second.stderr.splitlines()
    assert warning.startswith("⚠ Enrichment source models.dev is unavailable (Provider error 500")
    assert "using its copy from" in warning
    assert versions(sqlite_url, "openai", "gpt-4o") == 1
    # Cron hears of it even with --quiet; --json carries it once, in the run's warnings.
    quiet = run(["sync-models", "--force", "--provider", "openai", "--quiet"], env)
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", warning + "\n")
    report = json.loads(
        run(["sync-models", "--force", "--provider", "openai", "--json"], env).stdout
    )
    assert report["warnings"] == [warning.removeprefix("⚠ ")]
    assert report["providers"][0]["warnings"] == []
    assert len(source_requests(fake_server)) == 4


def test_outage_without_a_copy_carries_values_forward_with_no_new_version(
    sqlite_url: str, fake_server: FakeServer, tmp_path: Path
) -> None:
    env = enriched_env(sqlite_url, XDG_CACHE_HOME=str(tmp_path / "first"))
    env.update(source_server(fake_server, Reply(200, MODELS_DEV_BODY), Reply(503, {"error": "x"})))
    assert run(["sync-models", "--provider", "openai"], env).exit_code == 0
    env["XDG_CACHE_HOME"] = str(tmp_path / "empty")
    second = run(["sync-models", "--force", "--provider", "openai", "-v"], env)
    assert second.exit_code == 0
    assert second.stderr == (
        "⚠ Enrichment source models.dev is unavailable (Provider error 503: x); no copy is cached\n"
    )
    assert "0 added, 0 changed, 0 removed" in second.stdout
    assert current(sqlite_url, "openai", "gpt-4o", "context_window, input_price_per_mtok") == (
        128000,
        2.5,
    )
    assert sources_of(sqlite_url, "openai", "gpt-4o")["context_window"] == "models.dev"


def test_no_enrich_carries_values_forward_and_a_source_change_is_a_version(
    sqlite_url: str, fake_server: FakeServer
) -> None:
    changed = json.loads(json.dumps(MODELS_DEV_BODY))
    changed["openai"]["models"]["gpt-4o"]["cost"]["input"] = 2.0
    env = enriched_env(sqlite_url, AISYNC_ENRICH_CACHE_TTL="0")
    env.update(source_server(fake_server, Reply(200, MODELS_DEV_BODY), Reply(200, changed)))
    assert run(["sync-models", "--provider", "openai"], env).exit_code == 0
    off = run(["sync-models", "--force", "--no-enrich", "--provider", "openai", "-v"], env)
    assert "0 added, 0 changed, 0 removed" in off.stdout
    assert len(source_requests(fake_server)) == 1
    again = run(["sync-models", "--force", "--provider", "openai", "-v"], env)
    assert "0 added, 1 changed, 0 removed" in again.stdout
    assert current(sqlite_url, "openai", "gpt-4o", "input_price_per_mtok") == (2.0,)
    assert versions(sqlite_url, "openai", "gpt-4o") == 2


class ExtraSource:
    """An external plugin's own source, after the built-in ones."""

    @hookimpl
    def enrich_models(self, source: str, provider: Any, models: Any, context: Any) -> Any:
        if source != "team-sheet":
            return None
        return {"gpt-4o": {"context_window": 1, "knowledge_cutoff": "2023-10", "bogus": 3}}


class BrokenSource:
    @hookimpl
    def enrich_models(self, source: str, provider: Any, models: Any, context: Any) -> Any:
        if source == "broken":
            raise RuntimeError("sheet missing")
        return None


@pytest.mark.vcr(OPENAI)
def test_plugin_sources_fill_in_order_and_a_broken_one_fails_nothing(
    vcr: Any, sqlite_url: str
) -> None:
    env = enriched_env(sqlite_url, AISYNC_ENRICH="broken,team-sheet,nobody")
    syncer = Syncer(settings=load_settings(environ=env), plugins=[ExtraSource(), BrokenSource()])
    report = syncer.sync_models(["openai"])
    assert report.exit_code == 0
    (result,) = report.results
    assert result.warnings == (
        "Enrichment source broken failed: plugin BrokenSource: RuntimeError: sheet missing",
    )
    assert report.warnings == ("No plugin provides the enrichment source 'nobody'",)
    syncer.close()
    assert current(sqlite_url, "openai", "gpt-4o", "context_window, knowledge_cutoff") == (
        1,
        "2023-10",
    )
    assert sources_of(sqlite_url, "openai", "gpt-4o")["knowledge_cutoff"] == "team-sheet"


def test_per_token_and_per_million_prices_land_exactly() -> None:
    """LiteLLM's USD per token and models.dev's USD per million agree to the cent, exactly."""
    subset = cassette_body(LITELLM)
    entry = litellm.entry_fields(subset["gpt-4o"])
    assert Decimal(str(entry["input_price_per_mtok"])) == Decimal("2.5")
    assert Decimal(str(entry["output_price_per_mtok"])) == Decimal("10")
    assert Decimal(str(entry["cache_read_price_per_mtok"])) == Decimal("1.25")
    gemini = litellm.entry_fields(subset["gemini/gemini-2.5-pro"])
    assert gemini["pricing"]["tiers"][0] == {
        "tier": {"type": "context", "size": 200000},
        "input": 2.5,
        "output": 15.0,
        "cache_read": 0.25,
    }
    fields = models_dev.entry_fields(MODELS_DEV_BODY["openai"]["models"]["gpt-4o"])
    assert (fields["input_price_per_mtok"], fields["output_price_per_mtok"]) == (2.5, 10)


def test_matching_is_exact_with_the_documented_normalizations() -> None:
    index = litellm.build_index(cassette_body(LITELLM))
    assert "claude-sonnet-latest" in index["anthropic"]  # alias_of resolved
    assert index["anthropic"]["claude-sonnet-latest"] is index["anthropic"]["claude-sonnet-5-5"]
    assert "gemini-2.5-pro" in index["gemini"]  # provider/ prefix removed
    assert "sample_spec" not in index["openai"]
    assert "gpt-4o-2024-08" not in index["openai"]
    assert model_key("gemini", "models/Gemini-2.5-Pro") == "gemini-2.5-pro"
    assert model_key("ollama", "llama3.2:latest") == "llama3.2"
    assert model_key("openai", "gpt-4o:latest") == "gpt-4o:latest"


@pytest.mark.parametrize("mode", [["chat"], {"chat": True}, 3, None])
def test_a_litellm_mode_of_the_wrong_type_means_no_mode(mode: object) -> None:
    """A hand-edited mirror may hold anything: the entry's other fields still count."""
    entry = {"litellm_provider": "openai", "mode": mode, "supports_vision": True}
    assert litellm.entry_fields(entry)["capabilities"] == ("vision",)


def test_litellm_indexes_only_mapped_providers_first_entry_and_real_entries_first() -> None:
    first, second, bedrock = (
        {"litellm_provider": "openai", "max_input_tokens": 1},
        {"litellm_provider": "openai", "max_input_tokens": 2},
        {"litellm_provider": "bedrock", "max_input_tokens": 3},
    )
    index = litellm.build_index(
        {
            "gpt-x-latest": {"alias_of": "openai/gpt-x-2"},
            "gpt-x": first,
            "openai/GPT-X": second,
            "openai/gpt-x-2": second,
            "bedrock/claude": bedrock,
            "claude-latest": {"alias_of": "bedrock/claude"},
            "gpt-x-2": {"alias_of": "gpt-x"},
        }
    )
    assert set(index) == set(litellm.PROVIDER_KEYS.values())
    assert index["openai"] == {"gpt-x": first, "gpt-x-2": second, "gpt-x-latest": second}
    assert not any("claude" in key for section in index.values() for key in section)


def test_a_listing_is_keyed_like_each_of_its_ids() -> None:
    ids = ["models/Gemini-2.5-Pro", "llama3.2:latest", "GPT-4o:latest", "gpt-4o-2024-08-06"]
    for kind in ("gemini", "ollama", "openai"):
        assert model_keys(kind, ids) == [model_key(kind, model_id) for model_id in ids]
    assert model_keys("ollama", ids)[1:3] == ["llama3.2", "gpt-4o"]


@pytest.mark.parametrize(
    "offered",
    [
        ("vision", "chat", "teleportation", 7),
        ("vision", ["chat"], "chat", "teleportation"),
        ["vision", "chat", "chat"],
        {"vision": True, "chat": True},
    ],
)
def test_offered_capabilities_are_cleaned_whatever_their_shape(offered: Any) -> None:
    record = ModelRecord("m1", release_date=date(2025, 1, 1))
    for _ in range(2):  # the second time from the memo, when the shape allows one
        merged = resolve(record, {"src": {"m1": {"capabilities": offered}}}, None, {})
        assert merged.capabilities == ("chat", "vision")
        assert merged.field_sources == {"capabilities": "src", "release_date": "api"}


@pytest.mark.parametrize(
    ("offered", "expected"),
    [
        # models.dev publishes features, never the kind of model: the guessed kind stays.
        (("vision", "function_calling"), ("chat", "vision", "function_calling")),
        # A source that names a kind (LiteLLM's `mode`) decides it.
        (("embedding",), ("embedding",)),
    ],
)
def test_a_source_decides_features_over_a_guess_and_the_kind_only_if_it_names_one(
    offered: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    (record,), _ = normalize(
        [
            ModelRecord(
                "gpt-x",
                capabilities=("chat", "vision", "reasoning"),
                field_sources={"capabilities": RULE},
            )
        ]
    )
    merged = resolve(record, {"models.dev": {"gpt-x": {"capabilities": offered}}}, None, {})
    assert merged.capabilities == expected
    assert merged.field_sources == {"capabilities": "models.dev"}
    assert merged.disagreements == {"capabilities": {"rule": ("chat", "vision", "reasoning")}}
