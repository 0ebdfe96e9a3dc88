"""Explaining a wrong value: test hypotheses about the mistake, most frequent first, each a
cheap transform of the reference compared with the student's value. The first that fits is the
message; when none fits, say how far off the value is and where.

Knows nothing about notebooks or processes: it sees arrays, the case's sizes and the student's
top-level constants.
"""
from dataclasses import dataclass

import numpy as np

from grader import i18n
from grader.i18n import N_, _
from grader.course.cases import relative_error  # noqa: F401 (the judge's measure of a value's distance)

#: How closely a transformed reference must match to count as the explanation.
FIT = 1e-6

DIM_WORDS = {"N": N_("the batch size"), "T": N_("the sequence length"),
             "H": N_("the hidden size"), "D": N_("the input size"),
             "K": N_("the number of classes")}


@dataclass
class Diagnosis:
    message: str
    #: a short stable code for statistics ("scale:N", "sign", "swap", ...).
    code: str


def fits(student, candidate, tol=FIT) -> bool:
    candidate = np.asarray(candidate, dtype=np.float64)
    return student.shape == candidate.shape and relative_error(student, candidate) <= tol


def scale_words(alpha: float, label: str, dims: dict, constants: dict,
                against: str | None = None) -> Diagnosis:
    """Name a constant factor between the student's value and the reference's (`against`:
    what it is compared with, already in the current language; the reference by default)."""
    against = against or _("the reference")
    sign = "−" if alpha < 0 else ""
    magnitude = abs(alpha)
    close = lambda a, b: abs(a - b) <= 1e-6 * max(abs(b), 1e-12)  # noqa: E731
    n = dims.get("N")
    if n and n != 1:
        if close(magnitude, n):
            return Diagnosis(_("your {label} is exactly {sign}{n}× {against} (N = {n}, "
                               "the batch size): you summed over the batch where the loss takes "
                               "the mean; divide by N = X.shape[0] once.", label=label,
                               sign=sign, n=format(n, "g"), against=against), "scale:N")
        if close(magnitude, 1 / n):
            return Diagnosis(_("your {label} is exactly {sign}1/{n} of {against} (N = {n}, "
                               "the batch size): divided by N once too often (the 1/N is "
                               "applied twice, for instance in output_gradient and again in "
                               "backward_gradient, or averaged over the batch where the loss "
                               "sums).", label=label, sign=sign, n=format(n, "g"), against=against),
                             "scale:1/N")
        for name, value in sorted(constants.items()):
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 \
                    and value != n and close(magnitude, n / value):
                return Diagnosis(
                    _("your {label} is exactly {sign}{n}/{value} of {against}: it divides "
                      "by the notebook global `{name}` (= {value}) instead of the batch size "
                      "N = {n} of the arguments; use X.shape[0].", label=label, sign=sign,
                      n=format(n, "g"), value=format(value, "g"), against=against, name=name),
                    "global")
        for dim, value in dims.items():
            if dim != "N" and value and value not in (1, n) and close(magnitude, n / value):
                return Diagnosis(
                    _("your {label} is exactly {sign}{n}/{value} of {against}: it divides by "
                      "{dim} = {value} ({what}) where the mean is over the batch; divide by "
                      "N = X.shape[0].", label=label, sign=sign, n=format(n, "g"),
                      value=format(value, "g"), against=against, dim=dim, what=_dim_words(dim)),
                    f"scale:N/{dim}")
    for dim, value in dims.items():
        if dim == "N" or not value or value == 1:
            continue
        what = _dim_words(dim)
        if close(magnitude, value):
            return Diagnosis(_("your {label} is exactly {sign}{value}× {against} ({dim} = "
                               "{value}, {what}): something is summed over {what} once too "
                               "often, or a mean over it is missing.", label=label, sign=sign,
                               value=format(value, "g"), against=against, dim=dim, what=what),
                             f"scale:{dim}")
        if close(magnitude, 1 / value):
            return Diagnosis(_("your {label} is exactly {sign}1/{value} of {against} "
                               "({dim} = {value}, {what}): it is averaged over {what} where "
                               "the loss sums.", label=label, sign=sign, value=format(value, "g"),
                               against=against, dim=dim, what=what), f"scale:1/{dim}")
    if close(alpha, -1.0):
        return Diagnosis(_("your {label} has the wrong sign: it is exactly −1× {against} "
                           "(check the order in a difference such as y − t).", label=label,
                           against=against), "sign")
    for factor in (2.0, 0.5):
        if close(magnitude, factor):
            template = (N_("your {label} is exactly {sign}twice {against}: a factor 2 is "
                           "missing or extra (the derivative of u² is 2u).") if factor == 2
                        else N_("your {label} is exactly {sign}half {against}: a factor 2 is "
                                "missing or extra (the derivative of u² is 2u)."))
            return Diagnosis(_(template, label=label, sign=sign, against=against), "scale:2")
    return Diagnosis(_("your {label} is exactly {alpha}× {against}: the direction is "
                       "right, a constant factor is wrong.", label=label,
                       alpha=format(alpha, ".6g"), against=against), "scale")


