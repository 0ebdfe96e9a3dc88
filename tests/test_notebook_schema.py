"""The compiled validator of the current notebook format, kept in the virtual environment."""
import json
import sys

import fastjsonschema
import nbformat
import pytest

from grader.read import notebook_schema

VALID = json.loads(nbformat.writes(nbformat.v4.new_notebook(
    cells=[nbformat.v4.new_code_cell("def f(x):\n    return x\n")])))


@pytest.fixture
def prefix(tmp_path, monkeypatch):
    """A virtual environment of our own, and no validator loaded yet."""
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    notebook_schema.validator.cache_clear()
    yield tmp_path / "venv" / "var" / "cache" / "grader"
    notebook_schema.validator.cache_clear()


def _no_generating(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the schema was compiled again")
    monkeypatch.setattr(fastjsonschema, "compile_to_code", refuse)


def test_it_checks_what_nbformat_checks(prefix):
    validate = notebook_schema.validator()
    validate(json.loads(json.dumps(VALID)))
    broken = json.loads(json.dumps(VALID))
    del broken["cells"][0]["id"]  # required from nbformat 4.5
    with pytest.raises(notebook_schema.Invalid):
        validate(broken)
    with pytest.raises(nbformat.ValidationError):  # nbformat's own validator agrees
        nbformat.validator.get_validator(name="fastjsonschema").validate(broken)


def test_compiled_once_then_loaded(prefix, monkeypatch):
    notebook_schema.validator()
    (cached,) = prefix.iterdir()
    assert cached.read_bytes().startswith(notebook_schema.importlib.util.MAGIC_NUMBER)
    notebook_schema.validator.cache_clear()
    _no_generating(monkeypatch)
    notebook_schema.validator()(json.loads(json.dumps(VALID)))


def test_a_damaged_cache_is_made_again(prefix):
    notebook_schema.validator()
    (cached,) = prefix.iterdir()
    cached.write_bytes(b"not code")
    notebook_schema.validator.cache_clear()
    notebook_schema.validator()(json.loads(json.dumps(VALID)))
    assert cached.read_bytes().startswith(notebook_schema.importlib.util.MAGIC_NUMBER)


def test_outside_a_virtual_environment_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)
    notebook_schema.validator.cache_clear()
    try:
        assert notebook_schema.cache_folder() is None
        notebook_schema.validator()(json.loads(json.dumps(VALID)))
    finally:
        notebook_schema.validator.cache_clear()


def test_an_environment_it_cannot_write_to_still_validates(prefix, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("read-only")
    monkeypatch.setattr(notebook_schema.os, "replace", refuse)
    notebook_schema.validator()(json.loads(json.dumps(VALID)))
    assert list(prefix.iterdir()) == []  # nothing half-written left behind


def test_it_finds_the_schema_nbformat_uses_for_the_current_format():
    assert notebook_schema.minor() == nbformat.v4.nbformat_minor
    assert notebook_schema._schema_file().name == \
        nbformat.v4.nbformat_schema[(4, nbformat.v4.nbformat_minor)]


def test_reading_a_current_notebook_for_grading_does_not_import_nbformat(tmp_path):
    """nbformat (with jsonschema) is a fifth of `grader grade`'s start-up; a current notebook
    that passes the schema needs none of it."""
    import subprocess

    path = tmp_path / "ok.ipynb"
    path.write_text(json.dumps(VALID))
    code = ("import sys\nfrom pathlib import Path\nfrom grader.read.notebook import read_code_cells\n"
            f"sources, notes = read_code_cells(Path({str(path)!r}))\n"
            "assert sources and not notes\n"
            "print(sorted(m for m in ('nbformat', 'jsonschema') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def _variants():
    """Notebooks around a valid one with a cell of each type: every cell given every cell type
    (and a wrong one), each required key of a cell removed, an unknown key added, and wrong
    types for its fields."""
    base = json.loads(nbformat.writes(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1", outputs=[nbformat.v4.new_output(
            "stream", text="hi")], execution_count=3),
        nbformat.v4.new_markdown_cell("# title"),
        nbformat.v4.new_raw_cell("raw text")])))
    yield base
    for i, cell in enumerate(base["cells"]):
        for cell_type in ("code", "markdown", "raw", "heading", 7, None):
            changed = json.loads(json.dumps(base))
            changed["cells"][i]["cell_type"] = cell_type
            yield changed
        for key in list(cell):
            changed = json.loads(json.dumps(base))
            del changed["cells"][i][key]
            yield changed
            for wrong in (None, 1, "text", [], {}, ["a", 2]):
                changed = json.loads(json.dumps(base))
                changed["cells"][i][key] = wrong
                yield changed
        changed = json.loads(json.dumps(base))
        changed["cells"][i]["unexpected"] = 1
        yield changed
    for cells in ([], [1], ["cell"], [None], {}):
        changed = json.loads(json.dumps(base))
        changed["cells"] = cells
        yield changed


def test_checking_each_cell_by_its_type_agrees_with_the_whole_schema(prefix):
    """The validator checks a cell against its own type's definition only: for every variant,
    valid exactly when the schema as nbformat has it (one fastjsonschema validator) says so."""
    whole = fastjsonschema.compile(json.loads(
        notebook_schema._schema_file().read_text(encoding="utf-8")))
    split = notebook_schema.validator()

    def passes(validate, data):
        try:
            validate(data)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    verdicts = [(passes(whole, v), passes(split, json.loads(json.dumps(v)))) for v in _variants()]
    assert len(verdicts) > 100 and {w for w, _ in verdicts} == {True, False}  # both kinds seen
    assert all(w == s for w, s in verdicts), [i for i, (w, s) in enumerate(verdicts) if w != s]


def test_a_schema_whose_cells_are_described_otherwise_is_kept_whole():
    schema = json.loads(notebook_schema._schema_file().read_text(encoding="utf-8"))
    assert len(notebook_schema._split(schema)) == 1 + len(notebook_schema.CELL_TYPES)
    schema["definitions"]["cell"]["oneOf"].append({"$ref": "#/definitions/markdown_cell"})
    assert notebook_schema._split(schema) == [schema]
    schema = json.loads(notebook_schema._schema_file().read_text(encoding="utf-8"))
    schema["definitions"]["raw_cell"]["properties"]["cell_type"]["enum"] = ["raw", "code"]
    assert notebook_schema._split(schema) == [schema]
