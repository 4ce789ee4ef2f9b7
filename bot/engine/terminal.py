"""A Stage that performs the story in a terminal: a colour per character (ANSI, unless NO_COLOR
is set or the output is not a terminal), the narrator plain, asides dim, thoughts italic, cards
in a box."""

from __future__ import annotations

import os
import re
import shutil
import sys
import textwrap
import zlib
from typing import TextIO

from bot.engine.stage import Cue, Gone, MessageRef, Place, SeenMessage

_PALETTE = (33, 35, 32, 36, 31, 34, 93, 95, 92, 96, 91, 94)
RESET, BOLD, DIM, ITALIC = "\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[3m"
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")


def wants_colour(out: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


class TerminalStage:
    def __init__(self, out: TextIO | None = None, *, colour: bool | None = None, width: int | None = None) -> None:
        self.out = out or sys.stdout
        self.colour = wants_colour(self.out) if colour is None else colour
        self.width = width or max(40, min(100, shutil.get_terminal_size((100, 24)).columns))
        self._next_id = 1
        self._seen: list[SeenMessage] = []
        self._texts: dict[int, str] = {}

    # -- styling --------------------------------------------------------------------------------
    def _style(self, text: str, *codes: str) -> str:
        if not self.colour or not codes:
            return text
        return "".join(codes) + text + RESET

    def _voice_colour(self, cue: Cue) -> str:
        if cue.voice.colour and len(cue.voice.colour) == 7 and cue.voice.colour.startswith("#"):
            try:
                r, g, b = (int(cue.voice.colour[i:i + 2], 16) for i in (1, 3, 5))
                return f"\x1b[38;2;{r};{g};{b}m"
            except ValueError:
                pass
        key = cue.voice.key or cue.voice.name
        return f"\x1b[{_PALETTE[zlib.crc32(key.encode()) % len(_PALETTE)]}m"

    def _wrap(self, text: str, indent: str = "") -> str:
        """Reflow to the terminal's width as the script does: a hard-wrapped source's single line
        breaks join with a space; a blank line still separates paragraphs."""
        paragraphs = [" ".join(p.split()) for p in _PARAGRAPH.split(text.strip())]
        return "\n\n".join(textwrap.fill(p, self.width, initial_indent=indent, subsequent_indent=indent)
                             for p in paragraphs if p)

    def _box(self, lines: list[str]) -> str:
        inner = self.width - 4
        wrapped: list[str] = []
        for ln in lines:
            wrapped.extend(textwrap.wrap(ln, inner) or [""])
        top = "┌" + "─" * (inner + 2) + "┐"
        bottom = "└" + "─" * (inner + 2) + "┘"
        body = ["│ " + ln.ljust(inner) + " │" for ln in wrapped]
        return "\n".join([top, *body, bottom])

    def render(self, cue: Cue) -> str:
        if cue.card is not None:
            c = cue.card
            lines = [c.title.upper() if cue.kind == "title" else c.title]
            if c.description:
                lines += ["", c.description.replace("*", "")]
            for name, value in c.fields:
                lines += ["", f"{name}: {value}"]
            if c.footer:
                lines += ["", c.footer]
            return self._style(self._box(lines), BOLD)
        if cue.kind in ("narration", "notice"):
            return self._wrap(cue.text)
        if cue.kind == "note":
            return self._style(self._wrap("[Author's note] " + cue.text), DIM)
        colour = self._voice_colour(cue)
        name = self._style(cue.voice.name, BOLD, colour)
        if cue.kind == "thought":
            head = f"{cue.voice.name} (thinks): "
            body = self._wrap(head + cue.text)[len(head):]
            out = name + self._style(" (thinks): ", DIM) + self._style(body, ITALIC, colour)
        else:
            head = f"{cue.voice.name}: "
            body = self._wrap(head + "“" + cue.text + "”")[len(head):]
            out = name + ": " + self._style(body, colour)
        if cue.aside:
            out += "\n" + self._style(self._wrap(cue.aside, "    "), DIM)
        return out

    def _print(self, text: str) -> None:
        try:
            print(text, file=self.out, flush=True)
        except BrokenPipeError:  # `narrator demo | head`: the reader went away
            raise Gone("the terminal output was closed") from None

    # -- Stage ----------------------------------------------------------------------------------
    def rule(self, heading: str) -> str:
        """A scene heading as a rule line: ──── Scene 2 — The Hospital ────────"""
        label = f" {heading} "
        side = max(4, (self.width - len(label)) // 2)
        return self._style("─" * side + label + "─" * max(4, self.width - side - len(label)), BOLD)

    async def post(self, place: Place, cue: Cue) -> MessageRef:
        text = self.render(cue)
        if cue.heading:
            text = self.rule(cue.heading) + "\n\n" + text
        self._print(text + "\n")
        mid = self._next_id
        self._next_id += 1
        plain = cue.card.title if cue.card else cue.text
        self._seen.append(SeenMessage(mid, cue.voice.name, plain, 0.0))
        del self._seen[:-50]
        self._texts[mid] = cue.text[:60]
        return MessageRef(place, mid)

    async def edit(self, ref: MessageRef, cue: Cue) -> None:
        self._print(self._style(f"(taken back: {self._texts.get(ref.message_id, '…')}…)", DIM))

    async def delete(self, ref: MessageRef) -> None:
        self._print(self._style(f"(taken back: {self._texts.get(ref.message_id, '…')}…)", DIM))

    async def typing(self, place: Place) -> None:
        return None

    async def recent(self, place: Place, limit: int = 20) -> list[SeenMessage]:
        return list(reversed(self._seen))[:limit]

    async def notify_moderators(self, place: Place, text: str) -> None:
        self._print(self._style(f"! {text}", BOLD))
