"""Strict parsing of untrusted input, shared by every handler: JSON without NaN or runaway nesting, and values
echoed back in error messages cut to a readable length.

Python's `json.loads` accepts `NaN`, `Infinity` and `-Infinity` (not JSON: RFC 8259 has no such numbers) and
recurses once per nesting level, so a body of 100,000 `[` raises RecursionError instead of a parse error. Every
JSON that comes from a caller or an event goes through `loads` here instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64  # far deeper than any model input or AWS event; shallow enough for every recursive consumer
MAX_ECHO = 120  # characters of a caller's value repeated in an error message
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class JsonError(ValueError):
    """Not acceptable JSON; the message names the problem (and is safe to return to the caller)."""


def _reject_constant(name: str) -> Any:
    raise JsonError(f"{name} is not a JSON number")


def loads(text: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON strictly: no NaN/Infinity, nesting at most `max_depth` arrays/objects deep."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not isinstance(text, str):
        raise JsonError(f"expected JSON text, got {type(text).__name__}")
    if _nesting(text, max_depth) > max_depth:
        raise JsonError(f"nested more than {max_depth} levels deep; at most {max_depth} are accepted")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except JsonError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (RecursionError, ValueError) as exc:  # belt and braces: the depth check above should have caught it
        raise JsonError(f"not parseable ({type(exc).__name__})") from None


def _nesting(text: str, stop_above: int) -> int:
    """The deepest nesting of `[`/`{` outside strings (counting stops once past `stop_above`), without recursion
    and without a Python loop per character (bodies reach megabytes): strings are removed, then brackets counted."""
    if "[" not in text and "{" not in text:
        return 0
    if '"' in text:
        text = _STRINGS.sub("", text)
    deepest = depth = 0
    for char in _BRACKETS.findall(text):
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    return deepest
        else:
            depth -= 1
    return deepest


def echo(value: Any, limit: int = MAX_ECHO, *, as_json: bool = False) -> str:
    """A caller's value as it may appear in an error message, cut to `limit` characters with its full length
    stated, so a 100 KB name never comes back whole. Strings are shown as Python's repr ('name'), or as JSON
    ("name") with `as_json`; other values as JSON where they can be."""
    if isinstance(value, str):
        shown = json.dumps(value) if as_json else repr(value)
        total = len(value)
    else:
        shown = _short_repr(value)
        total = len(shown)
    return clip(shown, limit, total)


def clip(text: str, limit: int = MAX_ECHO, total: int | None = None) -> str:
    """`text` cut to `limit` characters, saying how long it was (`total`, by default its own length)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({total if total is not None else len(text)} characters)"


def _short_repr(value: Any) -> str:
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        return f"<{type(value).__name__}>"
