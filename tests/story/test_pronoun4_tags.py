"""Pronoun tags (helper pronoun4): who "he"/"she" of a tag means, on sentences of our own with the
shapes that went wrong on real novels. Each test fails without the rule it names."""

from __future__ import annotations

import pytest

from tests.story.novel_cast import paragraph_guesses, speakers

OPENING = "\"Well, then,\" said Agnes.\n\n\"We shall see,\" said Clara.\n\n"


@pytest.mark.parametrize("rules_only", [True, False])
def test_a_pronoun_means_someone_named_before_it_not_the_one_spoken_to_after_it(rules_only: bool) -> None:
    # "she said, in a whisper to Clara," -- Clara is named after "she": she is the listener,
    # not what "she" refers to; the one in view before the pronoun (Agnes) speaks
    text = (OPENING + "The reply might have vexed many a hostess; but it did not vex Agnes, for after "
            "a moment of thought, she said, in a whisper to Clara, \"I think he meant his cousin.\"\n")
    assert speakers(text, rules_only=rules_only) == ["agnes", "clara", "agnes"]


@pytest.mark.parametrize("tail", ["and Agnes put her head round the door to ask whether Clara",
                                  "and then Agnes looked in to ask whether Clara"])
def test_the_last_clause_after_a_line_brings_in_the_next_pronoun(tail: str) -> None:
    # the narration after a paragraph's last line ends on a clause whose subject is Agnes
    # ("…, and Agnes looked in to ask whether Clara …"): the next "she said" is Agnes's, not
    # Clara's (named later, inside what Agnes asked)
    text = ("\"You will stay, Hugh?\" said Clara.\n\n"
            f"\"If you wish it,\" said Hugh. They sat on in silence for a time, {tail} would dine at home.\n\n"
            "\"Dearest Hugh,\" she said, smiling at them both.\n")
    g = paragraph_guesses(text)
    assert g[2].speakers == ("agnes",) and g[2].source == "tag_after"


@pytest.mark.parametrize("opener", ["After they had been talking for a while,",
                                    "In a minute or two, however,"])
def test_the_main_clause_subject_after_an_opening_clause_is_in_view(opener: str) -> None:
    # "After they had talked a while, Tobias walked over …, and he gave his opinion": Tobias,
    # the subject of the main clause, is the "he" of the next tag, not Hugh (the subject of the
    # sentence before)
    text = ("\"Well,\" said Hugh.\n\n"
            f"Hugh had been at the window an hour. {opener} Tobias walked over to the ladies, and he "
            "gave his opinion of the weather.\n\n"
            "\"I thought as much,\" said he.\n")
    g = paragraph_guesses(text)
    assert g[1].speakers == ("tobias",)


def test_a_named_tag_makes_its_speaker_the_subject_for_a_later_pronoun_in_the_paragraph() -> None:
    # "“Clara,” said Hugh, as soon as Tobias had shut the door. “Clara,” he repeated.": the
    # second "he" is Hugh (his tag's subject), not Tobias (named later in the tag's own clause)
    text = (OPENING + "\"Clara,\" said Hugh, as soon as Tobias had shut the door behind him. "
            "\"Clara,\" he repeated.\n")
    g = paragraph_guesses(text)
    assert [v.speakers for v in g[2:]] == [("hugh",), ("hugh",)]


@pytest.mark.parametrize("passive", ["this was at once opposed by", "the plan was warmly defended by"])
def test_the_agent_of_a_passive_is_its_sentences_doer(passive: str) -> None:
    # "Hugh thought …. But this was opposed by Tobias, who declared …. “…,” said he": Tobias
    # does the opposing (and speaks), though Hugh opens the paragraph as its subject
    text = (OPENING + "Hugh thought the plan a poor one, and was sure nobody would like it. "
            f"But {passive} Tobias, who declared it to be a good one. "
            "\"It suits us all,\" said he, \"as well as any plan could.\"\n")
    g = paragraph_guesses(text)
    assert g[2].speakers == ("tobias",)


def test_a_pronoun_tag_makes_its_speaker_the_subject_for_a_later_pronoun_in_the_paragraph() -> None:
    # the same with a pronoun tag: "“Hugh,” said she, when Clara had shut the door. “Hugh,” she
    # repeated.": both lines are the first "she"'s (Agnes, answering Clara), not Clara's
    text = (OPENING + "\"Hugh,\" said she, when Clara had shut the door behind her. "
            "\"Hugh,\" she repeated.\n")
    g = paragraph_guesses(text)
    assert [v.speakers for v in g[2:]] == [("agnes",), ("agnes",)]


def test_the_last_voice_in_the_last_clause_after_his_line_does_not_take_the_next_pronoun() -> None:
    # "“…,” Tobias observed. Hugh's hands clenched, and Tobias stepped back, never having seen
    # Hugh so angry.": the last clause's subject is the one who just spoke; the next "he asked"
    # is Hugh's (the one in view beside him), not Tobias speaking twice
    text = ("\"You look tired,\" said Agnes.\n\n"
            "\"He has had a long day,\" Tobias observed. Hugh's hands clenched, and Tobias stepped back "
            "a little, never having seen Hugh so angry.\n\n"
            "\"Who did this?\" he asked.\n")
    g = paragraph_guesses(text)
    assert g[2].speakers == ("hugh",)
