"""Starting workers early (grader.sandbox.launch) and choosing nbformat's validator: the two
things that make one submission graded in CI quick."""
import os
import subprocess
import time
import sys
from pathlib import Path

import pytest

from grader.read import notebook
from grader.sandbox import Worker, launch

COURSE = Path(__file__).resolve().parent.parent
ONE = COURSE / "assignments" / "rnn_linear" / "samples" / "correct_loop.ipynb"
FOLDER = ONE.parent


@pytest.fixture
def early():
    """The early workers a command line would start (stopped afterwards)."""
    def start(*argv):
        launch.start_early(list(argv))
        return list(launch._early)

    yield start
    launch.stop_early()


@pytest.mark.parametrize("argv, count", [
    (["grade", "rnn_linear", str(ONE)], 1),
    (["grade", "rnn_linear", str(FOLDER), "--jobs", "3"], 3),
    (["grade", "rnn_linear", str(FOLDER), "--jobs=2"], 2),
    (["grade", "rnn_linear", str(FOLDER)], launch.usable_cores()),
    (["check", str(ONE)], 0),
    (["grade", "--help"], 0),
    (["grade", "rnn_linear", str(FOLDER), "--jobs", "many"], 0),
    (["grade", "--out", str(ONE), "--no-html", "rnn_linear", str(FOLDER), "--jobs", "2"], 2),
    (["grade", "--course", str(COURSE), "--no-gradebook", "rnn_linear", str(ONE)], 1),
])
def test_the_command_line_says_how_many_workers_to_start(early, argv, count):
    started = early(*argv)
    assert len(started) == count
    assert [w.cpu for w in started] == launch.cores_for(count)


def test_asking_for_reduced_isolation_starts_reduced_workers(early):
    assert {w.isolation for w in early("grade", "a", str(FOLDER), "--isolation", "reduced")} \
        == {"reduced"}


def test_a_worker_takes_an_early_start_that_fits_and_it_works(early):
    started = early("grade", "rnn_linear", str(ONE), "--isolation", "reduced")
    worker = Worker(isolation="reduced")
    worker.start()
    try:
        assert worker.process is started[0].process and not launch._early
        run = worker.run("def double(x):\n    return 2 * x\n", [])
        assert run.cases == [] and run.setup_errors == []
    finally:
        worker.close()


def test_early_workers_nobody_takes_are_stopped(early):
    started = early("grade", "rnn_linear", str(FOLDER), "--jobs", "2", "--isolation", "reduced")
    launch.stop_early()
    assert not launch._early and all(w.process.poll() is not None for w in started)


def test_the_grader_command_grades_one_notebook_with_its_early_worker(tmp_path):
    done = subprocess.run([sys.executable, "-m", "grader", "grade", "rnn_linear", str(ONE),
                           "--out", str(tmp_path), "--no-gradebook", "--no-html"],
                          cwd=COURSE, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "mean score 13.00 / 13" in done.stdout


def test_few_notebooks_are_validated_without_compiling_a_validator(monkeypatch):
    import nbformat.validator

    monkeypatch.delenv("NBFORMAT_VALIDATOR", raising=False)
    monkeypatch.setattr(nbformat.validator, "validators", {})
    with notebook.validation_for(1):
        assert os.environ["NBFORMAT_VALIDATOR"] == "jsonschema"
        notebook.read_notebook(ONE)
    assert "NBFORMAT_VALIDATOR" not in os.environ  # only while reading those
    assert [key[0] for key in nbformat.validator.validators] == ["jsonschema"]


def test_many_notebooks_share_the_current_formats_validator_and_compile_no_other(monkeypatch):
    import nbformat.validator

    from grader.read import notebook_schema

    monkeypatch.delenv("NBFORMAT_VALIDATOR", raising=False)
    monkeypatch.setattr(nbformat.validator, "validators", {})
    notebook_schema.validator.cache_clear()
    with notebook.validation_for(500):
        assert "NBFORMAT_VALIDATOR" not in os.environ
        assert notebook_schema.validator.cache_info().currsize == 1  # before any fork
        sources, notes = notebook.read_code_cells(ONE)
    assert sources and notes == []
    assert nbformat.validator.validators == {}  # a current, valid notebook needs none of it


def test_a_validator_the_user_chose_is_kept(monkeypatch):
    monkeypatch.setenv("NBFORMAT_VALIDATOR", "fastjsonschema")
    with notebook.validation_for(1):
        assert os.environ["NBFORMAT_VALIDATOR"] == "fastjsonschema"
    assert os.environ["NBFORMAT_VALIDATOR"] == "fastjsonschema"


def test_workers_keep_to_a_core_only_when_they_take_them_all(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {2, 5})
    assert launch.cores_for(2) == [2, 5] and launch.cores_for(3) == [2, 5, 2]
    assert launch.cores_for(1) == [None] and launch.cores_for(0) == []
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert launch.cores_for(2) == [None, None]


def _sandboxes() -> set:
    """The pids of every bubblewrap process on the machine."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"/usr/bin/bwrap"):
                found.add(int(entry.name))
        except OSError:
            pass
    return found


@pytest.mark.skipif(launch.initial_mode("auto")[0] != "full", reason="bubblewrap is not here")
def test_workers_stopped_while_they_start_leave_no_process_behind():
    """Killed outright while it set up its sandbox, bubblewrap 0.8 could leave its init
    process behind for good (seen: one or two per run of this file)."""
    before = _sandboxes()
    for _ in range(8):
        launch.start_early(["grade", "rnn_linear", str(FOLDER), "--jobs", "3"])
        launch.stop_early()
        worker = Worker()
        worker.start()
        worker.close()
    time.sleep(0.5)
    assert _sandboxes() - before == set()


def test_the_default_is_the_cores_this_process_may_use(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3, 7, 9})
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert launch.usable_cores() == 3


def test_a_forked_process_does_not_take_an_early_worker_of_its_parent(early):
    """Only the process that started an early worker can wait for it: a grading process that
    restarts its worker starts its own."""
    early("grade", "rnn_linear", str(ONE), "--isolation", "reduced")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, b"1" if launch._take_early("reduced", None) is None else b"0")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1" and len(launch._early) == 1
