"""/ask figures: held-out relevance (seed + blind sets), spoiler count, answer time on a ~1 MB story.

    .venv/bin/python bench/ask.py [--size-mb 1.0] [--questions 1200] [--postgres]

Prints figures (not pass/fail). Targets: >= 80% of held-out questions answered from a relevant
line, zero spoilers, p99 answer time <= 10 ms on the retrieval path.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.answers import AnswerEngine  # noqa: E402
from bot.store import Database, PgDatabase  # noqa: E402
from bot.story.model import Scene, Story  # noqa: E402
from bot.story.storage import load_story  # noqa: E402
from tests.answers.heldout_eval import evaluate_set, set_paths  # noqa: E402
from tests.answers.seed_eval import COREF, check_numbering, evaluate, load_questions  # noqa: E402
from tests.answers.spoilers import later_only_fragments  # noqa: E402

SEED = ROOT / "story_data" / "precious-person"
COREF_SETS = ROOT / "tests" / "answers" / "coref_heldout"
TEMPLATES = (
    "Why were you scared?", "What do you think of {other}?", "Who is your precious person?",
    "What happened in the hospital?", "How do you feel about {other}?", "Where is {other}?",
    "Why did you come back?", "What did you say to {other}?", "Are you hungry?", "Do you sleep?",
    "What did {other} tell you?", "How badly are you hurt?", "NEAR(fox brat) OR \"sand\" *",
    "@everyone who won the fight?", "Tell me about yourself.", "When did you arrive at the camp?",
)


def big_story(seed: Story, target_bytes: int) -> Story:
    """The seed's scenes repeated (with their sentences shuffled a little) until ~target_bytes."""
    rng = random.Random(7)
    vocab = sorted({w for b in seed.beats for w in b.text.split() if w.isalpha() and len(w) > 3})
    scenes: list[Scene] = []
    size = 0
    index = 0
    copy = 0
    while size < target_bytes:
        for sc in seed.scenes:
            beats = []
            for b in sc.beats:
                text = b.text
                if b.kind == "narration":
                    parts = text.split(". ")
                    rng.shuffle(parts)
                    text = ". ".join(parts) + " " + " ".join(rng.sample(vocab, 3)) + "."
                beats.append(replace(b, index=index, scene=len(scenes), text=text, source=(0, 0), quotes=()))
                size += len(text.encode())
                index += 1
            title = f"{sc.title or 'Scene'} ({copy + 1})"
            scenes.append(Scene(len(scenes), title, tuple(beats)))
        copy += 1
    return Story(slug="bench-big", title="Bench", scenes=tuple(scenes), characters=seed.characters)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def open_store(url: str | None) -> Any:
    """A fresh store for the question sets: SQLite in memory, or the PostgreSQL at `url`."""
    return PgDatabase.open(url) if url else Database.open(":memory:")


async def held_out(seed: Story, url: str | None = None) -> None:
    questions = load_questions()
    drift = check_numbering(seed, questions)
    if drift:
        print("held-out: the seed's beat numbering changed:", *drift, sep="\n  ")
        return
    async with await open_store(url) as db:
        await db.migrate()
        engine = AnswerEngine(db, cooldown_seconds=0)
        r = await evaluate(engine, seed, questions)
    print(f"held-out questions (seed): {r.relevant}/{r.total} answered from a relevant line "
          f"({r.share:.0%}; target >= 80%), spoilers: {r.spoilers}")
    for miss in r.misses or []:
        print(f"  miss: {miss}")
    coref = load_questions(COREF)  # pronouns and the story's nicknames, no name in the question
    drift = check_numbering(seed, coref)
    if drift:
        print("coref set: the seed's beat numbering changed:", *drift, sep="\n  ")
    else:
        async with await open_store(url) as db:
            await db.migrate()
            r = await evaluate(AnswerEngine(db, cooldown_seconds=0), seed, coref)
        print(f"pronoun/nickname questions (seed): {r.relevant}/{r.total} answered from a relevant line "
              f"({r.share:.0%}), spoilers: {r.spoilers}")
        for miss in r.misses or []:
            print(f"  miss: {miss}")
    async with await open_store(url) as db:
        await db.migrate()
        engine = AnswerEngine(db, cooldown_seconds=0)
        for path in set_paths():  # the blind sets (bench/ask_heldout.py -v lists their misses)
            print("blind set", (await evaluate_set(engine, path)).summary())
        for path in sorted(COREF_SETS.glob("*.toml")):  # pronoun questions on other texts
            r = await evaluate_set(engine, path)
            print("blind pronoun set", r.summary())
            for miss in r.misses:
                print(f"  {miss}")


