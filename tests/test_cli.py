"""The command line, as instructors and CI use it."""
import csv
import json
import shutil

import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import main
from reference import rnn_linear as ref
from tests.grading import COURSE, reference_source

NOTEBOOK = COURSE / "assignments" / "rnn_linear" / "rnn_linear.ipynb"


def student_notebook(path, **solutions):
    """The rnn_linear student notebook with the named TODO cells filled in."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        for name, code in solutions.items():
            if "todo" in tags and name in tags:
                cell.source = code
    nbformat.write(nb, path)
    return path


@pytest.fixture
def batch(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    correct = {n: reference_source(ref, n) for n in ("output_gradient", "backward_gradient")}
    student_notebook(folder / "alice.ipynb", **correct)
    (folder / "bob").mkdir()
    student_notebook(folder / "bob" / "hw.ipynb", output_gradient=correct["output_gradient"])
    (folder / "carol.ipynb").write_text('{"cells": [')
    return folder


def test_grade_writes_results_and_grades(batch, tmp_path):
    out, book = tmp_path / "out", tmp_path / "gradebook.sqlite"
    result = CliRunner().invoke(main, ["grade", "rnn_linear", str(batch), "--out", str(out),
                                       "--course", str(COURSE), "--jobs", "2",
                                       "--gradebook", str(book)])
    assert result.exit_code == 0, result.output
    assert f"gradebook: recorded 3 runs in {book}" in result.output
    rows = {r["submission"]: r for r in csv.DictReader((out / "grades.csv").open())}
    assert set(rows) == {"alice", "bob", "carol"}
    assert rows["alice"]["score"] == rows["alice"]["max_score"] == "13"
    assert 0 < float(rows["bob"]["score"]) < 13
    assert rows["carol"]["score"] == "0" and "not valid JSON" in rows["carol"]["error"]
    alice = json.loads((out / "alice" / "results.json").read_text())
    assert alice["score"] == 13 and alice["extra_data"]["isolation"] in ("full", "reduced")
    for test in alice["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility", "tags"}
        assert test["tags"][0] in ("output_gradient", "backward_gradient")
    bob = json.loads((out / "bob" / "results.json").read_text())
    hidden = [t for t in bob["tests"] if t["visibility"] == "after_published"]
    assert hidden and all(t["output"].startswith(("Passed", "Failed (hidden")) for t in hidden)
    public_fail = [t for t in bob["tests"] if t["visibility"] == "visible" and t["status"] == "failed"]
    assert "NotImplementedError" in public_fail[0]["output"]


def test_unknown_assignment_is_a_one_line_error(batch):
    result = CliRunner().invoke(main, ["grade", "nope", str(batch), "--course", str(COURSE)])
    assert result.exit_code == 2
    assert "unknown assignment 'nope'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_missing_submissions_is_an_error(tmp_path):
    result = CliRunner().invoke(main, ["grade", "rnn_linear", str(tmp_path / "none"),
                                       "--course", str(COURSE)])
    assert result.exit_code == 2


def test_check_reports_public_cases_with_diagnosis(tmp_path):
    folder = tmp_path / "student"
    folder.mkdir()
    shutil.copy(COURSE / "assignments" / "rnn_linear" / "public_cases.bin", folder)
    wrong = "import numpy as np\ndef output_gradient(y, t):\n    return 2 * (t - y)\n"
    notebook = student_notebook(folder / "mine.ipynb", output_gradient=wrong,
                                backward_gradient=reference_source(ref, "backward_gradient"))
    result = CliRunner().invoke(main, ["check", str(notebook)])
    assert result.exit_code == 1
    assert "[FAIL] output_gradient" in result.output and "wrong sign" in result.output
    assert "[PASS] backward_gradient: 7 sequences of 5 steps" in result.output
    # the gradient check chains their output_gradient into their backward: it names the sign
    assert "exactly −1× the slope of your own forward" in result.output
    assert "hidden" not in result.output.lower()

    right = student_notebook(folder / "fixed.ipynb", output_gradient=reference_source(ref, "output_gradient"),
                             backward_gradient=reference_source(ref, "backward_gradient"))
    assert CliRunner().invoke(main, ["check", str(right)]).exit_code == 0


def test_defaults_follow_the_environment_never_the_checkout(batch, tmp_path, monkeypatch):
    """Without --gradebook and --out, grade records into $GRADER_GRADEBOOK and writes under
    $GRADER_OUT/ASSIGNMENT: the test suite (tests/conftest.py) points both at a temporary
    folder, so the course's gradebook and out/ stay as they are."""
    course_book, course_out = COURSE / "gradebook.sqlite", COURSE / "out" / "rnn_linear"
    before = [(p, p.exists() and p.stat().st_mtime_ns) for p in (course_book, course_out)]
    monkeypatch.setenv("GRADER_GRADEBOOK", str(tmp_path / "book.sqlite"))
    monkeypatch.setenv("GRADER_OUT", str(tmp_path / "results"))
    result = CliRunner().invoke(main, ["grade", "rnn_linear", str(batch / "alice.ipynb"),
                                       "--course", str(COURSE), "--no-html"])
    assert result.exit_code == 0, result.output
    assert f"recorded 1 run in {tmp_path / 'book.sqlite'}" in result.output
    assert (tmp_path / "results" / "rnn_linear" / "alice" / "results.json").is_file()
    assert [(p, p.exists() and p.stat().st_mtime_ns) for p in (course_book, course_out)] == before


def test_early_workers_read_the_short_out_option():
    """`grade -o DIR A ONE.ipynb` starts one early worker: -o's value is not a positional."""
    from grader.sandbox import launch

    one = COURSE / "assignments" / "rnn_linear" / "samples" / "correct_loop.ipynb"
    launch.start_early(["grade", "-o", "somewhere", "--isolation", "reduced", "rnn_linear",
                        str(one)])
    try:
        assert len(launch._early) == 1
    finally:
        launch.stop_early()
