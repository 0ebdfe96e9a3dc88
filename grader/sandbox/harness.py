"""The child side: define the student's source in a fresh namespace, call the named functions
on the inputs, and send back plain numbers and numeric arrays, and whether each array input
was changed in place. Nothing here judges anything.

This module runs inside the untrusted process, so it holds no reference, no expected value and
no tolerance; whatever it sends is decoded strictly by the parent.
"""
import ast
import builtins
import marshal
import pickle
import sys
import time
import traceback

import numpy as np

from grader import wire

SOURCE_NAME = "<submission>"
#: the frame a child sends when its public cases are done and it is ready for the hidden ones
HIDDEN_REQUEST = b"?hidden"
MAX_TEXT = 500


def _text(value) -> str:
    try:
        text = str(value)
    except BaseException:  # a hostile __str__
        text = "<unprintable>"
    return text[:MAX_TEXT]


def _error(exc: BaseException) -> dict:
    """Describe an exception: its type, message, and the student's source lines it went through."""
    # walk_tb, not extract_tb: that one also reads every frame's source file (numpy's too) into
    # linecache, which a fresh child has empty: ~0.4 ms an exception, against ~0.08
    lines = [[line, frame.f_code.co_name] for frame, line in traceback.walk_tb(exc.__traceback__)
             if frame.f_code.co_filename == SOURCE_NAME][-8:]
    return {"type": type(exc).__name__[:80], "message": _text(exc), "lines": lines}


def define(source: str, statements=None) -> tuple[dict, list]:
    """Execute the submission's top-level statements one by one; a failing one is reported and
    the others still run (a missing optional import should not sink every function).

    `statements`: the same statements as the grader compiled them (code objects), which
    spares parsing and compiling them here."""
    namespace = {"__name__": "__submission__", "__builtins__": builtins}
    errors = []
    if statements is None:
        try:
            module = ast.parse(source, SOURCE_NAME)
        except SyntaxError as exc:
            return namespace, [{"type": "SyntaxError", "message": _text(exc.msg),
                                "lines": [[exc.lineno or 0, "<module>"]]}]
        statements = module.body
    for statement in statements:
        try:
            if isinstance(statement, ast.stmt):
                statement = compile(ast.Module([statement], []), SOURCE_NAME, "exec")
            exec(statement, namespace)
        except BaseException as exc:  # SystemExit included: it must not end the run
            errors.append(_error(exc))
    return namespace, errors


def _follow(value, path):
    for step in path:
        if isinstance(step, list):  # ["col", k]
            value = np.asarray(value)[..., step[1]]
        elif isinstance(step, str) and isinstance(value, dict):  # a dict of gradients
            value = dict.__getitem__(value, step)
        elif isinstance(value, (tuple, list, np.ndarray)):
            value = value[step]
        else:
            raise TypeError(f"cannot take item {step} of a {type(value).__name__}")
    return value


def _name(value) -> str:
    return type(value).__name__[:80]


