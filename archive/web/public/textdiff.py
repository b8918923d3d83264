"""A readable diff between two versions of a comment's text. Pure: no I/O.

Word-level: the texts are split into words, single punctuation marks and
runs of white space, so an edit shows as the few words that changed. Texts
too long for a word diff in reasonable time are compared line by line.
The result is escaped HTML with `<ins>` and `<del>`.
"""
from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup

Op = Literal["equal", "insert", "delete"]
_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
# SequenceMatcher is roughly quadratic on unlike inputs: past this many
# tokens per side the diff is made of lines instead.
MAX_WORD_TOKENS = 4000


@dataclass(frozen=True)
class Segment:
    op: Op
    text: str


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def diff_segments(old: str, new: str) -> list[Segment]:
    """The edit from `old` to `new`, as runs of kept, inserted and deleted text."""
    a, b = tokenize(old), tokenize(new)
    if max(len(a), len(b)) > MAX_WORD_TOKENS:
        a, b = _lines(old), _lines(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    segments: list[Segment] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _append(segments, "equal", "".join(a[i1:i2]))
            continue
        if tag in ("delete", "replace"):
            _append(segments, "delete", "".join(a[i1:i2]))
        if tag in ("insert", "replace"):
            _append(segments, "insert", "".join(b[j1:j2]))
    return segments


def _append(segments: list[Segment], op: Op, text: str) -> None:
    if not text:
        return
    if segments and segments[-1].op == op:
        segments[-1] = Segment(op, segments[-1].text + text)
    else:
        segments.append(Segment(op, text))


def render(segments: list[Segment]) -> Markup:
    """Segments as escaped HTML; white space inside a change stays inside its mark."""
    out = []
    for seg in segments:
        text = html.escape(seg.text)
        if seg.op == "insert":
            out.append(f"<ins>{text}</ins>")
        elif seg.op == "delete":
            out.append(f"<del>{text}</del>")
        else:
            out.append(text)
    return Markup("".join(out))


def html_diff(old: str, new: str) -> Markup:
    return render(diff_segments(old, new))


def change_summary(segments: list[Segment]) -> tuple[int, int]:
    """Words added and words removed, for a one-line summary."""
    added = sum(len(re.findall(r"\w+", s.text)) for s in segments if s.op == "insert")
    removed = sum(len(re.findall(r"\w+", s.text)) for s in segments if s.op == "delete")
    return added, removed
