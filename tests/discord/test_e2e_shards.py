"""Past one process: two real bot processes (shards 0 and 1 of 2) against the emulator and one
PostgreSQL database play stories in servers of both shards at once; one is SIGKILLed mid-story
and restarted: every beat exactly once, in order, in every channel, and the other never stalled."""

from __future__ import annotations

import pytest

from tests.discord.e2e import assert_played_in_order, finished, make_bot, norm, posted, story_root
from tests.discord.stories import short_story
from tests.emulator import Emulator
from tests.emulator.state import EVERYONE_DEFAULT, MANAGE_MESSAGES

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

RATE_SCALE = 0.05
TALE = short_story("tale", beats=30, scenes=3)
SLOW_TIME = 0.02  # auto mode: ~0.04-0.4 s between beats, so a kill lands mid-story


def beats(emu: Emulator, ch: object) -> list[object]:
    return [m for m in posted(emu, ch) if m.webhook_id and not m.embeds]  # type: ignore[arg-type]


async def test_two_shard_processes_on_one_postgres_survive_a_kill(
        emulator: Emulator, tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> None:
    emu = emulator
    emu.ratelimits.scale = RATE_SCALE
    places = {}
    for k in (0, 1):
        guild = emu.add_guild(f"Shard {k} club", shard=(k, 2))
        role = emu.add_role(guild, "Moderators", permissions=EVERYONE_DEFAULT | MANAGE_MESSAGES)
        places[k] = (emu.add_channel(guild, f"tale-{k}"), emu.add_member(guild, f"mod{k}", roles=[role]))
    work = tmp_path_factory.mktemp("shards")
    stories = story_root(work, TALE)
    procs = {k: make_bot(emu, work / f"shard{k}", stories, time_scale=SLOW_TIME, rate_scale=RATE_SCALE,
                         DATABASE_URL=pg_url, SHARD_COUNT="2", SHARD_IDS=str(k)) for k in (0, 1)}

    async def start_shard_1() -> None:
        await procs[1].start(wait_ready=False)
        await emu.wait_for(lambda: 1 in emu.gateway.others and emu.gateway.others[1].ready
                           and "synced" in procs[1].current_log(), 45, what="shard 1's process to connect")

    await procs[0].start()
    try:
        await start_shard_1()
        # Each process hears only its own server's command, and plays it.
        for ch, mod in places.values():
            i = await emu.invoke(mod, ch, "story", subcommand="start",
                                 options={"story": "tale", "mode": "auto", "wpm": 2000})
            await i.wait_reply()
        ch0, ch1 = places[0][0], places[1][0]
        await emu.wait_for(lambda: len(beats(emu, ch1)) >= 6 and len(beats(emu, ch0)) >= 6, 60,
                           what="both stories under way")
        await procs[1].kill()
        at_kill = len(beats(emu, ch0))
        ch1_at_kill = len(beats(emu, ch1))
        assert not finished(emu, ch1)
        # While shard 1's process is down, shard 0's story goes on by itself.
        await emu.wait_for(lambda: len(beats(emu, ch0)) >= at_kill + 3 or finished(emu, ch0), 30,
                           what="shard 0 to keep playing while shard 1 is down")
        crashed_at = len(beats(emu, ch1))
        assert crashed_at == ch1_at_kill  # shard 0's process never plays shard 1's channel
        await start_shard_1()
        assert "resumed 1 session(s)" in procs[1].current_log()
        await emu.wait_for(lambda: finished(emu, ch0) and finished(emu, ch1), 90, what="both stories to finish")
        assert len(beats(emu, ch1)) > crashed_at
        for ch in (ch0, ch1):
            assert_played_in_order(emu, ch, TALE)
            narration = norm(" ".join(m.content for m in beats(emu, ch)))  # type: ignore[attr-defined]
            for b in TALE.iter_playable():
                if b.kind == "narration":
                    assert narration.count(norm(b.text)) == 1, f"beat {b.index} posted twice in {ch.name}"
        assert procs[1].returncodes[0] == -9
        # each process was dealt only its shard's servers
        assert all((g.id >> 22) % 2 == 1 for g in emu.guilds.values() if g.name == "Shard 1 club")
        assert "resumed" not in procs[0].log_text()
    finally:
        for p in procs.values():
            if p.running:
                await p.stop()
    assert not procs[0].secrets_in_log() and not procs[1].secrets_in_log()
