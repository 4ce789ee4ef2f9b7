"""Pronoun and description tags (helper pronoun3): sentences of our own with the shapes that went
wrong on real novels."""

from __future__ import annotations

import pytest

from bot.story.model import Character
from tests.story.novel_cast import CAST, paragraph_guesses, speakers

FAMILY = [*CAST, Character("mrs-marlow", "Mrs. Marlow", (), "she/her"),
          Character("janey", "Janey Marlow", ("Janey",), "she/her")]


@pytest.mark.parametrize("rules_only", [True, False])
@pytest.mark.parametrize("aside", ["", ", losing patience with them both,"])
def test_his_mother_leading_into_the_next_line_is_the_mother_not_his(aside: str, rules_only: bool) -> None:
    # "His mother … insisted:" brings the mother in to speak; "His" at the same place is no subject
    text = ("\"We shall dine early,\" said Clara.\n\n\"Then I must dress now,\" said Hugh.\n\n"
            "The whole family took that tone on such evenings, and Hugh looked across at Clara.\n\n"
            f"His mother{aside} still insisted:\n\n"
            "\"I have always said that guests ought to come on time.\"\n")
    assert speakers(text, FAMILY, rules_only=rules_only) == ["clara", "hugh", "mrs-marlow"]


EXCHANGE = ("\"You will stay to dinner, Hugh?\" said Agnes.\n\n"
            "\"If Clara stays,\" said Hugh.\n\n")


@pytest.mark.parametrize("lead", ["He said it with such a smile that she could not help replying,",
                                  "He laughed so much that at last she answered, a little crossly,"])
def test_a_lead_in_by_pronoun_is_as_sure_as_a_pronoun_tag(lead: str) -> None:
    # "…that she could not help replying," hands the next line to "she": a pronoun; the line is
    # hers as a "said she" would be, and no surer than one (not a named tag)
    g = paragraph_guesses(EXCHANGE + lead + "\n\n\"You are both very rude.\"\n")
    assert g[2].speakers == ("agnes",) and g[2].source == "tag_before"
    assert not g[2].named and g[2].rivals == 1


@pytest.mark.parametrize("lead", ["He said it with such a smile that Agnes could not help replying,",
                                  "Agnes answered, a little crossly,"])
def test_a_lead_in_by_name_stays_a_named_tag(lead: str) -> None:
    g = paragraph_guesses(EXCHANGE + lead + "\n\n\"You are both very rude.\"\n")
    assert g[2].speakers == ("agnes",) and g[2].named and g[2].rivals == 0


@pytest.mark.parametrize("opening", ["She put her hand on the seat beside her and said,",
                                     "She rose, crossed to the window, and said,"])
def test_a_paragraphs_opening_she_is_a_pronoun_not_a_name(opening: str) -> None:
    # the opening "She" is resolved before the paragraph's own names (the one in view goes on),
    # but the tag it makes is a pronoun tag, as sure as one
    g = paragraph_guesses(EXCHANGE + opening + " \"Sit here.\"\n")
    assert g[2].speakers == ("agnes",) and not g[2].named and g[2].rivals >= 1


def test_a_paragraph_opening_with_a_name_keeps_its_named_tag() -> None:
    g = paragraph_guesses(EXCHANGE + "Agnes put her hand on the seat beside her and said, \"Sit here.\"\n")
    assert g[2].speakers == ("agnes",) and g[2].named


def test_a_one_sentence_lead_in_opening_with_she_is_a_pronoun() -> None:
    g = paragraph_guesses(EXCHANGE + "She could not help replying, a little crossly,\n\n\"You are both very rude.\"\n")
    assert g[2].speakers == ("agnes",) and not g[2].named and g[2].rivals >= 1
