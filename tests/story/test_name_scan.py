"""Mentions of the cast are found by a fast scan (`_scan`) that must give exactly the matches of
the full name pattern, which is tried at every character: stammers ("G-G-Gaara"), honorific
suffixes, names inside words or after a hyphen, and ranges that cut a text anywhere."""

from __future__ import annotations

import random

from bot.story.attribution import NameIndex, _scan
from bot.story.model import Character
from tests.story.novel_cast import CAST

TEXT = ("G-G-Gaara looked at Hugh. xG-Gaara is no one, nor xClara Venn (but Venn is); McHugh neither, nor Hugh-like things, "
        "but Naruto-kun and Clara Venn are, and so is CLARA, and \"Tobias!\" cried Mrs. Pell. "
        "A-Agnes stammered; Miss Venn's cousin, Mr. Marlow, laughed: \"H-H-Hugh, really.\" "
        "Then _group and _Group spoke (the cast's lower-case forms).")
TEAM = [*CAST, Character("gaara", "Gaara", (), "he/him"), Character("naruto", "Naruto Uzumaki", ("Naruto",), "he/him"),
        Character("_group", "_group", (), "they/them")]


def _both(index: NameIndex, text: str, a: int, b: int) -> None:
    for rx, names in ((index.rx, index._rx_names), (index.rx_lower, index._rx_lower_names)):
        if rx is None or names is None:
            continue
        want = [(m.start(), m.end(), m.group(1)) for m in rx.finditer(text, a, b)]
        got = [(m.start(), m.end(), m.group(1)) for m in _scan(rx, names, text, a, b)]
        assert got == want, (a, b)


def test_the_fast_scan_finds_what_the_full_pattern_finds() -> None:
    index = NameIndex(TEAM, TEXT)
    assert index.rx is not None and index.rx_lower is not None
    keys = [m.key for m in index.find(TEXT, 0, len(TEXT))]
    assert keys[:2] == ["gaara", "hugh"] and "naruto" in keys and "_group" in keys
    assert TEXT[index.find(TEXT, 0, len(TEXT))[0].start:].startswith("G-G-Gaara")  # the stammer is part of it
    _both(index, TEXT, 0, len(TEXT))
    rnd = random.Random(7)
    for _ in range(2000):  # ranges that start or end inside names, stammers and words
        a = rnd.randrange(len(TEXT))
        _both(index, TEXT, a, rnd.randrange(a, len(TEXT) + 1))
