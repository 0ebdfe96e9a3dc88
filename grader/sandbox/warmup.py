"""Warming a sandbox worker once, before it forks any child.

Much of what a child does the first time happens in every child, because the worker never did
it: numpy's first calls of each kind fill its internal caches, Python's method cache and
interned strings fill up, the harness's own code paths run for the first time. Each of these
writes to memory the child shares with the worker, and each page written costs a copy (about a
tenth of a child's CPU in rnn_linear). Running the harness once here, on the public call plans
with trusted stand-ins for the student's functions, does that work once for every child.

The stand-ins are fixed code of ours: nothing a submission wrote, and nothing from the
reference implementations (a child inherits the worker's memory, so a reference loaded here
could be read by the student's code).
"""
import ast
import os

from grader.sandbox import harness

#: trusted stand-ins: common numpy work on the first numeric argument, returned in a few
#: shapes (`_stand_in`), and the same work ending in numpy's error path (`_failing`)
STAND_INS = '''
import numpy as np


def _numbers(args):
    arrays = [np.asarray(a, dtype=np.float64) for a in args
              if isinstance(a, (np.ndarray, float, int))]
    x = arrays[0] if arrays else np.zeros(3)
    return x[tuple(slice(0, 16) for _ in x.shape)]  # a few numbers are enough to warm


def _work(x):
    y = np.tanh(x) * 2.0 - np.exp(-np.abs(x)) + x ** 2 / (1.0 + x * x)
    y = np.maximum(y, 0.0) + np.sqrt(np.abs(x)) + np.log1p(np.abs(x))
    z = np.zeros_like(x)
    z[...] = y
    if x.ndim >= 1:
        flat = x.ravel()
        z = z + np.mean(x) - np.max(x) + np.min(x) + float(np.sum(x)) + np.dot(flat, flat)
        z = z + x.sum(axis=0) + x.mean(axis=0) - np.outer(flat[:2], flat[:2]).sum()
        z = z * 0.5 + x[..., ::-1] * 0.5
    if x.ndim == 2:
        z = z + (x @ x.T).sum() + x.T.dot(x).sum()
        z[:, 0] = z[:, -1]
        z = np.concatenate([z, z], axis=1)[:, :x.shape[1]]
    return z


def _stand_in(*args, **kwargs):
    z = _work(_numbers(args))
    return z, (z, z)


def _failing(*args, **kwargs):
    _work(_numbers(args))
    return np.dot(np.ones(2), np.ones(3))
'''


def _statements(source: str) -> tuple:
    """The source's top-level statements compiled one by one (as the grading process sends a
    submission's)."""
    return tuple(compile(ast.Module([node], []), harness.SOURCE_NAME, "exec", dont_inherit=True)
                 for node in ast.parse(source).body)


def warm(plans: list) -> None:
    """Run the harness on the public call plans `plans`, twice with stand-ins that return
    and once with stand-ins that fail; the results go to /dev/null."""
    names = sorted({call["function"] for case in plans for call in case})
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stand_in in ("_stand_in", "_stand_in", "_failing"):
            source = STAND_INS + "".join(f"{name} = {stand_in}\n" for name in names)
            payload = harness.job_payload(source, _statements(source), len(plans), 1)
            harness.serve(payload, plans, 0, devnull, devnull)
    finally:
        os.close(devnull)
