"""Conventions of nineteenth-century novels the attributor reads (issue 10), on sentences of
our own: a narration paragraph that hands the word to someone for the next paragraph, dashes
written as "--" around tags and names, and who "said she" means in a conversation."""

from __future__ import annotations

from bot.story.model import Character
from bot.story.readers import read_document
from bot.story.segmenter import segment
from tests.story.novel_cast import CAST, speakers


def test_a_narration_paragraph_ending_in_a_speech_verb_hands_the_next_line_to_its_subject() -> None:
    text = ("Hugh came in from the garden with his hat in his hand.\n\n"
            "\"The rain has stopped,\" said he.\n\n"
            "Agnes looked up from her work, and Clara, after a long pause, exclaimed,\n\n"
            "\"Then we may walk to the mill after all!\"\n")
    assert speakers(text) == ["hugh", "clara"]


def test_the_hand_over_may_end_in_a_colon_a_dash_or_went_on() -> None:
    colon = ("Tobias sat by the fire. Agnes mended a glove. At last Agnes, laying the glove aside, said:\n\n"
             "\"We cannot stay here another winter.\"\n")
    dash = ("Tobias sat by the fire. Agnes mended a glove. At last Agnes, laying the glove aside, added--\n\n"
            "\"We cannot stay here another winter.\"\n")
    went_on = ("\"Sit down,\" said Tobias.\n\n"
               "Agnes did not move. Tobias, trying not to smile, went on.\n\n"
               "\"You will be tired before the evening.\"\n")
    assert speakers(colon) == ["agnes"]
    assert speakers(dash) == ["agnes"]
    assert speakers(went_on) == ["tobias", "tobias"]


def test_the_speaker_is_the_one_right_before_the_verb_not_the_sentence_subject() -> None:
    heard = ("\"Good night,\" said Hugh.\n\n"
             "Clara was already at the door when she heard Tobias say to his sister,\n\n"
             "\"She will not come back, you know.\"\n")
    infinitive = ("\"Good night,\" said Hugh.\n\n"
                  "There was no chance for Tobias to come near her and say,\n\n"
                  "\"I am sorry for this morning.\"\n")
    assert speakers(heard) == ["hugh", "tobias"]
    assert speakers(infinitive) == ["hugh", "tobias"]


def test_a_negated_or_reported_verb_hands_nothing_over() -> None:
    text = ("\"Is it far?\" asked Clara.\n\n"
            "\"Three miles,\" said Hugh.\n\n"
            "Clara did not answer. Never before had she heard him speak in that cold way.\n\n"
            "\"And the road is bad.\"\n")
    # Clara stays silent: the line after is Hugh's, not hers
    assert speakers(text)[-1] == "hugh"


def test_dashes_written_as_two_hyphens_do_not_hide_a_tag_or_a_name() -> None:
    text = ("\"I never dine out,\" said he--\"never. It does not agree with me.\"\n\n"
            "\"Nor with me,\" replied Mrs. Pell--\"but one must be civil.\"\n\n"
            "\"Well--\" and then, recollecting herself,--Clara began again: \"Well, we shall see.\"\n")
    story_text = "Tobias sighed by the window.\n\n" + text
    assert speakers(story_text) == ["tobias", "tobias", "agnes", "agnes", "clara", "clara"]


def test_the_second_half_of_a_line_cut_by_its_tag_keeps_that_speaker() -> None:
    text = ("\"Is the coach late?\" asked Agnes.\n\n"
            "\"Oh, very late,\" cried Hugh, \"and the roads are flooded.\" Clara said nothing.\n\n"
            "\"It always is,\" said Tobias; \"every winter the same.\" Agnes sighed.\n")
    assert speakers(text) == ["agnes", "hugh", "hugh", "tobias", "tobias"]


def test_a_description_in_a_tag_is_resolved_like_a_pronoun_of_its_sex() -> None:
    # "the young lady" is the woman last in view, as "she" would be: not the first one named
    text = ("Agnes came in with the letters and laid them on the table. Clara was sitting by the window.\n\n"
            "\"Is there anything from town?\" asked the young lady.\n")
    assert speakers(text) == ["clara"]


def test_a_name_owning_the_answer_is_the_speaker_not_someone_else() -> None:
    text = ("\"Will you walk with us?\" asked Hugh.\n\n"
            "\"Yes, gladly,\" was Clara's quick answer.\n")
    assert speakers(text) == ["hugh", "clara"]


def test_a_sentence_opening_word_before_a_name_is_no_unknown_speaker() -> None:
    text = ("\"We are lost,\" said Hugh.\n\n"
            "At last Agnes said, \"Then we must ask the way.\"\n\n"
            "\"Nobody will answer,\" said Hugh. As Mrs. Pell observed, \"they never do.\"\n")
    assert speakers(text) == ["hugh", "agnes", "hugh", "agnes"]


