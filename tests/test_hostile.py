"""Hostile and broken submissions: each gets a score and a message, and nothing else.

One batch of rnn_linear notebooks is graded once per isolation mode with the real command line
(`grader grade ... --jobs 2`): three honest submissions (two right, one wrong) and many hostile
or malformed ones. While it runs, a loopback TCP listener, a UDP socket and a unix socket record
anything that reaches them, canary files sit in the course folder and the output folder, and a
canary processes (one of the grader's user, one of the sandbox's) wait to be signalled. Every
test then asserts, for its submission, the score and the message it got, and for the batch:
the honest submissions were graded right, no file outside the sandbox changed, no process was
left behind, nothing reached the listeners, neither the grader nor a canary was signalled, and
the grader's peak memory stayed under RSS_BOUND_MB.

Each hostile attempt is written so that, had it succeeded, the submission would earn points
(its functions return the right answers only when the attack worked: read the reference and
use it, connect and send a byte, ...) or leave evidence the test looks for (a file, a process,
a connection, a signal). Contained, its feedback says "contained: <why>" (or the grader's own
message: timeout, exit, memory ...) and it scores zero.

A few behaviours need one worker at a time or smaller limits (CPU time, memory of several
processes together, what one submission leaves for the next); they are tested on a Worker
directly, at the end.

Modes:
  full     bubblewrap (own pid/net/ipc/uts namespaces, nobody, read-only runtime only, private
           /tmp): every case below runs.
  contained  no namespaces (grader/sandbox/contain.py): a uid of its own (as root), Landlock
           (read the runtime, write its scratch folder, no TCP, signals within its domain),
           seccomp (no sockets, ptrace, namespaces ...), the worker a child subreaper that kills
           whatever a submission leaves. Every case below runs, with the same guarantees as
           full mode; a few attempts fail differently there (BY_MODE says how). Graded twice:
           forced (--isolation contained), and as a container (CAP_SYS_ADMIN dropped with
           setpriv, so bubblewrap cannot start) where --isolation auto must choose it.
  reduced  process limits only (rlimits, wall-clock timeouts, a fresh child per submission,
           output on /dev/null, strict decoding of results). It contains: timeouts, exits
           (sys.exit, os._exit, signals to itself, killing its own worker), output floods and
           forged output, forged result frames, return-value tricks, per-process memory and
           file-size limits, hard-coded answers, malformed notebooks. It cannot contain, so those
           cases are not run in reduced mode (see REDUCED_CANNOT): reading course files, other
           submissions or the output folder; writing outside its scratch folder; the network;
           signalling or tracing the grader (same user; as root, anything); leftover processes
           that called setsid; fork bombs and memory summed over many processes (RLIMIT_NPROC
           does not bind root, and is per user); raising its own limits when the grader runs as
           root; filling the disk (its scratch folder is on the real /tmp).

Full-mode tests fail loudly when bubblewrap is missing or broken, except on a machine where
`bwrap` is not on PATH and CI is not set: there they are skipped with that reason.
"""
from __future__ import annotations

import csv
import inspect
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from grader.course.cases import Call, Case, load_cases
from grader.sandbox import Worker
from grader.sandbox.contain import FIRST_UID, UIDS
from reference import rnn_linear as ref
from tests.grading import COURSE, reference_source

FULL, CONTAINED, REDUCED = "full", "contained", "reduced"
#: the contained batch graded as in a container: CAP_SYS_ADMIN dropped, --isolation auto
CONTAINER = "container"
NO_SYS_ADMIN = ["setpriv", "--inh-caps=-sys_admin", "--bounding-set=-sys_admin", "--"]
NOBODY = 65534
#: the users a sandbox's processes run as: full mode's nobody, contained mode's own uids
SANDBOX_UIDS = {NOBODY} | set(range(FIRST_UID, FIRST_UID + UIDS))
NOTEBOOK = COURSE / "assignments" / "rnn_linear" / "rnn_linear.ipynb"
#: a submission's score is the assignment's maximum
FULL_MARKS = "full marks"
#: the grader process's peak resident memory while grading the whole batch (MiB)
RSS_BOUND_MB = 600
HIDDEN_OUTPUTS = ("Passed.", "Failed (hidden test: no details are shown).")

NO_BWRAP = shutil.which("bwrap") is None and not os.environ.get("CI")
SKIP_FULL = pytest.mark.skipif(
    NO_BWRAP, reason="bubblewrap (bwrap) is not on PATH and CI is not set: full isolation is not "
                     "tested here (install the 'bubblewrap' package; in CI this fails instead)")
SKIP_CONTAINER = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="a container is simulated by dropping CAP_SYS_ADMIN from root with setpriv")


# ---- what the hostile submissions are made of ------------------------------------------------

def _renamed(function, new_name):
    return inspect.getsource(function).replace(f"def {function.__name__}(", f"def {new_name}(", 1)


#: Every hostile submission starts with this: correct helpers (`_good_*`) and graded functions
#: that first run the attack. `_attack` raises "contained: ..." when the attack fails, or
#: "attempted: ..." when its effect cannot be seen from inside; it returns only when the attack
#: worked, and then the submission earns the points.
PRELUDE = '''
import os
import sys
import signal
import time
import numpy as np

MARK = "@@MARK@@"


def _contained(what, exc=None):
    raise RuntimeError("contained: " + what + (f" ({type(exc).__name__})" if exc else ""))


def _once(tag):
    """True the first time during this submission's grading (the cwd is its scratch folder)."""
    flag = "once-" + tag
    if os.path.exists(flag):
        return False
    open(flag, "w").close()
    return True


def _attack(name):
    raise RuntimeError("no attack")


''' + _renamed(ref.output_gradient, "_good_output_gradient") + "\n\n" \
    + _renamed(ref.backward_gradient, "_good_backward_gradient") + '''

def output_gradient(y, t):
    _attack("output_gradient")
    return _good_output_gradient(y, t)


def backward_gradient(X, S, grad_out, wRec):
    _attack("backward_gradient")
    return _good_backward_gradient(X, S, grad_out, wRec)
'''


@dataclass
class Hostile:
    """One submission and what it must get."""
    id: str
    source: str = ""                 # appended to PRELUDE
    modes: tuple = (FULL, CONTAINED, REDUCED)  # (FULL, CONTAINED): see REDUCED_CANNOT
    score: float | str = 0.0         # or FULL_MARKS; hardcoded_public: see its test
    #: substrings that must all appear in the feedback of the public tests
    public: tuple = ()
    #: substring of "could not be graded: ..." (results output and grades.csv), or None
    error: str | None = None
    #: the file's bytes instead of a filled-in notebook (malformed files), or the name of a
    #: special entry made by _build_batch ("directory", "symlink", "huge_outputs", ...)
    raw: object = None
    xfail: str = ""
    #: {mode: {"public": ..., "error": ...}}: where an attempt fails differently in that mode
    by_mode: dict = None

    def expected(self, mode: str) -> dict:
        mode = CONTAINED if mode == CONTAINER else mode
        return {"public": self.public, "error": self.error, **(self.by_mode or {}).get(mode, {})}


