"""Accuracy against hand-made gold annotations (the figures bench/attribution.py prints).

The seed story must reach 97% with its cast file (issue 3); the other annotated texts guard the
held-out targets (80% end to end, 97% on named tags, quote F1 95%, British within 3 points).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.story.storyfixtures import bench_annotations

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "tests" / "data" / "precious-person.annotated.txt"
OWN = Path(__file__).resolve().parent / "data" / "harbour-night.annotated.txt"


ann = bench_annotations()


def test_gold_parser_reads_markers_spans_groups_and_runons() -> None:
    text, golds = ann.parse_annotated(
        "“Hi,”{lee} said Lee. “He said ‘go’{-} to me.”{gaara:thought}\n\n“And then{lee}\n\n“Yes.”{a+b}")
    assert "{" not in text
    got = [(text[g.start:g.end], g.label, g.keys, g.thought) for g in golds]
    assert got == [("Hi,", "key", ("lee",), False), ("go", "-", (), False),
                   ("He said ‘go’ to me.", "key", ("gaara",), True), ("And then", "key", ("lee",), False),
                   ("Yes.", "key", ("a", "b"), False)]


def test_gold_parser_reads_unquoted_thoughts_and_notes() -> None:
    text, golds = ann.parse_annotated(
        "{<}Shut up, you.{gaara:thought} Gaara responded. \"Hi,\"{lee} Lee said.\n\n"
        "{<}(An author's note.){-:note}\n\n{<}He is odd,{gaara:thought} thought Gaara; {<}very.{gaara:thought}")
    assert "{" not in text and text.startswith("Shut up, you. Gaara responded.")
    got = [(text[g.start:g.end], g.kind, g.keys, g.quoted) for g in golds]
    assert got == [("Shut up, you.", "thought", ("gaara",), False), ("Hi,", "dialogue", ("lee",), True),
                   ("(An author's note.)", "note", (), False), ("He is odd,", "thought", ("gaara",), False),
                   ("very.", "thought", ("gaara",), False)]


def test_seed_gold_is_the_real_text_with_117_quoted_passages_from_its_cast() -> None:
    doc = ann.load(SEED)
    assert doc.text == (ROOT / "story_data" / "precious-person" / "source.txt").read_text(encoding="utf-8")
    quoted = [g for g in doc.golds if g.quoted]
    assert len(quoted) == 117 and all(g.label == "key" for g in quoted)
    keys = {c.key for c in doc.cast}
    assert {k for g in doc.golds for k in g.keys} <= keys
    assert sum(g.note for g in doc.golds) == 1
    assert {g.keys for g in doc.golds if not g.quoted and not g.note} == {("gaara",), ("shukaku",)}


def test_british_conversion_keeps_offsets_and_swaps_quote_levels() -> None:
    raw = "“He said ‘go’{-} to me,”{lee} said Lee. “Don’t.”{gaara}"
    brit = ann.to_british(raw)
    assert len(brit) == len(raw)
    assert brit == "‘He said “go”{-} to me,’{lee} said Lee. ‘Don’t.’{gaara}"


def test_seed_story_reaches_97_percent_with_its_cast() -> None:
    """Issue 9: the raw original with the shipped cast, no manual edits (bench/seed.py prints it)."""
    score, story = ann.score(ann.load(SEED))
    assert score.attributed == 117
    assert score.accuracy >= 0.97, "\n".join(score.mistakes)
    assert score.f1 >= 0.97
    assert score.notes_found == score.notes == 1, "\n".join(score.mistakes)
    assert score.unquoted_correct == score.unquoted == 7, "\n".join(score.mistakes)
    assert any(b.kind == "thought" and b.speaker == "shukaku" for b in story.beats)
    # a paragraph with two speakers' lines is one beat per speaker, in order
    para = story.text.index('"…So you\'re another one eh?"')
    voiced = [b for b in story.beats if b.kind == "dialogue" and para <= b.source[0] < para + 80]
    assert [b.speaker for b in voiced] == ["gaara", "lee"]


@pytest.mark.skipif(not SEED.exists(), reason="seed annotations not written yet")
def test_seed_story_in_british_quotes_stays_within_3_points() -> None:
    doc = ann.load(SEED)
    double, _ = ann.score(doc)
    text, _ = ann.parse_annotated(ann.to_british(doc.raw))
    british, _ = ann.score(doc, text)
    assert british.accuracy >= double.accuracy - 0.03


def test_own_sample_in_both_quote_styles() -> None:
    doc = ann.load(OWN)
    for text in (doc.text, ann.parse_annotated(ann.to_british(doc.raw))[0]):
        score, _ = ann.score(doc, text)
        assert score.f1 >= 0.95
        assert score.accuracy >= 0.9, "\n".join(score.mistakes)
        assert score.named_accuracy == 1.0


def test_every_annotated_corpus_text_meets_the_held_out_targets() -> None:
    files = ann.corpus_files()
    assert OWN in files
    correct = attributed = named_ok = named = 0
    for path in files:
        doc = ann.load(path)
        score, _ = ann.score(doc)
        assert score.f1 >= 0.9, f"{path.name}: quote F1 {score.f1:.1%}"
        correct += score.correct
        attributed += score.attributed
        named_ok += score.named_correct
        named += score.named
    assert correct / attributed >= 0.80
    assert named_ok / named >= 0.97