def test_a_first_name_two_characters_share_means_the_one_in_view() -> None:
    cast = [Character("marlow", "Hugh Marlow", ("Mr. Marlow",), "he/him"),
            Character("pell", "Hugh Pell", ("Mr. Pell",), "he/him"),
            Character("clara", "Clara Venn", ("Clara",), "she/her")]
    text = ("Clara met Mr. Pell by the river; Mr. Marlow was not there.\n\n"
            "\"It is cold,\" said Mr. Pell.\n\n"
            "\"Then take my shawl,\" said Clara.\n\n"
            "\"Thank you,\" said Hugh.\n")
    story = segment(read_document(text), cast)
    got = [b.speaker for b in story.beats if b.kind == "dialogue"]
    assert got == ["pell", "clara", "pell"]


def test_a_line_followed_by_narration_that_hands_over_gives_the_next_line_to_the_new_speaker() -> None:
    text = ("\"Will you dance?\" asked Agnes.\n\n"
            "\"I shall not dance,\" said Hugh. He walked off to the window. Clara turned back to her "
            "cousin, saying quietly--\n\n"
            "\"He never does, you know.\"\n")
    assert speakers(text) == ["agnes", "hugh", "clara"]


def test_a_tag_before_its_line_names_the_speaker_next_to_the_verb_or_after_when() -> None:
    heard = ("\"Is it late?\" asked Agnes.\n\n"
             "Tobias was pouring the tea when, to everyone's surprise, even Clara said, \"Very late.\"\n")
    when = ("\"Is it late?\" asked Agnes.\n\n"
            "The clock struck, and Agnes rose, when Hugh, opening the door, said, \"The carriage is here.\"\n")
    exclaiming = ("\"Is it late?\" asked Agnes.\n\n"
                  "Tobias began to answer, when Clara interrupted him by exclaiming--\"Hush! Listen!\"\n")
    assert speakers(heard) == ["agnes", "clara"]
    assert speakers(when) == ["agnes", "hugh"]
    assert speakers(exclaiming) == ["agnes", "clara"]


def test_a_tag_after_a_finished_line_belongs_to_the_next_line_when_a_tag_hands_this_one_over() -> None:
    text = ("\"Good morning,\" said Agnes.\n\n"
            "At breakfast Clara said, \"The coffee is cold.\" Hugh answered, \"Then ring for more.\"\n")
    assert speakers(text) == ["agnes", "clara", "hugh"]


def test_a_negated_verb_or_a_new_clause_after_a_line_is_no_tag() -> None:
    text = ("\"Good morning,\" said Agnes.\n\n"
            "Clara put down her cup. \"Are you fond of dogs?\" Hugh did not answer at once.\n")
    assert speakers(text) == ["agnes", "clara"]


def test_said_she_after_narration_means_the_subject_of_its_last_clause() -> None:
    text = ("\"Good morning,\" said Hugh, and went out.\n\n"
            "Clara, seeing her cousin sulk, let the matter drop; and, a while later, "
            "Agnes took up her sewing again.\n\n"
            "\"We called at the rectory yesterday,\" said she.\n")
    assert speakers(text) == ["hugh", "agnes"]


def test_the_name_a_relative_clause_hangs_on_is_the_speaker() -> None:
    text = ("\"Shall we go?\" asked Hugh.\n\n"
            "Agnes, who had waited until Clara had quite finished her tea, "
            "said, \"I shall stay here.\"\n")
    assert speakers(text) == ["hugh", "agnes"]


def test_a_tag_before_its_line_may_carry_a_phrase_after_the_verb() -> None:
    text = ("\"A song, please,\" Clara replied, so eagerly that Hugh said, in a somewhat hurt voice, "
            "\"Well! No accounting for tastes!\"\n")
    assert speakers(text) == ["clara", "hugh"]


def test_a_family_name_with_particles_is_found_as_the_text_writes_it() -> None:
    cast = [Character("vdl", "Mr. Van Der Pol", (), "he/him"), Character("clara", "Clara Venn", ("Clara",), "she/her")]
    text = ("\"It is late,\" said Clara.\n\n"
            "\"Not for a ball,\" said Mr. van der Pol.\n")
    story = segment(read_document(text), cast)
    assert [b.speaker for b in story.beats if b.kind == "dialogue"] == ["clara", "vdl"]


def test_a_tag_and_a_hand_over_in_one_sentence_after_a_line() -> None:
    text = ("\"Is it far?\" asked Clara.\n\n"
            "\"Three miles,\" said Hugh, and was turning away, when Agnes eagerly suggested--\n\n"
            "\"Then we must take the carriage.\"\n")
    assert speakers(text) == ["clara", "hugh", "agnes"]


