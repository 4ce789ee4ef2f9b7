"""The session state machine as data: (state, command) -> next state, or a refusal.

Pure: no clock, no I/O. `Narrator` asks `transition()` before it changes anything, so every
refusal a user can see is written here, once. Tests enumerate `TABLE` (every state × command).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.engine.api import STATES, Mode, NarratorError, NotAllowed, SessionExists, State

Command = Literal[
    "start", "pause", "resume", "next", "advance", "rewind", "jump", "stop", "restart",
    "set_pace", "set_mode", "beat_posted", "scene_end", "finish", "fail",
]
COMMANDS: tuple[Command, ...] = (
    "start", "pause", "resume", "next", "advance", "rewind", "jump", "stop", "restart",
    "set_pace", "set_mode", "beat_posted", "scene_end", "finish", "fail",
)


@dataclass(frozen=True, slots=True)
class Refuse:
    error: type[NarratorError]
    message: str


# A target is a state, "same" (state unchanged) or "by_mode" (playing in auto mode, else waiting:
# manual and vote sessions wait for readers after each beat and at each scene end).
Target = State | Literal["same", "by_mode"]
Outcome = Target | Refuse

_RUNNING = Refuse(SessionExists, "A story is already running here; stop it with /story stop first.")
_PAUSED = Refuse(NotAllowed, "The story is paused; resume it with /story resume first.")
_FINISHED = Refuse(NotAllowed, "The story has finished; /story restart plays it again.")
_STOPPED = Refuse(NotAllowed, "No story is running here; start one with /story start.")
_INTERNAL = Refuse(NotAllowed, "That can't happen in this state.")

TABLE: dict[tuple[State, Command], Outcome] = {
    # playing: a beat is due (or being posted)
    ("playing", "start"): _RUNNING,
    ("playing", "pause"): "paused",
    ("playing", "resume"): Refuse(NotAllowed, "The story is already playing."),
    ("playing", "next"): "playing",
    ("playing", "advance"): "same",  # already moving on: a second ▶ changes nothing
    ("playing", "rewind"): "playing",
    ("playing", "jump"): "playing",
    ("playing", "stop"): "stopped",
    ("playing", "restart"): "playing",
    ("playing", "set_pace"): "same",
    ("playing", "set_mode"): "same",
    ("playing", "beat_posted"): "by_mode",
    ("playing", "scene_end"): "by_mode",
    ("playing", "finish"): "finished",
    ("playing", "fail"): "paused",
    # waiting: for readers (manual/vote) after a beat or at a scene end
    ("waiting", "start"): _RUNNING,
    ("waiting", "pause"): "paused",
    ("waiting", "resume"): Refuse(NotAllowed, "The story isn't paused; it is waiting for readers to press ▶."),
    ("waiting", "next"): "playing",
    ("waiting", "advance"): "playing",
    ("waiting", "rewind"): "playing",
    ("waiting", "jump"): "playing",
    ("waiting", "stop"): "stopped",
    ("waiting", "restart"): "playing",
    ("waiting", "set_pace"): "same",
    ("waiting", "set_mode"): "by_mode",
    ("waiting", "beat_posted"): _INTERNAL,
    ("waiting", "scene_end"): _INTERNAL,
    ("waiting", "finish"): _INTERNAL,
    ("waiting", "fail"): "paused",
    # paused: by a moderator or because the stage refused (pause_reason says which)
    ("paused", "start"): _RUNNING,
    ("paused", "pause"): Refuse(NotAllowed, "The story is already paused."),
    ("paused", "resume"): "by_mode",
    ("paused", "next"): _PAUSED,
    ("paused", "advance"): _PAUSED,
    ("paused", "rewind"): "paused",
    ("paused", "jump"): "paused",
    ("paused", "stop"): "stopped",
    ("paused", "restart"): "playing",
    ("paused", "set_pace"): "same",
    ("paused", "set_mode"): "same",
    ("paused", "beat_posted"): _INTERNAL,
    ("paused", "scene_end"): _INTERNAL,
    ("paused", "finish"): _INTERNAL,
    ("paused", "fail"): "paused",
    # finished: the closing card is up
    ("finished", "start"): "playing",  # a new session in the same channel
    ("finished", "pause"): _FINISHED,
    ("finished", "resume"): _FINISHED,
    ("finished", "next"): _FINISHED,
    ("finished", "advance"): _FINISHED,
    ("finished", "rewind"): "paused",  # reopened at the new position; resume to go on
    ("finished", "jump"): "paused",
    ("finished", "stop"): _FINISHED,
    ("finished", "restart"): "playing",
    ("finished", "set_pace"): _FINISHED,
    ("finished", "set_mode"): _FINISHED,
    ("finished", "beat_posted"): _INTERNAL,
    ("finished", "scene_end"): _INTERNAL,
    ("finished", "finish"): _INTERNAL,
    ("finished", "fail"): _INTERNAL,
    # stopped: ended by a moderator
    ("stopped", "start"): "playing",
    ("stopped", "pause"): _STOPPED,
    ("stopped", "resume"): _STOPPED,
    ("stopped", "next"): _STOPPED,
    ("stopped", "advance"): _STOPPED,
    ("stopped", "rewind"): _STOPPED,
    ("stopped", "jump"): _STOPPED,
    ("stopped", "stop"): _STOPPED,
    ("stopped", "restart"): "playing",
    ("stopped", "set_pace"): _STOPPED,
    ("stopped", "set_mode"): _STOPPED,
    ("stopped", "beat_posted"): _INTERNAL,
    ("stopped", "scene_end"): _INTERNAL,
    ("stopped", "finish"): _INTERNAL,
    ("stopped", "fail"): _INTERNAL,
}

LIVE: frozenset[State] = frozenset({"playing", "waiting", "paused"})


def transition(state: State, command: Command, mode: Mode) -> State:
    """The state after `command`, or raise the refusal. `mode` is the mode AFTER the command."""
    outcome = TABLE[(state, command)]
    if isinstance(outcome, Refuse):
        raise outcome.error(outcome.message)
    if outcome == "same":
        return state
    if outcome == "by_mode":
        return "playing" if mode == "auto" else "waiting"
    return outcome


def allowed(state: State, command: Command) -> bool:
    return not isinstance(TABLE[(state, command)], Refuse)


assert all((s, c) in TABLE for s in STATES for c in COMMANDS), "transition table is incomplete"
