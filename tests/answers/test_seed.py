"""Acceptance on the bundled seed story, story_data/precious-person."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.answers import AnswerEngine
from bot.store import Database
from bot.story.model import Story
from bot.story.storage import load_story
from tests.answers.seed_eval import check_numbering, evaluate, load_questions
from tests.answers.spoilers import later_only_fragments

SEED = Path(__file__).resolve().parents[2] / "story_data" / "precious-person"
pytestmark = pytest.mark.skipif(not (SEED / "story.toml").is_file(), reason="seed story not present")


@pytest.fixture(scope="module")
def story() -> Story:
    return load_story(SEED)


@pytest.fixture
async def engine(db: Database, story: Story) -> AsyncIterator[AnswerEngine]:
    eng = AnswerEngine(db, cooldown_seconds=0)
    await eng.index_story(story)
    yield eng


def _beat_with(story: Story, speaker: str, words: str) -> int:
    found = [b.index for b in story.beats if b.speaker == speaker and words in b.text]
    assert len(found) == 1, f"the seed should have one {speaker} line with {words!r}"
    return found[0]


async def test_temari_why_scared_at_the_end(engine: AnswerEngine, story: Story) -> None:
    stammer = _beat_with(story, "temari", "sc-scared us")
    a = await engine.answer(story, "Temari", "why were you scared?", len(story) - 1)
    assert a.source == "retrieval" and a.beats[0] == stammer
    assert "y-you really sc-scared us" in a.text and "Why was I scared?" in a.text
    assert a.recalled_scene == story.beat(stammer).scene == 1
    assert "-# recalling scene 2" in a.text


async def test_shukaku_on_naruto_from_his_unquoted_thought(engine: AnswerEngine, story: Story) -> None:
    a = await engine.answer(story, "Shukaku", "what do you think of Naruto?", len(story) - 1)
    beat = story.beat(a.beats[0])
    assert beat.kind == "thought" and beat.speaker == "shukaku"
    assert "look who's got a friend" in a.text and "What do I think of Naruto?" in a.text
    assert "cackled" not in a.text  # the thought, not the narration around it


async def test_the_storys_own_questions_find_the_reply(engine: AnswerEngine, story: Story) -> None:
    """Asked what a character was asked in the story, they answer with their reply to it: their
    own line, not the question before it nor a line merely near it."""
    for who, question, words, at in (
            ("Gaara", "What are you still doing here?", "I requested to stay longer", len(story) - 1),
            ("Gaara", "How long are you here for?", "I have a week", len(story) - 1),
            ("Lee", "Who did this?", "Most likely Sasuke-kun", 48),
            ("Naruto", "Do you think about Gaara?", "Every day!", len(story) - 1)):
        want = _beat_with(story, story.find_character(who).key, words)  # type: ignore[union-attr]
        a = await engine.answer(story, who, question, at)
        assert a.beats[0] == want, (question, a.text)
        assert words in a.text


async def test_what_a_character_said_comes_from_their_own_line(engine: AnswerEngine, story: Story) -> None:
    a = await engine.answer(story, "Gaara", "What did you say to Shukaku?", len(story) - 1)
    assert story.beat(a.beats[0]).speaker == "gaara" and "Shut up Shukaku" in a.text
    a = await engine.answer(story, "Gaara", "What will you do to Sasuke?", 48)
    assert story.beat(a.beats[0]).speaker == "gaara" and "crush him" in a.text


async def test_first_scene_reveals_nothing_later(engine: AnswerEngine, story: Story) -> None:
    first = story.scenes[0]
    later_text = [b.text for b in story.beats[first.last_beat + 1:]]
    for upto in range(first.first_beat, first.last_beat + 1):
        for who, q in (("temari", "why were you scared?"), ("shukaku", "what do you think of Naruto?")):
            a = await engine.answer(story, who, q, upto)
            assert all(b <= upto for b in a.beats)
            assert later_only_fragments(story, a.text, upto) == []
            assert "sc-scared" not in a.text and "precious person?" not in a.text
            assert not any(t[:40] in a.text for t in later_text)
    # Temari has not appeared before her cry at the gates: she deflects in her own words.
    gates = _beat_with(story, "temari", "You're okay!")
    a = await engine.answer(story, "temari", "why were you scared?", gates - 1)
    assert a.source == "deflection" and "I don't know that yet" in a.text


QUESTIONS = ("why were you scared?", "what do you think of Naruto?", "who is precious to you?",
             "what happened in the hospital?", "how do you feel?")


async def test_no_answer_ever_quotes_a_later_beat(engine: AnswerEngine, story: Story) -> None:
    """Every beat of the seed x every character x several questions."""
    checked = 0
    for upto in range(len(story)):
        for c in story.characters:
            for q in QUESTIONS:
                a = await engine.answer(story, c.key, q, upto)
                assert all(b <= upto for b in a.beats), (c.key, q, upto, a.beats)
                assert later_only_fragments(story, a.text, upto) == [], (c.key, q, upto, a.text)
                checked += 1
    assert checked == len(story) * len(story.characters) * len(QUESTIONS)


async def test_held_out_questions(engine: AnswerEngine, story: Story) -> None:
    questions = load_questions()
    assert len(questions) >= 20
    assert check_numbering(story, questions) == []
    result = await evaluate(engine, story, questions)
    assert result.spoilers == 0
    assert result.share >= 0.80, result.misses  # 14/25 when first scored blind, 18/25 before pronouns, 20/25 now
