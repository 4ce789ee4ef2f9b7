from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import PYTHON, ROOT

SEED = ROOT / "story_data" / "precious-person"
pytestmark = pytest.mark.skipif(not (SEED / "story.toml").is_file(), reason="seed story not present")


def _ask(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "bot", "ask", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_ask_prints_an_answer_in_voice(cli_env: dict[str, str], tmp_path: Path) -> None:
    r = _ask(cli_env, tmp_path, "precious-person", "--character", "TEMARI", "Why were you scared?")
    assert r.returncode == 0, r.stderr
    assert "Why was I scared?" in r.stdout and "y-you really sc-scared us" in r.stdout
    assert "-# recalling scene 2" in r.stdout


def test_ask_at_a_beat_knows_only_that_far(cli_env: dict[str, str], tmp_path: Path) -> None:
    r = _ask(cli_env, tmp_path, "precious-person", "-c", "temari", "--at", "80", "Why were you scared?")
    assert r.returncode == 0, r.stderr  # her stammered line is beat 84
    assert "sc-scared" not in r.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["no-such-story", "-c", "gaara", "hi?"], "no story 'no-such-story' in"),
    (["precious-person", "-c", "kakashi", "hi?"], "has no character 'kakashi'; characters: Gaara (gaara)"),
    (["precious-person", "-c", "lee", "--at", "100000", "hi?"], "beat 100000 is out of range"),
    (["precious-person", "-c", "lee", "--at", "-1", "hi?"], "out of range"),
    (["precious-person", "-c", "lee", "--at", "soon", "hi?"], "--at must be a beat number"),
    (["precious-person", "-c", "lee", "x" * 301], "please keep it to 300"),
    (["../story_data", "-c", "lee", "hi?"], "no story"),
])
def test_ask_errors_are_one_clear_line(cli_env: dict[str, str], tmp_path: Path, args: list[str],
                                       message: str) -> None:
    r = _ask(cli_env, tmp_path, *args)
    assert r.returncode == 1
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
