"""The package reads as the grading flow: each stage imports only itself and earlier stages, the
command line is imported by nothing, modules stay short, and the core names no assignment.
Checked from the import graph of the source (every import, including those inside functions)."""
import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "grader"

#: The stages in the order a submission goes through them; a module may import its own stage
#: and earlier ones only. `grader` itself (the package's __init__: version, grader.check) and
#: `grader.__main__` are the doors in, above every stage.
STAGES = ["i18n", "wire", "course", "read", "intake", "sandbox", "judge", "results", "report",
          "gradebook", "export", "similarity", "authoring", "cli"]
DOORS = {"grader", "grader.__main__"}
LONGEST = 400


def _modules() -> dict:
    """Dotted module name -> source path, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _stage(module: str) -> str:
    parts = module.split(".")
    assert len(parts) >= 2, module
    return parts[1]


def _imports(module: str, path: Path) -> set:
    """The grader modules `module` imports, resolved to modules of the package (imports under
    `if TYPE_CHECKING:` are for annotations only and never run: not counted)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    resolved = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith("grader"):
            resolved.add(name)
    resolved.discard(module)
    return resolved


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def test_every_module_belongs_to_a_stage():
    strays = [m for m in MODULES if m not in DOORS and _stage(m) not in STAGES]
    assert not strays, f"modules outside the stages {STAGES}: {strays}"


def _backwards(graph: dict) -> list:
    """Each "module imports a later stage's module" in `graph`."""
    wrong = []
    for module, imported in graph.items():
        if module in DOORS:
            continue
        for other in imported:
            if other in DOORS:
                continue  # the package's version and public check
            if STAGES.index(_stage(other)) > STAGES.index(_stage(module)):
                wrong.append(f"{module} imports {other}")
    return sorted(wrong)


def test_stages_import_only_earlier_stages():
    wrong = _backwards(GRAPH)
    assert not wrong, "a stage imports a later one:\n" + "\n".join(wrong)


def test_nothing_imports_the_command_line():
    wrong = [f"{m} imports {o}" for m, imported in GRAPH.items() for o in imported
             if o not in DOORS and _stage(o) == "cli" and m != "grader.__main__"
             and (m in DOORS or _stage(m) != "cli")]
    assert not wrong, "\n".join(wrong)


def _cycle():
    """One import cycle among the package's modules (as a list), or None. Imports of the package
    root (`import grader` for its path or version) are left out: the root imports a stage only
    inside grader.check(), when it is called."""
    graph = {m: {o for o in imported if o != "grader"} for m, imported in GRAPH.items()}
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle():
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_checker_sees_a_violation(tmp_path):
    """The checks read real imports: a judge module written to import the gradebook (inside a
    function, as lazy imports are) is found going backwards, and two modules importing each
    other are a cycle."""
    source = tmp_path / "late.py"
    source.write_text("def f():\n    from grader.gradebook.store import Gradebook\n")
    imported = _imports("grader.judge.late", source)
    assert imported == {"grader.gradebook.store"}
    assert _backwards({"grader.judge.late": imported}) == [
        "grader.judge.late imports grader.gradebook.store"]
    assert _backwards({"grader.gradebook.store": {"grader.judge.verdicts"}}) == []
    global GRAPH
    saved = GRAPH
    try:
        GRAPH = {"grader.judge.a": {"grader.judge.b"}, "grader.judge.b": {"grader.judge.a"}}
        assert _cycle() == ["grader.judge.a", "grader.judge.b", "grader.judge.a"]
    finally:
        GRAPH = saved


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_short(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= LONGEST, f"{module} has {lines} lines (at most {LONGEST})"


def _assignment_names() -> list:
    root = PACKAGE.parent / "assignments"
    return sorted(p.name for p in root.iterdir() if (p / "spec.toml").exists())


def test_core_names_no_assignment():
    """The core works for any assignment: no module names one of the course's assignments as
    an identifier or in a string (words like "gates" in prose are fine only as prose)."""
    names = _assignment_names()
    assert names, "no assignments found"
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")
    hits = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            text = None
            if isinstance(node, ast.Name):
                text = node.id
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if ast.get_docstring is not None and len(node.value) > 200:
                    continue  # docstrings: prose may mention an example assignment
                text = node.value
            if text and pattern.search(text):
                hits.append(f"{module}:{node.lineno}: {text[:60]!r}")
    assert not hits, "the core names an assignment:\n" + "\n".join(hits)
