"""The parent side of the sandbox: send a submission's source and its cases' calls to a warm
worker, and receive raw outputs, strictly checked, as plain values.

Knows nothing about references, tolerances or points: it turns calls into `CallOutcome`s.
"""
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from grader import wire
from grader.sandbox.isolation import CONTAINED, FULL, REDUCED, fallback, probe
from grader.sandbox.layers import isolation_notice, layers_text, read_layers  # noqa: F401
from grader.sandbox import harness, launch
from grader.sandbox.launch import initial_mode
from grader.sandbox.messages import (CallOutcome, CaseOutcome, RunOutcome,  # noqa: F401
                                     SandboxError, WorkerLost, _case_outcome, _cause, _error, _lost,
                                     _send, _text, _too_large, _unreadable, plan)

DEFAULT_LIMITS = {
    "memory_mb": 2048,       # address space of one child
    "cpu_seconds": 60,       # CPU time of one child, all its cases
    "file_mb": 16,           # largest file a child may write in its scratch folder
    # The grader holds a case's output a few times over while decoding it, and judges it as
    # float64: these two bound its memory whatever a submission returns.
    "max_frame_mb": 16,      # largest output of one case (and of one array, as float64)
    "total_output_mb": 32,   # all outputs of one submission together, as float64
    "setup_timeout": 10.0,   # seconds to define the submission's top-level statements
}


# ---- the worker process ---------------------------------------------------------------------

