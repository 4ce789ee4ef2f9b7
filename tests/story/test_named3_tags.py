"""Speech tags that name someone who is not the speaker, and tags whose speaker is only as sure
as a pronoun (sentences of our own)."""

from __future__ import annotations

from bot.story.model import Character
from tests.story.novel_cast import CAST, paragraph_voices, speakers

FAMILY = [*CAST, Character("mrsvenn", "Mrs. Venn", (), "she/her")]


def test_a_lead_in_with_a_pronoun_is_no_named_tag() -> None:
    # the narration brings "she" in to speak: as sure as "said she", not as "said Clara"
    text = ("Clara and Agnes waited by the gate while the rain came on.\n\n"
            "She pulled her shawl closer and, turning round, said:\n\n"
            "\"We had better go in.\"\n")
    (spk, rule, named), = paragraph_voices(text)
    assert rule == "tag_before" and spk in (("clara",), ("agnes",))
    assert not named


def test_a_lead_in_with_a_name_stays_a_named_tag() -> None:
    text = ("Clara and Agnes waited by the gate while the rain came on.\n\n"
            "Agnes pulled her shawl closer and, turning round, said:\n\n"
            "\"We had better go in.\"\n")
    assert paragraph_voices(text) == [(("agnes",), "tag_before", True)]


def test_the_one_heard_speaks_not_the_one_hearing() -> None:
    text = ("Hugh had a low opinion of the new road.\n\n"
            "\"It will ruin the village,\" was what Clara often heard him say, and she half believed it.\n")
    assert speakers(text) == ["hugh"]


def test_the_one_heard_before_the_line_speaks() -> None:
    text = ("Tobias stood at the far end of the hall.\n\n"
            "Clara heard him mutter to the porter, \"Not a word of this to anyone.\"\n")
    assert speakers(text) == ["tobias"]


def test_a_possessive_kin_tag_is_the_relative_in_the_cast() -> None:
    text = ("Mrs. Venn and Agnes sat by the fire with Hugh.\n\n"
            "\"Is it raining?\" asked Hugh.\n\n"
            "\"Not at all,\" answered Clara's mamma, smiling.\n")
    assert speakers(text, FAMILY) == ["hugh", "mrsvenn"]


def test_a_possessive_whose_apostrophe_was_lost_is_still_a_possessive() -> None:
    # a text converted without its apostrophes: "Clara s mamma", "I don t"
    text = ("Mrs. Venn and Agnes sat by the fire with Hugh.\n\n"
            "\"Is it raining? I don t think so,\" said Hugh.\n\n"
            "\"Not at all,\" answered Clara s mamma, smiling.\n")
    assert speakers(text, FAMILY) == ["hugh", "mrsvenn"]


def test_a_speech_verb_that_reports_is_no_tag() -> None:
    text = ("\"I saw you at the inn on Sunday,\" said Tobias.\n\n"
            "\"It is not true!\" cried Hugh. \"How could you tell them so?\" Tobias defended himself warmly, "
            "declared he had seen a man just like him, and would not give up the point.\n")
    assert speakers(text) == ["tobias", "hugh", "hugh"]


def test_the_one_greeted_does_not_speak() -> None:
    text = ("The rain stopped at noon.\n\n"
            "Clara found Mrs. Pell alone in the parlour, and was at once greeted with, \"There you are at last!\"\n")
    assert speakers(text) == ["agnes"]


def test_the_one_who_greets_by_name_speaks() -> None:
    text = ("The rain stopped at noon.\n\n"
            "Clara went into the parlour and was met by Mrs. Pell with, \"There you are at last!\"\n")
    assert speakers(text) == ["agnes"]


def test_words_echoed_are_not_their_owners_line() -> None:
    text = ("\"We leave for the coast on Friday,\" said Agnes.\n\n"
            "Clara's face fell, and in a small voice she echoed Agnes's last words, \"On Friday!\"\n")
    assert speakers(text) == ["agnes", "clara"]


def test_a_possessive_answer_after_on_is_a_time_not_a_tag() -> None:
    text = ("Tobias and Hugh were talking of ships.\n\n"
            "\"Have you sailed?\" asked Tobias. And then, on Hugh's answer, \"Sailors are the best company,\" "
            "Tobias went on.\n")
    assert speakers(text) == ["tobias", "tobias"]


def test_began_to_do_something_else_is_no_tag_before_the_second_half() -> None:
    text = ("Agnes dozed in her chair by the fire.\n\n"
            "\"Hush,\" he whispered, \"she is asleep.\"\n\n"
            "\"Not at all,\" Hugh continued, as soon as Agnes began to nod again, \"I only meant the roads.\"\n")
    assert speakers(text)[-2:] == ["hugh", "hugh"]


def test_the_one_addressed_after_a_participle_is_not_the_speaker() -> None:
    text = ("Tobias stood up before the whole meeting.\n\n"
            "\"I have nothing against any of you,\" addressing Hugh, \"but I will not sign.\"\n")
    assert "hugh" not in speakers(text)


def test_a_tag_naming_the_one_the_line_calls_is_not_its_tag() -> None:
    text = ("Clara sat beside Tobias in the gig.\n\n"
            "\"Stop, stop, Mr. Grebe! I must get down.\" But Mr. Grebe only laughed, and drove on.\n")
    assert speakers(text) == ["clara"]


def test_a_speech_participle_before_a_noun_is_no_tag() -> None:
    text = ("\"We leave on Friday,\" said Agnes.\n\n"
            "Clara's countenance fell, and she repeated Agnes's closing words, \"On Friday!\"\n")
    assert speakers(text) == ["agnes", "clara"]
