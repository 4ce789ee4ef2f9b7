"""The cast and helpers shared by the attribution tests written on sentences of our own
(test_attribution_novel, test_tags, test_turns, test_pronoun_tags)."""

from __future__ import annotations

from bot.story.attribution import Attributor, NameIndex, SpeakerGuess
from bot.story.model import Character
from bot.story.quotes import detect_style, find_quotes
from bot.story.ranker import Ranker
from bot.story.readers import read_document
from bot.story.segmenter import segment

CAST = [
    Character("clara", "Clara Venn", ("Clara", "Miss Venn"), "she/her"),
    Character("hugh", "Hugh Marlow", ("Hugh", "Mr. Marlow"), "he/him"),
    Character("agnes", "Agnes Pell", ("Agnes", "Mrs. Pell"), "she/her"),
    Character("tobias", "Tobias Grebe", ("Tobias", "Mr. Grebe"), "he/him"),
]


def speakers(text: str, cast: list[Character] = CAST, *, rules_only: bool = False) -> list[str | None]:
    """The speaker of every quoted span, in order (with `rules_only`, as the rules alone decide
    it: the learned ranker re-decides on top of them and may agree for reasons of its own)."""
    story = segment(read_document(text), cast, ranker=Ranker() if rules_only else None)
    return [b.speaker for b in story.beats if b.kind in ("dialogue", "thought") for _ in b.quotes]


def rule_speakers(text: str) -> list[str | None]:
    """`speakers` as the rules alone decide it."""
    return speakers(text, rules_only=True)


def paragraph_guesses(text: str, cast: list[Character] = CAST) -> list[SpeakerGuess]:
    """The attributor's guesses for every quote, paragraph by paragraph (blank-line separated),
    before turn-taking settles the untagged ones and without the ranker."""
    att = Attributor(text, NameIndex(cast, text))
    style = detect_style(text)
    out: list[SpeakerGuess] = []
    pos = 0
    for para in text.split("\n\n"):
        ps, pe = pos, pos + len(para.rstrip("\n"))
        out.extend(att.paragraph(ps, pe, find_quotes(text, ps, pe, style)))
        pos += len(para) + 2
    return out


def paragraph_voices(text: str, cast: list[Character] = CAST) -> list[tuple[tuple[str, ...], str, bool]]:
    """(speakers, rule, named) of every quote, as `paragraph_guesses` gives them."""
    return [(v.speakers, v.source, v.named) for v in paragraph_guesses(text, cast)]
