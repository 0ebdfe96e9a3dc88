"""Shared helpers for the reference tests: central-difference gradients and error measures.

Numeric gradients use the central difference

    ∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / (2h),   h = 1e-6 (float64).

Its truncation error is O(h² f''') ≈ 1e-12 and its rounding error is about ε·|f|/h ≈ 2e-10·|f|
(ε ≈ 2.2e-16), so for the O(1)-sized losses used here the relative error of a correct analytic
gradient comes out around 1e-10…1e-9, comfortably below the 1e-7 tolerance, while a gradient
that is wrong by even one part in a million is reported (see test_reference_gradients.py).

Relative error is measured on the whole array (cs231n style, but with a global denominator so
that entries which are ~0 do not blow up the ratio):

    rel_error(a, b) = max|a − b| / max(max(|a| + |b|), tiny)

The one exception (opt-in, see assert_numeric_close): when a whole gradient array is tiny next
to the value of f, the ~ε·|f|/h rounding error of the central difference itself exceeds 1e-7
relative; such arrays pass if their absolute error is below that rounding floor. They are
still checked at rtol 1e-10 against autograd.
"""
import copy

import numpy as np

#: Central-difference step (float64).
H = 1e-6
#: Tolerance for analytic vs. central-difference gradients of smooth functions.
NUMERIC_TOL = 1e-7
#: Tolerance for analytic vs. autograd gradients (both exact up to rounding).
AUTOGRAD_RTOL = 1e-10
TINY = 1e-300
EPS = float(np.finfo(np.float64).eps)


def rel_error(a, b):
    """max|a − b| / max(max(|a| + |b|), TINY) over the whole array (0 when both are 0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape, f"shape mismatch {a.shape} vs {b.shape}"
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), TINY))


def numeric_gradient(f, x, h=H):
    """Central-difference gradient of the scalar function f at the float64 array x.

    f is called with a perturbed *copy* of x (x itself is never modified); returns an array
    of x's shape.
    """
    x = np.array(x, dtype=np.float64)  # private copy
    grad = np.zeros_like(x)
    flat = x.reshape(-1)                 # view into the copy
    gflat = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fp = float(f(x.copy()))
        flat[i] = old - h
        fm = float(f(x.copy()))
        flat[i] = old
        gflat[i] = (fp - fm) / (2.0 * h)
    return grad


def numeric_gradients(f, args, h=H):
    """Central-difference gradients of the scalar f(*args) with respect to each of args."""
    args = [np.array(a, dtype=np.float64) for a in args]
    grads = []
    for j in range(len(args)):
        def fj(xj, j=j):
            full = list(args)
            full[j] = xj
            return f(*full)
        grads.append(numeric_gradient(fj, args[j], h))
    return grads


def rounding_floor(f_scale, h=H):
    """Absolute error that central differences cannot get below: evaluating f rounds it by
    about ε·|f|, and dividing the difference by 2h turns that into ~ε·|f|/h. `f_scale` is the
    magnitude of the numbers summed into f (e.g. the loss, or Σ|dout·out|); a factor 16 covers
    the rounding of the many operations inside f."""
    return 16.0 * EPS * max(abs(float(f_scale)), 1.0) / h


def assert_numeric_close(analytic, numeric, tol=NUMERIC_TOL, name="gradient", f_scale=None):
    """Analytic vs. central-difference gradient: same shape and rel_error ≤ tol.

    If f_scale is given, an array whose absolute error is below rounding_floor(f_scale) also
    passes: that happens only for gradients that are tiny next to the function's value (e.g.
    a 1×1 dW of 6e-5 next to a loss of 3), where no central difference can reach 1e-7
    relative; those entries are still held to rtol 1e-10 by the autograd checks.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    assert analytic.shape == np.shape(numeric), \
        f"{name}: shape {analytic.shape}, expected {np.shape(numeric)}"
    err = rel_error(analytic, numeric)
    if err <= tol:
        return
    abs_err = float(np.max(np.abs(analytic - numeric)))
    floor = rounding_floor(f_scale) if f_scale is not None else 0.0
    assert abs_err <= floor, (f"{name}: relative error {err:.3e} > {tol:.0e} vs numeric "
                              f"gradient (absolute error {abs_err:.3e}, rounding floor "
                              f"{floor:.3e})")


def assert_autograd_close(analytic, oracle, rtol=AUTOGRAD_RTOL, name="gradient"):
    """Analytic vs. autograd gradient, element-wise |a − b| ≤ rtol·|b| + atol, where the
    small atol = rtol·max|b| only forgives rounding noise in entries that are ~0 next to
    the largest entry (summation order differs between the two computations)."""
    analytic = np.asarray(analytic, dtype=np.float64)
    oracle = np.asarray(oracle, dtype=np.float64)
    assert analytic.shape == oracle.shape, \
        f"{name}: shape {analytic.shape}, expected {oracle.shape}"
    atol = rtol * (float(np.max(np.abs(oracle))) if oracle.size else 0.0)
    np.testing.assert_allclose(analytic, oracle, rtol=rtol, atol=atol,
                               err_msg=f"{name} differs from the autograd oracle")


def snapshot(obj):
    """Deep copy of (nested tuples/lists of) arrays and scalars, for no-mutation checks."""
    return copy.deepcopy(obj)


def assert_unchanged(before, after, name="input"):
    """Recursively assert that `after` equals the snapshot `before` exactly (NaN-aware)."""
    if isinstance(before, (tuple, list)):
        assert isinstance(after, (tuple, list)) and len(before) == len(after), name
        for k, (b, a) in enumerate(zip(before, after)):
            assert_unchanged(b, a, f"{name}[{k}]")
    elif isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray), f"{name} is no longer an array"
        assert before.shape == after.shape and before.dtype == after.dtype, \
            f"{name} changed shape/dtype"
        assert np.array_equal(before, after, equal_nan=before.dtype.kind in "fc"), \
            f"{name} was modified in place"
    else:
        assert before == after or (before != before and after != after), f"{name} changed"
