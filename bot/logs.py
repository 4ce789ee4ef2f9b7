"""Logging set-up: discord.py-style lines, level from settings, optional rotating file, and a
filter that scrubs secrets (bot token, webhook tokens) from every record."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import sys
from collections.abc import Iterable
from typing import ClassVar

from bot.config import Settings

# /webhooks/<id>/<token> and /interactions/<id>/<token> in URLs, "token": "..." in logged JSON
# payloads, and "Bot <token>" / "Bearer <key>" headers.
_WEBHOOK_URL = re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_\-.]+")
_JSON_TOKEN = re.compile(r"""((?:'|")token(?:'|")\s*:\s*(?:'|"))[^'"]+""")
_AUTH_HEADER = re.compile(r"\b(Bot|Bearer)\s+[A-Za-z0-9_\-.]{8,}")


class SecretFilter(logging.Filter):
    """Replaces known secrets and anything shaped like a webhook token with '***'."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def add(self, secret: str | None) -> None:
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def scrub(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, "***")
        text = _WEBHOOK_URL.sub(r"\1***", text)
        text = _JSON_TOKEN.sub(r"\1***", text)
        return _AUTH_HEADER.sub(r"\1 ***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.scrub(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now so it can be scrubbed too.
            formatted = logging.Formatter().formatException(record.exc_info)
            clean = clean + "\n" + self.scrub(formatted)
            record.exc_info = None
            record.exc_text = None
        if clean != message or record.args:
            record.msg = clean
            record.args = None
        return True


SECRETS = SecretFilter()


class _Formatter(logging.Formatter):
    COLOURS: ClassVar[dict[int, str]] = {
        logging.DEBUG: "\x1b[40;1m",
        logging.INFO: "\x1b[34;1m",
        logging.WARNING: "\x1b[33;1m",
        logging.ERROR: "\x1b[31m",
        logging.CRITICAL: "\x1b[41m",
    }

    def __init__(self, colour: bool) -> None:
        super().__init__("[{asctime}] [{levelname:<8}] {name}: {message}", "%Y-%m-%d %H:%M:%S", style="{")
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if self.colour:
            return f"{self.COLOURS.get(record.levelno, '')}{text}\x1b[0m"
        return text


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Log files (the first and every one after a rollover) are created 0600, not with the
    umask's 0644: logs name channels, users and what went wrong, nobody else's business."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def setup_logging(settings: Settings) -> None:
    SECRETS.add(settings.discord_token)
    SECRETS.add(settings.llm_api_key)
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    for h in list(root.handlers):
        root.removeHandler(h)
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(_Formatter(colour=sys.stderr.isatty()))
    stream.addFilter(SECRETS)
    root.addHandler(stream)
    if settings.log_file is not None:
        settings.log_file.parent.mkdir(parents=True, exist_ok=True)
        fh = PrivateRotatingFileHandler(
            settings.log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
        )
        fh.setFormatter(_Formatter(colour=False))
        fh.addFilter(SECRETS)
        root.addHandler(fh)
    # discord.py's own HTTP debug lines are noisy and may echo request bodies.
    logging.getLogger("discord.http").setLevel(max(logging.INFO, root.level))
