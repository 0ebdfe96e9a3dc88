"""Explaining a wrong value: test hypotheses about the mistake, most frequent first, each a
cheap transform of the reference compared with the student's value. The first that fits is the
message; when none fits, say how far off the value is and where.

Knows nothing about notebooks or processes: it sees arrays, the case's sizes and the student's
top-level constants.
"""
from dataclasses import dataclass

import numpy as np

#: How closely a transformed reference must match to count as the explanation.
FIT = 1e-6

DIM_WORDS = {"N": "the batch size", "T": "the sequence length", "H": "the hidden size",
             "D": "the input size", "K": "the number of classes"}


@dataclass
class Diagnosis:
    message: str
    #: a short stable code for statistics ("scale:N", "sign", "swap", ...).
    code: str


def relative_error(student: np.ndarray, reference: np.ndarray, scale: float | None = None) -> float:
    """max|student − reference| / max|reference| (absolute difference when the reference is 0);
    `scale`: max|reference|, when the caller knows it already."""
    # (array methods: np.max's Python-level wrapper costs more than the work on small arrays)
    diff = float(np.abs(student - reference).max()) if student.size else 0.0
    if scale is None:
        scale = float(np.abs(reference).max()) if reference.size else 0.0
    return diff / scale if scale > 0 else diff


def fits(student, candidate, tol=FIT) -> bool:
    candidate = np.asarray(candidate, dtype=np.float64)
    return student.shape == candidate.shape and relative_error(student, candidate) <= tol


def scale_words(alpha: float, label: str, dims: dict, constants: dict,
                against: str = "the reference") -> Diagnosis:
    """Name a constant factor between the student's value and the reference's."""
    sign = "−" if alpha < 0 else ""
    magnitude = abs(alpha)
    close = lambda a, b: abs(a - b) <= 1e-6 * max(abs(b), 1e-12)  # noqa: E731
    n = dims.get("N")
    if n and n != 1:
        if close(magnitude, n):
            return Diagnosis(f"your {label} is exactly {sign}{n:g}× {against} (N = {n:g}, "
                             "the batch size): you summed over the batch where the loss takes the "
                             "mean; divide by N = X.shape[0] once.", "scale:N")
        if close(magnitude, 1 / n):
            return Diagnosis(f"your {label} is exactly {sign}1/{n:g} of {against} (N = {n:g}, "
                             "the batch size): divided by N once too often (the 1/N is "
                             "applied twice, for instance in output_gradient and again in "
                             "backward_gradient, or averaged over the batch where the loss "
                             "sums).", "scale:1/N")
        for name, value in sorted(constants.items()):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 \
                    and value != n and close(magnitude, n / value):
                return Diagnosis(
                    f"your {label} is exactly {sign}{n:g}/{value:g} of {against}: it divides "
                    f"by the notebook global `{name}` (= {value:g}) instead of the batch size "
                    f"N = {n:g} of the arguments; use X.shape[0].", "global")
        for dim, value in dims.items():
            if dim != "N" and value and value not in (1, n) and close(magnitude, n / value):
                return Diagnosis(
                    f"your {label} is exactly {sign}{n:g}/{value:g} of {against}: it divides by "
                    f"{dim} = {value:g} ({DIM_WORDS.get(dim, dim)}) where the mean is over the "
                    f"batch; divide by N = X.shape[0].", f"scale:N/{dim}")
    for dim, value in dims.items():
        if dim == "N" or not value or value == 1:
            continue
        what = DIM_WORDS.get(dim, dim)
        if close(magnitude, value):
            return Diagnosis(f"your {label} is exactly {sign}{value:g}× {against} ({dim} = "
                             f"{value:g}, {what}): something is summed over {what} once too "
                             "often, or a mean over it is missing.", f"scale:{dim}")
        if close(magnitude, 1 / value):
            return Diagnosis(f"your {label} is exactly {sign}1/{value:g} of {against} "
                             f"({dim} = {value:g}, {what}): it is averaged over {what} where "
                             "the loss sums.", f"scale:1/{dim}")
    if close(alpha, -1.0):
        return Diagnosis(f"your {label} has the wrong sign: it is exactly −1× {against} "
                         "(check the order in a difference such as y − t).", "sign")
    for factor in (2.0, 0.5):
        if close(magnitude, factor):
            words = "twice" if factor == 2 else "half"
            return Diagnosis(f"your {label} is exactly {sign}{words} {against}: a factor 2 "
                             "is missing or extra (the derivative of u² is 2u).", "scale:2")
    return Diagnosis(f"your {label} is exactly {alpha:.6g}× {against}: the direction is "
                     "right, a constant factor is wrong.", "scale")


def _localize(student, reference, axis, names, label, what) -> str | None:
    """Which slices along an axis differ (time steps, or gate blocks)."""
    count = len(names)
    s_parts = np.array_split(np.moveaxis(student, axis, 0), count)
    r_parts = np.array_split(np.moveaxis(reference, axis, 0), count)
    scale = max(float(np.max(np.abs(reference))), 1e-300)
    wrong = [name for name, s, r in zip(names, s_parts, r_parts)
             if s.size and float(np.max(np.abs(s - r))) / scale > 1e-7]
    if not wrong or len(wrong) == count:
        return None
    right = [n for n in names if n not in wrong]
    what = f"{what} " if what else ""
    return (f"in your {label}, {what}{_join(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong "
            f"while {_join(right)} {'is' if len(right) == 1 else 'are'} right.")


