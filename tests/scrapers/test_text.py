"""The two text rules of scrapers/text.py, pinned: stored comments were read with
them, so any change in their output would make those comments look edited."""
from scrapers.text import fragment_text, html_to_text

BODY = ("<p>One  two</p><p>Three<br>four</p><svg><text>drawn</text></svg><script>x()</script>"
        "<ul><li>a</li><li>b</li></ul>")


def test_fragment_text_one_line_per_block() -> None:
    # WordPress and Isso: blank lines dropped; an <svg>'s text is read (it always was).
    assert fragment_text(BODY) == "One two\nThree\nfour\ndrawna\nb"


def test_html_to_text_keeps_paragraphs_apart() -> None:
    # generic-css and the Guardian: a blank line between paragraphs, embedded media dropped.
    assert html_to_text(BODY) == "One two\n\nThree\nfour\n\na\n\nb"