def test_her_husband_and_her_brother_are_found_by_family_then_by_sex() -> None:
    cast = [Character("hugh", "Hugh Marlow", ("Hugh",), "he/him"),
            Character("mrsm", "Mrs. Marlow", (), "she/her"),
            Character("tobias", "Tobias Grebe", ("Tobias",), "he/him"),
            Character("clara", "Clara Venn", ("Clara",), "she/her")]
    husband = ("Tobias came in with the letters. Mrs. Marlow looked up from her work.\n\n"
               "\"Is there one from town?\" said her husband.\n")
    brother = ("Clara sat by the fire with Hugh. Tobias stood at the door.\n\n"
               "\"You are late,\" said Clara.\n\n"
               "\"The roads are bad,\" replied her brother, looking at Hugh.\n")
    for text, want in ((husband, ["hugh"]), (brother, ["clara", "tobias"])):
        story = segment(read_document(text), cast)
        assert [b.speaker for b in story.beats if b.kind == "dialogue"] == want


def test_each_guess_carries_the_one_person_its_line_calls_by_name() -> None:
    from bot.story.attribution import Attributor, NameIndex
    from bot.story.quotes import detect_style, find_quotes

    text = "\"Will you walk with us, Clara?\" asked Hugh. \"It is fine,\" he added.\n"
    att = Attributor(text, NameIndex(CAST, text))
    guesses = att.paragraph(0, len(text) - 1, find_quotes(text, 0, len(text) - 1, detect_style(text)))
    assert [(g.speakers, g.addressee) for g in guesses] == [(("hugh",), "clara"), (("hugh",), None)]


def test_the_one_a_tag_turns_to_is_not_the_speaker_and_answers_next() -> None:
    text = ("Hugh and Tobias stood by the fire.\n\n"
            "\"It will rain,\" said Agnes, turning to Tobias.\n\n"
            "\"Then we stay,\" he said.\n\n"
            "\"Are you sure?\"\n\n"
            "Clara, looking at Hugh, said, \"He is never sure of anything.\"\n")
    assert speakers(text) == ["agnes", "tobias", "agnes", "clara"]


def test_a_stage_direction_between_two_parts_of_a_speech_keeps_the_speaker() -> None:
    text = ("\"I would explain,\" said Hugh, leaning forward, \"but I think\" (noticing that Clara seemed "
            "upset) \"we had better leave it for tomorrow.\"\n")
    assert speakers(text) == ["hugh", "hugh", "hugh"]


def test_the_one_addressed_in_narration_is_not_the_subject() -> None:
    text = ("\"No, I was not!\" cried Tobias. \"Everybody knows it,\" addressing Clara. \"Ask anyone.\"\n")
    assert speakers(text) == ["tobias", "tobias", "tobias"]


def test_words_uttered_by_someone_are_theirs() -> None:
    text = ("Clara and Hugh stood by the gate.\n\n"
            "\"Is there no one to help?\" were the words that broke from Tobias.\n\n"
            "\"The gardener is near,\" was uttered in the same breath by Agnes.\n")
    assert speakers(text) == ["tobias", "agnes"]


def test_heard_someone_say_after_a_line_names_the_one_heard() -> None:
    text = ("Clara and Agnes watched the archers.\n\n"
            "\"Splendid,\" Hugh heard Tobias say, \"not one of them holds the bow as she does.\"\n")
    assert speakers(text) == ["tobias", "tobias"]


def test_a_cast_member_known_only_as_someones_sister() -> None:
    cast = [*CAST, Character("sister", "Clara's Sister", (), "she/her")]
    text = ("Clara woke under the tree with Agnes's letter in her lap.\n\n"
            "\"Wake up, Clara dear!\" said her sister.\n")
    story = segment(read_document(text), cast)
    assert [b.speaker for b in story.beats if b.kind == "dialogue"] == ["sister"]


def test_a_long_interruption_and_a_lost_dash_at_a_paragraph_end() -> None:
    long_cut = ("\"The best thing they can do,\" said Agnes, summing it up as if Clara were not in the room at "
                "all and had never been, \"is to go and live in the country.\"\n")
    lost_dash = ("\"Sit down,\" said Hugh.\n\n"
                 "Clara looked up from her book, and Tobias soon settled the matter by quietly observing to her   \n\n"
                 "\"We need not stay any longer.\"\n")
    assert speakers(long_cut) == ["agnes", "agnes"]
    assert speakers(lost_dash) == ["hugh", "tobias"]


def test_a_tag_ending_in_an_ing_verb_right_before_the_line() -> None:
    text = ("\"Is it late?\" asked Clara.\n\n"
            "\"Not very,\" said Hugh.\n\n"
            "Clara had not waited ten minutes when Tobias came in, announcing \"The carriage is here!\"\n")
    assert speakers(text) == ["clara", "hugh", "tobias"]
