"""Turn-taking (issue 10): someone telling a story over several long paragraphs goes on in
their own voice; alternation is for the short lines of an exchange (sentences of our own)."""

from __future__ import annotations

from bot.story import attribution
from tests.story.novel_cast import rule_speakers

_TEXT = ("\"Tell me how you lost the boat,\" said Clara.\n\n"
         "\"It was the night of the great storm,\" said Hugh. \"We had gone out past the point to lift the "
         "lobster pots before the weather turned, my uncle and I, and the sea was already running high "
         "when we rounded the rocks. The wind came round to the east all at once, the rain came down in "
         "sheets, and we could not see the lantern on the harbour wall however hard we looked for it. I "
         "have been at sea since I was nine years old, and I never saw the water rise like that.\"\n\n"
         "\"My uncle took the oars and I baled with the tin can until my arms gave out. Then the rudder "
         "went, and after that there was nothing to do but hold on and pray. Your brother Tobias said "
         "afterwards that Clara had watched for us from the cliff all night, but we knew nothing of it; "
         "we only knew the boat was breaking up beneath us and the shore was somewhere ahead. When the "
         "light came we were lying on the shingle below the chapel, and the boat was gone.\"\n")


def test_a_long_story_told_over_two_paragraphs_stays_with_its_teller() -> None:
    # the second paragraph has no tag and names Clara in passing: it goes on with Hugh's story
    assert rule_speakers(_TEXT) == ["clara", "hugh", "hugh", "hugh"]


def test_a_long_turn_after_a_long_turn_is_weighed_apart_from_a_short_one() -> None:
    gap = [False, False, False]
    assert attribution._shape_weight(gap, 2, "same", [False, True, True]) == ("same_long", -1.0)
    assert attribution._shape_weight(gap, 2, "same", [False, False, True]) == ("same", -1.0)
    assert attribution._shape_weight([False, False, True], 2, "same", [False, True, True]) == ("same_gap", -1.0)
