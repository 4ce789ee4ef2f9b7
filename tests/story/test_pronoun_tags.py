"""Pronoun tags and the sentence around them (issue 10): who a "said she" or a narration
sentence hands a line to, on sentences of our own."""

from __future__ import annotations

import pytest

from bot.story.model import Character
from bot.story.ranker import Ranker
from bot.story.readers import read_document
from bot.story.segmenter import segment

CAST = [
    Character("clara", "Clara Venn", ("Clara", "Miss Venn"), "she/her"),
    Character("hugh", "Hugh Marlow", ("Hugh", "Mr. Marlow"), "he/him"),
    Character("agnes", "Agnes Pell", ("Agnes", "Mrs. Pell"), "she/her"),
    Character("tobias", "Tobias Grebe", ("Tobias", "Mr. Grebe"), "he/him"),
]


def speakers(text: str, *, rules_only: bool = False) -> list[str | None]:
    """The speaker of every quoted span, in order (with `rules_only`, as the rules alone decide
    it: the learned ranker re-decides on top of them)."""
    story = segment(read_document(text), CAST, ranker=Ranker() if rules_only else None)
    return [b.speaker for b in story.beats if b.kind in ("dialogue", "thought") for _ in b.quotes]


@pytest.mark.parametrize("got", [
    "and, receiving no other answer than a tired",
    "but could get no more reply than a muttered",
    "and at last evoked the answer:",
    "and drew from him only the reply",
])
@pytest.mark.parametrize("rules_only", [True, False])
def test_an_answer_received_is_the_other_persons(got: str, rules_only: bool) -> None:
    # the sentence's subject (Clara) asks; the line she receives is Hugh's, not hers
    text = ("\"Is the mill still turning?\" asked Clara.\n\n"
            "\"It is,\" said Hugh.\n\n"
            f"Clara pressed him about the flour and the price of it, {got} \"We shall see.\"\n")
    assert speakers(text, rules_only=rules_only) == ["clara", "hugh", "hugh"]


@pytest.mark.parametrize("rules_only", [True, False])
def test_a_line_introduced_by_its_speaker_stays_hers(rules_only: bool) -> None:
    # the same scene with an ordinary tag: the subject speaks (the pattern above is no tag form)
    text = ("\"Is the mill still turning?\" asked Clara.\n\n"
            "\"It is,\" said Hugh.\n\n"
            "Clara pressed him about the flour and the price of it, and answered herself: \"We shall see.\"\n")
    assert speakers(text, rules_only=rules_only)[2] == "clara"
