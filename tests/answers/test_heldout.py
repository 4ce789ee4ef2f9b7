"""The blind held-out question sets (tests/answers/heldout/*.toml): written before the engine was
read, by someone else than its author; bench/ask_heldout.py prints the same figures with every miss.
"""

from __future__ import annotations

import pytest

from bot.answers import AnswerEngine
from bot.store import Database
from tests.answers.heldout_eval import HELDOUT, evaluate_set, load_set, set_paths

# (from a relevant line, deflected when nothing answers yet): the figures reached when this test
# was written, so a regression fails; the seed is held to the 80% target. Doyle is honestly
# lower: first-person narration ("I had come in wet") is nobody's line to the engine, several
# answers share no word with the question, and Holmes "knows" the clock story before he solves it.
# Grahame is the fresh set written after the tuning (its first and only scoring: 7/14): the most
# honest figure of how the engine does on a text nobody tuned it for.
FLOORS = {"precious-person": (0.80, 1.0), "alcott": (0.80, 1.0), "doyle": (0.70, 0.33), "grahame": (0.50, 1.0)}


def test_every_set_is_scored_and_well_formed() -> None:
    names = {p.stem for p in set_paths()}
    assert names == set(FLOORS)
    for path in set_paths():
        story, questions = load_set(path)
        assert len(questions) >= (25 if path.stem == "precious-person" else 12)
        assert any(not q.relevant for q in questions), "each set asks something not answerable yet"
        for q in questions:
            assert 0 <= q.at < len(story) and all(0 <= r <= q.at for r in q.relevant), q


@pytest.mark.parametrize("name", sorted(FLOORS))
async def test_heldout_answers_come_from_relevant_lines_and_never_spoil(db: Database, name: str) -> None:
    engine = AnswerEngine(db, cooldown_seconds=0)
    r = await evaluate_set(engine, HELDOUT / f"{name}.toml")
    assert r.spoilers == 0, r.misses
    relevant, deflected = FLOORS[name]
    assert r.main_relevant / r.answerable >= relevant, (r.summary(), r.misses)
    # Questions asked before anything answers them are deflected, not answered.
    assert r.deflected / r.unanswerable >= deflected, (r.summary(), r.misses)


async def test_postgres_ranking_keeps_the_heldout_figures_within_three_points(db: Database, pg_url: str) -> None:
    """PostgreSQL's full-text search (tsvector + the same BM25) answers the blind sets as SQLite
    does: the share answered from a relevant line within 3 points, never a spoiler."""
    from bot.store import PgDatabase

    figures = {}
    pg = await PgDatabase.open(pg_url)
    try:
        await pg.migrate()
        for backend, store in (("sqlite", db), ("postgres", pg)):
            engine = AnswerEngine(store, cooldown_seconds=0)
            relevant = answerable = 0
            for path in set_paths():
                r = await evaluate_set(engine, path)
                assert r.spoilers == 0, (backend, r.misses)
                relevant += r.main_relevant
                answerable += r.answerable
            figures[backend] = 100 * relevant / answerable
    finally:
        await pg.close()
    assert abs(figures["postgres"] - figures["sqlite"]) <= 3, figures
