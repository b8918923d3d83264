"""Word-level diffs between comment versions: readable and escaped."""
from __future__ import annotations

from archive.web.public.textdiff import MAX_WORD_TOKENS, Segment, change_summary, diff_segments, html_diff


def test_word_level_edit_marks_only_changed_words() -> None:
    segments = diff_segments("The officer never read the report.",
                             "The officer did not read the report.")
    assert Segment("delete", "never") in segments
    assert Segment("insert", "did not") in segments
    assert segments[0] == Segment("equal", "The officer ")


def test_output_is_escaped() -> None:
    out = str(html_diff("a <b>", "a <script>alert(1)</script>"))
    assert "<script>" not in out
    assert "<ins>alert(1)&lt;/script&gt;</ins>" in out
    assert out.startswith("a &lt;")


def test_identical_texts_have_no_marks() -> None:
    out = str(html_diff("same text", "same text"))
    assert out == "same text"


def test_reassembles_both_sides() -> None:
    old, new = "one two three four", "one 2 three five six"
    segments = diff_segments(old, new)
    assert "".join(s.text for s in segments if s.op != "insert") == old
    assert "".join(s.text for s in segments if s.op != "delete") == new
    assert change_summary(segments) == (3, 2)


def test_long_texts_fall_back_to_lines() -> None:
    old = "\n".join(f"line {i} words here" for i in range(MAX_WORD_TOKENS))
    new = old.replace("line 7 words here", "line 7 changed here")
    segments = diff_segments(old, new)
    deleted = [s.text for s in segments if s.op == "delete"]
    assert deleted == ["line 7 words here\n"]
