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


def _module_name(p: Path) -> str:
    rel = p.relative_to(BOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """bot module -> bot modules it imports anywhere (top level, in functions, under TYPE_CHECKING)."""
    mods = {_module_name(p): tree for p, tree in _modules()}
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, tree in mods.items():
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from pkg import submodule` depends on the submodule, not on what pkg re-exports
                subs = [f"{node.module}.{a.name}" for a in node.names]
                targets = [t for t in subs if t in mods]
                if len(targets) < len(subs):
                    targets.append(node.module)
            for t in targets:
                if t in mods and t != name:
                    graph[name].add(t)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                found.append([*stack[stack.index(m):], m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return found


def test_no_import_cycles_between_modules() -> None:
    # Package __init__ re-exports are edges too; a cycle through them is still a cycle.
    graph = _import_graph()
    assert "bot.discord_app.commands" in graph["bot.discord_app.bot"]  # the check sees real edges
    cycles = _cycles(graph)
    assert cycles == [], "\n".join(" -> ".join(c) for c in cycles)


def test_the_discord_app_never_reaches_back_into_the_composition_root() -> None:
    graph = _import_graph()
    offenders = [m for m, deps in graph.items() if m.startswith(("bot.discord_app", "bot.engine", "bot.store",
                                                                 "bot.story", "bot.answers")) and "bot.app" in deps]
    assert offenders == []
    # ... and the root builds every service itself
    app = (BOT / "app.py").read_text(encoding="utf-8")
    for built in ("Database.open(", "GuildStore(", "BudgetGate(", "AnswerEngine(", "NarratorBot(",
                  "WebhookStage(", "Narrator(", "SystemClock("):
        assert built in app, built


def test_one_rate_limiter_and_no_test_clock_in_production_code() -> None:
    offenders = []
    for p, tree in _modules():
        rel = str(p.relative_to(BOT))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance" \
                    and any(isinstance(a, ast.Name) and a.id == "FakeClock" for a in ast.walk(node)):
                offenders.append(f"{rel}:{node.lineno}: isinstance(..., FakeClock)")
            if isinstance(node, ast.Attribute) and node.attr in ("_conn", "_execute") and rel != "store/db.py":
                offenders.append(f"{rel}:{node.lineno}: reaches into aiosqlite's .{node.attr}")
            if isinstance(node, ast.ClassDef) and "Budget" in node.name and rel != "engine/budget.py":
                offenders.append(f"{rel}:{node.lineno}: a second rate budget {node.name}")
    assert offenders == []
    assert not (BOT / "discord_app" / "budget.py").exists()
