"""Injected REST faults: the next N requests matching a route answer with an error instead."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: kind -> (status, Discord error code, message)
KINDS: dict[str, tuple[int, int, str]] = {
    "429": (429, 0, "You are being rate limited."),
    "500": (500, 0, "500: Internal Server Error"),
    "502": (502, 0, "502: Bad Gateway"),
    "503": (503, 0, "503: Service Unavailable"),
    "timeout": (0, 0, ""),
    "unknown_webhook": (404, 10015, "Unknown Webhook"),
    "unknown_message": (404, 10008, "Unknown Message"),
    "unknown_channel": (404, 10003, "Unknown Channel"),
    "unknown_interaction": (404, 10062, "Unknown interaction"),
    "missing_permissions": (403, 50013, "Missing Permissions"),
    "missing_access": (403, 50001, "Missing Access"),
    "archived_thread": (400, 50083, "Thread is archived"),
}


@dataclass
class Fault:
    """`route` is either a route template exactly as listed in `rest.ROUTES` (e.g.
    ``"POST /webhooks/{webhook_id}/{webhook_token}"``) or a regular expression searched in
    ``"METHOD /path"`` (path relative to /api/v10, e.g. ``r"POST /channels/\\d+/messages$"``)."""

    kind: str
    route: str
    count: int = 1
    retry_after: float = 1.0  # for "429"
    hang: float = 5.0  # for "timeout": seconds before the connection is closed
    is_global: bool = False  # for "429"
    hits: list[str] = field(default_factory=list)  # "METHOD /path" of each faulted request

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; choose one of {sorted(KINDS)}")
        self._regex = re.compile(self.route)

    @property
    def remaining(self) -> int:
        return self.count - len(self.hits)

    def matches(self, template: str | None, method: str, path: str) -> bool:
        if self.remaining <= 0:
            return False
        if template is not None and self.route == template:
            return True
        return self._regex.search(f"{method} {path}") is not None


class Faults:
    def __init__(self) -> None:
        self.active: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self.active.append(fault)
        return fault

    def take(self, template: str | None, method: str, path: str) -> Fault | None:
        for fault in self.active:
            if fault.matches(template, method, path):
                fault.hits.append(f"{method} {path}")
                return fault
        return None

    def clear(self) -> None:
        self.active.clear()
