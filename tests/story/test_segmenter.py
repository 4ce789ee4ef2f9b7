"""Scenes, beats, notes, message-sized beats, fidelity to the source, progress."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from bot.story.model import MAX_BEAT_CHARS, Character, Story
from bot.story.readers import StoryImportError, read_document
from bot.story.segmenter import _MARKER, segment

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"

CAST = [Character("gaara", "Gaara", ("Gaara-kun",), "he/him"),
        Character("lee", "Rock Lee", ("Lee",), "he/him"),
        Character("temari", "Temari", (), "she/her")]

_HEADING_OR_MARKER = re.compile(r"^(?:[*~=_#+-]\s*)+$")


def check_fidelity(story: Story, skipped: list[tuple[int, int]] | None = None) -> None:
    """Every beat is an exact slice; beats are in order and disjoint; every word outside them
    belongs to a heading or a scene-break marker."""
    text = story.text
    pos = 0
    uncovered: list[str] = []
    for b in story.beats:
        s0, s1 = b.source
        assert b.text == text[s0:s1]
        assert s0 >= pos, "beats overlap or are out of order"
        assert len(b.text) <= MAX_BEAT_CHARS
        uncovered.append(text[pos:s0])
        for q0, q1 in b.quotes:
            assert s0 <= q0 <= q1 <= s1
        pos = s1
    uncovered.append(text[pos:])
    titles = {" ".join((s.title or "").split()) for s in story.scenes}
    for gap in uncovered:
        for line in gap.split("\n"):
            line = line.strip()
            if line and not _HEADING_OR_MARKER.match(line) and not _MARKER.fullmatch(line):
                assert " ".join(line.split()) in titles, f"words lost: {line[:60]!r}"


def run(text: str, cast: list[Character] | None = None, **kw: object) -> Story:
    story = segment(read_document(text, **kw), CAST if cast is None else cast)  # type: ignore[arg-type]
    check_fidelity(story)
    return story


@pytest.mark.parametrize("marker", ["***", "* * *", "---", "~~~", "#", "o0o", "=====", "\n"])
def test_scene_breaks(marker: str) -> None:
    text = f"Gaara slept.\n\n{marker}\n\nLee woke." if marker != "\n" else "Gaara slept.\n\n\n\nLee woke."
    story = run(text)
    assert [len(s.beats) for s in story.scenes] == [1, 1]
    assert [b.text for b in story.beats] == ["Gaara slept.", "Lee woke."]


def test_one_blank_line_is_not_a_break_but_two_are() -> None:
    story = run("One.\n\nTwo.\n\n\nThree.")
    assert [[b.text for b in s.beats] for s in story.scenes] == [["One.", "Two."], ["Three."]]


def test_double_spaced_text_breaks_only_on_wider_gaps() -> None:
    story = run("One.\n\n\nTwo.\n\n\nThree.\n\n\n\n\nFour.")
    assert [[b.text for b in s.beats] for s in story.scenes] == [["One.", "Two.", "Three."], ["Four."]]


def test_chapter_headings_become_scene_titles() -> None:
    story = run("Chapter 1: The Sand\n\nGaara slept.\n\nChapter Two\n\nLee woke.\n\nPROLOGUE\n\nEnd.")
    assert [s.title for s in story.scenes] == ["Chapter 1: The Sand", "Chapter Two", "PROLOGUE"]
    assert all(len(s.beats) == 1 for s in story.scenes)


def test_markdown_and_html_headings_and_breaks() -> None:
    md = run("# The Start\n\nGaara slept.\n\n---\n\nLee woke.", fmt="md")
    assert [s.title for s in md.scenes] == ["The Start", None]
    html = run("<h1>Part One</h1><p>Gaara slept.</p><hr><p>Lee woke.</p>", fmt="html")
    assert [s.title for s in html.scenes] == ["Part One", None]
    assert [b.text for b in html.beats] == ["Gaara slept.", "Lee woke."]


@pytest.mark.parametrize("note", [
    "A/N: Thanks for reading!", "Author's Note: this is late.", "AN: sorry", "Disclaimer: I own nothing.",
    "(A/N: short one)", "Author’s note — I love these two.",
])
def test_authors_notes(note: str) -> None:
    story = run(f"{note}\n\nGaara slept.")
    assert [b.kind for b in story.beats] == ["note", "narration"]


def test_hard_wrapped_paragraphs_stay_one_beat() -> None:
    text = "Gaara lay on his back in a shallow bowl\nof his own sand and watched the sky.\n\nLee came."
    story = run(text)
    assert len(story.beats) == 2 and "\n" in story.beats[0].text


def test_one_paragraph_per_line_text() -> None:
    line = "Gaara lay on his back in a shallow bowl of his own sand and watched the sky through the trees above."
    text = "\n".join([line] * 6 + ["", line, line])
    story = run(text)
    assert len(story.beats) == 8
    assert [len(s.beats) for s in story.scenes] == [6, 2]  # one blank line is the break here


def test_long_paragraph_splits_at_sentence_ends_never_mid_word() -> None:
    sentence = "Gaara watched the long road wind away into the desert under a pale sky. "
    para = (sentence * 80).strip()
    story = run(para)
    assert len(story.beats) >= 3
    for b in story.beats:
        assert len(b.text) <= MAX_BEAT_CHARS
        assert b.text.endswith("sky.")


def test_long_sentence_without_punctuation_splits_at_spaces() -> None:
    para = " ".join(["sand"] * 1500)
    story = run(para)
    assert all(len(b.text) <= MAX_BEAT_CHARS and b.text.strip() == b.text for b in story.beats)
    assert all(set(b.text.split()) == {"sand"} for b in story.beats)


def test_long_speech_keeps_its_speaker_in_every_piece() -> None:
    speech = "I will protect you with everything I have, always. " * 60
    story = run(f"“{speech.strip()}” said Lee.")
    assert len(story.beats) >= 2
    assert all(b.kind == "dialogue" and b.speaker == "lee" and b.quotes for b in story.beats)


def test_mixed_paragraph_is_one_dialogue_beat_with_quote_spans() -> None:
    story = run("Gaara nodded slowly. “I will come.” He stood up and brushed off the sand.")
    (beat,) = story.beats
    assert beat.kind == "dialogue" and beat.speaker == "gaara"
    assert beat.text == story.text
    assert beat.quoted_text() == ["I will come."]


def test_two_speakers_in_one_paragraph_split_at_a_sentence_boundary() -> None:
    story = run("“Are you awake?” Lee asked. Gaara opened his eyes. “I do not sleep.”")
    assert [(b.speaker, b.text) for b in story.beats] == [
        ("lee", "“Are you awake?” Lee asked."),
        ("gaara", "Gaara opened his eyes. “I do not sleep.”"),
    ]


def test_beat_indices_count_across_scenes() -> None:
    story = run("One.\n\nTwo.\n\n***\n\nThree.")
    assert [(b.index, b.scene) for b in story.beats] == [(0, 0), (1, 0), (2, 1)]


def test_italic_inner_voice_in_html_is_a_thought() -> None:
    html = "<p>Gaara looked at the sky. <i>Why do I still care?</i> He closed his eyes.</p><p>The <em>wind</em> rose.</p>"
    story = run(html, fmt="html")
    assert story.beats[0].kind == "thought" and story.beats[0].speaker == "gaara"
    assert story.beats[0].quoted_text() == ["Why do I still care?"]
    assert story.beats[1].kind == "narration"  # one emphasised word is not a thought


def test_progress_is_reported() -> None:
    calls: list[tuple[int, int]] = []
    text = "\n\n".join(f"Paragraph {i} is here." for i in range(600))
    segment(read_document(text), CAST, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 600) and calls[-1] == (600, 600)
    assert len(calls) >= 3 and all(b[0] >= a[0] for a, b in itertools.pairwise(calls))


def test_only_headings_is_an_import_error() -> None:
    with pytest.raises(StoryImportError, match="no story text"):
        segment(read_document("Chapter 1\n\n* * *\n\nChapter 2", name="x.txt"), CAST)


def test_story_text_is_the_document_text() -> None:
    doc = read_document("“Hi,” said Lee.\r\n\r\nGaara nodded.")
    story = segment(doc, CAST, slug="s", title="T")
    assert story.text == doc.text and story.slug == "s" and story.title == "T"
    assert tuple(CAST) == story.characters


def test_fidelity_on_own_samples() -> None:
    for path in sorted(DATA.glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        plain = re.sub(r"\{(?:\?|-|[A-Za-z0-9_]+(?:\+[A-Za-z0-9_]+)*)(?::thought)?\}", "", raw)
        check_fidelity(segment(read_document(plain, name=path.name), CAST))


@pytest.mark.parametrize("path", sorted(ROOT.glob("story_data/*/source.*")), ids=lambda p: p.parent.name)
def test_fidelity_on_shipped_story_sources(path: Path) -> None:
    story = segment(read_document(path.read_bytes(), name=path.name))
    check_fidelity(story)
    assert len(story.beats) > 10


FANFIC_HTML = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Precious - Chapter 1</title>
<script>window.ads = 1;</script></head><body>
<div id="top-nav" class="nav"><a href="/">Home</a> &gt; <a>Naruto</a></div>
<div class="storytext">
<p><strong>A/N:</strong> Thanks for all the reviews!</p>
<h2>Chapter 1: Sand</h2>
<p>Gaara lay still in the sand. <em>Why did he come back for me?</em></p>
<p>&#8220;You are awake!&#8221; Lee said.</p>
<p>&ldquo;I do not sleep,&rdquo; Gaara said.</p>
<hr size="1" noshade>
<p>Temari found them at dawn. &ldquo;There you are.&rdquo;</p>
</div>
<div class="reviews"><p>Review this story!</p></div>
<footer>Copyright 2008</footer></body></html>"""