def _join(items):
    items = [str(i) for i in items]
    if len(items) > 6:
        items = items[:3] + ["…"] + items[-2:]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def explain(student: np.ndarray, expect, others: list, dims: dict, constants: dict) -> Diagnosis:
    """Why `student` differs from `expect.value`.

    others: [(label, reference value)] of the case's other outputs (for swapped outputs).
    """
    reference = np.asarray(expect.value, dtype=np.float64)
    label = expect.label
    for hypothesis in expect.hypotheses:
        if fits(student, hypothesis.value):
            return Diagnosis(hypothesis.message, hypothesis.code)
    precision = _precision(student, reference, label, expect.rtol)
    if precision:
        return precision
    clipped = _clipped(student, reference, label)
    if clipped:
        return clipped
    if student.shape == reference.shape and not np.any(student) and np.any(reference):
        zeros = "0" if student.size == 1 else "all zeros"
        return Diagnosis(f"your {label} is {zeros}: it is never computed or filled in (an array "
                         "left as np.zeros made it, a sum never added to, or a loop that never "
                         "runs).", "zeros")
    for other_label, other_value in others:
        if fits(student, other_value):
            return Diagnosis(f"your {label} equals the correct {other_label}: the returned values "
                             "are swapped.", "swap")
        if np.ndim(other_value) == 2 and fits(student, np.asarray(other_value).T):
            return Diagnosis(f"your {label} equals the transpose of the correct {other_label}: "
                             "the two gradients are swapped and transposed (for D = W·X, "
                             "dW = dD·Xᵀ and dX = Wᵀ·dD).", "swap")
    if reference.ndim == 2 and student.shape == reference.T.shape and fits(student, reference.T):
        shapes = (f" (shape {student.shape} instead of {reference.shape})"
                  if student.shape != reference.shape else "")
        return Diagnosis(f"your {label} is the transpose of the correct one{shapes}.",
                         "transpose")
    if student.shape != reference.shape:
        return Diagnosis(f"your {label} has shape {student.shape}; it should have shape "
                         f"{reference.shape}.", "shape")
    denom = float(np.sum(reference * reference))
    if denom > 0:
        alpha = float(np.sum(student * reference)) / denom
        if alpha != 0 and fits(student, alpha * reference):
            scaled = scale_words(alpha, label, dims, constants)
            # any wrong number is "some factor" times a single reference number: only a named
            # factor (N, T, −1, 2, ...) explains a scalar.
            if reference.size > 1 or scaled.code != "scale":
                return scaled
    if expect.block_axis is not None and expect.blocks:
        where = _localize(student, reference, expect.block_axis,
                          [f"the {b} block" for b in expect.blocks], label, "")
        if where:
            return Diagnosis(where, "blocks")
    if expect.time_axis is not None and reference.shape[expect.time_axis] > 1:
        steps = [f"t={t}" for t in range(reference.shape[expect.time_axis])]
        where = _localize(student, reference, expect.time_axis, steps, label, "time steps")
        if where:
            return Diagnosis(where, "steps")
    return Diagnosis(_plain_error(student, reference, label, expect.rtol), "other")


def _clipped(student, reference, label) -> Diagnosis | None:
    """The reference clipped element-wise to ±c, c the largest magnitude the student has."""
    if student.shape != reference.shape or student.size < 2 \
            or not np.all(np.isfinite(student)):
        return None
    bound = float(np.max(np.abs(student)))
    if bound == 0 or not np.any(np.abs(reference) > bound * (1 + 1e-9)) \
            or not fits(student, np.clip(reference, -bound, bound)):
        return None
    return Diagnosis(f"your {label} is the correct gradient clipped to ±{bound:g}: clipping "
                     "(np.clip) belongs to the training step, applied before the update; the "
                     "backward pass must return the exact gradient.", "clipped")


#: a test stricter than this expects float64 arithmetic; float32 rounding (~6e-8 per
#: operation) leaves relative errors between it and FLOAT32_ERROR.
FLOAT64_RTOL = 1e-6
FLOAT32_ERROR = 1e-5


def _precision(student, reference, label, rtol) -> Diagnosis | None:
    """A value right to float32 precision only, in a test that expects float64 arithmetic."""
    if rtol >= FLOAT64_RTOL or student.shape != reference.shape \
            or not np.all(np.isfinite(student)):
        return None
    error = relative_error(student, reference)
    if not rtol < error <= FLOAT32_ERROR:
        return None
    return Diagnosis(f"your {label} is right to about {-np.log10(error):.0f} significant "
                     f"digits only (relative error {error:.2g}, tolerance {rtol:g}): that is "
                     "float32 precision. Some of your arithmetic or storage is float32 (an "
                     "array made with dtype=np.float32, or .astype(np.float32)); compute in "
                     "float64.", "float32")


def _plain_error(student, reference, label, rtol) -> str:
    diff = np.abs(student - reference)
    if not np.all(np.isfinite(student)):
        return f"your {label} contains NaN or infinity."
    # the first of the largest differences, ties within rounding included: which entry is
    # named must not hang on the reference's last bits (they differ between CPUs)
    largest = diff >= diff.max() * (1 - 1e-9) if diff.size else diff
    worst = np.unravel_index(int(np.argmax(largest)), diff.shape) if diff.ndim else ()
    where = f" at index {tuple(int(i) for i in worst)}" if diff.ndim else ""
    return (f"your {label} is off by a relative error of {relative_error(student, reference):.2g} "
            f"(tolerance {rtol:g}); the largest difference is{where}: yours "
            f"{float(student[worst]):.6g}, expected {float(reference[worst]):.6g}.")
