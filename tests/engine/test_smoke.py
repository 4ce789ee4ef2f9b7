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
