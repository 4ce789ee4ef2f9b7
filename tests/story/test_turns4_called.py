"""Turn-taking (issue 10): words that call someone by their sex without a name ("sister",
"miss", "old chap", "dad"…) say whether the one who answers is a man or a woman, all through
the exchange (sentences of our own)."""

from __future__ import annotations

import pytest

from tests.story.novel_cast import rule_speakers


@pytest.mark.parametrize("word", ["miss", "sister"])
def test_a_line_that_calls_someone_miss_or_sister_is_answered_by_a_woman(word: str) -> None:
    # Hugh and Tobias spoke before, and the narration names Tobias last; Hugh now asks someone
    # he calls "miss": the answers are the woman's
    text = ("\"Shall we walk to the mill?\" said Tobias.\n\n"
            "\"Not yet,\" said Hugh.\n\n"
            "Agnes came in with the letters and gave one to Tobias.\n\n"
            f"\"Is there anything for me, {word}?\" asked Hugh.\n\n"
            "\"Only the one from your uncle.\"\n\n"
            f"\"May I have it now, {word}?\"\n\n"
            "\"Of course you may.\"\n")
    assert rule_speakers(text) == ["tobias", "hugh", "hugh", "agnes", "hugh", "agnes"]


@pytest.mark.parametrize("word", ["old chap", "dad"])
def test_a_line_that_calls_someone_old_chap_or_dad_is_answered_by_a_man(word: str) -> None:
    text = ("\"Shall we walk to the church?\" said Agnes.\n\n"
            "\"Not yet,\" said Clara.\n\n"
            "Tobias came in with the letters and gave one to Agnes.\n\n"
            f"\"Is there anything for me, {word}?\" asked Clara.\n\n"
            "\"Only the one from your aunt.\"\n\n"
            f"\"May I have it now, {word}?\"\n\n"
            "\"Of course you may.\"\n")
    assert rule_speakers(text) == ["agnes", "clara", "clara", "tobias", "clara", "tobias"]
