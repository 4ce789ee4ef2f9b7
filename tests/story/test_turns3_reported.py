"""Turn-taking (issue 10): a listener who answers in words the narration reports without
quoting them, or only with a look, leaves the floor to the one who spoke (sentences of our own)."""

from __future__ import annotations

import pytest

from tests.story.novel_cast import rule_speakers, speakers


@pytest.mark.parametrize("reply", [
    "Clara said what was civil, and asked after his mother.",
    "Clara agreed that it was a pity.",
    "Clara asked whether the road was still flooded.",
    "Clara murmured her thanks.",
    "Clara looked down to hide a smile.",
    "Clara only smiled at him.",
])
def test_a_reply_the_text_does_not_quote_leaves_the_floor_to_the_speaker(reply: str) -> None:
    text = ("\"Will you come to the fair on Sunday?\" asked Clara.\n\n"
            "\"I cannot,\" said Hugh. \"My uncle wants the cart that day.\"\n\n"
            f"{reply}\n\n"
            "\"But I could walk over in the evening, if you would wait for me.\"\n")
    assert rule_speakers(text) == ["clara", "hugh", "hugh", "hugh"]
    assert speakers(text) == ["clara", "hugh", "hugh", "hugh"]


def test_a_long_paragraph_about_the_listener_still_gives_her_the_floor() -> None:
    # a long paragraph may move on to anything: the one it is about speaks next, as before
    text = ("\"Will you come to the fair on Sunday?\" asked Clara.\n\n"
            "\"I cannot,\" said Hugh. \"My uncle wants the cart that day.\"\n\n"
            "Clara agreed that it was a pity, and for a long while she sat by the window watching the rain "
            "fill the ruts of the lane, thinking of the stalls, the music, the lanterns strung between the "
            "elms, and of all the neighbours she would meet there without him.\n\n"
            "\"Then I shall go with Agnes.\"\n")
    assert rule_speakers(text) == ["clara", "hugh", "hugh", "clara"]