def test_fan_fiction_html_page() -> None:
    story = run(FANFIC_HTML, fmt="html")
    kinds = [(b.kind, b.speaker) for b in story.beats]
    assert kinds == [("note", None), ("thought", "gaara"), ("dialogue", "lee"), ("dialogue", "gaara"),
                     ("dialogue", "temari")]
    assert story.scenes[0].title is None and story.scenes[1].title == "Chapter 1: Sand"
    assert len(story.scenes) == 3
    assert story.beats[1].quoted_text() == ["Why did he come back for me?"]
    for junk in ("Home", "Review this story", "Copyright", "ads"):
        assert junk not in story.text


def test_markdown_story_with_italic_thought_and_break() -> None:
    md = "# Sand\n\nGaara lay still. *Why did he come back for me?*\n\n***\n\n\"You are awake!\" Lee said."
    story = run(md, fmt="md")
    assert [(b.kind, b.speaker) for b in story.beats] == [("thought", "gaara"), ("dialogue", "lee")]
    assert [s.title for s in story.scenes] == ["Sand", None]


@pytest.mark.parametrize("line", ["Part of me wanted to stay.", "Book me a room.", "Part two of the plan failed.",
                                  "Act now.", "Introduction of the new rules was slow."])
def test_sentences_that_start_like_headings_are_text(line: str) -> None:
    story = run(f"Gaara slept.\n\n{line}\n\nLee woke.")
    assert len(story.scenes) == 1 and len(story.beats) == 3


