"""A throw-away PostgreSQL server for the tests and benches, started from the machine's own
PostgreSQL binaries (Debian's `postgresql` package; `make test` installs it when missing).

PostgreSQL refuses to run as root, so when we are root (CI, containers) the server runs as the
`postgres` system user (or `nobody`) in a private temporary folder. It listens on 127.0.0.1 on a
free port, with fsync off (nothing here needs to survive a power cut). Each test gets its own
schema (`search_path` in the URL), so tests never see each other's rows and no database is created
per test.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(Exception):
    """No PostgreSQL can be started here; the message says why and what to install."""


def find_bindir() -> Path | None:
    env = os.environ.get("NARRATOR_PG_BINDIR")
    if env:
        return Path(env)
    # Debian keeps the server binaries out of PATH; the newest version wins.
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                      key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("postgres")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    bindir: Path
    root: Path
    port: int
    proc: subprocess.Popen[bytes]
    user: str = "narrator"
    _schemas: itertools.count[int] = itertools.count(1)  # noqa: RUF009 - one counter per server

    @property
    def base_url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/narrator"

    def new_url(self) -> str:
        """A URL whose tables live in a fresh, empty schema of their own."""
        name = f"t{os.getpid()}_{next(self._schemas)}"
        self.psql(f"CREATE SCHEMA {name}")
        return f"{self.base_url}?search_path={name}"

    def psql(self, sql: str, db: str = "narrator") -> str:
        out = subprocess.run(
            ["psql", "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
             "-d", db, "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, timeout=30, check=False)
        if out.returncode != 0:
            raise RuntimeError(f"psql failed: {out.stderr.strip()}")
        return out.stdout

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(2)  # SIGINT: "fast" shutdown, does not wait for clients to leave
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _run_as() -> tuple[int, int] | None:
    """(uid, gid) to run the server as, or None to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pw = pwd.getpwnam(name)
        except KeyError:
            continue
        return pw.pw_uid, pw.pw_gid
    raise PostgresUnavailable("running as root and there is no 'postgres' or 'nobody' user to run the server as")


def start(timeout: float = 30.0) -> PostgresServer:
    bindir = find_bindir()
    if bindir is None or not (bindir / "initdb").exists():
        raise PostgresUnavailable(
            "no PostgreSQL server binaries found (initdb/postgres); install Debian's 'postgresql' "
            "package (`make test` does it as root) or set NARRATOR_PG_BINDIR")
    if shutil.which("psql") is None:
        raise PostgresUnavailable("psql not found; install Debian's 'postgresql-client'")
    ids = _run_as()
    root = Path(tempfile.mkdtemp(prefix="narrator-pg-"))
    data = root / "data"
    if ids is not None:
        os.chown(root, *ids)

    def demote() -> None:
        if ids is not None:
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])
        # Die with the test run, even a SIGKILLed one (set after setuid, which clears it).
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG

    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    init = subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "narrator", "-E", "UTF8",
         "--locale=C", "--no-sync"],
        capture_output=True, text=True, preexec_fn=demote, env=env, cwd=root, timeout=120, check=False)
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()[-400:]}")
    port = _free_port()
    log = open(root / "server.log", "wb")  # lives as long as the server
    proc = subprocess.Popen(
        [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root),
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
         "-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=64MB"],
        stdout=log, stderr=subprocess.STDOUT, preexec_fn=demote, env=env, cwd=root)
    server = PostgresServer(bindir, root, port, proc)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            text = (root / "server.log").read_text(errors="replace")[-600:]
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(f"postgres exited at start: {text}")
        try:
            server.psql("CREATE DATABASE narrator", db="postgres")
            break
        except RuntimeError as exc:
            if "already exists" in str(exc):
                break
            if time.monotonic() > deadline:
                server.stop()
                raise PostgresUnavailable(f"postgres did not accept connections in {timeout:.0f} s: {exc}") from exc
            time.sleep(0.1)
    return server
