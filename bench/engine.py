"""Narration engine figures (prints them; targets in brackets). Runs in well under 2 minutes.

    .venv/bin/python bench/engine.py                         the figures below, on SQLite
    .venv/bin/python bench/engine.py --sessions 1000,5000,10000 [--backend sqlite,postgres] [--seconds 20]
        many auto sessions in one process, side by side per backend (each column in a process of its
        own): start-up (commands all at once; and spread over one beat interval, which then plays),
        timer lateness, RSS, resume, CPU per posted beat beside discord.py's own Webhook.send and
        the ratio [<= 0.5] (PostgreSQL: DATABASE_URL, else a throw-away server as in the tests)

1. CPU time per posted beat, SQLite writes included            [<= 0.5 ms], and beside it discord.py's own
   `Webhook.send` measured in the same run against a loopback server (a child process)
2. p99 timer lateness, 1,000 concurrent auto sessions          [<= 50 ms]
3. RSS with 1,000 sessions                                     [<= 200 MB]
4. time to resume 1,000 sessions at start-up                   [<= 3 s]
5. demand above Discord's limits: posts delivered as a share of the budget [>= 95 %],
   over-limit submissions [0]
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.engine.api import Actor
from bot.engine.budget import EngineLimits
from bot.engine.clock import FakeClock, SystemClock
from bot.engine.narrator import Narrator
from bot.engine.pacing import Pacing
from bot.engine.recording import RecordingStage
from bot.engine.stage import Cue, MessageRef, Place, SeenMessage
from bot.store import Database, PgDatabase, Store
from bot.store.db import COMMIT_WINDOW
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
PG_SERVER: Any = None  # the PostgreSQL the bench started itself (fresh schemas from it)


class CountingStage:
    """The cheapest possible stage: a message id per post and a callback, nothing kept. The many-
    session runs use it so that "CPU per posted beat" is the engine's and the store's, not a
    recording stage's (discord.py's own cost is measured apart, by `discord_send_cpu`)."""

    def __init__(self) -> None:
        self.posts = 0
        self._next = 1_000_001
        self.on_post: object = None

    async def post(self, place: Place, cue: Cue) -> MessageRef:
        self.posts += 1
        self._next += 1
        if self.on_post is not None:
            self.on_post(place.channel_id)  # type: ignore[operator]
        return MessageRef(place, self._next)

    async def edit(self, ref: MessageRef, cue: Cue) -> None:
        return None

    async def delete(self, ref: MessageRef) -> None:
        return None

    async def typing(self, place: Place) -> None:
        return None

    async def recent(self, place: Place, limit: int = 20) -> list[SeenMessage]:
        return []

    async def notify_moderators(self, place: Place, text: str) -> None:
        return None


# -- discord.py's own webhook send, for scale ------------------------------------------------------
# A loopback HTTP server in a CHILD process answers webhook executes the way Discord does (a
# message object, rate-limit headers with room left), so this process's CPU time is discord.py's
# alone: building the request, aiohttp, parsing the reply into a WebhookMessage.

def serve_webhooks() -> None:
    """Child process: answer POST /api/v10/webhooks/{id}/{token} on 127.0.0.1; prints the port."""
    from aiohttp import web

    counter = [1_100_000_000_000_000_000]

    async def execute(request: web.Request) -> web.Response:
        body = await request.json()
        counter[0] += 1
        wid = request.match_info["wid"]
        msg = {"id": str(counter[0]), "type": 0, "channel_id": "900", "guild_id": "800",
               "author": {"id": wid, "username": body.get("username", "hook"), "avatar": None,
                          "discriminator": "0000", "bot": True, "global_name": None, "public_flags": 0, "flags": 0},
               "content": body.get("content", ""), "timestamp": "2026-01-01T00:00:00.000000+00:00",
               "edited_timestamp": None, "tts": False, "mention_everyone": False, "mentions": [],
               "mention_roles": [], "attachments": [], "embeds": [], "components": [], "pinned": False,
               "flags": 0, "webhook_id": wid}
        # exactly "application/json", as Discord sends it (discord.py parses nothing else)
        return web.Response(body=json.dumps(msg).encode(), headers={
            "Content-Type": "application/json", "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4",
                                               "X-RateLimit-Reset-After": "2.0", "X-RateLimit-Bucket": "b" + wid})

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/api/v10/webhooks/{wid}/{token}", execute)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


async def discord_send_cpu(sends: int = 3000, hooks: int = 20) -> float:
    """CPU milliseconds this process spends per `discord.Webhook.send` (wait=True, as the bot sends
    a beat: content, username, avatar, no mentions) against the loopback server."""
    import aiohttp
    import discord

    child = await asyncio.create_subprocess_exec(sys.executable, __file__, "--serve-webhooks",
                                                 stdout=asyncio.subprocess.PIPE)
    try:
        assert child.stdout is not None
        port = int(await child.stdout.readline())
        old = discord.http.Route.BASE
        discord.http.Route.BASE = f"http://127.0.0.1:{port}/api/v10"
        try:
            async with aiohttp.ClientSession() as session:
                webhooks = [discord.Webhook.partial(5000 + i, "tok", session=session) for i in range(hooks)]
                none = discord.AllowedMentions.none()
                text = "“This is line 7, and it is spoken aloud,” Lee said quietly."

                async def send(hook: discord.Webhook, count: int) -> None:
                    for _ in range(count):
                        await hook.send(content=text, username="Lee", avatar_url="https://127.0.0.1/lee.png",
                                        allowed_mentions=none, wait=True)

                await asyncio.gather(*(send(h, 5) for h in webhooks))  # warm up: connections, imports
                c0 = time.process_time()
                await asyncio.gather(*(send(h, sends // hooks) for h in webhooks))
                cpu = time.process_time() - c0
        finally:
            discord.http.Route.BASE = old
    finally:
        child.terminate()
        await child.wait()
    return cpu / (sends // hooks * hooks) * 1000


async def open_db(folder: Path) -> Store:
    # each measurement on PostgreSQL gets a fresh, empty schema, as each gets its own SQLite file
    # (the sessions of one phase must not be live in the next one's channels)
    url = PG_SERVER.new_url() if PG_SERVER is not None else PG_URL
    db: Store = await PgDatabase.open(url, pool_size=8) if url else await Database.open(folder / "bench.sqlite3")
    db.commit_window = COMMIT_WINDOW  # as the bot opens it (`open_store`)
    await db.migrate()
    return db


async def cpu_per_beat(folder: Path) -> float:
    """10 sessions played to the end at full speed (starts included). The stage only counts, as in
    the many-session runs: a recording stage's own bookkeeping is not the engine's cost (it made
    this figure about 0.02 ms higher than the engine's and the store's)."""
    db = await open_db(folder)
    story = bench_story(400)
    stage = CountingStage()
    n = Narrator(db, stage, {story.slug: story}, clock=SystemClock(), limits=EngineLimits.unlimited(),
                 pacing=Pacing.instant())
    places = [Place(channel_id=10 + i) for i in range(10)]
    c0 = time.process_time()
    for p in places:
        await n.start(p, story.slug, MOD)
    await asyncio.gather(*(n.wait_for_state(p, ("finished",)) for p in places))
    cpu = time.process_time() - c0
    posts = stage.posts
    await n.close()
    await db.close()
    return cpu / posts * 1000


async def start_all(n: Narrator, count: int, slug: str, base: int, *, ramp: float = 0.0,
                    in_flight: int = 500) -> float:
    """Start `count` sessions as a busy bot does: /story start commands arriving `ramp` seconds
    apart in all (0: all at once), at most `in_flight` of them being served at a time, each one
    `Narrator.start`. Returns the seconds until every one has started."""
    t0 = time.monotonic()
    sem = asyncio.Semaphore(in_flight)

    async def one(i: int) -> None:
        if ramp:
            await asyncio.sleep(ramp * i / count)
        async with sem:
            await n.start(Place(channel_id=base + i), slug, MOD)

    await asyncio.gather(*(one(i) for i in range(count)))
    return time.monotonic() - t0


PACING = Pacing(min_delay=2.0, max_delay=3.0, first_beat_delay=2.0, breather=3.0, typing_words=10**9)


async def burst_start(folder: Path, count: int) -> float:
    """Seconds to start `count` sessions whose commands all arrive at once (each session posts its
    title card at once and plays on meanwhile: the start-up competes with the posting)."""
    db = await open_db(folder)
    story = bench_story(400)
    n = Narrator(db, CountingStage(), {story.slug: story}, clock=SystemClock(), limits=EngineLimits.unlimited(),
                 pacing=PACING)
    took = await start_all(n, count, story.slug, 100_000)
    await n.close()
    await db.close()
    return took


async def many_sessions(folder: Path, count: int = 1000, seconds: float = 20.0) -> dict[str, float]:
    (folder / "burst").mkdir()
    burst = await burst_start(folder / "burst", count)
    db = await open_db(folder)
    story = bench_story(400)
    stage = CountingStage()
    pacing = PACING
    n = Narrator(db, stage, {story.slug: story}, clock=SystemClock(), limits=EngineLimits.unlimited(),
                 pacing=pacing)
    # How long each post's intent took to commit (its rate slot taken, the send waits for it):
    # from the player's call to its return, event loop turns included.
    store = n.backstage.store
    begin = store.begin_post
    intent_waits: list[float] = []

    async def timed_begin(*args: Any, **kw: Any) -> None:
        t = time.perf_counter()
        await begin(*args, **kw)
        intent_waits.append(time.perf_counter() - t)

    store.begin_post = timed_begin  # type: ignore[method-assign]
    # As on a live bot, sessions run out of step: their starts arrive over one beat interval.
    ramped = await start_all(n, count, story.slug, 100_000, ramp=pacing.max_delay)
    await asyncio.sleep(3.0)  # the title cards, then every session at its own pace
    n.stats.lateness.clear()
    n.stats.sent_late.clear()
    intent_waits.clear()
    posts0, c0 = stage.posts, time.process_time()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - c0
    cpu_ms = cpu * 1000 / max(1, stage.posts - posts0)
    lat = sorted(n.stats.lateness)
    sent = sorted(n.stats.sent_late) or [0.0]
    intents = sorted(intent_waits) or [0.0]
    out = {
        "start_s": burst,
        "ramp_start_s": ramped,
        "posts": stage.posts - posts0,
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": lat[int(len(lat) * 0.99)] * 1000,
        "max_ms": lat[-1] * 1000,
        "sent_p50_ms": statistics.median(sent) * 1000,
        "sent_p99_ms": sent[int(len(sent) * 0.99)] * 1000,
        "intent_p50_ms": statistics.median(intents) * 1000,
        "intent_p99_ms": intents[int(len(intents) * 0.99)] * 1000,
        "rss_mb": rss_mb(),
        "cpu_ms": cpu_ms,
        "busy": cpu / seconds,
    }
    await n.close()  # sessions stay "playing" in the database, as after a crash or a deploy
    # start-up: a fresh narrator resumes all of them
    n2 = Narrator(db, stage, {story.slug: story}, clock=SystemClock(), limits=EngineLimits.unlimited(),
                  pacing=pacing)
    again: set[int] = set()
    all_again = asyncio.Event()

    def posted(channel_id: int) -> None:
        again.add(channel_id)
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
        send = await discord_send_cpu()
        print(f"CPU per posted beat (SQLite writes included): {cpu:.3f} ms   [target <= 0.5 ms]; discord.py's own "
              f"Webhook.send: {send:.3f} ms; ratio {cpu / send:.2f}")
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


async def one_column(backend: str, count: int, seconds: float) -> dict[str, float]:
    """One column of the side-by-side table (run in a process of its own, so that memory and
    garbage left by another column count for neither): sessions, then discord.py's send."""
    global PG_URL, PG_SERVER
    server = None
    try:
        if backend == "postgres":
            if not os.environ.get("DATABASE_URL"):
                from tests.pg_server import start

                server = start()
            PG_URL = server.new_url() if server is not None else os.environ["DATABASE_URL"]
            PG_SERVER = server
        with tempfile.TemporaryDirectory() as tmp:
            row = await many_sessions(Path(tmp), count, seconds)
    finally:
        PG_URL = PG_SERVER = None
        if server is not None:
            server.stop()
    row["send_ms"] = await discord_send_cpu()
    row["ratio"] = row["cpu_ms"] / row["send_ms"]
    row["load"] = os.getloadavg()[0]
    return row


