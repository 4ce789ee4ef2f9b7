from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.answers import AnswerEngine
from bot.answers.retrieval import TermStats, analyse
from bot.store import Database
from bot.store import answers as answer_store
from bot.store.stories import stored_hash, sync_story
from bot.story.model import Beat, Character, Scene, Story
from tests.answers.fixture import make_story


@pytest.fixture
def db(store_db: Database) -> Database:
    """This module's tests run on SQLite and on PostgreSQL (tests/conftest.py: store_db)."""
    return store_db


async def test_sync_story_writes_rows_once_and_follows_cast_edits(db: Database) -> None:
    story = make_story()
    assert await sync_story(db, story) is True
    assert await sync_story(db, story) is False  # unchanged: nothing written
    assert await stored_hash(db, story.slug) == story.content_hash()
    chars = await db.fetchall("SELECT char_key, name, aliases FROM characters WHERE story_slug = ?", (story.slug,))
    assert len(chars) == len(story.characters)
    first = chars[0]
    assert (first[0], first[1], json.loads(first[2])) == ("gaara", "Gaara", ["Gaara-kun", "Sabaku no Gaara"])
    scenes = await db.fetchall("SELECT scene_index, first_beat, last_beat FROM scenes WHERE story_slug = ?",
                               (story.slug,))
    assert [tuple(r) for r in scenes] == [(0, 0, 4), (1, 5, 8), (2, 9, 13)]
    # A new alias changes no beat, but the stored cast must follow it.
    cast = (replace(story.characters[0], aliases=("Gaara-kun", "Sabaku no Gaara", "Panda")), *story.characters[1:])
    assert await sync_story(db, replace(story, characters=cast)) is True
    row = await db.fetchone("SELECT aliases FROM characters WHERE story_slug = ? AND char_key = 'gaara'",
                            (story.slug,))
    assert row is not None and "Panda" in json.loads(row[0])
    assert await stored_hash(db, "nope") is None


async def test_common_words_are_left_out_of_the_search(db: Database) -> None:
    # "sand" is in every beat; "gourd" in one. Asking about both must search by "gourd" only.
    beats = tuple(Beat(i, 0, "narration", f"Sand drifted over the dunes, line {i}.") for i in range(600))
    special = Beat(600, 0, "dialogue", "“My gourd holds sand,” Gaara said.", speaker="gaara")
    story = Story("dunes", "Dunes", (Scene(0, None, (*beats, special)),),
                  characters=(Character("gaara", "Gaara"),))
    engine = AnswerEngine(db)
    await engine.index_story(story)
    query = analyse("what about the sand in your gourd?", story, story.characters[0])
    assert set(query.terms) == {"sand", "gourd"}
    stats = TermStats()
    assert await stats.prune(db, query) == '"gourd"'
    only_common = analyse("sand?", story, story.characters[0])
    assert await stats.prune(db, only_common) == '"sand"'  # nothing rarer: the reader's word is kept
    a = await engine.answer(story, "gaara", "what about the sand in your gourd?", 600)
    assert a.beats[0] == 600
    counts = await answer_store.document_counts(db, ["sand", "gourd", "zebra"])
    assert counts == {"sand": 601, "gourd": 1, "zebra": 0}
