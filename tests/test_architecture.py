"""The layers of the README's architecture section, checked on the source: which module may
import which, and no import circle (function-level imports count too)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("clerkgdpr", "stores", "gdpr_dashboard", "customers")
# Each layer may import itself and the layers after it, never one before it.
LAYERS = ("clerkgdpr.urls", "customers", "gdpr_dashboard", "stores", "clerkgdpr")
MAX_PRODUCT_FILE_LINES = 450


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _product_files() -> dict[str, Path]:
    files = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                files[_module_name(path)] = path
    return files


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Every module of ours that ``path`` imports, at any depth of the file."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            for alias in node.names:
                # ``from package import module`` imports the module.
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
    return {m for m in found if m in known or m.split(".")[0] in ("bench", "tests")}


def _graph() -> dict[str, set[str]]:
    files = _product_files()
    known = set(files)
    return {name: _imports(path, name, known) - {name} for name, path in files.items()}


def _layer(module: str) -> int:
    return next(
        i for i, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + ".")
    )


def test_it_imports_only_downwards():
    wrong = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in targets
        if target.split(".")[0] in ("bench", "tests") or _layer(target) < _layer(module)
    ]
    assert wrong == [], "imports against the layers (README, Architecture):\n" + "\n".join(wrong)


def test_no_module_imports_the_task_module():
    """Services queue jobs by name (customers.jobs); only Celery loads customers.tasks."""
    importers = [m for m, targets in _graph().items() if "customers.tasks" in targets]
    assert importers == []


def test_ingestion_depends_on_no_page_or_api_code():
    above = ("customers.api", "customers.console", "customers.privacy", "customers.retention")
    wrong = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if module.startswith("customers.ingest")
        for target in targets
        if target.startswith(above)
    ]
    assert wrong == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_there_is_no_import_circle():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_product_files_stay_small():
    big = {
        str(path.relative_to(ROOT)): n
        for path in _product_files().values()
        if (n := len(path.read_text().splitlines())) > MAX_PRODUCT_FILE_LINES
    }
    assert big == {}
