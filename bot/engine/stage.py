"""The Stage protocol: the only way the engine reaches the outside world.

Implementations: the Discord webhook stage (`bot.discord_app`), the terminal stage (`make demo`)
and the recording stage (tests). A stage raises only the `StageError` subclasses below; anything
else is a bug in the stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

CueKind = Literal["narration", "dialogue", "thought", "note", "title", "closing", "answer", "notice"]


@dataclass(frozen=True, slots=True)
class Place:
    """Where a session plays: a channel, or a thread inside `parent_id`."""

    channel_id: int
    guild_id: int | None = None
    parent_id: int | None = None  # set when channel_id is a thread

    @property
    def is_thread(self) -> bool:
        return self.parent_id is not None


@dataclass(frozen=True, slots=True)
class Voice:
    """Who speaks: the narrator persona (`key` None) or a character."""

    name: str
    key: str | None = None
    avatar_url: str | None = None
    colour: str | None = None  # "#rrggbb"


@dataclass(frozen=True, slots=True)
class Card:
    """A title or closing card (rendered as an embed on Discord)."""

    title: str
    description: str = ""
    fields: tuple[tuple[str, str], ...] = ()  # (name, value)
    footer: str = ""


@dataclass(frozen=True, slots=True)
class Cue:
    """One post: a beat (or merged narration beats), a card, an answer or a notice.

    `text` is what the voice says (the quoted words for dialogue/thought, the prose for narration);
    `aside` is the speech tag / action beat shown small under it (Discord subtext `-#`).
    The engine never cuts a beat: a cue may be longer than one Discord message, and a stage that
    cannot show it in one piece splits it at paragraph/sentence boundaries into several messages
    (returning their ids in `MessageRef.parts`). Merged narration stays under 1,900 characters.
    `heading` ("Scene 2 — The Hospital") is shown above the first beat of a scene.
    `rewound` marks a message a rewind took back (shown struck through).
    """

    kind: CueKind
    voice: Voice
    text: str
    aside: str | None = None
    beats: tuple[int, int] | None = None  # first, last story-wide beat index covered
    controls: bool = False  # carry the ▶ reaction and Continue button (manual/vote modes)
    card: Card | None = None
    session_id: int | None = None  # lets a stage encode the session in a button custom_id
    heading: str | None = None  # "Scene N — Title" above the first beat of a scene
    rewound: bool = False  # taken back by a rewind (rendered struck through)


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A posted cue. `message_id` is its last message (the one carrying controls); `parts` are
    the earlier messages, oldest first, when the stage had to split the cue."""

    place: Place
    message_id: int
    parts: tuple[int, ...] = ()

    @property
    def all_ids(self) -> tuple[int, ...]:
        return (*self.parts, self.message_id)


@dataclass(frozen=True, slots=True)
class SeenMessage:
    """A message the stage can still see, for reconciling after a crash."""

    message_id: int
    author_name: str
    content: str
    created_at: float


class StageError(Exception):
    """A typed failure from a stage. Messages never contain tokens."""


class RateLimited(StageError):
    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Forbidden(StageError):
    """The bot lacks a permission it needs here; `fix` tells a moderator what to grant."""

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.fix = fix


class Gone(StageError):
    """The channel, thread or message no longer exists (or the thread is archived/locked)."""


class Unavailable(StageError):
    """A transient failure (5xx, timeout, disconnect): retry later without losing order."""


@runtime_checkable
class Stage(Protocol):
    async def post(self, place: Place, cue: Cue) -> MessageRef:
        """Post a cue and return its message; raise a StageError subclass on failure."""
        ...

    async def edit(self, ref: MessageRef, cue: Cue) -> None:
        """Replace a posted message's content (e.g. to remove controls or mark it rewound);
        every message in `ref.parts` is replaced too."""
        ...

    async def delete(self, ref: MessageRef) -> None:
        """Delete a posted message and its `parts`; one that is already gone is not an error."""
        ...

    async def typing(self, place: Place) -> None:
        """Show that the next post is being prepared (best effort; never raises)."""
        ...

    async def recent(self, place: Place, limit: int = 20) -> list[SeenMessage]:
        """Messages this stage posted lately in `place`, newest first (for crash reconciliation)."""
        ...

    async def notify_moderators(self, place: Place, text: str) -> None:
        """Tell the people running the story something they must act on (best effort)."""
        ...
