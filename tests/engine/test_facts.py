"""What the engine computes once per story: the same answers as computing them afresh, and
never a reason for a story to stay in memory."""

from __future__ import annotations

import gc

from bot.engine import facts
from bot.engine.cues import _beat_parts, cue_for_beat
from tests.engine.helpers import simple_story


def test_facts_match_a_fresh_computation_and_go_with_their_story() -> None:
    story = simple_story(scenes=2, beats=4)
    assert story.content_hash() is story.content_hash()  # hashed once, not on every start/resume
    assert facts.facts(story).words == tuple(b.word_count() for b in story.beats)
    for beat in story.beats:
        first = cue_for_beat(story, beat, session_id=7, controls=True)
        again = cue_for_beat(story, beat, session_id=7, controls=True)  # from the cache
        kind, voice, text, aside = _beat_parts(story, beat)
        assert first == again and (first.kind, first.voice, first.text, first.aside) == (kind, voice, text, aside)
        assert (first.beats, first.session_id, first.controls) == ((beat.index, beat.index), 7, True)
    fixed = simple_story(scenes=2, beats=4)  # e.g. a review fix: another object, its own facts
    assert facts.facts(fixed) is not facts.facts(story)
    key = id(story)
    assert key in facts._facts
    del story
    gc.collect()
    assert key not in facts._facts and id(fixed) in facts._facts  # the facts went with their story
