from __future__ import annotations

import pytest

from bot.answers import AnswerEngine, AskRefused
from bot.store import Database
from bot.store import answers as answer_store
from bot.store import stories as story_store
from tests.answers.conftest import FakeClock
from tests.answers.fixture import HOSPITAL_TEMARI, LAST_SCENE_START, SHUKAKU_THOUGHT, make_story
from tests.answers.spoilers import later_only_fragments

END = 13


async def test_temari_answers_why_scared_from_her_own_hospital_line(db: Database) -> None:
    story = make_story()
    a = await AnswerEngine(db).answer(story, "Temari", "Why were you scared?", END)
    assert a.source == "retrieval"
    assert a.beats[0] == HOSPITAL_TEMARI
    assert a.recalled_scene == 2
    assert "I-I was scared, Gaara" in a.text
    assert "Why was I scared?" in a.text  # answers the question, first person
    assert a.text.endswith("-# recalling scene 3 · Part 3")


async def test_shukaku_answers_from_his_thought_about_naruto(db: Database) -> None:
    story = make_story()
    a = await AnswerEngine(db).answer(story, "shukaku", "What do you think of Naruto?", END)
    assert a.beats[0] == SHUKAKU_THOUGHT
    assert "loudmouth Uzumaki brat" in a.text
    assert "What do I think of Naruto?" in a.text
    assert "jeered" not in a.text  # the thought itself, not the narration tag around it


async def test_first_scene_reveals_nothing_later(db: Database) -> None:
    story = make_story()
    engine = AnswerEngine(db)
    for who, q in (("temari", "Why were you scared?"), ("shukaku", "What do you think of Naruto?"),
                   ("gaara", "What did Temari say in the hospital?")):
        for upto in range(0, 5):
            a = await engine.answer(story, who, q, upto)
            assert all(b <= upto for b in a.beats)
            assert later_only_fragments(story, a.text, upto) == []
            assert "scared, Gaara" not in a.text and "Uzumaki brat" not in a.text


async def test_not_yet_appeared_gets_the_story_deflection(db: Database) -> None:
    story = make_story()
    a = await AnswerEngine(db).answer(story, "shukaku", "What do you think of Naruto?", 3)
    assert a.source == "deflection" and a.beats == () and a.recalled_scene is None
    assert a.text.startswith("*considers") or "head" in a.text or "Ask me" in a.text
    t = await AnswerEngine(db).answer(story, "Temari", "why were you scared", LAST_SCENE_START - 1)
    # Temari has appeared (scene 1) but said nothing about fear yet: her own deflection line.
    assert t.source == "deflection"
    assert t.text.startswith("*folds her arms* Tch. Ask me that some other time.")


async def test_own_lines_beat_others_lines(db: Database) -> None:
    story = make_story()
    # "kill" appears only in Temari's line; "afraid" only in Gaara's question to her.
    a = await AnswerEngine(db).answer(story, "gaara", "Were you afraid?", END)
    assert a.beats[0] == 10 and "Were you afraid of me?" in a.text


async def test_character_matching_and_unknown_character(db: Database) -> None:
    story = make_story()
    engine = AnswerEngine(db)
    for name in ("lee", "Rock Lee", "bushy brows", "  LEE  "):
        a = await engine.answer(story, name, "Why do you train?", END)
        assert a.character_key == "lee"
    with pytest.raises(AskRefused, match=r"no character called “Kakashi”.*Gaara, Temari"):
        await engine.answer(story, "Kakashi", "hello?", END)


async def test_question_limits(db: Database) -> None:
    story = make_story()
    engine = AnswerEngine(db)
    for empty in ("", "   ", "?!?", "\n\t"):
        with pytest.raises(AskRefused, match="ask a question in words"):
            await engine.answer(story, "gaara", empty, END)
    with pytest.raises(AskRefused, match="301 characters long; please keep it to 300"):
        await engine.answer(story, "gaara", "a" * 301, END)
    a = await engine.answer(story, "gaara", "a" * 299 + "?", END)
    assert a.text


async def test_cooldown_per_user_on_the_injected_clock(db: Database, clock: FakeClock) -> None:
    story = make_story()
    engine = AnswerEngine(db, clock=clock, cooldown_seconds=10)
    await engine.answer(story, "gaara", "Why?", END, user_id=1)
    with pytest.raises(AskRefused, match="ask again in 10 seconds") as err:
        await engine.answer(story, "gaara", "Why?", END, user_id=1)
    assert err.value.retry_after == pytest.approx(10)
    await engine.answer(story, "temari", "Why?", END, user_id=2)  # other users are not held up
    clock.advance(9.2)
    with pytest.raises(AskRefused, match="in 1 second\\."):
        await engine.answer(story, "gaara", "Why?", END, user_id=1)
    clock.advance(0.8)
    await engine.answer(story, "gaara", "Why?", END, user_id=1)
    # A refused question does not start a cooldown.
    with pytest.raises(AskRefused):
        await engine.answer(story, "gaara", "", END, user_id=3)
    await engine.answer(story, "gaara", "Why?", END, user_id=3)
    # No user id (the CLI): no cooldown.
    for _ in range(3):
        await engine.answer(story, "gaara", "Why?", END)


async def test_mentions_and_markdown_in_the_question_are_neutralised(db: Database) -> None:
    story = make_story()
    engine = AnswerEngine(db)
    a = await engine.answer(story, "temari", "@everyone <@123> <@&9> <#5> @here why **scared**?", END)
    for raw in ("@everyone", "@here", "<@123>", "<@&9>", "<#5>", "**"):
        assert raw not in a.text
    assert "scared, Gaara" in a.text  # still answered from the words that matter


