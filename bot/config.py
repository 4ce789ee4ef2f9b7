"""Typed, frozen settings read from the environment (after `.env`) when the program starts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one sentence the user can act on."""


@dataclass(frozen=True, repr=False)
class Settings:
    discord_token: str | None
    database_path: Path
    story_dir: Path
    dev_guild_id: int | None
    log_level: str
    log_file: Path | None
    discord_api_base: str | None
    discord_gateway_url: str | None
    llm_base_url: str | None
    llm_model: str | None
    llm_api_key: str | None
    llm_timeout: float
    # Test/rehearsal only: every pacing delay (time_scale) or Discord rate window (rate_scale, for
    # the loopback emulator) is multiplied by this factor. 1.0 in production.
    time_scale: float = 1.0
    rate_scale: float = 1.0
    # /story import: the largest file accepted (bytes) and how many stories one server may keep.
    import_max_bytes: int = 4_000_000
    stories_per_server: int = 25
    story_cache_bytes: int = 64_000_000
    env_file: Path | None = None  # the .env file read at start-up, if any (checked for its mode)
    # Running at scale: PostgreSQL instead of the SQLite file, this process's shards, and how many
    # REST requests per second this process may make (Discord's 50/s is per bot, not per process).
    database_url: str | None = None
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    global_rate: int = 50

    def __repr__(self) -> str:
        # Never let a token reach a log line or a traceback through repr().
        shown = {
            k: ("<set>" if k in ("discord_token", "llm_api_key", "database_url") and v else v)
            for k, v in self.__dict__.items()
        }
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    def require_token(self) -> str:
        if not self.discord_token:
            raise ConfigError(
                "DISCORD_TOKEN is not set: copy .env.example to .env and put your bot token "
                "from the Discord developer portal there."
            )
        return self.discord_token


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    value = _optional(env, name)
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        raise ConfigError(f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}"
                          f" (got {value!r}).")
    return value.rstrip("/")


def _scale(env: Mapping[str, str], name: str) -> float:
    raw = _optional(env, name)
    if raw is None:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise ConfigError(f"{name} must be a number above 0 and at most 1 (got {raw!r}); leave it unset "
                          "for normal timing.")
    return value


def _database_url(env: Mapping[str, str]) -> str | None:
    value = _optional(env, "DATABASE_URL")
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
        # The value may hold a password: never echo it.
        raise ConfigError("DATABASE_URL must look like postgresql://user:password@host:5432/dbname; "
                          "leave it empty to use the SQLite file at DATABASE_PATH.")
    return value


def _shards(env: Mapping[str, str]) -> tuple[int | None, tuple[int, ...] | None]:
    count_raw = _optional(env, "SHARD_COUNT")
    ids_raw = _optional(env, "SHARD_IDS")
    if count_raw is None:
        if ids_raw is not None:
            raise ConfigError("SHARD_IDS needs SHARD_COUNT (the total number of shards of the bot, "
                              "over all processes).")
        return None, None
    if not count_raw.isdigit() or int(count_raw) < 1:
        raise ConfigError(f"SHARD_COUNT must be a whole number of shards, 1 or more (got {count_raw!r}).")
    count = int(count_raw)
    if ids_raw is None:
        return count, tuple(range(count))
    parts = [p.strip() for p in ids_raw.replace(" ", ",").split(",") if p.strip()]
    if not parts or not all(p.isdigit() and int(p) < count for p in parts):
        raise ConfigError(f"SHARD_IDS must be shard numbers from 0 to {count - 1} separated by commas, "
                          f"e.g. 0,1 (got {ids_raw!r}).")
    return count, tuple(sorted({int(p) for p in parts}))


def _global_rate(env: Mapping[str, str]) -> int:
    raw = _optional(env, "DISCORD_GLOBAL_RATE")
    if raw is None:
        return 50
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise ConfigError(f"DISCORD_GLOBAL_RATE must be a whole number of requests per second, 1 or more "
                          f"(got {raw!r}); Discord allows 50 per bot, shared by all its processes.")
    return int(raw)


