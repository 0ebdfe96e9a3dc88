"""Starting a sandbox worker process: its command (in bubblewrap or not), its pipes, its
environment. Light on imports (no numpy), so that the `grader` command can start its workers
first thing and their warm-up (a Python importing numpy in its sandbox, ~0.14 s) overlaps the
grader's own imports (~0.2 s): the CI case, one submission, is graded that much sooner.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.cores import cores_for, settle, usable_cores  # noqa: F401 (re-exported)
from grader.sandbox.isolation import CONTAINED, FULL, REDUCED, fallback, worker_command


@dataclass
class Launched:
    """A worker process just started, not yet known to be ready."""
    process: subprocess.Popen
    job_write: int
    result_read: int
    #: a datagram socket: each child's two pipe ends go to the worker through it
    fd_send: int
    isolation: str
    cpu: int | None
    #: the process that started it: the only one that may wait for it (and take it)
    owner: int
    #: contained: the worker's scratch folder, named here so that it is removed even if the
    #: worker is killed before it could remove it
    scratch: str | None = None


def initial_mode(requested: str) -> tuple[str, str]:
    """(mode, reason) to start a worker in for the isolation asked for ("auto": the best that
    holds here); "full" and "contained" are confirmed only when the worker greets (no separate
    probe: start-up time counts)."""
    if requested in (REDUCED, CONTAINED):
        return requested, "asked for"
    if not sys.platform.startswith("linux") or shutil.which("bwrap") is None:
        why = "bubblewrap (bwrap) is not installed"
        return fallback(why) if requested != FULL else (REDUCED, why)
    return FULL, ""


def launch(isolation: str, cpu: int | None = None) -> Launched:
    """A worker process in mode `isolation`, kept to core `cpu` (None: any): one started
    early for the same, or a new one."""
    return _take_early(isolation, cpu) or _spawn(isolation, cpu)


def _spawn(isolation: str, cpu: int | None) -> Launched:
    job_read, job_write = os.pipe()
    result_read, result_write = os.pipe()
    fd_send, fd_receive = (s.detach() for s in socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM))
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "HOME")}
    # No PYTHONPATH: the worker finds the installed grader package, never the course folder
    # with its references.
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1",
               PYTHONDONTWRITEBYTECODE="1")
    argv = [sys.executable, "-m", "grader.sandbox.worker", str(job_read), str(result_write),
            str(fd_receive)]
    if cpu is not None:
        argv += ["--cpu", str(cpu)]
    scratch = None
    if isolation == CONTAINED:
        from grader.sandbox.contain import scratch_name

        scratch = scratch_name()
        argv += ["--scratch", scratch]
    try:
        process = subprocess.Popen(
            worker_command(argv, isolation), pass_fds=(job_read, result_write, fd_receive),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env, cwd="/")
    except BaseException:
        for fd in (job_write, result_read, fd_send):
            os.close(fd)
        raise
    finally:
        for fd in (job_read, result_write, fd_receive):
            os.close(fd)
    return Launched(process, job_write, result_read, fd_send, isolation, cpu, os.getpid(),
                    scratch)


_early: list = []
#: the options of `grader grade` that take no value
_FLAGS = {"--no-html", "--no-gradebook"}


def start_early(argv: list) -> None:
    """When the command line asks to grade, start the workers it will want now. A guess from
    the arguments (how many, which isolation); the command takes those that fit and stops the
    others."""
    if argv[:1] != ["grade"] or any(a in ("--help", "-h") for a in argv):
        return
    positional, options, rest = [], {}, list(argv[1:])
    while rest:
        arg = rest.pop(0)
        if arg.startswith("--") and "=" in arg:
            name, value = arg.split("=", 1)
            options[name] = value
        elif (arg.startswith("--") and arg not in _FLAGS) or arg == "-o":  # take a value
            options[arg] = rest.pop(0) if rest else ""
        elif not arg.startswith("-"):
            positional.append(arg)
    try:
        jobs = int(options.get("--jobs", usable_cores()))
        mode, _ = initial_mode(options.get("--isolation", "auto"))
    except ValueError:
        return  # the command itself will say what is wrong
    if len(positional) >= 2 and Path(positional[1]).is_file() \
            and not positional[1].lower().endswith(".zip"):
        jobs = 1  # one notebook: one worker (a zip is a download of many)
    try:
        _early.extend(_spawn(mode, cpu) for cpu in cores_for(max(1, min(jobs, 64))))
    except OSError:
        pass  # the command will start its own and report a real failure


def _take_early(isolation: str, cpu: int | None):
    for i, early in enumerate(_early):
        if (early.owner == os.getpid() and early.isolation == isolation and early.cpu == cpu
                and early.process.poll() is None):
            return _early.pop(i)
    return None


def stop_all(stopping: list) -> None:
    """Stop workers, (process, pipes, grace, leftovers) each: close every one's pipes first (a
    worker leaves at the end of its job stream), so that they leave together; wait up to
    `grace` seconds for each, then kill it (0: at once; a process that is not our child cannot
    be waited for). A contained worker's leftovers, (scratch folder, its children's uid or
    None), are removed once it is gone, if it could not remove them itself."""
    for _, pipes, _, _ in stopping:
        for fd in pipes:
            try:
                os.close(fd)
            except OSError:
                pass
    began = time.monotonic()
    for process, _, grace, leftovers in stopping:
        left = grace - (time.monotonic() - began)
        ended = False
        if grace > 0 and left > 0:
            try:
                ended = process.wait(left) == 0  # it left as it should, and cleaned up
            except subprocess.TimeoutExpired:
                pass
        if not ended:
            process.kill()
            process.wait()
        if leftovers is not None and (not ended or os.path.lexists(leftovers[0])):
            from grader.sandbox.contain import remove_leftovers

            remove_leftovers(*leftovers)


def stop_early() -> None:
    """Stop the early workers nobody took (together)."""
    stopping = [(early.process, (early.job_write, early.result_read, early.fd_send),
                 2.0 if early.owner == os.getpid() else 0,
                 None if early.scratch is None else (early.scratch, None)) for early in _early]
    _early.clear()
    stop_all(stopping)
