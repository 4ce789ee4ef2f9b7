"""Turn beats into Cues: who speaks, what they say, and the speech tag shown small beneath."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.engine.facts import facts
from bot.engine.stage import Card, Cue, CueKind, Voice
from bot.story.model import Beat, Story

# Merged narration stays under this (Discord allows 2,000). A single beat is never cut: a stage
# splits a longer cue into several messages at paragraph/sentence boundaries.
MAX_CUE_CHARS = 1900
_QUOTE_MARKS = "\"'“”‘’«»„‟‹›*_"
_SPACES = re.compile(r"\s+")
# A gap between two quoted spans that is only a short speech tag ("he said,") is joined with a
# space; a longer action beat between them reads as a pause, shown as " … ".
_PAUSE_WORDS = 6


def narrator_voice(story: Story) -> Voice:
    return Voice(name=story.narrator_name or "Narrator", key=None, avatar_url=story.narrator_avatar_url)


def character_voice(story: Story, key: str, *, group: Sequence[str] = ()) -> Voice:
    c = story.character(key) or story.find_character(key)
    name = c.name if c else key.replace("-", " ").replace("_", " ").title()
    if len(group) > 1:
        names = []
        for k in group:
            g = story.character(k)
            names.append(g.name if g else k.title())
        name = " & ".join(names)
    return Voice(name=name[:80], key=c.key if c else key, avatar_url=c.avatar_url if c else None,
                 colour=c.colour if c else None)


def _clean(s: str) -> str:
    return _SPACES.sub(" ", s).strip()


def _spans(beat: Beat) -> list[tuple[int, int]]:
    start, out = beat.source[0], []
    for q0, q1 in beat.quotes:
        a, b = q0 - start, q1 - start
        if 0 <= a <= b <= len(beat.text):
            out.append((a, b))
    return out


_FALLBACK = re.compile(r"“([^”]+)”|\"([^\"]+)\"|\*([^*]+)\*|‘([^’]+)’(?!\w)")


def _find_spans(text: str) -> list[tuple[int, int]]:
    """Quoted (or *emphasised*) spans found in the text itself, for beats without quote offsets."""
    out = []
    for m in _FALLBACK.finditer(text):
        g = next(i for i in range(1, 5) if m.group(i) is not None)
        out.append((m.start(g), m.end(g)))
    return out


def spoken_parts(beat: Beat) -> tuple[str, str | None]:
    """(the quoted words joined, the rest of the paragraph) for a dialogue or thought beat."""
    spans = _spans(beat) or _find_spans(beat.text)
    if not spans:
        return _clean(beat.text), None
    text = beat.text
    pieces: list[str] = []
    prev_end: int | None = None
    for a, b in spans:
        words = _clean(text[a:b])
        if not words:
            continue
        if pieces and prev_end is not None:
            gap = text[prev_end:a].strip(" " + _QUOTE_MARKS)
            if pieces[-1].endswith(",") and gap.endswith((".", "!", "?")):
                # “You look like hell,” he said. “Can you stand?” -> You look like hell. Can you stand?
                pieces[-1] = pieces[-1][:-1] + "."
            sep = " … " if len(gap.split()) >= _PAUSE_WORDS or pieces[-1].endswith(("—", "–", "-")) else " "
            pieces.append(sep)
        pieces.append(words)
        prev_end = b
    said = "".join(pieces)
    if said.endswith(",") and len(spans) and spans[-1][1] < len(text.rstrip()) - 1:
        said = said[:-1] + "."  # “Good,” said Gaara.  ->  Good.
    # The aside: the paragraph with every quoted span (and its quote marks) removed.
    rest: list[str] = []
    pos = 0
    for a, b in spans:
        a2 = a - 1 if a > 0 and text[a - 1] in _QUOTE_MARKS else a
        b2 = b + 1 if b < len(text) and text[b] in _QUOTE_MARKS else b
        rest.append(text[pos:a2])
        rest.append(" ")
        pos = b2
    rest.append(text[pos:])
    aside = _clean("".join(rest))
    aside = re.sub(r"\s+([,.;:!?…])", r"\1", aside)
    aside = re.sub(r"([,;:])(?=[,.;:!?])", "", aside)
    aside = aside.strip(" ,;:—–-")
    if aside and not re.search(r"\w", aside):
        aside = ""
    if aside:
        # Shown on its own line, the tag reads as a sentence: "The demon hissed.", not "the demon hissed"
        aside = aside[0].upper() + aside[1:]
        if aside[-1] not in ".!?…\"”’)":
            aside += "."
    return said or _clean(text), (aside or None)


def cue_for_beat(story: Story, beat: Beat, *, session_id: int | None = None, controls: bool = False) -> Cue:
    """The Cue for one beat: narration (and notes) in the narrator's voice; dialogue and thoughts
    in the character's voice, the quoted words as `text` and the speech tag as `aside`."""
    i = beat.index
    ours = 0 <= i < len(story) and story.beats[i] is beat  # else a beat built apart: not cached
    cache = facts(story).cues
    parts = cache.get(i) if ours else None
    if parts is None:
        parts = _beat_parts(story, beat)
        if ours:  # computed once per beat of this story object
            cache[i] = parts
    kind, voice, text, aside = parts
    return Cue(kind, voice, text, aside, (beat.index, beat.index), controls, None, session_id)


