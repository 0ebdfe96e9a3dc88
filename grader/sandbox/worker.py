"""A warm worker: numpy and the harness are imported once; each child runs a submission's
cases in a freshly forked process with its own session, scratch folder and resource limits.

The worker never runs student code itself, and never reads what a child says: the grading
process hands it, with each job, the two pipe ends a child talks through (over a datagram
socket), and reads the child's results and writes its hidden cases itself. The worker forks,
watches the child's memory and a last-resort deadline, kills it when the grading process says
so (a case took too long, or broke the protocol), reaps it and reports how it ended. So its
own memory barely changes from one fork to the next (little copy-on-write), and hidden inputs
never pass through it.

Run as: python -m grader.sandbox.worker JOB_FD RESULT_FD FD_SOCKET [--sandboxed]
        [--drop-to UID] [--cpu N]
        [--contained --scratch DIR [--own-uid] [--seccomp HEX] [--read PATH]...]
(--sandboxed: inside bubblewrap's own pid namespace, so every process but ours and pid 1 is a
leftover of a submission; --drop-to: become that unprivileged user first; --cpu: keep to that
core; --contained: no namespaces, each child confined as contain.py says: a uid of its own
(--own-uid, when root), Landlock reading only the --read folders and writing only DIR, made
anew, the seccomp program HEX).

Sandboxed or contained, a child's end is the end of every process it started (also those
that left its process group with setsid), the memory of all of them together is watched, and
its scratch folder is emptied after each child, so nothing one submission leaves can touch the
next.
"""
import _signal
import ctypes
import functools
import os
import resource
import select
import shutil
import signal
import socket
import sys
import time

# `python -m` put the working folder first on sys.path: "/tmp" in the sandbox, writable by
# submissions. A module planted there must not shadow one a later submission imports.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread: fork-safe and cheap

import numpy as np  # noqa: E402,F401  (imported once here so children start warm)

from grader import wire  # noqa: E402
from grader.sandbox import harness, warmup  # noqa: E402
from grader.sandbox.cores import settle  # noqa: E402

# Nothing here may import threading, random, tempfile or subprocess: their after-fork hooks
# would run in every child (~0.6 ms of a child's ~1.2 ms fork and exit). A test checks.

#: signals whose handling a child resets, as plain numbers: `signal.signal` converts to and from
#: enums in Python, which in a fresh child cost ~0.1 ms a call (the C function: ~2 µs)
_DEFAULT_SIGNALS = (int(signal.SIGINT), int(signal.SIGTERM), int(signal.SIGPIPE))
CHILD_FD = 3          # the child's result pipe (to the grading process)
HIDDEN_FD = 4         # the child's pipe for the hidden cases, delivered after its public ones
#: seconds between two looks at the memory of a sandboxed submission's processes
MEMORY_POLL = 0.05
PAGE = os.sysconf("SC_PAGE_SIZE")
#: sandboxed, a child's folder: bubblewrap's private /tmp, which nothing else uses and which is
#: emptied after every child (no folder of its own to make and remove: ~0.1 ms a child)
SANDBOX_SCRATCH = "/tmp"


def _limit(kind, value, hard=None):
    try:
        resource.setrlimit(kind, (value, value if hard is None else hard))
    except (ValueError, OSError):
        pass  # a hard limit already lower than ours is fine


