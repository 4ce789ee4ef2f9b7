"""PostgreSQL going away under playing sessions: the group-commit writer's own connection dies
(the server restarted, an administrator ended it) while many sessions post. Nothing a reader saw
is lost or posted twice, and every session plays on to its end."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.engine.stage import Place
from bot.store import pg
from tests.engine import helpers
from tests.engine.helpers import MOD, beats_posted, kinds, make_rig, simple_story


async def test_sessions_ride_out_the_writer_connection_dying_and_post_each_beat_once(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(helpers, "DB_URL", pg_url)
    story = simple_story(scenes=2, beats=4)
    rig = await make_rig(tmp_path, [story])
    db = rig.db
    assert isinstance(db, pg.PgDatabase)
    places = [Place(channel_id=500 + i, guild_id=1) for i in range(8)]
    for place in places:
        await rig.narrator.start(place, "tale", MOD)
    killed: list[int] = []
    failed: list[BaseException] = []
    real = pg._commit_group

    async def dying(conn: Any, group: Any) -> None:
        """Groups 5 and 15 find their connection ended by the server as they are sent."""
        dying.calls += 1  # type: ignore[attr-defined]
        if dying.calls in (5, 15):  # type: ignore[attr-defined]
            killed.append(conn.get_server_pid())
            assert await db.fetchone("SELECT pg_terminate_backend(?)", (killed[-1],))
            for _ in range(200):  # (real time: the server ends it at once)
                if not pg._usable(conn):
                    break
                await asyncio.sleep(0.01)
        try:
            await real(conn, group)
        except BaseException as exc:
            failed.append(exc)
            raise

    dying.calls = 0  # type: ignore[attr-defined]
    monkeypatch.setattr(pg, "_commit_group", dying)
    for _ in range(400):
        await rig.advance(1.0)
        states = [await rig.narrator.status(p) for p in places]
        if all(st is not None and st.state == "finished" for st in states):
            break
    assert len(killed) == 2 and len(failed) == 2  # each of those groups failed whole: nothing was saved
    for place in places:
        assert beats_posted(rig.stage, place.channel_id) == list(range(len(story)))
        assert kinds(rig.stage, place.channel_id).count("closing") == 1
        st = await rig.narrator.status(place)
        assert st is not None and st.state == "finished"
    await rig.narrator.close()
    await db.close()