H = []  # every hostile submission, in the order they are described

# -- reading what it must not read (full mode only: in reduced mode the child is the grader's
#    user and reads whatever the grader can) --------------------------------------------------
H.append(Hostile("read_reference", '''
def _attack(name):
    error = None
    for path in ("@@REPO@@/reference/rnn_linear.py", "@@COURSE@@/reference/rnn_linear.py"):
        try:
            with open(path) as f:
                code = f.read()
        except OSError as exc:
            error = exc
            continue
        namespace = {}
        exec(code, namespace)
        globals()["_good_output_gradient"] = namespace["output_gradient"]
        globals()["_good_backward_gradient"] = namespace["backward_gradient"]
        return
    _contained("reading the reference", error)
''', modes=(FULL, CONTAINED), public=("contained: reading the reference",)))

H.append(Hostile("read_hidden_cases", '''
def _attack(name):
    error = None
    for path in ("@@COURSE@@/assignments/rnn_linear/spec.toml",
                 "@@COURSE@@/assignments/rnn_linear/cases.py",
                 "@@REPO@@/assignments/rnn_linear/spec.toml",
                 "@@COURSE@@/reference/canary-@@MARK@@.txt"):
        try:
            with open(path) as f:
                if f.read(1):
                    return
        except OSError as exc:
            error = exc
    _contained("reading the hidden cases", error)
''', modes=(FULL, CONTAINED), public=("contained: reading the hidden cases",)))

H.append(Hostile("read_other_submission", '''
import json


def _attack(name):
    try:
        os.listdir("@@BATCH@@")
        with open("@@BATCH@@/alice.ipynb") as f:
            cells = json.load(f)["cells"]
    except OSError as exc:
        _contained("reading another submission", exc)
    namespace = {"np": np}
    for cell in cells:
        if "todo" in cell.get("metadata", {}).get("tags", []):
            exec("".join(cell["source"]), namespace)
    globals()["_good_output_gradient"] = namespace["output_gradient"]
    globals()["_good_backward_gradient"] = namespace["backward_gradient"]
''', modes=(FULL, CONTAINED), public=("contained: reading another submission",)))

H.append(Hostile("read_gradebook", '''
def _attack(name):
    error = None
    for path in ("@@OUT@@/grades.csv", "@@OUT@@/alice/results.json",
                 "@@COURSE@@/gradebook.sqlite", "@@REPO@@/gradebook.sqlite"):
        try:
            with open(path, "rb") as f:
                f.read()
            return
        except OSError as exc:
            error = exc
    try:
        os.listdir("@@OUT@@")
        return
    except OSError as exc:
        _contained("reading the gradebook", error)
''', modes=(FULL, CONTAINED), public=("contained: reading the gradebook",)))

H.append(Hostile("read_grader_process", '''
def _attack(name):
    error = None
    for path in ("/proc/@@CLI_PID@@/environ", "/proc/@@CLI_PID@@/cmdline",
                 f"/proc/{os.getppid()}/environ", f"/proc/{os.getppid()}/mem", "/proc/1/environ",
                 f"/proc/{os.getppid()}/fd/0"):
        try:
            with open(path, "rb") as f:
                f.read(1)
            return
        except OSError as exc:
            error = exc
    _contained("reading the grader's processes", error)
''', modes=(FULL, CONTAINED), public=("contained: reading the grader's processes",)))

# -- writing outside its scratch folder (full only: in reduced mode the child writes wherever
#    the grader's user may) ----------------------------------------------------------------------
WRITE = '''
def _attack(name):
    wrote = []
    for path in @@TARGETS@@:
        try:
            with open(path, "a") as f:
                f.write("@@MARK@@")
            wrote.append(path)
        except OSError as exc:
            error = exc
    if wrote:
        raise RuntimeError("attempted: wrote " + " ".join(wrote))
    _contained("writing @@WHAT@@", error)
'''


def _write(sid, what, targets, **options):
    source = WRITE.replace("@@TARGETS@@", repr(tuple(targets))).replace("@@WHAT@@", what)
    return Hostile(sid, source, modes=(FULL, CONTAINED), **options)


H.append(_write("write_beside_notebook", "beside the notebook",
                ["@@BATCH@@/forged-@@MARK@@.ipynb", "@@BATCH@@/alice.ipynb",
                 "@@BATCH@@/write_beside_notebook.ipynb"],
                public=("contained: writing beside the notebook",)))
# In the sandbox /tmp is a private tmpfs: the write succeeds there and is thrown away.
H.append(_write("write_tmp", "into /tmp", ["/tmp/@@MARK@@-tmp", "/tmp/grader-@@MARK@@"],
                public=("attempted: wrote /tmp/",),
                by_mode={CONTAINED: {"public": ("contained: writing into /tmp",)}}))
H.append(_write("write_home", "into $HOME",
                ["@@HOME@@/@@MARK@@", "@@REAL_HOME@@/@@MARK@@-home", "@@REAL_HOME@@/.bashrc"],
                public=("contained: writing into $HOME",)))
H.append(_write("write_output", "the results",
                ["@@OUT@@/@@MARK@@", "@@OUT@@/grades.csv", "@@OUT@@/alice/results.json",
                 "@@OUT@@/write_output/results.json"],
                public=("contained: writing the results",)))
H.append(_write("write_course", "the course",
                ["@@COURSE@@/reference/rnn_linear.py", "@@REPO@@/reference/@@MARK@@",
                 "@@REPO@@/grader/@@MARK@@.py", "@@REPO@@/grader/__init__.py",
                 "@@REPO@@/.venv/@@MARK@@"],
                public=("contained: writing the course",)))
H.append(Hostile("fill_tmp", '''
def _attack(name):
    if not _once("fill"):
        _contained("filling /tmp: already tried")
    written = 0
    try:
        for i in range(48):  # 384 MiB, more than the sandbox's /tmp holds
            with open(f"/tmp/fill-{i}", "wb") as f:
                f.write(b"x" * (8 * 2**20))
            written += 8
    except OSError as exc:
        _contained(f"filling /tmp stopped at {written} MiB", exc)
''', modes=(FULL, CONTAINED), public=("contained: filling /tmp stopped at",)))

