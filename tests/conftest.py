import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Settings the tests must never inherit from a developer's shell or .env.
_SCRUB = ("DISCORD_TOKEN", "DATABASE_PATH", "STORY_DIR", "DEV_GUILD_ID", "DISCORD_API_BASE",
          "DISCORD_GATEWAY_URL", "LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY", "LOG_FILE")


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