def _dim_words(dim: str) -> str:
    """What a size letter means, in the current language (the letter itself when unknown)."""
    return _(DIM_WORDS[dim]) if dim in DIM_WORDS else dim


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
    templates = {  # (one wrong, one right): the verbs agree with each
        (True, True): N_("in your {label}, {what}{wrong} is wrong while {right} is right."),
        (True, False): N_("in your {label}, {what}{wrong} is wrong while {right} are right."),
        (False, True): N_("in your {label}, {what}{wrong} are wrong while {right} is right."),
        (False, False): N_("in your {label}, {what}{wrong} are wrong while {right} are right.")}
    return _(templates[len(wrong) == 1, len(right) == 1], label=label, what=what,
             wrong=_join(wrong), right=_join(right))


def _join(items):
    items = [str(i) for i in items]
    if len(items) > 6:
        items = items[:3] + ["…"] + items[-2:]
    return items[0] if len(items) == 1 else _("{items} and {last}", items=", ".join(items[:-1]),
                                              last=items[-1])


def explain(student: np.ndarray, expect, others: list, dims: dict, constants: dict) -> Diagnosis:
    """Why `student` differs from `expect.value`.

    others: [(label, reference value)] of the case's other outputs (for swapped outputs).
    """
    reference = np.asarray(expect.value, dtype=np.float64)
    label = i18n.translated(expect.label)  # a label in words ("lstm_forward's out") has its own
    for hypothesis in expect.hypotheses:
        if fits(student, hypothesis.value):
            return Diagnosis(hypothesis.words(), hypothesis.code)
    precision = _precision(student, reference, label, expect.rtol)
    if precision:
        return precision
    clipped = _clipped(student, reference, label)
    if clipped:
        return clipped
    if student.shape == reference.shape and not np.any(student) and np.any(reference):
        template = (N_("your {label} is 0: it is never computed or filled in (an array left as "
                       "np.zeros made it, a sum never added to, or a loop that never runs).")
                    if student.size == 1 else
                    N_("your {label} is all zeros: it is never computed or filled in (an array "
                       "left as np.zeros made it, a sum never added to, or a loop that never "
                       "runs)."))
        return Diagnosis(_(template, label=label), "zeros")
    for other_label, other_value in others:
        if fits(student, other_value):
            return Diagnosis(_("your {label} equals the correct {other}: the returned values "
                               "are swapped.", label=label, other=other_label), "swap")
        if np.ndim(other_value) == 2 and fits(student, np.asarray(other_value).T):
            return Diagnosis(_("your {label} equals the transpose of the correct {other}: "
                               "the two gradients are swapped and transposed (for D = W·X, "
                               "dW = dD·Xᵀ and dX = Wᵀ·dD).", label=label, other=other_label),
                             "swap")
    if reference.ndim == 2 and student.shape == reference.T.shape and fits(student, reference.T):
        if student.shape != reference.shape:
            return Diagnosis(_("your {label} is the transpose of the correct one (shape {shape} "
                               "instead of {expected}).", label=label, shape=str(student.shape),
                               expected=str(reference.shape)), "transpose")
        return Diagnosis(_("your {label} is the transpose of the correct one.", label=label),
                         "transpose")
    if student.shape != reference.shape:
        return Diagnosis(_("your {label} has shape {shape}; it should have shape {expected}.",
                           label=label, shape=str(student.shape), expected=str(reference.shape)),
                         "shape")
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
                          [_("the {block} block", block=i18n.translated(b))
                           for b in expect.blocks], label, "")
        if where:
            return Diagnosis(where, "blocks")
    if expect.time_axis is not None and reference.shape[expect.time_axis] > 1:
        steps = [f"t={t}" for t in range(reference.shape[expect.time_axis])]
        where = _localize(student, reference, expect.time_axis, steps, label, _("time steps"))
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
    return Diagnosis(_("your {label} is the correct gradient clipped to ±{bound}: clipping "
                       "(np.clip) belongs to the training step, applied before the update; the "
                       "backward pass must return the exact gradient.", label=label,
                       bound=format(bound, "g")), "clipped")


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
    return Diagnosis(_("your {label} is right to about {digits} significant digits only "
                       "(relative error {error}, tolerance {rtol}): that is float32 precision. "
                       "Some of your arithmetic or storage is float32 (an array made with "
                       "dtype=np.float32, or .astype(np.float32)); compute in float64.",
                       label=label, digits=format(-np.log10(error), ".0f"),
                       error=format(error, ".2g"), rtol=format(rtol, "g")), "float32")


def _plain_error(student, reference, label, rtol) -> str:
    diff = np.abs(student - reference)
    if not np.all(np.isfinite(student)):
        return _("your {label} contains NaN or infinity.", label=label)
    # the first of the largest differences, ties within rounding included: which entry is
    # named must not hang on the reference's last bits (they differ between CPUs)
    largest = diff >= diff.max() * (1 - 1e-9) if diff.size else diff
    worst = np.unravel_index(int(np.argmax(largest)), diff.shape) if diff.ndim else ()
    values = dict(label=label, error=format(relative_error(student, reference), ".2g"),
                  rtol=format(rtol, "g"), yours=format(float(student[worst]), ".6g"),
                  expected=format(float(reference[worst]), ".6g"))
    if diff.ndim:
        return _("your {label} is off by a relative error of {error} (tolerance {rtol}); the "
                 "largest difference is at index {index}: yours {yours}, expected {expected}.",
                 index=str(tuple(int(i) for i in worst)), **values)
    return _("your {label} is off by a relative error of {error} (tolerance {rtol}); the "
             "largest difference is: yours {yours}, expected {expected}.", **values)
