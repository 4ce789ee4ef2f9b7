"""`narrator import|segment|export|check`: story files (filled in by the import work)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli import CliError
from bot.config import Settings


def register(sub: Any) -> None:
    for name, text in (
        ("import", "import a story file into story_data/"),
        ("segment", "print the automatic segmentation of a file as JSON"),
        ("export", "print a stored story's reviewed script as JSON"),
        ("check", "validate story folders"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("args", nargs="*")
        p.set_defaults(func=_todo)


def _todo(args: argparse.Namespace, settings: Settings) -> int:
    raise CliError(f"{args.command} is not implemented yet", status=2)
