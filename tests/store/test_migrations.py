import os
import shutil
import stat
from pathlib import Path

import pytest

from bot.store import Database, MigrationError
from bot.store.migrations import default_migrations_dir, split_statements


@pytest.fixture
def migdir(tmp_path: Path) -> Path:
    d = tmp_path / "migrations"
    shutil.copytree(default_migrations_dir(), d)
    return d


async def test_real_migrations_apply_and_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "db.sqlite3"
    async with await Database.open(path) as db:
        first = await db.migrate()
        assert first and first[0] == "0001_initial.sql"
        assert await db.migrate() == []
        st = await db.migration_status()
        assert st.pending == [] and st.version >= 1
        row = await db.fetchone("PRAGMA journal_mode")
        assert row is not None and row[0] == "wal"
        fk = await db.fetchone("PRAGMA foreign_keys")
        assert fk is not None and fk[0] == 1
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


async def test_failing_migration_leaves_previous_version(tmp_path: Path, migdir: Path) -> None:
    (migdir / "9998_good.sql").write_text("-- why: test\nCREATE TABLE t_good (x INTEGER);\n")
    (migdir / "9999_bad.sql").write_text(
        "-- why: test\nCREATE TABLE t_half (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n"
    )
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        with pytest.raises(MigrationError, match="9999_bad.sql failed and was rolled back"):
            await db.migrate(migdir)
        st = await db.migration_status(migdir)
        assert st.version == 9998
        assert st.pending == [(9999, "bad")]
        # The half-applied table from the failing file is gone with its transaction.
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE name = ?", ("t_half",))
        assert rows == []
        rows = await db.fetchall("SELECT name FROM sqlite_master WHERE name = ?", ("t_good",))
        assert len(rows) == 1


async def test_edited_migration_is_detected(tmp_path: Path, migdir: Path) -> None:
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await db.migrate(migdir)
    first = migdir / "0001_initial.sql"
    first.write_text(first.read_text() + "\nCREATE TABLE sneaky (x INTEGER);\n")
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        with pytest.raises(MigrationError, match="0001_initial.sql was edited after it was applied"):
            await db.migrate(migdir)


async def test_whitespace_only_change_is_not_an_edit(tmp_path: Path, migdir: Path) -> None:
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await db.migrate(migdir)
    first = migdir / "0001_initial.sql"
    first.write_text(first.read_text().replace("\n", "\r\n"))
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        assert await db.migrate(migdir) == []


async def test_newer_database_is_refused(tmp_path: Path, migdir: Path) -> None:
    (migdir / "9000_future.sql").write_text("-- why: test\nCREATE TABLE future (x INTEGER);\n")
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await db.migrate(migdir)
    (migdir / "9000_future.sql").unlink()
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        with pytest.raises(MigrationError, match="schema version 9000 .*only knows up to"):
            await db.migrate(migdir)


def test_split_keeps_trigger_bodies_whole() -> None:
    sql = """-- why: x
CREATE TABLE a (x INTEGER);
CREATE TRIGGER tr AFTER INSERT ON a BEGIN
  UPDATE a SET x = 1;
  UPDATE a SET x = 2;
END;
-- trailing comment
"""
    stmts = split_statements(sql)
    assert len(stmts) == 2
    assert stmts[1].startswith("CREATE TRIGGER") and stmts[1].endswith("END;")


def test_bad_file_name_is_refused(tmp_path: Path, migdir: Path) -> None:
    (migdir / "12_oops.sql").write_text("SELECT 1;")
    from bot.store.migrations import load_migrations

    with pytest.raises(MigrationError, match="NNNN_name.sql"):
        load_migrations(migdir)


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    async with await Database.open(tmp_path / "db.sqlite3") as db:
        await db.migrate()
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO guild_settings (guild_id, mod_role_id) VALUES (?, ?)", (1, 2))
                raise RuntimeError("boom")
        assert await db.fetchall("SELECT * FROM guild_settings") == []


async def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    from bot.store import StoreError

    with pytest.raises(StoreError, match="not a usable SQLite database"):
        await Database.open(junk)


async def test_an_impossible_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    from bot.store import StoreError

    with pytest.raises(StoreError, match="cannot create the database"):
        await Database.open(tmp_path / "file" / "db.sqlite3")


async def test_concurrent_migrators_do_not_collide(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "db.sqlite3"
    dbs = [await Database.open(path) for _ in range(4)]
    try:
        results = await asyncio.gather(*(db.migrate() for db in dbs))
    finally:
        for db in dbs:
            await db.close()
    applied = [name for r in results for name in r]
    assert sorted(applied) == sorted(set(applied))  # each file applied exactly once
    assert "0001_initial.sql" in applied
