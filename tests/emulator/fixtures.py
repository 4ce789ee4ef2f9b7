"""pytest fixtures: a module-scoped emulator and the real bot process (`python -m bot run`) pointed
at it. Import them in a conftest.py:

    from tests.emulator.fixtures import bot_process, emulator  # noqa: F401

and run the tests in the module's event loop:

    pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from .server import Emulator, WaitTimeout

ROOT = Path(__file__).resolve().parents[2]

# Settings a bot process must never inherit from a developer's shell or .env.
_SCRUB = ("DISCORD_TOKEN", "DATABASE_PATH", "STORY_DIR", "DEV_GUILD_ID", "DISCORD_API_BASE",
          "DISCORD_GATEWAY_URL", "LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY", "LOG_FILE", "LOG_LEVEL",
          "DATABASE_URL", "SHARD_COUNT", "SHARD_IDS", "DISCORD_GLOBAL_RATE")


class BotProcessError(AssertionError):
    pass


class BotProcess:
    """The real bot (`python -m bot run`) as a child process, talking only to `emulator`.

    Each start writes the child's stderr+stdout to `workdir/bot-N.log`; `log_text()` joins them.
    The database (`database_path`) survives restarts."""

    def __init__(self, emulator: Emulator, workdir: Path, *, story_dir: Path | None = None,
                 database_path: Path | None = None, extra_env: dict[str, str] | None = None,
                 ready_log: str | None = None) -> None:
        self.emu = emulator
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.story_dir = Path(story_dir) if story_dir else ROOT / "story_data"
        self.database_path = Path(database_path) if database_path else self.workdir / "data" / "narrator.sqlite3"
        self.extra_env = dict(extra_env or {})
        self.ready_log = ready_log
        self.proc: asyncio.subprocess.Process | None = None
        self.log_paths: list[Path] = []
        self.returncodes: list[int] = []

    # ------------------------------------------------------------------ environment
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        env.update(PYTHONPATH=str(ROOT), DATABASE_PATH=str(self.database_path), STORY_DIR=str(self.story_dir),
                   NO_COLOR="1", PYTHONUNBUFFERED="1", LOG_LEVEL="INFO")
        env.update(self.emu.env())
        env.update(self.extra_env)
        return env

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def log_path(self) -> Path:
        return self.log_paths[-1]

    # ------------------------------------------------------------------ lifecycle
    async def start(self, *, wait_ready: bool = True, commands: bool = True, timeout: float = 45.0) -> None:  # noqa: ASYNC109
        """Start the process; by default wait until it identified on the gateway and synced its
        commands (and printed `ready_log`, when set)."""
        assert not self.running, "bot already running"
        identifies = self.emu.gateway.log.identifies
        syncs = len(self.emu.command_syncs)
        log_path = self.workdir / f"bot-{len(self.log_paths) + 1}.log"
        self.log_paths.append(log_path)
        with open(log_path, "wb") as log_file:  # noqa: ASYNC230 - creating an empty file
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=self.env(), cwd=self.workdir,
                stdin=asyncio.subprocess.DEVNULL, stdout=log_file, stderr=asyncio.subprocess.STDOUT)
        if not wait_ready:
            return
        proc = self.proc

        def ready() -> bool | str:
            if proc.returncode is not None:
                return "exited"
            ok = (self.emu.gateway.log.identifies > identifies and self.emu.gateway.ready
                  and (not commands or len(self.emu.command_syncs) > syncs))
            if ok and self.ready_log is not None:
                ok = self.ready_log in self.current_log()
            return ok

        try:
            state = await self.emu.wait_for(ready, timeout, what="the bot process to become ready")
        except WaitTimeout:
            raise BotProcessError(f"bot not ready after {timeout}s; log tail:\n{self.current_log()[-4000:]}") from None
        if state == "exited":
            self.returncodes.append(proc.returncode or 0)
            raise BotProcessError(f"bot exited with {proc.returncode} during start-up; log tail:\n"
                                  f"{self.current_log()[-4000:]}")

    async def stop(self, timeout: float = 20.0) -> int:  # noqa: ASYNC109
        """SIGTERM, then wait for a clean exit (SIGKILL and BotProcessError after `timeout`)."""
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return proc.returncode if proc is not None and proc.returncode is not None else 0
        proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            self.returncodes.append(-9)
            raise BotProcessError(f"bot ignored SIGTERM for {timeout}s; log tail:\n{self.current_log()[-3000:]}") from None
        self.returncodes.append(code)
        return code

    async def kill(self) -> int:
        """SIGKILL: a crash, nothing gets flushed or closed."""
        proc = self.proc
        assert proc is not None and proc.returncode is None, "bot not running"
        proc.kill()
        code = await proc.wait()
        self.returncodes.append(code)
        return code

    async def restart(self, **start_kwargs: object) -> None:
        if self.running:
            await self.stop()
        await self.start(**start_kwargs)  # type: ignore[arg-type]

    async def wait_exit(self, timeout: float = 20.0) -> int:  # noqa: ASYNC109
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    # ------------------------------------------------------------------ logs
    def current_log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_paths and self.log_path.exists() else ""

    def log_text(self) -> str:
        """Everything every run of the process wrote (stderr and stdout)."""
        return "".join(p.read_text("utf-8", "replace") for p in self.log_paths if p.exists())

    async def wait_for_log(self, text: str, timeout: float = 15.0) -> None:  # noqa: ASYNC109
        await self.emu.wait_for(lambda: text in self.current_log() or not self.running, timeout,
                                what=f"{text!r} in the bot's log")
        if text not in self.current_log():
            raise BotProcessError(f"bot exited before logging {text!r}; log tail:\n{self.current_log()[-3000:]}")

    def secrets_in_log(self) -> list[str]:
        """Which secrets (the bot token, any webhook token, any interaction token) appear in the log."""
        text = self.log_text()
        secrets = {"bot token": self.emu.token}
        for wh in list(self.emu.webhooks.values()) + self.emu.deleted_webhooks:
            secrets[f"webhook {wh.id} token"] = wh.token
        for inter in self.emu.interactions.values():
            secrets[f"interaction {inter.id} token"] = inter.token
        return [name for name, value in secrets.items() if value and value in text]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def emulator() -> AsyncIterator[Emulator]:
    """A started emulator for the whole module; at teardown no request may have hit an
    unimplemented route or crashed the emulator (`emu.unhandled`, `emu.errors`)."""
    emu = await Emulator().start()
    try:
        yield emu
    finally:
        await emu.stop()
    assert not emu.unhandled, f"requests to routes the emulator does not implement: {emu.unhandled}"
    assert not emu.errors, "the emulator failed on requests:\n" + "\n".join(emu.errors)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot_process(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    """One real bot process per module (READY costs ~2 s of guild_ready_timeout), stopped with
    SIGTERM at teardown; the log must not contain the token or any webhook/interaction token."""
    bot = BotProcess(emulator, tmp_path_factory.mktemp("bot"))
    await bot.start()
    try:
        yield bot
    finally:
        if bot.running:
            await bot.stop()
    leaked = bot.secrets_in_log()
    assert not leaked, f"secrets in the bot's log: {leaked}"