class Worker:
    """One warm worker process; runs one submission at a time."""

    def __init__(self, limits: dict | None = None, isolation: str = "auto",
                 cpu: int | None = None):
        """isolation: "full" (bubblewrap, or fail), "contained" (Landlock, seccomp, a uid of
        its own: contain.py; or fail), "reduced" (process limits only), or "auto" (the first
        of these that holds here, but never reduced when root; `self.mode` says which, and
        `self.isolation` with its layers). cpu: the core the worker and its children keep to
        (None: any)."""
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.cpu = cpu
        self.process = None
        self.lock = threading.Lock()
        self.requested = isolation
        self.layers = None  # contained: what holds, as the worker said when it started
        self.mode, self.reason = initial_mode(isolation)
        if isolation == FULL and self.mode != FULL:
            raise SandboxError(f"full isolation is not available: {self.reason}")
        self._check_root()
        self.limits.setdefault("processes", 64)

    @property
    def isolation(self) -> str:
        """The mode, and in contained mode the layers that hold ("contained: landlock v7,
        seccomp, own uid"): the same for every worker of a batch, as results.json says it."""
        if self.mode != CONTAINED or not self.layers:
            return self.mode
        return f"{CONTAINED}: {layers_text(self.layers)}"

    def _check_root(self):
        """Reduced isolation runs student code as root when the grader is root: only when
        asked for by name."""
        if self.mode == REDUCED and self.requested != REDUCED and os.geteuid() == 0:
            raise SandboxError(
                f"no isolation beyond process limits holds here ({self.reason}); the grader "
                "runs as root, so student code would run as root: pass --isolation reduced to "
                "grade that way anyway (see docs/isolation.md)")

    def _start(self):
        self.plans_sent = None  # a new worker process has no case plans yet
        self.ready_seen = False
        started = launch.launch(self.mode, self.cpu)
        self.process, self.job_write, self.result_read, self.fd_send, self.owner = \
            started.process, started.job_write, started.result_read, started.fd_send, \
            started.owner
        self.scratch = started.scratch

    def _running(self) -> bool:
        """Whether the worker process is there. Only the process that started it can ask the
        kernel (a grading process forked later gets "no such child", which Popen takes for an
        exit); elsewhere a dead worker shows as a broken pipe, and the job fails over then."""
        if self.process is None:
            return False
        return os.getpid() != self.owner or self.process.poll() is None

    def start(self):
        """Start the worker process now (it warms up while the caller does other work)."""
        with self.lock:
            if not self._running():
                self._start()

    def ready(self) -> "Worker":
        """Wait until the worker has started; `isolation` is final from then on."""
        with self.lock:
            self._ensure_ready()
        return self

    def _ensure_ready(self):
        """The worker announces itself once warm (a contained one with its layers). A
        sandboxed worker that dies first means bubblewrap cannot run here, a contained one that
        says why it cannot: "auto" falls back to the next mode, a mode asked for fails."""
        if not self._running():
            self._start()
        if self.ready_seen:
            return
        frame, problem = wire.FrameReader(self.result_read, 4096).read(time.monotonic() + 60)
        if frame is not None and frame[:1] == b"R":
            if self.mode == CONTAINED:
                self.layers = read_layers(frame[1:], SandboxError)
            self.ready_seen = True
            return
        if frame is not None and frame[:1] == b"E":
            problem = frame[1:].decode("utf-8", "replace")
        self.close()
        problem = problem or "bad greeting"
        if self.mode == REDUCED:
            raise SandboxError(f"the sandbox worker did not start ({problem})")
        if self.mode == FULL:
            mode, reason = probe()
            reason = reason or f"the sandboxed worker did not start ({problem})"
            if self.requested == FULL:
                raise SandboxError(f"full isolation is not available: {reason}")
            self.mode, self.reason = fallback(reason)
        else:
            if self.requested == CONTAINED:
                raise SandboxError(f"contained isolation is not available: {problem}")
            self.mode, self.reason = REDUCED, f"{self.reason}; {problem}"
        self._check_root()
        self._ensure_ready()

    def close(self, grace: float = 2.0):
        """Stop the worker: close its pipes, so that it leaves at the end of its job stream,
        give it `grace` seconds, then kill it. (Killed outright while it starts, bubblewrap
        0.8 can leave its init process behind, alone, for good.)"""
        close_all([self], grace)

    def _stopping(self, grace: float):
        """What launch.stop_all needs to stop this worker (None when it is not running)."""
        if self.process is None:
            return None
        leftovers = None if self.scratch is None else \
            (self.scratch, self.layers["uid"] if self.layers else None)
        stopping = (self.process, (self.job_write, self.result_read, self.fd_send),
                    grace if os.getpid() == self.owner else 0, leftovers)
        self.process = None
        return stopping

    def forget(self):
        """In a forked copy of the process that owns this worker: close our copies of its
        pipes and leave the worker to its owner."""
        if self.process is not None:
            for fd in (self.job_write, self.result_read, self.fd_send):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.process = None

    def run(self, source: str, cases: list, statements=None) -> RunOutcome:
        """Run every case's calls for one submission; a case that hangs or crashes becomes a
        CaseOutcome with a failure, and the others still run. `statements`: the source's
        top-level statements compiled (Submission.statements), so the child need not."""
        return self.collect(self.submit(source, cases, statements))

    def submit(self, source: str, cases: list, statements=None):
        """Prepare a submission's job and return it; `collect` runs it and waits for its
        outcome (the two are one step: kept apart for callers that time them).

        Public cases run first. Hidden cases' inputs are sent straight to the child, only when
        it asks for them after its public results: no public feedback can carry them, and the
        worker never has them. The public call plans are the same for every submission: the
        worker keeps them, and its children inherit them.
        """
        self.lock.acquire()
        try:
            self._ensure_ready()
            order = [i for i, c in enumerate(cases) if c.visibility == "public"]
            order += [i for i, c in enumerate(cases) if c.visibility != "public"]
            ordered = [cases[i] for i in order]
            public = sum(1 for c in ordered if c.visibility == "public")
            key = ",".join(str(id(c)) for c in ordered)  # cases live as long as their assignment
            # code objects as marshal data: trusted to untrusted only
            child_job = harness.job_payload(
                source, None if statements is None else tuple(statements), len(ordered),
                self.limits["max_frame_mb"])
            job = _Job(ordered, public, key, child_job,
                       [float(c.timeout) for c in ordered])
            if key != self.plans_sent:
                job.plans = [plan(c.calls) for c in ordered[:public]]
                self.hidden_payload = wire.frame(harness.hidden_cases(
                    [plan(c.calls) for c in ordered[public:]]))
                self.plan_cases = ordered  # keeps the ids in the key from being reused
        except (wire.WireError, OSError, SandboxError, ValueError) as exc:
            self._fail()
            raise SandboxError(f"sandbox worker failed: {exc}") from None
        return job, order

    def collect(self, handle) -> RunOutcome:
        """The outcome of the job `submit` prepared."""
        job, order = handle
        try:
            outcome = self._collect(job)
        except (WorkerLost, BrokenPipeError, ConnectionResetError):  # it went while a child ran
            ended = self._worker_end()
            self._fail()
            raise SandboxError(_lost(ended)) from None
        except Exception as exc:  # the worker misbehaved (or we did): it is not used again
            self._fail()
            raise SandboxError(f"sandbox worker failed: {exc}") from None
        self.lock.release()
        back = [None] * len(order)
        for position, index in enumerate(order):
            back[index] = outcome.cases[position]
        return RunOutcome(setup_errors=outcome.setup_errors, cases=back)

    def _worker_end(self) -> str:
        """How the worker process ended, where this process can ask ("" elsewhere)."""
        if self.process is None or os.getpid() != self.owner:
            return ""
        try:
            code = self.process.wait(timeout=2)
        except Exception:
            return ""
        # bubblewrap passes a signal on as 128 + its number, as a shell does
        number = -code if code < 0 else code - 128 if 128 < code < 160 else None
        if number is None:
            return f"exited with code {code}"
        try:
            return f"killed by signal {signal.Signals(number).name}"
        except ValueError:
            return f"killed by signal {number}"

    def _fail(self):
        """A worker that misbehaved is stopped (the next job starts a fresh one)."""
        self.close(grace=0)
        self.plans_sent = None
        self.lock.release()

    def _collect(self, job: "_Job") -> RunOutcome:
        """Run the job's children: one, and after each case that hangs, crashes or breaks the
        protocol, a fresh one for the cases after it."""
        budget = [int(self.limits["total_output_mb"]) * 2**20]
        while job.start < len(job.cases):  # each child leaves no case before job.start empty
            self._child(job, budget)
        return RunOutcome(setup_errors=job.setup_errors or [], cases=job.outcomes)

    def _child(self, job: "_Job", budget: list) -> None:
        """One child, from job.start on: read its results as they come, with each case's time
        limit; give it the hidden cases when it asks at the right time; then have the worker
        end it, and name the cause if a case is left without a result."""
        limits = self.limits
        results_read, results_write = os.pipe()
        hidden_read, hidden_write = os.pipe()
        try:
            with socket.socket(fileno=self.fd_send) as channel:
                try:
                    socket.send_fds(channel, [b"p"], [results_write, hidden_read])
                finally:
                    channel.detach()
        finally:
            os.close(results_write)
            os.close(hidden_read)
        try:
            header = {"kind": "run", "cases_key": job.key, "limits": limits, "start": job.start,
                      "deadline": limits["setup_timeout"] + sum(job.timeouts[job.start:])
                      + 5.0 * (len(job.timeouts) + 1)}
            if job.plans is not None:
                header["cases"] = job.plans
            wire.write_frame(self.job_write, wire.job_frame(header, job.payload))
            self.plans_sent, job.plans = job.key, None
            index, problem, in_setup, how = self._read_child(job, results_read, hidden_write,
                                                             budget)
        finally:
            os.close(results_read)
            os.close(hidden_write)
        if problem is None:
            job.start = index
            return
        if in_setup:  # no case ran: every one left fails with the cause
            cause = _cause(problem, how, limits, limits["setup_timeout"])
            for i in range(index, len(job.cases)):
                job.outcomes[i] = CaseOutcome(failure="setup", detail=cause)
            job.start = len(job.cases)
            return
        job.outcomes[index] = CaseOutcome(failure=problem,
                                          detail=_cause(problem, how, limits, job.timeouts[index]))
        job.start = index + 1

    def _read_child(self, job, results_read, hidden_write, budget):
        """(first case without a result, the problem that stopped the child or None, whether
        it stopped while defining the source, how it ended: the worker's report)."""
        limit = int(self.limits["max_frame_mb"]) * 2**20 + 4096
        reader = wire.FrameReader(results_read, limit, watch=self.result_read)
        index, delivered = job.start, False
        frame, problem = reader.read(time.monotonic() + self.limits["setup_timeout"])
        in_setup = problem is not None
        if not in_setup:
            if job.setup_errors is None:
                job.setup_errors = self._setup_errors(frame, limit)
            while index < len(job.cases):
                frame, problem = reader.read(time.monotonic() + job.timeouts[index])
                if problem:
                    break
                if frame == harness.HIDDEN_REQUEST:
                    # only once, and only when every public result of this child is in: asked
                    # earlier, it wants to put hidden inputs into public feedback
                    if index < job.public or delivered:
                        problem = "protocol"
                        break
                    delivered = True
                    problem = _send(hidden_write, self.hidden_payload,
                                    time.monotonic() + job.timeouts[index], self.result_read)
                    if problem:
                        break
                    continue
                outcome = self._child_case(frame, index, job.cases[index], limit)
                job.outcomes[index] = self._within(outcome, budget)
                index += 1
        if problem != "ended" and not reader.watched:  # the child may be there: end it
            wire.write_frame(self.job_write, wire.job_frame({"kind": "kill"}))
        ended = self._report()
        if problem == "ended":  # it ended before it said everything
            problem = "eof"
        if problem is not None and ended["problem"] in ("memory", "timeout"):
            problem = ended["problem"]
        return index, problem, in_setup, ended["how"]

    def _report(self) -> dict:
        """The worker's report that the child has ended (and every process it started)."""
        frame, problem = wire.FrameReader(self.result_read, 4096).read(time.monotonic() + 30)
        if problem:
            raise WorkerLost(problem)
        report = wire.decode(frame)
        if not isinstance(report, dict) or report.get("kind") != "ended":
            raise SandboxError("malformed worker message")
        return {"how": _text(report.get("how"), 200), "problem": report.get("problem")}

    def _within(self, outcome: CaseOutcome, budget: list) -> CaseOutcome:
        """The outcome, or a failure once the submission's outputs together (as float64, as
        they are judged) pass total_output_mb: their arrays are dropped at once."""
        size = sum(8 * a.size for call in outcome.calls for a in call.parts
                   if isinstance(a, np.ndarray))
        budget[0] -= size
        if budget[0] < 0:
            return CaseOutcome(failure="too large",
                               detail=_too_large(self.limits["total_output_mb"]))
        return outcome

    @staticmethod
    def _setup_errors(body: bytes, limit: int) -> list:
        try:
            data = wire.decode(body, limit)
        except wire.WireError:
            return [{"type": "ProtocolError", "message": "unreadable setup report", "lines": []}]
        errors = data.get("errors") if isinstance(data, dict) else None
        return [_error(e) for e in errors] if isinstance(errors, list) else []

    @staticmethod
    def _child_case(body: bytes, index: int, case, limit: int) -> CaseOutcome:
        """Decode a child's report on one case; anything malformed fails that case only."""
        try:
            data, arrays = wire.decode_tree(body, limit)
            if not isinstance(data, dict) or data.get("kind") != "case" \
                    or data.get("index") != index:
                raise SandboxError("report for the wrong case")
            return _case_outcome(data, case.calls, arrays)
        except (wire.WireError, SandboxError) as exc:
            return CaseOutcome(failure="protocol", detail=_unreadable(exc))



@dataclass
class _Job:
    """One submission's run: its cases in running order (public first) and what came back."""
    cases: list
    public: int
    key: str
    payload: bytes                      # the child's job, encoded once
    timeouts: list
    plans: list | None = None           # the public call plans, when the worker lacks them
    start: int = 0                      # the first case the next child runs
    setup_errors: list | None = None
    outcomes: list = field(default_factory=list)

    def __post_init__(self):
        self.outcomes = [None] * len(self.cases)


def close_all(workers: list, grace: float = 2.0) -> None:
    """Close several workers at once: each is told to stop before any is waited for."""
    launch.stop_all([s for s in (w._stopping(grace) for w in workers) if s is not None])
