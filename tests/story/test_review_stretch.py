"""The second stage (bot/story/review.py) reads the stretch between two named tags a line sits
in: an untagged exchange off by one is wrong as a whole, so a clue anywhere in it counts for
every line of it."""

from __future__ import annotations

from bot.story import review
from bot.story.ranker import Group


def _g(para: int, kind: str, cands: list[str], probs: list[float],
       own: dict[str, float] | None = None) -> Group:
    """A ranked line; `own` are the ranker's features of its first candidate (the chosen one)."""
    feats: list[dict[str, float]] = [dict(own or {})] + [{} for _ in cands[1:]]
    return Group([(para, para + 1)], [], cands[0], cands, feats, kind, para, cands[0], probs,
                 genders=["she", "he"][: len(cands)])


def _exchange(clue: dict[str, float] | None) -> list[Group]:
    # Anna named; four untagged lines, the third of which may carry a clue; Anna named again;
    # then, after a scene break, an untagged line of another exchange
    return [_g(1, "nam", ["anna", "ben"], [0.9, 0.1]),
            _g(2, "imp", ["ben", "anna"], [0.8, 0.2]),
            _g(3, "imp", ["anna", "ben"], [0.7, 0.3]),
            _g(4, "imp", ["ben", "anna"], [0.75, 0.25], clue),
            _g(5, "imp", ["anna", "ben"], [0.55, 0.45]),
            _g(6, "nam", ["anna", "ben"], [0.95, 0.05]),
            _g(9, "imp", ["ben", "anna"], [0.8, 0.2])]


def test_a_line_calling_its_own_speaker_casts_doubt_on_the_whole_untagged_stretch() -> None:
    # line 4 calls Ben by name, yet Ben was chosen for it: the alternation may be off by one, and
    # then lines 2, 3 and 5 are wrong with it
    plain = review.features(_exchange(None), [0] * 7, copies=False)
    doubt = review.features(_exchange({"voc": 1.0}), [0] * 7, copies=False)
    for i in (1, 2, 3, 4):
        assert plain[i]["sg_contra"] == 0.0 < doubt[i]["sg_contra"]
    # named lines are no part of a stretch, and another exchange is not touched
    assert not any(k.startswith("sg_") for k in doubt[0]) and not any(k.startswith("sg_") for k in doubt[5])
    assert doubt[6]["sg_contra"] == 0.0
    # with a weight that says so, every line of the stretch is less sure
    w = {"b": 2.0, "sg_contra": -3.0}
    assert all(review.score(w, doubt[i]) < review.score(w, plain[i]) for i in (1, 2, 3, 4))
    assert review.score(w, doubt[6]) == review.score(w, plain[6])


def test_a_line_calling_the_other_one_supports_the_stretch() -> None:
    # line 4 calls someone of the other sex ("madam" said by the man chosen): evidence for it
    f = review.features(_exchange({"called_other": 1.0, "nx1_voc": 1.0}), [0] * 7, copies=False)
    assert all(f[i]["sg_support"] > 0 for i in (1, 2, 3, 4))
    assert f[6]["sg_support"] == 0.0


def test_the_stretch_carries_its_weakest_margin_and_any_overruling() -> None:
    groups = _exchange(None)
    f = review.features(groups, [0] * 7, copies=False)
    # the weakest line (0.55 against 0.45) sets the floor of all four
    assert all(abs(f[i]["sg_minmargin"] - 0.1) < 1e-9 for i in (1, 2, 3, 4))
    assert all(f[i]["sg_meanmargin"] > f[i]["sg_minmargin"] for i in (1, 2, 3, 4))
    assert f[6]["sg_minmargin"] == f[6]["sg_meanmargin"] > 0.5  # a stretch of its own
    assert not any("sg_overruled" in x for x in f)
    # the ranker takes the runner-up of line 2: the whole stretch was re-decided, not only that line
    g = review.features(groups, [0, 1, 0, 0, 0, 0, 0], copies=False)
    assert all("sg_overruled" in g[i] for i in (1, 2, 3, 4))
    assert "sg_overruled" not in g[6]
    # and the per-kind copies the training sees carry them too
    c = review.features(groups, [0, 1, 0, 0, 0, 0, 0])
    assert c[3]["imp:sg_overruled"] == 1.0
