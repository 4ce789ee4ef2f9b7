"""The training script's review curve per script line: a ranked run of quotes (one line of the
script, one speaker) counts once, and is right only if every quote of it is."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numpy")
BENCH = Path(__file__).resolve().parents[2] / "bench"


class _Cast:
    def __init__(self, characters: list[dict[str, Any]]) -> None:
        self.names = {c["name"] for c in characters}

    def resolve(self, name: str | None) -> tuple[str | None, bool]:
        return (name, True) if name in self.names else (None, False)


class _Scorer:
    """The few calls of the corpus scorer that curve_rows makes: spans match when equal."""
    Cast = _Cast

    @staticmethod
    def trim(text: str, a: int, b: int) -> tuple[int, int]:
        return (a, b)

    @staticmethod
    def match_overlap(gold: list[tuple[int, int]], pred: list[tuple[int, int]], _: float) -> dict[int, int]:
        return {i: pred.index(g) for i, g in enumerate(gold) if g in pred}


def _train_ranker() -> Any:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("train_ranker")


def test_per_line_curve_counts_a_run_once_and_wrong_if_any_quote_is() -> None:
    tr = _train_ranker()
    gold = {"id": "n1", "text": "x" * 100, "characters": [{"name": "Ann"}, {"name": "Bob"}],
            "quotes": [{"start": 0, "end": 10, "speaker": "Ann"}, {"start": 20, "end": 30, "speaker": "Bob"},
                       {"start": 40, "end": 50, "speaker": "Bob"}, {"start": 60, "end": 70, "speaker": "Ann"}]}
    # one run of two quotes given to Ann (its second quote is Bob's), one line of Bob's, one
    # quote outside any ranked run
    pred = {"id": "n1", "quotes": [
        {"start": 0, "end": 10, "speaker": "Ann", "confidence": 0.9, "beat": 0},
        {"start": 20, "end": 30, "speaker": "Ann", "confidence": 0.9, "beat": 0},
        {"start": 40, "end": 50, "speaker": "Bob", "confidence": 0.7, "beat": 1, "review": True},
        {"start": 60, "end": 70, "speaker": "Ann", "confidence": 0.8}]}
    per_quote = tr.curve_rows(_Scorer, {"n1": gold}, [pred])
    assert sorted(per_quote) == sorted([(0.9, True, False), (0.9, False, False), (0.7, True, True), (0.8, True, False)])
    per_line = tr.curve_rows(_Scorer, {"n1": gold}, [pred], beats=True)
    assert sorted(per_line) == [(0.7, True, True), (0.8, True, False), (0.9, False, False)]


def test_apply_tags_each_ranked_quote_with_its_run() -> None:
    tr = _train_ranker()
    novel = {"id": "n1", "names": {"ann": "Ann", "bob": "Bob"},
             "rows": [{"spans": [(0, 10), (20, 30)]}, {"spans": [(40, 50)]}],
             "preds": [{"start": 0, "end": 10, "speaker": "Bob"}, {"start": 20, "end": 30, "speaker": "Bob"},
                       {"start": 40, "end": 50, "speaker": "Ann"}, {"start": 60, "end": 70, "speaker": None}]}
    out = tr.apply(novel, [("ann", 0.9, 0, [0.9]), ("bob", 0.8, 0, [0.8])], [0.91, 0.81])
    assert [q.get("beat") for q in out["quotes"]] == [0, 0, 1, None]
    assert [q["speaker"] for q in out["quotes"]] == ["Ann", "Ann", "Bob", None]