# -- the network, loopback included (full only: reduced mode shares the grader's network) -----
H.append(Hostile("network_tcp", '''
import socket


def _attack(name):
    try:
        with socket.create_connection(("127.0.0.1", @@PORT@@), timeout=2) as s:
            s.sendall(b"@@MARK@@")
        return
    except OSError as exc:
        _contained("connecting to the loopback listener", exc)
''', modes=(FULL, CONTAINED), public=("contained: connecting to the loopback listener",)))

H.append(Hostile("network_udp_unix", '''
import socket


def _attack(name):
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"@@MARK@@", ("127.0.0.1", @@UDP_PORT@@))
    except OSError:
        pass
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect("@@UNIX_PATH@@")
            s.sendall(b"@@MARK@@")
        return
    except OSError as exc:
        _contained("connecting to the unix socket", exc)
''', modes=(FULL, CONTAINED), public=("contained: connecting to the unix socket",)))

# -- other processes: the grader, a canary, its own worker ------------------------------------
H.append(Hostile("signal_grader", '''
def _attack(name):
    error = None
    for pid, sig in ((@@CLI_PID@@, signal.SIGUSR1), (@@CANARY_PID@@, signal.SIGKILL),
                     (@@NOBODY_PID@@, signal.SIGKILL), (@@PYTEST_PID@@, 0)):
        try:
            os.kill(pid, sig)
            return
        except OSError as exc:
            error = exc
    _contained("signalling the grader", error)
''', modes=(FULL, CONTAINED), public=("contained: signalling the grader (ProcessLookupError)",),
   by_mode={CONTAINED: {"public": ("contained: signalling the grader (PermissionError)",)}}))

H.append(Hostile("ptrace_worker", '''
import ctypes
import errno


def _attack(name):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    failed = []
    for who, pid in (("worker", os.getppid()), ("init", 1), ("grader", @@CLI_PID@@),
                     ("neighbour", @@NOBODY_PID@@)):
        if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
            libc.ptrace(17, pid, None, None)  # PTRACE_DETACH
            return
        failed.append(who + " " + errno.errorcode[ctypes.get_errno()])
    _contained("tracing " + ", ".join(failed))
''', modes=(FULL, CONTAINED), public=("contained: tracing worker EPERM, init EPERM, grader ESRCH, "
                              "neighbour ESRCH",),
   by_mode={CONTAINED: {"public": ("contained: tracing worker EPERM, init EPERM, grader EPERM, "
                                   "neighbour EPERM",)}}))

H.append(Hostile("raise_limits", '''
import resource


def _attack(name):
    error = None
    for kind in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_CPU,
                 resource.RLIMIT_FSIZE):
        try:
            resource.setrlimit(kind, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            return
        except (ValueError, OSError) as exc:
            error = exc
    _contained("raising its limits", error)
''', modes=(FULL, CONTAINED), public=("contained: raising its limits",)))

# kill(-1) from the worker's user: in full mode, only its own sandbox (the worker included).
# Contained, the child's own uid and Landlock domain: no process but its own. Never as root.
H.append(Hostile("kill_everything", '''
def _attack(name):
    if os.getuid() == 0:
        _contained("refusing kill(-1) as root")
    if not _once("kill"):
        _contained("kill(-1): already tried")
    os.kill(-1, signal.SIGKILL)
    time.sleep(3)
    _contained("kill(-1) reached no process of the grader")
''', modes=(FULL, CONTAINED), error="your code stopped the process that runs it",
   by_mode={CONTAINED: {"error": None,
                        "public": ("contained: kill(-1) reached no process of the grader",)}}))

H.append(Hostile("kill_own_worker", '''
def _attack(name):
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
            if b"grader.sandbox.worker" not in f.read():
                _contained("the parent is not a grader worker")
        os.kill(os.getppid(), signal.SIGKILL)
    except OSError as exc:
        _contained("killing its worker", exc)
''', error="your code stopped the process that runs it",
   by_mode={CONTAINED: {"error": None, "public": ("contained: killing its worker",)}}))

H.append(Hostile("setsid_leftovers", '''
def _attack(name):
    if _once("leftovers") and os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(120)",
                                      MARK + "-leftover"])
        time.sleep(120)
        os._exit(0)
    raise RuntimeError("attempted: processes left behind")
''', modes=(FULL, CONTAINED), public=("attempted: processes left behind",)))

H.append(Hostile("hydra", '''
def _attack(name):
    if _once("hydra") and os.fork() == 0:
        os.setsid()
        for _ in range(600):  # a new pid every 50 ms for at most 30 s
            if os.fork():
                os._exit(0)
            time.sleep(0.05)
        os._exit(0)
    raise RuntimeError("attempted: a process changing its pid")
''', modes=(FULL, CONTAINED), public=("attempted: a process changing its pid",)))

H.append(Hostile("fork_bomb", '''
def _attack(name):
    if not _once("forks"):
        _contained("forking: already tried")
    count, error = 0, None
    for _ in range(200):
        try:
            pid = os.fork()
        except OSError as exc:
            error = exc
            break
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        count += 1
    if count == 200:
        return
    _contained(f"forking stopped after {count} processes", error)
''', modes=(FULL, CONTAINED), public=("contained: forking stopped after",)))

# -- contained in both modes -------------------------------------------------------------------
H.append(Hostile("memory_single", '''
def _attack(name):
    try:
        block = np.ones(3 * 2**27)  # 3 GiB in one process
    except MemoryError as exc:
        _contained("allocating 3 GiB", exc)
''', public=("contained: allocating 3 GiB (MemoryError)",)))

H.append(Hostile("file_size", '''
def _attack(name):
    if not _once("file"):
        _contained("big file: already tried")
    with open("big", "wb") as f:
        f.write(b"x" * (32 * 2**20))
''', public=("File too large",)))

H.append(Hostile("hang_once", '''
def _attack(name):
    if _once("hang"):
        while True:
            pass
    _contained("hanging: already tried")
''', public=("took longer than 5 s",)))

H.append(Hostile("exit_sys", '''
def _attack(name):
    sys.exit(0)
''', public=("raised SystemExit",)))

H.append(Hostile("exit_os", '''
def _attack(name):
    os._exit(0)
''', public=("exited with code 0",)))

H.append(Hostile("exit_signal", '''
def _attack(name):
    os.kill(os.getpid(), signal.SIGTERM if name == "output_gradient" else signal.SIGKILL)
''', public=("was killed by signal SIGTERM", "was killed by signal SIGKILL")))

H.append(Hostile("exit_at_definition", '''
class _Boom:
    os._exit(3)


def _attack(name):  # the graded functions need _Boom: its definition runs
    return _Boom()
''', public=("exited with code 3",)))

H.append(Hostile("print_forged_results", '''
import json


def _attack(name):
    forged = json.dumps({"score": 13, "output": "FORGED-@@MARK@@", "tests": []})
    print(forged)
    print(forged, file=sys.stderr)
    os.write(1, forged.encode())
    os.write(2, forged.encode())
    raise RuntimeError("attempted: forged results printed")
''', public=("attempted: forged results printed",)))

