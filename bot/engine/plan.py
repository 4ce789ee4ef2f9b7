"""What a session posts next (title, beat, merged narration, closing card) and the cue of a post on
record. Pure: no clock, no I/O; the player asks it with the session row and the time."""

from __future__ import annotations

from dataclasses import replace
from typing import NamedTuple

from bot.engine.cues import can_merge, closing_cue, cue_for_beat, merge_narration, title_cue
from bot.engine.facts import facts
from bot.engine.pacing import Pacing
from bot.engine.stage import Cue
from bot.store.sessions import PostRow, SessionRow
from bot.story.model import Beat, Story


class Planned(NamedTuple):
    kind: str  # "title", "beat" or "closing"
    first: int | None  # first story-wide beat index covered (None for cards)
    last: int | None
    cue: Cue
    words: int


def playable_from(story: Story | None, i: int, include_notes: bool) -> int | None:
    """The first beat at or after `i` this session plays (notes skipped unless included)."""
    if story is None:
        return None
    n = len(story)
    if not include_notes:
        while i < n and story.beat(i).kind == "note":
            i += 1
    return i if i < n else None


def headed(story: Story | None, cue: Cue, include_notes: bool) -> Cue:
    """Add "Scene N — Title" when the cue opens a scene (scene 1 only when it has a title)."""
    if story is None or cue.beats is None:
        return cue
    heading = scene_headings(story, include_notes).get(cue.beats[0])
    return cue if heading is None else replace(cue, heading=heading)


def scene_headings(story: Story, include_notes: bool) -> dict[int, str]:
    """Beat index -> "Scene N — Title" for the first beat each scene plays (scene 1 only when it
    has a title). Computed once per story (`facts`), not on every post."""
    cache = facts(story).cues
    key = ("headings", include_notes)
    known: dict[int, str] | None = cache.get(key)
    if known is not None:
        return known
    out: dict[int, str] = {}
    for scene in story.scenes:
        first = playable_from(story, max(scene.first_beat, 0), include_notes)
        if first is None or story.beat(first).scene != scene.index:
            continue
        title = " ".join((scene.title or "").split())
        if scene.index == 0 and not title:
            continue
        out[first] = f"Scene {scene.index + 1}" + (f" — {title}" if title else "")
    cache[key] = out
    return out


def next_post(story: Story, row: SessionRow, pacing: Pacing, max_cue_chars: int, now: float) -> Planned:
    """What to post next for the session in `row`."""
    notes = bool(row.include_notes)
    if not row.title_posted:
        return Planned("title", None, None, title_cue(story, session_id=row.id, wpm=row.wpm), 0)
    i = playable_from(story, row.position, notes)
    if i is None:
        return Planned("closing", None, None, closing_cue(story, session_id=row.id), 0)
    controls = row.mode != "auto"
    beat = story.beat(i)
    beats: list[Beat] = [beat]
    words = facts(story).words
    if row.mode == "auto" and beat.kind == "narration" and row.next_due_at is not None:
        # Behind schedule (the rate budget held us back): fold narration beats that would
        # already have been due into this message instead of queueing them.
        due, j = row.next_due_at, i
        while True:
            due += pacing.delay_after(words[j], row.wpm)
            if due > now:  # the usual case: on time, nothing to fold in
                break
            k = playable_from(story, j + 1, notes)
            if k is None or not can_merge(story, [*beats, story.beat(k)], max_cue_chars):
                break
            beats.append(story.beat(k))
            j = k
    if len(beats) > 1:
        cue = merge_narration(story, beats, session_id=row.id, controls=controls)
    else:
        cue = cue_for_beat(story, beat, session_id=row.id, controls=controls)
    return Planned("beat", beats[0].index, beats[-1].index, headed(story, cue, notes),
                   sum(words[b.index] for b in beats))


def rebuild(story: Story | None, row: SessionRow, p: PostRow) -> Cue | None:
    """The cue a post on record showed (to find it in the channel again, or to mark it rewound)."""
    if story is None:
        return None
    if p.kind == "title":
        return title_cue(story, session_id=row.id, wpm=row.wpm)
    if p.kind == "closing":
        return closing_cue(story, session_id=row.id)
    if p.first_beat is None or p.last_beat is None or p.last_beat >= len(story):
        return None
    controls = row.mode != "auto"
    notes = bool(row.include_notes)
    if p.first_beat == p.last_beat:
        return headed(story, cue_for_beat(story, story.beat(p.first_beat), session_id=row.id, controls=controls),
                      notes)
    beats = [b for b in story.beats[p.first_beat:p.last_beat + 1] if b.kind != "note" or notes]
    return headed(story, merge_narration(story, beats, session_id=row.id, controls=controls), notes)


def is_current(story: Story | None, row: SessionRow, p: PostRow) -> bool:
    """Is this unresolved post the one the session is waiting to see delivered?"""
    if row.state in ("finished", "stopped"):
        return False
    notes = bool(row.include_notes)
    if p.kind == "title":
        return not row.title_posted
    if p.kind == "closing":
        return row.state == "playing" and bool(row.title_posted) and playable_from(story, row.position, notes) is None
    return bool(row.title_posted) and p.first_beat == playable_from(story, row.position, notes)


def provably_rewound(row: SessionRow, p: PostRow) -> bool:
    """Did a rewind take this delivered post back? Only a post showing beats at or after the
    position of a live session (or a closing card before the end) provably was; a stop, a jump
    forward or anything unclear keeps the message readers saw."""
    if row.state not in ("playing", "waiting", "paused"):
        return False
    if p.kind == "closing":
        return True
    return p.kind == "beat" and p.first_beat is not None and p.first_beat >= row.position
