"""`narrator ask`: ask a character a question from the terminal (filled in by the ask work)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli import CliError
from bot.config import Settings


def register(sub: Any) -> None:
    p = sub.add_parser("ask", help="ask a character a question")
    p.add_argument("story")
    p.set_defaults(func=_ask)


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    raise CliError("ask is not implemented yet", status=2)
