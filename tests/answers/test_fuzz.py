"""Whatever a reader types, /ask either answers safely or refuses with AskRefused."""

from __future__ import annotations

import asyncio
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.answers import AnswerEngine, AskRefused
from bot.answers.retrieval import analyse
from bot.store import Database
from tests.answers.fixture import make_story
from tests.answers.spoilers import later_only_fragments

STORY = make_story()
NASTY = ["NEAR(", "AND", "OR", "NOT", "*", '"', "'", "^", ":", "body:", "mentions:", "{", "}", "(", ")",
         "-", "+", "@everyone", "@here", "<@123>", "<@&1>", "<#9>", "`", "||", "\\", "\x00", "🙂",
         "scared", "Naruto", "ñ", "ǅ", "\u200b", "\n", "‮", "NEAR(scared naruto, 2)", "x*", '"""']

questions = st.one_of(
    st.text(max_size=400),
    st.lists(st.sampled_from(NASTY), max_size=30).map(" ".join),
    st.lists(st.sampled_from(NASTY), max_size=30).map("".join),
    st.sampled_from(["", " ", "x" * 10_000, "why " * 2500, "a" * 300, "a" * 301]),
)

LIVE = re.compile(r"@(everyone|here)|<@[!&]?\d+>|<#\d+>")


def test_fuzzed_questions_answer_or_refuse_cleanly() -> None:
    async def setup() -> tuple[Database, AnswerEngine]:
        db = await Database.open(":memory:")
        await db.migrate()
        engine = AnswerEngine(db, cooldown_seconds=0)
        await engine.index_story(STORY)
        return db, engine

    loop = asyncio.new_event_loop()
    db, engine = loop.run_until_complete(setup())
    try:
        @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(q=questions, who=st.sampled_from(["gaara", "Temari", "the One-Tail", "lee", "nobody"]),
               upto=st.integers(min_value=-3, max_value=20))
        def check(q: str, who: str, upto: int) -> None:
            try:
                a = loop.run_until_complete(engine.answer(STORY, who, q, upto, user_id=7))
            except AskRefused as exc:
                msg = str(exc)
                assert msg and "\n" not in msg and not LIVE.search(msg)
                return
            assert a.text and len(a.text) <= 2000
            assert not LIVE.search(a.text)
            known = min(upto, len(STORY) - 1)
            assert all(b <= known for b in a.beats)
            assert later_only_fragments(STORY, a.text, known) == []

        check()
    finally:
        loop.run_until_complete(db.close())
        loop.close()


@given(st.text(max_size=500))
def test_match_expression_is_only_quoted_words(q: str) -> None:
    query = analyse(q, STORY, STORY.characters[0])
    m = query.match()
    if m is None:
        return
    for part in m.split(" OR "):
        assert re.fullmatch(r'"[^\W_]+"', part), part
