"""The fixtures other e2e tests rely on: the real bot process (`python -m bot run`) started against
the emulator, ready when the fixture returns, stopped cleanly, restartable on the same database."""

from __future__ import annotations

import pytest

from tests.emulator import BotProcess, BotProcessError, Emulator

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_real_bot_connects_restarts_and_keeps_secrets(emulator: Emulator, bot_process: BotProcess) -> None:
    emu = emulator
    assert bot_process.running and emu.gateway.ready
    assert emu.gateway.log.identifies == 1 and emu.command_syncs
    assert {"story"} <= {c.name for c in emu.commands.values()}
    first = [f"{r.method} {r.path}" for r in emu.requests[:2]]
    assert first == ["GET /users/@me", "GET /oauth2/applications/@me"]

    assert await bot_process.stop() == 0
    assert not emu.gateway.ready  # the connection went away with the process
    db = bot_process.database_path
    assert db.exists()

    await bot_process.start()
    assert emu.gateway.log.identifies == 2 and bot_process.running
    assert await bot_process.kill() != 0
    await bot_process.start()  # after a crash, same database
    assert emu.gateway.log.identifies == 3 and bot_process.database_path == db
    assert len(bot_process.log_paths) == 3
    assert bot_process.secrets_in_log() == []
    assert emu.token not in bot_process.log_text()
    assert emu.unhandled == []


async def test_startup_failure_reports_the_log(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> None:
    broken = BotProcess(emulator, tmp_path_factory.mktemp("broken"),
                        extra_env={"DISCORD_TOKEN": "short"})  # rejected by the settings check
    with pytest.raises(BotProcessError, match="exited with"):
        await broken.start(timeout=30)
    assert "DISCORD_TOKEN" in broken.log_text()
