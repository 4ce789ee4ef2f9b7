"""Named tags that belong to another line or to someone who answers (sentences of our own): a
clause of its own after a line, a tag whose verb has an object ("said nothing"), and a name
handing the line over that outranks a pronoun after it."""

from __future__ import annotations

from bot.story.attribution import NameIndex
from bot.story.model import Character
from tests.story.novel_cast import CAST, paragraph_voices


def test_a_clause_opened_by_and_after_a_line_introduces_the_next_line() -> None:
    # "…;" and Hugh muttered: "…": Hugh's words are the next line, not this one
    text = ("Agnes folded her letter.\n\n"
            "\"You find it amusing?\" she asked, without looking up. \"The whole town will talk of "
            "nothing else by Sunday, I am sure;\" and Hugh muttered: \"Let it talk.\"\n")
    voices = paragraph_voices(text)
    assert voices[1][0] != ("hugh",)
    assert voices[2][0] == ("hugh",)


def test_a_when_clause_after_a_line_is_not_its_tag() -> None:
    # the name in "when Clara suggested--" hands over the next paragraph's line
    text = ("Hugh looked at the broken wheel.\n\n"
            "He caught the word, and saying only--\"A smith, this instant,\" was hurrying off, when "
            "Clara quietly suggested--\n\n"
            "\"Would not the carter be nearer?\"\n")
    voices = paragraph_voices(text)
    assert voices[0][0] != ("clara",)
    assert voices[1][0] == ("clara",)


def test_to_which_someone_returned_is_the_answer_not_the_tag() -> None:
    text = ("Tobias came in late.\n\n"
            "He said to her at the table, on the evening before her leaving the house for the "
            "summer, \"You shall stay until Monday, ma'am.\" To which "
            "Agnes returned, with a bow: \"As you wish.\"\n")
    voices = paragraph_voices(text)
    assert voices[0][0] != ("agnes",)
    assert voices[1][0] == ("agnes",)


def test_which_someone_confirmed_is_the_listener() -> None:
    text = ("Hugh and Clara stood at the door.\n\n"
            "\"I gave my word to my sister that I would not.\" Which Clara hastily confirmed.\n")
    (spk, _rule, named), = paragraph_voices(text)
    assert not (spk == ("clara",) and named)


def test_someone_who_said_nothing_after_a_line_is_not_its_speaker() -> None:
    text = ("Hugh and Clara walked on together under the limes.\n\n"
            "\"It was your own idea, then, entirely?\" Clara said nothing. After a silence he went "
            "on with his questions.\n")
    (spk, _rule, _named), = paragraph_voices(text)
    assert spk != ("clara",)


def test_someone_who_said_no_more_after_a_line_is_not_its_speaker() -> None:
    text = ("Agnes and Clara sat by the fire.\n\n"
            "\"Agnes told me so herself this morning.\" Clara said no more, but looked hurt.\n")
    (spk, _rule, _named), = paragraph_voices(text)
    assert spk != ("clara",)


def test_the_words_someone_kept_back_are_still_theirs() -> None:
    text = ("Clara sat at her desk.\n\n"
            "\"Do sit down, Agnes, and leave the drawers alone.\" Clara said nothing of the kind, "
            "however.\n")
    (spk, _rule, _named), = paragraph_voices(text)
    assert spk == ("clara",)


def test_someone_going_on_after_and_is_still_the_speaker() -> None:
    text = ("Hugh stood by the window.\n\n"
            "\"What could she mean by it!\"--and Hugh repeated the words twice over.\n")
    (spk, _rule, _named), = paragraph_voices(text)
    assert spk == ("hugh",)


def test_a_name_handing_the_line_over_outranks_the_pronoun_after_it() -> None:
    # "the King said … when the White Rabbit interrupted: “…,” he said": the one who
    # interrupted, not the man named last before him
    text = ("\"That will do,\" Tobias said, turning to the others. They were just beginning to "
            "write it down when Hugh interrupted: \"Will not do, he means,\" he said in a low voice.\n")
    voices = paragraph_voices(text)
    assert voices[0][0] == ("tobias",)
    assert voices[1][0] == ("hugh",) and voices[1][2]


def test_the_article_of_a_description_is_no_name() -> None:
    # "A Voice" (alias of "A Voice From Within") gives no first name "A", nor "From" a surname:
    # "A moment later" and "From the hall" mention nobody
    cast = [*CAST, Character("voice", "A Voice From Within", ("A Voice",), "she/her")]
    text = "A moment later she looked up. From the hall a voice from within called, and Clara came."
    found = [(m.key, text[m.start:m.end]) for m in NameIndex(cast, text).find(text, 0, len(text))]
    assert ("voice", "A") not in found and ("voice", "From") not in found
    assert ("voice", "a voice from within") in found and ("clara", "Clara") in found


def test_the_one_answered_reacting_after_a_line_is_not_its_speaker() -> None:
    # a line opening its paragraph, then the one who spoke the line before does something:
    # the one answered reacts, the line is the other's
    text = ("\"Give the letter back to me, Hugh,\" said Clara. \"It is mine.\"\n\n"
            "\"Why should I? Burn it yourself.\" Clara threw the letter on the table.\n")
    voices = paragraph_voices(text)
    assert voices[0][0] == ("clara",)
    assert voices[2][0] != ("clara",)


def test_an_actor_who_did_not_speak_before_still_owns_the_line() -> None:
    text = ("Hugh came in from the garden.\n\n"
            "\"It is raining again.\" Clara threw her gloves on the table.\n")
    (spk, rule, _named), = paragraph_voices(text)
    assert spk == ("clara",) and rule == "action_after"


def test_only_the_noun_of_a_description_stands_for_it_alone() -> None:
    # "The Mayor Of Port Royal" is "the Mayor", never "Port" nor the "Royal" of "Royal Street";
    # "A Tall Stranger" is no "Tall" opening a sentence
    cast = [*CAST, Character("mayor", "The Mayor Of Port Royal", (), "he/him"),
            Character("stranger", "A Tall Stranger", (), "he/him")]
    text = ("Port Royal lay quiet. Tall poplars lined Royal Street. The Mayor bowed, and the "
            "Stranger bowed back.")
    found = [(m.key, text[m.start:m.end]) for m in NameIndex(cast, text).find(text, 0, len(text))]
    assert [k for k, _ in found] == ["mayor", "stranger"]


def test_the_one_who_hears_a_line_is_not_its_speaker() -> None:
    for lead in ("Clara left the room, yet she was in time to hear her cousin exclaim to Tobias, ",
                 "From the stairs Clara could only just catch the words, ",
                 "Though it was spoken low, Clara could distinguish, "):
        text = "Hugh and Clara stood in the hall.\n\n" + lead + "\"What a sweet girl she is!\"\n"
        (spk, _rule, _named), = paragraph_voices(text)
        assert spk != ("clara",), lead

