"""A story as the JSON of `narrator segment` / `narrator export` (the shape issue 3 specifies)."""

from __future__ import annotations

from typing import Any

from bot.story.model import Beat, Story


def beat_to_json(beat: Beat) -> dict[str, Any]:
    return {
        "index": beat.index,
        "kind": beat.kind,
        "speaker": beat.speaker,
        "speakers": list(beat.speakers),
        "text": beat.text,
        "source": [beat.source[0], beat.source[1]],
        "quotes": [[a, b] for a, b in beat.quotes],
        "confidence": beat.confidence,
        "review": beat.review,
    }


def story_to_json(story: Story) -> dict[str, Any]:
    """{"story", "title", "characters": [...], "scenes": [{"index", "title", "beats": [...]}]}."""
    return {
        "story": story.slug,
        "title": story.title,
        "characters": [{"key": c.key, "name": c.name, "aliases": list(c.aliases)}
                       for c in story.characters],
        "scenes": [
            {"index": s.index, "title": s.title, "beats": [beat_to_json(b) for b in s.beats]}
            for s in story.scenes
        ],
    }
