"""Rendering for people: the seed's output blocks, word for word, coloured on a terminal.

Results go to stdout, diagnostics (errors, skipped plugins) to stderr. Rich drops colour
by itself when the stream is not a terminal or `NO_COLOR` is set.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, ClassVar

from aisync.report import DryRunChanges, ProviderResult, SyncReport

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.spinner import Spinner

    from aisync.catalog.overrides import Override
    from aisync.sync.progress import ProgressEvent

PREVIEW_MODELS = 3
#: How many ids a dry run lists per kind of change without -v.
PREVIEW_CHANGES = 10
#: Redraws of the live board per second: enough for a spinner, cheap beside the fetches.
LIVE_REFRESH_PER_SECOND = 4


class Output:
    """The two consoles of a command."""

    def __init__(self, *, quiet: bool = False, verbose: int = 0) -> None:
        self.quiet = quiet
        self.verbose = verbose

    @cached_property
    def out(self) -> Console:
        """Made on first use, as every rich module is imported: `aisync --help` never
        renders, and `sync-models --quiet` with nothing to say loads no rich at all."""
        from rich.console import Console

        return Console(soft_wrap=True, highlight=False)

    @cached_property
    def err(self) -> Console:
        from rich.console import Console

        return Console(stderr=True, soft_wrap=True, highlight=False)

    def line(self, text: str = "", style: str | None = None) -> None:
        if not self.quiet:
            self.out.print(text, style=style, markup=False)

    def error(self, text: str) -> None:
        self.err.print(text, style="red", markup=False)

    @contextmanager
    def progress(self, title: str) -> Iterator[Callable[[ProgressEvent], None] | None]:
        """What a run tells while it runs: with -v, a line on stderr per retry; when both
        streams are a terminal, a live board on stderr (a spinner and the elapsed time of
        each fetch under way, the line of each finished one), erased when the run ends so
        that the report prints as it always does. Piped (cron), nothing at all."""
        live = not self.quiet and self.out.is_terminal and self.err.is_terminal
        retries = bool(self.verbose) and not self.quiet
        if not live:
            yield self._retry_line if retries else None
            return
        from rich.live import Live

        board = _Board(title)

        def update(event: ProgressEvent) -> None:
            board.update(event)
            if retries:
                self._retry_line(event)

        with Live(
            board,
            console=self.err,
            refresh_per_second=LIVE_REFRESH_PER_SECOND,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        ):
            yield update

    def _retry_line(self, event: ProgressEvent) -> None:
        """`openai: retrying after 429, 2 s`, printed above the live board when there is one."""
        from aisync.sync.progress import Retrying

        if isinstance(event, Retrying):
            from rich.text import Text

            wait = number(round(event.wait_s, 1))
            line = f"{event.provider}: retrying after {event.reason}, {wait} s"
            # Styled as a Text, not by `style=`: that would colour the board redrawn below it.
            self.err.print(Text(line, style="yellow"))

    def note(self, text: str) -> None:
        """Diagnostics shown with -v only."""
        if self.verbose and not self.quiet:
            self.err.print(text, style="yellow", markup=False)


class _Board:
    """What the live display shows: one line per provider heard from, updated from the
    fetch threads and drawn by the display's own thread (hence the lock)."""

    MARKS: ClassVar[dict[str, str]] = {"synced": "✓", "skipped": "⏭", "failed": "❌"}

    def __init__(self, title: str) -> None:
        self.title = title
        self.pages: dict[str, int] = {}
        self.done: dict[str, ProviderResult] = {}
        #: When each fetch under way began (monotonic), for its elapsed time.
        self.began: dict[str, float] = {}
        self._spinners: dict[str, Spinner] = {}
        self._lock = threading.Lock()

    def update(self, event: ProgressEvent) -> None:
        # Imported here: only a sync has progress, and the catalog commands render too.
        from aisync.sync.progress import FetchBegan, PagesFetched

        with self._lock:
            if isinstance(event, FetchBegan):
                self.began.setdefault(event.provider, time.monotonic())
            elif isinstance(event, PagesFetched):
                self.pages[event.provider] = event.pages
            elif isinstance(event, ProviderResult):
                self.done[event.provider] = event

    def __rich__(self) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        with self._lock:
            lines: list[RenderableType] = [Text(self.title, style="bold")]
            for provider in sorted(set(self.began) | set(self.pages) | set(self.done)):
                lines.append(self._line(provider))
            models = sum(result.models_found or 0 for result in self.done.values())
        lines.append(Text(f"{plural(models, 'model')} so far", style="dim"))
        return Group(*lines)

    def _line(self, provider: str) -> RenderableType:
        from rich.spinner import Spinner
        from rich.text import Text

        pages = self.pages.get(provider, 0)
        fetched = f"{plural(pages, 'page')} fetched" if pages else ""
        result = self.done.get(provider)
        if result is None:
            began = self.began.get(provider)
            elapsed = f"{int(time.monotonic() - began)} s" if began is not None else ""
            spinner = self._spinners.setdefault(provider, Spinner("dots"))
            spinner.update(text=f"{provider}  {', '.join(filter(None, (elapsed, fetched)))}")
            return spinner
        found = ""
        if result.status == "synced":
            found = f", {plural(result.models_found or 0, 'model')}"
        return Text(f"{self.MARKS[result.status]} {provider}  {fetched}{found}".rstrip())


