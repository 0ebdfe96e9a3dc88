"""A warm worker: numpy and the harness are imported once; each submission runs in a freshly
forked child with its own session, scratch folder and resource limits.

The worker never runs student code itself. It relays the child's frames to the parent,
enforces the wall-clock limit of every case, and when a case hangs or the child dies, reports
that case as failed and forks a new child for the cases after it.

Run as: python -m grader.sandbox.worker JOB_FD RESULT_FD [--sandboxed] [--drop-to UID] [--cpu N]
(--sandboxed: inside bubblewrap's own pid namespace, so every process but ours and pid 1 is a
leftover of a submission; --drop-to: become that unprivileged user first; --cpu: keep to that
core).

Sandboxed, a child's end is the end of every process it started (also those that left its
process group with setsid), the memory of all of them together is watched, and the private
/tmp is emptied after each submission, so nothing one submission leaves can touch the next.
"""
import ctypes
import functools
import os
import resource
import select
import shutil
import signal
import struct
import sys
import time

# `python -m` put the working folder first on sys.path: "/tmp" in the sandbox, writable by
# submissions. A module planted there must not shadow one a later submission imports.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread: fork-safe and cheap

import numpy as np  # noqa: E402,F401  (imported once here so children start warm)

from grader import wire  # noqa: E402
from grader.sandbox import harness  # noqa: E402
from grader.sandbox.cores import settle  # noqa: E402

# Nothing here may import threading, random, tempfile or subprocess: their after-fork hooks
# would run in every child (~0.6 ms of a child's ~1.2 ms fork and exit). A test checks.

CHILD_FD = 3          # the child's result pipe
HIDDEN_FD = 4         # the child's pipe for the hidden cases, delivered after its public ones
#: seconds between two looks at the memory of a sandboxed submission's processes
MEMORY_POLL = 0.05
#: the child's frames held back at most, in bytes, before they go to the parent
OUTBOX_BYTES = 2**20
PAGE = os.sysconf("SC_PAGE_SIZE")


def _limit(kind, value, hard=None):
    try:
        resource.setrlimit(kind, (value, value if hard is None else hard))
    except (ValueError, OSError):
        pass  # a hard limit already lower than ours is fine


def enter_child(result_fd: int, hidden_fd: int, scratch: str, limits: dict) -> None:
    """Turn the forked process into a limited one: own session, no inherited files but the
    result and hidden-case pipes, stdio on /dev/null, resource limits, a private folder."""
    os.setsid()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    hidden_fd = os.dup(hidden_fd)  # out of the way of CHILD_FD before the dup2s
    os.dup2(result_fd, CHILD_FD)
    os.dup2(hidden_fd, HIDDEN_FD)
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
    os.chdir(scratch)  # HOME and TMPDIR point there already (see supervise)


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
    try:
        with open(f"/proc/{pid}/statm") as f:
            fields = f.read().split()
        return (int(fields[1]) - int(fields[2])) * PAGE  # resident − shared: anonymous memory
    except (OSError, ValueError, IndexError):
        return 0


def memory_guard(limits: dict):
    """Sandboxed: a check that the submission's processes together stay within memory_mb.
    RLIMIT_AS bounds each process; this bounds their sum (forks × RLIMIT_AS could exhaust the
    machine). Pages a fork shares with the warm worker are not counted against it."""
    budget = int(limits["memory_mb"]) * 2**20
    baseline = _anon_bytes(os.getpid())
    return lambda: sum(max(0, _anon_bytes(p) - baseline) for p in _others()) > budget


def _read(reader, deadline: float, guard):
    """reader.read(deadline), looking at the memory every MEMORY_POLL s when guarded."""
    while True:
        step = deadline if guard is None else min(deadline, time.monotonic() + MEMORY_POLL)
        frame, problem = reader.read(step)
        if problem != "timeout" or step >= deadline:
            return frame, problem
        if guard():
            return None, "memory"


def _reap(pid: int, sandboxed: bool = False) -> str:
    """Kill the child's whole process group (sandboxed: every process it started) and say how
    the child ended."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _, status = os.waitpid(pid, 0)
    if sandboxed:
        kill_leftovers()
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"killed by signal {name}"
    return f"exited with code {os.WEXITSTATUS(status)}"


def _cause(problem: str, ended: str, limits: dict, timeout: float) -> str:
    if problem == "timeout":
        return f"took longer than {timeout:g} s (an endless loop?)"
    if problem == "too large":
        return f"returned more than {limits['max_frame_mb']} MiB of output"
    if problem == "protocol":
        return "broke the result channel's protocol (wrote to it itself?)"
    if problem == "memory":
        return f"used more than {limits['memory_mb']} MiB of memory (all its processes together)"
    if "SIGXCPU" in ended:
        return f"used more than {limits['cpu_seconds']} s of CPU time"
    if "SIGKILL" in ended or "SIGSEGV" in ended:
        return f"the process was {ended} (out of memory? the limit is {limits['memory_mb']} MiB)"
    was = "was " if ended.startswith("killed") else ""
    return f"the process {was}{ended} (sys.exit, os._exit or a signal to itself?)"


class Outbox:
    """Frames for the parent, sent in batches. Frames are tagged by their author, so nothing a
    child writes can pass for the worker: W = worker, S = child's setup, C + case index = child's
    case. The child's frames wait here until a message of the worker's own (or OUTBOX_BYTES of
    them) sends them on: the grading process, which judges only once all are in, then wakes a
    few times per submission instead of once per test."""

    def __init__(self, fd: int):
        self.fd, self.frames, self.size = fd, [], 0

    def child(self, tag: bytes, frame: bytes) -> None:
        self.frames.append(wire.frame(tag, frame))
        self.size += len(frame)
        if self.size >= OUTBOX_BYTES:
            self.flush()

    def report(self, message: dict) -> None:
        """A message of the worker's own, sent at once after the frames before it."""
        self.frames.append(wire.frame(b"W", wire.encode(message)))
        self.flush()

    def flush(self) -> None:
        data = memoryview(b"".join(self.frames))
        self.frames, self.size = [], 0
        while data:
            data = data[os.write(self.fd, data):]


