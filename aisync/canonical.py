"""Canonical JSON: the one text a model's content is hashed over and its raw payload kept as.

Sorted keys, no spaces, dates as ISO text, tuples as arrays: what `json.dumps` gives with
`sort_keys=True, separators=(",", ":")`. A raw payload is turned into this text as soon as
it is normalized (`RawJSON`): for a 100,000-model listing the parsed objects take five
times the memory of their text, and the text is what the hash covers and what the
catalog stores, so it is encoded once instead of twice.
"""

from __future__ import annotations

import json
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from datetime import date
from typing import Any


def _default(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


#: One encoder for every call: `json.dumps` with options builds a new one each time. Without
#: the circular-reference check it is a third faster; a payload that loops on itself (only
#: a broken plugin makes one) ends in RecursionError, which normalize reports.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), default=_default, check_circular=False
)


def dumps(value: Any) -> str:
    """The canonical JSON text of `value`; TypeError, ValueError or RecursionError for a
    value JSON cannot hold (a set, NaN, an object that contains itself)."""
    return _ENCODER.encode(value)


class RawJSON(Mapping[str, Any]):
    """A provider's raw JSON object for a model, kept as its canonical text.

    It reads like the dict it stands for; every read parses the text again, which only
    statistics plugins and `aisync models show` do, a handful of times per model.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    @classmethod
    def of(cls, value: Mapping[str, Any]) -> RawJSON:
        """`value` as canonical text (it must be a JSON object: see `dumps`)."""
        if isinstance(value, RawJSON):
            return value
        return cls(dumps(value if type(value) is dict else dict(value)))

    def value(self) -> dict[str, Any]:
        """The object, parsed anew: a dict the caller may keep or change."""
        parsed: dict[str, Any] = json.loads(self.text)
        return parsed

    def __getitem__(self, key: str) -> Any:
        return self.value()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.value())

    def __len__(self) -> int:
        return len(self.value())

    def __contains__(self, key: object) -> bool:
        return key in self.value()

    def get(self, key: str, default: Any = None) -> Any:
        return self.value().get(key, default)

    def keys(self) -> KeysView[str]:
        return self.value().keys()

    def items(self) -> ItemsView[str, Any]:
        return self.value().items()

    def values(self) -> ValuesView[Any]:
        return self.value().values()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RawJSON):
            return self.text == other.text
        return isinstance(other, Mapping) and self.value() == dict(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RawJSON({self.text!r})"


#: The raw payload of a model whose plugin gave none (or not an object).
EMPTY = RawJSON("{}")
