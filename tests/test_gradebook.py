"""The gradebook (every grading run in SQLite, latest/best per student, regrading, CSV exports
for spreadsheets, Canvas and Moodle) and JUnit XML output."""
import csv
import hashlib
import io
import multiprocessing
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from grader import __version__
from grader.results import results_json as results
from grader.cli import main
from grader.results.grade import Graded, ungradable
from grader.gradebook import SCHEMA_VERSION, Gradebook, GradebookError, content_hash
from grader.export.lms import RosterError, export_csv, read_roster
from grader.gradebook.schema import MIGRATIONS, connect
from grader.judge import Verdict
from grader.export.junit import to_junit
from tests.grading import COURSE, assignment, grade_source

SAMPLES = COURSE / "assignments" / "rnn_linear" / "samples"


def graded_with(name, student, failing=(), partial=(), error=None):
    """A Graded of assignment `name` (its real cases): the tests whose names contain one of
    `failing` score 0, those matching `partial` half, the others full."""
    verdicts = []
    for case in assignment(name).cases:
        if any(f in case.name for f in failing):
            verdicts.append(Verdict(case, 0.0, [f"wrong {case.name}"], ["scale:N"]))
        elif any(p in case.name for p in partial):
            verdicts.append(Verdict(case, 0.5, [f"half of {case.name}"], ["scale:2"]))
        else:
            verdicts.append(Verdict(case, 1.0))
    return Graded(student, verdicts, [], error, 0.25, "reduced")


@pytest.fixture
def book(tmp_path):
    with Gradebook(tmp_path / "gradebook.sqlite") as b:
        yield b


def runs_in(path):
    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]


# -- recording and queries ---------------------------------------------------------------------

def test_content_hash_is_sha256_of_the_file_bytes_even_when_unparseable(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_bytes(b'{"cells": [')
    assert content_hash(broken) == hashlib.sha256(b'{"cells": [').hexdigest()
    sample = SAMPLES / "correct_loop.ipynb"
    assert content_hash(sample) == hashlib.sha256(sample.read_bytes()).hexdigest()
    assert content_hash(tmp_path) is None and content_hash(tmp_path / "gone.ipynb") is None
    assert content_hash(None) is None


def test_latest_best_and_attempts_per_student(book, tmp_path):
    spec = assignment("rnn_linear")
    notebook = tmp_path / "alice.ipynb"
    notebook.write_text("first")
    first = graded_with("rnn_linear", "alice", failing=["backward_gradient"])
    book.record(spec, first, path=notebook, submissions=tmp_path)
    notebook.write_text("second")
    book.record(spec, graded_with("rnn_linear", "alice"), path=notebook)
    book.record(spec, graded_with("rnn_linear", "alice", partial=["output_gradient"]),
                path=notebook)
    book.record(spec, graded_with("rnn_linear", "bob", failing=["output_gradient"]))
    book.record(assignment("gates"), graded_with("gates", "alice", failing=["sigmoid"]))

    standings = {(s.assignment, s.student): s for s in book.standings()}
    assert list(standings) == [("gates", "alice"), ("rnn_linear", "alice"), ("rnn_linear", "bob")]
    alice = standings["rnn_linear", "alice"]
    assert alice.attempts == 3 and alice.best == 13 and alice.max_score == 13
    assert 0 < alice.latest < 13 and alice.latest == graded_with(
        "rnn_linear", "alice", partial=["output_gradient"]).score
    assert first.score < alice.latest
    assert standings["rnn_linear", "bob"].attempts == 1
    assert [s.student for s in book.standings("rnn_linear")] == ["alice", "bob"]
    latest, best = book.scores("latest"), book.scores("best")
    assert latest["alice", "rnn_linear"] == alice.latest and best["alice", "rnn_linear"] == 13
    assert latest["alice", "gates"] == best["alice", "gates"] < 46
    assert book.assignments() == [("gates", assignment("gates").title, 46.0),
                                  ("rnn_linear", spec.title, 13.0)]


def test_history_has_every_run_with_time_hash_version_and_failed_tests(book, tmp_path):
    spec = assignment("rnn_linear")
    notebook = tmp_path / "carol.ipynb"
    notebook.write_bytes(b"version one")
    book.record(spec, graded_with("rnn_linear", "carol", failing=["gradient check"]),
                path=notebook, submissions=tmp_path)
    notebook.write_bytes(b"version two")
    book.record(spec, ungradable(spec, "carol", "carol.ipynb: not valid JSON"), path=notebook)
    runs = book.history("carol")
    assert [r.content_hash for r in runs] == [hashlib.sha256(b"version one").hexdigest(),
                                              hashlib.sha256(b"version two").hexdigest()]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r.graded_at) for r in runs)
    assert all(r.grader_version == __version__ for r in runs)
    checks = [c.name for c in spec.cases if "gradient check" in c.name]
    assert checks and runs[0].failed == checks and runs[0].error is None
    assert runs[0].path == str(notebook) and runs[0].submissions == str(tmp_path)
    assert runs[1].failed == [c.name for c in spec.cases] and runs[1].score == 0
    assert runs[1].error == "carol.ipynb: not valid JSON"
    rows = book.results(runs[0].id)
    assert len(rows) == len(spec.cases)
    failed = [r for r in rows if not r[5]]
    assert [r[0] for r in failed] == checks and failed[0][6] == f"wrong {checks[0]}"
    assert book.history("carol", "gates") == [] and book.history("nobody") == []