def enter_child(result_fd: int, hidden_fd: int, scratch: str, limits: dict,
                containment=None) -> None:
    """Turn the forked process into a limited one: own session, no inherited files but the
    result and hidden-case pipes, stdio on /dev/null, resource limits, a private folder (and
    contained: its uid, Landlock and seccomp, before anything else of the student's runs)."""
    os.setsid()
    for sig in _DEFAULT_SIGNALS:
        _signal.signal(sig, _signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    hidden_fd = os.dup(hidden_fd)  # out of the way of CHILD_FD before the dup2s
    os.dup2(result_fd, CHILD_FD)
    os.dup2(hidden_fd, HIDDEN_FD)
    if containment is not None:  # its ruleset fd is above HIDDEN_FD: closed just below
        containment.enter()
    os.closerange(HIDDEN_FD + 1, 1 << 16)
    mib = 2**20
    _limit(resource.RLIMIT_AS, int(limits["memory_mb"]) * mib)
    # soft < hard: SIGXCPU at the limit says why; with soft == hard the kernel sends SIGKILL
    _limit(resource.RLIMIT_CPU, int(limits["cpu_seconds"]), int(limits["cpu_seconds"]) + 1)
    _limit(resource.RLIMIT_FSIZE, int(limits["file_mb"]) * mib)
    _limit(resource.RLIMIT_NOFILE, 64)
    if limits.get("processes"):
        _limit(resource.RLIMIT_NPROC, int(limits["processes"]))
    _limit(resource.RLIMIT_CORE, 0)
    os.chdir(scratch)  # HOME and TMPDIR point there already (see supervise and main)


def _scratch_folder() -> str:
    """A new folder only we may use, in /tmp (tempfile's mkdtemp would import random)."""
    while True:
        path = f"/tmp/grader-scratch-{os.getpid()}-{os.urandom(6).hex()}"
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


def _others() -> list:
    """Sandboxed: the pids of every process but ours and pid 1 (bubblewrap's init)."""
    me = os.getpid()
    return [int(e) for e in os.listdir("/proc") if e.isdigit() and int(e) not in (1, me)]


def kill_leftovers() -> None:
    """Sandboxed: end every other process in our pid namespace, also those that called setsid
    to leave the child's process group. kill(-1) reaches them all at once in the kernel, so a
    process forking in a loop cannot slip between a listing and the kills; wait until they are
    gone (bubblewrap's init reaps the orphans)."""
    deadline = time.monotonic() + 2.0
    while True:
        try:
            os.kill(-1, signal.SIGKILL)  # not ourselves, not pid 1; only our pid namespace
        except ProcessLookupError:
            pass
        if not _others() or time.monotonic() > deadline:
            return
        time.sleep(0.002)


def _anon_bytes(pid: int) -> int:
    try:  # os-level: open() would add a buffered text file (and 4 more system calls)
        fd = os.open(f"/proc/{pid}/statm", os.O_RDONLY)
        try:
            fields = os.read(fd, 256).split()
        finally:
            os.close(fd)
        return (int(fields[1]) - int(fields[2])) * PAGE  # resident − shared: anonymous memory
    except (OSError, ValueError, IndexError):
        return 0


def memory_guard(limits: dict, processes=_others):
    """Sandboxed or contained: a check that the submission's processes (`processes()`)
    together stay within memory_mb. RLIMIT_AS bounds each process; this bounds their sum
    (forks × RLIMIT_AS could exhaust the machine). Pages a fork shares with the warm worker
    are not counted against it."""
    budget = int(limits["memory_mb"]) * 2**20
    baseline = _anon_bytes(os.getpid())
    return lambda: sum(max(0, _anon_bytes(p) - baseline) for p in processes()) > budget


def _reap(pid: int) -> str:
    """Kill the child's whole process group and say how the child ended (its other processes
    are the caller's to end: kill_leftovers)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"killed by signal {name}"
    return f"exited with code {os.WEXITSTATUS(status)}"


def _wait(pid: int, job_fd: int, deadline: float, guard) -> str | None:
    """Until the child ends: None, or why we must end it ("kill": the grading process asked;
    "memory"; "timeout": the last-resort deadline; "gone": the grading process is gone)."""
    # a pidfd is readable once the child has ended (Linux); elsewhere, look every 5 ms
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    try:
        while True:
            now = time.monotonic()
            if now >= deadline:
                return "timeout"
            wait = deadline - now if guard is None else min(deadline - now, MEMORY_POLL)
            if pidfd is None:
                if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                    return None
                wait = min(wait, 0.005)
            ready = select.select([job_fd] if pidfd is None else [pidfd, job_fd], [], [], wait)[0]
            if pidfd is not None and pidfd in ready:
                return None
            if job_fd in ready:
                frame = wire.read_frame(job_fd)
                if frame is None:
                    return "gone"
                if wire.split_job(frame)[0].get("kind") == "kill":
                    return "kill"
            elif guard is not None and guard():
                return "memory"
    finally:
        if pidfd is not None:
            os.close(pidfd)


def supervise(header: dict, payload, plans: list, fds: list, result_fd: int, job_fd: int,
              sandboxed: bool = False, containment=None) -> bool:
    """Fork one child for the cases from header["start"] on, talking through `fds` (its result
    pipe's write end, its hidden-case pipe's read end), and report how it ended. False when
    the grading process is gone."""
    limits = header["limits"]
    guard = memory_guard(limits) if sandboxed else None
    if sandboxed:  # the private /tmp, emptied after every child: HOME and TMPDIR point there
        scratch = SANDBOX_SCRATCH
    elif containment is not None:  # the worker's own folder, emptied after every child
        scratch = containment.scratch
        guard = memory_guard(limits, containment.descendants)
    else:
        scratch = _scratch_folder()
        # set here, before the fork, not in the child: there it costs ~0.25 ms of
        # copy-on-write faults (the environment's pages and the allocator's)
        os.environ.update(HOME=scratch, TMPDIR=scratch)
    why = "gone"
    try:
        pid = os.fork()
        if pid == 0:
            try:
                enter_child(fds[0], fds[1], scratch, limits, containment)
                harness.serve(payload, plans, header["start"], CHILD_FD, HIDDEN_FD)
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        fds.clear()
        why = _wait(pid, job_fd, time.monotonic() + float(header["deadline"]), guard)
        ended = _reap(pid)
    finally:
        for fd in fds:
            os.close(fd)
        if sandboxed:  # before the report: nothing of this child outlives it
            kill_leftovers()
            _empty(SANDBOX_SCRATCH)  # private to this worker
        elif containment is not None:
            containment.end_descendants()
            containment.clear()
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if why == "gone":
        return False
    wire.write_frame(result_fd, wire.encode({"kind": "ended", "how": ended, "problem": why}))
    return True


@functools.lru_cache(maxsize=1)
def _runtime_roots() -> tuple:
    """Where this interpreter and the grader package live: read-only mounts that may sit under
    /tmp (a checkout or venv there), never to be emptied."""
    import grader

    return tuple(os.path.realpath(p) for p in
                 (sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(grader.__file__))))


def _empty(folder: str) -> None:
    """Remove everything inside folder (a submission may have written anywhere in it), but the
    runtime's own read-only mounts."""
    roots = _runtime_roots()
    for entry in os.scandir(folder):
        path = os.path.realpath(entry.path)
        if any(root == path or root.startswith(path + os.sep) for root in roots):
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
        except OSError:
            pass


def harden(drop_to: int | None) -> None:
    """Become an unprivileged user (when started as root) that cannot regain privileges, and
    make this process untraceable by the children it forks (they share our user)."""
    if drop_to is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setgid(drop_to)
        os.setuid(drop_to)
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_dumpable, pr_set_no_new_privs = 4, 38
    libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0)
    libc.prctl(pr_set_dumpable, 0, 0, 0, 0)


