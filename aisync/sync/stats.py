"""The statistics step: the generic figures every provider gets, and merging all plugins'.

`Total` comes first, then the provider plugins' family counts, then one count per
capability, as the seed prints them (`Total: 15`, `GPT-4: 5`, `Function calling: 12`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from aisync import hookimpl
from aisync.records import CAPABILITIES, ModelRecord, Provider

#: How each capability is named in statistics.
CAPABILITY_LABELS: dict[str, str] = {
    name: name.replace("_", " ").capitalize() for name in CAPABILITIES
}


@hookimpl(trylast=True)
def compute_stats(provider: Provider, models: Sequence[ModelRecord]) -> dict[str, float]:
    counts: Counter[str] = Counter(c for model in models for c in set(model.capabilities))
    figures: dict[str, float] = {"Total": len(models)}
    figures.update({CAPABILITY_LABELS[c]: counts[c] for c in CAPABILITIES if counts[c]})
    return figures


def checked(result: object) -> dict[str, float]:
    """One plugin's answer as figures, checked on its own so that an answer of the wrong
    shape costs only that plugin's figures."""
    if not isinstance(result, Mapping):
        raise TypeError(f"returned {type(result).__name__}, not a mapping of figures")
    return {str(name): float(value) for name, value in result.items()}


def merge(results: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Merge checked answers (`checked`) in call order, keeping `Total` first whoever
    reported it."""
    merged: dict[str, float] = {}
    for result in results:
        for name, value in result.items():
            merged.setdefault(name, value)
    if "Total" in merged:
        merged = {"Total": merged.pop("Total"), **merged}
    return merged
