"""SIGKILL the narrator at random moments; the transcript must still hold every beat exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
from pathlib import Path

import pytest

from bot.engine.recording import RecordingStage
from tests.conftest import PYTHON, ROOT
from tests.engine.crash_child import PLACES, crash_story


def _run_until_done(tmp_path: Path, kills: int, beats: int, seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    db, stage_file = tmp_path / "crash.sqlite3", tmp_path / "stage.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done_kills = runs = 0
    while True:
        runs += 1
        assert runs < kills + 50, "the child never finished"
        proc = subprocess.Popen([PYTHON, "-m", "tests.engine.crash_child", str(db), str(stage_file), str(beats)],
                                cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdin is not None
        budget = rng.randint(0, 6) if done_kills < kills else None
        seen = 0
        finished = False
        for line in proc.stdout:
            if line.startswith("DONE"):
                finished = True
                break
            seen += 1
            if budget is not None and seen > budget:
                if rng.random() < 0.5:  # let it go on: the kill lands somewhere in what follows
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
                proc.send_signal(signal.SIGKILL)  # else: delivered but not yet recorded
                done_kills += 1
                break
            proc.stdin.write("go\n")
            proc.stdin.flush()
        proc.wait(timeout=60)
        err = proc.stderr.read() if proc.stderr else ""
        for f in (proc.stdin, proc.stdout, proc.stderr):
            if f is not None:
                f.close()
        if finished:
            assert proc.returncode == 0, err
            return done_kills, runs
        if proc.returncode != -signal.SIGKILL:  # died on its own: that is a bug
            raise AssertionError(f"child exited {proc.returncode}: {err}")


def _check_transcript(tmp_path: Path, beats: int) -> None:
    stage = RecordingStage(path=tmp_path / "stage.jsonl")
    n = len(crash_story(beats))
    for place in PLACES:
        recs = stage.transcript(place.channel_id)
        kinds = [r.kind for r in recs]
        assert kinds[0] == "title" and kinds.count("title") == 1, kinds[:5]
        assert kinds[-1] == "closing" and kinds.count("closing") == 1
        shown: list[int] = []
        for r in recs:
            if r.beats:
                shown.extend(range(r.beats[0], r.beats[1] + 1))
        assert shown == list(range(n)), f"channel {place.channel_id}: {shown}"
    stage.close()


def test_sigkill_at_random_moments_short(tmp_path: Path) -> None:
    kills, _ = _run_until_done(tmp_path, kills=15, beats=150, seed=4)
    assert kills == 15
    _check_transcript(tmp_path, 150)


@pytest.mark.long
def test_sigkill_at_random_moments_100(tmp_path: Path) -> None:
    kills, _ = _run_until_done(tmp_path, kills=100, beats=600, seed=7)
    assert kills == 100
    _check_transcript(tmp_path, 600)
