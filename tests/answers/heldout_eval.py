"""Held-out question sets (tests/answers/heldout/*.toml) and their scoring, shared by
tests/answers/test_heldout.py and bench/ask_heldout.py.

A set names either a seed story (`story = "precious-person"`, loaded from story_data/) or a
corpus text (`source` = an annotated text whose `{...}` markers are stripped, `cast` = its cast
file), segmented the same way an import would. Each `[[question]]` has `character`, `text`, `at`
(the beat the reader is at) and `relevant` (beats <= at that answer it; [] = nothing answers it
yet, so the right reply is a deflection).
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bot.answers import AnswerEngine
from bot.answers.voice import clean_story_text
from bot.story.cast import load_cast
from bot.story.model import Story
from bot.story.readers import read_document
from bot.story.segmenter import segment
from bot.story.storage import load_story

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = Path(__file__).with_name("heldout")
_MARKER = re.compile(r"\{(?:<|\?|-|[A-Za-z0-9_]+(?:\+[A-Za-z0-9_]+)*)(?::(?:thought|note))?\}")
_PIECES = re.compile(r"[“”\"…—]|(?<=[.!?])\s")


@dataclass(frozen=True)
class HeldoutQuestion:
    character: str
    text: str
    at: int
    relevant: tuple[int, ...]


@dataclass
class SetResult:
    name: str
    total: int = 0
    answerable: int = 0
    main_relevant: int = 0  # Answer.beats[0] in relevant
    any_relevant: int = 0  # any of Answer.beats in relevant
    unanswerable: int = 0
    deflected: int = 0  # relevant == [] and the answer is a deflection
    spoilers: int = 0
    misses: list[str] = field(default_factory=list)

    @staticmethod
    def pct(n: int, d: int) -> str:
        return f"{n}/{d} ({n / d:.0%})" if d else "-"

    def summary(self) -> str:
        return (f"{self.name}: {self.total} questions; from a relevant line (main beat) "
                f"{self.pct(self.main_relevant, self.answerable)}, (any beat used) "
                f"{self.pct(self.any_relevant, self.answerable)}; deflection correct "
                f"{self.pct(self.deflected, self.unanswerable)}; spoilers {self.spoilers}")


def strip_markers(raw: str) -> str:
    return _MARKER.sub("", raw)


def load_set(path: Path) -> tuple[Story, list[HeldoutQuestion]]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    if "story" in data:
        story = load_story(ROOT / "story_data" / str(data["story"]))
    else:
        src = ROOT / str(data["source"])
        cast = load_cast(ROOT / str(data["cast"]))
        doc = read_document(strip_markers(src.read_text(encoding="utf-8")), name=src.name.replace(".annotated", ""))
        story = segment(doc, cast, slug=path.stem, title=path.stem)
    questions = [HeldoutQuestion(str(q["character"]), str(q["text"]), int(q["at"]),
                                 tuple(int(i) for i in q["relevant"])) for q in data["question"]]
    return story, questions


def spoiled(story: Story, answer_text: str, beats: tuple[int, ...], at: int) -> list[str]:
    """Evidence that an answer uses a beat after `at`: a beat index, or a piece of its text (>= 12
    characters) that occurs in a later beat but nowhere in beats 0..at."""
    out = [f"beat {b}" for b in beats if b > at]
    if at + 1 < len(story):
        known = "\n".join(clean_story_text(b.text) for b in story.beats[: at + 1])
        later = "\n".join(clean_story_text(b.text) for b in story.beats[at + 1 :])
        for piece in _PIECES.split(answer_text):
            piece = piece.strip(" .,!?;:'‘’*_()")
            if len(piece) >= 12 and piece in later and piece not in known:
                out.append(repr(piece))
    return out


async def evaluate_set(engine: AnswerEngine, path: Path) -> SetResult:
    story, questions = load_set(path)
    res = SetResult(path.stem)
    for q in questions:
        if any(r > q.at for r in q.relevant) or q.at >= len(story):
            raise ValueError(f"{path.name}: question {q.text!r} has a relevant beat after at={q.at}")
        a = await engine.answer(story, q.character, q.text, q.at)
        res.total += 1
        bad = spoiled(story, a.text, a.beats, q.at)
        if bad:
            res.spoilers += 1
            res.misses.append(f"SPOILER {q.character} @{q.at} {q.text!r}: {', '.join(bad)}")
        if q.relevant:
            res.answerable += 1
            main = bool(a.beats) and a.beats[0] in q.relevant
            anyr = any(b in q.relevant for b in a.beats)
            res.main_relevant += main
            res.any_relevant += anyr
            if not main:
                res.misses.append(f"miss {q.character} @{q.at} {q.text!r} want {list(q.relevant)} got "
                                  f"{list(a.beats)} [{a.source}]: {a.text[:160]!r}")
        else:
            res.unanswerable += 1
            if a.source == "deflection":
                res.deflected += 1
            else:
                res.misses.append(f"no deflection {q.character} @{q.at} {q.text!r} got {list(a.beats)}: "
                                  f"{a.text[:160]!r}")
    return res


def set_paths() -> list[Path]:
    return sorted(HELDOUT.glob("*.toml"))


if __name__ == "__main__":  # pragma: no cover
    print("run bench/ask_heldout.py", file=sys.stderr)
