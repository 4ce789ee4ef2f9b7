"""The emulator serves files users attach to commands on 127.0.0.1, like Discord's CDN."""

from __future__ import annotations

import aiohttp
import pytest

from tests.emulator import Emulator

pytestmark = pytest.mark.asyncio


async def test_attachments_are_served_on_loopback_by_id_and_name() -> None:
    async with Emulator() as emu:
        att = emu.add_attachment("story.epub", b"PK\x03\x04 book", content_type="application/epub+zip")
        assert att.url.startswith("http://127.0.0.1:")
        assert att.payload()["size"] == len(att.data) and att.payload()["filename"] == "story.epub"
        async with aiohttp.ClientSession() as http:
            async with http.get(att.url) as resp:
                assert resp.status == 200 and await resp.read() == b"PK\x03\x04 book"
                assert resp.headers["Content-Type"] == "application/epub+zip"
            async with http.get(att.url.replace("story.epub", "other.epub")) as resp:
                assert resp.status == 404
            async with http.get(att.url.replace(str(att.id), str(att.id + 1))) as resp:
                assert resp.status == 404
        assert att.fetches == 1
        big = emu.add_attachment("big.txt", b"x", claimed_size=10_000_000)
        assert big.payload()["size"] == 10_000_000, "what the payload claims can differ from the bytes"
