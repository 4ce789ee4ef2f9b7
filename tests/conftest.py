import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Settings the tests must never inherit from a developer's shell or .env.
_SCRUB = ("DISCORD_TOKEN", "DATABASE_PATH", "STORY_DIR", "DEV_GUILD_ID", "DISCORD_API_BASE",
          "DISCORD_GATEWAY_URL", "LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY", "LOG_FILE",
          "DATABASE_URL", "SHARD_COUNT", "SHARD_IDS", "DISCORD_GLOBAL_RATE")


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running `python -m bot` as a child process in an empty folder."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env["PYTHONPATH"] = str(ROOT)
    env["DATABASE_PATH"] = str(tmp_path / "data" / "narrator.sqlite3")
    env["STORY_DIR"] = str(ROOT / "story_data")
    env["NO_COLOR"] = "1"
    return env


PYTHON = sys.executable


# ---- PostgreSQL: one throw-away server per test run, a fresh schema per test -------------------
_PG: dict[str, object] = {}


def _pg_server() -> object:
    """The run's PostgreSQL server (started on first use), or the reason it cannot start."""
    if "server" not in _PG and "why" not in _PG:
        from tests.pg_server import PostgresUnavailable, start

        try:
            _PG["server"] = start()
        except PostgresUnavailable as exc:
            _PG["why"] = str(exc)
    return _PG.get("server")


@pytest.fixture
def pg_url() -> str:
    """A PostgreSQL URL whose schema is new and empty; skipped (and reported loudly at the end of
    the run) only when no PostgreSQL server can be started on this machine."""
    server = _pg_server()
    if server is None:
        pytest.skip(f"PostgreSQL unavailable: {_PG['why']}")
    return server.new_url()  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "postgres"])
async def store_db(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A migrated, empty database of each backend: the store's tests run on both."""
    from bot.store import open_store

    if request.param == "sqlite":
        db = await open_store(None, tmp_path / "store.sqlite3")
    else:
        db = await open_store(request.getfixturevalue("pg_url"), tmp_path / "unused.sqlite3")
    await db.migrate()
    yield db
    await db.close()


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    if "why" in _PG:
        terminalreporter.write_sep("!", "POSTGRESQL TESTS SKIPPED", red=True, bold=True)
        terminalreporter.write_line(f"PostgreSQL could not be started: {_PG['why']}", red=True, bold=True)


def pytest_sessionfinish(session, exitstatus):  # type: ignore[no-untyped-def]
    server = _PG.pop("server", None)
    if server is not None:
        server.stop()  # type: ignore[attr-defined]
