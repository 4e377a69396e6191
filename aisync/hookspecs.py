"""The hooks an aisync plugin can implement.

A plugin is a module or object with functions marked `@aisync.hookimpl` whose names are the
hooks below. Publish it under the entry-point group `aisync`::

    [project.entry-points.aisync]
    myprovider = "my_package.my_module"

The built-in providers are registered exactly this way. Hooks receive and return only the
frozen dataclasses of `aisync.records`; they never see the database.

The core calls each plugin's implementation on its own, in pluggy's order, so a plugin
that fails costs only its own answer. Any exception, `SystemExit` included, is that
plugin's failure, reported with its name; only `KeyboardInterrupt` ends the run. Hook
wrappers (`wrapper=True`, `hookwrapper=True`) are not supported: such a plugin is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import httpx

    from aisync.context import SourceContext
    from aisync.records import ModelRecord, Provider, ProviderInfo, RawListing
    from aisync.report import SyncReport
    from aisync.settings import Settings

hookspec = pluggy.HookspecMarker("aisync")


@hookspec
def discover_providers(settings: Settings) -> Sequence[ProviderInfo] | None:
    """Return the kinds of provider this plugin can list models for.

    Called once per run; the results of every plugin are collected. Describe each provider
    with a `ProviderInfo`: its name, display name, default base URL and where its ecosystem
    keeps the key (`OPENAI_API_KEY`). Do not read the environment for keys yourself: the
    core resolves every instance's key and base URL the same way (`AISYNC_<NAME>_API_KEY`,
    `AISYNC_<NAME>_BASE_URL`, the config file, then your `api_key_env_vars`) and decides
    which instances are available.

    :param settings: the run's settings, for plugins whose offer depends on them.
    :return: the providers this plugin serves, or None for none.
    """


@hookspec(firstresult=True)
def fetch_models(
    provider: Provider, client: httpx.Client, settings: Settings
) -> Iterable[ModelRecord] | RawListing | None:
    """Fetch the live model list of `provider` and return it normalized, or raw first.

    Only the plugin that serves `provider.type` answers; every other plugin returns None
    (this hook stops at the first non-None result). Use `provider.base_url` and
    `provider.api_key`, follow every page, and make every request through `client`: it
    carries the run's timeout, User-Agent and retries, and HTTP errors raised through it are
    already mapped to the seed's messages. Parse responses with `aisync.http.json_body` and
    raise `aisync.errors.BadResponse` for a body of the wrong shape. Never log the key.

    Your exception fails the provider, with your plugin named, only for a type your
    `discover_providers` declared; raised for any other type, it is logged as a warning
    naming your plugin and the next plugin is asked.

    :param provider: the configured instance to list (its name may differ from its type).
    :param client: the run's shared HTTP client; do not create your own.
    :param settings: the run's settings.
    :return: every model the provider lists, or None if `provider` is not yours: a list,
        or an iterator that yields page by page (return it from a plain function, which
        can still return None). The core reads it as it arrives and keeps each model's
        `raw` as compact JSON text, so a listing of 100,000 models is never held twice;
        an error raised while it is read fails the provider like one raised at once.
        Or, for a listing that can be big, a `RawListing`: each page's raw items and a
        pure function that makes a record of one item. The core then builds records only
        for the items that are new or changed since the last sync (matched by a digest
        of the item's JSON), so an unchanged listing of 100,000 models costs little more
        than fetching it::

            @hookimpl
            def fetch_models(provider, client, settings):
                if provider.type != "myprovider":
                    return None
                pages = (json_body(client.get(url))["data"] for url in page_urls(provider))
                return RawListing(pages=pages, record=model_record, version="1")
    """


@hookspec
def count_stats(provider: Provider, models: Sequence[ModelRecord]) -> Mapping[str, float] | None:
    """Count a provider's freshly synced models: how many are in each family, have each
    capability, and so on.

    Every figure must be a count, the sum over `models` of what each model adds (usually
    1 or 0), so that the figures of a listing are the sums of the figures of its parts.
    aisync relies on that: when a re-sync of a big listing changed a few models, it asks
    for the counts of the models added and changed and of the versions they replace, and
    updates the previous sync's figures, instead of asking about every model again. So a
    count must depend on the model alone, never on the others in `models` or on how many
    there are.

    Every plugin may answer for any provider. Counts of the same name from several plugins
    add up; a count of 0 is left out. The built-in implementation counts `Total` and each
    capability (`Function calling`, `Vision`, ...); a provider plugin counts its families
    (`GPT-4`, `Gemini Flash`). They are stored in `provider_stats` and shown by
    `sync-models -v`. An implementation that raises, or answers with values that are not
    numbers, loses only its own figures: the others are kept and `stats_error` names the
    plugin. A figure that is not a count (a share, a median) belongs in `compute_stats`.

    :param provider: the instance whose models were synced.
    :param models: normalized records of that provider: the whole listing, or a part.
    :return: figure name -> count, or None for nothing to add.
    """


@hookspec
def compute_stats(provider: Provider, models: Sequence[ModelRecord]) -> Mapping[str, float] | None:
    """Contribute named statistics for a provider's freshly synced model list.

    For figures that are not counts (a share, a median, a maximum): each is worked out
    over the whole listing, so while any plugin implements this hook every sync maps every
    model of a raw-first listing for it. Counts belong in `count_stats`, which costs
    nothing for the models that did not change. Every plugin may answer for any provider;
    the results follow the counts, in call order, a name already counted keeping its
    count. They are stored in `provider_stats` and shown by `sync-models -v`. An
    implementation that raises, or answers with values that are not numbers, loses only
    its own figures: the others are kept and `stats_error` names the plugin.

    :param provider: the instance whose models were synced.
    :param models: the normalized records just synced.
    :return: statistic name -> value, or None for nothing to add.
    """


@hookspec
def sync_finished(report: SyncReport, settings: Settings) -> None:
    """React to a finished sync run: notify on failures or changes (log, webhook, Slack).

    Called once at the end of every `Syncer.sync_models` call that returns a report,
    including dry runs (`report.dry_run` is then True and nothing was written) and runs
    that found no provider to sync (`report.message`). It is not called when the run is
    interrupted (Ctrl-C) or the database fails, since no report exists then. Every
    implementation is called even if another one raises: an exception is logged (logger
    `aisync`, one line; the traceback at debug level) and never changes the run's outcome
    or exit code. The call is synchronous, so keep it quick or hand the work off.

    :param report: the run's report: per-provider results (`report.failed`,
        `result.added`, ...), `report.exit_code` and `report.run_id`.
    :param settings: the run's settings.
    """


@hookspec(firstresult=True)
def enrich_models(
    source: str, provider: Provider, models: Sequence[ModelRecord], context: SourceContext
) -> Mapping[str, Mapping[str, object]] | None:
    """Say what the enrichment source `source` knows about a provider's freshly listed models.

    Called once per configured source (`AISYNC_ENRICH`, `[enrich] sources`), in the
    configured order, for every provider that synced. Only the plugin that serves the source
    named `source` answers; every other plugin returns None (this hook stops at the first
    non-None result). Answer with model id -> {field: value} for the models you know, in
    aisync's normalized units (token counts as int, prices in USD per million tokens,
    dates as `datetime.date`, `capabilities` in the words of `aisync.CAPABILITIES`), using
    only names of `aisync.records.ENRICHABLE_FIELDS`. Return an empty mapping when the
    source is yours but knows nothing about this provider.

    Match exactly: by `provider.type` (an `openai-eu` instance of type `openai` matches
    `openai` entries) and the model id after documented normalizations only, with a
    dictionary look-up per model. Never guess by prefix or similarity: an unmatched model
    simply keeps its fields empty.

    You only propose values. The core applies the precedence (a user override, then the
    provider's own API, then the sources in their configured order), records per field
    where each value came from, and carries values forward when a source is unavailable.
    Download through `context.fetch_json(default_url)`, which honours the user's URL
    setting, downloads at most once per run, revalidates a cached copy and answers None
    when there is no data; build your look-up index once per run with `context.memo`.
    Never raise for a missing or odd entry: an enricher must not fail a provider's sync.
    A plugin that raises before the source's own plugin answers costs the source nothing
    (a warning naming it is logged); when no plugin answers, the failures are the
    provider's warning and the source's previous values are carried forward.

    :param source: the name of the source to answer for (`models.dev`, `litellm`, ...).
    :param provider: the instance whose models were listed.
    :param models: the normalized records the provider's API returned.
    :param context: the source's settings, its download and its per-run memo.
    :return: model id -> field values, an empty mapping, or None if `source` is not yours.
    """
