"""Build small stories, a narrator on a real SQLite file, a fake clock and a recording stage."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.engine.api import Actor
from bot.engine.budget import EngineLimits
from bot.engine.clock import FakeClock
from bot.engine.narrator import Narrator
from bot.engine.pacing import Pacing
from bot.engine.recording import RecordingStage
from bot.engine.stage import Place
from bot.store import PgDatabase, Store
from bot.store.db import Database
from bot.story.model import Beat, Character, Scene, Story

# Set (by a test module's fixture) to a PostgreSQL URL to run rigs on PostgreSQL instead of SQLite.
DB_URL: str | None = None

MOD = Actor(user_id=1, name="Mod", moderator=True)
PLACE = Place(channel_id=100, guild_id=1)
_QUOTE = re.compile(r"“([^”]*)”|\"([^\"]*)\"|\*([^*]*)\*")

# (kind, text, speaker) per beat, one list per scene.
Spec = Sequence[Sequence[tuple[str, str, str | None]]]


def make_story(spec: Spec, slug: str = "tale", title: str = "A Tale", **kw: object) -> Story:
    text = ""
    scenes = []
    idx = 0
    for si, scene in enumerate(spec):
        beats = []
        for kind, body, speaker in scene:
            start = len(text)
            text += body
            end = len(text)
            text += "\n\n"
            quotes = []
            if kind in ("dialogue", "thought"):
                for m in _QUOTE.finditer(body):
                    g = next(i for i in (1, 2, 3) if m.group(i) is not None)
                    quotes.append((start + m.start(g), start + m.end(g)))
            beats.append(Beat(index=idx, scene=si, kind=kind, text=body, speaker=speaker,  # type: ignore[arg-type]
                              speakers=(speaker,) if speaker else (), source=(start, end), quotes=tuple(quotes)))
            idx += 1
        scenes.append(Scene(index=si, title=None, beats=tuple(beats)))
    chars = (Character(key="gaara", name="Gaara", colour="#aa3322"), Character(key="lee", name="Lee"))
    return Story(slug=slug, title=title, scenes=tuple(scenes), characters=chars, text=text,
                 credit="by Someone", **kw)  # type: ignore[arg-type]


def simple_story(scenes: int = 2, beats: int = 3, slug: str = "tale") -> Story:
    spec = []
    for s in range(scenes):
        sc = []
        for b in range(beats):
            if b % 3 == 1:
                sc.append(("dialogue", f"“Line {s}.{b},” Lee said.", "lee"))
            else:
                sc.append(("narration", f"Scene {s} beat {b} goes on for a few words here.", None))
        spec.append(sc)
    return make_story(spec, slug=slug)


@dataclass
class Rig:
    db: Store
    clock: FakeClock
    stage: RecordingStage
    narrator: Narrator
    stories: dict[str, Story]

    async def advance(self, seconds: float = 0.0) -> None:
        await self.clock.advance(seconds)

    async def reopen(self, **kw: object) -> Narrator:
        """A fresh Narrator on the same database, stage and clock (simulated restart)."""
        await self.narrator.close()
        self.narrator = make_narrator(self, **kw)
        return self.narrator


def make_narrator(rig: Rig, **kw: object) -> Narrator:
    return Narrator(rig.db, rig.stage, rig.stories, clock=rig.clock,
                    **{"limits": EngineLimits(), "pacing": Pacing(), **kw})  # type: ignore[arg-type]


async def make_rig(tmp_path: Path, stories: Sequence[Story] | None = None, **kw: object) -> Rig:
    db: Store = await PgDatabase.open(DB_URL) if DB_URL else await Database.open(tmp_path / "engine.sqlite3")
    await db.migrate()
    clock = FakeClock()
    stage = RecordingStage(clock=clock)
    table = {s.slug: s for s in (stories or [simple_story()])}
    rig = Rig(db, clock, stage, None, table)  # type: ignore[arg-type]
    rig.narrator = make_narrator(rig, **kw)
    return rig


def beats_posted(stage: RecordingStage, channel: int = PLACE.channel_id) -> list[int]:
    out: list[int] = []
    for r in stage.transcript(channel):
        if r.beats:
            out.extend(range(r.beats[0], r.beats[1] + 1))
    return out


def kinds(stage: RecordingStage, channel: int = PLACE.channel_id) -> list[str]:
    return [r.kind for r in stage.transcript(channel)]


async def play_to(rig: Rig, position: int, slug: str = "tale") -> None:
    """Start `slug` in PLACE and let the clock run until `position` beats are posted."""
    await rig.narrator.start(PLACE, slug, MOD)
    for _ in range(200):
        st = await rig.narrator.status(PLACE)
        if st is not None and st.position >= position:
            return
        await rig.advance(0.5)
    raise AssertionError("never got there")
