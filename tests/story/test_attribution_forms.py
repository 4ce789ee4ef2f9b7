"""Speakers met by a description the cast implies: "the Colonel" for Colonel Marsh, "the
policeman" for The Policeman, "the other" for the other party of an exchange."""

from __future__ import annotations

from bot.story.model import Character
from bot.story.readers import read_document
from bot.story.segmenter import segment

CAST = [Character("colonel-marsh", "Colonel Marsh", pronouns="he/him"),
        Character("the-policeman", "The Policeman", pronouns="he/him"),
        Character("ada", "Ada", pronouns="she/her"),
        Character("bea", "Bea", pronouns="she/her")]


def speakers(text: str) -> list[str | None]:
    story = segment(read_document(text, fmt="txt", name="x.txt"), CAST)
    return [b.speaker for b in story.beats if b.kind == "dialogue"]


def test_a_rank_and_a_the_name_are_found_as_written_in_narration() -> None:
    text = ('Colonel Marsh came in from the rain.\n\n'
            '"Halt there," said the policeman at the door.\n\n'
            '"I am expected," said the Colonel, and walked past him.\n')
    assert speakers(text) == ["the-policeman", "colonel-marsh"]


def test_the_other_is_the_other_party_of_the_exchange() -> None:
    text = ('Ada and Bea sat by the fire.\n\n'
            '"It is late," said Ada.\n\n'
            '"Not yet," said the other.\n\n'
            'Ada and Bea looked at the clock. Ada poked the fire.\n\n'
            '"Is it?" said the other.\n')
    assert speakers(text) == ["ada", "bea", "bea"]


def test_a_name_after_describing_words_is_the_speaker() -> None:
    text = ('Ada and Bea sat by the fire.\n\n'
            '"More tea?" said the ever obliging Bea.\n\n'
            '"Please," said the grateful Ada.\n')
    assert speakers(text) == ["bea", "ada"]


def test_the_name_opening_a_long_tag_is_the_speaker_not_a_noun_inside_it() -> None:
    text = ('Ada and Bea sat by the fire.\n\n'
            '"Is it late?" said Ada.\n\n'
            '"Not very," said Bea.\n\n'
            'Bea, slowly taking up a volume of poems from the table, exclaimed, "We never '
            'finished this one."\n')
    assert speakers(text) == ["ada", "bea", "bea"]


def test_a_name_owning_a_word_for_speech_is_the_speaker() -> None:
    text = ('Ada and Bea sat by the fire.\n\n'
            '"It is late," said Ada.\n\n'
            '"We must go at once," was Ada\'s conclusion.\n\n'
            'In reply came Bea\'s calm inquiry of "Where to?"\n')
    assert speakers(text) == ["ada", "ada", "bea"]


def test_a_mr_entry_beside_the_one_man_of_that_name_is_him() -> None:
    cast = [Character("henry-crawford", "Henry Crawford", pronouns="he/him"),
            Character("mr-crawford", "Mr. Crawford", pronouns="he/him"),
            Character("fanny", "Fanny", pronouns="she/her")]
    text = ('Henry Crawford walked beside Fanny.\n\n'
            '"It is a fine day," said Mr. Crawford.\n\n'
            '"It is," said Fanny.\n')
    story = segment(read_document(text, fmt="txt", name="x.txt"), cast)
    assert [b.speaker for b in story.beats if b.kind == "dialogue"] == ["henry-crawford", "fanny"]
