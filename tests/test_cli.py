import subprocess
from pathlib import Path

from tests.conftest import PYTHON


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, "-m", "bot", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_run_without_token_explains_itself(cli_env: dict[str, str], tmp_path: Path) -> None:
    r = _run(["run"], cli_env, tmp_path)
    assert r.returncode != 0
    assert "DISCORD_TOKEN" in r.stderr and ".env" in r.stderr
    assert "Traceback" not in r.stderr


def test_default_command_is_run(cli_env: dict[str, str], tmp_path: Path) -> None:
    r = _run([], cli_env, tmp_path)
    assert r.returncode != 0 and "DISCORD_TOKEN" in r.stderr


def test_db_migrate_twice_is_idempotent(cli_env: dict[str, str], tmp_path: Path) -> None:
    first = _run(["db", "migrate"], cli_env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "applied 0001_initial.sql" in first.stdout
    second = _run(["db", "migrate"], cli_env, tmp_path)
    assert second.returncode == 0 and "up to date" in second.stdout
    status = _run(["db", "status"], cli_env, tmp_path)
    assert status.returncode == 0 and "applied  0001_initial" in status.stdout
    assert "pending" not in status.stdout


def test_help_lists_every_subcommand(cli_env: dict[str, str], tmp_path: Path) -> None:
    r = _run(["--help"], cli_env, tmp_path)
    assert r.returncode == 0
    for cmd in ("run", "demo", "import", "segment", "export", "check", "ask", "db"):
        assert cmd in r.stdout


def test_bad_setting_is_one_sentence(cli_env: dict[str, str], tmp_path: Path) -> None:
    cli_env["LOG_LEVEL"] = "shouty"
    r = _run(["db", "status"], cli_env, tmp_path)
    assert r.returncode == 2
    assert "LOG_LEVEL must be one of" in r.stderr and "Traceback" not in r.stderr


def test_not_a_database_is_one_line_and_exits(cli_env: dict[str, str], tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("junk\n" * 50)
    cli_env["DATABASE_PATH"] = str(junk)
    r = _run(["db", "migrate"], cli_env, tmp_path)  # must not hang (timeout=60 in _run)
    assert r.returncode == 1
    assert "not a usable SQLite database" in r.stderr and "Traceback" not in r.stderr


def test_db_migrate_and_status_on_postgres(cli_env: dict[str, str], tmp_path: Path, pg_url: str) -> None:
    cli_env["DATABASE_URL"] = pg_url.replace("narrator@", "narrator:not-a-real-pw@")  # trust auth ignores it
    first = _run(["db", "migrate"], cli_env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "applied postgres/0001_initial.sql" in first.stdout
    assert "up to date" in _run(["db", "migrate"], cli_env, tmp_path).stdout
    status = _run(["db", "status"], cli_env, tmp_path)
    assert status.returncode == 0 and "applied  0001_initial" in status.stdout and "pending" not in status.stdout
    assert "not-a-real-pw" not in status.stdout + status.stderr  # the password is never shown
    assert not (tmp_path / "data").exists()  # no SQLite file was made
