"""The package's parts and which may use which (:data:`ALLOWED`): only the command line, the
vocabulary and the errors sit at the top; reading never imports checking, coding or
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
    assert "trustreview.io.load" in GRAPH["trustreview.corpus.validate"]


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_no_import_cycle(module):
    assert module not in reachable(module), f"{module} imports itself round a cycle"


# The parts, in the order a review meets them, and what each may import (besides itself).
# A part's modules import nothing else, directly or through another part: the arrows only
# point down this list's dependencies, never round.
TOP = {"trustreview", "trustreview.__main__", "trustreview.cli", "trustreview.errors",
       "trustreview.schema"}
GROUND = {"schema", "errors"}
ALLOWED = {
    "base": GROUND,
    "io": {"base"} | GROUND,
    "dedup": {"base"} | GROUND,
    "corpus": {"io", "dedup", "base"} | GROUND,
    "searches": {"io", "dedup", "base", "run.runner"} | GROUND,  # runner: the notebooks new copies
    "model": {"corpus", "io", "base"} | GROUND,
    "screening": {"model", "corpus", "io", "base"} | GROUND,
    "coding": {"screening", "model", "corpus", "io", "base"} | GROUND,
    "synthesis": {"corpus", "io", "base"} | GROUND,
    "run": {"synthesis", "screening", "model", "corpus", "io", "base"} | GROUND,
}


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_only_the_command_line_the_vocabulary_and_the_errors_sit_at_the_top():
    top = {m for m in GRAPH if m.count(".") <= 1 and part_of(m) not in ALLOWED}
    assert top == TOP, sorted(top - TOP)


def test_every_part_opens_with_what_it_owns_and_may_import():
    for part in ALLOWED:
        doc = ast.get_docstring(ast.parse((PACKAGE / part / "__init__.py").read_text(
            encoding="utf-8")))
        assert doc and "import" in doc, f"{part}/__init__.py does not say what it may import"


@pytest.mark.parametrize("part", sorted(ALLOWED))
def test_a_part_imports_only_what_it_may(part):
    members = [m for m in GRAPH if part_of(m) == part]
    assert members
    allowed = ALLOWED[part] | {part}
    wrong = sorted(f"{m} -> {t}" for m in members for t in GRAPH[m]
                   if part_of(t) not in allowed and
                   not any(t == f"trustreview.{a}" or t.startswith(f"trustreview.{a}.")
                           for a in allowed))
    assert not wrong, wrong


def test_the_parts_import_one_way():
    # the allowed arrows themselves form no cycle between parts
    def below(part, seen=()):
        for other in ALLOWED.get(part.split(".")[0], ()):
            name = other.split(".")[0]
            assert name not in seen, f"{part} and {name} import each other"
            if name in ALLOWED and name != part:
                below(name, (*seen, part))
    for part in ALLOWED:
        below(part)


def test_every_module_says_what_it_owns():
    for path in PACKAGE.rglob("*.py"):
        if path.name == "__main__.py":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and doc.strip(), f"{path.relative_to(PACKAGE)} has no docstring"


def test_each_fact_has_one_home():
    # the entry types: one table (schema.ENTRY_TYPES) that the writers and kinds derive from
    from trustreview import schema
    from trustreview.io.eppi import TYPE_NAMES
    from trustreview.io.eppi_read import TYPES_TO_RIS
    from trustreview.io.ris import RIS_TYPES, TYPES
    from trustreview.synthesis.citations import IN_BOOK
    for entry_type, (kind, ris, eppi) in schema.ENTRY_TYPES.items():
        assert RIS_TYPES[entry_type] == ris
        assert TYPE_NAMES.get(entry_type) == eppi
        assert schema.ENTRY_KINDS.get(entry_type, "other") == kind
        assert (entry_type in IN_BOOK) == (kind in ("chapter", "paper"))
        if eppi:  # what is written comes back as the same kind of work
            assert schema.ENTRY_KINDS.get(TYPES.get(TYPES_TO_RIS[eppi.lower()], "misc"),
                                          "other") == kind
    # the venue fields, the stop words, the parallel threshold, a file's digest, the
    # prediction columns, the parameter types: defined once, imported everywhere else
    source = {p.relative_to(PACKAGE).as_posix(): p.read_text(encoding="utf-8")
              for p in PACKAGE.rglob("*.py")}
    for pattern, home in (("VENUE_FIELDS = ", "schema.py"), ("STOP_WORDS = ", "base/text.py"),
                          ("= 20_000", "base/parallel.py"), ("file_digest(", "io/files.py"),
                          ("PREDICTION_COLUMNS = ", "model/evaluation.py"),
                          ("FLOAT_FORMAT = \"%.4f\"", "io/export.py"),
                          ("\"check_domains\"", "schema.py"), ("\"suggested_domains\"", "schema.py")):
        homes = sorted(name for name, text in source.items() if pattern in text)
        assert homes == [home], (pattern, homes)
