"""The command line, as instructors and CI use it."""
import csv
import json
import os
import re
import shutil
import zipfile

import click
import nbformat
import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.gradebook.store import Gradebook
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
    $GRADER_OUT_ROOT/ASSIGNMENT: the test suite (tests/conftest.py) points both at a temporary
    folder, so the course's gradebook and out/ stay as they are."""
    course_book, course_out = COURSE / "gradebook.sqlite", COURSE / "out" / "rnn_linear"
    before = [(p, p.exists() and p.stat().st_mtime_ns) for p in (course_book, course_out)]
    monkeypatch.setenv("GRADER_GRADEBOOK", str(tmp_path / "book.sqlite"))
    monkeypatch.setenv("GRADER_OUT_ROOT", str(tmp_path / "results"))
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


# ---- nothing is skipped silently ------------------------------------------------------------

@pytest.fixture
def mixed(tmp_path):
    """A folder as an LMS download leaves it: a notebook, a script, an archive, a student
    folder with two notebooks (b the newer), one with no notebook, hidden clutter."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    correct = {n: reference_source(ref, n) for n in ("output_gradient", "backward_gradient")}
    student_notebook(folder / "alice.ipynb", **correct)
    (folder / "hw.py").write_text("def output_gradient(y, t):\n    return 2 * (y - t)\n")
    with zipfile.ZipFile(folder / "submissions.zip", "w") as archive:
        archive.writestr("dan.ipynb", NOTEBOOK.read_text())
    (folder / "s07").mkdir()
    student_notebook(folder / "s07" / "a.ipynb")
    student_notebook(folder / "s07" / "b.ipynb", **correct)
    os.utime(folder / "s07" / "a.ipynb", (1_700_000_000, 1_700_000_000))
    (folder / "s08").mkdir()
    (folder / "s08" / "notes.txt").write_text("I could not finish")
    (folder / ".DS_Store").write_bytes(b"\0")
    return folder


LEFT_OUT = {
    "hw.py": "hw.py: not a notebook (not graded)",
    "submissions.zip": "submissions.zip: an archive, not graded: unpack it into a folder of its "
                       "own and grade that folder",
    "s07": "s07/: 2 notebooks (a.ipynb, b.ipynb): pick one with --pick newest|name=PATTERN",
    "s08": "s08/: no notebook inside (holds notes.txt)",
}


def grade_mixed(folder, tmp_path, *options):
    out, book = tmp_path / "out", tmp_path / "book.sqlite"
    result = CliRunner().invoke(main, ["grade", "rnn_linear", str(folder), "-o", str(out),
                                       "--course", str(COURSE), "--gradebook", str(book),
                                       "--no-html", *options])
    rows = {r["submission"]: r for r in csv.DictReader((out / "grades.csv").open())} \
        if (out / "grades.csv").exists() else {}
    return result, rows, book


def test_every_file_is_graded_or_listed_with_its_reason(mixed, tmp_path):
    result, rows, book = grade_mixed(mixed, tmp_path)
    assert result.exit_code == 1, result.output  # something was left out
    assert "graded 1 submissions" in result.output and "left out 4" in result.output
    assert set(rows) == {"alice", *LEFT_OUT}
    assert rows["alice"]["score"] == "13"
    for ident, reason in LEFT_OUT.items():
        assert reason in result.output
        assert rows[ident]["score"] == "" and rows[ident]["error"].startswith(reason)
    with Gradebook(book) as gb:  # only what was graded is recorded
        assert {s.student for s in gb.standings("rnn_linear")} == {"alice"}


@pytest.mark.parametrize("pick, graded, reason", [
    ("newest", "13", None),
    ("name=A*", "0", None),
    ("name=*.ipynb", None, "s07/: 2 notebooks (a.ipynb, b.ipynb): --pick name=*.ipynb matches "
                           "2 of them"),
])
def test_pick_chooses_the_notebook_of_a_folder_holding_several(mixed, tmp_path, pick, graded,
                                                                reason):
    result, rows, _ = grade_mixed(mixed, tmp_path, "--pick", pick, "--student", "s07")
    if graded is None:
        assert result.exit_code == 2 and reason in result.output  # nothing left to grade
    else:
        assert result.exit_code == 0, result.output
        assert rows["s07"]["score"] == graded and rows["s07"]["error"] == ""


def test_a_file_that_is_not_a_notebook_is_refused_before_grading(mixed, tmp_path):
    for name, words in (("hw.tar.gz", "an archive"), ("hw.py", "not a notebook")):
        (mixed / name).write_bytes(b"\x1f\x8b" if name.endswith(".gz") else b"pass\n")
        result, rows, book = grade_mixed(mixed / name, tmp_path)
        assert result.exit_code == 2 and words in result.output and name in result.output
        assert not rows and not book.exists()
    # a zip is a download: unpacked and graded (tests/test_lms_intake.py)
    result, rows, book = grade_mixed(mixed / "submissions.zip", tmp_path)
    assert result.exit_code == 0 and set(rows) == {"dan"}, result.output
    bad = CliRunner().invoke(main, ["grade", "rnn_linear", str(mixed), "--pick", "latest"])
    assert bad.exit_code == 2 and "newest|name=PATTERN" in bad.output


# ---- a regrade brings every page and CSV up to date ------------------------------------------

def _summary_rows(page):
    """{submission: score text} of the class page's table."""
    return dict(re.findall(r'<a href="([^/"]+)/feedback.html">[^<]*</a></td>\s*'
                           r'<td class="num">([^<]*) /', page.read_text()))


