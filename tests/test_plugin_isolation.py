"""One broken plugin costs only its own answer: every hook implementation is called on its
own, its exception is put down to it, and the other plugins' answers are kept.

Each case syncs the built-in `mock` provider and a second one (`second`, served by the
`Second` plugin below) next to a careless or broken plugin, through the real engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from aisync import hookimpl
from aisync.records import ModelRecord, Provider, ProviderInfo
from aisync.report import SkippedProvider, SyncReport
from aisync.settings import load_settings
from aisync.sync.engine import Syncer

SECOND = ProviderInfo(name="second", display_name="Second", requires_api_key=False)
BOTH = ("mock", "second")


class Second:
    """Serves the provider type `second`; `fail` is raised by its own fetch, `fail_late`
    while its listing is read."""

    def __init__(
        self, fail: BaseException | None = None, fail_late: BaseException | None = None
    ) -> None:
        self.fail = fail
        self.fail_late = fail_late

    @hookimpl
    def discover_providers(self, settings: object) -> list[ProviderInfo]:
        return [SECOND]

    @hookimpl
    def fetch_models(self, provider: Provider) -> Iterator[ModelRecord] | None:
        if provider.type != "second":
            return None
        if self.fail is not None:
            raise self.fail
        return self._listing()

    def _listing(self) -> Iterator[ModelRecord]:
        yield ModelRecord("second-1", capabilities=("chat",))
        if self.fail_late is not None:
            raise self.fail_late
        yield ModelRecord("second-2", capabilities=("chat", "vision"))


class Careless:
    """Answers every call without looking at the provider type or source, and fails."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    @hookimpl
    def fetch_models(self, provider: Provider) -> None:
        raise self.error

    @hookimpl
    def enrich_models(self, source: str) -> None:
        raise self.error


class Counting:
    """A statistics plugin that works."""

    @hookimpl
    def compute_stats(self, models: Sequence[ModelRecord]) -> dict[str, int]:
        return {"Counted": len(models)}


class BrokenStats:
    def __init__(self, error: BaseException | None = None, answer: object = None) -> None:
        self.error = error
        self.answer = answer

    @hookimpl
    def compute_stats(self, provider: Provider) -> object:
        if self.error is not None:
            raise self.error
        return self.answer


class Recorder:
    def __init__(self) -> None:
        self.reports: list[SyncReport] = []

    @hookimpl
    def sync_finished(self, report: SyncReport) -> None:
        self.reports.append(report)


class Quitter:
    """Calls `sys.exit` from every hook it implements, as a careless script would."""

    @hookimpl
    def discover_providers(self, settings: object) -> None:
        raise SystemExit(2)

    @hookimpl
    def sync_finished(self, report: SyncReport) -> None:
        raise SystemExit(1)


class TeamSheet:
    """An enrichment source, `team-sheet`, that knows one mock model."""

    @hookimpl
    def enrich_models(self, source: str, provider: Provider) -> Any:
        if source != "team-sheet":
            return None
        return {"mock-basic": {"knowledge_cutoff": "2024-01"}} if provider.type == "mock" else {}


Sync = Callable[..., SyncReport]


@pytest.fixture
def sync(sqlite_url: str) -> Iterator[Sync]:
    """Run one forced sync of `providers` with `plugins` registered after the entry points
    (so pluggy calls them first), closing every syncer made."""
    syncers: list[Syncer] = []

    def run(*plugins: object, providers: Sequence[str] = BOTH, **environ: str) -> SyncReport:
        settings = load_settings({"database_url": sqlite_url}, environ=environ)
        syncer = Syncer(settings=settings, plugins=plugins)
        syncers.append(syncer)
        return syncer.sync_models(list(providers), force=True)

    try:
        yield run
    finally:
        for syncer in syncers:
            syncer.close()


def outcome(report: SyncReport) -> dict[str, tuple[str, str | None]]:
    return {r.provider: (r.status, r.error) for r in report.results}