def test_a_run_that_cannot_be_recorded_leaves_nothing_behind(book):
    spec = assignment("rnn_linear")
    book.record(spec, graded_with("rnn_linear", "dave"))
    twice = graded_with("rnn_linear", "dave")
    twice.verdicts.append(twice.verdicts[0])  # the same test twice: the second row is refused
    with pytest.raises(GradebookError, match="UNIQUE"):
        book.record(spec, twice)
    assert runs_in(book.path) == 1  # the run row of the failed record was rolled back
    assert book.standings()[0].attempts == 1
    book.record(spec, graded_with("rnn_linear", "dave"))  # and the connection still works
    assert runs_in(book.path) == 2


# -- schema and migrations ---------------------------------------------------------------------

def test_upgrade_from_version_1_keeps_old_runs(tmp_path):
    path = tmp_path / "old.sqlite"
    db = connect(path, target=1)
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    db.execute("INSERT INTO runs (assignment, student, graded_at, content_hash, grader_version, "
               "score, max_score, error) VALUES ('rnn_linear', 'erin', '2024-01-02T03:04:05Z', "
               "'ab12', '0.0.9', 7, 13, NULL)")
    db.execute("INSERT INTO results (run_id, test, function, visibility, points, score, passed) "
               "VALUES (1, 'output_gradient: a batch of 7', 'output_gradient', 'public', 1, 0, 0)")
    db.close()

    with Gradebook(path) as book:
        assert book.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        (old,) = book.history("erin")
        assert (old.score, old.max_score, old.grader_version, old.content_hash) == (7, 13, "0.0.9",
                                                                                    "ab12")
        assert old.path is None and old.isolation is None  # columns added by version 2
        assert old.late is None and old.submitted_at is None  # added by version 3
        assert book.roster() == []
        assert old.failed == ["output_gradient: a batch of 7"]
        # the assignments table of version 2 is filled from the old runs
        assert book.assignments() == [("rnn_linear", "rnn_linear", 13.0)]
        book.record(assignment("rnn_linear"), graded_with("rnn_linear", "erin"))
        erin = book.standings("rnn_linear")[0]
        assert (erin.attempts, erin.latest, erin.best) == (2, 13, 13)
        assert book.assignments()[0][1] == assignment("rnn_linear").title
    with Gradebook(path) as again:  # opening a current file migrates nothing
        assert len(again.history("erin")) == 2


def test_every_migration_is_one_version():
    assert SCHEMA_VERSION == len(MIGRATIONS) and all(callable(m) for m in MIGRATIONS)


def test_a_newer_schema_or_a_foreign_file_is_refused(tmp_path):
    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(GradebookError, match="newer grader"):
        Gradebook(newer)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database, just bytes " * 100)
    with pytest.raises(GradebookError, match="junk.sqlite"):
        Gradebook(junk)
    with pytest.raises(GradebookError, match="no gradebook here"):
        Gradebook(tmp_path / "absent.sqlite", create=False)
    assert not (tmp_path / "absent.sqlite").exists()


