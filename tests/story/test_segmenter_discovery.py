"""Segmenting without a cast file (the archive samples, short texts), two italic runs in one
thought, and a Markdown title + byline that is front matter rather than a scene."""

from __future__ import annotations

from pathlib import Path

from bot.story.castfinder import find_cast, metadata_names
from bot.story.model import Character, Story
from bot.story.readers import read_document
from bot.story.segmenter import discover_cast, segment

from .test_segmenter import check_fidelity

DATA = Path(__file__).parent / "data" / "archives"


def _auto(name: str) -> Story:
    doc = read_document((DATA / name).read_bytes(), name=name)
    story = segment(doc)  # no cast: discovered
    check_fidelity(story)
    return story


def _said(story: Story, words: str) -> str | None:
    hits = [b for b in story.beats if b.kind in ("dialogue", "thought")
            and any(story.text[a:b2].startswith(words) for a, b2 in b.quotes)]
    assert len(hits) == 1, (words, hits)
    return hits[0].speaker


def test_a_short_text_finds_speakers_named_once() -> None:
    story = _auto("bom-crlf-bell.txt")
    assert {c.name for c in story.characters} == {"Wyn", "Corra"}
    assert _said(story, "Ring it") == "wyn"
    assert _said(story, "At this hour?") == "corra"


def test_markdown_sample_finds_pell_and_gives_him_his_thought() -> None:
    story = _auto("markdown-glass-garden.md")
    cast = {c.name: c for c in story.characters}
    assert set(cast) == {"Pell", "Rosalind"}
    assert cast["Pell"].pronouns == "he/him"  # "… he thought" right after his name
    assert _said(story, "She'll want to go in first") == "pell"
    assert _said(story, "We could sell it") == "pell"


def test_ao3_characters_metadata_is_used_and_she_said_goes_to_the_known_she() -> None:
    story = _auto("ao3-lantern-keeper.html")
    cast = {c.name: c for c in story.characters}
    assert "Mira Oakes" in cast and cast["Mira Oakes"].pronouns == "she/her"
    assert "Saltmarsh" not in {n.split()[0] for n in cast}  # "the Saltmarsh" is a ship
    mira = cast["Mira Oakes"].key
    assert _said(story, "Watch me") == mira
    assert _said(story, "If it goes out") == mira
    assert _said(story, "Every drop") == mira
    assert _said(story, "Was it worth it?") == cast["Tobin Reed"].key


def test_metadata_names_reads_ao3_and_ffn_prefaces_only_inside_notes() -> None:
    ao3 = "Characters:\n\nAnna Vale, Original Female Character(s)\n\nRelationships:\n\nAnna Vale/Rook & Pim\n\nStory"
    notes = ((0, ao3.index("Story")),)
    assert metadata_names(ao3, notes) == ["Anna Vale", "Rook", "Pim"]
    assert metadata_names(ao3, ()) == []  # not a preface: never read as metadata
    ffn = "Rated: Fiction T - English - Romance/Angst - Harry P., [Luna L., Neville L.] - Words: 2,001 - Reviews: 4"
    assert metadata_names(ffn, ((0, len(ffn)),)) == ["Harry", "Luna", "Neville"]
    doc = read_document((DATA / "ffnet-orchard-song.html").read_bytes(), name="ffnet-orchard-song.html")
    assert metadata_names(doc.text, doc.notes) == []  # "Family" is a genre, not a character


def test_pronouns_from_titles_and_the_first_pronoun_after_the_name() -> None:
    text = ('"Come in," said Miss Carrow. She smiled.\n\n"Thank you," said Jory. He sat down. '
            '"She said you would come," he added.\n\n"I did," said Miss Carrow.\n\n"Good," said Jory.')
    cast = {c.name: c.pronouns for c in find_cast(text)}
    assert cast == {"Miss Carrow": "she/her", "Jory": "he/him"}


def test_she_said_prefers_a_known_she_over_an_unknown() -> None:
    cast = [Character("ada", "Ada", (), "she/her"), Character("quill", "Quill", (), "")]
    text = 'Ada and Quill stood at the gate.\n\n"It is late," Quill said.\n\n"Not yet," she said.'
    story = segment(read_document(text, fmt="txt"), cast)
    assert _said(story, "Not yet") == "ada"
    # with no known "she" the unknown one still gets the tag
    cast2 = [Character("bo", "Bo", (), "he/him"), Character("quill", "Quill", (), "")]
    text2 = 'Bo and Quill stood at the gate.\n\n"It is late," Bo said.\n\n"Not yet," she said.'
    story2 = segment(read_document(text2, fmt="txt"), cast2)
    assert _said(story2, "Not yet") == "quill"


def test_every_italic_run_of_a_thought_beat_is_its_quote() -> None:
    story = _auto("markdown-glass-garden.md")
    beat = next(b for b in story.beats if b.kind == "thought")
    assert [story.text[a:b] for a, b in beat.quotes] == ["She'll want to go in first,", "She always does."]


def test_markdown_title_and_byline_are_front_matter_not_a_scene() -> None:
    story = _auto("markdown-glass-garden.md")
    assert (story.title, story.author) == ("The Glass Garden", "Juniper Hale")
    assert [s.title for s in story.scenes] == ["Chapter 1", None, "Chapter 2"]
    first = story.scenes[0].beats
    assert [(b.kind, b.text) for b in first[:2]] == [("note", "The Glass Garden"), ("note", "by Juniper Hale")]
    assert first[2].kind == "narration"
    # a top heading that is not followed by another heading still titles its own scene
    doc = read_document("# Night Train\n\nThe train was late.\n\n# Chapter 2\n\nIt came.", fmt="md")
    assert [s.title for s in segment(doc, []).scenes] == ["Night Train", "Chapter 2"]


def test_no_beat_or_quote_starts_or_ends_inside_a_word() -> None:
    for path in sorted(DATA.iterdir()):
        story = _auto(path.name)
        t = story.text
        for b in story.beats:
            for a, e in (b.source, *b.quotes):
                assert not (a > 0 and t[a - 1].isalnum() and t[a].isalnum()), (path.name, t[a - 10 : a + 10])
                assert not (e < len(t) and t[e - 1].isalnum() and t[e].isalnum()), (path.name, t[e - 10 : e + 10])


def test_one_tag_is_enough_only_in_a_short_text() -> None:
    names = ["Avel", "Brin", "Cato", "Dree"]
    para = " ".join(f'"Line {i}," said {names[i % 4]}. The wind blew.' for i in range(40))
    once = '\n\n"Hi," said Zed.'
    long_doc = read_document("\n\n".join([para] * 20) + once, fmt="txt")  # ~40 KB
    assert {c.name for c in discover_cast(long_doc)} == set(names)
    short_doc = read_document(para + once, fmt="txt")
    assert {c.name for c in discover_cast(short_doc)} == {*names, "Zed"}


def test_a_short_text_finds_a_speaker_named_only_in_action_beats() -> None:
    story = _auto("fichub-river-road.html")
    assert [c.name for c in story.characters] == ["Jessop"]
    assert _said(story, "Nobody's paid that toll") == "jessop"