@pytest.mark.parametrize("error", [RuntimeError("no such endpoint"), SystemExit(3)])
def test_a_foreign_fetch_that_raises_fails_no_provider(
    sync: Sync, error: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    """`Careless` is asked first for every provider and raises without looking: it serves
    no type, so its exception is a warning naming it and the owners still answer."""
    with caplog.at_level(logging.WARNING, logger="aisync"):
        report = sync(Second(), Careless(error))
    assert outcome(report) == {"mock": ("synced", None), "second": ("synced", None)}
    assert report.exit_code == 0
    described = f"{type(error).__name__}: {error}"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for name, kind in (("mock", "mock"), ("second", "second")):
        assert (
            f"fetch_models hook of Careless failed for provider {name}, whose type {kind}"
            f" it does not serve; skipped: {described}"
        ) in warnings


@pytest.mark.parametrize(
    ("plugin", "error"),
    [
        (Second(fail=RuntimeError("quota table missing")), "RuntimeError: quota table missing"),
        (Second(fail=SystemExit(4)), "SystemExit: 4"),
        (Second(fail_late=SystemExit(5)), "SystemExit: 5"),
        (Second(fail_late=GeneratorExit("page 2")), "GeneratorExit: page 2"),
    ],
    ids=["raises", "exits", "exits-midway", "generator-exit-midway"],
)
def test_the_owners_failure_fails_its_provider_only_and_names_it(
    sync: Sync, plugin: Second, error: str
) -> None:
    report = sync(plugin)
    assert outcome(report) == {
        "mock": ("synced", None),
        "second": ("failed", f"Plugin Second failed: {error}"),
    }
    assert report.exit_code == 2


def test_a_failing_statistics_plugin_loses_only_its_own_figures(sync: Sync) -> None:
    report = sync(Second(), Counting(), BrokenStats(RuntimeError("no figures today")))
    assert len(report.results) == 2
    for result in report.results:
        assert result.status == "synced"
        assert result.stats_error == "plugin BrokenStats: RuntimeError: no figures today"
        assert result.stats["Total"] == result.stats["Counted"] == result.models_found
        assert result.stats["Chat"] == result.models_found


def test_statistics_that_are_not_numbers_cost_only_their_plugin(sync: Sync) -> None:
    report = sync(Second(), Counting(), BrokenStats(answer={"Families": "many"}))
    (mock, second) = report.results
    assert mock.stats_error is not None and mock.stats_error.startswith(
        "plugin BrokenStats: ValueError:"
    )
    assert (mock.stats["Total"], mock.stats["Counted"], second.stats["Counted"]) == (3, 3, 2)
    assert "Families" not in mock.stats


def test_sys_exit_in_a_hook_is_that_plugins_failure_and_ctrl_c_still_aborts(
    sync: Sync, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    with caplog.at_level(logging.WARNING, logger="aisync"):
        report = sync(recorder, Second(), Quitter(), BrokenStats(SystemExit(6)))
    assert outcome(report) == {"mock": ("synced", None), "second": ("synced", None)}
    assert report.results[0].stats_error == "plugin BrokenStats: SystemExit: 6"
    assert report.results[0].stats["Total"] == 3
    assert SkippedProvider("Quitter", "SystemExit: 2") in report.skipped_providers
    assert recorder.reports == [report]
    assert "sync_finished hook of Quitter failed: SystemExit: 1" in caplog.messages

    with pytest.raises(KeyboardInterrupt):
        sync(Second(), BrokenStats(KeyboardInterrupt()), providers=["second"])


def test_a_foreign_enricher_that_raises_does_not_cost_the_source(
    sync: Sync, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """`Careless` is asked first for every source; `TeamSheet` still serves its own."""
    with caplog.at_level(logging.WARNING, logger="aisync"):
        report = sync(TeamSheet(), Second(), Careless(SystemExit(7)), AISYNC_ENRICH="team-sheet")
    assert outcome(report) == {"mock": ("synced", None), "second": ("synced", None)}
    assert [r.warnings for r in report.results] == [(), ()]
    assert report.warnings == ()
    assert (
        "enrich_models hook of Careless failed for source team-sheet and provider mock,"
        " which plugin TeamSheet serves; skipped: SystemExit: 7"
    ) in caplog.messages
    engine = create_engine(sqlite_url)
    with engine.connect() as connection:
        cutoff = connection.execute(
            text("SELECT knowledge_cutoff FROM current_models WHERE model_id = 'mock-basic'")
        ).scalar_one()
    engine.dispose()
    assert cutoff == "2024-01"


def test_a_source_whose_plugins_all_fail_names_them(sync: Sync) -> None:
    report = sync(
        Careless(RuntimeError("sheet missing")), providers=["mock"], AISYNC_ENRICH="team-sheet"
    )
    assert [r.warnings for r in report.results] == [
        ("Enrichment source team-sheet failed: plugin Careless: RuntimeError: sheet missing",)
    ]
    assert report.exit_code == 0


class Wrapping:
    """A hook wrapper: it would wrap a call that no longer exists, so it is refused."""

    @hookimpl(wrapper=True)
    def compute_stats(self) -> Iterator[None]:
        return (yield)


def test_a_hook_wrapper_is_refused_with_its_reason(sync: Sync) -> None:
    report = sync(Wrapping(), providers=["mock"])
    assert outcome(report) == {"mock": ("synced", None)}
    assert (
        SkippedProvider("Wrapping", "compute_stats: hook wrappers are not supported")
        in report.skipped_providers
    )
