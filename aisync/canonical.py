"""Canonical JSON: the one text a model's content is hashed over and its raw payload kept as.

Sorted keys, no spaces, dates as ISO text, tuples as arrays: what `json.dumps` gives with
`sort_keys=True, separators=(",", ":")`. A raw payload is turned into this text as soon as
it is normalized (`RawJSON`): for a 100,000-model listing the parsed objects take five
times the memory of their text, and the text is what the hash covers and what the
catalog stores, so it is encoded once instead of twice.

orjson decodes and, for values it decoded itself, encodes (`loads`, `dumps_parsed`) several
times faster than `json`, but its text is not always `json`'s: it writes non-ASCII
characters and U+007F as they are, some floats in other forms (`1e16` for `1e+16`,
`0.00001` for `1e-05`), and turns integers above 64 bits into floats. Content hashes
must not move, so its text is used only where it is provably the same: non-ASCII escaped
afterwards exactly as `json` escapes it, and `json` itself whenever a number could be
written differently.
"""

from __future__ import annotations

import json
import re
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from datetime import date
from typing import Any

import orjson

from aisync.jsontext import loads


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


#: orjson text that may hold a float `json` writes otherwise: an exponent (a digit before
#: an `e`, found with digits mapped to `1`), or a value below 1e-4, which `json` writes with
#: one. Such text is encoded by `json` instead; text that merely looks like one (`"v1e5"`)
#: only costs the slower encoding.
_EXPONENTS = bytes(
    ord("1") if chr(c).isdigit() and c < 128 else ord("e") if c == ord("e") else ord(" ")
    for c in range(256)
)
#: What `json` (`ensure_ascii`) escapes that orjson writes as it is.
_NOT_ASCII = re.compile("[^\x00-\x7e]")


def dumps_parsed(value: Any) -> str:
    """`dumps(value)`, byte for byte, for a value made only of what JSON decodes to (dict
    with text keys, list, text, int, finite float, bool, None), such as orjson's own
    `loads`: NaN would be written as null here, so it must not be in `value`.

    A value orjson cannot encode (an integer beyond 64 bits, a lone surrogate) or whose
    numbers it may write otherwise goes to `dumps`.
    """
    try:
        encoded = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return dumps(value)
    return _json_text(encoded, value)


#: orjson's own encoding of what `json` refuses or writes otherwise (dates and datetimes,
#: subclasses of str, int, dict and list, dataclasses) is turned off: they fail, and
#: `json` writes them.
_NORMALIZED = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps_normalized(value: dict[str, Any], raw: str) -> bytes | None:
    """The UTF-8 bytes of `dumps({**value, "raw": ...})`, `raw` being the canonical text
    of that member (spliced in as it is), written at orjson's speed; None where only
    `json` is sure to give them (the caller then uses `dumps`).

    For the fields of a normalized record (the content hash's): `dumps_parsed`'s values
    and tuples (arrays to both encoders). A date must come as its ISO text, as `json`
    writes it. Normalizing leaves no NaN or infinity in them (prices are finite, price
    tiers are checked), which orjson would write as null.
    """
    if not raw.isascii() or "\x7f" in raw:  # not `json`'s text: spliced in as it is
        return None
    try:
        encoded = orjson.dumps({**value, "raw": orjson.Fragment(raw)}, option=_NORMALIZED)
    except orjson.JSONEncodeError:
        return None
    if b"1e" in encoded.translate(_EXPONENTS) or b"0.0000" in encoded:
        return None
    if encoded.isascii() and b"\x7f" not in encoded:
        return encoded
    return _NOT_ASCII.sub(_escaped, encoded.decode("utf-8")).encode("utf-8")


def _json_text(encoded: bytes, value: Any) -> str:
    """orjson's text of `value` as `json` writes it: escaped like `json`, or `json`'s own
    when a number may be written otherwise."""
    if b"1e" in encoded.translate(_EXPONENTS) or b"0.0000" in encoded:
        return dumps(value)
    text = encoded.decode("utf-8")
    if text.isascii() and "\x7f" not in text:
        return text
    return _NOT_ASCII.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    """A character as `json` writes it with `ensure_ascii`: `\\uXXXX`, a surrogate pair
    beyond the basic plane."""
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}"


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
        parsed: dict[str, Any] = loads(self.text)
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
