"""Sentence boundaries and the splitting of over-long text into message-sized pieces."""

from __future__ import annotations

import re
import unicodedata

# A sentence ends after . ! ? … (and any closing quotes/brackets) followed by white space.
SENTENCE_END = re.compile(r"[.!?…]+[\"”’')\]»]*(?=\s)|[.!?…]+[\"”’')\]»]*$")
_ABBREV = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Mx|Dr|St|Sr|Jr|Prof|Capt|Col|Gen|Lt|Sgt|Rev|Hon|vs|etc|No|Mt|Ft)|\b[A-Z])\.$")


def sentence_ends(text: str, start: int, end: int) -> list[int]:
    """Offsets just past each sentence end in text[start:end] (abbreviations like "Mr." skipped)."""
    out = []
    for m in SENTENCE_END.finditer(text, start, end):
        if text[m.end() - 1] == "." and _ABBREV.search(text, max(start, m.end() - 6), m.end()):
            continue
        out.append(m.end())
    return out


def split_long(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut text[start:end] into pieces of at most `limit` characters, preferring sentence ends,
    then white space; a single word longer than `limit` is cut between characters (never
    before a combining mark). Pieces are stripped of surrounding white space."""
    pieces: list[tuple[int, int]] = []
    a = skip_space(text, start, end)
    while a < end:
        b = trim_end(text, a, end)
        if b - a <= limit:
            if b > a:
                pieces.append((a, b))
            break
        hard = a + limit
        cut = -1
        for e in sentence_ends(text, a + limit // 4, hard + 1):
            if e <= hard:
                cut = e
        if cut < 0:
            ws = max(text.rfind(" ", a + 1, hard + 1), text.rfind("\n", a + 1, hard + 1),
                     text.rfind("\t", a + 1, hard + 1))
            if ws > a:
                cut = ws
        if cut < 0:
            cut = hard
            while cut > a + 1 and unicodedata.combining(text[cut]):
                cut -= 1
        e2 = trim_end(text, a, cut)
        if e2 > a:
            pieces.append((a, e2))
        a = skip_space(text, cut, end)
    return pieces


def skip_space(text: str, a: int, b: int) -> int:
    """First non-space index in text[a:b] (b when all space)."""
    while a < b and text[a].isspace():
        a += 1
    return a


def trim_end(text: str, a: int, b: int) -> int:
    """End index of text[a:b] without trailing space."""
    while b > a and text[b - 1].isspace():
        b -= 1
    return b