async def speed(seed: Story, size_mb: float, count: int) -> None:
    story = big_story(seed, int(size_mb * 1_000_000))
    text_bytes = sum(len(b.text.encode()) for b in story.beats)
    rng = random.Random(11)
    keys = [c.key for c in story.characters]
    names = [c.name for c in story.characters]
    with tempfile.TemporaryDirectory() as tmp:
        async with await Database.open(Path(tmp) / "bench.sqlite3") as db:
            await db.migrate()
            engine = AnswerEngine(db, cooldown_seconds=0)
            t0 = time.perf_counter()
            await engine.index_story(story)
            indexed = time.perf_counter() - t0
            t0 = time.perf_counter()
            await AnswerEngine(db).index_story(story)  # a restart: hashed, found unchanged, skipped
            reindex = time.perf_counter() - t0
            times: list[float] = []
            cpu: list[float] = []  # process CPU time: what the answer costs, whatever else loads the machine
            sources: dict[str, int] = {}
            spoilers = 0
            for i in range(count):
                q = rng.choice(TEMPLATES).format(other=rng.choice(names))
                who = keys[i % len(keys)]
                upto = rng.randrange(len(story))
                t0 = time.perf_counter()
                c0 = time.process_time()
                a = await engine.answer(story, who, q, upto, user_id=i)
                cpu.append((time.process_time() - c0) * 1000)
                times.append((time.perf_counter() - t0) * 1000)
                sources[a.source] = sources.get(a.source, 0) + 1
                if any(b > upto for b in a.beats) or (i % 50 == 0 and later_only_fragments(story, a.text, upto)):
                    spoilers += 1
    print(f"story: {text_bytes / 1e6:.2f} MB of beat text, {len(story):,} beats, {len(story.scenes)} scenes; "
          f"index built in {indexed:.2f} s; after a restart ready in {reindex * 1000:.0f} ms (stored index kept, "
          "name facts rebuilt in memory)")
    print(f"questions: {count:,} ({', '.join(f'{k} {v}' for k, v in sorted(sources.items()))}); "
          f"answer time p50 {statistics.median(times):.2f} ms, p99 {percentile(times, 99):.2f} ms, "
          f"max {max(times):.2f} ms (target p99 <= 10 ms); CPU time p50 {statistics.median(cpu):.2f} ms, "
          f"p99 {percentile(cpu, 99):.2f} ms; spoilers: {spoilers}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--size-mb", type=float, default=1.0)
    ap.add_argument("--questions", type=int, default=1200)
    ap.add_argument("--postgres", action="store_true",
                    help="score the question sets on PostgreSQL too (DATABASE_URL, else a throw-away server)")
    args = ap.parse_args()
    if not (SEED / "story.toml").is_file():
        print(f"bench/ask.py: the seed story is missing ({SEED}); nothing to measure")
        return
    seed = load_story(SEED)
    asyncio.run(held_out(seed))
    if args.postgres:
        server = None
        url = os.environ.get("DATABASE_URL")
        if not url:
            from tests.pg_server import start

            server = start()
            url = server.new_url()
        try:
            print("-- the same question sets on PostgreSQL:")
            asyncio.run(held_out(seed, url))
        finally:
            if server is not None:
                server.stop()
    asyncio.run(speed(seed, args.size_mb, args.questions))


if __name__ == "__main__":
    main()
