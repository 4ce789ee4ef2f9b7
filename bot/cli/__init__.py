"""Command-line subcommands; each module registers its own parser and runs its own work."""

from __future__ import annotations


class CliError(Exception):
    """A user-facing failure: printed as one line, exit status 1 (or `.status`)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status
