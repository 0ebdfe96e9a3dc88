"""The parent side of the sandbox: send a submission's source and its cases' calls to a warm
worker, and receive raw outputs, strictly checked, as plain values.

Knows nothing about references, tolerances or points: it turns calls into `CallOutcome`s.
"""
import marshal
import os
import struct
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from grader import wire
from grader.cases import Call, Ref
from grader.sandbox.isolation import FULL, REDUCED, probe
from grader.sandbox import launch
from grader.sandbox.launch import initial_mode

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


class SandboxError(RuntimeError):
    """The sandbox itself misbehaved (the worker died or spoke out of protocol)."""


@dataclass
class CallOutcome:
    """What one call produced, as plain data decoded in the parent."""
    ok: bool
    parts: list = field(default_factory=list)    # per returned part: ndarray or error text (str)
    inputs: list | None = None                   # arguments after the call (ndarray or None)
    fp_warnings: int = 0
    error: dict | None = None                    # {"type", "message", "lines": [[line, fn]]}
    missing: bool = False                        # the function is not defined
    skipped: int | None = None                   # not run: depends on this failed call


@dataclass
class CaseOutcome:
    """All calls of one case, or why none of them finished."""
    calls: list = field(default_factory=list)
    failure: str | None = None                   # "timeout", "eof", "setup", "protocol", ...
    detail: str = ""
    seconds: float = 0.0


@dataclass
class RunOutcome:
    setup_errors: list
    cases: list


def _plan_argument(value):
    if isinstance(value, Ref):
        return ("r", value.call, [list(p) if isinstance(p, tuple) else p for p in value.path])
    return ("v", value)


def plan(calls: list) -> list:
    """Calls as plain data for the child (inputs only)."""
    return [{"function": c.function,
             "args": [_plan_argument(a) for a in c.args],
             "kwargs": {k: _plan_argument(v) for k, v in c.kwargs.items()},
             "returns": [list(p) for p in c.returns],
             "check_inputs": c.check_inputs} for c in calls]


# ---- strict reading of untrusted replies ------------------------------------------------------

def _text(value, limit=500) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _error(value) -> dict:
    if not isinstance(value, dict):
        return {"type": "Error", "message": "", "lines": []}
    lines = value.get("lines")
    lines = [[n, _text(f, 80)] for n, f in (lines if isinstance(lines, list) else [])
             if isinstance(n, int) and not isinstance(n, bool)][:8] \
        if isinstance(lines, list) and all(isinstance(x, list) and len(x) == 2 for x in lines) else []
    return {"type": _text(value.get("type"), 80) or "Error",
            "message": _text(value.get("message")), "lines": lines}


def _call_outcome(reply, call: Call) -> CallOutcome:
    if not isinstance(reply, dict):
        raise SandboxError("reply is not a record")
    if reply.get("ok") is not True:
        if reply.get("missing") is True:
            return CallOutcome(ok=False, missing=True)
        skipped = reply.get("skipped")
        if isinstance(skipped, int) and not isinstance(skipped, bool):
            return CallOutcome(ok=False, skipped=skipped)
        return CallOutcome(ok=False, error=_error(reply.get("error")))
    parts = reply.get("parts")
    if not isinstance(parts, list) or len(parts) != len(call.returns):
        raise SandboxError("wrong number of returned parts")
    decoded = []
    for part in parts:
        if isinstance(part, dict) and isinstance(part.get("value"), np.ndarray):
            decoded.append(part["value"])
        elif isinstance(part, dict) and isinstance(part.get("error"), str):
            decoded.append(_text(part["error"]))
        else:
            raise SandboxError("malformed returned part")
    inputs = reply.get("inputs")
    if call.check_inputs:
        if not isinstance(inputs, list) or len(inputs) != len(call.args):
            raise SandboxError("inputs not sent back")
        inputs = [x if isinstance(x, np.ndarray) else None for x in inputs]
    else:
        inputs = None
    fp = reply.get("fp")
    return CallOutcome(ok=True, parts=decoded, inputs=inputs,
                       fp_warnings=fp if isinstance(fp, int) and fp >= 0 else 0)


