"""Checks shared by the spoiler tests: every quotation in an answer must come from beats 0..upto."""

from __future__ import annotations

import re

from bot.answers.voice import clean_story_text
from bot.story.model import Story

_QUOTED = re.compile(r"“([^”]*)”")


def quoted_fragments(answer_text: str) -> list[str]:
    out = []
    for m in _QUOTED.finditer(answer_text):
        for piece in re.split(r"[…—]|(?<=[.!?])\s", m.group(1)):
            piece = piece.strip(" .,!?")
            if len(piece) >= 12:
                out.append(piece)
    return out


def known_text(story: Story, upto: int) -> str:
    return "\n".join(clean_story_text(b.text) for b in story.beats[: upto + 1])


def later_only_fragments(story: Story, answer_text: str, upto: int) -> list[str]:
    """Quoted fragments of the answer that do not occur in beats 0..upto (a spoiler or a fabrication)."""
    known = known_text(story, upto)
    return [f for f in quoted_fragments(answer_text) if f not in known]
