"""A tiny OpenAI-compatible chat-completions server on 127.0.0.1 for the LLM voice tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class StubLLM:
    mode: str = "ok"  # ok | status500 | badjson | empty | hang | custom
    reply: str = "I was scared for him. That is all."
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    base_url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(await request.json())
        self.headers.append(dict(request.headers))
        if self.mode == "status500":
            return web.Response(status=500, text="boom")
        if self.mode == "badjson":
            return web.Response(status=200, text="{not json", content_type="application/json")
        if self.mode == "wrongshape":
            return web.json_response({"choices": []})
        if self.mode == "hang":
            await self.release.wait()  # until the test ends; the client's timeout fires first
        content = "   " if self.mode == "empty" else self.reply
        body = {"id": "x", "object": "chat.completion",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": "stop"}]}
        return web.Response(status=200, text=json.dumps(body), content_type="application/json")


@asynccontextmanager
async def running_stub() -> AsyncIterator[StubLLM]:
    stub = StubLLM()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", stub.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    stub.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield stub
    finally:
        stub.release.set()
        await runner.cleanup()
