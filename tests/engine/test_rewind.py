"""Rewind and jump: position, state, audit, and fixing the channel (delete / mark / none)."""

from pathlib import Path

import pytest

from bot.engine.api import NotAllowed
from tests.engine.helpers import (
    MOD,
    PLACE,
    beats_posted,
    make_narrator,
    make_rig,
    make_story,
    play_to,
    simple_story,
)


async def test_rewind_deletes_later_messages_and_replays(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, [simple_story(scenes=2, beats=4)], tidy="delete")
    await play_to(rig, 5)
    view = await rig.narrator.rewind(PLACE, MOD, beats=2)
    assert view.position == 3 and view.state == "playing"
    await rig.advance(0)
    gone = [r for r in rig.stage.transcript(PLACE.channel_id, include_deleted=True) if r.deleted]
    assert sorted(r.beats[0] for r in gone if r.beats) == [3, 4]
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(8))  # visible transcript: each beat once, in order
    log = await rig.narrator.audit_log(PLACE)
    rew = [e for e in log if e.action == "rewind"]
    assert len(rew) == 1 and (rew[0].from_beat, rew[0].to_beat) == (5, 3) and rew[0].actor_id == MOD.user_id
    await rig.narrator.close()
    await rig.db.close()


async def test_rewind_marks_instead_of_deleting(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, [simple_story(scenes=2, beats=4)], tidy="mark")
    await play_to(rig, 5)
    await rig.narrator.rewind(PLACE, MOD, beats=2)
    await rig.advance(0)
    everything = rig.stage.transcript(PLACE.channel_id)
    marked = [r for r in everything if r.edited]
    assert sorted(r.beats[0] for r in marked if r.beats) == [3, 4]
    assert all("rewound" in (r.edited or "") for r in marked) and not any(r.deleted for r in everything)
    await rig.narrator.close()
    await rig.db.close()


async def test_rewind_without_fixing_the_channel(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, [simple_story(scenes=2, beats=4)], tidy="none")
    await play_to(rig, 5)
    await rig.narrator.rewind(PLACE, MOD, beats=2)
    await rig.advance(600)
    assert not any(r.edited or r.deleted for r in rig.stage.posts)
    assert beats_posted(rig.stage) == [0, 1, 2, 3, 4, 3, 4, 5, 6, 7]
    await rig.narrator.close()
    await rig.db.close()


async def test_rewind_to_scene_starts_and_jump(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, [simple_story(scenes=3, beats=3)])
    await play_to(rig, 5)  # beats 0-4 shown: the last one (4) is in scene 2
    await rig.narrator.pause(PLACE, MOD)
    v = await rig.narrator.rewind(PLACE, MOD, scene="current")
    assert v.position == 3 and v.state == "paused"
    v = await rig.narrator.rewind(PLACE, MOD, scene="previous")
    assert v.position == 0
    v = await rig.narrator.jump(PLACE, MOD, 3)
    assert v.position == 6 and v.state == "paused"
    with pytest.raises(NotAllowed, match="from 1 to 3"):
        await rig.narrator.jump(PLACE, MOD, 4)
    await rig.narrator.resume(PLACE, MOD)
    await rig.advance(600)
    assert beats_posted(rig.stage)[-3:] == [6, 7, 8]
    st = await rig.narrator.status(PLACE)
    assert st is not None and st.state == "finished"
    await rig.narrator.close()
    await rig.db.close()


async def test_rewind_a_finished_story_reopens_it_paused(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, tidy="delete")
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(1000)
    v = await rig.narrator.rewind(PLACE, MOD, beats=1)
    assert v.state == "paused" and v.position == 5
    await rig.advance(0)
    closing = [r for r in rig.stage.transcript(PLACE.channel_id, include_deleted=True) if r.kind == "closing"]
    assert closing and closing[0].deleted
    await rig.narrator.resume(PLACE, MOD)
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(6))
    assert [r.kind for r in rig.stage.transcript(PLACE.channel_id)][-1] == "closing"
    await rig.narrator.close()
    await rig.db.close()


