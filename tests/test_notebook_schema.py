"""The compiled validator of the current notebook format, kept in the virtual environment."""
import json
import sys

import fastjsonschema
import nbformat
import pytest

from grader import notebook_schema

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
    code = ("import sys\nfrom pathlib import Path\nfrom grader.notebook import read_code_cells\n"
            f"sources, notes = read_code_cells(Path({str(path)!r}))\n"
            "assert sources and not notes\n"
            "print(sorted(m for m in ('nbformat', 'jsonschema') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
