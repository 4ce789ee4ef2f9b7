"""Child process for the crash test: plays three sessions against a file-backed RecordingStage.

    python -m tests.engine.crash_child DB_PATH STAGE_FILE BEATS

Prints one line per delivered post (after the stage wrote it, before the database recorded it,
the most dangerous moment to die), then waits for a line on stdin; prints "DONE" when every
session has finished. The parent kills it with SIGKILL at random moments and starts it again
until it says DONE.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot.engine.api import Actor
from bot.engine.budget import EngineLimits
from bot.engine.clock import SystemClock
from bot.engine.narrator import Narrator
from bot.engine.pacing import Pacing
from bot.engine.recording import Recorded, RecordingStage
from bot.engine.stage import Place
from bot.store.db import Database
from bot.story.model import Beat, Scene, Story

PLACES = (Place(channel_id=1, guild_id=9), Place(channel_id=2, guild_id=9),
          Place(channel_id=3, guild_id=9, parent_id=1))
FAST = Pacing(base=0.0, min_delay=0.001, max_delay=0.003, breather=0.002, first_beat_delay=0.001,
              resume_delay=0.0, typing_words=10**9, press_cooldown=0.0)


def crash_story(beats: int) -> Story:
    scenes = []
    idx = 0
    per = max(1, beats // 3)
    for s in range(3):
        bs = []
        for _ in range(per):
            if idx % 4 == 2:
                body = f"“Line number {idx}, said twice: {idx}.”"
                bs.append(Beat(idx, s, "dialogue", body, speaker="lee", speakers=("lee",),
                               quotes=((1, len(body) - 1),)))
            else:
                bs.append(Beat(idx, s, "narration", f"Beat {idx} of scene {s}: the sand moves."))
            idx += 1
        scenes.append(Scene(s, None, tuple(bs)))
    return Story(slug="crash", title="Crash Test", scenes=tuple(scenes))


async def main(db_path: Path, stage_file: Path, beats: int) -> int:
    def said(rec: Recorded) -> None:
        # Report the delivery, then wait for the parent's go-ahead: the parent decides whether we
        # die right here (delivered, not yet recorded) or a moment later, somewhere else.
        sys.stdout.write(f"POSTED {rec.channel_id} {rec.kind} {rec.beats}\n")
        sys.stdout.flush()
        sys.stdin.readline()

    db = await Database.open(db_path)
    await db.migrate()
    stage = RecordingStage(path=stage_file, clock=SystemClock(), on_post=said)
    narrator = Narrator(db, stage, {"crash": crash_story(beats)}, clock=SystemClock(),
                        limits=EngineLimits.unlimited(), pacing=FAST)
    mod = Actor(user_id=1, name="mod", moderator=True)
    await narrator.resume_all()
    for place in PLACES:
        if await narrator.status(place) is None:
            await narrator.start(place, "crash", mod)
    for place in PLACES:
        await narrator.wait_for_state(place, ("finished",))
    await narrator.close()
    await db.close()
    stage.close()
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))))