def test_one_student_regrade_rewrites_the_class_page_and_grades(batch, tmp_path, monkeypatch):
    """Without --out, grade and regrade both write out/ASSIGNMENT in the course folder (never
    the current folder), and regrading bob updates his row in summary.html and grades.csv
    while keeping everyone else's."""
    monkeypatch.delenv("GRADER_OUT_ROOT")
    course = tmp_path / "course"
    course.mkdir()
    for part in ("assignments", "reference"):
        (course / part).symlink_to(COURSE / part)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    where = ["--course", str(course), "--gradebook", str(tmp_path / "book.sqlite")]
    assert CliRunner().invoke(main, ["grade", "rnn_linear", str(batch), *where]).exit_code == 0
    out = course / "out" / "rnn_linear"
    before = {r["submission"]: r["score"] for r in csv.DictReader((out / "grades.csv").open())}
    assert _summary_rows(out / "summary.html") == before and before["bob"] != "13"

    correct = {n: reference_source(ref, n) for n in ("output_gradient", "backward_gradient")}
    student_notebook(batch / "bob" / "hw.ipynb", **correct)
    result = CliRunner().invoke(main, ["regrade", "rnn_linear", "--student", "bob",
                                       "--submissions", str(batch), *where])
    assert result.exit_code == 0, result.output
    assert _summary_rows(out / "summary.html") == {"alice": "13", "bob": "13", "carol": "0"}
    rows = {r["submission"]: r["score"] for r in csv.DictReader((out / "grades.csv").open())}
    assert rows == {"alice": "13", "bob": "13", "carol": "0"}
    assert not list(elsewhere.iterdir())  # nothing in the current folder


def test_a_graderignore_names_what_is_not_a_submission(mixed, tmp_path):
    """The instructor says what else the folder holds (the bundled samples' sources do)."""
    (mixed / ".graderignore").write_text("# course material\nhw.py\ns08/\nS07/\n")
    result, rows, _ = grade_mixed(mixed, tmp_path)
    assert result.exit_code == 1 and set(rows) == {"alice", "submissions.zip", "s07"}
    assert "hw.py" not in result.output and "s08" not in result.output


# ---- grader check tells a student what to do ---------------------------------------------------

def test_check_without_a_case_file_outside_the_course_says_where_it_goes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a student's machine: no course folder anywhere above
    notebook = student_notebook(tmp_path / "mine.ipynb")
    for extra in ([], ["--assignment", "rnn_linear"]):
        result = CliRunner().invoke(main, ["check", str(notebook), *extra])
        assert result.exit_code == 2
        assert f"put the public_cases.bin that came with the rnn_linear notebook in {tmp_path}/" \
            in result.output
        assert "--assignment" not in result.output and "no course folder" not in result.output


def test_check_refuses_the_case_file_of_another_assignment(tmp_path):
    shutil.copy(COURSE / "assignments" / "gates" / "public_cases.bin", tmp_path)
    notebook = student_notebook(tmp_path / "mine.ipynb")
    result = CliRunner().invoke(main, ["check", str(notebook)])
    assert result.exit_code == 2
    assert "holds the public cases of 'gates', but mine.ipynb is the 'rnn_linear' notebook" \
        in result.output

    # a notebook that does not say its assignment: the missing functions give the hint
    nb = nbformat.read(notebook, as_version=4)
    del nb.metadata["grader"]
    nbformat.write(nb, notebook)
    result = CliRunner().invoke(main, ["check", str(notebook)])
    assert result.exit_code == 1
    assert "None of the functions public_cases.bin tests (sigmoid, " in result.output
    assert "It holds the public cases of 'gates'." in result.output


def test_handouts_name_their_assignment():
    from grader.read.notebook import notebook_assignment

    for name in ("gates", "rnn_linear", "rnn_bptt", "lstm"):
        folder = COURSE / "assignments" / name
        assert notebook_assignment(folder / f"{name}.ipynb") == name
        samples = (folder / "samples").glob("*.ipynb")
        assert {notebook_assignment(p) for p in samples} <= {name, None}


# ---- one vocabulary of options -------------------------------------------------------------------

def _commands(command, path=("grader",)):
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


def test_every_option_has_help_and_outputs_are_named_one_way():
    """Every option says what it does; whatever writes a file or folder is -o/--out; every
    --course says the same."""
    from grader.course.assignment import COURSE_HELP

    options = [(where, option) for where, command in _commands(main)
               for option in command.params if isinstance(option, click.Option)]
    assert len(options) > 40
    problems = [f"{where} {option.opts}: no help" for where, option in options if not option.help]
    problems += [f"{where} {option.opts}: --output, not -o/--out" for where, option in options
                 if "--output" in option.opts]
    problems += [f"{where} --out without -o" for where, option in options
                 if "--out" in option.opts and "-o" not in option.opts]
    problems += [f"{where} --course: {option.help!r}" for where, option in options
                 if "--course" in option.opts and option.help != COURSE_HELP]
    assert problems == []
    writers = {where for where, option in options if "--out" in option.opts}
    assert {"grader grade", "grader regrade", "grader export gradescope", "grader export github",
            "grader export bundle", "grader gradebook export"} <= writers
