"""End to end: SIGTERM ends the bot within 10 s whatever Discord is doing; start-up warns about
secret-bearing files others can read; a database deleted under the running bot is reported."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.store import Database
from tests.discord.e2e import make_bot, posted, story_root
from tests.discord.stories import short_story
from tests.emulator import Emulator

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

TALE = short_story("tale", beats=40, scenes=2)
EXECUTE = "POST /webhooks/{webhook_id}/{webhook_token}"


async def test_sigterm_exits_within_10_s_while_discord_hangs(emulator: Emulator, tmp_path: Path) -> None:
    emu = emulator
    proc = make_bot(emu, tmp_path, story_root(tmp_path, TALE), time_scale=0.01)
    await proc.start()
    ch = emu.add_channel(emu.guild, "hanging")
    i = await emu.invoke(emu.moderator, ch, "story", subcommand="start", options={"story": "tale", "mode": "auto"})
    await i.wait_reply()
    await emu.wait_for(lambda: len([m for m in posted(emu, ch) if m.webhook_id]) >= 3, 30, what="a few beats")
    # Discord stops answering: every post hangs for a minute (a long outage)
    outage = emu.fail("timeout", EXECUTE, count=100, hang=60.0)
    await emu.wait_for(lambda: outage.remaining < 100, 30, what="a post to hang")
    started = time.monotonic()
    code = await proc.stop(timeout=30)
    took = time.monotonic() - started
    emu.faults.clear()
    assert took < 10, f"SIGTERM took {took:.1f} s; log tail:\n{proc.current_log()[-2000:]}"
    assert code == 0, proc.current_log()[-2000:]
    assert "Traceback" not in proc.current_log()
    # nothing was lost: the next run goes on from where the story was
    await proc.start()
    await emu.wait_for(lambda: len([m for m in posted(emu, ch) if m.webhook_id]) >= 6, 30,
                       what="the story to go on after the restart")
    assert await proc.stop() == 0


async def test_startup_warns_about_exposed_files_and_a_deleted_database_is_reported(
        emulator: Emulator, tmp_path: Path) -> None:
    emu = emulator
    db_path = tmp_path / "data" / "narrator.sqlite3"
    async with await Database.open(db_path) as db:
        await db.migrate()
    db_path.chmod(0o644)
    log_file = tmp_path / "narrator.log"
    log_file.write_text("", encoding="utf-8")
    log_file.chmod(0o644)
    env_file = tmp_path / ".env"  # the bot runs in tmp_path: this is the .env it reads
    env_file.write_text("# settings\n", encoding="utf-8")
    env_file.chmod(0o666)
    proc = make_bot(emu, tmp_path, story_root(tmp_path, TALE), LOG_FILE=str(log_file))
    await proc.start()
    try:
        log = proc.current_log()
        for what, path, mode in ((".env", env_file, "0666"), ("the database", db_path, "0644"),
                                 ("the log file", log_file, "0644")):
            line = next((ln for ln in log.splitlines() if f"{what} {path}" in ln), None)
            assert line is not None, f"no warning about {what} {path}:\n{log[-3000:]}"
            assert mode in line and f"chmod 600 {path}" in line, line
        assert "anyone on this machine" in log
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(f"{db_path}{suffix}"):  # noqa: ASYNC240 - a test's one-off file removal
                os.unlink(f"{db_path}{suffix}")
        await proc.wait_for_log(f"the database file {db_path} was deleted", timeout=20)
    finally:
        await proc.stop()