async def test_recap_lists_the_current_scene_so_far(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, [simple_story(scenes=2, beats=4)])
    await play_to(rig, 6)
    assert await rig.narrator.recap(PLACE) == [4, 5]
    await rig.narrator.close()
    await rig.db.close()


async def test_restart_plays_again_from_the_title(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(1000)
    v = await rig.narrator.restart(PLACE, MOD)
    assert v.state == "playing" and v.position == 0
    await rig.advance(1000)
    assert [r.kind for r in rig.stage.transcript(PLACE.channel_id)].count("title") == 2
    assert beats_posted(rig.stage) == list(range(6)) * 2
    await rig.narrator.close()
    await rig.db.close()


async def test_rewind_into_a_merged_message_goes_back_to_its_start(tmp_path: Path) -> None:
    from bot.engine.budget import EngineLimits
    from bot.engine.pacing import Pacing

    words = " ".join(["sand"] * 38)
    story = make_story([[("narration", f"Narration number {i}: {words}.", None) for i in range(30)]])
    limits = EngineLimits(webhook_posts=1, webhook_window=2.0)  # one post per 2 s
    rig = await make_rig(tmp_path, [story], limits=limits, pacing=Pacing.instant(), tidy="delete")
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(4.5)  # title, then merged catch-up posts (the schedule runs ahead of the limit)
    merged = [r for r in rig.stage.posts if r.beats and r.beats[1] > r.beats[0]]
    assert merged
    await rig.narrator.pause(PLACE, MOD)
    last = rig.stage.transcript(PLACE.channel_id)[-1]
    assert last.beats is not None and last.beats[1] > last.beats[0]
    v = await rig.narrator.rewind(PLACE, MOD, beats=1)  # lands inside that merged message
    assert v.position == last.beats[0]
    await rig.narrator.resume(PLACE, MOD)
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(30))
    await rig.narrator.close()
    await rig.db.close()


@pytest.mark.parametrize("state_after", ["playing", "paused"])
async def test_tidy_up_interrupted_by_a_crash_finishes_on_start(tmp_path: Path, state_after: str) -> None:
    rig = await make_rig(tmp_path, [simple_story(scenes=2, beats=4)], tidy="delete")
    await play_to(rig, 5)
    if state_after == "paused":
        await rig.narrator.pause(PLACE, MOD)
    await rig.narrator.rewind(PLACE, MOD, beats=3)  # takes back beats 2, 3, 4 ...
    await rig.narrator.close()  # ... but the bot stops before deleting anything
    assert not any(r.deleted for r in rig.stage.posts)
    n = await rig.reopen()
    await n.resume_all()
    if state_after == "paused":
        assert await n.status(PLACE) is not None  # loading the session finishes the tidy-up
    await rig.advance(0)
    gone = sorted(r.beats[0] for r in rig.stage.posts if r.deleted and r.beats)
    assert gone == [2, 3, 4]
    if state_after == "paused":
        await n.resume(PLACE, MOD)
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(8))
    assert sorted(r.beats[0] for r in rig.stage.posts if r.deleted and r.beats) == [2, 3, 4]  # nothing more
    await n.close()
    await rig.db.close()


async def test_restart_keeps_the_previous_run_in_the_channel(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, tidy="delete")
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(1000)
    await rig.narrator.restart(PLACE, MOD)
    await rig.advance(8)
    await rig.narrator.rewind(PLACE, MOD, beats=1)
    n = await rig.reopen()  # a fresh load must not mistake the first run for rewound messages
    await n.resume_all()
    await rig.advance(1000)
    first_run = [r for r in rig.stage.posts[:8]]
    assert not any(r.deleted for r in first_run)
    assert beats_posted(rig.stage) == list(range(6)) * 2
    await n.close()
    await rig.db.close()


def _long_story():  # type: ignore[no-untyped-def]
    huge = " ".join(f"Sentence number {i} goes on." for i in range(150))  # ~4,200 chars: 3 messages
    return make_story([[("narration", "Short opening.", None), ("narration", huge, None),
                        ("narration", "After it.", None), ("narration", "And more.", None)]])


