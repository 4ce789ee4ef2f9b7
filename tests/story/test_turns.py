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