async def test_upto_is_clamped_and_negative_knows_nothing(db: Database) -> None:
    story = make_story()
    engine = AnswerEngine(db)
    a = await engine.answer(story, "temari", "Why were you scared?", 10_000)
    assert a.beats[0] == HOSPITAL_TEMARI
    b = await engine.answer(story, "temari", "Why were you scared?", -1)
    assert b.source == "deflection"


async def test_author_notes_are_never_answers(db: Database) -> None:
    story = make_story()
    a = await AnswerEngine(db).answer(story, "gaara", "What is precious to you? reviews? reading?", END)
    assert 13 not in a.beats and "Author's note" not in a.text


async def test_index_is_idempotent_and_follows_changes(db: Database) -> None:
    story = make_story()
    engine = AnswerEngine(db)
    await engine.index_story(story)
    h = await answer_store.indexed_hash(db, story.slug)
    rows = await db.fetchall("SELECT count(*) FROM answer_fts WHERE story_slug = ?", (story.slug,))
    assert rows[0][0] == len(story)
    stamp = await db.fetchone("SELECT indexed_at FROM answer_index WHERE story_slug = ?", (story.slug,))
    # A fresh engine (a restart) finds the stored index and does not rebuild it.
    await AnswerEngine(db).index_story(story)
    again = await db.fetchone("SELECT indexed_at FROM answer_index WHERE story_slug = ?", (story.slug,))
    assert stamp is not None and again is not None and stamp[0] == again[0]
    assert await story_store.stored_hash(db, story.slug) == story.content_hash()
    beats = await db.fetchall("SELECT body FROM beats WHERE story_slug = ? ORDER BY beat_index", (story.slug,))
    assert [r[0] for r in beats] == [b.text for b in story.beats]
    # An edited story is re-indexed: the edit is searchable, the old words are gone.
    from dataclasses import replace

    edited_scene = replace(story.scenes[2], beats=tuple(
        replace(b, text="“I was terrified of the sandstorm,” Temari said.") if b.index == HOSPITAL_TEMARI else b
        for b in story.scenes[2].beats))
    edited = replace(story, scenes=(*story.scenes[:2], edited_scene))
    assert edited.content_hash() != story.content_hash()
    a = await engine.answer(edited, "temari", "why were you scared?", END)
    assert "terrified of the sandstorm" in a.text
    assert await answer_store.indexed_hash(db, story.slug) != h
    rows = await db.fetchall("SELECT count(*) FROM answer_fts WHERE story_slug = ?", (story.slug,))
    assert rows[0][0] == len(story)


async def test_two_stories_do_not_mix(db: Database) -> None:
    one, two = make_story("one"), make_story("two")
    engine = AnswerEngine(db)
    await engine.index_story(one)
    await engine.index_story(two)
    hits = await answer_store.search(db, "two", 'body : "scared"', END)
    assert [h.beat_index for h in hits] == [HOSPITAL_TEMARI]
    rows = await db.fetchall("SELECT count(*) FROM answer_fts")
    assert rows[0][0] == 2 * len(one)


async def test_search_sql_never_returns_later_beats(db: Database) -> None:
    story = make_story()
    await AnswerEngine(db).index_story(story)
    for upto in range(-1, END + 1):
        hits = await answer_store.search(db, story.slug, '"gaara" OR "scared" OR "naruto"', upto)
        assert all(h.beat_index <= upto for h in hits)
        own = await answer_store.search(db, story.slug, '"gaara" OR "scared"', upto, speaker="temari")
        assert all(h.beat_index <= upto and "temari" in h.speakers for h in own)


async def test_what_did_someone_else_say_quotes_them(db: Database) -> None:
    story = make_story()
    a = await AnswerEngine(db).answer(story, "gaara", "What did Temari say?", END)
    beat = story.beat(a.beats[0])
    assert beat.speaker == "temari" and a.source == "retrieval"
    assert "I remember what Temari said" in a.text or "Temari put it like this" in a.text


async def test_question_without_words_gets_the_latest_line_or_a_deflection(db: Database) -> None:
    story = make_story()
    engine = AnswerEngine(db)
    a = await engine.answer(story, "lee", "How are you?", END)
    assert a.beats == (6,)
    assert "The last thing I said" in a.text or "what I said last" in a.text
    b = await engine.answer(story, "lee", "Where are you?", END)
    assert b.source == "deflection"


async def test_concurrent_first_asks_index_once(db: Database) -> None:
    import asyncio

    story = make_story()
    engine = AnswerEngine(db)
    answers = await asyncio.gather(*(engine.answer(story, "temari", "why were you scared?", END)
                                     for _ in range(5)))
    assert {a.beats[0] for a in answers} == {HOSPITAL_TEMARI}
    rows = await db.fetchall("SELECT count(*) FROM answer_fts")
    assert rows[0][0] == len(story)


async def test_one_user_cannot_slip_two_asks_through_at_once(db: Database, clock: FakeClock) -> None:
    import asyncio

    story = make_story()
    engine = AnswerEngine(db, clock=clock)
    results = await asyncio.gather(*(engine.answer(story, "gaara", "why?", END, user_id=5) for _ in range(3)),
                                   return_exceptions=True)
    assert sum(1 for r in results if isinstance(r, AskRefused)) == 2
