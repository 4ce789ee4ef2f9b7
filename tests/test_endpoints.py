"""DISCORD_API_BASE / DISCORD_GATEWAY_URL send the bot's REST calls and gateway connection to a
(loopback) proxy: the first REST request and the websocket upgrade must both arrive here."""

import asyncio
import os
import signal
from pathlib import Path

from aiohttp import WSMsgType, web

from tests.conftest import PYTHON

TOKEN = "MTIz.endpoint-test-token.abcdefghijklmnop"
JSON = "application/json"


async def test_rest_and_gateway_go_to_configured_urls(cli_env: dict[str, str], tmp_path: Path) -> None:
    seen: list[str] = []
    gateway_opened = asyncio.Event()

    async def any_route(request: web.Request) -> web.StreamResponse:
        seen.append(f"{request.method} {request.path}")
        if request.path.endswith("/users/@me"):
            body = '{"id": "1", "username": "narrator", "discriminator": "0", "avatar": null, "bot": true}'
        elif request.path.endswith("/oauth2/applications/@me"):
            body = ('{"id": "2", "name": "n", "description": "", "icon": null, "bot_public": true,'
                    ' "bot_require_code_grant": false, "verify_key": "k", "flags": 0,'
                    ' "owner": {"id": "3", "username": "o", "discriminator": "0", "avatar": null}}')
        else:
            body = "[]"
        return web.Response(body=body.encode(), headers={"Content-Type": JSON})

    async def gateway(request: web.Request) -> web.StreamResponse:
        seen.append(f"WS {request.path}")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        gateway_opened.set()
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45000}})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
        return ws

    app = web.Application()
    app.router.add_get("/gateway", gateway)
    app.router.add_route("*", "/{tail:.*}", any_route)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    env = dict(cli_env)
    env.update(
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE=f"http://127.0.0.1:{port}/api/v10",
        DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{port}/gateway",
    )
    proc = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "bot", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    exited = asyncio.ensure_future(proc.wait())
    opened = asyncio.ensure_future(gateway_opened.wait())
    try:
        await asyncio.wait({exited, opened}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    finally:
        opened.cancel()
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            _, err = await asyncio.wait_for(proc.communicate(), timeout=15)
        except TimeoutError:
            proc.kill()
            _, err = await proc.communicate()
        await runner.cleanup()
    assert gateway_opened.is_set(), err.decode()[-3000:]
    assert seen[0] == "GET /api/v10/users/@me"
    assert "WS /gateway" in seen
    assert TOKEN.encode() not in err
    assert os.environ.get("DISCORD_TOKEN") != TOKEN
