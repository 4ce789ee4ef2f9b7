"""REST API v10: the route table, strict dispatch, payload validation, rate limits and faults."""

from __future__ import annotations

import asyncio
import json
import re
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .faults import KINDS
from .state import (
    ADD_REACTIONS,
    CREATE_PUBLIC_THREADS,
    GUILD_FORUM,
    MANAGE_CHANNELS,
    MANAGE_MESSAGES,
    MANAGE_THREADS,
    MANAGE_WEBHOOKS,
    PUBLIC_THREAD,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
    Channel,
    Command,
    StoredMessage,
    Webhook,
    iso,
    new_token,
)

if TYPE_CHECKING:
    from .server import Emulator, Interaction

JSON_HEADERS = {"Content-Type": "application/json"}
EPHEMERAL = 1 << 6
LOADING = 1 << 7


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> dict[str, Any]:
        b: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            b["errors"] = self.errors
        return b


def form_error(field_name: str, code: str, message: str) -> ApiError:
    errors: dict[str, Any] = {}
    node = errors
    parts = field_name.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = {"_errors": [{"code": code, "message": message}]}
    return ApiError(400, 50035, "Invalid Form Body", errors)


@dataclass
class RecordedRequest:
    """One REST request as the emulator saw it (Authorization header removed)."""

    method: str
    path: str  # relative to the API base, e.g. "/channels/1/messages"
    route: str | None  # the matched template, e.g. "POST /channels/{channel_id}/messages"
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    time: float
    status: int = 0