def main(argv: list) -> None:
    job_fd, result_fd, fd_socket = int(argv[0]), int(argv[1]), int(argv[2])
    sandboxed = "--sandboxed" in argv
    drop_to = int(argv[argv.index("--drop-to") + 1]) if "--drop-to" in argv else None
    settle(int(argv[argv.index("--cpu") + 1]) if "--cpu" in argv else None)  # children too
    harden(drop_to)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    channel = socket.socket(fileno=fd_socket)
    if sandboxed:
        os.environ.update(HOME=SANDBOX_SCRATCH, TMPDIR=SANDBOX_SCRATCH)
    containment, greeting = None, b"R"  # warm and ready: the parent's sign that we started
    if "--contained" in argv:
        try:
            containment = _contained(argv)
            problem = containment.probe()
        except (OSError, ValueError) as exc:
            problem = f"contained isolation could not be set up ({exc})"
        if problem:  # the parent's sign that this mode does not hold here, and why
            if containment is not None:
                containment.close()
            wire.write_frame(result_fd, b"E" + problem.encode()[:500])
            return
        os.environ.update(HOME=containment.scratch, TMPDIR=containment.scratch)
        greeting += wire.encode(containment.layers())
    wire.write_frame(result_fd, greeting)
    try:
        _serve(job_fd, result_fd, channel, sandboxed, containment)
    finally:
        if containment is not None:
            containment.close()


def _serve(job_fd: int, result_fd: int, channel, sandboxed: bool, containment) -> None:
    """Run jobs until the job stream ends (or the grading process is gone)."""
    plans = {}  # the public cases' call plans by key: sent once, the same for every submission
    while True:
        frame = wire.read_frame(job_fd)
        if frame is None:
            return
        header, payload = wire.split_job(frame)
        if header.get("kind") != "run":
            continue  # a kill for a child that had ended already
        if "cases" in header:
            plans = {header["cases_key"]: header["cases"]}
            try:  # once per assignment, for every child after (tests/test_warmup.py)
                warmup.warm(header["cases"])
            except Exception:  # noqa: BLE001  a cold child is slower, not wrong
                pass
        # the child's two pipe ends, sent just before the job
        _, fds, _, _ = socket.recv_fds(channel, 16, 2)
        if len(fds) != 2:
            raise wire.WireError("a job came without its child's pipes")
        if not supervise(header, payload, plans[header["cases_key"]], fds, result_fd, job_fd,
                         sandboxed, containment):
            return


def _contained(argv: list):
    """The containment --contained asks for (contain.py: imported only in this mode)."""
    from grader.sandbox.contain import Containment

    read = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--read"]
    program = bytes.fromhex(argv[argv.index("--seccomp") + 1]) if "--seccomp" in argv else None
    return Containment(read, program, -1 if "--own-uid" in argv else None,
                       argv[argv.index("--scratch") + 1])


if __name__ == "__main__":
    main(sys.argv[1:])
    # the job stream ended: leave without the interpreter's teardown (tens of milliseconds of
    # freeing numpy and every module, which the grader would wait for); nothing is buffered
    os._exit(0)
