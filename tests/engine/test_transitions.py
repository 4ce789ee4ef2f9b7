"""Every state × command: the table itself, and the narrator obeying it end to end."""

from pathlib import Path

import pytest

from bot.engine.api import STATES, Actor, NarratorError, NotAllowed, SessionExists
from bot.engine.session import COMMANDS, TABLE, Refuse, transition
from bot.engine.stage import Place
from tests.engine.helpers import MOD, Rig, make_rig

X = "refuse"
M = "by-mode"  # playing in auto mode, waiting in manual/vote
# Written out independently of bot/engine/session.py on purpose.
EXPECTED: dict[str, dict[str, str]] = {
    "playing": dict(start=X, pause="paused", resume=X, next="playing", advance="playing", rewind="playing",
                    jump="playing", stop="stopped", restart="playing", set_pace="playing", set_mode="playing",
                    beat_posted=M, scene_end=M, finish="finished", fail="paused"),
    "waiting": dict(start=X, pause="paused", resume=X, next="playing", advance="playing", rewind="playing",
                    jump="playing", stop="stopped", restart="playing", set_pace="waiting", set_mode=M,
                    beat_posted=X, scene_end=X, finish=X, fail="paused"),
    "paused": dict(start=X, pause=X, resume=M, next=X, advance=X, rewind="paused", jump="paused",
                   stop="stopped", restart="playing", set_pace="paused", set_mode="paused",
                   beat_posted=X, scene_end=X, finish=X, fail="paused"),
    "finished": dict(start="playing", pause=X, resume=X, next=X, advance=X, rewind="paused", jump="paused",
                     stop=X, restart="playing", set_pace=X, set_mode=X, beat_posted=X, scene_end=X,
                     finish=X, fail=X),
    "stopped": dict(start="playing", pause=X, resume=X, next=X, advance=X, rewind=X, jump=X, stop=X,
                    restart="playing", set_pace=X, set_mode=X, beat_posted=X, scene_end=X, finish=X, fail=X),
}


def test_table_covers_every_state_and_command() -> None:
    assert set(TABLE) == {(s, c) for s in STATES for c in COMMANDS}
    assert set(EXPECTED) == set(STATES)
    assert all(set(row) == set(COMMANDS) for row in EXPECTED.values())


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("mode", ["auto", "manual"])
def test_transition(state: str, command: str, mode: str) -> None:
    want = EXPECTED[state][command]
    if want == X:
        with pytest.raises(NarratorError) as info:
            transition(state, command, mode)  # type: ignore[arg-type]
        msg = str(info.value)
        assert msg.endswith(".") and len(msg) < 120, "refusals are one short sentence"
        if command == "start":
            assert isinstance(info.value, SessionExists)
        return
    expected = ("playing" if mode == "auto" else "waiting") if want == M else want
    assert transition(state, command, mode) == expected  # type: ignore[arg-type]


def test_refusals_carry_a_user_facing_sentence() -> None:
    for outcome in TABLE.values():
        if isinstance(outcome, Refuse):
            assert outcome.message[0].isupper() and outcome.message.endswith(".")


# ---- the same table, end to end through the Narrator --------------------------------------------
USER_COMMANDS = ["start", "pause", "resume", "next", "advance", "rewind", "jump", "stop", "restart",
                 "set_pace", "set_mode"]
READER = Actor(user_id=55, name="Reader")


async def _into(rig: Rig, place: Place, state: str) -> str:
    """Drive a session in `place` into `state`; returns its mode."""
    n = rig.narrator
    if state == "playing":
        await n.start(place, "tale", MOD, mode="manual")  # title card due, nothing posted yet
        return "manual"
    if state == "waiting":
        await n.start(place, "tale", MOD, mode="manual")
        await rig.advance(10)
        return "manual"
    if state == "paused":
        await n.start(place, "tale", MOD)
        await rig.advance(10)
        await n.pause(place, MOD)
        return "auto"
    if state == "finished":
        await n.start(place, "tale", MOD)
        await rig.advance(1000)
        return "auto"
    await n.start(place, "tale", MOD)
    await n.stop(place, MOD)
    return "auto"


async def _apply(rig: Rig, place: Place, command: str, mode: str) -> None:
    n = rig.narrator
    if command == "start":
        await n.start(place, "tale", MOD)
    elif command == "advance":
        await n.advance(place, READER)
    elif command == "rewind":
        await n.rewind(place, MOD, beats=1)
    elif command == "jump":
        await n.jump(place, MOD, 1)
    elif command == "set_pace":
        await n.set_pace(place, MOD, wpm=250)
    elif command == "set_mode":
        await n.set_pace(place, MOD, mode="vote" if mode == "auto" else "auto")
    else:
        await getattr(n, command)(place, MOD)


async def test_narrator_follows_the_table(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    channel = 1000
    for state in STATES:
        for command in USER_COMMANDS:
            channel += 1
            place = Place(channel_id=channel, guild_id=1)
            mode = await _into(rig, place, state)
            before = await rig.narrator.status(place)
            assert before is not None and before.state == state, (state, command)
            want = EXPECTED[state][command]
            if want == X:
                with pytest.raises(NarratorError):
                    await _apply(rig, place, command, mode)
                after = await rig.narrator.status(place)
                assert after is not None and after.state == state, f"{state} {command} refused but changed"
                continue
            await _apply(rig, place, command, mode)
            after = await rig.narrator.status(place)
            new_mode = ("vote" if mode == "auto" else "auto") if command == "set_mode" else mode
            expected = ("playing" if new_mode == "auto" else "waiting") if want == M else want
            assert after is not None and after.state == expected, (state, command, after.state)
            if command not in ("start", "advance"):  # readers' ▶ presses are not moderator actions
                log = await rig.narrator.audit_log(place)
                assert log[-1].action == command and log[-1].actor_id == MOD.user_id
    await rig.narrator.close()
    await rig.db.close()


async def test_readers_cannot_run_moderator_commands(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    place = Place(channel_id=5)
    with pytest.raises(NotAllowed, match="moderators"):
        await rig.narrator.start(place, "tale", READER)
    await rig.narrator.start(place, "tale", MOD)
    for cmd in ("pause", "stop", "restart", "next"):
        with pytest.raises(NotAllowed, match="moderators"):
            await getattr(rig.narrator, cmd)(place, READER)
    await rig.narrator.close()
    await rig.db.close()
