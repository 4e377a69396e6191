"""JSON text decoded fast, to exactly what `json.loads` gives.

orjson decodes several times faster than `json`, but refuses what `json` accepts (NaN,
Infinity, a lone surrogate, UTF-16 text) and turns integers above 64 bits into floats.
`loads` uses `json` for all of those, so a response, a page or a stored payload decodes
to the same values whichever parser read it: content hashes depend on it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import orjson

from aisync.errors import BadResponse

if TYPE_CHECKING:
    import httpx

#: Every digit as `1`, everything else as a space: a run of 19 digits or more, a number
#: that may not fit 64 bits (orjson would decode it as a float), is then a plain `in`,
#: several times faster than a regular expression.
_DIGITS = bytes(ord("1") if chr(c).isdigit() and c < 128 else ord(" ") for c in range(256))
_LONG_NUMBER = b"1" * 19


class NonFinite(float):
    """NaN or an infinity, as only `json` decodes them: a float of its own type, so that
    orjson refuses to encode it and the slower paths that report it are taken."""

    __slots__ = ()


def loads(data: bytes | str) -> Any:
    """JSON text decoded by orjson, or by `json` for text orjson refuses or could decode
    otherwise (a number of 19 digits or more); NaN and infinities come as `NonFinite`."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if _LONG_NUMBER not in raw.translate(_DIGITS):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(data, parse_constant=_non_finite)


def _non_finite(name: str) -> NonFinite:
    return NonFinite(name)


def json_body(response: httpx.Response) -> Any:
    """Parse a successful response's JSON, or say plainly that the provider sent none.

    Here rather than in `aisync.http` (which re-exports it): a plugin module that imports
    it loads no httpx, so loading the built-in plugins costs a run that fetches nothing
    no HTTP client."""
    try:
        return loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        kind = response.headers.get("content-type", "unknown content type").split(";")[0]
        raise BadResponse(f"Response is not valid JSON ({kind})") from exc