def _number(env: Mapping[str, str], name: str, *, default: float, low: float, high: float, what: str,
            integer: bool = False) -> float:
    raw = _optional(env, name)
    if raw is None:
        return default
    try:
        value = float(int(raw)) if integer else float(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{name} must be {kind} of {what} from {low:g} to {high:g} (got {raw!r}).")
    return value


def load_settings(env: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Build settings from `env` (default: the process environment after loading `.env`)."""
    env_file: Path | None = None
    if env is None:
        if dotenv:
            from dotenv import find_dotenv, load_dotenv

            try:
                found = find_dotenv(usecwd=True)
            except OSError:  # the working directory is gone or unreadable: no .env then
                found = ""
            if found:
                env_file = Path(found)
                load_dotenv(found, override=False)
        env = os.environ

    token = _optional(env, "DISCORD_TOKEN")
    if token is not None and (any(c.isspace() for c in token) or len(token) < 20):
        raise ConfigError("DISCORD_TOKEN does not look like a bot token: paste it again from the "
                          "Bot page of the Discord developer portal, without quotes or spaces.")

    guild_raw = _optional(env, "DEV_GUILD_ID")
    dev_guild_id: int | None = None
    if guild_raw is not None:
        if not guild_raw.isdigit():
            raise ConfigError(f"DEV_GUILD_ID must be a numeric server id (got {guild_raw!r}); "
                              "leave it empty to sync commands globally.")
        dev_guild_id = int(guild_raw)

    level = (env.get("LOG_LEVEL") or "INFO").strip().upper()
    if level not in _LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)} (got {level!r}).")

    timeout_raw = _optional(env, "LLM_TIMEOUT") or "8"
    try:
        llm_timeout = float(timeout_raw)
    except ValueError:
        llm_timeout = -1.0
    if not 0 < llm_timeout <= 60:
        raise ConfigError(f"LLM_TIMEOUT must be a number of seconds between 0 and 60 (got {timeout_raw!r}).")

    log_file = _optional(env, "LOG_FILE")
    max_mb = _number(env, "IMPORT_MAX_MB", default=4.0, low=0.01, high=50.0,
                     what="megabytes (a story file of a few MB holds a long novel)")
    per_server = _number(env, "STORIES_PER_SERVER", default=25, low=1, high=1000, what="stories", integer=True)
    cache_mb = _number(env, "STORY_CACHE_MB", default=64, low=1, high=100_000,
                       what="megabytes of server stories kept loaded beyond those being played")
    shard_count, shard_ids = _shards(env)
    return Settings(
        discord_token=token,
        database_path=Path(_optional(env, "DATABASE_PATH") or "data/narrator.sqlite3"),
        story_dir=Path(_optional(env, "STORY_DIR") or "story_data"),
        dev_guild_id=dev_guild_id,
        log_level=level,
        log_file=Path(log_file) if log_file else None,
        discord_api_base=_url(env, "DISCORD_API_BASE", ("http", "https")),
        discord_gateway_url=_url(env, "DISCORD_GATEWAY_URL", ("ws", "wss")),
        llm_base_url=_url(env, "LLM_BASE_URL", ("http", "https")),
        llm_model=_optional(env, "LLM_MODEL"),
        llm_api_key=_optional(env, "LLM_API_KEY"),
        llm_timeout=llm_timeout,
        time_scale=_scale(env, "NARRATOR_TIME_SCALE"),
        rate_scale=_scale(env, "NARRATOR_RATE_SCALE"),
        import_max_bytes=int(max_mb * 1_000_000),
        stories_per_server=int(per_server),
        story_cache_bytes=int(cache_mb * 1_000_000),
        env_file=env_file,
        database_url=_database_url(env),
        shard_count=shard_count,
        shard_ids=shard_ids,
        global_rate=_global_rate(env),
    )

