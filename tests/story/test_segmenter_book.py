"""A plain-text book's shape (issue 14): chapter headings with the chapter's title on the next
line, spaced-out `* * *` breaks, the book's own title at the top, and quotes left open."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.story.model import Character
from bot.story.readers import read_document
from bot.story.segmenter import segment
from bot.story.storage import import_story

CAST = [Character("wren", "Wren", (), "she/her"), Character("cat", "the Cat", (), "he/him")]
TITLES = ["Down the Chimney", "The Pool of Steam", "A Committee of Spoons", "The Cat Sends in a Bill",
          "Who Took the Kettle?"]
ROMAN = ["I", "II", "III", "IV", "V"]
PARA = ("The kettle sang on the stove and nobody came to take it off, so it went\n"
        "on singing until the whole kitchen was full of steam and the windows\nwept.\n\n"
        "\"Somebody ought to see to that,\" said Wren, not moving from her chair.\n\n"
        "\"Somebody ought,\" agreed the Cat, and went on washing a paw that was\nalready perfectly clean.\n\n")
STARS = ("*      *      *      *      *      *      *\n\n    *      *      *      *      *      *\n\n"
         "*      *      *      *      *      *      *\n\n\n")


def book(front: str = "") -> str:
    out = [front]
    for i, (r, t) in enumerate(zip(ROMAN, TITLES, strict=True)):
        out.append(f"CHAPTER {r}.\n{t}\n\n\n" + PARA * 2)
        if i in (0, 4):
            out.append(STARS + PARA)
        out.append("\n\n\n")
    return "".join(out)


def test_each_chapter_heading_titles_the_scene_under_it_and_star_breaks_split_a_chapter() -> None:
    story = segment(read_document(book().encode(), name="kitchen.txt"), CAST)
    titles = [s.title for s in story.scenes]
    # 5 chapters, 2 of them with a break inside: 7 scenes, none made of a heading alone
    assert titles == [f"CHAPTER {r}. {t}" for r, t in zip(ROMAN[:1], TITLES[:1], strict=True)] + [None] + \
        [f"CHAPTER {r}. {t}" for r, t in zip(ROMAN[1:], TITLES[1:], strict=True)] + [None]
    assert all(len(s.beats) >= 3 for s in story.scenes)
    assert not any("*" in b.text or "CHAPTER" in b.text for b in story.beats)
    assert [b.speaker for b in story.beats if b.kind == "dialogue"][:2] == ["wren", "cat"]


def test_the_books_own_title_and_front_matter_lines() -> None:
    text = "THE KITCHEN AT NIGHT\n\nAda Quill\n\nTHE FIRST EDITION 1.0\n\n\n\n\n" + book()
    doc = read_document(text.encode(), name="kitchen.txt")
    assert doc.title == "THE KITCHEN AT NIGHT"
    story = segment(doc, CAST)
    assert story.title == "THE KITCHEN AT NIGHT"
    assert len(story.scenes) == 7 and story.scenes[0].title == "CHAPTER I. Down the Chimney"
    # the front matter is kept as notes of chapter 1, not played and not a scene of its own
    assert [b.text for b in story.scenes[0].beats if b.kind == "note"] == [
        "THE KITCHEN AT NIGHT", "Ada Quill", "THE FIRST EDITION 1.0"]


def test_a_title_case_line_above_the_story_is_its_title() -> None:
    doc = read_document(("The Kitchen at Night\n\n" + PARA).encode(), name="x.txt")
    assert doc.title == "The Kitchen at Night"
    story = segment(doc, CAST)
    assert story.scenes[0].title == "The Kitchen at Night"
    assert story.beats[0].text.startswith("The kettle sang")


def test_a_short_first_sentence_is_not_a_title() -> None:
    for first in ("Morning came early", "It was cold.", "\"Wake up,\" said Wren"):
        doc = read_document((first + "\n\n" + PARA).encode(), name="x.txt")
        assert doc.title == "", first
        assert segment(doc, CAST).beats[0].text == first


def test_import_takes_the_title_from_the_text_not_the_slug(tmp_path: Path) -> None:
    text = "THE KITCHEN AT NIGHT\n\nby Ada Quill\n\n\n" + book()
    result = import_story(tmp_path, "kitchen", text.encode(), file_name="kitchen.txt", cast=CAST)
    assert result.story.title == "THE KITCHEN AT NIGHT" and result.story.author == "Ada Quill"
    assert len(result.story.scenes) == 7


UNBALANCED = ('The door banged.\n\n"Where are you going?" Wren asked.\n\n'
              '"Nowhere, the Cat said. I am staying here.\n\nWren sighed.\n\n'
              '"It began long ago," Wren said. "We were young.\n\n"And then we grew old."\n')


def test_a_quote_never_closed_is_warned_with_its_line_and_speech_running_on_is_not() -> None:
    warnings: list[str] = []
    segment(read_document(UNBALANCED.encode(), name="tale.txt"), CAST, warnings=warnings)
    assert len(warnings) == 1  # "We were young." runs on into the next quoted paragraph: fine
    assert warnings[0].startswith("tale.txt:5: warning: this quote is never closed")
    assert "Nowhere, the Cat said." in warnings[0] and "closing quote mark" in warnings[0]
    curly = UNBALANCED.replace('"Nowhere', "“Nowhere").replace('"', "")
    warnings = []
    segment(read_document(curly.encode(), name="tale.txt"), CAST, warnings=warnings)
    assert [w.split(": warning:")[0] for w in warnings] == ["tale.txt:5"]


def test_import_and_segment_show_the_unclosed_quote(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.__main__ import main

    result = import_story(tmp_path, "tale", UNBALANCED.encode(), file_name="tale.txt", cast=CAST)
    assert any(m.startswith("tale.txt:5: warning: this quote is never closed") for m in result.messages)
    src = tmp_path / "tale.txt"
    src.write_text(UNBALANCED, encoding="utf-8")
    capsys.readouterr()
    assert main(["segment", str(src)]) == 0
    err = capsys.readouterr().err
    assert f"{src}:5: warning: this quote is never closed" in err


def test_a_quote_that_closes_paragraphs_later_is_no_warning() -> None:
    # a letter or a poem whose lines are paragraphs of their own: the closing mark comes later
    text = ('"Here is the verse," said Wren, "as I learnt it:\n\n'
            '    Twinkle, twinkle, little kettle,\n\n'
            '    How I wonder what you brew!"\n\n'
            'The Cat said nothing.\n')
    warnings: list[str] = []
    segment(read_document(text.encode(), name="tale.txt"), CAST, warnings=warnings)
    assert warnings == []


def test_a_year_around_the_byline_is_front_matter_not_the_title() -> None:
    for top in ("THE KITCHEN AT NIGHT\n\n(1867)\n\nBy Ada Quill\n\n", "The Kitchen at Night\n\nby Ada Quill\n\n(1867)\n\n"):
        doc = read_document((top + book()).encode(), name="kitchen.txt")
        assert doc.title.casefold() == "the kitchen at night" and doc.author == "Ada Quill", top
        story = segment(doc, CAST)
        assert len(story.scenes) == 7 and story.scenes[0].title == "CHAPTER I. Down the Chimney"
        assert "(1867)" in [b.text for b in story.scenes[0].beats if b.kind == "note"]


def test_a_part_heading_right_over_a_chapter_heading_titles_one_scene() -> None:
    text = "BOOK THE FIRST\n_SPRING_\n\n\n" + book()
    story = segment(read_document(text.encode(), name="kitchen.txt"), CAST)
    assert story.scenes[0].title == "BOOK THE FIRST _SPRING_ CHAPTER I. Down the Chimney"
    assert len(story.scenes) == 7 and not any("BOOK" in b.text for b in story.beats)


def test_a_generated_book_script_checks_clean_without_warnings(tmp_path: Path) -> None:
    from bot.story.storage import load_story_files

    text = "THE KITCHEN AT NIGHT\n\n(1867)\n\nBy Ada Quill\n\nVOLUME I\n\n\n" + book()
    import_story(tmp_path, "kitchen", text.encode(), file_name="kitchen.txt", cast=CAST)
    loaded = load_story_files(tmp_path / "kitchen")
    # "CHAPTER II." is not "CHAPTER I." plus a stray "I", and a two-line heading is its title
    assert loaded.warnings == ()
    assert [s.title for s in loaded.story.scenes][:2] == ["VOLUME I CHAPTER I. Down the Chimney", None]
