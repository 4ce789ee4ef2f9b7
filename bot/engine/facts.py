"""What the engine computes from a story once instead of on every post: word counts, the content
hash, each beat's spoken words and speech tag. Pure.

Stories are immutable, and a library reload gives new Story objects, so the facts are kept per
story object (the few most recent ones: a process plays a handful of stories, 10,000 sessions of
them). At 10,000 sessions this is what keeps a start or a resume from hashing the whole story
each time, and a post from splitting and regex-cleaning its beat again.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from bot.story.model import Story

_KEEP = 64  # story objects remembered (old versions drop out, least recently used first)


class StoryFacts:
    __slots__ = ("_hash", "_playable", "cues", "story", "words")

    def __init__(self, story: Story) -> None:
        self.story = story
        self.words: tuple[int, ...] = tuple(b.word_count() for b in story.beats)
        self._hash: str | None = None
        self._playable: int | None = None
        self.cues: dict[Any, Any] = {}  # bot.engine.cues' per-beat parts, filled on first use

    @property
    def content_hash(self) -> str:
        if self._hash is None:
            self._hash = self.story.content_hash()
        return self._hash

    @property
    def playable_words(self) -> int:
        """Words of the beats a reader is shown (the title card's reading time)."""
        if self._playable is None:
            self._playable = sum(b.word_count() for b in self.story.iter_playable())
        return self._playable


_facts: OrderedDict[int, StoryFacts] = OrderedDict()


def facts(story: Story) -> StoryFacts:
    """The facts of `story` (computed on first use)."""
    key = id(story)
    f = _facts.get(key)
    if f is not None and f.story is story:
        return f
    f = StoryFacts(story)
    _facts[key] = f
    _facts.move_to_end(key)
    while len(_facts) > _KEEP:
        _facts.popitem(last=False)
    return f


def content_hash(story: Story) -> str:
    return facts(story).content_hash


def words(story: Story, index: int) -> int:
    return facts(story).words[index]