# -- two graders at once -----------------------------------------------------------------------

RUNS_PER_PROCESS = 40


def _record_many(path, name, barrier, errors):
    """In a separate process: open the (maybe not yet existing) gradebook as soon as the other
    process does, then record runs one transaction at a time."""
    try:
        spec = assignment("rnn_linear")
        barrier.wait(timeout=60)
        with Gradebook(path) as book:
            for i in range(RUNS_PER_PROCESS):
                graded = graded_with("rnn_linear", f"{name}-{i % 5}",
                                     failing=["gradient check"] if i % 2 else [])
                book.record(spec, graded, grader_version=name)
                book.standings("rnn_linear")  # a reader between writes, as `list` would be
    except BaseException as exc:  # noqa: BLE001 (reported to the parent)
        errors.put(f"{name}: {type(exc).__name__}: {exc}")
        raise


def test_two_processes_record_into_one_new_gradebook_at_once(tmp_path):
    path = tmp_path / "shared.sqlite"
    context = multiprocessing.get_context("spawn")
    barrier, errors = context.Barrier(2), context.Queue()
    workers = [context.Process(target=_record_many, args=(path, name, barrier, errors))
               for name in ("first", "second")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    reported = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert reported == [] and [w.exitcode for w in workers] == [0, 0]
    cases = len(assignment("rnn_linear").cases)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        by_process = dict(db.execute("SELECT grader_version, COUNT(*) FROM runs GROUP BY 1"))
        assert by_process == {"first": RUNS_PER_PROCESS, "second": RUNS_PER_PROCESS}
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == \
            2 * RUNS_PER_PROCESS * cases
        # every run has all its test rows: no transaction was split
        assert {n for (n,) in db.execute("SELECT COUNT(*) FROM results GROUP BY run_id")} == {cases}


# -- exports -----------------------------------------------------------------------------------

def _rows(text):
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def class_book(book):
    rnn, gates = assignment("rnn_linear"), assignment("gates")
    book.record(rnn, graded_with("rnn_linear", "alice"))                      # 13
    book.record(rnn, graded_with("rnn_linear", "alice", failing=["output"]))  # later, lower
    book.record(rnn, graded_with("rnn_linear", "bob", failing=["backward"]))
    book.record(gates, graded_with("gates", "bob"))
    book.record(gates, graded_with("gates", "zed", failing=["sigmoid"]))
    return book


def test_wide_export_latest_or_best(class_book):
    latest = _rows(export_csv(class_book.scores("latest"), class_book.assignments()).text)
    best = _rows(export_csv(class_book.scores("best"), class_book.assignments()).text)
    alice_latest = graded_with("rnn_linear", "alice", failing=["output"]).score
    bob = graded_with("rnn_linear", "bob", failing=["backward"]).score
    zed = graded_with("gates", "zed", failing=["sigmoid"]).score
    assert latest == [["student", "gates", "rnn_linear"],
                      ["alice", "", f"{alice_latest:g}"],
                      ["bob", "46", f"{bob:g}"],
                      ["zed", f"{zed:g}", ""]]
    assert best[1] == ["alice", "", "13"] and best[2:] == latest[2:]


def test_canvas_export_with_roster_and_assignment_ids(class_book, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("\ufeffStudent,Name,Canvas_ID,SIS_User_ID,SIS_Login_ID,Section,Email\n"
                      "bob,\"Builder, Bob\",1002,S2,bbuilder,Sec 1,bob@uni.edu\n"
                      "alice,\"Liddell, Alice\",1001,S1,aliddell,Sec 2,alice@uni.edu\n"
                      "nora,\"Nobody, Nora\",1003,S3,nnobody,Sec 1,nora@uni.edu\n")
    people = read_roster(roster)
    result = export_csv(class_book.scores("latest"), class_book.assignments(), "canvas", people,
                        {"rnn_linear": "4711"})
    rows = list(csv.DictReader(io.StringIO(result.text)))
    gates_title, rnn_title = assignment("gates").title, assignment("rnn_linear").title
    assert list(rows[0]) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                             gates_title, f"{rnn_title} (4711)"]
    assert [r["Student"] for r in rows] == ["Builder, Bob", "Liddell, Alice", "Nobody, Nora", "zed"]
    assert rows[0] == {"Student": "Builder, Bob", "ID": "1002", "SIS User ID": "S2",
                       "SIS Login ID": "bbuilder", "Section": "Sec 1", gates_title: "46",
                       f"{rnn_title} (4711)": f"{graded_with('rnn_linear', 'bob', failing=['backward']).score:g}"}
    assert rows[2][gates_title] == rows[2][f"{rnn_title} (4711)"] == ""  # no run: left empty
    assert result.unmatched == ["zed"] and rows[3]["ID"] == ""
    # without a roster the submission id is the SIS Login ID
    plain = list(csv.DictReader(io.StringIO(export_csv(
        class_book.scores("best"), class_book.assignments(), "canvas").text)))
    assert [(r["Student"], r["SIS Login ID"]) for r in plain] == [
        ("alice", "alice"), ("bob", "bob"), ("zed", "zed")]


def test_moodle_export_has_an_identity_column_per_student(class_book, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student,email,sis_user_id\nalice,alice@uni.edu,S1\nbob,bob@uni.edu,\n")
    rows = _rows(export_csv(class_book.scores("best"), class_book.assignments(), "moodle",
                            read_roster(roster)).text)
    assert rows[0] == ["Email address", "ID number", assignment("gates").title,
                       assignment("rnn_linear").title]
    assert rows[1] == ["alice@uni.edu", "S1", "", "13"]
    assert rows[2][:3] == ["bob@uni.edu", "bob", "46"]
    assert rows[3][:2] == ["", "zed"]


def test_bad_rosters_are_refused(tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("name,email\nAlice,a@x\n")
    with pytest.raises(RosterError, match="no 'student' column"):
        read_roster(roster)
    roster.write_text("student\nalice\nalice\n")
    with pytest.raises(RosterError, match="line 3: student 'alice' listed twice"):
        read_roster(roster)


# -- JUnit XML ---------------------------------------------------------------------------------

def test_junit_one_suite_per_submission_feedback_only_for_public_tests():
    spec = assignment("rnn_linear")
    wrong = "import numpy as np\ndef output_gradient(y, t):\n    return 2 * (t - y)\n"
    graded = grade_source("rnn_linear", wrong)
    graded.id = "wrong_sign"
    graded.verdicts[0].messages.append("odd bytes from a student: \x00\x1b[31m")
    broken = ungradable(spec, "broken", "broken.ipynb: not valid JSON")
    root = ET.fromstring(ET.tostring(to_junit([graded, broken], spec).getroot()))

    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["rnn_linear.broken", "rnn_linear.wrong_sign"]
    suite = suites["rnn_linear.wrong_sign"]
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [c.name for c in spec.cases]
    assert int(suite.get("tests")) == len(spec.cases)
    assert int(suite.get("failures")) == sum(not v.passed for v in graded.verdicts) > 0
    assert int(root.get("tests")) == 2 * len(spec.cases)
    for case, verdict in zip(cases, graded.verdicts):
        failure = case.find("failure")
        assert case.get("classname") == f"rnn_linear.wrong_sign.{verdict.case.function}"
        if verdict.passed:
            assert failure is None
        elif verdict.case.visibility == "hidden":
            assert failure.get("message") == "failed" and not failure.text
        else:
            expected = results.test_output(verdict).replace("\x00", "\\x00").replace("\x1b", "\\x1b")
            assert failure.get("message") == failure.text == expected
    public_failures = [c.find("failure").text for c, v in zip(cases, graded.verdicts)
                       if not v.passed and v.case.visibility == "public"]
    assert any("sign" in text for text in public_failures)
    assert "\\x00\\x1b[31m" in public_failures[0]
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["score"] == f"{graded.score:g}" and props["max_score"] == "13"
    assert "not valid JSON" in suites["rnn_linear.broken"].find("system-err").text
    assert suites["rnn_linear.broken"].get("failures") == str(len(spec.cases))


# -- the command line --------------------------------------------------------------------------

def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def subs(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    shutil.copy(SAMPLES / "correct_loop.ipynb", folder / "alice.ipynb")
    (folder / "bob").mkdir()
    shutil.copy(SAMPLES / "double_mean.ipynb", folder / "bob" / "homework.ipynb")
    (folder / "carol.ipynb").write_text('{"cells": [')
    return folder


def test_grade_records_every_run_and_writes_junit(subs, tmp_path):
    book, out, junit = tmp_path / "gb.sqlite", tmp_path / "out", tmp_path / "ci" / "junit.xml"
    result = invoke("grade", "rnn_linear", subs, "--out", out, "--course", COURSE,
                    "--gradebook", book, "--junit", junit, "--jobs", "2", "--no-html")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"gradebook: recorded 3 runs in {book}" in result.output
    grades = {r["submission"]: r for r in csv.DictReader((out / "grades.csv").open())}
    with Gradebook(book) as gb:
        standings = {s.student: s for s in gb.standings("rnn_linear")}
        assert set(standings) == set(grades) == {"alice", "bob", "carol"}
        for student, row in grades.items():
            assert f"{standings[student].latest:g}" == row["score"]
        (bob,) = gb.history("bob")
        (carol,) = gb.history("carol")
    assert bob.content_hash == content_hash(subs / "bob" / "homework.ipynb")
    assert bob.path == str(subs / "bob" / "homework.ipynb") and bob.submissions == str(subs)
    assert bob.failed and bob.failed == grades["bob"]["failed_tests"].split("; ")
    assert carol.content_hash == hashlib.sha256(b'{"cells": [').hexdigest()
    assert "not valid JSON" in carol.error and carol.score == 0
    tree = ET.parse(junit)
    assert [s.get("name") for s in tree.iter("testsuite")] == [
        "rnn_linear.alice", "rnn_linear.bob", "rnn_linear.carol"]
    assert tree.getroot().find("testsuite").get("failures") == "0"


def test_regrade_one_student_or_the_whole_assignment(subs, tmp_path):
    book, out = tmp_path / "gb.sqlite", tmp_path / "out"
    where = ["--course", COURSE, "--gradebook", book, "--out", out]
    assert invoke("grade", "rnn_linear", subs, *where).exit_code == 0

    # one student, from the notebook the gradebook recorded
    (out / "bob" / "feedback.html").unlink()
    result = invoke("regrade", "rnn_linear", "--student", "bob", *where)
    assert result.exit_code == 0, result.output + result.stderr
    assert (out / "bob" / "feedback.html").is_file()  # regrade writes what grade writes
    with Gradebook(book) as gb:
        assert {s.student: s.attempts for s in gb.standings()} == {"alice": 1, "bob": 2,
                                                                  "carol": 1}
    # grades.csv still lists the whole class after a one-student regrade
    assert [r["submission"] for r in csv.DictReader((out / "grades.csv").open())] == [
        "alice", "bob", "carol"]

    # alice resubmits a wrong notebook: regrade her from the folder
    shutil.copy(SAMPLES / "sign_flipped.ipynb", subs / "alice.ipynb")
    result = invoke("regrade", "rnn_linear", "--student", "alice", "--submissions", subs, *where,
                    "--no-html")
    assert result.exit_code == 0, result.output + result.stderr

    # the whole assignment, one command
    result = invoke("regrade", "rnn_linear", *where, "--no-html")
    assert result.exit_code == 0, result.output + result.stderr
    assert "recorded 3 runs" in result.output
    with Gradebook(book) as gb:
        standings = {s.student: s for s in gb.standings()}
        alice = gb.history("alice")
    assert {s: x.attempts for s, x in standings.items()} == {"alice": 3, "bob": 3, "carol": 2}
    assert (standings["alice"].latest, standings["alice"].best) == (9, 13)
    assert alice[0].content_hash != alice[1].content_hash == alice[2].content_hash

    listing = invoke("gradebook", "list", "--gradebook", book)
    assert listing.exit_code == 0
    assert re.search(r"alice\s+9\s+13\s+3\s", listing.output)
    assert re.search(r"carol\s+0\s+0\s+2\s.*could not be graded", listing.output)
    shown = invoke("gradebook", "show", "alice", "--gradebook", book)
    assert shown.exit_code == 0 and "alice — rnn_linear (3 runs)" in shown.output
    assert alice[2].content_hash[:12] in shown.output and alice[0].content_hash[:12] in shown.output
    assert shown.output.count("failed: output_gradient: a batch of 7") == 2
    for which, alice_score in (("latest", "9"), ("best", "13")):
        exported = invoke("gradebook", "export", "--score", which, "--gradebook", book)
        assert _rows(exported.output)[1] == ["alice", alice_score]
    canvas = tmp_path / "canvas.csv"
    exported = invoke("gradebook", "export", "--format", "canvas", "--lms-id", "rnn_linear=99",
                      "--out", canvas, "--gradebook", book)
    assert exported.exit_code == 0
    assert _rows(canvas.read_text())[0][-1] == f"{assignment('rnn_linear').title} (99)"


def test_default_gradebook_lives_in_the_course_folder(subs, tmp_path, monkeypatch):
    monkeypatch.delenv("GRADER_GRADEBOOK")  # the suite's own default (tests/conftest.py)
    course = tmp_path / "course"
    course.mkdir()
    for part in ("assignments", "reference"):
        (course / part).symlink_to(COURSE / part)
    out = tmp_path / "out"
    skipped = invoke("grade", "rnn_linear", subs, "--course", course, "--out", out,
                     "--no-gradebook", "--student", "carol", "--no-html")
    assert skipped.exit_code == 0 and not (course / "gradebook.sqlite").exists()
    assert "gradebook: recorded" not in skipped.output
    recorded = invoke("grade", "rnn_linear", subs, "--course", course, "--out", out,
                      "--student", "carol", "--no-html")
    assert recorded.exit_code == 0 and runs_in(course / "gradebook.sqlite") == 1
    listing = invoke("gradebook", "list", "--course", course)
    assert listing.exit_code == 0 and "carol" in listing.output
    assert "gradebook.sqlite" in (COURSE / ".gitignore").read_text().split()


def test_command_line_errors_are_one_line(subs, tmp_path):
    unknown = invoke("grade", "rnn_linear", subs, "--course", COURSE, "--student", "mallory",
                     "--gradebook", tmp_path / "gb.sqlite")
    assert unknown.exit_code == 2 and "no submission 'mallory'" in unknown.stderr
    assert not (tmp_path / "gb.sqlite").exists()
    nowhere = invoke("grade", "rnn_linear", subs, "--course", COURSE,
                     "--gradebook", tmp_path / "missing" / "gb.sqlite")
    assert nowhere.exit_code == 2 and "does not exist" in nowhere.stderr
    assert not (tmp_path / "out").exists()  # refused before grading
    nothing = invoke("regrade", "rnn_linear", "--course", COURSE,
                     "--gradebook", tmp_path / "gb.sqlite")
    assert nothing.exit_code == 2 and "pass --submissions" in nothing.stderr
    empty = invoke("gradebook", "list", "--gradebook", tmp_path / "gb.sqlite")
    assert empty.exit_code == 2 and "no gradebook here" in empty.stderr
    assert not (tmp_path / "gb.sqlite").exists()


def test_a_gradebook_failing_mid_batch_stops_recording_and_exits_1(tmp_path, capsys):
    from grader.cli.recording import Recorder

    spec = assignment("rnn_linear")
    record = Recorder(tmp_path / "gb.sqlite", spec, [("a", None, None), ("b", None, None)],
                      tmp_path)
    record(graded_with("rnn_linear", "a"))
    broken = graded_with("rnn_linear", "b")
    broken.verdicts.append(broken.verdicts[0])
    record(broken)
    record(graded_with("rnn_linear", "c"))  # not tried after a failure
    assert "warning: gradebook:" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        record.close()
    assert exit_.value.code == 1
    assert "recorded 1 run, then failed" in capsys.readouterr().err
    assert runs_in(tmp_path / "gb.sqlite") == 1
