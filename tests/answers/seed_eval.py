"""The held-out question set (questions_seed.toml) and its scoring, shared by the test and bench/ask.py."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.answers import AnswerEngine
from bot.story.model import Story
from tests.answers.spoilers import later_only_fragments

QUESTIONS = Path(__file__).with_name("questions_seed.toml")
COREF = Path(__file__).with_name("questions_coref.toml")  # pronouns and nicknames, no names


@dataclass(frozen=True)
class SeedQuestion:
    character: str
    at: int
    question: str
    relevant: tuple[int, ...]
    snippet: str


@dataclass
class EvalResult:
    total: int = 0
    relevant: int = 0
    spoilers: int = 0
    misses: list[str] | None = None

    @property
    def share(self) -> float:
        return self.relevant / self.total if self.total else 0.0


def load_questions(path: Path = QUESTIONS) -> list[SeedQuestion]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return [SeedQuestion(q["character"], int(q["at"]), q["question"], tuple(q["relevant"]), q["snippet"])
            for q in data["question"]]


def check_numbering(story: Story, questions: list[SeedQuestion]) -> list[str]:
    """Questions whose first relevant beat no longer holds its snippet (the script was re-segmented)."""
    bad = []
    for q in questions:
        first = q.relevant[0]
        if first >= len(story) or q.snippet not in story.beat(first).text:
            bad.append(f"{q.question!r}: beat {first} no longer contains {q.snippet!r}")
    return bad


async def evaluate(engine: AnswerEngine, story: Story, questions: list[SeedQuestion]) -> EvalResult:
    result = EvalResult(misses=[])
    for q in questions:
        a = await engine.answer(story, q.character, q.question, q.at)
        result.total += 1
        if a.beats and a.beats[0] in q.relevant:
            result.relevant += 1
        else:
            assert result.misses is not None
            result.misses.append(f"{q.character}@{q.at} {q.question!r}: got {a.beats or a.source}, "
                                 f"wanted one of {list(q.relevant)}")
        if any(b > q.at for b in a.beats) or later_only_fragments(story, a.text, q.at):
            result.spoilers += 1
    return result