H.append(Hostile("flood_output", '''
def _attack(name):
    if _once("flood"):
        chunk = b"x" * 2**20
        for _ in range(200):
            os.write(1, chunk)
        for _ in range(20):
            os.write(2, chunk)
    raise RuntimeError("attempted: 220 MiB printed")
''', public=("attempted: 220 MiB printed",)))

H.append(Hostile("huge_return", '''
def output_gradient(y, t):
    return np.ones(2**26 - 2**20)  # 504 MiB


def backward_gradient(X, S, grad_out, wRec):
    raise RuntimeError("attempted: a huge return")
''', public=("returned an array of 66060288 numbers (at most 2097152 may come back)",)))

H.append(Hostile("big_returns", '''
def output_gradient(y, t):
    return np.ones(15 * 2**17)  # 15 MiB each time: under the limit of one case


def backward_gradient(X, S, grad_out, wRec):
    part = np.ones(5 * 2**17)
    return (part, part), part
''', public=("returned more than 32 MiB of output in all its tests",)))

H.append(Hostile("eq_overrides", '''
class _Liar(np.ndarray):
    def __eq__(self, other):
        return True

    def __float__(self):
        return 0.5

    def __array__(self, *args, **kwargs):
        return np.asarray(_ANSWER[0])

    def view(self, *args, **kwargs):
        return np.asarray(_ANSWER[0])


class _LiarFloat(float):
    def __eq__(self, other):
        return True

    def __float__(self):
        return _ANSWER[0]


_ANSWER = [0.0]


def output_gradient(y, t):
    _ANSWER[0] = _good_output_gradient(y, t)
    return np.full(np.shape(y), 7.0).view(_Liar)


def backward_gradient(X, S, grad_out, wRec):
    (wx, wrec), over_time = _good_backward_gradient(X, S, grad_out, wRec)
    _ANSWER[0] = over_time
    return (_LiarFloat(7.0), _LiarFloat(7.0)), np.full(np.shape(over_time), 7.0).view(_Liar)
''', public=("yours 7, expected",)))

H.append(Hostile("array_like_objects", '''
class _Lazy:
    """Converts to the right answer on request (__array__, __float__), equals anything."""
    def __init__(self, value):
        self.value = value

    def __array__(self, *args, **kwargs):
        return np.asarray(self.value)

    def __float__(self):
        return float(self.value)

    def __eq__(self, other):
        return True


def output_gradient(y, t):
    return _Lazy(_good_output_gradient(y, t))


def backward_gradient(X, S, grad_out, wRec):
    (wx, wrec), over_time = _good_backward_gradient(X, S, grad_out, wRec)
    return (_Lazy(wx), _Lazy(wrec)), _Lazy(over_time)
''', public=("not a number or numpy array",)))

H.append(Hostile("monkeypatch_numpy", '''
def _attack(name):
    for attr in ("allclose", "isclose", "array_equal", "array_equiv"):
        setattr(np, attr, lambda *args, **kwargs: True)
    np.testing.assert_allclose = lambda *args, **kwargs: None
    np.abs = np.absolute = lambda x, *args, **kwargs: x * 0
    np.max = np.amax = lambda *args, **kwargs: 0.0
    np.float64 = float
    raise RuntimeError("attempted: numpy patched")
''', public=("attempted: numpy patched",)))

# the harness, numpy and the result channel are the child's own: whatever it patches or writes
# there, the grader decodes strictly and judges only values
H.append(Hostile("monkeypatch_harness", '''
def _attack(name):
    from grader import wire
    from grader.sandbox import harness
    harness._leaf = lambda value: {"value": np.zeros(3)}
    harness.MAX_TEXT = 10**6
    old_encode, old_encode_tree = wire.encode, wire.encode_tree

    def forged(obj):
        if isinstance(obj, dict):
            obj = dict(obj, kind="done", index=-1, verdict="passed", score=13)
        return obj

    wire.encode = lambda obj: old_encode(forged(obj))
    wire.encode_tree = lambda obj, arrays: old_encode_tree(forged(obj), arrays)
    raise RuntimeError("attempted: harness patched")
''', public=("unreadable output",)))

H.append(Hostile("forged_frames", '''
import struct


def _frame(obj):
    from grader import wire
    payload = wire.encode(obj)
    return struct.pack("<Q", len(payload)) + payload


def _attack(name):
    os.write(3, _frame({"kind": "done"}))
    os.write(3, _frame({"kind": "case", "index": 7, "calls": [{"ok": True, "parts": []}]}))
    os.write(3, _frame({"kind": "setup", "errors": []}))
    os.write(3, struct.pack("<Q", 24) + b"W" + b"\\x00" * 23)
    raise RuntimeError("attempted: frames forged")
''', public=("unreadable output",)))

H.append(Hostile("forged_setup_frame", '''
import struct


class _Forge:
    from grader import wire as _wire
    _payload = b"W" + _wire.encode({"kind": "done"})
    os.write(3, struct.pack("<Q", len(_payload)) + _payload)
    _payload = _wire.encode({"kind": "case", "index": 0, "calls": [{"ok": True, "parts": [
        {"value": np.zeros(7)}], "fp": 0}], "seconds": 0.0})
    os.write(3, struct.pack("<Q", len(_payload)) + _payload)


def _attack(name):  # the graded functions need _Forge: its definition runs
    return _Forge()
''', public=("unreadable output",)))


def _hardcoded_source(public_file: Path) -> str:
    """Functions returning the stored expected values of the public cases for their inputs."""
    _, cases = load_cases(public_file)
    table = []
    for case in cases:
        for expect_index, call in enumerate(case.calls):
            if call.function not in ("output_gradient", "backward_gradient"):
                continue
            answers = [e for e in case.expects if e.call == expect_index]
            if not answers or any(not isinstance(a, np.ndarray) for a in call.args[:3]):
                continue
            values = [np.asarray(e.value, dtype=np.float64) for e in answers]
            table.append((call.function, np.asarray(call.args[0], dtype=np.float64).tolist(),
                          [float(v.reshape(-1)[0]) if v.size == 1 and len(values) > 1
                           else v.tolist() for v in values]))
    return f'''
_TABLE = {table!r}


def _lookup(function, first):
    for name, key, values in _TABLE:
        if name == function and np.shape(key) == np.shape(first) and np.allclose(key, first):
            return values
    return None


def output_gradient(y, t):
    found = _lookup("output_gradient", y)
    return np.array(found[0]) if found else np.full(np.shape(y), 7.0)


def backward_gradient(X, S, grad_out, wRec):
    found = _lookup("backward_gradient", X)
    if found:
        return (found[0], found[1]), np.array(found[2])
    return (7.0, 7.0), np.full(np.shape(S), 7.0)
'''