def _relay_hidden(job_fd: int, child_fd: int, deadline: float) -> str | None:
    """Pass the hidden cases from the parent to the child without keeping them: read into a
    buffer, write it on, zero it. Forked later, no child can find them in our memory."""
    prefix = wire.read_exact(job_fd, 8)
    if prefix is None:
        raise wire.WireError("the parent closed the job pipe")
    buffer = bytearray(struct.unpack("<Q", prefix)[0])
    view, got = memoryview(buffer), 0
    while got < len(buffer):
        n = os.readv(job_fd, [view[got:]])
        if n == 0:
            raise wire.WireError("stream ended inside the hidden cases")
        got += n
    problem = None
    try:
        pending = memoryview(prefix + buffer)
        while pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [child_fd], [], left)[1]:
                problem = "timeout"
                break
            pending = pending[os.write(child_fd, pending[:1 << 16]):]
    except OSError:
        problem = "eof"  # the child is gone
    finally:
        buffer[:] = bytes(len(buffer))
    return problem


def supervise(job: dict, out_fd: int, sandboxed: bool = False, job_fd: int | None = None) -> None:
    """Run one job, restarting a child after each case that hangs or kills it.

    Public cases come first; after the last of them the child asks for the hidden cases, which
    the parent sends then (so a child never has hidden inputs while its public results are
    being made, and none is ever in this worker's memory when it forks)."""
    limits, timeouts = job["limits"], job["timeouts"]
    guard = memory_guard(limits) if sandboxed else None
    public = len(job["cases"])
    total = public + int(job.get("hidden_count", 0))
    scratch = _scratch_folder()
    # set here, before the forks, not in each child: there it costs ~0.25 ms of copy-on-write
    # faults (the environment's pages and the allocator's), here nearly nothing
    os.environ.update(HOME=scratch, TMPDIR=scratch)
    outbox = Outbox(out_fd)
    start = 0
    try:
        while start < total:
            read_end, write_end = os.pipe()
            hidden_read, hidden_write = os.pipe()
            pid = os.fork()
            if pid == 0:
                try:
                    os.close(read_end)
                    os.close(hidden_write)
                    enter_child(write_end, hidden_read, scratch, limits)
                    harness.serve(job, start, CHILD_FD, HIDDEN_FD, total)
                finally:
                    os._exit(0)
            os.close(write_end)
            os.close(hidden_read)
            os.set_blocking(hidden_write, False)
            reader = wire.FrameReader(read_end, int(limits["max_frame_mb"]) * 2**20)
            frame, problem = _read(reader, time.monotonic() + limits["setup_timeout"], guard)
            if problem:
                ended = _reap(pid, sandboxed)
                os.close(read_end)
                os.close(hidden_write)
                cause = _cause(problem, ended, limits, limits["setup_timeout"])
                for index in range(start, total):
                    outbox.report({"kind": "case", "index": index, "failure": "setup",
                                   "detail": cause})
                break
            if start == 0:
                outbox.child(b"S", frame)
            index, delivered = start, False
            while index < total:
                deadline = time.monotonic() + timeouts[index]
                frame, problem = _read(reader, deadline, guard)
                if problem:
                    break
                if frame == harness.HIDDEN_REQUEST:
                    # only once, and only when every public result of this child is sent: asked
                    # earlier, it wants to put hidden inputs into public feedback
                    if index < public or delivered or job_fd is None:
                        problem = "protocol"
                        break
                    delivered = True
                    outbox.report({"kind": "hidden"})
                    problem = _relay_hidden(job_fd, hidden_write, deadline)
                    if problem:
                        break
                    continue
                outbox.child(b"C" + struct.pack("<I", index), frame)
                index += 1
            ended = _reap(pid, sandboxed)
            os.close(read_end)
            os.close(hidden_write)
            if index < total:
                cause = _cause(problem, ended, limits, timeouts[index])
                outbox.report({"kind": "case", "index": index, "failure": problem,
                               "detail": cause})
                index += 1
            start = index
    finally:
        if sandboxed:  # before "done": nothing of this submission outlives its grading
            kill_leftovers()
            _empty("/tmp")  # private to this worker; the scratch folder is inside
        else:
            shutil.rmtree(scratch, ignore_errors=True)
        outbox.report({"kind": "done"})


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
    job_fd, result_fd = int(argv[0]), int(argv[1])
    sandboxed = "--sandboxed" in argv
    drop_to = int(argv[argv.index("--drop-to") + 1]) if "--drop-to" in argv else None
    settle(int(argv[argv.index("--cpu") + 1]) if "--cpu" in argv else None)  # children too
    harden(drop_to)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    wire.write_frame(result_fd, b"R")  # warm and ready: the parent's sign that we started
    plans = {}  # the cases' call plans by key: sent once, the same for every submission
    while True:
        frame = wire.read_frame(job_fd)
        if frame is None:
            return
        job = wire.decode(frame)
        if "cases" in job:
            plans = {job["cases_key"]: job["cases"]}
        job["cases"] = plans[job["cases_key"]]
        supervise(job, result_fd, sandboxed, job_fd)


if __name__ == "__main__":
    main(sys.argv[1:])