def _leaf(value, max_bytes: int | None = None):
    """A returned value as a numeric array, or why it is not one as a code and its values
    (["type", name], ["dtype", name], ["size", numbers, at most]): the parent puts it into
    words in the student's language (grader.sandbox.messages).

    Only the base types' own methods read the value: a subclass overriding view, __array__,
    __float__, __int__ or __eq__ plays no part (it could otherwise send something other than
    the data it holds)."""
    if isinstance(value, np.generic):
        value = np.asarray(value)
    elif isinstance(value, bool):
        value = np.asarray(bool.__bool__(value))
    elif isinstance(value, int):
        value = np.asarray(int.__int__(value))
    elif isinstance(value, float):
        value = np.asarray(float.__float__(value))
    if not isinstance(value, np.ndarray):
        return ["type", _name(value)]
    array = np.ndarray.view(value, np.ndarray)
    if array.dtype.str not in wire.DTYPES:
        return ["dtype", str(array.dtype)[:80]]
    if max_bytes is not None and 8 * array.size > max_bytes:  # judged as float64
        return ["size", int(array.size), max_bytes // 8]
    return np.array(array, copy=True, order="C")


def _shape_of(value, depth=0) -> list:
    """The returned structure, for "expected ..., got ..." messages, as plain data the parent
    puts into words: ["seq", type, length, [up to 6 items], more], ["array", shape] or
    ["type", name]."""
    if isinstance(value, (tuple, list)) and depth < 3:
        return ["seq", _name(value), len(value), [_shape_of(v, depth + 1) for v in value[:6]],
                len(value) > 6]
    if isinstance(value, np.ndarray):
        return ["array", [int(n) for n in value.shape]]
    return ["type", _name(value)]


class _Skipped(Exception):
    """An argument depends on an earlier call that produced nothing."""


class _NoPart(Exception):
    """An argument is a part of an earlier call's result that the result does not have:
    args (which argument: a position or a keyword, what the result is, Python's words)."""


def _argument(spec, results, which):
    kind = spec[0]
    if kind == "v":
        value = spec[1]
        return value.copy() if isinstance(value, np.ndarray) else value
    _, call, path = spec
    done = results[call]
    if done is None:
        raise _Skipped(call)
    try:
        return _follow(done, path)
    except BaseException as exc:  # the student's result has another structure (or a hostile one)
        raise _NoPart(which, _shape_of(done), _text(exc)) from None


def run_case(namespace: dict, calls: list, max_bytes: int | None = None) -> tuple:
    """Make a case's calls in order; each one's result stays here for later Refs. Return the
    replies, plain JSON data, and the arrays they return: a reply's returned parts are
    positions in that list, or why a part is not an array as a code and values (a returned
    array over max_bytes is not sent: its size is)."""
    results, replies, checks, arrays = [], [], [], []
    fp_events = [0]

    def count_fp(kind, flag):
        fp_events[0] += 1

    for call in calls:
        results.append(None)
        function = namespace.get(call["function"])
        if not callable(function):
            replies.append({"ok": False, "missing": True})
            continue
        try:
            args = [_argument(a, results, i) for i, a in enumerate(call["args"])]
            kwargs = {k: _argument(a, results, k) for k, a in call["kwargs"].items()}
        except _Skipped as exc:
            replies.append({"ok": False, "skipped": int(exc.args[0])})
            continue
        except _NoPart as exc:  # which argument, what the result is: the parent says it
            which, got, why = exc.args
            replies.append({"ok": False, "unreachable": {"argument": which, "got": got,
                                                         "why": why}})
            continue
        fp_events[0] = 0
        try:
            # underflow is not an error: a stable sigmoid's e^(−|x|) or a shifted softmax's
            # exp(z − max) underflows to 0 by design. Leaving the block restores the error
            # state, whatever the student's code set inside it.
            with np.errstate(call=count_fp, all="call", under="ignore"):
                result = function(*args, **kwargs)
        except BaseException as exc:
            replies.append({"ok": False, "error": _error(exc)})
            continue
        results[-1] = result
        parts = []
        for path in call["returns"]:
            try:
                part = _leaf(_follow(result, path), max_bytes)
            except BaseException:
                part = ["structure", _shape_of(result)]
            if isinstance(part, np.ndarray):
                arrays.append(part)
                part = len(arrays) - 1
            parts.append(part)
        reply = {"ok": True, "parts": parts, "fp": fp_events[0]}
        if call["check_inputs"]:
            checks.append((reply, call["args"], args))
        replies.append(reply)
    for reply, specs, args in checks:  # after the whole case: a later call may change them too
        reply["inputs_changed"] = [_changed(spec[1], arg) if spec[0] == "v" and isinstance(
            spec[1], np.ndarray) else None for spec, arg in zip(specs, args)]
    return replies, arrays


def _changed(sent: np.ndarray, arg: np.ndarray) -> bool:
    """Whether an array argument (our own copy of `sent`) no longer holds what was sent: other
    bytes and other values (as float64, NaN equal to NaN), or another shape."""
    if arg.shape != sent.shape:
        return True
    if arg.dtype == sent.dtype and arg.tobytes() == sent.tobytes():
        return False
    try:
        return not np.array_equal(arg.astype(np.float64), sent, equal_nan=True)
    except (TypeError, ValueError):
        return True


def job_payload(source: str, statements, total: int, max_frame_mb: int) -> bytes:
    """A child's job, as the trusted side sends it: its statements compiled (code objects), or
    the source when there are none, how many cases there are, the largest output. Marshal
    data: one C call to read in the child (about half the CPU of the wire format's decoding
    there), and only ever read by the child, never by the grader."""
    return marshal.dumps({"source": source if statements is None else "",
                          "statements": statements, "total": total,
                          "max_frame_mb": max_frame_mb})


def hidden_cases(plans: list) -> bytes:
    """The hidden cases' call plans as the child reads them: a pickle (numpy's arrays in it
    are read in C: lstm's 11 plans 0.62 → 0.10 ms to read against the wire format). Trusted
    to untrusted only: nothing a child sends is ever unpickled."""
    return pickle.dumps(plans, protocol=pickle.HIGHEST_PROTOCOL)


def serve(payload, public: list, start: int, result_fd: int, hidden_fd: int) -> None:
    """Read the job (`payload`, made by `job_payload`), define the source, then run the cases
    from `start` on, one frame per case: the `public` ones, then the hidden ones, asked for
    only once the public results are sent."""
    job = marshal.loads(payload)
    namespace, errors = define(job["source"], job["statements"])
    wire.write_frame(result_fd, wire.encode({"kind": "setup", "errors": errors}))
    max_bytes = int(job["max_frame_mb"]) * 2**20
    cases = public
    for index in range(start, int(job["total"])):
        if index >= len(cases):  # the hidden ones, first time
            wire.write_frame(result_fd, HIDDEN_REQUEST)
            cases = public + pickle.loads(wire.read_frame(hidden_fd) or b"")
        began = time.perf_counter()
        replies, arrays = run_case(namespace, cases[index], max_bytes)
        frame = {"kind": "case", "index": index, "calls": replies,
                 "seconds": time.perf_counter() - began}
        try:  # JSON as it is, arrays by position: no walk through it (runner._case_outcome)
            frame = wire.encode_tree(frame, arrays)
        except wire.WireError as exc:
            frame = wire.encode({"kind": "case", "index": index,
                                 "failure": "bad output", "detail": _text(exc)})
        wire.write_frame(result_fd, frame)
    sys.stdout.flush()
