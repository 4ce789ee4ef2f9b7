"""`narrator demo`: play a story in the terminal (filled in by the engine work)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli import CliError
from bot.config import Settings


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="play a story in the terminal, no Discord needed")
    p.add_argument("story", nargs="?", default="precious-person")
    p.set_defaults(func=_demo)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    raise CliError("demo is not implemented yet", status=2)
