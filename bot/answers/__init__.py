"""Ask-a-character: spoiler-safe answers in the character's voice, from the beats read so far."""

from bot.answers.engine import Answer, AnswerEngine, AskRefused
from bot.answers.llm import LLMConfig

__all__ = ["Answer", "AnswerEngine", "AskRefused", "LLMConfig"]
