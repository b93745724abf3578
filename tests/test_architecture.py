"""The package's parts and which may use which: reading never imports checking, coding or
synthesis; the model never imports the run; synthesis takes predictions and never tags; and
no module imports itself round a cycle (imports inside functions count too)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "trustreview"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Each module of the package and the package modules it imports (anywhere in it)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith("trustreview"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("trustreview"))
        graph[name] = {m for m in found if m in modules and m != name and m != "trustreview"}
    return graph


GRAPH = imports()


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in GRAPH.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_walk_sees_the_package():
    assert {"trustreview.io.load", "trustreview.model.tagging", "trustreview.cli",
            "trustreview.synthesis.tables", "trustreview.run.runner"} <= set(GRAPH)
    assert "trustreview.io.load" in GRAPH["trustreview.validate"]


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_import_cycle(module):
    assert module not in reachable(module), f"{module} imports itself round a cycle"


NEVER = {
    "trustreview.io": ("trustreview.dedup", "trustreview.validate", "trustreview.coding", "trustreview.synthesis",
                       "trustreview.model", "trustreview.run", "trustreview.pipeline",
                       "trustreview.cli", "trustreview.scaffold", "trustreview.params"),
    "trustreview.model": ("trustreview.run", "trustreview.pipeline", "trustreview.cli",
                          "trustreview.params", "trustreview.synthesis", "trustreview.coding"),
    "trustreview.synthesis": ("trustreview.model.tagging", "trustreview.model.evaluation",
                              "trustreview.model.features", "trustreview.run",
                              "trustreview.pipeline", "trustreview.cli"),
    "trustreview.dedup": ("trustreview.validate", "trustreview.coding", "trustreview.synthesis",
                          "trustreview.model", "trustreview.run", "trustreview.pipeline",
                          "trustreview.cli", "trustreview.scaffold", "trustreview.intake",
                          "trustreview.params"),
    "trustreview.schema": ("trustreview",),
}


@pytest.mark.parametrize("part", sorted(NEVER))
def test_a_part_never_imports_what_it_must_not(part):
    members = [m for m in GRAPH if m == part or m.startswith(part + ".")]
    assert members
    wrong = sorted(f"{m} -> {t}" for m in members for t in reachable(m)
                   if any(t == f or t.startswith(f + ".") for f in NEVER[part]))
    assert not wrong, wrong


def test_every_module_says_what_it_owns():
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__main__.py":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and doc.strip(), f"{path.relative_to(PACKAGE)} has no docstring"
