"""The two doors: SQL lives only in bot/store, discord only in bot/discord_app."""

import ast
import re
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|PRAGMA|BEGIN|COMMIT|ROLLBACK|WITH)\b")


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"), str(p))) for p in sorted(BOT.rglob("*.py"))]


def _imports(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_only_discord_app_imports_discord() -> None:
    offenders = [
        str(p.relative_to(BOT))
        for p, tree in _modules()
        if "discord_app" not in p.parts and _imports(tree) & {"discord", "yarl"}
    ]
    assert offenders == []


def test_only_store_has_sql() -> None:
    offenders = []
    for p, tree in _modules():
        if "store" in p.relative_to(BOT).parts:
            continue
        if _imports(tree) & {"sqlite3", "aiosqlite"}:
            offenders.append(f"{p.relative_to(BOT)}: imports a database driver")
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value):
                offenders.append(f"{p.relative_to(BOT)}:{node.lineno}: {node.value[:40]!r}")
    assert offenders == []


def test_the_checks_see_real_code() -> None:
    # Guards against the two tests above passing because they scanned nothing.
    mods = {str(p.relative_to(BOT)) for p, _ in _modules()}
    assert "store/migrations.py" in mods and "discord_app/endpoints.py" in mods
    store_tree = dict(_modules())[BOT / "store" / "db.py"]
    assert "aiosqlite" in _imports(store_tree)
