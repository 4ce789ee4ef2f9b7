"""`narrator demo [STORY] [--wpm N] [--manual] [--instant]`: play a story in the terminal.

Uses the real narrator and the real database (DATABASE_PATH) with the terminal stage, in a fixed
pretend channel, so progress is saved exactly as on Discord: Ctrl-C pauses and saves, running
the command again resumes where it stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from typing import Any

from bot.cli import CliError
from bot.config import Settings

DEMO_CHANNEL = 1  # the pretend channel the terminal demo plays in (never a real Discord id)
DEFAULT_STORY = "precious-person"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo", help="play a story in the terminal, no Discord needed",
        description="Play a story in the terminal with the real narrator and database. Ctrl-C pauses "
                    "and saves; run the command again to resume where you left off.")
    p.add_argument("story", nargs="?", default=None,
                   help=f"story slug from STORY_DIR (default: {DEFAULT_STORY}, or the only story there)")
    p.add_argument("--wpm", type=int, default=None, help="reading speed in words per minute (default 200)")
    p.add_argument("--manual", action="store_true", help="wait for Enter before each beat")
    p.add_argument("--instant", action="store_true", help="no delays at all (previews and tests)")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.story.library import load_library

    library = load_library(settings.story_dir)
    slug = args.story
    if slug is None:
        # A story paused in the demo's channel comes first: `narrator demo` resumes it.
        slug = asyncio.run(_paused_story(settings)) or (
            DEFAULT_STORY if DEFAULT_STORY in library.stories or len(library.stories) != 1
            else next(iter(library.stories)))
    if library.get(slug) is None:
        problems = [e for e in library.errors if f"/{slug}/" in e or f"/{slug}:" in e or e.startswith(slug)]
        have = ", ".join(library.slugs()) or "none"
        msg = f"no playable story '{slug}' in {settings.story_dir} (stories there: {have})"
        if problems:
            msg += "; " + problems[0]
        else:
            msg += "; import one with `narrator import FILE --slug NAME`"
        raise CliError(msg)
    if args.wpm is not None and not 60 <= args.wpm <= 1000:
        raise CliError(f"--wpm must be between 60 and 1000 (got {args.wpm})")
    try:
        return asyncio.run(_play(args, settings, library, slug))
    except BrokenPipeError:  # output piped into `head` and closed: progress is saved, leave quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


async def _paused_story(settings: Settings) -> str | None:
    """The story left playing or paused in the demo's channel, if any."""
    from bot.store import Database, MigrationError, StoreError
    from bot.store.sessions import SessionStore

    if not settings.database_path.exists():
        return None
    try:
        async with await Database.open(settings.database_path) as db:
            await db.migrate()
            row = await SessionStore(db).latest_for_channel(DEMO_CHANNEL)
    except (StoreError, MigrationError) as exc:
        raise CliError(str(exc)) from exc
    if row is None or row.state not in ("playing", "waiting", "paused"):
        return None
    return row.story_slug


def resume_command(slug: str, *, manual: bool) -> str:
    """The command that resumes exactly this story, the way it was being played."""
    return f"narrator demo {slug}" + (" --manual" if manual else "")


async def _play(args: argparse.Namespace, settings: Settings, library: Any, slug: str) -> int:
    from bot.engine.api import Actor, SessionView
    from bot.engine.budget import EngineLimits
    from bot.engine.narrator import Narrator
    from bot.engine.pacing import Pacing
    from bot.engine.stage import Place
    from bot.engine.terminal import TerminalStage
    from bot.store import Database, MigrationError, StoreError

    logging.getLogger("bot.engine").setLevel(logging.ERROR)  # the terminal is the show, not the log
    place = Place(channel_id=DEMO_CHANNEL)
    actor = Actor(user_id=0, name="the terminal", moderator=True)
    mode = "manual" if args.manual else "auto"
    try:
        db = await Database.open(settings.database_path)
        await db.migrate()
    except (StoreError, MigrationError) as exc:
        raise CliError(str(exc)) from exc
    stage = TerminalStage(sys.stdout)
    narrator = Narrator(db, stage, library, pacing=Pacing.instant() if args.instant else Pacing(),
                        limits=EngineLimits.unlimited())

    def where(v: SessionView) -> str:
        story = library.get(v.story_slug)
        if story is None or v.position >= v.beat_count:
            return f"the end of “{v.story_title}”"
        beat = story.beat(v.position)
        in_scene = v.position - story.scenes[beat.scene].first_beat + 1
        return f"scene {beat.scene + 1}, beat {in_scene}"

    interrupted = asyncio.Event()
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, interrupted.set)
    try:
        view = await narrator.resume_session(place)
        if view is not None and view.state in ("playing", "waiting", "paused") and view.story_slug != slug:
            print(f"(Stopping “{view.story_title}” at {where(view)} to play “{library.get(slug).title}”.)")
            await narrator.stop(place, actor)
            view = None
        if view is not None and view.state in ("playing", "waiting", "paused"):
            print(f"Resuming at {where(view)}.\n", flush=True)
            if view.state == "paused":
                view = await narrator.resume(place, actor)
            if view.mode != mode or (args.wpm is not None and args.wpm != view.wpm):
                view = await narrator.set_pace(place, actor, wpm=args.wpm, mode=mode)  # type: ignore[arg-type]
        else:
            view = await narrator.start(place, slug, actor, mode=mode, wpm=args.wpm)  # type: ignore[arg-type]
            how = "press Enter for each beat" if args.manual else f"{view.wpm} words per minute"
            print(f"Playing “{view.story_title}” ({how}). Ctrl-C pauses; run again to resume.\n", flush=True)

        lines: asyncio.Queue[str | None] = asyncio.Queue()
        if args.manual:
            def read_stdin() -> None:
                for line in sys.stdin:
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                loop.call_soon_threadsafe(lines.put_nowait, None)

            threading.Thread(target=read_stdin, name="demo-stdin", daemon=True).start()

        async def presses() -> None:
            """Each Enter moves on by one beat, in order (presses made early wait their turn)."""
            while True:
                line = await lines.get()
                if line is None:
                    print("(No more input; pausing.)", flush=True)
                    return
                st = await narrator.wait_for_state(place, ("waiting", "finished", "stopped", "paused"))
                if st.state != "waiting":
                    return
                await narrator.next(place, actor)

        ended = asyncio.ensure_future(narrator.wait_for_state(place, ("finished", "stopped", "paused")))
        stop = asyncio.ensure_future(interrupted.wait())
        reader = asyncio.ensure_future(presses()) if args.manual else None
        waits = {ended, stop} | ({reader} if reader else set())
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        if reader is not None and reader not in done:
            reader.cancel()
        if ended in done:
            final = ended.result()
            if final.state == "finished":
                print("(The end. Run the demo again to start over.)")
            elif final.state == "paused":
                print(f"(Paused: {final.pause_reason})")
            return 0
        ended.cancel()
        stop.cancel()
        st = await narrator.status(place)
        if st is not None and st.state in ("playing", "waiting"):
            st = await narrator.pause(place, actor)
            print(f"\n(Paused at {where(st)}. Run `{resume_command(slug, manual=args.manual)}` to resume.)",
                  flush=True)
        return 0
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
        await narrator.close()
        await db.close()
