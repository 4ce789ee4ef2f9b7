"""The players of one narrator, keyed by channel (one live session per channel or thread).

Players are loaded from the database on first use; `close()` lets every player's task finish its
post in flight (or cancels it after a grace period) — the keyed-scheduler shape of
python-discord's bot-core `Scheduler`, with each task owned by its `SessionPlayer`.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

from bot.engine.backstage import Backstage
from bot.engine.player import SessionPlayer
from bot.engine.stage import Place
from bot.store.sessions import PostSummary, SessionRow
from bot.story.model import Story

CLOSE_GRACE = 10.0  # seconds players get at shutdown to record the post in flight
FREEZE_FROM = 1000  # players: from this many on, `gc.freeze()` at each doubling (see `adopt`)
# The cyclic collector's young generation from then on (Python's default: 700 allocations). With
# thousands of sessions, each beat's objects (its cue, timer handles, the saved row, the store's
# futures) live for a beat, a few seconds: at 700 they were promoted to the old generation, which
# then filled with them and had full passes over every live object several times a second
# (0.2-0.3 s each at 10,000 sessions: the timers' p99 lateness). At 20,000 they die young.
YOUNG_GENERATION = 20_000


class PlayerRegistry:
    def __init__(self, backstage: Backstage, story: Callable[[str], Story | None]) -> None:
        self.bs = backstage
        self._story = story
        self._players: dict[int, SessionPlayer] = {}
        self._by_session: dict[int, SessionPlayer] = {}
        self._loading: dict[int, asyncio.Event] = {}  # channels being loaded
        self._freeze_at = FREEZE_FROM

    def loaded(self, channel_id: int) -> SessionPlayer | None:
        return self._players.get(channel_id)

    def by_session(self, session_id: int) -> SessionPlayer | None:
        p = self._by_session.get(session_id)
        return p if p is not None and self._players.get(p.place.channel_id) is p else None

    def adopt(self, row: SessionRow, summary: PostSummary | None) -> SessionPlayer:
        """A player for `row`, replacing (and stopping) whatever played in its channel before."""
        place = Place(channel_id=row.channel_id, guild_id=row.guild_id, parent_id=row.parent_id)
        story = self._story(row.story_slug)
        player = SessionPlayer(self.bs, row, place, story, self._story)
        if summary is not None:
            player.seq = summary.max_seq
            player.last_message_id = summary.last_message_id
            player.unresolved = summary.unresolved
        if story is not None and row.position > len(story):
            row.position = len(story)
        old = self._players.get(row.channel_id)
        if old is not None:
            old.cancel()
            if self._by_session.get(old.row.id) is old:
                del self._by_session[old.row.id]
        self._players[row.channel_id] = player
        self._by_session[row.id] = player
        if len(self._players) >= self._freeze_at:
            self._freeze_at = 2 * len(self._players)
            # Thousands of players are long-lived objects the cyclic garbage collector would walk on
            # every full pass (130 ms at 3,000 sessions, a pause every session's timer feels): move
            # what exists now out of its reach, once per doubling.
            gc.freeze()
            young, middle, eldest = gc.get_threshold()
            gc.set_threshold(max(young, YOUNG_GENERATION), middle, eldest)
        return player

    async def load(self, place: Place, *, live_only: bool = False) -> SessionPlayer | None:
        """The player of the session in `place` (the live one, else the latest ended one;
        `live_only`: only a live one, which one index lookup finds)."""
        player = self._players.get(place.channel_id)
        if player is not None:
            return player
        channel = place.channel_id
        # One load per channel at a time; loads of different channels run side by side (10,000
        # sessions started at once must not queue behind each other's queries).
        while (busy := self._loading.get(channel)) is not None:
            await busy.wait()
            player = self._players.get(channel)
            if player is not None:
                return player
        done = self._loading[channel] = asyncio.Event()
        try:
            return await self._load(channel, live_only)
        finally:
            del self._loading[channel]
            done.set()

    async def _load(self, channel: int, live_only: bool) -> SessionPlayer | None:
        store = self.bs.store
        row = await (store.live_for_channel(channel) if live_only else store.latest_for_channel(channel))
        if row is None:
            return None
        summary = (await store.post_summaries([row.id])).get(row.id)
        player = self.adopt(row, summary)
        if row.state == "waiting" and row.mode == "vote":
            player.votes.position = row.position
            player.votes.voters = await store.voters(row.id, row.position)
        await player.load_tidying()
        if player.tidying:
            player.spawn()
        return player

    def is_idle(self) -> bool:
        """True when every player's task is parked on a timer, a vote or the rate budget."""
        return not self.bs.awake

    async def close(self) -> None:
        self.bs.closing = True
        for p in self._players.values():
            p.wake()
        tasks = [p.task for p in self._players.values() if p.task is not None and not p.task.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=CLOSE_GRACE)
            for t in pending:
                t.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        self.bs.gate.close()
