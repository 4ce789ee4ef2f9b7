"""Narration engine figures (prints them; targets in brackets). Runs in well under 2 minutes.

    .venv/bin/python bench/engine.py                         the figures below, on SQLite
    .venv/bin/python bench/engine.py --sessions 1000,5000,10000 [--backend sqlite,postgres] [--seconds 20]
        many auto sessions in one process, side by side per backend: start-up, posts, timer
        lateness p99, RSS, resume (PostgreSQL: DATABASE_URL, else a throw-away server as in the tests)

1. CPU time per posted beat, SQLite writes included            [<= 0.5 ms]
2. p99 timer lateness, 1,000 concurrent auto sessions          [<= 50 ms]
3. RSS with 1,000 sessions                                     [<= 200 MB]
4. time to resume 1,000 sessions at start-up                   [<= 3 s]
5. demand above Discord's limits: posts delivered as a share of the budget [>= 95 %],
   over-limit submissions [0]
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.engine.api import Actor
from bot.engine.budget import EngineLimits
from bot.engine.clock import FakeClock, SystemClock
from bot.engine.narrator import Narrator
from bot.engine.pacing import Pacing
from bot.engine.recording import RecordingStage
from bot.engine.stage import Place
from bot.store import Database, PgDatabase, Store
from bot.story.model import Beat, Character, Scene, Story

MOD = Actor(user_id=1, name="bench", moderator=True)


def bench_story(beats: int, slug: str = "bench") -> Story:
    scenes, idx = [], 0
    per = max(1, beats // 4)
    for s in range(4):
        bs = []
        for _ in range(per):
            if idx % 3 == 1:
                body = f"“This is line {idx}, and it is spoken aloud,” Lee said quietly."
                bs.append(Beat(idx, s, "dialogue", body, speaker="lee", speakers=("lee",),
                               quotes=((1, body.index("”")),)))
            else:
                bs.append(Beat(idx, s, "narration",
                               f"Beat {idx}. The wind moved the sand across the roofs of the village again."))
            idx += 1
        scenes.append(Scene(s, None, tuple(bs)))
    return Story(slug=slug, title="Bench", scenes=tuple(scenes), characters=(Character("lee", "Lee"),))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


PG_URL: str | None = None  # set by --backend postgres


async def open_db(folder: Path) -> Store:
    db: Store = await PgDatabase.open(PG_URL, pool_size=8) if PG_URL else await Database.open(folder / "bench.sqlite3")
    await db.migrate()
    return db


async def cpu_per_beat(folder: Path) -> float:
    db = await open_db(folder)
    story = bench_story(400)
    stage = RecordingStage(clock=SystemClock())
    n = Narrator(db, stage, {story.slug: story}, clock=SystemClock(), limits=EngineLimits.unlimited(),
                 pacing=Pacing.instant())
    places = [Place(channel_id=10 + i) for i in range(10)]
    c0 = time.process_time()
    for p in places:
        await n.start(p, story.slug, MOD)
    await asyncio.gather(*(n.wait_for_state(p, ("finished",)) for p in places))
    cpu = time.process_time() - c0
    posts = len(stage.posts)
    await n.close()
    await db.close()
    return cpu / posts * 1000


async def many_sessions(folder: Path, count: int = 1000, seconds: float = 20.0) -> dict[str, float]:
    db = await open_db(folder)
    story = bench_story(400)
    stage = RecordingStage(clock=SystemClock())
    pacing = Pacing(min_delay=2.0, max_delay=3.0, first_beat_delay=2.0, breather=3.0, typing_words=10**9)
    n = Narrator(db, stage, {story.slug: story}, clock=SystemClock(), limits=EngineLimits.unlimited(),
                 pacing=pacing)
    t0 = time.monotonic()
    for i in range(count):
        await n.start(Place(channel_id=100_000 + i), story.slug, MOD)
    started = time.monotonic() - t0
    n.stats.lateness.clear()
    posts0, c0 = len(stage.posts), time.process_time()
    await asyncio.sleep(seconds)
    cpu_ms = (time.process_time() - c0) * 1000 / max(1, len(stage.posts) - posts0)
    lat = sorted(n.stats.lateness)
    out = {
        "start_s": started,
        "posts": len(stage.posts),
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": lat[int(len(lat) * 0.99)] * 1000,
        "max_ms": lat[-1] * 1000,
        "rss_mb": rss_mb(),
        "cpu_ms": cpu_ms,
    }
    await n.close()  # sessions stay "playing" in the database, as after a crash or a deploy
    # start-up: a fresh narrator resumes all of them
    n2 = Narrator(db, stage, {story.slug: story}, clock=SystemClock(), limits=EngineLimits.unlimited(),
                  pacing=pacing)
    again: set[int] = set()
    all_again = asyncio.Event()

    def posted(rec: object) -> None:
        again.add(rec.channel_id)  # type: ignore[attr-defined]
        if len(again) >= count:
            all_again.set()

    stage.on_post = posted
    t1 = time.monotonic()
    resumed = await n2.resume_all()
    out["resume_s"] = time.monotonic() - t1
    out["resumed"] = resumed
    await all_again.wait()  # every session has posted again
    out["catch_up_s"] = time.monotonic() - t1
    await n2.close()
    await db.close()
    return out


async def over_budget(folder: Path, sessions: int = 600, seconds: float = 120.0) -> dict[str, float]:
    db = await open_db(folder)
    story = bench_story(400)
    clock = FakeClock()
    stage = RecordingStage(clock=clock)
    limits = EngineLimits()
    n = Narrator(db, stage, {story.slug: story}, clock=clock, limits=limits, pacing=Pacing())
    for i in range(sessions):
        # a few threads too, so parent webhooks are shared
        parent = 200_000 + (i - 1) if i % 10 == 1 else None
        await n.start(Place(channel_id=200_000 + i, parent_id=parent), story.slug, MOD)
    await clock.advance(seconds)
    budget = limits.global_requests / limits.global_window * seconds
    posts = len(stage.posts)
    merged = sum(1 for r in stage.posts if r.beats and r.beats[1] > r.beats[0])
    out = {"posts": posts, "budget": budget, "share": posts / budget, "violations": len(stage.violations(limits)),
           "merged": merged, "typing": len(stage.typings)}
    await n.close()
    await db.close()
    return out


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "a").mkdir()
        (root / "b").mkdir()
        (root / "c").mkdir()
        t = time.monotonic()
        cpu = await cpu_per_beat(root / "a")
        print(f"CPU per posted beat (SQLite writes included): {cpu:.3f} ms   [target <= 0.5 ms]")
        m = await many_sessions(root / "b")
        print(f"1,000 auto sessions: {m['posts']:.0f} posts in 20 s; timer lateness p50 {m['p50_ms']:.1f} ms, "
              f"p99 {m['p99_ms']:.1f} ms, max {m['max_ms']:.1f} ms   [target p99 <= 50 ms]")
        print(f"RSS with 1,000 sessions: {m['rss_mb']:.0f} MB   [target <= 200 MB]")
        print(f"resume 1,000 sessions at start-up: {m['resume_s']:.2f} s ({m['resumed']:.0f} resumed; every session posted again "
              f"within {m['catch_up_s']:.2f} s)   [target <= 3 s]")
        b = await over_budget(root / "c")
        print(f"over Discord's limits (600 sessions wanting ~100 posts/s, 120 simulated s): {b['posts']:.0f} posts of a "
              f"{b['budget']:.0f}-request budget = {b['share'] * 100:.1f} %   [target >= 95 %]; "
              f"over-limit submissions: {b['violations']:.0f}   [target 0]; merged messages: {b['merged']:.0f}")
        print(f"(bench took {time.monotonic() - t:.0f} s)")


async def scale(counts: list[int], backends: list[str], seconds: float) -> None:
    global PG_URL
    server = None
    rows: dict[tuple[str, int], dict[str, float]] = {}
    try:
        for backend in backends:
            for count in counts:
                if backend == "postgres":
                    if server is None and not os.environ.get("DATABASE_URL"):
                        from tests.pg_server import start

                        server = start()
                    PG_URL = server.new_url() if server is not None else os.environ["DATABASE_URL"]
                else:
                    PG_URL = None
                with tempfile.TemporaryDirectory() as tmp:
                    rows[(backend, count)] = await many_sessions(Path(tmp), count, seconds)
                r = rows[(backend, count)]
                print(f"  done {backend} {count}: start {r['start_s']:.1f} s, p99 {r['p99_ms']:.1f} ms", flush=True)
    finally:
        PG_URL = None
        if server is not None:
            server.stop()
    cols = [(b, c) for b in backends for c in counts]
    print(f"{'':34}" + "".join(f"{b[:6]} {c:>6}".rjust(16) for b, c in cols))
    for label, key, fmt in [("start-up of all sessions (s)", "start_s", "{:.1f}"),
                            (f"posts in {seconds:.0f} s", "posts", "{:.0f}"),
                            ("CPU per posted beat (ms)", "cpu_ms", "{:.3f}"),
                            ("timer lateness p50 (ms)", "p50_ms", "{:.1f}"),
                            ("timer lateness p99 (ms)", "p99_ms", "{:.1f}"),
                            ("RSS (MB)", "rss_mb", "{:.0f}"),
                            ("resume all (s)", "resume_s", "{:.2f}"),
                            ("every session posted again (s)", "catch_up_s", "{:.2f}")]:
        print(f"{label:34}" + "".join(fmt.format(rows[c][key]).rjust(16) for c in cols))
    print("targets: 10,000 sessions p99 <= 50 ms, RSS <= 500 MB, resume <= 3 s, start-up <= 10 s")


if __name__ == "__main__":
    if "--sessions" in sys.argv:
        args = sys.argv[1:]

        def opt(name: str, default: str) -> str:
            return args[args.index(name) + 1] if name in args else default

        asyncio.run(scale([int(x) for x in opt("--sessions", "1000").split(",")],
                          opt("--backend", "sqlite,postgres").split(","), float(opt("--seconds", "20"))))
    else:
        asyncio.run(main())
