"""Start-up on a database that cannot work says so in one sentence, before anything else:
a read-only database, a disk too small for the migrations (`python -m bot run` as a child)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from bot.store import Database, StoreError
from tests.conftest import PYTHON

FAKE_TOKEN = "x" * 24 + ".yyyyyy.zzzzzzzzzzzzzzzzzzzzzzzzzzz"  # the shape of a token; never sent


def _env(cli_env: dict[str, str], db: Path) -> dict[str, str]:
    return {**cli_env, "DATABASE_PATH": str(db), "DISCORD_TOKEN": FAKE_TOKEN,
            "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10", "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/"}


def _one_sentence(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode != 0, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("narrator:")]
    assert len(lines) == 1, r.stderr
    return lines[0]


def _as_unprivileged() -> list[str]:
    """root ignores file modes: run the child as nobody to see what a normal user sees."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file read-only for the bot")
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]


async def _migrated(path: Path) -> None:
    async with await Database.open(path) as db:
        await db.migrate()


def test_a_read_only_database_stops_start_up_with_one_sentence(cli_env: dict[str, str]) -> None:
    prefix = _as_unprivileged()
    # pytest's tmp_path sits under a 0700 folder an unprivileged child cannot enter
    tmp_path = Path(tempfile.mkdtemp(prefix="narrator-ro-"))
    tmp_path.chmod(0o755)
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "narrator.sqlite3"
    asyncio.run(_migrated(db))
    db.chmod(0o444)
    folder.chmod(0o555)
    work = tmp_path / "work"
    work.mkdir(mode=0o777)
    work.chmod(0o777)
    try:
        r = subprocess.run([*prefix, PYTHON, "-m", "bot", "run"], env=_env(cli_env, db), cwd=work,
                           capture_output=True, text=True, timeout=60)
    finally:
        folder.chmod(0o755)
        shutil.rmtree(tmp_path, ignore_errors=True)
    line = _one_sentence(r)
    assert "read-only" in line and str(db) in line and "writable" in line, line


def test_a_disk_too_small_for_the_migrations_is_one_sentence(cli_env: dict[str, str], tmp_path: Path) -> None:
    # A failing file-system shim: every SQLite file this child opens can hold 8 pages (32 KB),
    # as a nearly full disk would; the migrations need more.
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(
        "import sqlite3\n"
        "_connect = sqlite3.connect\n"
        "def connect(*a, **k):\n"
        "    conn = _connect(*a, **k)\n"
        "    conn.execute('PRAGMA max_page_count = 8')\n"
        "    return conn\n"
        "sqlite3.connect = connect\n", encoding="utf-8")
    env = _env(cli_env, tmp_path / "data" / "narrator.sqlite3")
    env["PYTHONPATH"] = f"{shim}{os.pathsep}{env['PYTHONPATH']}"
    r = subprocess.run([PYTHON, "-m", "bot", "run"], env=env, cwd=tmp_path, capture_output=True, text=True,
                       timeout=60)
    line = _one_sentence(r)
    assert "full" in line and "free some space" in line, line


async def test_migrations_on_a_full_disk_raise_one_store_error(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await db.fetchall("PRAGMA max_page_count = 3")
        with pytest.raises(StoreError, match="is full.*free some space"):
            await db.migrate()
        st = await db.migration_status()
        assert st.applied == []  # nothing half-applied


async def test_a_deleted_or_replaced_database_file_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    async with await Database.open(path) as db:
        await db.migrate()
        assert db.file_problem() is None
        path.unlink()
        problem = db.file_problem()
        assert problem is not None and "deleted" in problem and str(path) in problem
        path.write_bytes(b"")
        problem = db.file_problem()
        assert problem is not None and "replaced" in problem