def scale(counts: list[int], backends: list[str], seconds: float) -> None:
    rows: dict[tuple[str, int], dict[str, float]] = {}
    for backend in backends:
        for count in counts:
            out = subprocess.run([sys.executable, __file__, "--column", backend, str(count), str(seconds)],
                                 stdout=subprocess.PIPE, text=True, check=True).stdout
            r = rows[(backend, count)] = json.loads(out.strip().splitlines()[-1])
            print(f"  done {backend} {count}: start {r['start_s']:.1f} s, p99 {r['p99_ms']:.1f} ms, "
                  f"CPU/beat {r['cpu_ms']:.3f} ms", flush=True)
    cols = [(b, c) for b in backends for c in counts]
    print(f"{'':38}" + "".join(f"{b[:6]} {c:>6}".rjust(16) for b, c in cols))
    for label, key, fmt in [("start-up, commands all at once (s)", "start_s", "{:.1f}"),
                            ("start-up, commands over 3 s (s)", "ramp_start_s", "{:.1f}"),
                            (f"posts in {seconds:.0f} s", "posts", "{:.0f}"),
                            ("timer lateness p50 (ms)", "p50_ms", "{:.1f}"),
                            ("timer lateness p99 (ms)", "p99_ms", "{:.1f}"),
                            ("timer lateness max (ms)", "max_ms", "{:.1f}"),
                            ("beat due -> sent p50 (ms)", "sent_p50_ms", "{:.1f}"),
                            ("beat due -> sent p99 (ms)", "sent_p99_ms", "{:.1f}"),
                            ("post intent committed in p50 (ms)", "intent_p50_ms", "{:.1f}"),
                            ("post intent committed in p99 (ms)", "intent_p99_ms", "{:.1f}"),
                            ("RSS (MB)", "rss_mb", "{:.0f}"),
                            ("resume all (s)", "resume_s", "{:.2f}"),
                            ("every session posted again (s)", "catch_up_s", "{:.2f}"),
                            ("CPU per posted beat (ms)", "cpu_ms", "{:.3f}"),
                            ("  of a core, while playing", "busy", "{:.2f}"),
                            ("discord.py Webhook.send CPU (ms)", "send_ms", "{:.3f}"),
                            ("ratio beat / send  [<= 0.5]", "ratio", "{:.2f}"),
                            ("machine load average (1 min)", "load", "{:.1f}")]:
        print(f"{label:38}" + "".join(fmt.format(rows[c][key]).rjust(16) for c in cols))
    print("targets: 10,000 sessions p99 <= 50 ms, RSS <= 500 MB, resume <= 3 s, start-up <= 10 s, ratio <= 0.5")
    print(f"(this machine has {os.cpu_count()} cores; a load average above that means other work shared them)")


if __name__ == "__main__":
    if "--serve-webhooks" in sys.argv:
        serve_webhooks()
    elif "--send-cpu" in sys.argv:
        print(f"discord.py Webhook.send: {asyncio.run(discord_send_cpu()):.3f} ms CPU per send")
    elif "--column" in sys.argv:
        i = sys.argv.index("--column")
        backend_, count_, seconds_ = sys.argv[i + 1], int(sys.argv[i + 2]), float(sys.argv[i + 3])
        print(json.dumps(asyncio.run(one_column(backend_, count_, seconds_))))
    elif "--sessions" in sys.argv:
        args = sys.argv[1:]

        def opt(name: str, default: str) -> str:
            return args[args.index(name) + 1] if name in args else default

        scale([int(x) for x in opt("--sessions", "1000").split(",")], opt("--backend", "sqlite,postgres").split(","),
              float(opt("--seconds", "20")))
    else:
        asyncio.run(main())
