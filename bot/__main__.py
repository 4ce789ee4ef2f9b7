"""CLI entry: `python -m bot` / `narrator` — run | demo | import | segment | export | check | ask | db."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot import __version__
from bot.cli import CliError, ask, db, demo, run, stories
from bot.config import ConfigError, load_settings
from bot.store import MigrationError, StoreError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="narrator",
        description="Story Narrator: performs a prose story in a Discord channel, one voice per character.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run.register(sub)
    demo.register(sub)
    stories.register(sub)
    ask.register(sub)
    db.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args(["run", *(argv or [])])
    try:
        settings = load_settings()
        status: int = args.func(args, settings)
        return status
    except (ConfigError, CliError) as exc:
        print(f"narrator: {exc}", file=sys.stderr)
        return getattr(exc, "status", 2) if isinstance(exc, CliError) else 2
    except (StoreError, MigrationError) as exc:
        print(f"narrator: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