H.append(Hostile("hardcoded_public", "@@HARDCODED@@", score=None))

# Only the values its functions return count. The gradient check compares its backward with its
# own forward, so a constant forward and a zero backward agree; the check therefore also requires
# the forward at the point checked to be the right one, and this earns nothing.
H.append(Hostile("gradcheck_constant_forward", '''
def forward_states(X, wx, wRec):
    return np.zeros((np.shape(X)[0], np.shape(X)[1] + 1))


def loss(y, t):
    return 0.0


def output_gradient(y, t):
    return np.zeros(np.shape(y))


def backward_gradient(X, S, grad_out, wRec):
    return (0.0, 0.0), np.zeros(np.shape(S))
''', public=("needs a correct forward first",)))

# -- malformed files: never reach the sandbox ---------------------------------------------------
H.append(Hostile("invalid_json", raw=b'{"cells": [}', error="not valid JSON"))
H.append(Hostile("empty_file", raw=b"", error="empty file"))
H.append(Hostile("empty_notebook",
                 raw=json.dumps({"cells": [], "metadata": {}, "nbformat": 4,
                                 "nbformat_minor": 5}).encode(),
                 public=("`output_gradient` is not defined in your notebook.",
                         "`backward_gradient` is not defined in your notebook.")))
H.append(Hostile("not_utf8", raw=b'{"cells": [], "x": "\xff\xfe"}', error="not UTF-8 text"))
H.append(Hostile("directory", raw="directory", error="is a directory"))
H.append(Hostile("symlink_out", raw="symlink", error="symlink leading outside"))
H.append(Hostile("huge_outputs", raw="huge_outputs", score=FULL_MARKS))
H.append(Hostile("huge_code", raw="huge_code", error="too much code"))

HOSTILE = {h.id: h for h in H}
assert len(HOSTILE) == len(H)
#: What reduced mode (process limits only) cannot contain, and why; these are not run there.
#: Everything else it contains: timeouts, exits and signals to itself, killing its own worker,
#: output floods and forged output, forged frames, return-value tricks, hard-coded answers,
#: per-process memory and file size, malformed notebooks.
SAME_USER = "the child runs as the grader's user"
REDUCED_CANNOT = {
    "read_reference": SAME_USER + " and reads what it reads",
    "read_hidden_cases": SAME_USER + " and reads what it reads",
    "read_other_submission": SAME_USER + " and reads what it reads",
    "read_gradebook": SAME_USER + " and reads what it reads",
    "read_grader_process": SAME_USER + " (as root: CAP_SYS_PTRACE) and reads its /proc",
    "write_beside_notebook": SAME_USER + " and writes where it writes",
    "write_tmp": SAME_USER + " and writes where it writes",
    "write_home": SAME_USER + " and writes where it writes",
    "write_output": SAME_USER + " and writes where it writes",
    "write_course": SAME_USER + " and writes where it writes",
    "fill_tmp": "its scratch folder and /tmp are the machine's: only the 16 MiB file limit holds",
    "network_tcp": "no network namespace: loopback is the machine's",
    "network_udp_unix": "no network namespace, and unix sockets are files it can reach",
    "signal_grader": SAME_USER + " and may signal it (as root: any process)",
    "ptrace_worker": "as root the child has CAP_SYS_PTRACE; as the same user, other processes",
    "raise_limits": "as root the child may raise its own hard limits",
    "kill_everything": "kill(-1) as the grader's user (as root: every process of the machine)",
    "setsid_leftovers": "no pid namespace: a setsid'd process leaves the group that is killed",
    "hydra": "no pid namespace: a setsid'd process leaves the group that is killed",
    "fork_bomb": "RLIMIT_NPROC is per user, shared with the grader, and does not bind root",
}
assert set(REDUCED_CANNOT) == {h.id for h in H if REDUCED not in h.modes}
assert all(CONTAINED in h.modes for h in H)  # contained mode contains every attempt

#: honest submissions: alice and bob are right, carol's output_gradient has the wrong sign
HONEST = ("alice", "bob", "carol")


def _tests(result, function=None, visibility=None):
    return [t for t in result["tests"] if (function is None or t["tags"][0] == function)
            and (visibility is None or t["visibility"] == visibility)]


def _check_honest(sid, result):
    max_score = result["extra_data"]["max_score"]
    if sid != "carol":
        assert result["score"] == max_score, (sid, result["output"])
        return
    # every output_gradient test fails, and so does the gradient check (it chains
    # output_gradient into backward_gradient); every other backward_gradient test passes
    for test in result["tests"]:
        should_pass = test["tags"][0] == "backward_gradient" and "gradient check" not in test["name"]
        assert (test["status"] == "passed") == should_pass, (test["name"], test["output"])


# ---- building the batch ----------------------------------------------------------------------

def _student_notebook(**cells) -> dict:
    nb = json.loads(NOTEBOOK.read_text())
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        for name, code in cells.items():
            if "todo" in tags and name in tags:
                cell["source"] = code
    return nb


def _write_notebook(path: Path, nb: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1))


@dataclass
class Places:
    root: Path
    batch: Path
    course: Path
    out: Path
    home: Path
    mark: str


def _substitute(text: str, values: dict) -> str:
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", str(value))
    assert "@@" not in text, re.findall(r"@@\w+@@", text)
    return text


