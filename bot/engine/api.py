"""What the outside (Discord commands, the terminal demo) may ask of the narration engine.

`bot.engine.narrator.Narrator` implements `NarratorService`. Commands call exactly one of these
methods and render the result; errors a user can act on are `NarratorError`s whose message is
one short sentence safe to show as-is (ephemeral on Discord).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from bot.engine.stage import Place

_T = TypeVar("_T")

State = Literal["playing", "waiting", "paused", "finished", "stopped"]
Mode = Literal["auto", "manual", "vote"]
Tidy = Literal["delete", "mark", "none"]  # what a rewind does to the later messages
STATES: tuple[State, ...] = ("playing", "waiting", "paused", "finished", "stopped")
MODES: tuple[Mode, ...] = ("auto", "manual", "vote")


class NarratorError(Exception):
    """A refusal or failure the user can act on; `str(e)` is shown to them verbatim."""


class NoSession(NarratorError):
    pass


class SessionExists(NarratorError):
    pass


class UnknownStory(NarratorError):
    pass


class NotAllowed(NarratorError):
    """The command is not valid in the session's current state (e.g. resume while playing)."""


class StorageFailed(NarratorError):
    """The database refused the change; nothing changed, and the session is paused until it can write."""


class TooFast(NarratorError):
    """A reader pressed ▶ again too soon; `retry_after` seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    name: str = ""
    moderator: bool = False


@dataclass(frozen=True, slots=True)
class SessionView:
    """A read-only snapshot for status displays."""

    session_id: int
    place: Place
    story_slug: str
    story_title: str
    state: State
    mode: Mode
    wpm: int
    position: int  # next beat to post (story-wide index); == beat_count when finished
    beat_count: int
    scene_index: int  # scene of the last posted beat (or the first scene before any)
    scene_count: int
    started_by: int
    votes: int  # distinct readers asking to continue at this position (vote mode)
    votes_needed: int
    pause_reason: str | None
    next_due_at: float | None  # wall-clock seconds when the next auto beat is due
    tidy: str = "delete"  # what a rewind does to the later messages: "delete", "mark" or "none"
    recording: bool = False  # a delivered post is not saved yet (the database failed): retried, never rewound


@dataclass(frozen=True, slots=True)
class AdvanceResult:
    advanced: bool  # a beat was (or is being) posted because of this request
    votes: int
    votes_needed: int


class NarratorService(Protocol):
    async def start(self, place: Place, story_slug: str, actor: Actor, *, mode: Mode = "auto",
                    wpm: int | None = None) -> SessionView: ...
    async def pause(self, place: Place, actor: Actor) -> SessionView: ...
    async def resume(self, place: Place, actor: Actor) -> SessionView: ...
    async def next(self, place: Place, actor: Actor) -> SessionView:
        """Moderator: post the next beat now (skips any wait, breather or vote)."""
        ...
    async def advance(self, place: Place, actor: Actor, message_id: int | None = None) -> AdvanceResult:
        """Reader: ▶ reaction / Continue button / `/story next` in manual or vote mode.
        `message_id` (when given) must be the latest beat's message, else it is ignored."""
        ...
    async def rewind(self, place: Place, actor: Actor, *, beats: int | None = None,
                     scene: Literal["current", "previous"] | None = None) -> SessionView: ...
    async def jump(self, place: Place, actor: Actor, scene: int) -> SessionView:
        """`scene` counts from 1 as users see it."""
        ...
    async def stop(self, place: Place, actor: Actor) -> SessionView: ...
    async def restart(self, place: Place, actor: Actor) -> SessionView: ...
    async def set_pace(self, place: Place, actor: Actor, *, wpm: int | None = None,
                       mode: Mode | None = None) -> SessionView: ...
    async def aside(self, place: Place, upto: int, post: Callable[[], Awaitable[_T]]) -> _T:
        """Run `post` (an answer quoting beats 0..upto) under the session's lock; refused
        (NotAllowed) when the story was taken back below `upto` meanwhile."""
        ...
    async def status(self, place: Place) -> SessionView | None: ...
    async def recap(self, place: Place) -> list[int]:
        """Beat indexes of the current scene that have been posted so far, in order."""
        ...
    async def resume_all(self) -> int:
        """Start-up: reload every playing/waiting session; returns how many."""
        ...
    async def close(self) -> None:
        """Stop timers, let in-flight posts finish and be recorded."""
        ...
