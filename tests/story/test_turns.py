"""Turn-taking in untagged exchanges (issue 10): who holds the floor after a narration paragraph
and after a break, on sentences of our own."""

from __future__ import annotations

import pytest

from tests.story.novel_cast import rule_speakers, speakers


@pytest.mark.parametrize("silence", [
    "Clara said no more.",
    "Clara bowed.",
    "Clara nodded, and looked at the fire.",
    "Clara made no reply; the clock struck nine.",
    "Clara was silent for a while.",
    "Clara could only smile at the idea.",
])
def test_a_listener_who_only_listens_leaves_the_floor_to_the_speaker(silence: str) -> None:
    text = ("\"Will you come to the fair on Sunday?\" asked Clara.\n\n"
            "\"I cannot,\" said Hugh. \"My uncle wants the cart that day.\"\n\n"
            f"{silence}\n\n"
            "\"But I could walk over in the evening, if you would wait for me.\"\n")
    assert rule_speakers(text) == ["clara", "hugh", "hugh", "hugh"]
    assert speakers(text) == ["clara", "hugh", "hugh", "hugh"]


def test_a_listener_who_does_something_else_takes_the_floor() -> None:
    # the same exchange, but the narration shows Clara about to speak: she answers
    text = ("\"Will you come to the fair on Sunday?\" asked Clara.\n\n"
            "\"I cannot,\" said Hugh. \"My uncle wants the cart that day.\"\n\n"
            "Clara put down her basket and turned to him.\n\n"
            "\"Then I shall go with Agnes.\"\n")
    assert speakers(text) == ["clara", "hugh", "hugh", "clara"]


def test_a_speech_cut_by_a_chapter_heading_goes_on_in_the_same_voice() -> None:
    text = ("\"Sit down and I will tell you the whole of it,\" said Tobias.\n\n"
            "\"We left the harbour before the sun was up, and by noon the wind had turned.\"\n\n"
            "CHAPTER IX\n\n"
            "\"The second night was the worst of all. Nobody slept.\"\n")
    assert rule_speakers(text) == ["tobias", "tobias", "tobias"]
    assert speakers(text) == ["tobias", "tobias", "tobias"]


def test_after_a_break_a_line_with_its_own_evidence_is_not_given_to_the_old_voice() -> None:
    text = ("\"Sit down and I will tell you the whole of it,\" said Tobias.\n\n"
            "CHAPTER IX\n\n"
            "Agnes opened the shutters. \"It is morning already.\"\n")
    assert speakers(text) == ["tobias", "agnes"]


def test_after_narration_the_person_it_ends_on_speaks_next() -> None:
    text = ("\"Is the ferry running?\" asked Agnes.\n\n"
            "\"Not today,\" said Tobias.\n\n"
            "Tobias went to the window and stood there. Agnes picked up her needle again and frowned.\n\n"
            "\"Then we must wait until Monday.\"\n")
    assert rule_speakers(text) == ["agnes", "tobias", "agnes"]
    assert speakers(text) == ["agnes", "tobias", "agnes"]


def test_after_narration_about_one_person_that_person_speaks_next() -> None:
    text = ("\"Is the ferry running?\" asked Agnes.\n\n"
            "\"Not today,\" said Tobias.\n\n"
            "Agnes picked up her needle again. Tobias went to the window and stood there a long time.\n\n"
            "\"The river is higher than I have ever seen it.\"\n")
    assert rule_speakers(text) == ["agnes", "tobias", "tobias"]
    assert speakers(text) == ["agnes", "tobias", "tobias"]


def test_a_said_she_that_can_mean_only_one_woman_fixes_the_turns_before_it() -> None:
    # the narration ends on Hugh, so the first line alone would be his; the tag two lines
    # later can only mean Clara, and the exchange alternates back from it
    text = ("Clara was at the window when Hugh came up the path.\n\n"
            "\"You are late.\"\n\n"
            "\"The cart lost a wheel on the hill.\"\n\n"
            "\"You might have sent the boy with word,\" said she.\n")
    assert rule_speakers(text) == ["clara", "hugh", "clara"]
    assert speakers(text) == ["clara", "hugh", "clara"]


def test_after_a_scene_break_an_untagged_line_is_nobody_s_rather_than_the_old_voice() -> None:
    # a scene break starts a new scene (a chapter heading may cut a speech in two; a break does not)
    text = ("\"Sit down and I will tell you the whole of it,\" said Tobias.\n\n"
            "* * *\n\n"
            "\"Who is at the door at this hour?\"\n")
    assert rule_speakers(text) == ["tobias", None]


