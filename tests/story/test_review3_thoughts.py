"""A thought in quote marks is ranked and judged like a spoken line (bot/story/ranker.py): its
confidence comes from the second stage, not from the rules' scale, so that a story told close
to one character does not fill the review list with that character's right lines."""

from __future__ import annotations

from bot.story.model import Character
from bot.story.ranker import Group, Ranker
from bot.story.readers import read_document
from bot.story.segmenter import segment

CAST = [Character(key="anna", name="Anna", pronouns="she/her"),
        Character(key="ben", name="Ben", pronouns="he/him")]

TEXT = """Anna waited at the gate while Ben fetched the lamp.

"Where has he got to now?" Anna wondered.

"Here I am," said Ben.
"""


def test_a_quoted_thought_is_a_ranked_run_and_gets_the_second_stages_confidence() -> None:
    doc = read_document(TEXT, fmt="txt", name="t.txt")
    groups: list[Group] = []
    story = segment(doc, CAST, ranker=Ranker(None, collect=groups))
    thought = [b for b in story.beats if b.kind == "thought"]
    assert [b.speaker for b in thought] == ["anna"]
    assert any(g.pick == "anna" and g.spans == [thought[0].quotes[0]] for g in groups)
    # with a second stage, its confidence is that stage's P(right) like any line's
    judged = segment(doc, CAST, ranker=Ranker({"pick": 1.0}, conf_weights={"b": 3.0}))
    (t,) = [b for b in judged.beats if b.kind == "thought"]
    assert t.speaker == "anna" and t.confidence is not None and abs(t.confidence - 0.9526) < 1e-3