AO3_HTML = """<html><body><div id="preface"><h2 class="toc-heading">Precious</h2>
<dl class="tags"><dt>Rating:</dt><dd>Teen And Up Audiences</dd></dl>
<div class="meta"><p>Summary</p><blockquote class="userstuff"><p>Gaara learns a thing.</p></blockquote></div></div>
<div id="chapters" class="userstuff"><h2 class="toc-heading">Chapter 1</h2>
<div class="notes module"><p>Thanks to my beta!</p></div>
<div class="userstuff"><p>Gaara woke. “Lee?”</p><p>“Here,” said Lee.</p></div></div>
<div id="afterword"><p>Posted originally on the Archive.</p></div></body></html>"""


def test_ao3_download_metadata_and_notes_are_notes() -> None:
    story = run(AO3_HTML, fmt="html")
    kinds = [(b.kind, b.text) for b in story.beats]
    story_beats = [(k, t) for k, t in kinds if k != "note"]
    assert story_beats == [("dialogue", "Gaara woke. “Lee?”"), ("dialogue", "“Here,” said Lee.")]
    notes = " ".join(t for k, t in kinds if k == "note")
    for bit in ("Teen And Up", "Gaara learns", "beta", "Posted originally"):
        assert bit in notes


def test_wrapped_text_with_indented_paragraph_starts() -> None:
    text = ("    Gaara lay on his back in the sand and\nwatched the sky above him.\n"
            "    “You are awake,” said Lee, who had\ncome back for him.\n"
            "    Gaara did not answer.")
    story = run(text)
    assert [b.kind for b in story.beats] == ["narration", "dialogue", "narration"]
    assert story.beats[1].speaker == "lee"
