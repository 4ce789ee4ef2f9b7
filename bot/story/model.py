"""The story model shared by every part of the narrator: Story, Scene, Beat, Character.

Offsets (`Beat.source`, `Beat.quotes`) are Python string indices into `Story.text`, the
source as read (after decoding and, for HTML, tag stripping). `Beat.text` is always
`Story.text[source[0]:source[1]]` for beats made by the segmenter; a hand-edited script may
change a beat's words, in which case offsets describe where the beat came from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

BeatKind = Literal["narration", "dialogue", "thought", "note"]

# One Discord message holds 2,000 characters; every beat must fit in one.
MAX_BEAT_CHARS = 2000


@dataclass(frozen=True, slots=True)
class Character:
    key: str  # stable id used in scripts, e.g. "gaara"
    name: str  # display name, e.g. "Gaara"
    aliases: tuple[str, ...] = ()  # other names incl. honorific forms ("Gaara-kun", "Uzumaki")
    pronouns: str = ""  # "he/him", "she/her", "they/them", "it/its"
    avatar_url: str | None = None  # direct image URL
    colour: str | None = None  # "#rrggbb"
    persona: str = ""  # one or two sentences on who they are and how they speak
    deflection: str | None = None  # in-character reply when /ask finds nothing known yet
    card: str | None = None  # path (relative to the story folder) of a Character Card V2 JSON

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True, slots=True)
class Beat:
    index: int  # story-wide, from 0 (the numbering of `export` and `ask --at`)
    scene: int  # index of the scene holding it
    kind: BeatKind
    text: str
    speaker: str | None = None  # character key for dialogue/thought; None for narration/notes
    speakers: tuple[str, ...] = ()  # every speaker of a group line ("The pair nodded")
    source: tuple[int, int] = (0, 0)
    quotes: tuple[tuple[int, int], ...] = ()
    # how sure the importer is of the speaker (0-1; None for narration, notes and hand-written
    # scripts), whether a person should check it, and the next most likely speaker's key; the
    # importer's opinion, not part of what is performed (left out of equality)
    confidence: float | None = field(default=None, compare=False)
    review: bool = field(default=False, compare=False)
    runner_up: str | None = field(default=None, compare=False)

    @property
    def voiced(self) -> bool:
        return self.kind in ("dialogue", "thought") and self.speaker is not None

    def quoted_text(self) -> list[str]:
        """The spoken (or thought) words of the beat, taken from `text` via the quote offsets."""
        start = self.source[0]
        out = []
        for q0, q1 in self.quotes:
            a, b = q0 - start, q1 - start
            if 0 <= a <= b <= len(self.text):
                out.append(self.text[a:b])
        return out

    def word_count(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True, slots=True)
class Scene:
    index: int
    title: str | None
    beats: tuple[Beat, ...]

    @property
    def first_beat(self) -> int:
        return self.beats[0].index if self.beats else -1

    @property
    def last_beat(self) -> int:
        return self.beats[-1].index if self.beats else -1


# weakref_slot: the server library remembers, without holding them, the stories sessions still play
@dataclass(frozen=True, slots=True, weakref_slot=True)
class Story:
    slug: str
    title: str
    scenes: tuple[Scene, ...]
    characters: tuple[Character, ...] = ()
    author: str = ""
    credit: str = ""
    source_note: str = ""
    content_warnings: tuple[str, ...] = ()
    language: str = "en"
    narrator_name: str = "Narrator"
    narrator_avatar_url: str | None = None
    text: str = ""  # the source as read; offsets point into it
    _beats: tuple[Beat, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        flat = tuple(b for s in self.scenes for b in s.beats)
        object.__setattr__(self, "_beats", flat)

    @property
    def beats(self) -> tuple[Beat, ...]:
        return self._beats

    def beat(self, index: int) -> Beat:
        return self._beats[index]

    def __len__(self) -> int:
        return len(self._beats)

    def scene_of(self, beat_index: int) -> Scene:
        return self.scenes[self._beats[beat_index].scene]

    def character(self, key: str) -> Character | None:
        for c in self.characters:
            if c.key == key:
                return c
        return None

    def find_character(self, name: str) -> Character | None:
        """Match by key, name or alias, case-insensitive."""
        wanted = name.strip().casefold()
        for c in self.characters:
            if wanted == c.key.casefold() or any(wanted == n.casefold() for n in c.names()):
                return c
        return None

    def iter_playable(self, *, include_notes: bool = False) -> Iterator[Beat]:
        for b in self._beats:
            if b.kind != "note" or include_notes:
                yield b

    def content_hash(self) -> str:
        """Changes whenever anything a session depends on (beats, speakers) changes."""
        h = hashlib.sha256()
        for b in self._beats:
            h.update(json.dumps([b.index, b.scene, b.kind, b.speaker, list(b.speakers), b.text]).encode())
        return h.hexdigest()[:16]
