"""Recognising our own messages in a channel's history after a crash or an unknown-outcome post. Pure."""

from __future__ import annotations

import re

from bot.engine.stage import Cue, SeenMessage

RECONCILE_SKEW = 120.0  # seconds of clock difference tolerated between us and the stage

_NORM = re.compile(r"[\W_]+", re.UNICODE)


def _norm(s: str) -> str:
    return _NORM.sub(" ", s).strip().casefold()


def cue_matches(cue: Cue, seen: SeenMessage) -> bool:
    """Does a message the stage still sees look like this cue? (author name + the cue's words)"""
    if _norm(seen.author_name) != _norm(cue.voice.name):
        return False
    needle = _norm(cue.text)[:160]
    return bool(needle) and needle in _norm(seen.content)


def split_chain(cue: Cue, first: SeenMessage, candidates: list[SeenMessage]) -> list[SeenMessage]:
    """The messages a split cue became: `first` (its opening words matched) and the messages by the
    same voice right after it whose words continue the cue. `candidates` is in posting order."""
    whole = _norm(" ".join(x for x in (cue.heading, cue.text, cue.aside) if x))
    chain = [first]
    author = _norm(first.author_name)
    for m in candidates[candidates.index(first) + 1:]:
        words = _norm(m.content)
        if _norm(m.author_name) != author or not words or words[:160] not in whole:
            break
        chain.append(m)
    return chain
