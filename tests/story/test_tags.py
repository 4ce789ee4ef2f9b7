"""Speech tags read right (issue 10), on sentences of our own: which name in a tag is the
speaker, which verbs are no tag at all, and descriptive cast names met in a tag."""

from __future__ import annotations

from bot.story.model import Character
from tests.story.novel_cast import CAST, speakers


def test_a_name_closing_an_aside_before_the_verb_is_not_the_speaker() -> None:
    participle = ("\"Good night,\" said Agnes.\n\n"
                  "Just then Hugh, stepping towards Clara, said, \"I trust nobody means to leave me here.\"\n")
    of_phrase = ("\"Good night,\" said Agnes.\n\n"
                 "Hugh, turning upon the sister of Clara, said to that poor woman:\n\n"
                 "\"Now, madam!\"\n")
    relative = ("\"Well,\" said Hugh.\n\n"
                "Agnes, who had plainly agreed the matter with Hugh beforehand, slipped the bracelet off and "
                "handing it to Clara, said: \"It will suit you.\"\n")
    assert speakers(participle) == ["agnes", "hugh"]
    assert speakers(of_phrase) == ["agnes", "hugh"]
    assert speakers(relative) == ["hugh", "agnes"]


def test_a_name_opening_its_clause_before_a_comma_and_the_verb_still_speaks() -> None:
    text = ("\"Good night,\" said Agnes.\n\n"
            "The door opened, and Tobias, said to be the best walker of them all, came in.\n\n"
            "It was late when Hugh, at last, said, \"We should go.\"\n")
    assert speakers(text)[-1] == "hugh"


def test_a_verb_starting_something_else_is_no_tag() -> None:
    began = ("\"You will come?\" said Hugh.\n\n"
             "\"Never!\" cried Clara. \"Not if you begged me on your knees!\"\n"
             " Tobias began to wonder whether the visit had been a mistake.\n")
    went_on_to_say = ("\"You will come?\" said Clara.\n\n"
                      "\"Never!\" Hugh went on to say. \"Not for a hundred pounds.\"\n")
    assert speakers(began) == ["hugh", "clara", "clara"]
    assert speakers(went_on_to_say) == ["clara", "hugh", "hugh"]


def test_a_passive_or_adjectival_speech_verb_is_no_tag() -> None:
    text = ("\"Shall we walk?\" said Hugh.\n\n"
            "Everyone nodded; and when Clara promptly replied, rather warmly, \"Oh, yes, nothing would "
            "please me more;\" Agnes felt persuaded that she meant the opposite.\n")
    assert speakers(text) == ["hugh", "clara"]


def test_a_possessive_cast_name_is_met_with_the_article() -> None:
    cast = [*CAST, Character("valet", "His Valet", (), "he/him")]
    text = ("\"Sit down,\" said Hugh.\n\n"
            "\"You are to be dressed in blue, sir,\" said the valet.\n")
    assert speakers(text, cast) == ["hugh", "valet"]


def test_verbs_of_every_form_make_tags() -> None:
    doubled = ("\"You might not be better for it,\" said Agnes.\n\n"
               "Clara submitted, after a short pause, \"It would do me no harm.\"\n")
    rarer = ("\"Sit down,\" said Clara.\n\n"
             "\"You are making fun of me!\" vociferated Hugh, as Tobias laughed at him.\n")
    long_tail = ("\"Is it far?\" asked Agnes.\n\n"
                 "She put it to Hugh, and Hugh answered, in almost the words he used before, \"Three miles.\"\n")
    assert speakers(doubled) == ["agnes", "clara"]
    assert speakers(rarer) == ["clara", "hugh"]
    assert speakers(long_tail) == ["agnes", "hugh"]


def test_a_clause_on_the_speaker_does_not_end_the_tag_between_two_halves() -> None:
    text = ("\"It is a stone,\" said Clara.\n\n"
            "\"Of course it is,\" said Agnes, who was inclined to echo whatever Clara said; "
            "\"the hills are full of them.\"\n")
    other = ("\"Is the carriage here?\" Hugh asked; and at that moment Mrs. Pell, who was being wrapped "
             "into her furs, said gently:  \"We are driving Clara home.\"\n")
    assert speakers(text) == ["clara", "agnes", "agnes"]
    assert speakers(other) == ["hugh", "agnes"]