def _beat_parts(story: Story, beat: Beat) -> tuple[CueKind, Voice, str, str | None]:
    if beat.kind in ("dialogue", "thought") and beat.speaker:
        said, aside = spoken_parts(beat)
        return beat.kind, character_voice(story, beat.speaker, group=beat.speakers), said, aside
    kind: CueKind = "note" if beat.kind == "note" else "narration"
    return kind, narrator_voice(story), beat.text.strip(), None


def merge_narration(story: Story, beats: Sequence[Beat], *, session_id: int | None = None,
                    controls: bool = False) -> Cue:
    """One narrator Cue for consecutive narration beats (the caller keeps it under the limit)."""
    text = "\n\n".join(b.text.strip() for b in beats)
    return Cue(kind="narration", voice=narrator_voice(story), text=text,
               beats=(beats[0].index, beats[-1].index), controls=controls, session_id=session_id)


def can_merge(story: Story, beats: Sequence[Beat], limit: int = MAX_CUE_CHARS) -> bool:
    if not beats or any(b.kind != "narration" for b in beats):
        return False
    if len({b.scene for b in beats}) != 1:
        return False
    return sum(len(b.text.strip()) for b in beats) + 2 * (len(beats) - 1) <= limit


def title_cue(story: Story, *, session_id: int | None = None, wpm: int = 200) -> Cue:
    words = facts(story).playable_words
    minutes = max(1, round(words / max(1, wpm)))
    fields: list[tuple[str, str]] = []
    if story.content_warnings:
        fields.append(("Content warnings", ", ".join(story.content_warnings)))
    if story.characters:
        fields.append(("Cast", ", ".join(c.name for c in story.characters)[:1000]))
    by = story.credit or (f"by {story.author}" if story.author else "")
    scenes = len(story.scenes)
    card = Card(title=story.title[:256], description=by[:2000], fields=tuple(fields),
                footer=f"{scenes} scene{'s' if scenes != 1 else ''} · about {minutes} min of reading")
    return Cue(kind="title", voice=narrator_voice(story), text=story.title[:256], card=card,
               session_id=session_id)


def closing_cue(story: Story, *, session_id: int | None = None) -> Cue:
    by = story.credit or (f"by {story.author}" if story.author else "")
    desc = f"*{story.title}*" + (f" — {by}" if by else "")
    card = Card(title="The End", description=desc[:2000], footer="Thank you for reading.")
    return Cue(kind="closing", voice=narrator_voice(story), text="The End", card=card, session_id=session_id)


def rewound_cue(cue: Cue) -> Cue:
    """What a message becomes when a rewind marks it instead of deleting it."""
    return Cue(kind=cue.kind, voice=cue.voice, text=cue.text, aside="⏪ rewound — the story continues below",
               beats=cue.beats, card=None, session_id=cue.session_id, heading=cue.heading, rewound=True)


def cue_words(cue: Cue) -> int:
    return len(cue.text.split())
