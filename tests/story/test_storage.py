"""story.toml validation (every error with its file:line), saving, settings beside the story."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.story.storage import StoryFileError, load_story, load_story_files
from tests.story.storyfixtures import make_story, write_story


def _errors(folder: Path) -> list[str]:
    with pytest.raises(StoryFileError) as info:
        load_story(folder)
    return info.value.errors


def _toml_line(path: Path, needle: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(needle):
            return n
    raise AssertionError(needle)


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def test_story_toml_round_trips_every_field(tmp_path: Path) -> None:
    folder = write_story(tmp_path, include_notes=True)
    loaded = load_story_files(folder)
    assert loaded.include_notes is True
    assert loaded.warnings == ()
    story = loaded.story
    assert story == make_story()
    lee = story.character("lee")
    assert lee is not None and lee.avatar_url == "https://example.org/lee.png"
    gaara = story.find_character("gaara-kun")
    assert gaara is not None and gaara.colour == "#b5362c" and gaara.deflection == "I do not know yet."
    assert story.content_warnings == ("injury",) and story.credit == "An anonymous author"


@pytest.mark.parametrize(("needle", "replacement", "message"), [
    ('title = "A Tale"', 'title = ""', 'title is missing; add title = "..."'),
    ('avatar_url = "https://example.org/lee.png"', 'avatar_url = "https://imgur.com/gallery/abc"',
     "avatar_url 'https://imgur.com/gallery/abc' must be a direct link to a .png, .jpg, .jpeg, .gif or .webp image"),
    ('avatar_url = "https://example.org/lee.png"', 'avatar_url = "ftp://example.org/lee.png"',
     "must start with https://"),
    ('colour = "#b5362c"', 'colour = "red"', 'colour \'red\' must look like "#aa3322"'),
    ('include_notes = false', 'include_notes = "no"', "include_notes must be true or false"),
    ('content_warnings = [', 'content_warnings = "injury"\nold_warnings = [',
     "content_warnings must be a list of text"),
    ('source = "source.txt"', 'source = "../elsewhere.txt"', "source must be a file name inside the story folder"),
    ('source = "source.txt"', 'source = "missing.txt"', "source file 'missing.txt' not found"),
    ('language = "en"', 'language = "English please"', "should be a language code"),
    ('key = "kiba"', 'key = "lee"', "key 'lee' is used twice"),
    ('key = "kiba"', 'key = "narration"', "is a reserved script label"),
    ('name = "Kiba Inuzuka"', 'name = ""', "character has no name"),
    ('pronouns = "he/him"', 'pronouns = 3', "pronouns must be text in quotes"),
])
def test_each_story_toml_error_names_its_line(tmp_path: Path, needle: str, replacement: str,
                                              message: str) -> None:
    folder = write_story(tmp_path)
    toml = folder / "story.toml"
    _edit(toml, needle, replacement)
    line = _toml_line(toml, replacement.split("\n")[0])
    errors = _errors(folder)
    assert errors, "expected an error"
    assert errors[0].startswith(f"{toml}:"), errors
    assert message in errors[0], errors
    if "used twice" not in message:  # duplicates point at the second table's header
        assert errors[0].startswith(f"{toml}:{line}: "), errors


def test_toml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    toml = folder / "story.toml"
    _edit(toml, 'author = "Someone"', "author = Someone")
    line = _toml_line(toml, "author = Someone")
    errors = _errors(folder)
    assert len(errors) == 1 and errors[0].startswith(f"{toml}:{line}: invalid TOML")


def test_missing_files_are_reported_not_raised(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    (folder / "script.txt").unlink()
    assert _errors(folder) == [f"{folder / 'script.txt'}:1: missing; re-import the story to write it "
                               "(narrator import FILE --slug SLUG --force)"]
    (folder / "story.toml").unlink()
    assert _errors(folder)[0].startswith(f"{folder / 'story.toml'}:1: missing")
    assert _errors(tmp_path / "nope")[0].startswith(f"{tmp_path / 'nope'}: no such story folder")


def test_unknown_fields_are_warnings(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    toml = folder / "story.toml"
    _edit(toml, 'title = "A Tale"', 'title = "A Tale"\nsubtitle = "x"')
    _edit(toml, 'colour = "#b5362c"', 'colour = "#b5362c"\ncolr = "#000000"')
    loaded = load_story_files(folder)
    assert [w.split(": warning: ")[0] for w in loaded.warnings] == [
        f"{toml}:{_toml_line(toml, 'subtitle')}", f"{toml}:{_toml_line(toml, 'colr')}"]


def test_character_card_fills_in_name_and_persona(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    (folder / "cards").mkdir()
    card = {"spec": "chara_card_v2", "spec_version": "2.0",
            "data": {"name": "Kiba", "description": "{{char}} is a loud ninja with a dog.",
                     "personality": "Brash; teases {{user}}.", "first_mes": "Yo!"}}
    (folder / "cards" / "kiba.json").write_text(json.dumps(card), encoding="utf-8")
    _edit(folder / "story.toml", 'name = "Kiba Inuzuka"', 'name = "Kiba Inuzuka"\ncard = "cards/kiba.json"')
    kiba = load_story(folder).character("kiba")
    assert kiba is not None
    assert kiba.persona == "Kiba Inuzuka is a loud ninja with a dog. Brash; teases the reader."
    assert kiba.card == "cards/kiba.json"
    # an explicit persona wins over the card
    _edit(folder / "story.toml", 'name = "Gaara"', 'name = "Gaara"\ncard = "cards/kiba.json"')
    gaara = load_story(folder).character("gaara")
    assert gaara is not None and gaara.persona == "Quiet."


def test_bad_card_is_an_error_on_the_card_line(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    toml = folder / "story.toml"
    _edit(toml, 'name = "Kiba Inuzuka"', 'name = "Kiba Inuzuka"\ncard = "cards/none.json"')
    errors = _errors(folder)
    assert errors[0].startswith(f"{toml}:{_toml_line(toml, 'card =')}: ")
    assert "card file not found" in errors[0]
    (folder / "cards").mkdir()
    (folder / "cards" / "none.json").write_text("{not json", encoding="utf-8")
    assert "invalid JSON" in _errors(folder)[0]


def test_png_card_is_read(tmp_path: Path) -> None:
    import base64
    import struct
    import zlib

    from bot.story.cards import load_card

    payload = base64.b64encode(json.dumps({"spec": "chara_card_v2", "data": {
        "name": "Temari", "description": "Sharp.", "personality": ""}}).encode())

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", b"\0" * 13) + chunk(b"tEXt", b"chara\0" + payload)
           + chunk(b"IEND", b""))
    (tmp_path / "t.png").write_bytes(png)
    card = load_card(tmp_path / "t.png")
    assert (card.name, card.description) == ("Temari", "Sharp.")


def test_source_in_other_formats_is_read_with_the_same_reader(tmp_path: Path) -> None:
    from bot.story.model import Beat, Scene, Story
    from bot.story.readers import read_document
    from bot.story.storage import save_story

    html = b"<html><body><p>The sand stirred.</p><p><i>Kill them,</i> Shukaku whispered.</p></body></html>"
    doc = read_document(html, fmt="html", name="s.html")
    a = doc.text.index("The sand stirred.")
    b = doc.text.index("Kill them, Shukaku whispered.")
    italic = doc.italics[0]
    beats = (Beat(0, 0, "narration", "The sand stirred.", source=(a, a + 17)),
             Beat(1, 0, "thought", doc.text[b:b + 29], "shukaku", (), (b, b + 29), (italic,)))
    from tests.story.storyfixtures import CAST
    story = Story("h", "H", (Scene(0, None, beats),), CAST, text=doc.text)
    save_story(tmp_path / "h", story, source=html, source_name="source.html")
    loaded = load_story(tmp_path / "h")
    assert loaded == story
    assert loaded.beat(1).quoted_text() == [doc.text[italic[0]:italic[1]]]


def test_save_writes_atomically_and_leaves_no_temp_files(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["script.txt", "source.txt", "story.toml"]


def test_a_bad_cast_field_does_not_hide_script_errors(tmp_path: Path) -> None:
    folder = write_story(tmp_path)
    _edit(folder / "story.toml", 'colour = "#b5362c"', 'colour = "red"')
    _edit(folder / "script.txt", "LEE: Lee grinned.", "LEEE: Lee grinned.")
    errors = _errors(folder)
    assert [e.split(":")[0] for e in errors] == [str(folder / "story.toml"), str(folder / "script.txt")]
    assert "unknown speaker 'LEEE'" in errors[1] and "GAARA" in errors[1]  # the cast is still known
