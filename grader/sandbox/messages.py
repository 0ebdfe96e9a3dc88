"""The messages between the grading process and a submission's child, as the parent sees them:
the call plans it sends (inputs only), the child's replies read strictly into plain outcomes,
and what a child that stopped early did, in words.

A reply is untrusted: anything malformed is a SandboxError, never a guess.
"""
import os
import select
import time
from dataclasses import dataclass, field

from grader.i18n import _

from grader.course.cases import Call, Ref


class SandboxError(RuntimeError):
    """The sandbox itself misbehaved (the worker died or spoke out of protocol)."""


class WorkerLost(SandboxError):
    """The worker ended while a submission's child ran: the child's doing (it killed its parent
    process, or every process it could), and said so to the student."""


@dataclass
class CallOutcome:
    """What one call produced, as plain data decoded in the parent."""
    ok: bool
    parts: list = field(default_factory=list)    # per returned part: ndarray or error text (str)
    #: per argument: whether an array argument was changed in place (by the call or later in
    #: its case), None for other arguments; None when the call's inputs are not checked
    inputs_changed: list | None = None
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
    kind, message = _text(value.get("type"), 80) or "Error", _text(value.get("message"))
    if kind == "BlockingIOError" and "Errno 11" in message:  # fork() at RLIMIT_NPROC
        message += " (the process limit: the sandbox caps how many processes it may start)"
    return {"type": kind, "message": message, "lines": lines}


def _malformed():
    return SandboxError("malformed returned part")


def _name(value) -> str:
    """A type's or dtype's name as the child gave it: a short text, or out of protocol."""
    if not isinstance(value, str) or not 0 < len(value) <= 80:
        raise _malformed()
    return value


def _count(value) -> int:
    if type(value) is not int or value < 0:
        raise _malformed()
    return value


def _not_an_array(part) -> str:
    """Why a returned part is not an array, in words, from the child's code and values
    (harness._leaf): read strictly, worded here in the current language."""
    if not isinstance(part, list) or not part:
        raise _malformed()
    code, values = part[0], part[1:]
    if code == "type" and len(values) == 1:
        return _("a {type}, not a number or numpy array", type=_name(values[0]))
    if code == "dtype" and len(values) == 1:
        return _("an array of dtype {dtype}, not a real number type", dtype=_name(values[0]))
    if code == "size" and len(values) == 2:
        return _("an array of {size} numbers (at most {limit} may come back)",
                 size=_count(values[0]), limit=_count(values[1]))
    if code == "structure" and len(values) == 1:
        return _structure(values[0])
    raise _malformed()


def _structure(tree, depth: int = 0) -> str:
    """A returned structure in words (harness._shape_of): "tuple of 2 (array(3, 4), NoneType)"."""
    if not isinstance(tree, list) or not tree or depth > 3:
        raise _malformed()
    kind = tree[0]
    if kind == "type" and len(tree) == 2:
        return _name(tree[1])
    if kind == "array" and len(tree) == 2 and isinstance(tree[1], list) and len(tree[1]) <= 64:
        return f"array{tuple(_count(n) for n in tree[1])}"
    if kind == "seq" and len(tree) == 5 and isinstance(tree[3], list) and len(tree[3]) <= 6 \
            and type(tree[4]) is bool:
        items = ", ".join(_structure(item, depth + 1) for item in tree[3])
        return _("{type} of {count} ({items})", type=_name(tree[1]), count=_count(tree[2]),
                 items=items + (", …" if tree[4] else ""))
    raise _malformed()


def _unreachable(value, call: Call, calls: list) -> dict:
    """The error of a call the child could not make: one of its arguments (a Ref: which call's
    result, which item, from the parent's own plan) is not in that result, which the child
    describes (harness._NoPart)."""
    if not isinstance(value, dict):
        raise _malformed()
    which = value.get("argument")
    if type(which) is int and 0 <= which < len(call.args):
        ref = call.args[which]
    elif isinstance(which, str) and which in call.kwargs:
        ref = call.kwargs[which]
    else:
        raise _malformed()
    if not isinstance(ref, Ref) or not 0 <= ref.call < len(calls):
        raise _malformed()
    path = [list(p) if isinstance(p, tuple) else p for p in ref.path]
    words = _("it was not called: one of its arguments is item {path} of what `{function}` "
              "returned, and that is {got} ({why})", path=str(path),
              function=calls[ref.call].function, got=_structure(value.get("got")),
              why=_text(value.get("why")))
    return {"type": "TypeError", "message": words, "lines": []}


