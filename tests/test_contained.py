"""Contained isolation (grader/sandbox/contain.py): where bubblewrap cannot create namespaces,
each child runs under a uid of its own (root), Landlock and seccomp.

Each layer is tested alone in a forked process, then together through a Worker: what a
submission may and may not do, what it leaves behind, how the mode is chosen, and what the
start-up line says. tests/test_hostile.py runs its whole hostile batch in this mode too.
"""
import ctypes
import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from grader.course.cases import Call, Case
from grader.sandbox import SandboxError, Worker, isolation, landlock, launch, seccomp
from grader.sandbox.layers import isolation_notice
from tests.grading import COURSE
from tests.test_export import autograder, outside_tmp  # noqa: F401 (fixtures)

LINUX = sys.platform.startswith("linux")
pytestmark = pytest.mark.skipif(not LINUX, reason="Landlock and seccomp are Linux's")
#: a container without CAP_SYS_ADMIN, as Docker's default runs one: bubblewrap cannot start
NO_SYS_ADMIN = ["setpriv", "--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--"]
ROOT = os.geteuid() == 0
X = np.arange(6.0).reshape(2, 3)


def _in_child(body) -> int:
    """Run body() in a forked process; its exit code (body's return value)."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            code = body()
        finally:
            os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


# ---- each layer alone ------------------------------------------------------------------------

def test_landlock_allows_reading_the_runtime_and_writing_only_the_scratch_folder(tmp_path):
    version = landlock.abi()
    assert version >= 1, "this kernel offers no Landlock: contained mode cannot hold here"
    scratch, secret = tmp_path / "scratch", tmp_path / "secret.txt"
    scratch.mkdir()
    secret.write_text("hidden")
    ruleset = landlock.ruleset(version, [str(Path(np.__file__).parent)], [str(scratch)])

    def body():
        landlock.restrict(ruleset)
        (scratch / "mine.txt").write_text("ok")           # its own folder: allowed
        Path(np.__file__).read_bytes()                     # the runtime: readable
        for attempt in (secret.read_text, lambda: (tmp_path / "out.txt").write_text("x"),
                        lambda: Path(np.__file__).with_name("planted.py").write_text("x")):
            try:
                attempt()
                return 1
            except PermissionError:
                pass
        if version >= 4:
            with socket.socket() as s:  # TCP connect refused by Landlock (no seccomp here)
                try:
                    s.connect(("127.0.0.1", 9))
                    return 2
                except PermissionError:
                    pass
                except OSError:
                    return 3
        return 0

    assert _in_child(body) == 0
    assert (scratch / "mine.txt").read_text() == "ok" and not (tmp_path / "out.txt").exists()


@pytest.mark.skipif(landlock.abi() < 6, reason="signal scoping needs Landlock ABI 6")
def test_landlock_scopes_signals_to_its_own_domain():
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        ruleset = landlock.ruleset(landlock.abi(), ["/usr"], [])

        def body():
            landlock.restrict(ruleset)
            try:
                os.kill(sleeper.pid, 0)
                return 1
            except PermissionError:
                return 0

        assert _in_child(body) == 0 and sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_seccomp_denies_sockets_tracing_and_namespaces_but_not_fork():
    program = seccomp.Filter(seccomp.program())
    libc = ctypes.CDLL(None, use_errno=True)

    def body():
        program.install()
        for family in (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX, socket.AF_NETLINK):
            try:
                socket.socket(family, socket.SOCK_DGRAM).close()
                return 1
            except PermissionError:
                pass
        if libc.ptrace(16, os.getppid(), None, None) == 0 or ctypes.get_errno() != 1:
            return 2
        if libc.unshare(0x10000000) == 0 or ctypes.get_errno() != 1:  # CLONE_NEWUSER
            return 3
        a, b = socket.socketpair()  # a connected pair reaches nothing: allowed
        a.close(), b.close()
        child = os.fork()
        if child == 0:
            os._exit(7)
        return 0 if os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) == 7 else 4

    assert _in_child(body) == 0


# ---- a contained worker --------------------------------------------------------------------

def _case(function, timeout=5.0):
    return Case(function, function, [Call(function, (X.copy(),))], timeout=timeout)


def _value(run):
    assert run.cases[0].failure is None, run.cases[0].detail
    call = run.cases[0].calls[0]
    assert call.ok, call.error
    return call.parts[0]


PROBE = '''
import os, socket
import numpy as np

def probe(x):
    checks = []
    for attempt in (lambda: open("@@OUTSIDE@@", "w"), lambda: open("@@SECRET@@").read(),
                    lambda: socket.socket(), lambda: os.kill(1, 0),
                    lambda: os.listdir("/proc")):
        try:
            attempt()
            checks.append(1.0)
        except OSError:
            checks.append(0.0)
    with open("mine.txt", "w") as f:  # its scratch folder, its working folder
        f.write("x")
    import colorsys, json  # the runtime: readable
    return np.array(checks + [float(os.getuid()), float(os.getcwd() == os.environ["HOME"])])
'''


def _probe_source(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("hidden")
    return (PROBE.replace("@@OUTSIDE@@", str(tmp_path / "written.txt"))
            .replace("@@SECRET@@", str(secret)))


def test_a_contained_child_reads_and_writes_only_what_it_may(tmp_path):
    worker = Worker(isolation="contained").ready()
    try:
        assert worker.mode == "contained" and worker.layers["seccomp"]
        assert worker.isolation.startswith("contained: landlock v")
        got = _value(worker.run(_probe_source(tmp_path), [_case("probe")]))
        assert list(got[:5]) == [0.0] * 5 and got[6] == 1.0
        if ROOT:  # a uid of its own, the one the worker claimed; results say "own uid"
            assert got[5] == worker.layers["uid"] >= 61000 and worker.isolation.endswith("own uid")
        assert not (tmp_path / "written.txt").exists()
    finally:
        worker.close()


def _marked(mark: str) -> list:
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and mark.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                found.append(int(entry))
        except OSError:
            pass
    return found


def test_without_a_uid_of_its_own_leftovers_are_found_as_the_workers_descendants(monkeypatch):
    """Not root (a CI runner, a laptop): no uid to kill by; the worker, a child subreaper,
    kills what its children leave (simulated here as root by not asking for a uid; with one,
    tests/test_hostile.py's test_nothing_outlives_a_submission)."""
    from tests.test_hostile import LEAVE_BEHIND, NEXT

    monkeypatch.setattr(isolation.os, "geteuid", lambda: 1000)
    worker = Worker(isolation="contained").ready()
    try:
        assert worker.layers["uid"] is None and worker.isolation == \
            f"contained: landlock v{landlock.abi()}, seccomp"
        mark = "contained" + uuid.uuid4().hex[:10]
        assert np.array_equal(_value(worker.run(LEAVE_BEHIND.replace("@@MARK@@", mark),
                                                [_case("double")])), X * 2)
        # the run is over: whatever it started is gone already, and the worker has no child
        assert not _marked(mark) and not _children(worker.process.pid)
        assert np.array_equal(_value(worker.run(NEXT, [_case("look")])), [0.0, 0.0])
    finally:
        worker.close()


def _children(pid: int) -> list:
    return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()


FORK_BOMB = '''
import os, time
import numpy as np

def count(x):
    made = 0
    for _ in range(300):
        try:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
        except OSError:
            break
        made += 1
    return np.array([float(made)])
'''


@pytest.mark.skipif(not ROOT, reason="RLIMIT_NPROC counts only the children's uid when root")
def test_a_fork_bomb_stops_at_the_process_limit_of_its_own_uid():
    worker = Worker({"processes": 40}, isolation="contained").ready()
    try:
        made = _value(worker.run(FORK_BOMB, [_case("count", timeout=20)]))[0]
        assert 30 <= made < 40  # the child itself and its uid's other processes count too
        assert not _children(worker.process.pid)
    finally:
        worker.close()


# ---- choosing the mode -----------------------------------------------------------------------

CHOOSE = '''
import sys
from grader.sandbox import Worker
from grader.sandbox.layers import isolation_notice
worker = Worker(isolation=sys.argv[1]).ready()
print(worker.mode)
print(worker.isolation)
print(isolation_notice([worker]))
worker.close()
'''


def _choose(requested: str):
    return subprocess.run(NO_SYS_ADMIN + [sys.executable, "-c", CHOOSE, requested],
                          capture_output=True, text=True, cwd=COURSE, timeout=120)


@pytest.mark.skipif(not ROOT, reason="dropping CAP_SYS_ADMIN simulates a root container")
def test_where_namespaces_are_refused_auto_chooses_contained_and_says_so():
    done = _choose("auto")
    assert done.returncode == 0, done.stderr
    mode, described, notice = done.stdout.splitlines()[:3]
    assert mode == "contained" and described.startswith("contained: landlock v")
    assert described.endswith(", seccomp, own uid")
    assert notice.startswith("isolation: contained: landlock v") and ", uid 6" in notice
    assert "bubblewrap could not start" in notice and "Creating new namespace failed" in notice
    full = _choose("full")
    assert full.returncode != 0 and "full isolation is not available" in full.stderr


def test_as_root_reduced_isolation_is_never_chosen_silently(monkeypatch):
    monkeypatch.setattr(launch.shutil, "which", lambda name: None)  # no bubblewrap
    monkeypatch.setattr(launch, "fallback", lambda reason: ("reduced", reason + "; no seccomp"))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(SandboxError, match="pass --isolation reduced"):
        Worker(isolation="auto")
    worker = Worker(isolation="reduced")  # asked for by name: it runs
    assert worker.mode == "reduced" and "process limits only" in isolation_notice([worker])


def test_the_grader_command_takes_contained_isolation(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "grader", "grade", "rnn_linear",
         str(COURSE / "assignments" / "rnn_linear" / "samples" / "correct_loop.ipynb"),
         "--out", str(tmp_path), "--no-gradebook", "--no-html", "--isolation", "contained"],
        cwd=COURSE, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "mean score 13.00 / 13" in done.stdout
    assert "isolation: contained: landlock v" in done.stderr
    import json
    result = json.loads(next(tmp_path.rglob("results.json")).read_text())
    assert result["extra_data"]["isolation"].startswith("contained: landlock v")


# ---- Gradescope, as root in a container without CAP_SYS_ADMIN ---------------------------------

#: lstm_forward, right, that first leaves a process behind (once) which keeps rewriting
#: results.json for 10 s: the classic way to forge a grade after the grader has written it
FORGER = '''def lstm_forward(X, W, b, use_state=False):
    import os, sys
    if not os.path.exists("forger-started"):
        open("forger-started", "w").close()
        if os.fork() == 0:
            try:
                os.setsid()
                if os.fork() == 0:
                    os.execv(sys.executable, [sys.executable, "-c", @@CODE@@, "@@MARK@@"])
            finally:
                os._exit(0)
'''
FORGE_LOOP = '''
import time
for _ in range(40):
    time.sleep(0.25)
    try:
        with open(@@RESULTS@@, "w") as f:
            f.write('{"score": 999, "output": "FORGED"}')
    except OSError:
        pass
'''


@pytest.mark.skipif(not ROOT, reason="Gradescope runs the autograder as root")
def test_gradescope_in_a_container_grades_contained_and_nothing_rewrites_results(autograder):
    """run_autograder as Gradescope runs it (root), with CAP_SYS_ADMIN dropped as in its
    Docker container: bubblewrap cannot start, the grader says contained and grades; the
    process a submission left to rewrite results.json is gone before it could."""
    import json
    import time

    from tests.test_export import SAMPLES, expected_score, validate_gradescope

    root = autograder[0]
    results = root / "results" / "results.json"
    mark = "forger" + uuid.uuid4().hex[:10]
    code = FORGE_LOOP.replace("@@RESULTS@@", repr(str(results)))
    notebook = json.loads((SAMPLES / "correct_loop.ipynb").read_text())
    header = "def lstm_forward(X, W, b, use_state=False):\n"
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if source.startswith(header):
            cell["source"] = FORGER.replace("@@CODE@@", repr(code)).replace(
                "@@MARK@@", mark) + source[len(header):]
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    submission.mkdir()
    (submission / "lstm.ipynb").write_text(json.dumps(notebook))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(NO_SYS_ADMIN + ["bash", str(root / "run_autograder")],
                          capture_output=True, text=True, timeout=300, cwd=COURSE,
                          env={**env, "AUTOGRADER_ROOT": str(root)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "isolation: contained: landlock v" in done.stderr, done.stderr
    written = results.read_bytes()
    time.sleep(3)  # the forger would have written a dozen times by now
    assert results.read_bytes() == written and b"FORGED" not in written
    assert not _marked(mark)
    data = json.loads(written)
    validate_gradescope(data)
    assert data["extra_data"]["isolation"] == \
        f"contained: landlock v{landlock.abi()}, seccomp, own uid"
    assert data["score"] == pytest.approx(expected_score("lstm", SAMPLES / "correct_loop.ipynb"))