# ---------------------------------------------------------------- a run decided as a whole

def test_the_other_party_of_a_run_is_the_one_the_narration_brought_in() -> None:
    # Tobias spoke before the narration; the narration brings Clara to Hugh, and Clara's tagged
    # line opens the exchange: the untagged answers are Hugh's, not the earlier voice's
    text = ("\"The boat leaves at noon,\" said Tobias.\n\n"
            "Clara went down to the yard, where she found Hugh mending the gate.\n\n"
            "\"You have been at it since morning,\" said Clara.\n\n"
            "\"It will not stay shut.\"\n\n"
            "\"Then leave it open and come in to eat.\"\n\n"
            "\"In a minute.\"\n")
    assert rule_speakers(text) == ["tobias", "clara", "hugh", "clara", "hugh"]
    assert speakers(text) == ["tobias", "clara", "hugh", "clara", "hugh"]


def test_a_line_that_speaks_of_someone_in_passing_is_not_theirs() -> None:
    # the run's first guess would be Agnes (the last one named); the lines talk about her, so
    # the exchange is between the two who do not
    text = ("Tobias came in from the yard, and Agnes was still up.\n\n"
            "\"Is there any soup left?\" asked Hugh.\n\n"
            "\"Agnes kept a bowl warm for you on the stove.\"\n\n"
            "\"She is too good to me.\"\n\n"
            "\"Agnes is good to everybody.\"\n")
    assert rule_speakers(text) == ["hugh", "tobias", "hugh", "tobias"]


def test_a_line_that_calls_someone_sir_is_answered_by_a_man() -> None:
    # Clara and Agnes spoke before, and the narration names Agnes last; Clara now asks someone
    # she calls "sir": the answers are the man's, all through the exchange
    text = ("\"Shall we walk to the church?\" said Agnes.\n\n"
            "\"Not yet,\" said Clara.\n\n"
            "Tobias came in with the letters and gave one to Agnes.\n\n"
            "\"Is there anything for me, sir?\" asked Clara.\n\n"
            "\"Only the one from your aunt.\"\n\n"
            "\"May I have it now, sir?\"\n\n"
            "\"Of course you may.\"\n")
    assert rule_speakers(text) == ["agnes", "clara", "clara", "tobias", "clara", "tobias"]


def test_a_name_called_late_in_a_run_sets_the_turns_before_it_too() -> None:
    # the run starts after Clara and Agnes talked; Clara's partner is only named halfway
    # ("…, Hugh?"), and the turns before that are his as well
    text = ("\"Shall we walk to the church?\" said Agnes.\n\n"
            "\"Not yet,\" said Clara. \"I am waiting for someone.\"\n\n"
            "The door opened.\n\n"
            "\"There you are at last,\" said Clara.\n\n"
            "\"The road was flooded past the mill.\"\n\n"
            "\"Did you come round by the bridge, then, Hugh?\"\n\n"
            "\"I did, and lost an hour.\"\n")
    assert rule_speakers(text) == ["agnes", "clara", "clara", "clara", "hugh", "clara", "hugh"]


def test_a_short_narration_pauses_the_exchange_rather_than_ending_it() -> None:
    # a sentence about one of the two between their lines: after it the exchange goes on
    # between the same two (the line calls Clara, so it is Hugh's), not with whoever the scene
    # named before it began
    text = ("Tobias had gone up to bed, and the fire was low.\n\n"
            "\"You sang well tonight,\" said Hugh.\n\n"
            "\"I was afraid I would forget the words,\" said Clara.\n\n"
            "\"Nobody would have noticed if you had.\"\n\n"
            "Clara looked down at her hands.\n\n"
            "\"You need not be shy about it, Clara. Everyone said so.\"\n\n"
            "\"Then I shall sing again next week,\" said Clara.\n")
    assert rule_speakers(text) == ["hugh", "clara", "hugh", "hugh", "clara"]
    assert speakers(text) == ["hugh", "clara", "hugh", "hugh", "clara"]


def test_someone_called_my_dear_answers_next() -> None:
    # "my dear Clara" calls Clara although no comma stands before her name: she answers the line
    text = ("Tobias brought Clara into the kitchen, where Agnes was baking bread.\n\n"
            "\"You must be hungry after the journey, my dear Clara.\"\n\n"
            "\"I could eat a horse.\"\n\n"
            "\"Then sit down, and we shall feed you.\"\n")
    assert rule_speakers(text) == ["tobias", "clara", "tobias"]
