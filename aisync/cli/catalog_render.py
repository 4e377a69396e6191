"""How the catalog's records look to people: one function per command's output."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from aisync.catalog.records import (
    VERSION_FIELDS,
    CatalogModel,
    Change,
    FieldChange,
    FieldProvenance,
    ModelHistory,
    ProviderStatus,
    RunRecord,
    StatsSnapshot,
)
from aisync.cli.render import Output, number, shown_figures
from aisync.cli.tables import (
    WIDTH_SAMPLE,
    cell,
    duration,
    print_fields,
    print_table,
    stream_table,
    when,
)
from aisync.records import API

if TYPE_CHECKING:
    from aisync.sync.discovery import AvailableType

STATUS_MARKS = {"synced": "✓", "skipped": "⏭", "failed": "❌"}
#: Capabilities as short tags, for a models table that must fit a narrow terminal.
CAPABILITY_TAGS = {
    "completion": "compl",
    "embedding": "embed",
    "image_generation": "img-gen",
    "video_generation": "video-gen",
    "audio_input": "audio",
    "transcription": "stt",
    "function_calling": "tools",
    "structured_output": "json",
    "reasoning": "reason",
    "moderation": "moder",
    "fine_tuning": "tune",
}
#: What `models show --sources` says of a field nothing gave a value.
NO_SOURCE = "no source knows it"


def render_providers(providers: Sequence[ProviderStatus], output: Output) -> None:
    headers = ("PROVIDER", "PLUGIN", "CREDENTIALS", "BASE URL", "LAST SYNC", "MODELS", "LAST ERROR")
    rows = [_provider_row(p) for p in providers]
    drop = ("BASE URL", "LAST SYNC", "CREDENTIALS")
    print_table(output, headers, rows, solid=("PROVIDER",), drop=drop)


def render_available(types: Sequence[AvailableType], output: Output) -> None:
    """`providers --available`: each type, its key variables, when and whether it syncs here."""
    headers = ("TYPE", "PROVIDER", "PLUGIN", "KEY VARIABLE", "SYNCS", "HERE")
    rows = [_available_row(t) for t in types]
    print_table(output, headers, rows, solid=("TYPE",), drop=("PLUGIN", "PROVIDER"))


def _available_row(kind: AvailableType) -> tuple[str, ...]:
    keys = " or ".join(kind.key_variables) or ("none" if not kind.requires_api_key else "-")
    here = "-"
    if kind.syncing:
        here = "syncs: " + ", ".join(kind.syncing)
    elif kind.named_only:
        here = "key set, syncs when named: " + ", ".join(kind.named_only)
    return (kind.type, kind.display_name, cell(kind.plugin), keys, kind.syncs, here)


def _provider_row(provider: ProviderStatus) -> tuple[str, ...]:
    if provider.load_error is not None:
        return (provider.name, f"failed to load: {provider.load_error}", *["-"] * 5)
    plugin = provider.plugin or "not installed"
    if provider.distribution:
        plugin = f"{provider.plugin} ({provider.distribution} {provider.distribution_version})"
    return (
        provider.name,
        plugin,
        _credentials(provider),
        cell(provider.base_url),
        when(provider.last_synced_at),
        str(provider.models_listed),
        cell(provider.last_error),
    )


def _credentials(provider: ProviderStatus) -> str:
    if not provider.configured:
        return "-"
    text = (
        "yes" if provider.credentials_present else "set " + " or ".join(provider.credential_sources)
    )
    return text if provider.enabled else f"{text} (not enabled)"


def render_models(models: Sequence[CatalogModel], output: Output, *, removed: bool) -> None:
    rows = model_rows(models, removed)
    tags = [" ".join(CAPABILITY_TAGS.get(c, c) for c in m.capabilities) or "-" for m in models]
    drop = ("CAPABILITIES", "MAX OUTPUT", "OUTPUT $/M", "INPUT $/M")
    solid = ("PROVIDER", "MODEL")
    headers = model_headers(removed)
    print_table(output, headers, rows, solid=solid, drop=drop, short={"CAPABILITIES": tags})


def stream_models(models: Iterator[CatalogModel], *, removed: bool) -> int:
    """The piped form of `render_models`, written as the models come (see `stream_table`)."""
    return stream_table(model_headers(removed), _streamed_rows(models, removed))


def _streamed_rows(models: Iterator[CatalogModel], removed: bool) -> Iterator[Sequence[str]]:
    while batch := list(islice(models, WIDTH_SAMPLE)):
        yield from model_rows(batch, removed)


def model_headers(removed: bool) -> list[str]:
    headers = ["PROVIDER", "MODEL", "CONTEXT", "MAX OUTPUT", "INPUT $/M", "OUTPUT $/M"]
    headers.append("CAPABILITIES")
    if removed:
        headers.append("REMOVED")
    return headers


def model_rows(models: Sequence[CatalogModel], removed: bool) -> list[tuple[str, ...]]:
    """The table cells of each model, a column at a time (see `_cells`)."""
    columns = [
        [model.provider for model in models],
        [model.model_id for model in models],
        _contexts(models),
        _cells([model.max_output_tokens for model in models]),
        _cells([model.input_price_per_mtok for model in models]),
        _cells([model.output_price_per_mtok for model in models]),
        _cells([model.capabilities for model in models]),
    ]
    if removed:
        columns.append(_cells([model.removed_at for model in models]))
    return list(zip(*columns, strict=True))


def _cells(values: list[Any]) -> list[str]:
    """`cell` of each value, each distinct value once: a listing's token limits, prices and
    capabilities repeat. (Equal numbers of different types, 1 and 1.0, are the same cell.)"""
    text = {value: cell(value) for value in set(values)}
    return list(map(text.__getitem__, values))


def _contexts(models: Sequence[CatalogModel]) -> list[str]:
    """The context windows; when only the input limit is known (a dated snapshot), that,
    marked `in`: `1047576 in`."""
    found = _cells([model.context_window for model in models])
    for index, model in enumerate(models):
        if model.context_window is None and model.max_input_tokens is not None:
            found[index] = f"{number(model.max_input_tokens)} in"
    return found


def render_history(history: ModelHistory, output: Output) -> None:
    """The latest fields (with their origin when it is not the provider's API), the versions
    with what changed, the events."""
    model = history.model
    fields = [("Provider", model.provider), ("Model", model.model_id)]
    fields += [
        (_label(name), _with_origin(getattr(model, name), model.field_sources.get(name)))
        for name in VERSION_FIELDS
    ]
    fields += [
        ("Version", str(model.version)),
        ("First seen", when(model.first_seen_at)),
        ("Last seen", when(model.last_seen_at)),
        ("Removed", when(model.removed_at) if model.removed_at else "no, listed"),
    ]
    print_fields(output, fields)
    output.line()
    output.line("Versions:")
    rows = [
        (str(v.version), when(v.created_at), str(v.run_id), describe(v.changes) or "first version")
        for v in history.versions
    ]
    print_table(output, ("VERSION", "RECORDED", "RUN", "CHANGES"), rows)
    output.line()
    output.line("Events:")
    rows = [(when(e.changed_at), e.change, str(e.version), str(e.run_id)) for e in history.events]
    print_table(output, ("WHEN", "EVENT", "VERSION", "RUN"), rows)


def _with_origin(value: object, source: str | None) -> str:
    if source is None or source == API:
        return cell(value)
    return f"{cell(value)}  ({source})"


def render_sources(fields: Sequence[FieldProvenance], output: Output) -> None:
    """One line per field: value, origin, and the values other origins offered that lost."""
    rows = [
        (
            f.field,
            cell(f.value),
            _source(f),
            "; ".join(f"{origin}: {cell(value)}" for origin, value in f.others.items()) or "-",
        )
        for f in fields
    ]
    print_table(output, ("FIELD", "VALUE", "SOURCE", "OTHERS OFFERED"), rows)


def _source(field: FieldProvenance) -> str:
    """Versions written before provenance was recorded have values with no origin."""
    if field.source is not None:
        return field.source
    return NO_SOURCE if field.value in (None, ()) else "not recorded"


def describe(changes: Sequence[FieldChange]) -> str:
    """`input_price_per_mtok: 1 -> 2 (models.dev); context_window: 8 -> 9 (api -> override)`.

    The origin is named when it is not the API, or when it changed.
    """
    return "; ".join(f"{c.field}: {cell(c.old)} -> {cell(c.new)}{_origins(c)}" for c in changes)


def _origins(change: FieldChange) -> str:
    old, new = change.old_source, change.new_source
    if old is not None and new is not None and old != new:
        return f" ({old} -> {new})"
    shown = new or old
    return "" if shown in (None, API) else f" ({shown})"


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def render_runs(runs: Sequence[RunRecord], output: Output) -> None:
    headers = (
        "RUN",
        "STARTED",
        "STATUS",
        "DURATION",
        "PROVIDERS",
        "FOUND",
        "ADDED",
        "CHANGED",
        "REMOVED",
    )
    rows = []
    for run in runs:
        outcomes = run.providers
        rows.append(
            (
                str(run.id),
                when(run.started_at),
                run.status,
                duration(run.duration_ms),
                ", ".join(f"{p.provider} {STATUS_MARKS.get(p.status, p.status)}" for p in outcomes)
                or "-",
                str(sum(p.models_found or 0 for p in outcomes)),
                str(sum(p.models_added for p in outcomes)),
                str(sum(p.models_changed for p in outcomes)),
                str(sum(p.models_removed for p in outcomes)),
            )
        )
    counts = [_outcome_count(run) for run in runs]
    drop = ("DURATION", "PROVIDERS", "REMOVED", "CHANGED")
    solid = ("RUN", "STATUS")
    print_table(output, headers, rows, solid=solid, drop=drop, short={"PROVIDERS": counts})


def _outcome_count(run: RunRecord) -> str:
    """`3` or `3 (1 ❌)`: the providers of a run, when their names do not fit."""
    failed = sum(p.status == "failed" for p in run.providers)
    return f"{len(run.providers)} ({failed} ❌)" if failed else str(len(run.providers))


def render_run(run: RunRecord, output: Output) -> None:
    print_fields(
        output,
        [
            ("Run", str(run.id)),
            ("Started", when(run.started_at)),
            ("Finished", when(run.finished_at) if run.finished_at else "-"),
            ("Duration", duration(run.duration_ms)),
            ("Status", run.status),
            ("Exit code", cell(run.exit_code)),
            ("Forced", cell(run.forced)),
            ("Requested", cell(run.requested_providers) if run.requested_providers else "all"),
            ("aisync", run.aisync_version),
        ],
    )
    output.line()
    headers = (
        "PROVIDER",
        "STATUS",
        "REASON",
        "FOUND",
        "ADDED",
        "CHANGED",
        "REMOVED",
        "DURATION",
        "ERROR",
    )
    rows = [
        (
            p.provider,
            p.status,
            cell(p.reason),
            cell(p.models_found),
            str(p.models_added),
            str(p.models_changed),
            str(p.models_removed),
            duration(p.duration_ms),
            cell(p.error),
        )
        for p in run.providers
    ]
    drop = ("DURATION", "REASON", "REMOVED", "CHANGED")
    print_table(output, headers, rows, solid=("PROVIDER", "STATUS"), drop=drop)


def render_changes(changes: Sequence[Change], output: Output) -> None:
    headers = ("WHEN", "PROVIDER", "MODEL", "CHANGE", "VERSION", "DETAILS")
    rows = [
        (
            when(c.changed_at),
            c.provider,
            c.model_id,
            c.change,
            str(c.version),
            describe(c.fields) or "-",
        )
        for c in changes
    ]
    solid = ("PROVIDER", "MODEL", "CHANGE")
    print_table(output, headers, rows, solid=solid, drop=("VERSION", "WHEN"))


def render_stats(snapshots: Sequence[StatsSnapshot], output: Output, *, history: bool) -> None:
    """A figure x provider grid; with history, one figure per line and how each moved since
    the sync before. Families of zero models are left out (`shown_figures`)."""
    if not history:
        _render_stats_grid(snapshots, output)
        return
    headers = ("PROVIDER", "SYNCED", "RUN", "STATISTIC", "VALUE")
    rows = []
    previous: dict[tuple[str, str], float] = {}
    for snapshot in snapshots:
        for name, value in snapshot.figures.items():
            if not (value or previous.get((snapshot.provider, name)) or name == "Total"):
                continue
            row = [snapshot.provider, when(snapshot.synced_at), str(snapshot.run_id), name]
            row.append(number(value))
            if history:
                before = previous.get((snapshot.provider, name))
                row.append("-" if before is None else _delta(value - before))
                previous[(snapshot.provider, name)] = value
            rows.append(row)
    headers = (*headers, "CHANGE") if history else headers
    print_table(output, headers, rows, solid=("PROVIDER",), drop=("RUN", "SYNCED"))


def _render_stats_grid(snapshots: Sequence[StatsSnapshot], output: Output) -> None:
    """One row per figure, one column per provider; when each was synced above it."""
    for snapshot in snapshots:
        output.line(f"{snapshot.provider}: run {snapshot.run_id}, {when(snapshot.synced_at)}")
    output.line()
    names: dict[str, None] = {}
    for snapshot in snapshots:
        names.update(dict.fromkeys(shown_figures(snapshot.figures)))
    headers = ("STATISTIC", *(s.provider for s in snapshots))
    rows = [(name, *(cell(s.figures.get(name)) for s in snapshots)) for name in names]
    print_table(output, headers, rows, solid=headers)


def _delta(difference: float) -> str:
    if difference == 0:
        return "="
    return f"+{number(difference)}" if difference > 0 else number(difference)