@pytest.mark.parametrize("fix", ["delete", "mark"])
@pytest.mark.parametrize("crash", [False, True])
async def test_every_part_of_a_split_beat_is_taken_back_after_a_restart(tmp_path: Path, fix: str,
                                                                        crash: bool) -> None:
    from bot.engine.narrator import Narrator
    from bot.engine.recording import RecordingStage
    from tests.engine.test_exactly_once import CrashingStage

    rig = await make_rig(tmp_path, [_long_story()], tidy=fix)
    await rig.narrator.close()
    rig.stage = RecordingStage(clock=rig.clock, split_at=2000)
    if crash:  # killed between the stage call and the record: reconciling must find all 3 parts
        crashing = CrashingStage(rig.stage)
        crashing.crash_at, crashing.when = 3, "after"  # title, beat 0, then the long beat 1
        rig.narrator = Narrator(rig.db, crashing, rig.stories, clock=rig.clock, tidy=fix)  # type: ignore[arg-type]
        await rig.narrator.start(PLACE, "tale", MOD)
        await rig.advance(30)
        assert rig.narrator.stats.posts == 2
    else:
        rig.narrator = make_narrator(rig, tidy=fix)
        await play_to(rig, 3)
    parts = [r for r in rig.stage.posts if r.beats == (1, 1)]
    assert len(parts) == 3
    n = await rig.reopen(tidy=fix)  # restart: nothing in memory knows the parts
    await n.resume_all()
    if crash:
        await rig.advance(0)
        assert n.stats.reconciled == 1
        await _wait_position(rig, 3)
    await n.rewind(PLACE, MOD, beats=10)
    await rig.advance(0)
    if fix == "delete":
        assert all(r.deleted for r in parts)
    else:
        assert all(r.edited and "rewound" in r.edited and not r.deleted for r in parts)
    assert [r.beats for r in rig.stage.transcript(PLACE.channel_id)].count((1, 1)) == (0 if fix == "delete" else 3)
    await n.close()
    await rig.db.close()


async def _wait_position(rig, position: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        st = await rig.narrator.status(PLACE)
        if st.position >= position:
            return
        await rig.advance(0.5)
    raise AssertionError("never got there")


async def test_scene_headings_on_the_first_beat_of_a_scene_and_after_jump_or_rewind(tmp_path: Path) -> None:
    import dataclasses

    base = simple_story(scenes=3, beats=3)
    titled = dataclasses.replace(base, scenes=(base.scenes[0], dataclasses.replace(base.scenes[1], title="The Hospital"),
                                               base.scenes[2]))
    rig = await make_rig(tmp_path, [titled])
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(600)
    heads = [(c.beats, c.heading) for c in rig.stage.cues if c.heading]
    assert heads == [((3, 3), "Scene 2 — The Hospital"), ((6, 6), "Scene 3")]  # untitled scene 1: none
    assert rig.stage.transcript(PLACE.channel_id)[4].content.startswith("### Scene 2 — The Hospital\n")
    await rig.narrator.jump(PLACE, MOD, 3)
    await rig.narrator.resume(PLACE, MOD)
    await rig.advance(5)
    assert rig.stage.cues[-1].beats == (6, 6) and rig.stage.cues[-1].heading == "Scene 3"
    await rig.narrator.rewind(PLACE, MOD, scene="previous")
    await rig.advance(5)
    assert rig.stage.cues[-1].beats == (3, 3) and rig.stage.cues[-1].heading == "Scene 2 — The Hospital"
    await rig.narrator.close()
    await rig.db.close()


def test_terminal_stage_prints_the_heading_as_a_rule() -> None:
    import asyncio
    import io

    from bot.engine.stage import Cue, Voice
    from bot.engine.terminal import TerminalStage

    out = io.StringIO()
    stage = TerminalStage(out, colour=False, width=60)
    asyncio.run(stage.post(PLACE, Cue(kind="narration", voice=Voice("Narrator"), text="Sand.", heading="Scene 2")))
    first = out.getvalue().splitlines()[0]
    assert " Scene 2 " in first and first.startswith("────") and len(first) == 60