def test_a_name_owning_the_subject_of_a_clause_is_not_the_speaker() -> None:
    text = ("\"Is it far?\" asked Hugh.\n\n"
            "Clara, noticing that Agnes's gaze was fixed on the window, saw her opening; "
            "and so said brightly, \"Do not fret, Agnes.\"\n")
    assert speakers(text) == ["hugh", "clara"]


def test_a_verb_without_its_own_subject_is_the_sentence_subjects() -> None:
    added = ("\"Hey, Hugh?\" said Clara.\n\n"
             "Tobias chuckled, since he felt he ought to, at the joke, and then added--\n\n"
             "\"I presume to observe, madam, that it is late.\"\n")
    stretching = ("\"Hey,\" said Clara.\n\n"
                  "Tobias sank into the armchair, lit his pipe (it was Hugh who bought them), and stretching his "
                  "legs to the coals, said:\n\n\"You say so?\"\n")
    when = "\"Hey,\" said Clara.\n\nWhen Agnes came in, Hugh rose, and said, \"Good evening.\"\n"
    assert speakers(added) == ["clara", "tobias"]
    assert speakers(stretching) == ["clara", "tobias"]
    assert speakers(when) == ["clara", "hugh"]


def test_descriptions_in_tags_meet_the_cast_s_descriptive_names() -> None:
    cast = [*CAST, Character("barman", "The Barman", (), "he/him"),
            Character("lady", "A Lady In The Group", (), "she/her")]
    adjective = "\"Hey,\" said Clara.\n\n\"Good Lord!\" said the burly barman. \"Watch the doors!\"\n"
    indefinite = "\"Hey,\" said Hugh.\n\n\"I would shoot him,\" said a lady in the group.\n"
    assert speakers(adjective, cast) == ["clara", "barman", "barman"]
    assert speakers(indefinite, cast) == ["hugh", "lady"]


def test_words_that_came_from_someone_are_theirs() -> None:
    text = ("\"Hey,\" said Hugh.\n\n"
            "\"Mercy--how thrilling!\" at length broke loudly from Clara.\n\n"
            "\"Witchcraft,\" was the view of Mr. Grebe.\n")
    assert speakers(text) == ["hugh", "clara", "tobias"]


def test_was_beginning_is_a_tag() -> None:
    text = ("\"Why did they live in a well?\" asked Hugh.\n\n"
            "\"There is no such thing!\" Clara was beginning very angrily, but Hugh went \"Sh! sh!\" and Agnes "
            "sulkily remarked, \"If you cannot be civil, finish it yourself.\"\n")
    assert speakers(text)[:2] == ["hugh", "clara"]
    assert speakers(text)[-1] == "agnes"


KIN_CAST = [
    Character("clara", "Clara Venn", ("Clara", "Miss Venn"), "she/her"),
    Character("mrsvenn", "Mrs. Venn", (), "she/her"),
    Character("mrsjohn", "Mrs. John Venn", (), "she/her"),
    Character("ladyg", "Lady Grebe", (), "she/her"),
    Character("tobias", "Tobias Grebe", ("Tobias", "Sir Tobias"), "he/him"),
]


def test_her_ladyship_is_the_titled_lady_in_view() -> None:
    text = ("Lady Grebe sat by the fire, and Tobias by the window.\n\n"
            "\"Hey,\" said Clara.\n\n"
            "\"Who is making that noise?\" asked her ladyship, drowsily; \"I was only resting my eyes.\"\n")
    assert speakers(text, KIN_CAST) == ["clara", "ladyg", "ladyg"]


def test_her_mother_among_two_of_that_family_name_is_the_one_in_view() -> None:
    text = ("Mrs. Venn came in with the tea.\n\n"
            "\"Is it raining?\" asked Clara.\n\n"
            "\"Dear girl,\" said her mother, smiling, \"it has poured since breakfast.\"\n")
    assert speakers(text, KIN_CAST) == ["clara", "mrsvenn", "mrsvenn"]


def test_a_descriptive_cast_name_is_first_met_with_a() -> None:
    cast = [*CAST, Character("voice", "The Voice", ("The Unseen",), "he/him")]
    text = ("Hugh and Clara stood alone on the empty road.\n\n"
            "\"Who is there?\" said Hugh.\n\n"
            "\"Don't be alarmed,\" said a voice.\n\n"
            "\"Did you hear that?\" said Clara.\n")
    assert speakers(text, cast) == ["hugh", "voice", "clara"]
