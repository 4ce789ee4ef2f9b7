"""Pronoun tags and the sentence around them (issue 10): who a "said she" or a narration
sentence hands a line to, on sentences of our own."""

from __future__ import annotations

import pytest

from tests.story.novel_cast import speakers


@pytest.mark.parametrize("got", [
    "and, receiving no other answer than one weary",
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


@pytest.mark.parametrize("joined", [
    "; and he answered:",
    ", and he went on:",
    ", and he pleaded quietly:",
])
def test_and_he_after_a_comma_opens_his_own_clause(joined: str) -> None:
    # "…, and he answered:" is a clause of its own whose subject is "he" (Hugh), not one of a
    # group with the sentence's first subject ("Clara and he said" would be)
    text = ("\"Will you stay for supper?\" asked Hugh.\n\n"
            f"\"Do not ask me,\" said Clara, as she drew her hands away{joined} \"You will not go back?\"\n")
    assert speakers(text, rules_only=True) == ["hugh", "clara", "hugh"]