def _case_outcome(frame, calls: list) -> CaseOutcome:
    if "failure" in frame:
        return CaseOutcome(failure=_text(frame.get("failure"), 40) or "failure",
                           detail=_text(frame.get("detail")))
    replies = frame.get("calls")
    if not isinstance(replies, list) or len(replies) != len(calls):
        raise SandboxError("wrong number of call replies")
    seconds = frame.get("seconds")
    return CaseOutcome(calls=[_call_outcome(r, c) for r, c in zip(replies, calls)],
                       seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0)


# ---- the worker process ---------------------------------------------------------------------

class Worker:
    """One warm worker process; runs one submission at a time."""

    def __init__(self, limits: dict | None = None, isolation: str = "auto",
                 cpu: int | None = None):
        """isolation: "full" (bubblewrap, or fail), "reduced" (process limits only), or "auto"
        (full where bubblewrap works, else reduced; `self.isolation` says which). cpu: the
        core the worker and its children keep to (None: any)."""
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.cpu = cpu
        self.process = None
        self.lock = threading.Lock()
        self.requested = isolation
        self.isolation, self.reason = initial_mode(isolation)
        if isolation == FULL and self.isolation != FULL:
            raise SandboxError(f"full isolation is not available: {self.reason}")
        self.limits.setdefault("processes", 64)

    def _start(self):
        self.plans_sent = None  # a new worker process has no case plans yet
        self.ready_seen = False
        started = launch.launch(self.isolation, self.cpu)
        self.process, self.job_write, self.result_read, self.owner = \
            started.process, started.job_write, started.result_read, started.owner

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
        """The worker announces itself once warm. A sandboxed worker that dies first means
        bubblewrap cannot run here: "auto" falls back to reduced isolation, "full" fails."""
        if not self._running():
            self._start()
        if self.ready_seen:
            return
        frame, problem = wire.FrameReader(self.result_read, 16).read(time.monotonic() + 60)
        if frame == b"R":
            self.ready_seen = True
            return
        self.close()
        if self.isolation != FULL:
            raise SandboxError(f"the sandbox worker did not start ({problem or 'bad greeting'})")
        mode, reason = probe()
        reason = reason or f"the sandboxed worker did not start ({problem or 'bad greeting'})"
        if self.requested == FULL:
            raise SandboxError(f"full isolation is not available: {reason}")
        self.isolation, self.reason = REDUCED, reason
        self._ensure_ready()

    def close(self, grace: float = 2.0):
        """Stop the worker: close its pipes, so that it leaves at the end of its job stream,
        give it `grace` seconds, then kill it. (Killed outright while it starts, bubblewrap
        0.8 can leave its init process behind, alone, for good.)"""
        if self.process is not None:
            launch.stop(self.process, (self.job_write, self.result_read),
                        grace if os.getpid() == self.owner else 0)
            self.process = None

    def forget(self):
        """In a forked copy of the process that owns this worker: close our copies of its
        pipes and leave the worker to its owner."""
        if self.process is not None:
            for fd in (self.job_write, self.result_read):
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
        """Send a submission's job and return at once; `collect` waits for its outcome.

        Public cases run first. Hidden cases' inputs are sent only when the child asks for
        them, after its public results: no public feedback can carry them, and the worker,
        which relays them without keeping them, never has them in its memory when it forks.
        The public call plans are the same for every submission: the worker keeps them.
        """
        self.lock.acquire()
        try:
            self._ensure_ready()
            order = [i for i, c in enumerate(cases) if c.visibility == "public"]
            order += [i for i, c in enumerate(cases) if c.visibility != "public"]
            ordered = [cases[i] for i in order]
            public = [c for c in ordered if c.visibility == "public"]
            timeouts = [float(c.timeout) for c in ordered]
            key = ",".join(str(id(c)) for c in ordered)  # cases live as long as their assignment
            job = {"source": source, "cases_key": key, "timeouts": timeouts,
                   "hidden_count": len(ordered) - len(public), "limits": self.limits}
            if statements is not None:  # code objects as marshal bytes: trusted to untrusted
                job["compiled"] = np.frombuffer(marshal.dumps(tuple(statements)), np.uint8)
            if key != self.plans_sent:
                job["cases"] = [plan(c.calls) for c in public]
                self.hidden_payload = wire.encode([plan(c.calls) for c in ordered[len(public):]])
                self.plans_sent = key
                self.plan_cases = ordered  # keeps the ids in the key from being reused
            wire.write_frame(self.job_write, wire.encode(job))
            deadline = time.monotonic() + self.limits["setup_timeout"] + sum(timeouts) \
                + 5.0 * (len(cases) + 1)
            return ordered, order, deadline
        except (wire.WireError, OSError, SandboxError) as exc:
            self._fail()
            raise SandboxError(f"sandbox worker failed: {exc}") from None

    def collect(self, handle) -> RunOutcome:
        """The outcome of the job `submit` sent."""
        ordered, order, deadline = handle
        try:
            outcome = self._collect(ordered, deadline)
        except (SandboxError, wire.WireError, OSError) as exc:
            self._fail()
            raise SandboxError(f"sandbox worker failed: {exc}") from None
        self.lock.release()
        back = [None] * len(order)
        for position, index in enumerate(order):
            back[index] = outcome.cases[position]
        return RunOutcome(setup_errors=outcome.setup_errors, cases=back)

    def _fail(self):
        """A worker that misbehaved is stopped (the next job starts a fresh one)."""
        self.close(grace=0)
        self.plans_sent = None
        self.lock.release()

    def _collect(self, cases: list, deadline: float) -> RunOutcome:
        limit = int(self.limits["max_frame_mb"]) * 2**20 + 4096
        reader = wire.FrameReader(self.result_read, limit)
        setup_errors, outcomes = None, [None] * len(cases)
        budget = [int(self.limits["total_output_mb"]) * 2**20]
        while True:
            frame, problem = reader.read(deadline)
            if problem:
                raise SandboxError(f"worker stopped answering ({problem})")
            author, body = frame[:1], memoryview(frame)[1:]  # no copies of a large frame
            if author == b"W":
                data = wire.decode(body)
                if not isinstance(data, dict):
                    raise SandboxError("malformed worker message")
                if data.get("kind") == "done":
                    break
                if data.get("kind") == "hidden":  # the child's public results are all in
                    wire.write_frame(self.job_write, self.hidden_payload)
                    continue
                index = data.get("index")
                if isinstance(index, int) and 0 <= index < len(cases) and outcomes[index] is None:
                    outcomes[index] = CaseOutcome(failure=_text(data.get("failure"), 40),
                                                  detail=_text(data.get("detail")))
            elif author == b"S" and setup_errors is None:
                setup_errors = self._setup_errors(body, limit)
            elif author == b"C" and len(body) >= 4:
                (index,) = struct.unpack_from("<I", body)
                if index < len(cases) and outcomes[index] is None:
                    outcome = self._child_case(body[4:], index, cases[index], limit)
                    outcomes[index] = self._within(outcome, budget)
        for i, outcome in enumerate(outcomes):
            if outcome is None:
                outcomes[i] = CaseOutcome(failure="protocol", detail="no result was received")
        return RunOutcome(setup_errors=setup_errors or [], cases=outcomes)

    def _within(self, outcome: CaseOutcome, budget: list) -> CaseOutcome:
        """The outcome, or a failure once the submission's outputs together (as float64, as
        they are judged) pass total_output_mb: their arrays are dropped at once."""
        size = sum(8 * a.size for call in outcome.calls
                   for a in list(call.parts) + list(call.inputs or [])
                   if isinstance(a, np.ndarray))
        budget[0] -= size
        if budget[0] < 0:
            return CaseOutcome(failure="too large", detail="returned more than "
                               f"{self.limits['total_output_mb']} MiB of output in all its tests")
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
            data = wire.decode(body, limit)
            if not isinstance(data, dict) or data.get("kind") != "case" \
                    or data.get("index") != index:
                raise SandboxError("report for the wrong case")
            return _case_outcome(data, case.calls)
        except (wire.WireError, SandboxError) as exc:
            return CaseOutcome(failure="protocol", detail=f"unreadable output ({exc})")

