"""A database that refuses writes (disk full) while stories play: nothing a reader saw is lost or
deleted, moderators are told at once, and no state leaves ▶ and /story resume both doing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.api import Actor, NarratorError, StorageFailed
from bot.engine.narrator import Narrator
from bot.engine.recording import Recorded
from bot.engine.stage import Forbidden
from tests.engine.faults import FailingStore
from tests.engine.helpers import MOD, PLACE, Rig, beats_posted, make_rig

READER = Actor(user_id=50, name="Reader")


async def _faulty(tmp_path: Path, **kw: object) -> tuple[Rig, FailingStore]:
    rig = await make_rig(tmp_path, **kw)
    await rig.narrator.close()
    store = FailingStore(rig.db)
    rig.narrator = Narrator(rig.db, rig.stage, rig.stories, clock=rig.clock, store=store)
    return rig, store


def _deleted(rig: Rig) -> list[Recorded]:
    return [r for r in rig.stage.transcript(PLACE.channel_id, include_deleted=True) if r.deleted]


async def test_resume_after_a_failed_record_keeps_the_delivered_beat_and_its_continue(tmp_path: Path) -> None:
    """The issue's case: the disk fills while beat 1 is in flight, is freed, a moderator resumes."""
    rig, store = await _faulty(tmp_path)
    rig.stage.on_post = lambda rec: store.fail() if rec.beats == (1, 1) else None
    await rig.narrator.start(PLACE, "tale", MOD, mode="manual")
    await rig.advance(10)
    first = rig.stage.posts[-1].message_id
    assert (await rig.narrator.advance(PLACE, READER, message_id=first)).advanced
    await rig.advance(1)
    assert beats_posted(rig.stage) == [0, 1]
    st = await rig.narrator.status(PLACE)
    assert st is not None and st.recording and st.state == "paused" and st.position == 1
    assert "database" in (st.pause_reason or "") and "recorded" in (st.pause_reason or "")
    assert len(rig.stage.notices) == 1  # told while nothing can be saved
    with pytest.raises(StorageFailed):  # never rewound while the record is owed
        await rig.narrator.rewind(PLACE, MOD, beats=1)
    store.heal()
    st = await rig.narrator.resume(PLACE, MOD)
    assert st.state == "waiting" and st.position == 2 and not st.recording
    await rig.advance(30)
    assert beats_posted(rig.stage) == [0, 1] and _deleted(rig) == []
    beat1 = rig.stage.posts[-1]
    assert beat1.beats == (1, 1) and beat1.controls  # the Continue readers need is still there
    assert (await rig.narrator.advance(PLACE, Actor(51, "Other"), message_id=beat1.message_id)).advanced
    await rig.advance(5)
    assert beats_posted(rig.stage) == [0, 1, 2]
    await rig.narrator.close()
    await rig.db.close()


async def test_a_press_during_a_fault_is_refused_aloud_and_the_session_goes_on_by_itself(tmp_path: Path) -> None:
    rig, store = await _faulty(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD, mode="manual")
    await rig.advance(10)
    last = rig.stage.posts[-1].message_id
    store.fail()
    with pytest.raises(StorageFailed):
        await rig.narrator.advance(PLACE, READER, message_id=last)
    await rig.advance(0)
    st = await rig.narrator.status(PLACE)
    assert st is not None and st.state == "paused" and "database" in (st.pause_reason or "")
    assert len(rig.stage.notices) == 1 and "database" in rig.stage.notices[0][1]
    with pytest.raises(NarratorError) as refused:  # not "already playing": it says what is wrong
        await rig.narrator.resume(PLACE, MOD)
    assert "database" in str(refused.value)
    with pytest.raises(StorageFailed):
        await rig.narrator.advance(PLACE, Actor(51, "Other"), message_id=last)
    await rig.advance(120)
    assert beats_posted(rig.stage) == [0] and len(rig.stage.notices) == 1
    store.heal()
    await rig.advance(60)  # back by itself, with one notice
    st = await rig.narrator.status(PLACE)
    assert st is not None and st.state == "waiting" and st.pause_reason is None
    assert len(rig.stage.notices) == 2
    assert (await rig.narrator.advance(PLACE, Actor(52, "Third"), message_id=last)).advanced
    await rig.advance(5)
    assert beats_posted(rig.stage) == [0, 1]
    await rig.narrator.close()
    await rig.db.close()


async def test_auto_session_pauses_on_a_full_disk_and_resumes_when_it_is_freed(tmp_path: Path) -> None:
    rig, store = await _faulty(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(6)
    store.fail()
    await rig.advance(600)
    n = len(beats_posted(rig.stage))
    assert n <= 2 and len(rig.stage.notices) == 1  # at most the beat in flight went out
    st = await rig.narrator.status(PLACE)
    assert st is not None and st.state == "paused"
    store.heal()
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(6)) and _deleted(rig) == []
    st = await rig.narrator.status(PLACE)
    assert st is not None and st.state == "finished" and len(rig.stage.notices) == 2
    await rig.narrator.close()
    await rig.db.close()


async def test_moderators_hear_of_a_stage_refusal_even_when_the_pause_cannot_be_saved(tmp_path: Path) -> None:
    rig, store = await _faulty(tmp_path)
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(6)
    rig.stage.break_channel(PLACE.channel_id, Forbidden("Missing Permissions", fix="Give the bot Manage Webhooks."))
    store.fail("save", "set_post_status")
    await rig.advance(10)
    texts = [t for _, t in rig.stage.notices]
    assert any("Manage Webhooks" in t for t in texts)
    await rig.narrator.close()
    await rig.db.close()


async def test_a_really_locked_database_file_is_a_fault_the_session_rides_out(tmp_path: Path) -> None:
    """No shim: another process holds the write lock, so SQLite itself refuses (after the busy timeout)."""
    import sqlite3

    rig = await make_rig(tmp_path)
    await rig.db.fetchall("PRAGMA busy_timeout = 20")
    await rig.narrator.start(PLACE, "tale", MOD)
    await rig.advance(6)
    assert beats_posted(rig.stage) == [0]
    other = sqlite3.connect(tmp_path / "engine.sqlite3", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    await rig.advance(60)
    st = await rig.narrator.status(PLACE)
    assert st is not None and st.state == "paused" and "locked" in (st.pause_reason or "")
    assert len(rig.stage.notices) == 1 and len(beats_posted(rig.stage)) <= 2
    other.execute("ROLLBACK")
    other.close()
    await rig.advance(600)
    assert beats_posted(rig.stage) == list(range(6)) and _deleted(rig) == []
    assert len(rig.stage.notices) == 2
    await rig.narrator.close()
    await rig.db.close()
