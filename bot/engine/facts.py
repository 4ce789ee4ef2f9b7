"""What the engine computes from a story once instead of on every post: word counts, each beat's
spoken words and speech tag. Pure. (The content hash is cached by `Story.content_hash` itself.)

Stories are immutable, and a library reload gives new Story objects, so the facts are kept per
story object, as long as that object lives: they never keep a story in memory (the server
library lets a story go once no session plays it). At 10,000 sessions this is what keeps a post from
splitting and regex-cleaning its beat again.
"""

from __future__ import annotations

import weakref
from typing import Any

from bot.story.model import Story


class StoryFacts:
    __slots__ = ("_playable", "_story", "cues", "words")

    def __init__(self, story: Story) -> None:
        self._story = weakref.ref(story)
        self.words: tuple[int, ...] = tuple(b.word_count() for b in story.beats)
        self._playable: int | None = None
        self.cues: dict[Any, Any] = {}  # bot.engine.cues' per-beat parts, filled on first use

    @property
    def playable_words(self) -> int:
        """Words of the beats a reader is shown (the title card's reading time)."""
        if self._playable is None:
            self._playable = sum(b.word_count() for b in self.story.iter_playable())
        return self._playable

    @property
    def story(self) -> Story:
        story = self._story()
        assert story is not None  # the facts go with their story
        return story


_facts: dict[int, StoryFacts] = {}


def facts(story: Story) -> StoryFacts:
    """The facts of `story` (computed on first use, forgotten with the story)."""
    key = id(story)
    known = _facts.get(key)
    if known is not None and known._story() is story:
        return known
    made = _facts[key] = StoryFacts(story)

    def forget() -> None:
        if _facts.get(key) is made:
            del _facts[key]

    weakref.finalize(story, forget)
    return made