def ago(when: datetime | None, now: datetime | None = None) -> str:
    """`2 hours ago`, `Never`: the seed's way of saying how old a sync is."""
    if when is None:
        return "Never"
    seconds = int(((now or datetime.now(UTC)) - when).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def plural(count: int, noun: str) -> str:
    """`1 model`, `15 models`: the seed's counts, grammatical at one."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def render_sync(report: SyncReport, output: Output) -> None:
    for skipped in report.skipped_providers:
        output.note(f"Skipping {skipped.name}: {skipped.reason}")
    if report.message is not None:
        output.error(report.message)
        return
    if report.dry_run:
        output.line("DRY RUN - No changes will be made", style="bold yellow")
        output.line()
    output.line("Syncing models from AI providers...", style="bold")
    output.line()
    for result in report.results:
        _render_provider(result, report.dry_run, output)
        output.line()
    _render_summary(report, output)
    _render_run_warnings(report, output)


def _render_run_warnings(report: SyncReport, output: Output) -> None:
    """Once per run on stderr, even with --quiet: a source that is down means stale or
    missing prices, which a cron user wants to hear about although the sync succeeded."""
    for warning in report.warnings:
        output.err.print(f"⚠ {warning}", style="yellow", markup=False)


def _render_provider(result: ProviderResult, dry_run: bool, output: Output) -> None:
    output.line(f"{result.provider}:", style="bold")
    if result.status == "skipped":
        output.line(f"  ⏭ Skipped ({result.reason})", style="cyan")
        output.line(f"    Last sync: {ago(result.last_synced_at)}")
    elif result.status == "failed":
        output.line(f"  ❌ Synchronization failed: {result.error}", style="red")
    elif dry_run:
        _render_dry_run(result, output)
    else:
        _render_synced(result, output)
    # Shown without -v: each tells of models or values the catalog did not get.
    for warning in result.warnings:
        output.line(f"  ⚠ {warning}", style="yellow")


def _render_synced(result: ProviderResult, output: Output) -> None:
    output.line(f"  ✓ Found {plural(result.models_found or 0, 'model')}", style="green")
    if output.verbose:
        output.line(f"    {result.added} added, {result.changed} changed, {result.removed} removed")
    if result.stats_error:
        output.line(f"  ⚠ Statistics failed: {result.stats_error}", style="yellow")
        return
    output.line("  ✓ Statistics updated", style="green")
    if output.verbose:
        for name, value in shown_figures(result.stats).items():
            output.line(f"    - {name}: {number(value)}")


def shown_figures(figures: Mapping[str, float]) -> dict[str, float]:
    """The figures worth a line: a family of zero models (`Claude Opus: 0` on an account
    without Opus) says nothing; `Total` is shown even at zero. `--json` keeps them all."""
    return {name: value for name, value in figures.items() if value or name == "Total"}


def _render_dry_run(result: ProviderResult, output: Output) -> None:
    output.line(f"  Would sync: {plural(result.models_found or 0, 'model')}")
    output.line(f"  Last synced: {ago(result.last_synced_at)}")
    if result.changes_catalog:
        output.line(f"  Would add {result.added}, change {result.changed}, remove {result.removed}")
    if result.would is not None:
        _render_would(result.would, output)
    shown = result.model_ids if output.verbose else result.model_ids[:PREVIEW_MODELS]
    if shown:
        output.line("  Models:")
        for model_id in shown:
            output.line(f"    - {model_id}")
        hidden = len(result.model_ids) - len(shown)
        if hidden:
            output.line(f"    ... and {hidden} more")


def _render_would(would: DryRunChanges, output: Output) -> None:
    """Under the counts, diff-style: `+ id` would be added, `- id` removed, `~ id: field:
    old -> new` changed; the first `PREVIEW_CHANGES` of each kind, all of them with -v."""
    changed = [
        f"{model_id}: "
        + (
            "; ".join(f"{name}: {_value(old)} -> {_value(new)}" for name, (old, new) in f.items())
            or "raw payload or field origins only"
        )
        for model_id, f in would.changed.items()
    ]
    for mark, lines in (("+", would.added), ("-", would.removed), ("~", changed)):
        shown = lines if output.verbose else lines[:PREVIEW_CHANGES]
        for line in shown:
            output.line(f"    {mark} {line}")
        if len(lines) > len(shown):
            output.line(f"    {mark} ... and {len(lines) - len(shown)} more (-v shows all)")


def _value(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return number(value)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _render_summary(report: SyncReport, output: Output) -> None:
    providers = len(report.synced)
    if report.dry_run and report.results and all(r.reason == "cache_valid" for r in report.results):
        output.line(
            "Every provider is fresh (synced within its cache TTL): nothing was compared. "
            "Add --force to compare them anyway."
        )
    if report.dry_run:
        output.line("Dry run completed!", style="bold green")
        output.line(
            f"Total: {plural(report.total_models, 'model')} would be synced across "
            f"{plural(providers, 'provider')}"
        )
    else:
        if report.failed:
            output.line("Sync completed with errors!", style="bold red")
        else:
            output.line("Sync completed successfully!", style="bold green")
        output.line(
            f"Total: {plural(report.total_models, 'model')} synced across "
            f"{plural(providers, 'provider')}"
        )
    if report.failed:
        _render_errors(report, output)


def _render_errors(report: SyncReport, output: Output) -> None:
    if output.quiet:
        for result in report.failed:
            output.error(f"Failed to sync {result.provider}: {result.error}")
        return
    output.err.print()
    output.err.print("Errors encountered:", style="bold red", markup=False)
    for result in report.failed:
        output.err.print(f"- {result.provider}: {result.error}", markup=False)


def render_overrides(overrides: list[Override], output: Output) -> None:
    """One line per override: `provider/model field = value  (note)`."""
    if not overrides:
        output.line("No overrides.")
        return
    for item in overrides:
        value = json.dumps(item.to_dict()["value"])
        note = f"  ({item.note})" if item.note else ""
        output.line(f"{item.provider}/{item.model_id} {item.field} = {value}{note}")
