from pathlib import Path

import pytest

from bot.engine.api import Actor, NotAllowed
from tests.engine.helpers import MOD, PLACE, beats_posted, kinds, make_rig


async def test_auto_plays_title_beats_and_closing(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    view = await rig.narrator.start(PLACE, "tale", MOD)
    assert view.state == "playing"
    await rig.advance(0)
    assert kinds(rig.stage) == ["title"]
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(6))
    assert kinds(rig.stage)[-1] == "closing"
    st = await rig.narrator.status(PLACE)
    assert st is not None and st.state == "finished"
    await rig.narrator.close()
    await rig.db.close()


async def test_pause_holds_and_resume_continues(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(5)  # title card, then the first beat after first_beat_delay
    assert beats_posted(rig.stage) == [0]
    view = await rig.narrator.pause(PLACE, MOD)
    assert view.state == "paused" and view.pause_reason
    await rig.advance(300)
    assert beats_posted(rig.stage) == [0]
    view = await rig.narrator.resume(PLACE, MOD)
    assert view.state == "playing"
    await rig.advance(2)
    assert beats_posted(rig.stage) == [0, 1]
    await rig.narrator.close()
    await rig.db.close()


async def test_manual_mode_waits_for_a_reader(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    reader = Actor(user_id=7, name="Reader")
    await rig.narrator.start(PLACE, "tale", MOD, mode="manual")
    await rig.advance(10)
    assert beats_posted(rig.stage) == [0]
    st = await rig.narrator.status(PLACE)
    assert st is not None and st.state == "waiting"
    await rig.advance(300)
    assert beats_posted(rig.stage) == [0]
    res = await rig.narrator.advance(PLACE, reader)
    assert res.advanced
    await rig.advance(0)
    assert beats_posted(rig.stage) == [0, 1]
    with pytest.raises(NotAllowed):
        await rig.narrator.pause(PLACE, reader)
    await rig.narrator.close()
    await rig.db.close()


async def test_start_refusals_and_lookups(tmp_path: Path) -> None:
    from bot.engine.api import SessionExists, UnknownStory

    rig = await make_rig(tmp_path)
    n = rig.narrator
    assert await n.status(PLACE) is None
    with pytest.raises(UnknownStory, match="no story called “nope”"):
        await n.start(PLACE, "nope", MOD)
    with pytest.raises(NotAllowed, match="between 60 and 1000"):
        await n.start(PLACE, "tale", MOD, wpm=5)
    view = await n.start(PLACE, "tale", MOD, wpm=250)
    assert (view.story_title, view.wpm, view.beat_count, view.scene_count, view.started_by) == ("A Tale", 250, 6, 2, 1)
    with pytest.raises(SessionExists):
        await n.start(PLACE, "tale", MOD)
    await rig.advance(0)
    title_id = rig.stage.posts[0].message_id
    found = await n.session_for_message(title_id)
    assert found is not None and found.session_id == view.session_id
    assert await n.session_for_message(424242) is None
    await n.set_pace(PLACE, MOD, wpm=300, mode="manual")
    log = await n.audit_log(PLACE)
    assert [(e.action, e.detail) for e in log[-2:]] == [("set_pace", "250 -> 300 wpm"), ("set_mode", "auto -> manual")]
    with pytest.raises(NotAllowed):
        await n.set_pace(PLACE, MOD)
    await n.close()
    await rig.db.close()


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD, wpm=180)
    await rig.advance(5)
    await rig.narrator.pause(PLACE, MOD)
    n = await rig.reopen()
    assert await n.resume_all() == 0  # paused sessions stay paused
    st = await n.status(PLACE)
    assert st is not None and (st.state, st.position, st.wpm) == ("paused", 1, 180)
    await n.resume(PLACE, MOD)
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(6)) and kinds(rig.stage).count("title") == 1
    await n.close()
    await rig.db.close()
