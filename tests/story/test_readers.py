"""Readers: text as read, markup turned into italics / breaks / headings, clear errors."""

from __future__ import annotations

import pytest

from bot.story.readers import StoryImportError, read_document


def test_bom_and_every_newline_style_become_plain_newlines() -> None:
    doc = read_document(b"\xef\xbb\xbfOne\r\ntwo\rthree\nfour", name="s.txt")
    assert doc.text == "One\ntwo\nthree\nfour"
    assert doc.fmt == "txt"


def test_str_input_with_bom_is_stripped_too() -> None:
    assert read_document("\ufeffHello there.").text == "Hello there."


def test_utf16_with_bom_is_read() -> None:
    doc = read_document("“Hi,” she said.\r\n".encode("utf-16"), name="w.txt")
    assert doc.text == "“Hi,” she said.\n"


def test_format_from_name_and_explicit_fmt() -> None:
    assert read_document(b"# T\n\nx *y*", name="a.md").fmt == "md"
    assert read_document(b"<p>Hi there</p>", name="a.htm").fmt == "html"
    assert read_document(b"# T\n\nwords", fmt="txt").fmt == "txt"
    with pytest.raises(StoryImportError, match="unknown format"):
        read_document(b"words", fmt="docx", name="a.docx")


def test_html_is_sniffed_without_a_name() -> None:
    doc = read_document(b"<!DOCTYPE html><html><body><p>One.</p><p>Two.</p></body></html>")
    assert doc.fmt == "html" and doc.text == "One.\n\nTwo."


def test_markdown_strips_markup_keeps_words_and_records_spans() -> None:
    src = "# Chapter 1\n\nHe *walked* home. _Why me?_ he thought.\n\n* * *\n\nA **bold** [link](http://x) snake_case."
    doc = read_document(src, fmt="md")
    assert "*" not in doc.text.replace("* * *", "")
    assert "walked" in doc.text and "link" in doc.text and "http" not in doc.text
    assert "snake_case" in doc.text  # intraword underscores are not emphasis
    assert [doc.text[a:b] for a, b in doc.italics] == ["walked", "Why me?"]
    assert [doc.text[a:b] for a, b in doc.headings] == ["Chapter 1"]
    assert len(doc.breaks) == 1 and doc.text[doc.breaks[0] :].startswith("* * *")


def test_markdown_unmatched_asterisk_stays_literal() -> None:
    doc = read_document("Five * three is fifteen.", fmt="md")
    assert doc.text == "Five * three is fifteen."
    assert doc.italics == ()


def test_html_paragraphs_italics_breaks_headings_and_boilerplate() -> None:
    src = (
        "<html><head><title>T</title><style>p{color:red}</style><script>var x='<p>no</p>';</script></head>"
        "<body><div class='nav'><a>Next chapter</a></div><h2>Chapter 2</h2>"
        "<p>Hello <i>there, you.</i>&nbsp;Fine &amp; dandy.</p><hr/><p>&nbsp;</p>"
        "<p>New   scene<br>line two</p><div id='footer'>Copyright</div></body></html>"
    )
    doc = read_document(src, fmt="html")
    assert doc.text == "Chapter 2\n\nHello there, you. Fine & dandy.\n\nNew scene\n\nline two"
    assert [doc.text[a:b] for a, b in doc.italics] == ["there, you."]
    assert [doc.text[a:b] for a, b in doc.headings] == ["Chapter 2"]
    assert len(doc.breaks) == 1 and doc.text[doc.breaks[0] :].startswith("New scene")
    for junk in ("Next chapter", "Copyright", "color", "var x"):
        assert junk not in doc.text


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"   \n\n\t ", "empty"),
        (b"12345 !!! ---", "no words"),
        (b"PK\x03\x04\x00\x00binary", "binary"),
        (bytes(range(1, 32)) * 20 + b"abc", "binary"),
    ],
)
def test_bad_input_raises_a_clear_error(data: bytes, needle: str) -> None:
    with pytest.raises(StoryImportError) as e:
        read_document(data, name="story.txt")
    assert str(e.value).startswith("story.txt")
    assert needle in str(e.value)


def test_windows_1252_is_read_with_a_warning_naming_the_line_and_the_fix() -> None:
    doc = read_document(b"line one\nline two\nbad \x93quote\x94 here\n", name="win.txt")
    assert doc.text == "line one\nline two\nbad \u201cquote\u201d here\n"
    (msg,) = doc.warnings
    assert msg.startswith("win.txt:3:")
    assert "Windows-1252" in msg and "UTF-8" in msg


def test_utf8_with_a_stray_byte_stays_utf8_and_warns() -> None:
    data = "Caf\u00e9 \u201cna\u00efve\u201d d\u00e9j\u00e0 vu, r\u00e9sum\u00e9.\n".encode() + b"odd \xff byte\n"
    doc = read_document(data, name="mixed.txt")
    assert doc.text.startswith("Caf\u00e9 \u201cna\u00efve")
    assert "\ufffd" in doc.text
    assert doc.warnings and doc.warnings[0].startswith("mixed.txt:2:")


def test_utf8_input_has_no_warnings() -> None:
    assert read_document("Plain \u201ctext\u201d.".encode(), name="a.txt").warnings == ()


def test_stray_control_characters_are_dropped_not_fatal() -> None:
    assert read_document("Hello\x07 there.").text == "Hello there."


def test_markdown_setext_heading_is_a_heading_not_a_break() -> None:
    doc = read_document("Chapter One\n===========\n\nText here.\n\nPart Two\n--------\n\nMore.", fmt="md")
    assert [doc.text[a:b] for a, b in doc.headings] == ["Chapter One", "Part Two"]
    assert doc.breaks == ()
    assert "=" not in doc.text and "Text here." in doc.text
