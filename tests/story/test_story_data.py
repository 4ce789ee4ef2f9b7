"""Every shipped story folder loads cleanly, keeps every word of its source, and the seed's
reviewed script gives every quoted line the speaker the gold annotations name."""

from __future__ import annotations

import bisect
import itertools
import re
from pathlib import Path

import pytest

from bot.story.library import load_library, story_folders
from bot.story.model import Story
from bot.story.storage import load_story_files

ROOT = Path(__file__).resolve().parents[2]
STORY_DATA = ROOT / "story_data"
SEED = STORY_DATA / "precious-person"
GOLD = ROOT / "tests" / "data" / "precious-person.annotated.txt"
_MARK = re.compile(r"\{([^{}]*)\}")
_WORD = re.compile(r"\w+")

FOLDERS = story_folders(STORY_DATA)


def test_story_data_is_not_empty() -> None:
    assert "precious-person" in [f.name for f in FOLDERS]


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_story_folder_loads_without_errors_or_warnings(folder: Path) -> None:
    loaded = load_story_files(folder)
    assert loaded.warnings == ()
    story = loaded.story
    assert story.title and len(story) > 0 and story.characters
    for beat in story.beats:
        assert story.text[beat.source[0]:beat.source[1]] == beat.text  # no beat drifted from the source
        assert 0 < len(beat.text) <= 2000
        if beat.kind in ("dialogue", "thought"):
            assert beat.speaker is not None
            assert not beat.speakers or (len(beat.speakers) > 1 and beat.speaker == beat.speakers[0])
            assert all(story.character(k) for k in (beat.speaker, *beat.speakers))


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_word_of_the_source_is_in_exactly_one_beat_in_order(folder: Path) -> None:
    story = load_story_files(folder).story
    spans = [b.source for b in story.beats]
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), "beats overlap"
    starts = [s for s, _ in spans]
    for m in _WORD.finditer(story.text):
        i = bisect.bisect_right(starts, m.start()) - 1
        assert i >= 0 and spans[i][0] <= m.start() and m.end() <= spans[i][1], (
            f"word {m.group()!r} at {m.start()} is in no beat")


def test_library_loads_every_shipped_story() -> None:
    lib = load_library(STORY_DATA)
    assert lib.errors == [] and lib.warnings == []
    assert set(lib.stories) == {f.name for f in FOLDERS}


# ---------------------------------------------------------------------------------- the seed


def _seed() -> Story:
    return load_story_files(SEED).story


def _gold() -> tuple[str, list[tuple[int, str]]]:
    """(plain text, [(offset of the quote's closing mark or paragraph end, label)])."""
    annotated = GOLD.read_text(encoding="utf-8")
    plain: list[str] = []
    marks: list[tuple[int, str]] = []
    pos = 0
    length = 0
    for m in _MARK.finditer(annotated):
        plain.append(annotated[pos:m.start()])
        length += m.start() - pos
        marks.append((length, m.group(1)))
        pos = m.end()
    plain.append(annotated[pos:])
    return "".join(plain), marks


def test_seed_metadata_is_honest() -> None:
    loaded = load_story_files(SEED)
    story = loaded.story
    assert story.title == "Precious Person"
    assert story.author == "Unknown" and story.credit == "An anonymous fan-fiction author"
    assert "stand-in" in story.source_note and "re-import" in story.source_note
    assert loaded.include_notes is False
    assert [c.key for c in story.characters] == ["gaara", "lee", "naruto", "temari", "kankuro", "kiba",
                                                 "tsunade", "baki", "shikamaru", "shukaku"]
    assert all(c.persona and c.colour and c.deflection for c in story.characters)
    assert [len(s.beats) > 0 for s in story.scenes] == [True, True, True]


def test_seed_source_is_the_annotated_text() -> None:
    plain, _ = _gold()
    assert _seed().text == plain


def test_seed_script_gives_every_quoted_line_its_gold_speaker() -> None:
    story = _seed()
    _, marks = _gold()
    starts = [b.source[0] for b in story.beats]
    wrong = []
    voiced_beats = set()
    for offset, label in marks:
        beat = story.beat(bisect.bisect_right(starts, offset - 1) - 1)
        assert beat.source[0] < offset <= beat.source[1]
        if label == "-":
            continue
        who, _, kind = label.partition(":")
        want = ("thought" if kind == "thought" else "dialogue", tuple(who.split("+")))
        voiced_beats.add(beat.index)
        said = beat.speakers or ((beat.speaker,) if beat.speaker else ())
        if (beat.kind, said) != want:
            wrong.append(f"beat {beat.index} {beat.text[:50]!r}: script says {beat.kind} "
                         f"{'+'.join(said)}, gold says {label}")
    assert wrong == []
    assert len(marks) == 129
    # and no other beat claims a speaker: the remaining voiced beats are unquoted thoughts
    extra = [b for b in story.beats if b.kind in ("dialogue", "thought") and b.index not in voiced_beats]
    assert all(b.kind == "thought" and not re.search(r"[\"“”]", b.text) for b in extra), extra


def test_seed_authors_note_is_a_note_and_is_not_played() -> None:
    story = _seed()
    notes = [b for b in story.beats if b.kind == "note"]
    assert len(notes) == 1 and notes[0].text.startswith("A/N:")
    assert notes[0] not in list(story.iter_playable())
