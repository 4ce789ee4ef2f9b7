"""The gateway: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME with replay, drops.

Sharded IDENTIFY (`"shard": [k, n]`): shard 0 (or an unsharded client) is this `Gateway`; every
other shard gets a `Gateway` of its own in `others`. Each shard's READY lists, and its session
receives the events of, only the guilds it owns ((guild_id >> 22) % n == k), as Discord does.

Frames are plain JSON text (discord.py only decompresses binary frames, so `compress=zlib-stream`
in the query is accepted and ignored)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .state import new_token

if TYPE_CHECKING:
    from .server import Emulator

log = logging.getLogger("tests.emulator.gateway")

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = (
    0, 1, 2, 6, 7, 9, 10, 11)


@dataclass
class GatewaySession:
    session_id: str
    seq: int = 0
    buffer: list[dict[str, Any]] = field(default_factory=list)  # every dispatch, for RESUME
    intents: int = 0


@dataclass
class GatewayLog:
    """What happened on the gateway, for tests."""

    identifies: int = 0
    resumes: int = 0  # successful RESUMEs
    failed_resumes: int = 0
    connections: int = 0
    drops: int = 0
    heartbeats: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)  # every op the client sent


class Gateway:
    def __init__(self, emu: Emulator, shard: tuple[int, int] | None = None) -> None:
        self.emu = emu
        self.shard = shard  # (k, n) this gateway serves; None: unsharded (everything)
        self.others: dict[int, Gateway] = {}  # shards 1.. of a sharded bot (only on the main gateway)
        self.session: GatewaySession | None = None
        self.ws: web.WebSocketResponse | None = None
        self.ready = False  # READY and every GUILD_CREATE sent on the current session
        self.log = GatewayLog()
        self.heartbeat_interval_ms = 41250
        self.heartbeat_ack_delay = 0.05
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sockets: set[web.WebSocketResponse] = set()
        self._send_lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed

    @property
    def all_ready(self) -> bool:
        """Every shard that has identified is ready (just `ready` for an unsharded bot)."""
        return self.ready and all(o.ready for o in self.others.values())

    def owns(self, guild_id: int) -> bool:
        return self.shard is None or (guild_id >> 22) % self.shard[1] == self.shard[0]

    def _owner(self, payload: dict[str, Any], current: Gateway) -> Gateway:
        """Which shard's gateway a connection's IDENTIFY or RESUME belongs to."""
        d = payload.get("d") if isinstance(payload.get("d"), dict) else {}
        assert isinstance(d, dict)
        if payload.get("op") == IDENTIFY:
            shard = d.get("shard")
            if not shard:
                return self
            k, n = int(shard[0]), int(shard[1])
            if k == 0:
                self.shard = (0, n)
                return self
            self.shard = self.shard or (0, n)
            if k not in self.others:
                self.others[k] = Gateway(self.emu, (k, n))
            return self.others[k]
        if payload.get("op") == RESUME:
            for gw in (self, *self.others.values()):
                if gw.session is not None and gw.session.session_id == d.get("session_id"):
                    return gw
        return current

    def _route(self, event: str, data: dict[str, Any]) -> Gateway | None:
        if self.shard is None or (not self.others and self.shard[1] == 1):
            return self
        raw = data.get("guild_id")
        if raw is None and event.startswith("GUILD_") and event != "GUILD_ROLE_UPDATE":
            raw = data.get("id")
        if raw is None:
            return self  # no guild (DMs): shard 0
        k = (int(raw) >> 22) % self.shard[1]
        return self if k == 0 else self.others.get(k)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self.log.connections += 1
        self._sockets.add(ws)
        # `self.ws` (where dispatches go) only switches to this socket after IDENTIFY or RESUME:
        # until then events are buffered, and a RESUME replays them in order.
        await self._send(ws, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                              "s": None, "t": None})
        owner = self
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    break
                payload = json.loads(msg.data)
                self.log.received.append(_redacted(payload))
                owner = self._owner(payload, owner)
                await owner._on_op(ws, payload)
        finally:
            self._sockets.discard(ws)
            if owner.ws is ws:
                owner.ws = None
                owner.ready = False
            await self.emu.changed()
        return ws

    async def _on_op(self, ws: web.WebSocketResponse, payload: dict[str, Any]) -> None:
        op, d = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            self.log.heartbeats += 1
            # Answer after a realistic round trip: discord.py records the send time only after its
            # keep-alive thread hears back from the loop, so an instant loopback ACK is measured
            # against the previous beat ("Can't keep up, websocket is 41s behind").
            task = asyncio.get_running_loop().create_task(self._ack_later(ws))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif op == IDENTIFY:
            if not self.emu.check_token(str(d.get("token", ""))):
                await ws.close(code=4004, message=b"Authentication failed.")
                return
            await self._identify(ws, d)
        elif op == RESUME:
            await self._resume(ws, d)
        elif op in (3, 4, 8):  # presence / voice / request members: accepted, nothing to do
            return
        else:
            await ws.close(code=4001, message=b"Unknown opcode.")

    async def _ack_later(self, ws: web.WebSocketResponse) -> None:
        await asyncio.sleep(self.heartbeat_ack_delay)
        if not ws.closed:
            with contextlib.suppress(ConnectionError):
                await self._send(ws, {"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})

    async def _identify(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> None:
        self.log.identifies += 1
        self.ready = False
        previous = self.ws
        self.session = GatewaySession(session_id=new_token(16), intents=int(d.get("intents", 0)))
        self.ws = ws
        if previous is not None and previous is not ws and not previous.closed:
            await previous.close(code=4000)
        emu = self.emu
        ready = {
            "v": 10, "user": emu.bot_user.payload() | {"verified": True, "mfa_enabled": False,
                                                        "email": None, "locale": "en-US"},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in emu.guilds.values() if self.owns(g.id)],
            "session_id": self.session.session_id, "session_type": "normal",
            "resume_gateway_url": emu.gateway_url,
            "application": {"id": str(emu.application_id), "flags": 0},
            "private_channels": [], "relationships": [], "presences": [],
            "guild_join_requests": [], "geo_ordered_rtc_regions": [], "auth": {},
            "user_settings": {}, "_trace": ["emulator"],
        }
        if "shard" in d:
            ready["shard"] = d["shard"]
        await self._dispatch_here("READY", ready)
        for guild in list(emu.guilds.values()):
            if self.owns(guild.id):
                await self._dispatch_here("GUILD_CREATE", guild.payload(bot_id=emu.bot_user.id))
        self.ready = True
        await emu.changed()

    async def _resume(self, ws: web.WebSocketResponse, d: dict[str, Any]) -> None:
        s = self.session
        if (s is None or d.get("session_id") != s.session_id
                or not self.emu.check_token(str(d.get("token", "")))):
            self.log.failed_resumes += 1
            await self._send(ws, {"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        seq = int(d.get("seq") or 0)
        if s.buffer and s.buffer[0]["s"] > seq + 1:  # too far behind: the replay buffer moved on
            self.log.failed_resumes += 1
            await self._send(ws, {"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        while True:  # events dispatched during the replay are buffered and picked up here
            pending = [e for e in s.buffer if e["s"] > seq]
            if not pending:
                break
            for event in pending:
                await self._send(ws, event)
                seq = event["s"]
        previous = self.ws
        self.ws = ws  # no await between the last buffer check and this: nothing can slip past
        if previous is not None and previous is not ws and not previous.closed:
            task = asyncio.get_running_loop().create_task(previous.close(code=4000))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        s.seq += 1
        resumed = {"op": DISPATCH, "t": "RESUMED", "s": s.seq, "d": {"_trace": ["emulator"]}}
        s.buffer.append(resumed)
        await self._send(ws, resumed)
        self.log.resumes += 1
        self.ready = True
        await self.emu.changed()

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send (or buffer, while disconnected, for RESUME to replay) one dispatch event, on the
        session of the shard that owns its guild."""
        target = self._route(event, data)
        if target is not None:
            await target._dispatch_here(event, data)

    async def _dispatch_here(self, event: str, data: dict[str, Any]) -> None:
        s = self.session
        if s is None:
            return  # no bot has identified yet: nothing to tell
        s.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": s.seq, "d": data}
        s.buffer.append(frame)
        if len(s.buffer) > 5000:
            del s.buffer[:1000]
        ws = self.ws
        if ws is not None and not ws.closed:
            try:
                await self._send(ws, frame)
            except ConnectionError:
                pass  # the client will RESUME and get it replayed

    async def _send(self, ws: web.WebSocketResponse, frame: dict[str, Any]) -> None:
        async with self._send_lock:
            await ws.send_str(json.dumps(frame))

    async def drop(self, code: int = 4000) -> None:
        """Close the current connection. 4000 (and 1006, an abrupt TCP close) make discord.py
        RESUME; 4004/4010.. would stop it."""
        ws = self.ws
        if ws is None:
            return
        self.log.drops += 1
        self.ready = False
        if code == 1006:
            transport = ws._req.transport if ws._req is not None else None
            if transport is not None:
                transport.abort()
        else:
            await ws.close(code=code, message=b"emulator drop")
        self.ws = None
        await self.emu.changed()

    async def invalidate(self, resumable: bool = False) -> None:
        """Send op 9 (the client then re-IDENTIFYs, or RESUMEs when `resumable`)."""
        if self.ws is not None:
            if not resumable:
                self.session = None
            await self._send(self.ws, {"op": INVALID_SESSION, "d": resumable, "s": None, "t": None})

    async def close(self) -> None:
        for other in self.others.values():
            await other.close()
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.close(code=1001)
        for task in list(self._tasks):
            task.cancel()


def _redacted(payload: dict[str, Any]) -> dict[str, Any]:
    d = payload.get("d")
    if isinstance(d, dict) and "token" in d:
        return payload | {"d": d | {"token": "<redacted>"}}
    return payload
