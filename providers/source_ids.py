"""The model id normalizations every enrichment source matches on, and nothing more.

Matching is exact: the provider type picks the source's section, and the model id is
compared after these documented normalizations only: case, Gemini's `models/` prefix and
Ollama's `:latest` tag. A dated snapshot (`gpt-4o-2024-08-06`) therefore matches its own
entry, never its alias's, whose price may differ; an unmatched model stays unenriched.
"""

from __future__ import annotations


def model_key(provider_type: str, model_id: str) -> str:
    """The key a source entry must have to describe `model_id` of a `provider_type`."""
    key = model_id.lower().removeprefix("models/")
    if provider_type == "ollama":
        key = key.removesuffix(":latest")
    return key


def capabilities_from_flags(flags: dict[str, bool]) -> tuple[str, ...]:
    """The capability words whose flag is True, in the order given."""
    return tuple(name for name, value in flags.items() if value is True)
