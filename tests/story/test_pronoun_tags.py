"""Pronoun tags and the sentence around them (issue 10): who a "said she" or a narration
sentence hands a line to, on sentences of our own."""

from __future__ import annotations

import pytest

from bot.story.model import Character
from tests.story.novel_cast import CAST, speakers


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


VENN = [*CAST, Character("mrs-venn", "Mrs. Venn", (), "she/her")]


@pytest.mark.parametrize("rules_only", [True, False])
def test_her_mother_is_the_mother_of_the_daughter_in_view(rules_only: bool) -> None:
    # the narration ends on the mother, so "her" first means Mrs. Venn, who has no mother in the
    # cast: "her mother" is the mother of the next "she" in view (Clara), not Clara herself
    text = ("\"I shall be back by six,\" said Hugh.\n\n"
            "Clara came in from the garden, and Mrs. Venn looked up from her sewing.\n\n"
            "\"Where have you been all this while?\" asked her mother.\n")
    assert speakers(text, VENN, rules_only=rules_only)[1] == "mrs-venn"


@pytest.mark.parametrize("tag", ["said his brother", "said his brother slowly", "said his brother to Clara"])
def test_his_brother_among_two_titled_brothers(tag: str) -> None:
    # grown brothers may both carry a title; the noun ends the description ("slowly", "to
    # Clara" are no part of it)
    cast = [*CAST, Character("edward", "Mr. Edward Crane", ("Edward",), "he/him"),
            Character("crane", "Mr. Crane", ("Mr. Crane",), "he/him")]
    text = ("\"The roof wants mending,\" said Edward.\n\n"
            f"\"It has wanted mending these ten years,\" {tag}.\n")
    assert speakers(text, cast, rules_only=True) == ["edward", "crane"]


@pytest.mark.parametrize("tail", [
    "Mrs. Venn put down her sewing and looked at them both.",
    "Agnes said nothing. Mrs. Venn put down her sewing.",
])
@pytest.mark.parametrize("rules_only", [True, False])
def test_narration_after_the_last_line_brings_in_the_next_speaker(tail: str, rules_only: bool) -> None:
    # the conversation's other party is Agnes, but the narration closing Clara's paragraph
    # turns to Mrs. Venn: "she asked" is hers
    text = ("\"Will you come to the fair with me?\" asked Agnes.\n\n"
            f"\"No,\" Clara admitted. {tail}\n\n"
            "\"And why not, pray?\" she asked.\n")
    assert speakers(text, VENN, rules_only=rules_only) == ["agnes", "clara", "mrs-venn"]


@pytest.mark.parametrize("tag", ["said he, with a smile.", "said he."])
def test_a_tag_that_is_a_sentence_of_its_own_keeps_the_voice_of_the_next_line(tag: str) -> None:
    # Clara answers Hugh by name, so "said he" is Hugh's; the untagged line after the tag's own
    # sentence is his too (not Tobias's, the last "he" who spoke)
    text = ("\"Will you walk with us?\" asked Hugh.\n\n"
            "\"I will,\" said Tobias.\n\n"
            "\"Not today, Hugh,\" said Clara.\n\n"
            f"\"But the sun is out!\" {tag} \"Come, only as far as the mill.\"\n")
    assert speakers(text, rules_only=True) == ["hugh", "tobias", "clara", "hugh", "hugh"]


def test_a_second_line_with_a_tag_of_its_own_is_not_carried_on() -> None:
    text = ("\"Will you walk with us?\" asked Hugh.\n\n"
            "\"Not today,\" said Clara. \"I have letters to write,\" said Agnes.\n")
    assert speakers(text, rules_only=True) == ["hugh", "clara", "agnes"]


@pytest.mark.parametrize("rules_only", [True, False])
def test_a_clause_subject_of_the_tags_own_sentence_comes_first(rules_only: bool) -> None:
    # Agnes opens the sentence, but Clara is the subject of the clause the pronoun goes on from
    text = ("\"The coach is late again,\" said Hugh.\n\n"
            "Agnes was silent, and Clara mused for a while, till, looking up suddenly, she exclaimed, "
            "\"Here it comes at last!\"\n")
    assert speakers(text, rules_only=rules_only) == ["hugh", "clara"]


@pytest.mark.parametrize("rules_only", [True, False])
def test_a_third_woman_just_named_takes_the_she_line(rules_only: bool) -> None:
    # three women about; the last line's tag names Mrs. Venn, who has not spoken yet: the
    # next "she said" is hers, not the exchange's other party (Agnes)
    text = ("\"Shall we go to the fair?\" asked Agnes.\n\n"
            "\"I would rather not,\" said Clara, with a glance across the room at Mrs. Venn.\n\n"
            "\"Then you shall both stay at home,\" she said.\n")
    assert speakers(text, VENN, rules_only=rules_only) == ["agnes", "clara", "mrs-venn"]


def test_with_two_women_about_the_she_line_is_the_other_partys() -> None:
    text = ("\"Shall we go to the fair?\" asked Agnes.\n\n"
            "\"I would rather not,\" said Clara, with a glance across the room at Hugh.\n\n"
            "\"Then I shall go alone,\" she said.\n")
    assert speakers(text, VENN, rules_only=True) == ["agnes", "clara", "agnes"]
