"""Turn-taking (issue 10): how sure the rules are of an untagged line follows how much better
the whole run reads with its speaker than with anyone else (the decoder's margin), so a run
whose own words bear out its alternation is surer than the same run without them, and a line
the run's evidence pulls two ways is less sure (sentences of our own)."""

from __future__ import annotations

import itertools

from bot.story.attribution import _decode_run, _shape_weight
from bot.story.ranker import Ranker
from bot.story.readers import read_document
from bot.story.segmenter import segment
from tests.story.novel_cast import CAST

PLAIN = ("\"Will you come to the fair on Sunday?\" asked Clara.\n\n"
         "\"I cannot,\" said Hugh.\n\n"
         "\"Why ever not?\"\n\n"
         "\"My uncle wants the cart that day.\"\n\n"
         "\"Then walk over in the evening.\"\n\n"
         "\"It is a long way to walk.\"\n")


def _rule_lines(text: str) -> list[tuple[str | None, float]]:
    story = segment(read_document(text), CAST, ranker=Ranker())
    return [(b.speaker, b.confidence or 0.0) for b in story.beats if b.kind == "dialogue"]


def test_a_run_whose_lines_call_the_one_who_answers_is_surer_than_a_bare_one() -> None:
    bare = _rule_lines(PLAIN)
    called = _rule_lines(PLAIN.replace("Why ever not?", "Why ever not, Hugh?")
                         .replace("It is a long way", "It is a long way, Clara"))
    assert [s for s, _ in bare] == [s for s, _ in called] == ["clara", "hugh", "clara", "hugh", "clara", "hugh"]
    # the untagged lines: the same place in the run, the same parity, more evidence
    for (_, b), (_, c) in zip(bare[2:], called[2:], strict=True):
        assert c > b


def _score(ev: list[list[dict[str, float] | None]], gap: list[bool], w: dict[str, float], path: tuple[int, ...]) -> float:
    s = 0.0
    for j, i in enumerate(path):
        e = ev[j][i]
        assert e is not None
        s += sum(w.get(f, 0.0) * x for f, x in e.items())
        if j >= 1:
            rel = "same" if i == path[j - 1] else "alt" if j >= 2 and i == path[j - 2] else "third"
            name, sign = _shape_weight(gap, j, rel)
            s += sign * w[name] if name else 0.0
    return s


def test_the_margin_of_a_turn_is_the_best_run_minus_the_best_run_that_gives_it_to_someone_else() -> None:
    w = {"same": 2.0, "alt": 2.0, "third": 1.0, "same_gap": 0.0, "alt_gap": 0.5, "third_gap": 0.5,
         "g": 0.4, "named": 3.0}
    # three people, five turns; the first is kept (a tag), the others weighed by a few clues
    ev: list[list[dict[str, float] | None]] = [
        [{}, None, None],
        [{"g": 1.0}, {}, {"g": 1.0}],
        [{}, {"named": -1.0}, {"g": 1.0}],
        [{}, {"g": 1.0}, {}],
        [{"named": -1.0}, {}, {"g": 1.0}],
    ]
    gap = [False, False, True, False, False]
    decoded = _decode_run(ev, gap, w)
    assert decoded is not None
    path, margins = decoded
    every = {p: _score(ev, gap, w, p) for p in itertools.product(range(3), repeat=5)
             if all(ev[j][i] is not None for j, i in enumerate(p))}
    best = max(every.values())
    assert abs(_score(ev, gap, w, tuple(path)) - best) < 1e-9  # the decoded path is the best run
    for j, i in enumerate(path):
        rest = [s for p, s in every.items() if p[j] != i]
        assert abs(margins[j] - (best - max(rest) if rest else 99.0)) < 1e-9