def _call_outcome(reply, call: Call, arrays: list, calls: list) -> CallOutcome:
    if not isinstance(reply, dict):
        raise SandboxError("reply is not a record")
    if reply.get("ok") is not True:
        if reply.get("missing") is True:
            return CallOutcome(ok=False, missing=True)
        if "unreachable" in reply:
            return CallOutcome(ok=False, error=_unreachable(reply["unreachable"], call, calls))
        skipped = reply.get("skipped")
        if isinstance(skipped, int) and not isinstance(skipped, bool):
            return CallOutcome(ok=False, skipped=skipped)
        return CallOutcome(ok=False, error=_error(reply.get("error")))
    parts = reply.get("parts")
    if not isinstance(parts, list) or len(parts) != len(call.returns):
        raise SandboxError("wrong number of returned parts")
    decoded = []
    for part in parts:  # an array's position in the frame, or why the part is not an array
        if type(part) is int and 0 <= part < len(arrays):
            decoded.append(arrays[part])
        else:  # a code and values (a list), put into words here, or out of protocol
            decoded.append(_not_an_array(part))
    changed = None
    if call.check_inputs:
        changed = reply.get("inputs_changed")
        if not isinstance(changed, list) or len(changed) != len(call.args) \
                or not all(flag in (True, False, None) for flag in changed):
            raise SandboxError("no word on the inputs")
    fp = reply.get("fp")
    return CallOutcome(ok=True, parts=decoded, inputs_changed=changed,
                       fp_warnings=fp if isinstance(fp, int) and fp >= 0 else 0)


def _case_outcome(frame, calls: list, arrays: list) -> CaseOutcome:
    """A child's case report (JSON as it came, with the frame's arrays, which its calls'
    returned parts name by position)."""
    if "failure" in frame:
        return CaseOutcome(failure=_text(frame.get("failure"), 40) or "failure",
                           detail=_text(frame.get("detail")))
    replies = frame.get("calls")
    if not isinstance(replies, list) or len(replies) != len(calls):
        raise SandboxError("wrong number of call replies")
    seconds = frame.get("seconds")
    return CaseOutcome(calls=[_call_outcome(r, c, arrays, calls) for r, c in zip(replies, calls)],
                       seconds=float(seconds) if isinstance(seconds, (int, float)) else 0.0)


def _send(fd: int, data: bytes, deadline: float, worker_fd: int) -> str | None:
    """Write data to the child's hidden-case pipe as it reads; None, or "timeout", "eof" (the
    child closed it) or "ended" (the worker reported the child's end)."""
    pending = memoryview(data)
    os.set_blocking(fd, False)
    try:
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            readable, writable, _ = select.select([worker_fd], [fd], [], left)
            if writable:
                try:
                    pending = pending[os.write(fd, pending[:1 << 16]):]
                except BlockingIOError:
                    pass
            elif readable:
                return "ended"
    except OSError:  # EPIPE: nobody reads it any more
        return "eof"
    return None


def _cause(problem: str, ended: str, limits: dict, timeout: float) -> str:
    """What stopped the code, as the predicate of a sentence about it ("`f` took longer than
    5 s ..."), in the current language."""
    if problem == "timeout":
        return _("took longer than {seconds} s (an endless loop?)", seconds=format(timeout, "g"))
    if problem == "too large":
        return _("returned more than {mb} MiB of output", mb=limits["max_frame_mb"])
    if problem == "protocol":
        return _("broke the result channel's protocol (wrote to it itself?)")
    if problem == "memory":
        return _("used more than {mb} MiB of memory (all its processes together)",
                 mb=limits["memory_mb"])
    if "SIGXCPU" in ended:
        return _("used more than {seconds} s of CPU time", seconds=limits["cpu_seconds"])
    if "SIGKILL" in ended or "SIGSEGV" in ended:
        return _("was {ended}: out of memory (the limit is {mb} MiB), a crash in native code, or "
                 "a signal your code sent itself?", ended=ended, mb=limits["memory_mb"])
    if ended.startswith("killed"):
        return _("was {ended}, sent to the process that runs your code: did your code signal "
                 "itself (os.kill, signal.raise_signal)?", ended=ended)
    return _("ended the process that runs it: it {ended} (os._exit or sys.exit?)", ended=ended)


def _too_large(mb) -> str:
    return _("returned more than {mb} MiB of output in all its tests", mb=mb)


def _unreadable(problem) -> str:
    return _("unreadable output ({problem})", problem=problem)


def _lost(ended: str) -> str:
    """Why a submission stopped when its worker disappeared under it (WorkerLost)."""
    if ended:
        return _("your code stopped the process that runs it: the grader's worker process ended "
                 "while your code ran ({ended}). Did it kill its parent process "
                 "(os.kill(os.getppid(), ...)) or every process it could (os.kill(-1, ...))? The "
                 "tests after that point were not run", ended=ended)
    return _("your code stopped the process that runs it: the grader's worker process ended "
             "while your code ran. Did it kill its parent process (os.kill(os.getppid(), ...)) "
             "or every process it could (os.kill(-1, ...))? The tests after that point were not "
             "run")
