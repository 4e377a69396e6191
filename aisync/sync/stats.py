"""The statistics step: the generic counts every provider gets, and every plugin's figures.

`Total` comes first, then the counts (`count_stats`: the provider plugins' families, one
count per capability), then any other figures (`compute_stats`), as the seed prints them
(`Total: 15`, `GPT-4: 5`, `Function calling: 12`).

Counts add up over the parts of a listing, so a re-sync that changed a few models of a
big one updates the previous sync's counts (`updated`) from the models added and changed
and the versions they replace, instead of mapping every unchanged raw item for a record
to count. That holds only while the same plugins count (their distributions are in the
raw digests' salt, so a change there maps every item anyway) and no plugin computes a
figure that is not a count.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from aisync import hookimpl
from aisync.records import CAPABILITIES, ModelRecord, Provider
from aisync.sync.plugins import Answer, Plugins, call_each

#: The name the core's own statistics plugin is registered under.
PLUGIN_NAME = "aisync.stats"

#: The one count kept at 0: an empty listing has a total.
TOTAL = "Total"

#: How each capability is named in statistics.
CAPABILITY_LABELS: dict[str, str] = {
    name: name.replace("_", " ").capitalize() for name in CAPABILITIES
}

#: Figures and, when a plugin failed, the line that says which and why.
Figures = tuple[dict[str, float], str | None]


@hookimpl(trylast=True)
def count_stats(provider: Provider, models: Sequence[ModelRecord]) -> dict[str, float]:
    counts: Counter[str] = Counter(c for model in models for c in set(model.capabilities))
    figures: dict[str, float] = {TOTAL: len(models)}
    figures.update({CAPABILITY_LABELS[c]: counts[c] for c in CAPABILITIES if counts[c]})
    return figures


def compute(plugins: Plugins, provider: Provider, models: Sequence[ModelRecord]) -> Figures:
    """Every plugin's figures over the whole listing. Statistics never fail a sync: each
    plugin is asked on its own, and one that fails (raises, or answers something that is
    not figures) costs only its figures."""
    hook = plugins.manager.hook
    arguments = {"provider": provider, "models": models}
    counted = list(call_each(hook.count_stats, arguments, checked))
    computed = list(call_each(hook.compute_stats, arguments, checked))
    answers = (*counted, *computed)
    failed = [f"plugin {a.plugin}: {a.failure(provider.api_key)}" for a in answers if a.error]
    figures = merge([summed(_results(counted)), *_results(computed)])
    return figures, "; ".join(failed) or None


def countable(plugins: Plugins) -> bool:
    """Whether figures can be updated from the changed models alone (`updated`): every
    figure is a count, from a plugin whose version the raw digests' salt holds."""
    hook = plugins.manager.hook
    if hook.compute_stats.get_hookimpls():
        return False
    known = {PLUGIN_NAME, *plugins.distributions}
    return all(impl.plugin_name in known for impl in hook.count_stats.get_hookimpls())


def updated(
    plugins: Plugins,
    provider: Provider,
    previous: Mapping[str, float],
    *,
    added: Sequence[ModelRecord],
    gone: Sequence[ModelRecord],
) -> dict[str, float] | None:
    """The previous sync's counts plus those of the models `added` (new, changed,
    returning) minus those of the versions `gone` (replaced or removed); None when that
    cannot be trusted (a plugin failed, or a count would go below zero because the
    previous figures do not hold it): the caller then counts the whole listing."""
    figures = dict(previous)
    hook = plugins.manager.hook.count_stats
    for models, sign in ((added, 1.0), (gone, -1.0)):
        if not models:
            continue
        answers = list(call_each(hook, {"provider": provider, "models": models}, checked))
        if any(answer.error for answer in answers):
            return None
        for name, value in summed(_results(answers)).items():
            figures[name] = figures.get(name, 0.0) + sign * value
    if any(value < 0 for value in figures.values()):
        return None
    return merge([summed([figures])])


def checked(result: object) -> dict[str, float]:
    """One plugin's answer as figures, checked on its own so that an answer of the wrong
    shape costs only that plugin's figures."""
    if not isinstance(result, Mapping):
        raise TypeError(f"returned {type(result).__name__}, not a mapping of figures")
    return {str(name): float(value) for name, value in result.items()}


def summed(results: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Counts added up by name across plugins, in the order first given; zeros (but
    `Total`) left out."""
    total: dict[str, float] = {}
    for result in results:
        for name, value in result.items():
            total[name] = total.get(name, 0.0) + value
    return {name: value for name, value in total.items() if value or name == TOTAL}


def merge(results: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Merge checked answers in order, the first of a name kept, `Total` first."""
    merged: dict[str, float] = {}
    for result in results:
        for name, value in result.items():
            merged.setdefault(name, value)
    if TOTAL in merged:
        merged = {TOTAL: merged.pop(TOTAL), **merged}
    return merged


def _results(answers: Iterable[Answer[dict[str, float]]]) -> list[dict[str, float]]:
    return [answer.result for answer in answers if answer.result is not None]
