import logging
import logging.handlers
from pathlib import Path

from bot.config import load_settings
from bot.logs import SecretFilter, setup_logging

TOKEN = "MTIz.log-test-token.abcdefghijklmnopqrs"


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args, exc_info)


def test_known_secret_and_webhook_tokens_are_scrubbed() -> None:
    f = SecretFilter([TOKEN])
    rec = _record("token %s at https://x/api/webhooks/123/%s", TOKEN, "AbC-def_123.xyz")
    f.filter(rec)
    text = rec.getMessage()
    assert TOKEN not in text and "AbC-def_123.xyz" not in text
    assert "/webhooks/123/***" in text


def test_auth_headers_and_tracebacks_are_scrubbed() -> None:
    f = SecretFilter()
    try:
        raise RuntimeError(f"request failed with Authorization: Bot {TOKEN}")
    except RuntimeError as e:
        rec = _record("boom", exc=e)
    f.filter(rec)
    assert rec.exc_info is None
    assert TOKEN not in rec.getMessage() and "Bot ***" in rec.getMessage()


def test_setup_logging_writes_scrubbed_file(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "bot.log"
    settings = load_settings({"DISCORD_TOKEN": TOKEN, "LOG_FILE": str(log_file), "LOG_LEVEL": "DEBUG"})
    setup_logging(settings)
    try:
        logging.getLogger("bot.test").info("connecting with %s", TOKEN)
        for h in logging.getLogger().handlers:
            h.flush()
        content = log_file.read_text()
        assert "connecting with ***" in content and TOKEN not in content
    finally:
        for h in list(logging.getLogger().handlers):
            logging.getLogger().removeHandler(h)
            h.close()


def test_interaction_tokens_in_urls_and_payloads_are_scrubbed() -> None:
    f = SecretFilter()
    rec = _record(
        "POST /api/v10/interactions/123/%s/callback payload %s",
        "aW50ZXJhY3Rpb246MTIz.secret",
        "{'id': '5', 'token': 'aW50ZXJhY3Rpb246MTIz.other', 'type': 2}",
    )
    f.filter(rec)
    text = rec.getMessage()
    assert "aW50ZXJhY3Rpb246MTIz" not in text
    assert "/interactions/123/***/callback" in text and "'token': '***'" in text


def test_log_files_are_private_also_after_a_rollover(tmp_path: Path) -> None:
    log_file = tmp_path / "bot.log"
    setup_logging(load_settings({"LOG_FILE": str(log_file)}, dotenv=False))
    try:
        handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.handlers.RotatingFileHandler))
        logging.getLogger("bot.test").warning("first")
        handler.doRollover()
        logging.getLogger("bot.test").warning("second")
    finally:
        for h in list(logging.getLogger().handlers):
            h.close()
            logging.getLogger().removeHandler(h)
    for path in (log_file, tmp_path / "bot.log.1"):
        assert path.exists() and path.stat().st_mode & 0o077 == 0, oct(path.stat().st_mode)
