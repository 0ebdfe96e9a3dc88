"""One version, defined once (grader.__version__): pyproject.toml reads it, `grader --version`
prints it, and every results.json and gradebook run records it. And a distribution name of our
own: `grader` on PyPI is an unrelated package, so what students are told to install is ours."""
import json
import re
import tomllib
from importlib import metadata

import nbformat
import pytest
from click.testing import CliRunner

import grader
from grader.cli import main
from grader.course.assignment import available
from grader.gradebook import Gradebook
from tests.grading import COURSE

PROJECT = tomllib.loads((COURSE / "pyproject.toml").read_text())
SAMPLE = COURSE / "assignments" / "rnn_linear" / "samples" / "correct_loop.ipynb"


def test_the_version_is_defined_once_and_read_by_pyproject():
    assert re.fullmatch(r"\d+\.\d+\.\d+", grader.__version__)
    assert "version" not in PROJECT["project"]
    assert "version" in PROJECT["project"]["dynamic"]
    assert PROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "grader.__version__"}


def test_the_distribution_has_a_name_of_its_own():
    assert PROJECT["project"]["name"] == grader.DISTRIBUTION
    assert grader.DISTRIBUTION != "grader"  # PyPI's grader is an unrelated 2012 package
    assert PROJECT["project"]["scripts"]["grader"].startswith("grader.")  # the command stays


def test_the_installed_distribution_is_this_version():
    """`make` installs the checkout under the distribution's name; a stale install shows here."""
    assert metadata.version(grader.DISTRIBUTION) == grader.__version__


def test_grader_version_prints_the_version_and_the_distribution():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.split()[1] == grader.__version__
    assert f"(distribution {grader.DISTRIBUTION})" in result.output


def test_results_json_and_the_gradebook_record_the_version(tmp_path):
    out, book = tmp_path / "out", tmp_path / "gradebook.sqlite"
    result = CliRunner().invoke(main, ["grade", "rnn_linear", str(SAMPLE), "--out", str(out),
                                       "--gradebook", str(book), "--course", str(COURSE),
                                       "--no-html"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / SAMPLE.stem / "results.json").read_text())
    assert data["extra_data"]["grader_version"] == grader.__version__
    with Gradebook(book, create=False) as gradebook:
        runs = gradebook.history(SAMPLE.stem, "rnn_linear")
    assert [run.grader_version for run in runs] == [grader.__version__]
    shown = CliRunner().invoke(main, ["gradebook", "show", SAMPLE.stem, "--gradebook", str(book)])
    assert shown.exit_code == 0, shown.output
    assert f"grader {grader.__version__}" in shown.output


HANDOUTS = sorted(path for name in available(COURSE)
                  for path in (COURSE / "assignments" / name).glob(f"{name}*.ipynb"))


@pytest.mark.parametrize("path", HANDOUTS, ids=lambda path: path.name)
def test_the_handout_says_what_to_install_when_import_grader_fails(path):
    """The first cell of every handed-out notebook, in every language, names our distribution
    and warns of the other one; the notebook imports grader after it."""
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0].source
    assert f"%pip install {grader.DISTRIBUTION}" in first
    assert "`pip install grader`" in first and "`import grader`" in first
    assert any("import grader" in cell.source for cell in notebook.cells[1:]
               if cell.cell_type == "code")


def test_every_assignment_has_its_handouts():
    assert {path.parent.name for path in HANDOUTS} == set(available(COURSE))
    assert any(".ko." in path.name for path in HANDOUTS)
