"""docs/authoring.md, followed as an instructor would: `grader new` scaffolds an assignment in
an empty course folder, `grader build` makes its notebook and public cases, and a correct and a
buggy notebook are graded with `grader grade` and checked with `grader check`. Then the same for
the bundled two_layer assignment's committed files."""
import json
import re
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from grader.authoring.notebooks import stale_files
from grader.cli import main

COURSE = Path(__file__).resolve().parent.parent
DOCS = COURSE / "docs" / "authoring.md"

CORRECT = '''# %% [todo] linear_forward
def linear_forward(x, w):
    return x.dot(w), (x, w)

# %% [todo] linear_backward
def linear_backward(dout, cache):
    x, w = cache
    return dout.dot(w.T), x.T.dot(dout)

# %% [todo] mse_loss
def mse_loss(pred, target):
    diff = pred - target
    return np.mean(np.sum(diff ** 2, axis=1)), 2 * diff / len(pred)
'''
#: the same with the mean over the batch forgotten in the loss and its gradient
BUGGY = CORRECT.replace("np.mean(np.sum(diff ** 2, axis=1))", "np.sum(diff ** 2)") \
               .replace("2 * diff / len(pred)", "2 * diff")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """An empty course folder where the documented steps were followed."""
    folder = tmp_path_factory.mktemp("course")
    (folder / "assignments").mkdir()
    made = run("new", "my_layer", "--course", folder)
    assert made.exit_code == 0, made.output
    samples = folder / "assignments" / "my_layer" / "samples" / "src"
    samples.mkdir(parents=True)
    (samples / "correct.py").write_text(CORRECT)
    (samples / "buggy.py").write_text(BUGGY)
    built = run("build", "my_layer", "--course", folder)
    assert built.exit_code == 0, built.output
    return folder


def test_the_documented_commands_are_the_ones_tested():
    text = DOCS.read_text()
    for command in ("grader new my_layer", "grader build my_layer", "grader grade my_layer",
                    "grader mutants my_layer"):
        assert command in text


def test_new_writes_the_three_files_and_never_overwrites(course):
    folder = course / "assignments" / "my_layer"
    assert (course / "reference" / "my_layer.py").is_file()
    assert {p.name for p in folder.iterdir()} >= {"spec.toml", "template.py", "my_layer.ipynb",
                                                  "public_cases.bin"}
    again = run("new", "my_layer", "--course", course)
    assert again.exit_code != 0 and "already exist" in again.output
    bad = run("new", "2fast", "--course", course)
    assert bad.exit_code != 0 and "not a usable assignment name" in bad.output


def test_build_makes_a_notebook_of_stubs(course):
    nb = nbformat.read(course / "assignments" / "my_layer" / "my_layer.ipynb", as_version=4)
    todos = [c for c in nb.cells if "todo" in c.metadata.get("tags", [])]
    assert [c.metadata.tags[1] for c in todos] == ["linear_forward", "linear_backward", "mse_loss"]
    assert all("raise NotImplementedError" in c.source and "@" not in c.source for c in todos)
    assert stale_files(course, "my_layer") == []


def _graded(course, tmp_path, sample):
    notebook = course / "assignments" / "my_layer" / "samples" / f"{sample}.ipynb"
    out = tmp_path / sample
    result = run("grade", "my_layer", notebook, "--course", course, "--out", out,
                 "--no-gradebook", "--no-html")
    assert result.exit_code == 0, result.output
    return json.loads(next(out.glob("*/results.json")).read_text())


def test_a_correct_notebook_gets_full_marks(course, tmp_path):
    results = _graded(course, tmp_path, "correct")
    assert results["score"] == 10 and len(results["tests"]) > 20
    assert all(t["score"] == t["max_score"] for t in results["tests"])


def test_a_buggy_notebook_loses_points_with_the_mistake_named(course, tmp_path):
    results = _graded(course, tmp_path, "buggy")
    failing = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert failing and all(t["name"].startswith("mse_loss") for t in failing)
    assert 0 < results["score"] < 10
    public = " ".join(t.get("output", "") for t in failing if t.get("visibility") != "hidden")
    assert re.search(r"exactly \d+× the reference \(N = \d+, the batch size\)", public), public


def test_students_check_against_the_public_cases(course, tmp_path):
    folder = course / "assignments" / "my_layer"
    result = run("check", folder / "samples" / "buggy.ipynb", "--cases",
                 folder / "public_cases.bin")
    assert result.exit_code == 1 and "mse_loss" in result.output
    result = run("check", folder / "samples" / "correct.ipynb", "--cases",
                 folder / "public_cases.bin")
    assert result.exit_code == 0, result.output


def test_mutants_shows_what_the_tests_catch(course):
    result = run("mutants", "my_layer", "--course", course)
    assert result.exit_code == 0, result.output
    assert "my_layer" in result.output and "killed" in result.output


def test_the_gradescope_export_of_two_layer_grades_away_from_the_checkout(tmp_path):
    """The autograder zip holds the spec, the public cases and the reference (no cases.py: the
    cases are derived there); unpacked as a course of its own, it grades a sample as here."""
    import zipfile

    archive = tmp_path / "autograder.zip"
    result = run("export", "gradescope", "two_layer", "-o", archive, "--course", COURSE)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(archive) as opened:
        names = set(opened.namelist())
        opened.extractall(tmp_path / "source")
    assert {"assignments/two_layer/spec.toml", "assignments/two_layer/public_cases.bin",
            "reference/two_layer.py", "reference/__init__.py"} <= names
    assert not [n for n in names if "cases.py" in n or "samples" in n or "gates" in n]
    sample = COURSE / "assignments" / "two_layer" / "samples" / "summed_loss.ipynb"
    scores = []
    for course in (COURSE, tmp_path / "source"):
        out = tmp_path / f"out-{len(scores)}"
        graded = run("grade", "two_layer", sample, "--course", course, "--out", out,
                     "--no-gradebook", "--no-html")
        assert graded.exit_code == 0, graded.output
        scores.append(json.loads(next(out.glob("*/results.json")).read_text())["score"])
    assert scores[0] == scores[1] < 31


def test_new_in_an_empty_folder_starts_a_course_there(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made = run("new", "first")
    assert made.exit_code == 0, made.output
    assert (tmp_path / "reference" / "__init__.py").is_file()
    built = run("build", "first")
    assert built.exit_code == 0, built.output
    assert (tmp_path / "assignments" / "first" / "public_cases.bin").is_file()
