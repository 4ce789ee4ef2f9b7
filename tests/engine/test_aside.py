"""An /ask answer (an aside) is posted under the session's lock and never after a rewind below it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.engine.api import NotAllowed
from tests.engine.helpers import MOD, PLACE, make_rig, play_to, simple_story


async def test_an_answer_composed_before_a_rewind_is_not_posted(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, [simple_story(scenes=2, beats=4)], tidy="delete")
    await play_to(rig, 5)
    upto = (await rig.narrator.status(PLACE)).position - 1  # what the answer may quote
    await rig.narrator.rewind(PLACE, MOD, beats=3)
    posted: list[int] = []

    async def post() -> str:
        posted.append("answer")
        return "answer"

    with pytest.raises(NotAllowed, match="taken back"):
        await rig.narrator.aside(PLACE, upto, post)
    assert posted == []
    # an answer that quotes only what the channel still shows goes out
    now = (await rig.narrator.status(PLACE)).position - 1
    assert await rig.narrator.aside(PLACE, now, post) == "answer" and posted == ["answer"]
    await rig.narrator.close()
    await rig.db.close()


async def test_an_answer_waits_for_a_post_in_flight(tmp_path: Path) -> None:
    rig = await make_rig(tmp_path, [simple_story(scenes=1, beats=4)])
    await play_to(rig, 2)
    player = await rig.narrator.players.load(PLACE)
    assert player is not None
    order: list[str] = []

    async def post() -> None:
        order.append("answer")

    async with player.lock:  # the player holds this lock while a beat's parts are being posted
        task = asyncio.ensure_future(rig.narrator.aside(PLACE, 0, post))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        order.append("beat posted")
    await task
    assert order == ["beat posted", "answer"]
    await rig.narrator.close()
    await rig.db.close()
