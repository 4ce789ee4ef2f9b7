"""`narrator ask STORY --character NAME [--at BEAT|end] "question"`: ask a character from the terminal.

The character knows beats 0..BEAT (the story-wide numbering of `narrator export`), exactly as a
channel that has been shown that far would.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bot.answers import Answer, AnswerEngine, AskRefused, LLMConfig
from bot.cli import CliError
from bot.config import Settings
from bot.store import open_store
from bot.story.library import story_folders
from bot.story.model import Story
from bot.story.storage import StoryFileError, load_story


def register(sub: Any) -> None:
    p = sub.add_parser(
        "ask", help="ask a character a question",
        description="Ask a character a question; they answer from what the story has shown up to "
                    "the given beat, never from later ones.",
    )
    p.add_argument("story", help="story id (its folder name in STORY_DIR), e.g. precious-person")
    p.add_argument("question", help="the question, in quotes")
    p.add_argument("--character", "-c", required=True, help="key, name or alias (any case)")
    p.add_argument("--at", default="end", metavar="BEAT|end",
                   help="the last beat the character has been through (default: end of the story)")
    p.set_defaults(func=_ask)


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    story = _load(settings, args.story)
    if story.find_character(args.character) is None:
        names = ", ".join(f"{c.name} ({c.key})" for c in story.characters) or "none"
        raise CliError(f"{story.slug} has no character {args.character!r}; characters: {names}")
    upto = _beat(args.at, story)
    try:
        answer = asyncio.run(_answer(settings, story, args.character, args.question, upto))
    except AskRefused as exc:
        raise CliError(str(exc)) from exc
    print(answer.text)
    return 0


def _load(settings: Settings, slug: str) -> Story:
    folder = settings.story_dir / slug
    if not folder.is_dir() or slug in ("", ".", "..") or "/" in slug or "\\" in slug:
        known = ", ".join(p.name for p in story_folders(settings.story_dir)) or "none"
        raise CliError(f"no story {slug!r} in {settings.story_dir}; stories there: {known}")
    try:
        return load_story(folder)
    except StoryFileError as exc:
        raise CliError(f"{slug} cannot be loaded: {exc}; run `narrator check {slug}` for every problem") from exc


def _beat(at: str, story: Story) -> int:
    last = len(story) - 1
    if last < 0:
        raise CliError(f"{story.slug} has no beats to ask about")
    if at.strip().casefold() == "end":
        return last
    try:
        beat = int(at)
    except ValueError:
        raise CliError(f"--at must be a beat number (0..{last}) or 'end', not {at!r}") from None
    if not 0 <= beat <= last:
        raise CliError(f"beat {beat} is out of range: {story.slug} has beats 0..{last} (see narrator export)")
    return beat


async def _answer(settings: Settings, story: Story, character: str, question: str, upto: int) -> Answer:
    async with await open_store(settings.database_url, settings.database_path) as db:
        await db.migrate()
        engine = AnswerEngine(db, llm=LLMConfig.from_settings(settings), cooldown_seconds=0)
        return await engine.answer(story, character, question, upto)
