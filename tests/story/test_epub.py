"""EPUB reading (bot/story/epub.py): spine order, chapter titles, front/back matter, and the
archive checks that keep a hostile zip from costing memory or reaching outside the book."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from bot.story import epub
from bot.story.readers import StoryImportError
from bot.story.segmenter import discover_cast, segment
from bot.story.sources import to_document
from bot.story.storage import import_story, load_story_files
from tests.story.epubs import LANTERN, build_epub, page


def _doc(data: bytes, name: str = "book.epub"):  # type: ignore[no-untyped-def]
    return to_document(data, name=name)


def test_chapters_follow_the_spine_not_the_zip_order() -> None:
    data = build_epub(LANTERN, spine_order=["chapter2", "chapter1"])
    text = _doc(data).text
    assert text.index("By morning") < text.index("The wind came off")


def test_toc_labels_become_headings_unless_the_chapter_has_its_own() -> None:
    doc = _doc(build_epub(LANTERN))
    heads = [doc.text[a:b] for a, b in doc.headings]
    assert heads == ["The Storm", "Chapter 2: Morning"]  # chapter 2's own <h2> wins over "Morning"
    story = segment(doc, discover_cast(doc), slug="lantern", title="The Lantern Keeper")
    assert [s.title for s in story.scenes if s.title] == ["The Storm", "Chapter 2: Morning"]


def test_an_epub2_ncx_table_of_contents_gives_the_titles_too() -> None:
    doc = _doc(build_epub(LANTERN, nav=False, ncx=True))
    assert [doc.text[a:b] for a, b in doc.headings] == ["The Storm", "Chapter 2: Morning"]


def test_preface_and_afterword_are_notes_and_metadata_is_read() -> None:
    doc = _doc(build_epub(LANTERN))
    notes = " ".join(doc.text[a:b] for a, b in doc.notes)
    assert "Thanks for reading" in notes and "leave kudos" in notes
    assert "The wind came off" not in notes
    assert (doc.title, doc.author) == ("The Lantern Keeper", "A. Writer")


def test_scripts_styles_cover_and_nav_are_not_read() -> None:
    chapters = [("cover", "Cover", '<img src="cover.jpg"/>'),
                ("toc", "Contents", "<p>The Storm</p><p>Morning</p>"),
                *LANTERN]
    doc = _doc(build_epub(chapters))
    assert "alert" not in doc.text and "margin" not in doc.text
    assert doc.text.count("The Storm") == 1, "the table of contents page is skipped"


def test_non_linear_items_are_notes_and_untitled_chapters_still_break_scenes() -> None:
    chapters = [("one", "", "<p>First part of the tale, in the morning.</p>"),
                ("two", "", "<p>Second part of the tale, at night.</p>"),
                ("extra", "", "<p>A bonus page the author added.</p>")]
    doc = _doc(build_epub(chapters, nav=False, linear_no=("extra",)))
    assert doc.text.index("Second part") in doc.breaks
    assert any("bonus page" in doc.text[a:b] for a, b in doc.notes)


def test_a_missing_container_falls_back_to_the_opf_and_a_bare_zip_is_refused() -> None:
    data = build_epub(LANTERN)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for info in src.infolist():
            if info.filename != "META-INF/container.xml":
                zf.writestr(info.filename, src.read(info.filename))
    assert "The wind came off" in _doc(out.getvalue()).text
    bare = io.BytesIO()
    with zipfile.ZipFile(bare, "w") as zf:
        zf.writestr("notes.txt", "hello")
    with pytest.raises(StoryImportError, match="not an EPUB"):
        _doc(bare.getvalue())


@pytest.mark.parametrize("name", ["../evil.xhtml", "/etc/passwd", "OEBPS/../../x.xhtml", "C:/x.xhtml", "a\\b.xhtml",
                                  "a/" * 20 + "deep.xhtml"])
def test_unsafe_entry_names_are_refused(name: str) -> None:
    data = build_epub(LANTERN, extra={name: b"<p>x</p>"})
    with pytest.raises(StoryImportError, match="unsafe path"):
        _doc(data)


def test_zip_bombs_are_refused_before_inflating(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epub, "MAX_UNCOMPRESSED", 1_000_000)
    data = build_epub(LANTERN, extra={"OEBPS/pad.bin": b"\0" * 2_000_000})
    assert len(data) < 100_000
    with pytest.raises(StoryImportError, match=r"unpacks to 2 MB, more than the 1 MB"):
        _doc(data)
    monkeypatch.setattr(epub, "MAX_ENTRIES", 10)
    many = build_epub(LANTERN, extra={f"OEBPS/img{i}.png": b"x" for i in range(20)})
    with pytest.raises(StoryImportError, match="holds 28 files, more than the 10"):
        _doc(many)


def test_damaged_and_empty_books_say_what_to_do() -> None:
    with pytest.raises(StoryImportError, match="damaged"):
        _doc(b"PK\x03\x04" + b"\0" * 100)
    empty = build_epub([("cover", "Cover", '<img src="c.jpg"/>')])
    with pytest.raises(StoryImportError, match="no chapter text"):
        _doc(empty)
    entity = build_epub(LANTERN, extra={})
    src = zipfile.ZipFile(io.BytesIO(entity))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.endswith(".opf"):
                body = b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]>' + body.split(b"?>", 1)[1]
            zf.writestr(info.filename, body)
    with pytest.raises(StoryImportError, match="entities"):
        _doc(out.getvalue())


def test_an_epub_imports_into_a_story_folder_and_loads_again(tmp_path: Path) -> None:
    data = build_epub(LANTERN)
    result = import_story(tmp_path, "lantern", data, file_name="The_Lantern_Keeper.epub")
    assert (tmp_path / "lantern" / "source.epub").read_bytes() == data, "kept byte for byte"
    loaded = load_story_files(tmp_path / "lantern")
    assert loaded.story.content_hash() == result.story.content_hash()
    assert loaded.story.title == "The Lantern Keeper"


def test_the_cli_imports_an_epub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.__main__ import main

    book = tmp_path / "book.epub"
    book.write_bytes(build_epub(LANTERN))
    root = tmp_path / "stories"
    root.mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STORY_DIR", str(root))
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "db.sqlite3"))
    assert main(["import", str(book), "--slug", "lantern"]) == 0
    assert (root / "lantern" / "source.epub").is_file()
    assert "MARA:" in (root / "lantern" / "script.txt").read_text(encoding="utf-8")
    assert main(["check", "lantern"]) == 0


def test_page_helper_is_valid_xhtml() -> None:
    from xml.etree import ElementTree

    ElementTree.fromstring(page("<p>x</p>"))


def test_a_long_page_labelled_preface_is_still_story_text() -> None:
    story = "".join(f"<p>\u201cLine {i} of the tale,\u201d Mara said, and walked on down the road.</p>" for i in range(120))
    doc = _doc(build_epub([("part", "Preface", '<div class="preface"><p>Notes: thanks!</p></div>' + story)]))
    notes = " ".join(doc.text[a:b] for a, b in doc.notes)
    assert "thanks" in notes and "Line 5 of the tale" not in notes


def test_an_ao3_shaped_epub_reads_like_the_ao3_html_download() -> None:
    """AO3 builds its EPUB from the same markup as its HTML download, split into files (preface,
    one per chapter, afterword): the story beats, speakers and scene titles must come out the same."""
    from tests.story.test_archives import CASTS, DATA

    lines = (DATA / "ao3-lantern-keeper.html").read_text(encoding="utf-8").splitlines()

    def part(first: int, last: int) -> str:  # 1-based, inclusive line numbers of the download
        return "\n".join(lines[first - 1:last])

    stem = "The_Lantern_Keeper_split_{:03d}"
    chapters = [(stem.format(0), "Preface", part(9, 32)),
                (stem.format(1), "Chapter 1: The Storm", part(34, 50)),
                (stem.format(2), "Chapter 2: Morning", part(51, 56)),
                (stem.format(3), "Afterword", part(58, 67))]
    assert "Chapter 1: The Storm" in chapters[1][2] and "afterword" in chapters[3][2]
    cast = CASTS["ao3-lantern-keeper.html"]
    from_epub = segment(_doc(build_epub(chapters, title="The Lantern Keeper", author="Wren_Halloway")), cast,
                        slug="l", title="The Lantern Keeper")
    from_html = segment(to_document("\n".join(lines).encode(), name="ao3.html"), cast, slug="l",
                        title="The Lantern Keeper")

    def told(story):  # type: ignore[no-untyped-def]
        return [(b.kind, b.speaker, " ".join(b.text.split())) for b in story.beats if b.kind != "note"]

    assert told(from_epub) == told(from_html)
    assert [s.title for s in from_epub.scenes if s.title] == [s.title for s in from_html.scenes if s.title]
    notes = " ".join(b.text for b in from_epub.beats if b.kind == "note")
    assert "Wren_Halloway" in notes or "Lantern" in notes


def test_a_missing_chapter_is_skipped_with_a_warning_but_inflating_too_much_stops(
        monkeypatch: pytest.MonkeyPatch) -> None:
    data = build_epub(LANTERN)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for info in src.infolist():
            if not info.filename.endswith("chapter2.xhtml"):
                zf.writestr(info.filename, src.read(info.filename))
    doc = _doc(out.getvalue())
    assert "The wind came off" in doc.text and "By morning" not in doc.text
    assert any("chapter2.xhtml" in w and "skipped" in w for w in doc.warnings)
    # the declared sizes pass, but what actually inflates is over the budget: refused, not skipped
    big = build_epub([*LANTERN[:1], ("chapter1", "The Storm", "<p>" + "word " * 50_000 + "</p>")])
    monkeypatch.setattr(epub, "MAX_UNCOMPRESSED", 10**9)
    book = epub._Book(big, "big.epub")
    book.budget = sum(i.file_size for i in book.zf.infolist() if not i.filename.endswith("chapter1.xhtml")) + 100
    monkeypatch.setattr(epub, "_Book", lambda data, name: book)
    with pytest.raises(StoryImportError, match="unpacks to more than"):
        _doc(big)