def _build_batch(places: Places, mode: str, values: dict) -> list:
    """Write the batch folder for a mode; returns the submission ids in it."""
    correct = {n: reference_source(ref, n) for n in ("output_gradient", "backward_gradient")}
    _write_notebook(places.batch / "alice.ipynb", _student_notebook(**correct))
    _write_notebook(places.batch / "bob" / "hw.ipynb", _student_notebook(**correct))
    wrong = "def output_gradient(y, t):\n    return 2.0 * (t - y)\n"
    _write_notebook(places.batch / "carol.ipynb",
                    _student_notebook(output_gradient=wrong,
                                      backward_gradient=correct["backward_gradient"]))
    ids = list(HONEST)
    hardcoded = _hardcoded_source(places.course / "assignments" / "rnn_linear" / "public_cases.bin")
    for h in H:
        if mode not in h.modes:
            continue
        ids.append(h.id)
        path = places.batch / f"{h.id}.ipynb"
        if isinstance(h.raw, bytes):
            path.write_bytes(h.raw)
        elif h.raw == "directory":
            path.mkdir()
            _write_notebook(path / "inner.ipynb", _student_notebook(**correct))
        elif h.raw == "symlink":
            outside = places.root / "outside.ipynb"
            _write_notebook(outside, _student_notebook(**correct))
            path.symlink_to(outside)
        elif h.raw == "huge_outputs":  # 50 MB of embedded output (a picture), right code
            nb = _student_notebook(**correct)
            cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
            cell["outputs"] = [{"output_type": "display_data", "metadata": {},
                                "data": {"image/png": "iVBORw0KGgo" * (50 * 2**20 // 11)}}]
            _write_notebook(path, nb)
        elif h.raw == "huge_code":  # 55 MB of code: 1.5 million small functions
            lines = "\n".join(f"def f{i}(x):\n    return x + {i}" for i in range(1_500_000))
            nb = _student_notebook(output_gradient=lines)
            _write_notebook(path, nb)
        else:
            source = PRELUDE + (hardcoded if h.source == "@@HARDCODED@@" else h.source)
            source = _substitute(source, values)
            _write_notebook(path, _student_notebook(output_gradient=source,
                                                    backward_gradient="# defined above\n"))
    return ids


LAUNCHER = '''
import os, resource, signal, sys

signals_file, rss_file = sys.argv[1], sys.argv[2]
signal.signal(signal.SIGUSR1, lambda *_: open(signals_file, "a").write("SIGUSR1\\n"))
sys.stdin.read(1)  # the test writes the notebooks (which name this pid) first
from grader.cli import main

code = 0
try:
    main(sys.argv[3:], standalone_mode=False)
except SystemExit as exc:
    code = exc.code
finally:
    from grader.results import parallel  # the grading processes' peak too (not the sandboxes')

    with open(rss_file, "w") as f:
        f.write(str(max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                        parallel.peak_rss_kb())))
sys.exit(code)
'''


class Listeners:
    """A loopback TCP listener, a UDP socket and a unix socket that record what reaches them."""

    def __init__(self, unix_path: Path):
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(str(unix_path))
        self.unix.listen()
        self.unix_path = unix_path
        self.received = []
        self.stop = False
        for sock in (self.tcp, self.udp, self.unix):
            sock.settimeout(0.2)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock):
        while not self.stop:
            try:
                if sock.type == socket.SOCK_DGRAM:
                    data, peer = sock.recvfrom(4096)
                    self.received.append(("udp", peer, data))
                    continue
                conn, peer = sock.accept()
                conn.settimeout(1)
                with conn:
                    try:
                        data = conn.recv(4096)
                    except OSError:
                        data = b""
                self.received.append(("stream", peer, data))
            except (socket.timeout, OSError):
                continue

    @property
    def port(self):
        return self.tcp.getsockname()[1]

    @property
    def udp_port(self):
        return self.udp.getsockname()[1]

    def close(self):
        self.stop = True
        time.sleep(0.3)
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()


# ---- watching the machine --------------------------------------------------------------------

def _tree(root: Path, skip=None) -> dict:
    """{relative path: (kind, size, mtime)} under root, not following symlinks, leaving out
    names matching `skip` (what the trusted grader itself writes there)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in dirs + files:
            if skip is not None and skip.match(name):
                continue
            path = Path(folder) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            kind = "dir" if stat.S_ISDIR(st.st_mode) else "file"
            found[str(path.relative_to(root))] = (kind, 0 if kind == "dir" else st.st_size,
                                                  0 if kind == "dir" else st.st_mtime_ns)
    return found


#: What the grader itself writes in the course folder (its gradebook).
GRADER_WRITES = re.compile(r"^gradebook\.sqlite")


def _top(folder: Path) -> dict:
    """{name: (uid, kind, size, mtime)} of a shared folder's entries (/tmp, $HOME)."""
    found = {}
    for entry in os.scandir(folder):
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        folder_ = entry.is_dir(follow_symlinks=False)
        found[entry.name] = (st.st_uid, "dir" if folder_ else "file",
                             0 if folder_ else st.st_size, 0 if folder_ else st.st_mtime_ns)
    return found


def _shared_changes(where: str, before: dict, after: dict, mark: str) -> list:
    """Changes in a folder other programs share: only entries the run's mark names, or a
    sandbox's user (nobody, a contained child's uid) owns, can be the submissions' doing."""
    return [(where, name) for name in set(before) | set(after)
            if before.get(name) != after.get(name)
            and (mark in name or after.get(name, (None,))[0] in SANDBOX_UIDS)]


def _owned_by_nobody(root: Path) -> list:
    return [str(p) for p in root.rglob("*") if p.lstat().st_uid in SANDBOX_UIDS]


def _processes(mark: str) -> list:
    """Processes carrying the run's mark in their command line or environment: the workers'
    environment holds it (their HOME is this run's fake home), so does every process a
    submission forks, and the hostile ones that exec put it in their command line."""
    found, me = [], os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        texts = []
        for name in ("cmdline", "environ"):
            try:
                texts.append(Path(f"/proc/{entry}/{name}").read_bytes())
            except OSError:
                pass
        if any(mark.encode() in t for t in texts):
            found.append((int(entry), texts[0][:120] if texts else b""))
    return found


def _descendants(pid: int) -> list:
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(text.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


@dataclass
class BatchResult:
    mode: str
    places: Places
    ids: list
    results: dict           # id -> results.json content
    grades: dict            # id -> grades.csv row
    stdout: str
    stderr: str
    returncode: int
    seconds: float
    max_rss_mb: float
    changed: list           # files changed outside the sandbox, with where
    leftovers: list
    received: list
    signals: str
    canary_alive: bool

    def assert_batch_clean(self):
        """What every test checks about the batch as a whole."""
        assert self.returncode == 0, self.stderr
        for sid in HONEST:
            got = self.results[sid]
            _check_honest(sid, got)
            assert float(self.grades[sid]["score"]) == got["score"]
            assert not self.grades[sid]["error"]
            if self.mode in (CONTAINED, CONTAINER):  # its layers, the same for each worker
                assert re.fullmatch(r"contained: landlock v\d+, seccomp(, own uid)?",
                                    got["extra_data"]["isolation"]), got["extra_data"]
                assert got["extra_data"]["isolation"].endswith("own uid") == (os.geteuid() == 0)
            else:
                assert got["extra_data"]["isolation"] == self.mode
        assert not self.changed, f"files changed outside the sandbox: {self.changed}"
        assert not self.leftovers, f"processes left behind: {self.leftovers}"
        assert not self.received, f"reached a listener: {self.received}"
        assert not self.signals and self.canary_alive, "the grader or a canary process was signalled"
        assert self.max_rss_mb < RSS_BOUND_MB, f"grader peak RSS {self.max_rss_mb:.0f} MiB"
        assert "FORGED" not in self.stdout + self.stderr


def _grade_batch(mode: str, root: Path) -> BatchResult:
    """Grade the batch in `mode` (CONTAINER: --isolation auto, without CAP_SYS_ADMIN)."""
    mark = "hostile" + uuid.uuid4().hex[:10]
    places = Places(root, root / f"batch-{mark}", root / "course", root / "out",
                    root / f"home-{mark}", mark)
    for folder in (places.batch, places.out, places.home):
        folder.mkdir()
    # a course folder of its own (others may edit the real one meanwhile), with a canary
    (places.course / "assignments").mkdir(parents=True)
    shutil.copytree(COURSE / "reference", places.course / "reference",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(COURSE / "assignments" / "rnn_linear", places.course / "assignments" /
                    "rnn_linear", ignore=shutil.ignore_patterns("__pycache__", "samples"))
    (places.course / "reference" / f"canary-{mark}.txt").write_text("secret\n")
    (places.out / "grades.csv").write_text("submission,score\nprevious,13\n")  # a gradebook
    listeners = Listeners(root / "grader.sock")
    sleep = [shutil.which("sleep") or "/bin/sleep", "300"]
    canary = subprocess.Popen(sleep)  # the grader's user
    # the sandbox's own user, outside the sandbox: only namespaces keep it out of reach
    neighbour = subprocess.Popen(sleep, user=NOBODY if os.geteuid() == 0 else None)
    signals_file, rss_file = root / "signals.txt", root / "rss.txt"
    (root / "launcher.py").write_text(LAUNCHER)
    caches = root / "grader-caches"  # the grader's own (matplotlib ...): not in the fake home
    env = dict(os.environ, HOME=str(places.home), PYTHONDONTWRITEBYTECODE="1",
               MPLCONFIGDIR=str(caches / "mpl"), XDG_CACHE_HOME=str(caches),
               XDG_CONFIG_HOME=str(caches))
    command = [sys.executable, str(root / "launcher.py"), str(signals_file), str(rss_file),
               "grade", "rnn_linear", str(places.batch), "--out", str(places.out),
               "--course", str(places.course), "--isolation",
               "auto" if mode == CONTAINER else mode, "--jobs", "2"]
    if mode == CONTAINER:
        command = NO_SYS_ADMIN + command
    cli = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env, cwd=root)
    try:
        values = dict(MARK=mark, REPO=COURSE, COURSE=places.course, BATCH=places.batch,
                      OUT=places.out, HOME=places.home, REAL_HOME=Path.home(),
                      PORT=listeners.port, UDP_PORT=listeners.udp_port,
                      UNIX_PATH=listeners.unix_path, CLI_PID=cli.pid, CANARY_PID=canary.pid,
                      NOBODY_PID=neighbour.pid,
                      PYTEST_PID=os.getpid())
        ids = _build_batch(places, CONTAINED if mode == CONTAINER else mode, values)
        # folders only this test and the grader use: every file, by name, size and mtime
        watched = {"batch": (places.batch, None), "course": (places.course, GRADER_WRITES),
                   "home": (places.home, None)}
        before = {k: _tree(p, skip) for k, (p, skip) in watched.items()}
        # folders others use meanwhile (the repository is being edited): marked or nobody's
        shared = {"/tmp": Path("/tmp"), "$HOME": Path.home(), "repo": COURSE,
                  "repo reference": COURSE / "reference", "repo grader": COURSE / "grader"}
        shared_before = {k: _top(p) for k, p in shared.items()}
        began = time.monotonic()
        stdout, stderr = cli.communicate(b"go", timeout=240)
        seconds = time.monotonic() - began
        after = {k: _tree(p, skip) for k, (p, skip) in watched.items()}
        changed = [(k, path) for k in watched for path in set(before[k]) | set(after[k])
                   if before[k].get(path) != after[k].get(path)]
        for k, p in shared.items():
            changed += _shared_changes(k, shared_before[k], _top(p), mark)
        changed += [("out", p) for p in _owned_by_nobody(places.out)]
        changed += [("out", str(p)) for p in places.out.rglob(f"*{mark}*")]
        deadline = time.monotonic() + 3
        while (leftovers := _processes(mark)) and time.monotonic() < deadline:
            time.sleep(0.1)
        results = {}
        for sid in ids:
            path = places.out / sid / "results.json"
            results[sid] = json.loads(path.read_text()) if path.exists() else None
        with (places.out / "grades.csv").open() as f:
            grades = {row["submission"]: row for row in csv.DictReader(f)}
        time.sleep(0.3)
        return BatchResult(
            mode, places, ids, results, grades, stdout.decode(errors="replace"),
            stderr.decode(errors="replace"), cli.returncode, seconds,
            int(rss_file.read_text()) / 1024 if rss_file.exists() else float("inf"),
            changed, leftovers, list(listeners.received),
            signals_file.read_text() if signals_file.exists() else "",
            canary.poll() is None and neighbour.poll() is None)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait()
        for process in (canary, neighbour):
            process.kill()
            process.wait()
        listeners.close()
        for evidence in (Path("/tmp") / f"{mark}-tmp", Path("/tmp") / f"grader-{mark}",
                         Path.home() / f"{mark}-home"):
            evidence.unlink(missing_ok=True)


_BATCHES: dict = {}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """grade(mode): the batch graded once per mode (in this module's run), then reused."""
    def grade(mode):
        if mode not in _BATCHES:
            _BATCHES[mode] = _grade_batch(mode, tmp_path_factory.mktemp(f"hostile-{mode}"))
            result = _BATCHES[mode]
            print(f"\n{mode}: graded {len(result.ids)} submissions in {result.seconds:.1f} s, "
                  f"grader peak RSS {result.max_rss_mb:.0f} MiB")
        return _BATCHES[mode]
    yield grade
    _BATCHES.clear()


def _params():
    params = []
    for mode in (FULL, CONTAINED, CONTAINER, REDUCED):
        for h in H:
            if (CONTAINED if mode == CONTAINER else mode) not in h.modes:
                continue  # REDUCED_CANNOT[h.id] says why reduced mode cannot contain it
            marks = {FULL: [SKIP_FULL], CONTAINER: [SKIP_CONTAINER]}.get(mode, [])
            if h.xfail:
                marks.append(pytest.mark.xfail(strict=True, reason=h.xfail))
            params.append(pytest.param(mode, h.id, id=f"{mode}-{h.id}", marks=marks))
    return params


def _public_text(result) -> str:
    return "\n".join(t["output"] for t in result["tests"] if t["visibility"] == "visible")


@pytest.mark.parametrize("mode, sid", _params())
def test_hostile_submission(batch, mode, sid):
    graded = batch(mode)
    h = HOSTILE[sid]
    result, row = graded.results[sid], graded.grades[sid]
    assert result is not None, f"no results.json for {sid}"
    text = _public_text(result)
    expected = h.expected(mode)
    score = {FULL_MARKS: result["extra_data"]["max_score"],
             None: sum(t["score"] for t in _tests(result, visibility="visible"))}.get(h.score,
                                                                                       h.score)
    assert result["score"] == score, f"{sid}: {result['score']}\n{result['output']}\n{text}"
    assert float(row["score"]) == pytest.approx(score, abs=1e-3)
    assert result["score"] == pytest.approx(sum(t["score"] for t in result["tests"]), abs=1e-3)
    for needle in expected["public"]:
        assert needle in text, f"{sid}: {needle!r} not in:\n{text}"
    if expected["error"]:
        error = expected["error"]
        assert error in result["output"] and error in row["error"], result["output"]
    else:
        assert not row["error"], row["error"]
    for test in result["tests"]:
        if test["visibility"] != "visible":
            assert test["output"] in HIDDEN_OUTPUTS, test["output"]
    if sid == "hardcoded_public":  # the public values were right; every hidden test fails
        hidden = _tests(result, visibility="after_published")
        assert hidden and all(t["status"] == "failed" for t in hidden)
        value_tests = [t for t in _tests(result, visibility="visible")
                       if "gradient check" not in t["name"]]
        assert value_tests and all(t["status"] == "passed" for t in value_tests)
    graded.assert_batch_clean()


# ---- a worker at a time: what one submission leaves for the next ------------------------------

def _modes(*modes):
    return [pytest.param(m, marks=[SKIP_FULL] if m == FULL else []) for m in modes]


X = np.arange(6.0).reshape(2, 3)


def _case(function, timeout=5.0):
    return Case(function, function, [Call(function, (X.copy(),))], timeout=timeout)


HONEST_SOURCE = '''
import numpy as np

def double(x):
    return x * 2
'''


@pytest.mark.parametrize("mode", _modes(FULL, CONTAINED, REDUCED))
def test_cpu_time_limit(mode):
    worker = Worker({"cpu_seconds": 1}, isolation=mode)
    try:
        run = worker.run("def spin(x):\n    while True:\n        pass\n", [_case("spin")])
        assert run.cases[0].failure and "more than 1 s of CPU time" in run.cases[0].detail
    finally:
        worker.close()


KILL_WORKER = '''
import os, signal

def double(x):
    with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
        assert b"grader.sandbox.worker" in f.read()
    os.kill(os.getppid(), signal.SIGKILL)
    return x * 2
'''


@pytest.mark.parametrize("mode", _modes(FULL, REDUCED))  # contained: see the next test
def test_killing_its_worker_fails_only_itself(mode):
    from grader.sandbox import SandboxError
    worker = Worker(isolation=mode)
    try:
        with pytest.raises(SandboxError):
            worker.run(KILL_WORKER, [_case("double")])
        run = worker.run(HONEST_SOURCE, [_case("double")])  # a restarted worker
        assert np.array_equal(run.cases[0].calls[0].parts[0], X * 2)
    finally:
        worker.close()


KILL_WORKER_BLIND = '''
import os, signal
import numpy as np

def double(x):
    failed = 0.0
    for pid in (os.getppid(), 1):
        try:
            os.kill(pid, signal.SIGKILL)
        except PermissionError:
            failed += 1
    return x * failed
'''


def test_a_contained_child_cannot_signal_its_worker():
    """Contained, the child cannot even find its worker in /proc; killing it blindly by its
    parent's pid fails (another uid, another Landlock domain), and the worker goes on."""
    worker = Worker(isolation=CONTAINED)
    try:
        pid = worker.ready().process.pid
        run = worker.run(KILL_WORKER_BLIND, [_case("double")])
        assert np.array_equal(run.cases[0].calls[0].parts[0], X * 2)
        assert worker.process.pid == pid and worker.process.poll() is None
    finally:
        worker.close()


LEAVE_BEHIND = '''
import os, sys, time

def double(x):
    if os.fork() == 0:                       # a process changing its pid every 20 ms
        os.setsid()
        for _ in range(1000):
            if os.fork():
                os._exit(0)
            time.sleep(0.02)
        os._exit(0)
    if os.fork() == 0:                       # one sleeping in a session of its own
        os.setsid()
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", "@@MARK@@"])
    with open("colorsys.py", "w") as f:  # its folder (full: /tmp): a module for the next one
        f.write("PLANTED = True\\n")
    with open("planted-@@MARK@@", "w") as f:
        f.write("x")
    time.sleep(0.3)
    return x * 2
'''

NEXT = '''
import os
import numpy as np

def look(x):
    import colorsys
    planted = [e for e in os.listdir(".") if e.startswith(("planted", "colorsys"))]
    return np.array([float(hasattr(colorsys, "PLANTED")), float(len(planted))])
'''


@pytest.mark.parametrize("mode", _modes(FULL, CONTAINED))  # reduced: setsid escapes
def test_nothing_outlives_a_submission(mode):
    mark = "hostile" + uuid.uuid4().hex[:10]
    worker = Worker(isolation=mode)
    try:
        run = worker.run(LEAVE_BEHIND.replace("@@MARK@@", mark), [_case("double")])
        assert np.array_equal(run.cases[0].calls[0].parts[0], X * 2)
        # the run is over: whatever it started is gone already, not only when the worker ends:
        # under the sandbox only bubblewrap's init and the worker remain; contained, the worker
        # alone
        assert not _processes(mark)
        assert worker.process.poll() is None
        assert len(_descendants(worker.process.pid)) == (2 if mode == FULL else 0)
        run = worker.run(NEXT, [_case("look")])
        assert np.array_equal(run.cases[0].calls[0].parts[0], [0.0, 0.0])
    finally:
        worker.close()


FORKED_MEMORY = '''
import os, select, time
import numpy as np

def double(x):
    read, write = os.pipe()
    for _ in range(3):  # 3 × 300 MiB: more than the 512 MiB its processes may hold together
        if os.fork() == 0:
            try:
                block = np.ones(300 * 2**17)
                os.write(write, b"1")
                time.sleep(20)
            finally:
                os._exit(0)
    got = b""
    while len(got) < 3 and select.select([read], [], [], 10)[0]:
        got += os.read(read, 3)
    return x * 2 if got == b"111" else x * 0
'''


@pytest.mark.parametrize("mode", _modes(FULL, CONTAINED))  # reduced: RLIMIT_AS per process
def test_memory_of_all_its_processes_together(mode):
    worker = Worker({"memory_mb": 512}, isolation=mode)
    try:
        run = worker.run(FORKED_MEMORY, [_case("double", timeout=15)])
        assert run.cases[0].failure == "memory"
        assert "more than 512 MiB of memory (all its processes together)" in run.cases[0].detail
    finally:
        worker.close()
