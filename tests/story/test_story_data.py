"""Every shipped story folder loads cleanly, keeps every word of its source, and the seed's
reviewed script gives every quoted passage, unquoted thought and note the speaker and kind the
gold annotation (tests/data/precious-person.annotated.txt) names."""

from __future__ import annotations

import bisect
import itertools
import re
from pathlib import Path

import pytest

from bot.story.library import load_library, story_folders
from bot.story.model import Story
from bot.story.storage import load_story_files
from tests.story.storyfixtures import bench_annotations

ROOT = Path(__file__).resolve().parents[2]
STORY_DATA = ROOT / "story_data"
SEED = STORY_DATA / "precious-person"
GOLD = ROOT / "tests" / "data" / "precious-person.annotated.txt"
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


ann = bench_annotations()


def _seed() -> Story:
    return load_story_files(SEED).story


def test_seed_is_the_original_text_byte_for_byte() -> None:
    data = (SEED / "source.txt").read_bytes()
    for up in (ROOT.parent, ROOT.parent.parent):  # ../shared in the project's workspace, not in a clone
        original = up / "shared" / "seed" / "precious-person.txt"
        if original.is_file():
            assert data == original.read_bytes()
    assert data.startswith(b"Lee and Gaara sat against two trees") and data.count(b'"') == 234


def test_seed_metadata_is_honest() -> None:
    loaded = load_story_files(SEED)
    story = loaded.story
    assert story.title == "Precious Person"
    assert story.author == "Unknown" and story.credit == "An anonymous fan-fiction author"
    assert "stand-in" not in story.source_note and "original" in story.source_note
    assert loaded.include_notes is False
    assert [c.key for c in story.characters] == ["gaara", "lee", "naruto", "temari", "kankuro", "kiba",
                                                 "tsunade", "baki", "shikamaru", "shukaku"]
    assert all(c.persona and c.colour and c.deflection for c in story.characters)
    assert [len(s.beats) > 0 for s in story.scenes] == [True, True, True]
    assert story.scenes[1].beats[0].text.startswith("Baki came storming")
    assert story.scenes[2].beats[0].text.startswith('"Did Sasuke')


def test_seed_source_is_the_annotated_text() -> None:
    assert _seed().text == ann.load(GOLD).text


def test_seed_script_gives_every_passage_its_gold_speaker_and_kind() -> None:
    """Every gold span (117 quoted passages, the unquoted thoughts, the note) lies in exactly one
    beat, whose speaker(s) and kind are the gold's and whose quotes hold exactly that span; no
    beat has a quote the gold does not know."""
    story = _seed()
    doc = ann.load(GOLD)
    golds = list(doc.golds)
    assert sum(g.quoted for g in golds) == 117
    wrong = []
    for g in golds:
        beats = [b for b in story.beats if b.source[0] <= g.start and g.end <= b.source[1]]
        assert len(beats) == 1, doc.text[g.start:g.end]
        beat = beats[0]
        said = beat.speakers or ((beat.speaker,) if beat.speaker else ())
        span_ok = g.note or (g.start, g.end) in beat.quotes
        if (beat.kind, said) != (g.kind, g.keys) or not span_ok:
            wrong.append(f"beat {beat.index} {beat.text[:50]!r}: script says {beat.kind} "
                         f"{'+'.join(said)} {beat.quotes}, gold says {g.kind} {'+'.join(g.keys)} "
                         f"{(g.start, g.end)}")
    assert wrong == []
    known = {(g.start, g.end) for g in golds}
    extra = [(b.index, q) for b in story.beats for q in b.quotes if q not in known]
    assert extra == []
    voiced = [b for b in story.beats if b.kind in ("dialogue", "thought")]
    assert all(b.quotes for b in voiced)  # nothing voiced without its words


def test_seed_paragraphs_with_two_speakers_are_one_beat_per_speaker() -> None:
    story = _seed()
    paragraphs: dict[int, list[tuple[str, ...]]] = {}
    for b in story.beats:
        if b.kind in ("dialogue", "thought"):
            para = story.text.rfind("\n", 0, b.source[0])
            paragraphs.setdefault(para, []).append(b.speakers or (b.speaker or "?",))
    for speakers in paragraphs.values():  # a paragraph's voiced beats change speaker each time
        assert all(a != b for a, b in itertools.pairwise(speakers)), speakers
    beat = next(b for b in story.beats if b.text.startswith('"Hm?"'))
    assert (beat.speaker, beat.text) == ("lee", '"Hm?" Lee said looking at him.')
    prev = story.beat(beat.index - 1)
    assert prev.speaker == "gaara" and prev.text.endswith("looking up.")
    climax = next(b for b in story.beats if '"Because you are my first' in b.text)
    thanks = next(b for b in story.beats if '"Thank you Gaara.' in b.text)
    assert (climax.speaker, thanks.speaker) == ("gaara", "naruto")
    assert story.beat(thanks.index - 1).kind == "narration"


def test_seed_thoughts_are_the_thinkers_words() -> None:
    story = _seed()
    thoughts = {b.speaker: [] for b in story.beats if b.kind == "thought"}
    for b in story.beats:
        if b.kind == "thought":
            thoughts[b.speaker or ""].extend(b.quoted_text())
    assert thoughts["shukaku"] == ["Hehehe, look who's got a friend he doesn't want to die. Cute brat, "
                                   "real touching."]
    assert "Shut up Shukaku, you will not interfere with my thoughts right now." in thoughts["gaara"]
    assert "Must've thought I came to kill him," in thoughts["gaara"]
    assert len(thoughts["gaara"]) == 6


def test_seed_authors_note_is_a_note_and_is_not_played() -> None:
    story = _seed()
    notes = [b for b in story.beats if b.kind == "note"]
    assert len(notes) == 1 and notes[0].text.startswith("(Now this is the last we see of Gaara and Lee")
    assert notes[0].scene == 0
    assert notes[0] not in list(story.iter_playable())
