"""The layout keeps its promises: no import cycles, cogs without SQL or store calls, one-way layers."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ai", "app", "bench", "cogs", "db", "memory", "tickets", "web")


def _modules() -> dict[str, Path]:
    found = {"bot": ROOT / "bot.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """First-party modules `path` imports at run time (imports for type checkers only are left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for stmt in block.body
        for node in ast.walk(stmt)
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in modules}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_no_import_cycles() -> None:
    graph = _graph()
    done: set[str] = set()

    def visit(module: str, stack: list[str]) -> None:
        if module in stack:
            cycle = [*stack[stack.index(module) :], module]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, [*stack, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_layers_import_one_way() -> None:
    graph = _graph()
    for module, imported in graph.items():
        top = module.split(".")[0]
        tops = {name.split(".")[0] for name in imported}
        if top in ("ai", "db", "memory", "tickets", "cogs"):
            assert "app" not in tops, f"{module} imports the application wiring"
        if top in ("ai", "db", "memory", "tickets"):
            assert "cogs" not in tops and "bot" not in tops, f"{module} imports the Discord side"
        if top in ("db", "ai"):
            assert tops <= {top}, f"{module} knows other packages: {tops}"
        if top == "memory":
            assert "tickets" not in tops, f"{module} imports the ticket domain"
        if top in ("ai", "db", "memory", "tickets"):
            assert "web" not in tops, f"{module} imports the dashboard"
        if top == "web":
            assert not tops & {"app", "cogs", "bot"}, f"{module} imports the wiring or the Discord side"


def test_the_dashboard_knows_no_discord_and_no_sql() -> None:
    """web/ renders what the services return: Discord is reached through its Directory (cogs/dashboard.py)
    and the database through the services, except its own tables (sign-in links and sessions: web/auth.py)."""
    sql = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b.*\b(FROM|INTO|SET)\b")
    for path in (ROOT / "web").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(import|from) discord\b", text, re.M), f"{path} imports discord"
        if path.name not in ("auth.py", "migrations.py"):
            assert not sql.search(text), f"{path} holds SQL"


def test_bench_does_not_import_tests() -> None:
    for path in (ROOT / "bench").rglob("*.py"):
        assert not re.search(r"^\s*(from|import) tests\b", path.read_text(encoding="utf-8"), re.M), path


def test_cogs_hold_no_sql_and_no_store_calls() -> None:
    sql = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b.*\b(FROM|INTO|SET)\b")
    for path in (ROOT / "cogs").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ".store." not in text and "core.store" not in text, f"{path} calls the ticket store"
        assert not sql.search(text), f"{path} holds SQL"
        assert "aiohttp" not in text, f"{path} makes HTTP requests"


def test_the_docs_name_files_and_functions_that_exist() -> None:
    """ARCHITECTURE.md and README's map name real files and real functions, so they cannot drift."""
    source = "\n".join(path.read_text(encoding="utf-8") for path in _modules().values())
    for doc in ("ARCHITECTURE.md", "README.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        for path in re.findall(r"`((?:[a-z_]+/)+[a-z_]+\.py)`", text):
            assert (ROOT / path).exists(), f"{doc} names {path}, which does not exist"
        for owner, name in re.findall(r"`([A-Z][A-Za-z]+)\.([a-z_]+)`", text):
            assert re.search(rf"class {owner}\b", source), f"{doc} names class {owner}, which does not exist"
            assert re.search(rf"def {name}\b", source), f"{doc} names {owner}.{name}, which does not exist"
