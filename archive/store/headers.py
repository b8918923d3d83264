"""Response headers as evidence: every line, in the order it arrived.

A header may be repeated (two `Set-Cookie` lines), so an exchange keeps its
response headers as a list of `[name, value]` pairs, names as sent. Captures
made before that kept a mapping with lower-case names; both shapes are read
here, and each is hashed as it was stored (archive/store/evidence.py), so old
hash chains still verify.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

HeaderLines = list[tuple[str, str]]


def header_lines(stored: Mapping[str, Any] | Sequence[Sequence[Any]] | None) -> HeaderLines:
    """The lines of stored headers, in either shape."""
    if not stored:
        return []
    if isinstance(stored, Mapping):
        return [(str(name), str(value)) for name, value in stored.items()]
    return [(str(name), str(value)) for name, value in stored]


def header_map(lines: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case name -> value, for looking headers up; repeated lines are joined
    with ", " as RFC 9110 allows (the lines themselves stay the evidence)."""
    found: dict[str, str] = {}
    for name, value in lines:
        key = name.lower()
        found[key] = f"{found[key]}, {value}" if key in found else value
    return found
