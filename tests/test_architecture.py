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
    parts = p.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """Module -> the bot modules it imports (anywhere in the file: top level, in functions and
    under TYPE_CHECKING alike, since each is a dependency a reader has to hold in mind)."""
    trees = {_module_name(p): tree for p, tree in _modules()}
    graph: dict[str, set[str]] = {}
    for name, tree in trees.items():
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    deps.add(full if full in trees else node.module)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
        graph[name] = {d for d in deps if d in trees and d != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        found.append(sorted(comp))
    return found


def test_no_import_cycles_inside_bot() -> None:
    assert _cycles(_import_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    # Guards against the test above passing because the graph or the search is empty.
    graph = _import_graph()
    assert "bot.engine.narrator" in graph and "bot.engine.player" in graph["bot.engine.narrator"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


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