@dataclass
class Req:
    emu: Emulator
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    headers: dict[str, str]

    def int(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise form_error(name, "NUMBER_TYPE_COERCE", f"Value \"{self.params[name]}\" is not snowflake.") from None

    @property
    def body(self) -> dict[str, Any]:
        return self.json if isinstance(self.json, dict) else {}


Handler = Callable[[Req], Awaitable[tuple[int, Any]]]


@dataclass
class RouteDef:
    method: str
    template: str
    handler: Handler
    auth: str = "bot"  # "bot": needs the bot token; "token": a webhook / interaction token route
    limit: int = 50
    per: float = 1.0
    major: tuple[str, ...] = ()
    regex: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        self.regex = re.compile(f"^{pattern}$")

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


def _ok(body: Any = None, status: int = 200) -> tuple[int, Any]:
    return status, body


class RestApi:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.routes: list[RouteDef] = self._routes()

    # ------------------------------------------------------------------ dispatch
    async def handle(self, request: web.Request) -> web.StreamResponse:
        emu = self.emu
        full = request.rel_url.path
        method = request.method
        prefix = emu.api_prefix
        rel = full[len(prefix):] if full.startswith(prefix + "/") else None
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        query = dict(request.query)
        body = await self._read_body(request)
        route, params = (None, {}) if rel is None else self._match(method, rel)
        rec = RecordedRequest(method, rel if rel is not None else full, route.name if route else None,
                              query, body, headers, time.monotonic())
        emu.requests.append(rec)
        emu.stats.requests += 1
        if route is None:
            emu.unhandled.append(f"{method} {full}")
            rec.status = 404
            await emu.changed()
            return self._json(404, {"message": f"emulator: unhandled route {method} {full}", "code": 0,
                                    "emulator_unhandled": True})
        auth = request.headers.get("Authorization")
        if route.auth == "bot" and auth != f"Bot {emu.token}":
            rec.status = 401
            emu.stats.unauthorized += 1
            emu.stats.invalid += 1
            return self._json(401, {"message": "401: Unauthorized", "code": 0})
        rel_path = rel or ""
        fault = emu.faults.take(route.name, method, rel_path)
        if fault is not None:
            emu.stats.faults += 1
            resp = await self._fault(request, fault)
            rec.status = resp.status
            if resp.status in (401, 403):
                emu.stats.invalid += 1
            await emu.changed()
            return resp
        identity = None
        if route.auth == "bot":
            identity = "bot"
        elif not rel_path.startswith("/interactions/") and not self._is_interaction_webhook(params):
            identity = "ip:" + str(request.remote)
        bucket = route.name + "|" + "|".join(params.get(m, "") for m in route.major)
        shared = None
        if route.name == "POST /webhooks/{webhook_id}/{webhook_token}" and not self._is_interaction_webhook(params):
            wh = emu.webhooks.get(_int_or_zero(params["webhook_id"]))
            if wh is not None:
                shared = str(query.get("thread_id") or wh.channel_id)
        verdict = emu.ratelimits.check(identity=identity, bucket=bucket, limit=route.limit, per=route.per,
                                       shared=shared, route=route.name)
        if not verdict.allowed:
            emu.stats.record_429(method, rel_path, verdict.scope)
            rec.status = 429
            await emu.changed()
            retry = round(max(verdict.retry_after, 0.001), 3)
            hdrs = dict(verdict.headers) | {"Via": "1.1 google", "Retry-After": str(max(1, int(retry + 0.999)))}
            return self._json(429, {"message": "You are being rate limited.", "retry_after": retry,
                                    "global": verdict.is_global, "code": 0}, hdrs)
        req = Req(emu, method, rel_path, params, query, body, headers)
        try:
            status, out = await route.handler(req)
        except ApiError as exc:
            rec.status = exc.status
            if exc.status in (401, 403, 429):
                emu.stats.invalid += 1
            await emu.changed()
            return self._json(exc.status, exc.body(), verdict.headers)
        except Exception as exc:  # an emulator bug or input it cannot parse: fail loudly, never hang
            emu.errors.append(f"{method} {rel_path}: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
            rec.status = 500
            await emu.changed()
            return self._json(500, {"message": f"emulator error: {type(exc).__name__}: {exc}", "code": 0,
                                    "emulator_error": True})
        rec.status = status
        await emu.changed()
        if status == 204 or out is None:
            return web.Response(status=204, headers=verdict.headers)
        return self._json(status, out, verdict.headers)

    def _is_interaction_webhook(self, params: dict[str, str]) -> bool:
        return "webhook_id" in params and params["webhook_id"] == str(self.emu.application_id)

    @staticmethod
    def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
        # Exactly "application/json": discord.py treats anything else (e.g. "; charset=utf-8") as text.
        return web.Response(status=status, body=json.dumps(body).encode(), headers=(headers or {}) | JSON_HEADERS)

    async def _read_body(self, request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            form = await request.post()
            raw = form.get("payload_json")
            body = json.loads(str(raw)) if raw is not None else {}
            files = {f.filename: f.file.read() for k, f in form.items() if hasattr(f, "filename") and hasattr(f, "file")}
            if files and isinstance(body, dict):
                body["__files__"] = files
            return body
        raw_bytes = await request.read()
        if not raw_bytes:
            return None
        try:
            return json.loads(raw_bytes)
        except ValueError:
            return raw_bytes.decode("utf-8", "replace")

    def _match(self, method: str, path: str) -> tuple[RouteDef | None, dict[str, str]]:
        for route in self.routes:
            if route.method != method:
                continue
            m = route.regex.match(path)
            if m:
                return route, m.groupdict()
        return None, {}

    async def _fault(self, request: web.Request, fault: Any) -> web.StreamResponse:
        status, code, message = KINDS[fault.kind]
        if fault.kind == "timeout":
            await asyncio.sleep(fault.hang)
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError  # aiohttp drops the connection without a response
        if status == 429:
            self.emu.stats.record_429(request.method, request.rel_url.path, "fault")
            headers = {"Via": "1.1 google", "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                       "X-RateLimit-Reset-After": f"{fault.retry_after:.3f}",
                       "X-RateLimit-Reset": f"{time.time() + fault.retry_after:.3f}",
                       "X-RateLimit-Bucket": "emulatorfault", "Retry-After": str(int(fault.retry_after + 0.999)),
                       "X-RateLimit-Scope": "global" if fault.is_global else "user"}
            if fault.is_global:
                headers["X-RateLimit-Global"] = "true"
            return self._json(429, {"message": message, "retry_after": fault.retry_after,
                                    "global": fault.is_global, "code": 0}, headers)
        if status >= 500:
            return web.Response(status=status, body=message.encode(), headers={"Content-Type": "text/plain"})
        return self._json(status, {"message": message, "code": code})

    # ------------------------------------------------------------------ helpers
    def _channel(self, channel_id: int) -> Channel:
        ch = self.emu.channels.get(channel_id)
        if ch is None:
            raise ApiError(404, 10003, "Unknown Channel")
        return ch

    def _require(self, ch: Channel, perms: int) -> None:
        have = self.emu.bot_permissions(ch)
        if not have & VIEW_CHANNEL:
            raise ApiError(403, 50001, "Missing Access")
        if perms & ~have:
            raise ApiError(403, 50013, "Missing Permissions")

    def _message(self, channel_id: int, message_id: int) -> StoredMessage:
        msg = self.emu.messages_by_id.get(message_id)
        if msg is None or msg.deleted or msg.ephemeral or msg.channel_id != channel_id:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    def _webhook(self, req: Req, *, token: bool) -> Webhook:
        wh = self.emu.webhooks.get(_int_or_zero(req.params["webhook_id"]))
        if wh is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        if token and req.params.get("webhook_token") != wh.token:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return wh

    def _interaction(self, req: Req) -> Interaction:
        inter = self.emu.interactions_by_token.get(req.params["webhook_token"])
        if inter is None or time.monotonic() - inter.created > 15 * 60:
            raise ApiError(404, 10015, "Unknown Webhook")
        return inter

    def validate_message(self, body: dict[str, Any], *, webhook: bool, partial: bool = False) -> None:
        content = body.get("content")
        if content is not None and not isinstance(content, str):
            raise form_error("content", "STRING_TYPE_CONVERT", "Could not interpret value as string.")
        if content and len(content) > 2000:
            raise form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        embeds = body.get("embeds") or []
        if len(embeds) > 10:
            raise form_error("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        total = 0
        for i, e in enumerate(embeds):
            limits = {"title": 256, "description": 4096}
            for key, lim in limits.items():
                val = e.get(key) or ""
                total += len(val)
                if len(val) > lim:
                    raise form_error(f"embeds.{i}.{key}", "BASE_TYPE_MAX_LENGTH", f"Must be {lim} or fewer in length.")
            fields = e.get("fields") or []
            if len(fields) > 25:
                raise form_error(f"embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            for j, f in enumerate(fields):
                name, value = f.get("name") or "", f.get("value") or ""
                if not name or not value:
                    raise form_error(f"embeds.{i}.fields.{j}", "BASE_TYPE_REQUIRED", "This field is required")
                if len(name) > 256 or len(value) > 1024:
                    raise form_error(f"embeds.{i}.fields.{j}.value", "BASE_TYPE_MAX_LENGTH",
                                     "Must be 1024 or fewer in length.")
                total += len(name) + len(value)
            footer = (e.get("footer") or {}).get("text") or ""
            author = (e.get("author") or {}).get("name") or ""
            if len(footer) > 2048 or len(author) > 256:
                raise form_error(f"embeds.{i}", "BASE_TYPE_MAX_LENGTH", "Embed footer/author too long.")
            total += len(footer) + len(author)
        if total > 6000:
            raise form_error("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
        for i, e in enumerate(embeds):
            for path, url in _embed_urls(e):
                _check_url(url, f"embeds.{i}.{path}")
        if webhook and body.get("avatar_url") is not None:
            _check_url(body["avatar_url"], "avatar_url")
        am = body.get("allowed_mentions")
        if am is not None:
            parse = am.get("parse") or []
            for kind in ("users", "roles"):
                if kind in parse and am.get(kind):
                    raise form_error(f"allowed_mentions.{kind}", "ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                                     f"parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive.")
            if any(p not in ("users", "roles", "everyone") for p in parse):
                raise form_error("allowed_mentions.parse", "BASE_TYPE_CHOICES", "Value must be one of users, roles, everyone.")
        components = body.get("components") or []
        if len(components) > 5:
            raise form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        if webhook and body.get("username") is not None:
            validate_name(str(body["username"]), "username")
        if not partial and not content and not embeds and not components and not body.get("poll"):
            raise ApiError(400, 50006, "Cannot send an empty message")

    # ------------------------------------------------------------------ login / app
    async def get_me(self, req: Req) -> tuple[int, Any]:
        return _ok(self.emu.bot_user.payload() | {"verified": True, "mfa_enabled": False, "email": None,
                                                  "locale": "en-US"})

    async def get_user(self, req: Req) -> tuple[int, Any]:
        user = self.emu.users.get(req.int("user_id"))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return _ok(user.payload())

    async def get_application(self, req: Req) -> tuple[int, Any]:
        emu = self.emu
        return _ok({"id": str(emu.application_id), "name": emu.bot_user.username, "icon": None,
                    "description": "Story Narrator (emulated)", "summary": "", "type": None,
                    "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
                    "flags": 0, "owner": emu.owner.payload(), "team": None, "bot": emu.bot_user.payload(),
                    "rpc_origins": [], "tags": [], "redirect_uris": [], "interactions_endpoint_url": None,
                    "approximate_guild_count": len(emu.guilds), "integration_types_config": {}})

    async def get_gateway(self, req: Req) -> tuple[int, Any]:
        body: dict[str, Any] = {"url": self.emu.gateway_url}
        if req.path.endswith("/bot"):
            body |= {"shards": 1, "session_start_limit": {"total": 1000, "remaining": 999,
                                                          "reset_after": 0, "max_concurrency": 1}}
        return _ok(body)

    # ------------------------------------------------------------------ commands
    def _check_app(self, req: Req) -> None:
        if req.params["application_id"] != str(self.emu.application_id):
            raise ApiError(403, 50001, "Missing Access")

    async def get_commands(self, req: Req) -> tuple[int, Any]:
        self._check_app(req)
        gid = int(req.params["guild_id"]) if "guild_id" in req.params else None
        return _ok([c.payload() for c in self.emu.commands.values() if c.guild_id == gid])

    async def put_commands(self, req: Req) -> tuple[int, Any]:
        self._check_app(req)
        emu = self.emu
        gid = int(req.params["guild_id"]) if "guild_id" in req.params else None
        if gid is not None and gid not in emu.guilds:
            raise ApiError(404, 10004, "Unknown Guild")
        bodies = req.json if isinstance(req.json, list) else None
        if bodies is None:
            raise form_error("_", "LIST_TYPE_CONVERT", "Expected a list of commands.")
        if len(bodies) > 100:
            raise ApiError(400, 30032, "Maximum number of application commands reached (100)")
        names: set[tuple[int, str]] = set()
        for i, b in enumerate(bodies):
            name = b.get("name", "")
            if not re.fullmatch(r"[-_\w]{1,32}", name) or name != name.lower():
                raise form_error(f"{i}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
            key = (int(b.get("type", 1)), name)
            if key in names:
                raise form_error(f"{i}.name", "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
            names.add(key)
            if int(b.get("type", 1)) == 1 and not 1 <= len(b.get("description", "")) <= 100:
                raise form_error(f"{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
            _validate_options(b.get("options") or [], f"{i}.options")
        old = {c.name: c for c in emu.commands.values() if c.guild_id == gid}
        for c in old.values():
            del emu.commands[c.id]
        out = []
        for b in bodies:
            prev = old.get(b["name"])
            cmd = Command(id=prev.id if prev else emu.snowflakes.next(), application_id=emu.application_id,
                          guild_id=gid, body=b, version=emu.snowflakes.next())
            emu.commands[cmd.id] = cmd
            out.append(cmd.payload())
        emu.command_syncs.append(gid)
        return _ok(out)

    # ------------------------------------------------------------------ interactions
    async def interaction_callback(self, req: Req) -> tuple[int, Any]:
        emu = self.emu
        inter = emu.interactions.get(_int_or_zero(req.params["interaction_id"]))
        if inter is None or req.params["interaction_token"] != inter.token:
            raise ApiError(404, 10062, "Unknown interaction")
        if inter.callback is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - inter.created > emu.interaction_timeout:
            inter.expired = True
            raise ApiError(404, 10062, "Unknown interaction")
        body = req.body
        rtype = int(body.get("type", 0))
        data = body.get("data") or {}
        if body.get("__files__"):
            data = dict(data) | {"__files__": body["__files__"]}
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}[inter.type]
        if rtype not in allowed:
            raise form_error("type", "INTERACTION_RESPONSE_TYPE_INVALID",
                             f"Response type {rtype} is not valid for interaction type {inter.type}")
        message: StoredMessage | None = None
        if rtype == 9:
            self.validate_modal(data)
        if rtype == 4:
            self.validate_message(data, webhook=False)
            message = emu.store_interaction_message(inter, data, original=True)
        elif rtype == 5:
            message = emu.store_interaction_message(inter, {"content": "", "flags": (data.get("flags") or 0) | LOADING},
                                                    original=True, allow_empty=True)
        elif rtype == 7:
            if inter.message is None:
                raise ApiError(400, 50035, "No message to update")
            self.validate_message(data, webhook=False, partial=True)
            emu.edit_message(inter.message, data)
            message = inter.message
        elif rtype == 8:
            choices = data.get("choices") or []
            if len(choices) > 25:
                raise form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            for i, ch in enumerate(choices):
                if not 1 <= len(str(ch.get("name", ""))) <= 100:
                    raise form_error(f"data.choices.{i}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        inter.callback = {"type": rtype, "data": data}
        inter.callback_at = time.monotonic()
        if req.query.get("with_response") not in ("1", "true", "True"):
            return _ok(None, 204)
        out: dict[str, Any] = {"interaction": {"id": str(inter.id), "type": inter.type}}
        if message is not None:
            out["interaction"] |= {"response_message_id": str(message.id),
                                   "response_message_loading": bool(message.flags & LOADING),
                                   "response_message_ephemeral": bool(message.flags & EPHEMERAL)}
            out["resource"] = {"type": rtype, "message": message.payload()}
        else:
            out["resource"] = {"type": rtype}
        return _ok(out)

    @staticmethod
    def validate_modal(data: dict[str, Any]) -> None:
        """Discord's limits on a modal: title 1-45, 1-5 rows, text inputs with label 1-45,
        custom_id 1-100, max_length <= 4000 and a default no longer than it."""
        if not 1 <= len(str(data.get("title") or "")) <= 45:
            raise form_error("data.title", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
        if not 1 <= len(str(data.get("custom_id") or "")) <= 100:
            raise form_error("data.custom_id", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        rows = data.get("components") or []
        if not 1 <= len(rows) <= 5:
            raise form_error("data.components", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
        for i, row in enumerate(rows):
            inputs = [row.get("component")] if row.get("type") == 18 else row.get("components") or []
            for j, c in enumerate(x for x in inputs if x):
                where = f"data.components.{i}.components.{j}"
                label = str(c.get("label") or row.get("label") or "")
                if not 1 <= len(label) <= 45:
                    raise form_error(f"{where}.label", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
                top = int(c.get("max_length") or 4000)
                if top > 4000 or len(str(c.get("value") or "")) > top:
                    raise form_error(f"{where}.value", "BASE_TYPE_MAX_LENGTH", f"Must be {top} or fewer in length.")

    # ------------------------------------------------------------------ webhooks (bot-authenticated)
    async def create_webhook(self, req: Req) -> tuple[int, Any]:
        emu = self.emu
        ch = self._channel(req.int("channel_id"))
        if ch.is_thread or ch.type == 4:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        self._require(ch, MANAGE_WEBHOOKS)
        name = req.body.get("name")
        if not isinstance(name, str):
            raise form_error("name", "BASE_TYPE_REQUIRED", "This field is required")
        validate_name(name, "name")
        if sum(1 for w in emu.webhooks.values() if w.channel_id == ch.id) >= emu.max_webhooks_per_channel:
            raise ApiError(400, 30007, f"Maximum number of webhooks reached ({emu.max_webhooks_per_channel})")
        avatar = req.body.get("avatar")
        wh = emu.add_webhook(ch, name, application_owned=True,
                             avatar=new_token(8) if isinstance(avatar, str) and avatar else None)
        return _ok(wh.payload())

    async def channel_webhooks(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        self._require(ch, MANAGE_WEBHOOKS)
        return _ok([w.payload() for w in self.emu.webhooks.values() if w.channel_id == ch.id])

    async def guild_webhooks(self, req: Req) -> tuple[int, Any]:
        gid = req.int("guild_id")
        if gid not in self.emu.guilds:
            raise ApiError(404, 10004, "Unknown Guild")
        guild = self.emu.guilds[gid]
        if not guild.base_permissions(guild.members[self.emu.bot_user.id]) & MANAGE_WEBHOOKS:
            raise ApiError(403, 50013, "Missing Permissions")
        return _ok([w.payload() for w in self.emu.webhooks.values() if w.guild_id == gid])

    async def get_webhook(self, req: Req) -> tuple[int, Any]:
        wh = self._webhook(req, token="webhook_token" in req.params)
        if "webhook_token" not in req.params:
            self._require(self._channel(wh.channel_id), MANAGE_WEBHOOKS)
        return _ok(wh.payload(with_token="webhook_token" not in req.params))

    async def edit_webhook(self, req: Req) -> tuple[int, Any]:
        wh = self._webhook(req, token="webhook_token" in req.params)
        if "webhook_token" not in req.params:
            self._require(self._channel(wh.channel_id), MANAGE_WEBHOOKS)
        if "name" in req.body:
            validate_name(str(req.body["name"]), "name")
            wh.name = str(req.body["name"])
        if "avatar" in req.body:
            wh.avatar = new_token(8) if req.body["avatar"] else None
        if "channel_id" in req.body and "webhook_token" not in req.params:
            target = self._channel(int(req.body["channel_id"]))
            wh.channel_id = target.id
        return _ok(wh.payload())

    async def delete_webhook(self, req: Req) -> tuple[int, Any]:
        wh = self._webhook(req, token="webhook_token" in req.params)
        if "webhook_token" not in req.params:
            self._require(self._channel(wh.channel_id), MANAGE_WEBHOOKS)
        self.emu.remove_webhook(wh.id)
        return _ok(None, 204)

    # ------------------------------------------------------------------ webhook token routes
    async def execute_webhook(self, req: Req) -> tuple[int, Any]:
        emu = self.emu
        if self._is_interaction_webhook(req.params):
            return await self._followup(req)
        wh = self._webhook(req, token=True)
        body = req.body
        self.validate_message(body, webhook=True)
        target = self._channel(wh.channel_id)
        thread_id = req.query.get("thread_id")
        if thread_id is not None:
            thread = emu.channels.get(_int_or_zero(thread_id))
            if thread is None or not thread.is_thread:
                raise ApiError(404, 10003, "Unknown Channel")
            if thread.parent_id != wh.channel_id:
                raise form_error("thread_id", "THREAD_PARENT_MISMATCH", "The thread does not belong to this webhook's channel")
            if thread.locked:
                raise ApiError(400, 160005, "Thread is locked")
            if thread.archived:
                thread.archived = False  # posting through the webhook unarchives it, like Discord
                await emu.gateway.dispatch("THREAD_UPDATE", thread.payload())
            target = thread
        elif target.type == GUILD_FORUM:
            name = body.get("thread_name")
            if not name:
                raise ApiError(400, 220001, "Webhooks posted to forum channels must have a thread_name or thread_id")
            target = await emu.create_thread(target, str(name)[:100], owner=emu.webhook_user(wh))
        elif body.get("thread_name"):
            raise form_error("thread_name", "BASE_TYPE_INVALID", "thread_name is only valid for forum channels")
        data = dict(body)
        data["components"] = self._webhook_components(wh, data, req)
        msg = emu.store_message(target, emu.webhook_user(wh), data, webhook=wh)
        if emu.webhook_response_delay > 0:
            await emu.changed()  # the message is visible to test users now ...
            await asyncio.sleep(emu.webhook_response_delay)  # ... the bot hears back later
        if req.query.get("wait") in ("1", "true", "True"):
            return _ok(msg.payload())
        return _ok(None, 204)

    def _webhook_components(self, wh: Webhook, body: dict[str, Any], req: Req) -> list[dict[str, Any]]:
        components = body.get("components") or []
        if not components:
            return []
        if req.query.get("with_components") not in ("1", "true", "True"):
            return []  # Discord ignores components unless with_components is set
        if wh.application_id != self.emu.application_id and _interactive(components):
            raise form_error("components", "COMPONENT_NOT_ALLOWED",
                             "Interactive components need an application-owned webhook")
        return list(components)

    async def _followup(self, req: Req) -> tuple[int, Any]:
        emu = self.emu
        inter = self._interaction(req)
        if inter.callback is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        body = req.body
        if any(k in body for k in ("username", "avatar_url")):
            body = {k: v for k, v in body.items() if k not in ("username", "avatar_url")}  # ignored by Discord
        self.validate_message(body, webhook=False)
        original = inter.original
        if original is not None and original.flags & LOADING and not inter.followups_replaced_loading:
            inter.followups_replaced_loading = True
            emu.edit_message(original, body | {"flags": original.flags & ~LOADING})
            inter.followups.append(original)
            await emu.changed()
            return _ok(original.payload())
        msg = emu.store_interaction_message(inter, body, original=False)
        return _ok(msg.payload())

    def _token_message(self, req: Req) -> tuple[StoredMessage, Webhook | None, Interaction | None]:
        emu = self.emu
        mid = req.params["message_id"]
        if self._is_interaction_webhook(req.params):
            inter = self._interaction(req)
            if mid == "@original":
                target = inter.original
                if target is None and inter.message is not None and inter.response_type in (6, 7):
                    target = inter.message  # a component's @original is the message it sits on
                if target is None or target.deleted:
                    raise ApiError(404, 10008, "Unknown Message")
                return target, None, inter
            msg = emu.messages_by_id.get(_int_or_zero(mid))
            if msg is None or msg.deleted or msg.interaction_id != inter.id:
                raise ApiError(404, 10008, "Unknown Message")
            return msg, None, inter
        wh = self._webhook(req, token=True)
        msg = emu.messages_by_id.get(_int_or_zero(mid))
        if msg is None or msg.deleted or msg.webhook_id != wh.id:
            raise ApiError(404, 10008, "Unknown Message")
        thread_id = req.query.get("thread_id")
        if msg.channel_id != wh.channel_id and str(msg.channel_id) != thread_id:
            raise ApiError(404, 10008, "Unknown Message")
        return msg, wh, None

    async def get_token_message(self, req: Req) -> tuple[int, Any]:
        msg, _, _ = self._token_message(req)
        return _ok(msg.payload())

    async def edit_token_message(self, req: Req) -> tuple[int, Any]:
        msg, wh, _ = self._token_message(req)
        body = dict(req.body)
        self.validate_message(body, webhook=False, partial=True)
        if wh is not None and "components" in body:
            body["components"] = self._webhook_components(wh, body, req)
        if msg.flags & LOADING:
            body["flags"] = msg.flags & ~LOADING
        self.emu.edit_message(msg, body)
        return _ok(msg.payload())

    async def delete_token_message(self, req: Req) -> tuple[int, Any]:
        msg, _, _ = self._token_message(req)
        await self.emu.delete_message(msg)
        return _ok(None, 204)

    # ------------------------------------------------------------------ channels & messages
    async def get_channel(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        self._require(ch, 0)
        return _ok(ch.payload())

    async def edit_channel(self, req: Req) -> tuple[int, Any]:
        emu = self.emu
        ch = self._channel(req.int("channel_id"))
        body = req.body
        if ch.is_thread:
            if ch.owner_id != emu.bot_user.id:
                self._require(ch, MANAGE_THREADS)
            for key in ("archived", "locked"):
                if key in body:
                    setattr(ch, key, bool(body[key]))
            if "name" in body:
                ch.name = str(body["name"])
            await emu.gateway.dispatch("THREAD_UPDATE", ch.payload())
        else:
            self._require(ch, MANAGE_CHANNELS)
            if "name" in body:
                ch.name = str(body["name"])
            await emu.gateway.dispatch("CHANNEL_UPDATE", ch.payload())
        return _ok(ch.payload())

    async def get_messages(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        self._require(ch, 0)
        if not self.emu.bot_permissions(ch) & READ_MESSAGE_HISTORY:
            return _ok([])
        limit = max(1, min(100, int(req.query.get("limit", 50))))
        msgs = self.emu.messages(ch.id)
        if "before" in req.query:
            msgs = [m for m in msgs if m.id < int(req.query["before"])]
            msgs = msgs[-limit:]
        elif "after" in req.query:
            msgs = [m for m in msgs if m.id > int(req.query["after"])][:limit]
        elif "around" in req.query:
            around = int(req.query["around"])
            older = [m for m in msgs if m.id <= around][-(limit // 2 + limit % 2):]
            newer = [m for m in msgs if m.id > around][: limit // 2]
            msgs = older + newer
        else:
            msgs = msgs[-limit:]
        return _ok([m.payload() for m in reversed(msgs)])

    async def get_message(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        self._require(ch, READ_MESSAGE_HISTORY)
        return _ok(self._message(ch.id, req.int("message_id")).payload())

    async def create_message(self, req: Req) -> tuple[int, Any]:
        emu = self.emu
        ch = self._channel(req.int("channel_id"))
        if ch.is_thread and ch.locked:
            raise ApiError(400, 160005, "Thread is locked")
        self._require(ch, SEND_MESSAGES_IN_THREADS if ch.is_thread else SEND_MESSAGES)
        body = req.body
        self.validate_message(body, webhook=False)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            for m in emu.messages(ch.id):
                if m.nonce == nonce and m.author.id == emu.bot_user.id:
                    return _ok(m.payload())
        if ch.is_thread and ch.archived:
            ch.archived = False
            await emu.gateway.dispatch("THREAD_UPDATE", ch.payload())
        msg = emu.store_message(ch, emu.bot_user, body)
        return _ok(msg.payload())

    async def edit_message(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        msg = self._message(ch.id, req.int("message_id"))
        if msg.author.id != self.emu.bot_user.id or msg.webhook_id is not None:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self.validate_message(req.body, webhook=False, partial=True)
        self.emu.edit_message(msg, req.body)
        return _ok(msg.payload())

    async def delete_message(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        msg = self._message(ch.id, req.int("message_id"))
        if msg.author.id != self.emu.bot_user.id or msg.webhook_id is not None:
            self._require(ch, MANAGE_MESSAGES)
        await self.emu.delete_message(msg)
        return _ok(None, 204)

    async def bulk_delete(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        self._require(ch, MANAGE_MESSAGES)
        ids = [int(i) for i in req.body.get("messages", [])]
        if not 2 <= len(ids) <= 100:
            raise form_error("messages", "BASE_TYPE_BAD_LENGTH", "Must be between 2 and 100 in length.")
        msgs = [self._message(ch.id, i) for i in ids]
        for m in msgs:
            await self.emu.delete_message(m)
        return _ok(None, 204)

    async def add_reaction(self, req: Req) -> tuple[int, Any]:
        emu = self.emu
        ch = self._channel(req.int("channel_id"))
        msg = self._message(ch.id, req.int("message_id"))
        emoji = _emoji(req.params["emoji"])
        need = READ_MESSAGE_HISTORY | (0 if msg.reactions.get(emoji) else ADD_REACTIONS)
        self._require(ch, need)
        await emu.add_reaction(msg, emu.bot_user.id, emoji, dispatch=True)
        return _ok(None, 204)

    async def remove_own_reaction(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        msg = self._message(ch.id, req.int("message_id"))
        await self.emu.remove_reaction(msg, self.emu.bot_user.id, _emoji(req.params["emoji"]))
        return _ok(None, 204)

    async def remove_user_reaction(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        msg = self._message(ch.id, req.int("message_id"))
        self._require(ch, MANAGE_MESSAGES)
        await self.emu.remove_reaction(msg, req.int("user_id"), _emoji(req.params["emoji"]))
        return _ok(None, 204)

    async def clear_reactions(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        msg = self._message(ch.id, req.int("message_id"))
        self._require(ch, MANAGE_MESSAGES)
        msg.reactions.clear()
        return _ok(None, 204)

    async def get_reactions(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        msg = self._message(ch.id, req.int("message_id"))
        self._require(ch, READ_MESSAGE_HISTORY)
        users = msg.reactions.get(_emoji(req.params["emoji"]), [])
        return _ok([self.emu.users[u].payload() for u in users if u in self.emu.users])

    async def typing(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        self._require(ch, SEND_MESSAGES_IN_THREADS if ch.is_thread else SEND_MESSAGES)
        self.emu.typing.append((ch.id, time.monotonic()))
        return _ok(None, 204)

    async def create_thread(self, req: Req) -> tuple[int, Any]:
        emu = self.emu
        parent = self._channel(req.int("channel_id"))
        if parent.is_thread:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        self._require(parent, CREATE_PUBLIC_THREADS)
        name = str(req.body.get("name") or "")
        if not 1 <= len(name) <= 100:
            raise form_error("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        thread = await emu.create_thread(parent, name, owner=emu.bot_user,
                                         type=int(req.body.get("type", PUBLIC_THREAD)))
        return _ok(thread.payload(), 201)

    async def join_thread(self, req: Req) -> tuple[int, Any]:
        ch = self._channel(req.int("channel_id"))
        if not ch.is_thread:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        return _ok(None, 204)

    # ------------------------------------------------------------------ guilds
    def _guild(self, req: Req) -> Any:
        guild = self.emu.guilds.get(req.int("guild_id"))
        if guild is None:
            raise ApiError(404, 10004, "Unknown Guild")
        return guild

    async def get_guild(self, req: Req) -> tuple[int, Any]:
        g = self._guild(req)
        p = g.payload(bot_id=self.emu.bot_user.id)
        for key in ("channels", "threads", "members", "voice_states", "presences", "joined_at", "large",
                    "member_count"):
            p.pop(key, None)
        return _ok(p)

    async def get_guild_channels(self, req: Req) -> tuple[int, Any]:
        g = self._guild(req)
        return _ok([c.payload() for c in g.channels.values() if not c.is_thread])

    async def active_threads(self, req: Req) -> tuple[int, Any]:
        g = self._guild(req)
        return _ok({"threads": [c.payload() for c in g.channels.values() if c.is_thread and not c.archived],
                    "members": []})

    async def get_member(self, req: Req) -> tuple[int, Any]:
        g = self._guild(req)
        m = g.members.get(req.int("user_id"))
        if m is None:
            raise ApiError(404, 10007, "Unknown Member")
        return _ok(m.payload())

    async def get_roles(self, req: Req) -> tuple[int, Any]:
        g = self._guild(req)
        return _ok([r.payload() for r in g.roles.values()])

    # ------------------------------------------------------------------ table
    def _routes(self) -> list[RouteDef]:
        R = RouteDef
        wh = ("webhook_id", "webhook_token")
        return [
            R("GET", "/users/@me", self.get_me),
            R("GET", "/users/{user_id}", self.get_user),
            R("GET", "/oauth2/applications/@me", self.get_application),
            R("GET", "/applications/@me", self.get_application),
            R("GET", "/gateway", self.get_gateway, auth="none"),
            R("GET", "/gateway/bot", self.get_gateway),
            R("GET", "/applications/{application_id}/commands", self.get_commands),
            R("PUT", "/applications/{application_id}/commands", self.put_commands, limit=20, per=20.0),
            R("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self.get_commands),
            R("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self.put_commands,
              limit=20, per=20.0, major=("guild_id",)),
            R("POST", "/interactions/{interaction_id}/{interaction_token}/callback", self.interaction_callback,
              auth="token", major=("interaction_id",)),
            R("GET", "/channels/{channel_id}/webhooks", self.channel_webhooks, major=("channel_id",)),
            R("POST", "/channels/{channel_id}/webhooks", self.create_webhook, limit=5, per=5.0, major=("channel_id",)),
            R("GET", "/guilds/{guild_id}/webhooks", self.guild_webhooks, major=("guild_id",)),
            R("GET", "/webhooks/{webhook_id}", self.get_webhook, major=("webhook_id",)),
            R("PATCH", "/webhooks/{webhook_id}", self.edit_webhook, major=("webhook_id",)),
            R("DELETE", "/webhooks/{webhook_id}", self.delete_webhook, major=("webhook_id",)),
            R("GET", "/webhooks/{webhook_id}/{webhook_token}", self.get_webhook, auth="token", major=wh),
            R("PATCH", "/webhooks/{webhook_id}/{webhook_token}", self.edit_webhook, auth="token", major=wh),
            R("DELETE", "/webhooks/{webhook_id}/{webhook_token}", self.delete_webhook, auth="token", major=wh),
            R("POST", "/webhooks/{webhook_id}/{webhook_token}", self.execute_webhook, auth="token",
              limit=5, per=2.0, major=wh),
            R("GET", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self.get_token_message,
              auth="token", major=wh),
            R("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", self.edit_token_message,
              auth="token", limit=5, per=2.0, major=wh),
            R("DELETE", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
              self.delete_token_message, auth="token", limit=5, per=2.0, major=wh),
            R("GET", "/channels/{channel_id}", self.get_channel, major=("channel_id",)),
            R("PATCH", "/channels/{channel_id}", self.edit_channel, major=("channel_id",)),
            R("GET", "/channels/{channel_id}/messages", self.get_messages, major=("channel_id",)),
            R("POST", "/channels/{channel_id}/messages", self.create_message, limit=5, per=5.0,
              major=("channel_id",)),
            R("POST", "/channels/{channel_id}/messages/bulk-delete", self.bulk_delete, major=("channel_id",)),
            R("GET", "/channels/{channel_id}/messages/{message_id}", self.get_message, major=("channel_id",)),
            R("PATCH", "/channels/{channel_id}/messages/{message_id}", self.edit_message, limit=5, per=5.0,
              major=("channel_id",)),
            R("DELETE", "/channels/{channel_id}/messages/{message_id}", self.delete_message, limit=5, per=1.0,
              major=("channel_id",)),
            R("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.add_reaction,
              limit=1, per=0.25, major=("channel_id",)),
            R("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
              self.remove_own_reaction, limit=1, per=0.25, major=("channel_id",)),
            R("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/{user_id}",
              self.remove_user_reaction, limit=1, per=0.25, major=("channel_id",)),
            R("GET", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}", self.get_reactions,
              major=("channel_id",)),
            R("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions", self.clear_reactions,
              major=("channel_id",)),
            R("POST", "/channels/{channel_id}/typing", self.typing, limit=5, per=5.0, major=("channel_id",)),
            R("POST", "/channels/{channel_id}/threads", self.create_thread, major=("channel_id",)),
            R("PUT", "/channels/{channel_id}/thread-members/@me", self.join_thread, major=("channel_id",)),
            R("GET", "/guilds/{guild_id}", self.get_guild, major=("guild_id",)),
            R("GET", "/guilds/{guild_id}/channels", self.get_guild_channels, major=("guild_id",)),
            R("GET", "/guilds/{guild_id}/threads/active", self.active_threads, major=("guild_id",)),
            R("GET", "/guilds/{guild_id}/members/{user_id}", self.get_member, major=("guild_id",)),
            R("GET", "/guilds/{guild_id}/roles", self.get_roles, major=("guild_id",)),
        ]


def validate_name(name: str, field_name: str) -> None:
    """Discord's rules for webhook names and per-message usernames."""
    if not 1 <= len(name) <= 80:
        raise form_error(field_name, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")
    lowered = name.lower()
    for banned in ("clyde", "discord"):
        if banned in lowered:
            raise form_error(field_name, "USERNAME_INVALID_CONTAINS",
                             f'Username cannot contain "{banned}"')
    if lowered in ("everyone", "here"):
        raise form_error(field_name, "USERNAME_INVALID", "Username is invalid")


def _validate_options(options: list[dict[str, Any]], where: str) -> None:
    if len(options) > 25:
        raise form_error(where, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    seen_optional = False
    for i, opt in enumerate(options):
        name = opt.get("name", "")
        if not re.fullmatch(r"[-_\w]{1,32}", name) or name != name.lower():
            raise form_error(f"{where}.{i}.name", "APPLICATION_COMMAND_INVALID_NAME", "Option name is invalid")
        if not 1 <= len(opt.get("description", "")) <= 100:
            raise form_error(f"{where}.{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        otype = int(opt.get("type", 0))
        if otype not in range(1, 12):
            raise form_error(f"{where}.{i}.type", "BASE_TYPE_CHOICES", f"Value must be one of 1..11, not {otype}")
        if otype in (1, 2):
            inner = opt.get("options") or []
            if otype == 1 and any(int(o.get("type", 0)) in (1, 2) for o in inner):
                raise form_error(f"{where}.{i}.options", "APPLICATION_COMMAND_OPTION_TYPE_INVALID",
                                 "Subcommands cannot contain subcommands")
            _validate_options(inner, f"{where}.{i}.options")
            continue
        choices = opt.get("choices") or []
        if len(choices) > 25:
            raise form_error(f"{where}.{i}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if choices and opt.get("autocomplete"):
            raise form_error(f"{where}.{i}.autocomplete", "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                             "Autocomplete cannot be enabled on options with choices")
        for j, choice in enumerate(choices):
            if not 1 <= len(str(choice.get("name", ""))) <= 100:
                raise form_error(f"{where}.{i}.choices.{j}.name", "BASE_TYPE_BAD_LENGTH",
                                 "Must be between 1 and 100 in length.")
        if opt.get("required"):
            if seen_optional:
                raise form_error(f"{where}.{i}.required", "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                                 "Required options must be placed before non-required options")
        else:
            seen_optional = True


def _embed_urls(embed: dict[str, Any]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if embed.get("url") is not None:
        out.append(("url", embed["url"]))
    for part in ("author", "footer", "thumbnail", "image"):
        sub = embed.get(part) or {}
        for key in ("url", "icon_url"):
            if sub.get(key) is not None:
                out.append((f"{part}.{key}", sub[key]))
    return out


def _check_url(url: Any, where: str) -> None:
    """Discord refuses anything but absolute http(s) (or attachment://) URLs in embeds/avatars."""
    text = str(url)
    if not re.match(r"^(https?://[^\s/]+|attachment://\S+)", text) or len(text) > 2048:
        raise form_error(where, "URL_TYPE_INVALID_URL", f"Not a well formed URL: {text[:100]!r}")


def _interactive(components: list[dict[str, Any]]) -> bool:
    for c in components:
        if c.get("type") in (2, 3, 5, 6, 7, 8) and c.get("style") != 5:
            return True
        if _interactive(c.get("components") or []):
            return True
    return False


def _emoji(raw: str) -> str:
    # custom emoji arrive as name:id; unicode ones as themselves (already URL-decoded)
    return raw


def _int_or_zero(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        return 0


__all__ = ["ApiError", "RecordedRequest", "RestApi", "iso"]
