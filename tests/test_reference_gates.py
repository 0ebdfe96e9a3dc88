"""Tests of reference/gates.py against central differences and an autograd oracle.

The oracle forwards below are written directly in autograd.numpy and never call the
reference code; the reference is only used for the quantity under test and for the
central-difference checks of its own forward.
"""
import warnings

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from reference.gates import (matmul_backward, neuron_backward, neuron_forward, sigmoid,
                             sigmoid_backward, staged_backward, staged_forward)
from tests.gradients import (assert_autograd_close, assert_numeric_close, assert_unchanged,
                             numeric_gradient, numeric_gradients, snapshot)


# ---------------------------------------------------------------- oracles (autograd.numpy)

def oracle_sigmoid(x):
    # Independent form: σ(x) = (1 + tanh(x/2)) / 2, stable for every x.
    return 0.5 * (1.0 + anp.tanh(0.5 * x))


def oracle_neuron(w, x):
    return oracle_sigmoid(anp.dot(w[:-1], x) + w[-1])


def oracle_staged(x, y):
    return (x + oracle_sigmoid(y)) / (oracle_sigmoid(x) + (x + y) ** 2)


# ---------------------------------------------------------------- sigmoid: stability

EXTREMES = [-1e4, -1e3, -746.0, -745.0, -710.0, -100.0, -30.0, -1.0, -1e-8, 0.0,
            1e-8, 1.0, 30.0, 100.0, 710.0, 746.0, 1e3, 1e4]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.int32, np.int64])
def test_sigmoid_extremes_no_warning_no_nan(dtype):
    x = np.array(EXTREMES, dtype=np.float64)
    if np.issubdtype(dtype, np.integer):
        x = np.unique(np.round(x))
    x = x.astype(dtype)
    # Every warning is an error, and overflow / invalid / divide-by-zero raise. Underflow is
    # left at NumPy's default (ignored): σ(−1e4) ≈ e^(−10000) is 0 in float64, so a correct
    # result can only be reached by underflowing (also for 1/(1+tanh), an exact 0 is needed).
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            out = sigmoid(x)
    out = np.asarray(out)
    assert out.shape == x.shape
    assert out.dtype == np.float64
    assert np.all(np.isfinite(out))
    assert np.all((out >= 0.0) & (out <= 1.0))
    assert np.all(np.diff(out) >= 0.0), "σ must be non-decreasing"
    xf = x.astype(np.float64)
    assert np.all(out[xf >= 1e3] == 1.0)
    assert np.all(out[xf <= -1e3] == 0.0)
    assert np.all(out[xf == 0] == 0.5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_sigmoid_all_raise_in_normal_range(dtype):
    # For |x| ≤ 700, e^(−|x|) is a normal float64, so even underflow must not be signalled.
    x = np.linspace(-700, 700, 141).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            out = sigmoid(x)
    assert np.all(np.isfinite(out))


@pytest.mark.parametrize("x", [1e4, -1e4, 10000, -10000, np.float32(-1e4), np.float32(1e4),
                               np.int64(-10000), 0, 0.0, 3, -2.5])
def test_sigmoid_scalars(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            out = sigmoid(x)
    assert np.shape(out) == ()
    assert np.isfinite(out)
    expected = 1.0 / (1.0 + np.exp(-np.float64(x))) if abs(float(x)) < 700 else float(x > 0)
    assert float(out) == pytest.approx(expected, rel=1e-14, abs=0.0)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_matches_naive_formula_in_safe_range(seed, dtype):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.uniform(-700, 700, 200), rng.normal(0, 5, 200),
                        [-700.0, -1.0, 0.0, 1.0, 700.0]]).astype(dtype)
    xf = x.astype(np.float64)  # the reference computes in float64 whatever the input dtype
    with np.errstate(all="raise"):
        naive = 1.0 / (1.0 + np.exp(-xf))
    np.testing.assert_allclose(sigmoid(x), naive, rtol=1e-13, atol=0)


def test_sigmoid_integer_inputs_match_float():
    x = np.arange(-40, 41, dtype=np.int64)
    np.testing.assert_array_equal(sigmoid(x), sigmoid(x.astype(np.float64)))
    np.testing.assert_allclose(sigmoid(x), 1.0 / (1.0 + np.exp(-x.astype(np.float64))),
                               rtol=1e-14, atol=0)


def test_sigmoid_preserves_shape():
    rng = np.random.default_rng(7)
    for shape in [(), (1,), (3,), (2, 3), (2, 1, 4)]:
        x = rng.normal(size=shape)
        assert np.shape(sigmoid(x)) == shape


# ---------------------------------------------------------------- sigmoid_backward

SHAPES = [(), (1,), (5,), (3, 4), (2, 1, 3)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_sigmoid_backward(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 2, size=shape)
    dout = rng.normal(size=shape)
    out = sigmoid(x)
    before = snapshot((dout, out))
    dx = sigmoid_backward(dout, out)
    assert_unchanged(before, (dout, out), "sigmoid_backward inputs")
    assert np.shape(dx) == shape
    # 1. the documented formula
    np.testing.assert_allclose(dx, dout * out * (1.0 - out), rtol=1e-15, atol=0)
    # 2. autograd of Σ dout·σ(x)
    g = grad(lambda z: anp.sum(dout * oracle_sigmoid(z)))(x)
    assert_autograd_close(dx, g, name="sigmoid dx")
    # 3. central differences of the reference forward
    num = numeric_gradient(lambda z: np.sum(dout * sigmoid(z)), x)
    assert_numeric_close(dx, num, name="sigmoid dx")


# ---------------------------------------------------------------- neuron

@pytest.mark.parametrize("D", [1, 2, 5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_neuron_forward_backward(D, seed):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=D + 1)
    x = rng.normal(size=D)
    dout = float(rng.normal())
    f, cache = neuron_forward(w, x)
    assert isinstance(f, float)
    assert f == pytest.approx(float(oracle_neuron(w, x)), rel=1e-14)
    before = snapshot((dout, cache, w, x))
    dw, dx = neuron_backward(dout, cache)
    assert_unchanged(before, (dout, cache, w, x), "neuron_backward inputs/cache")
    assert np.shape(dw) == (D + 1,) and np.shape(dx) == (D,)

    loss = lambda w_, x_: dout * oracle_neuron(w_, x_)
    assert_autograd_close(dw, grad(loss, 0)(w, x), name="neuron dw")
    assert_autograd_close(dx, grad(loss, 1)(w, x), name="neuron dx")

    ndw, ndx = numeric_gradients(lambda w_, x_: dout * neuron_forward(w_, x_)[0], [w, x])
    assert_numeric_close(dw, ndw, name="neuron dw")
    assert_numeric_close(dx, ndx, name="neuron dx")


def test_neuron_cs231n_example():
    # The worked example from cs231n: w = [2, −3, −3], x = [−1, −2] → f = σ(1) ≈ 0.73,
    # dx = [0.39, −0.59], dw = [−0.2, −0.39, 0.2].
    f, cache = neuron_forward([2.0, -3.0, -3.0], [-1.0, -2.0])
    dw, dx = neuron_backward(1.0, cache)
    s = 1.0 / (1.0 + np.exp(-1.0))
    assert f == pytest.approx(s, rel=1e-15)
    np.testing.assert_allclose(dx, s * (1 - s) * np.array([2.0, -3.0]), rtol=1e-15)
    np.testing.assert_allclose(dw, s * (1 - s) * np.array([-1.0, -2.0, 1.0]), rtol=1e-15)
    np.testing.assert_allclose(dx, [0.39, -0.59], atol=5e-3)
    np.testing.assert_allclose(dw, [-0.2, -0.39, 0.2], atol=5e-3)


# ---------------------------------------------------------------- staged

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_staged_arrays(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1.5, size=shape)
    y = rng.normal(0, 1.5, size=shape)
    dout = rng.normal(size=shape)
    f, cache = staged_forward(x, y)
    assert np.shape(f) == shape
    np.testing.assert_allclose(f, oracle_staged(x, y), rtol=1e-14, atol=0)

    before = snapshot((dout, cache, x, y))
    dx, dy = staged_backward(dout, cache)
    assert_unchanged(before, (dout, cache, x, y), "staged_backward inputs/cache")
    assert np.shape(dx) == shape and np.shape(dy) == shape

    loss = lambda x_, y_: anp.sum(dout * oracle_staged(x_, y_))
    assert_autograd_close(dx, grad(loss, 0)(x, y), name="staged dx")
    assert_autograd_close(dy, grad(loss, 1)(x, y), name="staged dy")

    ndx, ndy = numeric_gradients(lambda x_, y_: np.sum(dout * staged_forward(x_, y_)[0]), [x, y])
    assert_numeric_close(dx, ndx, name="staged dx")
    assert_numeric_close(dy, ndy, name="staged dy")


@pytest.mark.parametrize("x, y, dout", [(3.0, -4.0, 1.0), (-1.0, 2.0, 1.0), (0.0, 0.5, -2.0),
                                        (1, 2, 1), (-0.3, 0.3, 0.7)])
def test_staged_python_scalars(x, y, dout):
    f, cache = staged_forward(x, y)
    assert np.shape(f) == ()
    assert float(f) == pytest.approx(float(oracle_staged(float(x), float(y))), rel=1e-14)
    dx, dy = staged_backward(dout, cache)
    assert np.shape(dx) == () and np.shape(dy) == ()

    loss = lambda x_, y_: dout * oracle_staged(x_, y_)
    assert float(dx) == pytest.approx(grad(loss, 0)(float(x), float(y)), rel=1e-10, abs=1e-14)
    assert float(dy) == pytest.approx(grad(loss, 1)(float(x), float(y)), rel=1e-10, abs=1e-14)

    ndx, ndy = numeric_gradients(lambda x_, y_: dout * staged_forward(x_, y_)[0],
                                 [np.float64(x), np.float64(y)])
    assert_numeric_close(dx, ndx, name="staged dx")
    assert_numeric_close(dy, ndy, name="staged dy")


# ---------------------------------------------------------------- matmul

@pytest.mark.parametrize("N, K, M", [(1, 1, 1), (1, 3, 2), (2, 1, 3), (3, 4, 1), (5, 10, 3),
                                     (4, 2, 6)])
@pytest.mark.parametrize("seed", [0, 1])
def test_matmul_backward(N, K, M, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(N, K))
    X = rng.normal(size=(K, M))
    dD = rng.normal(size=(N, M))
    before = snapshot((dD, W, X))
    dW, dX = matmul_backward(dD, W, X)
    assert_unchanged(before, (dD, W, X), "matmul_backward inputs")
    assert np.shape(dW) == (N, K) and np.shape(dX) == (K, M)

    # Oracle: D = W·X written as an explicit sum of outer products, not with `@`.
    def loss(W_, X_):
        D = sum(W_[:, k:k + 1] * X_[k:k + 1, :] for k in range(K))
        return anp.sum(dD * D)
    assert_autograd_close(dW, grad(loss, 0)(W, X), name="matmul dW")
    assert_autograd_close(dX, grad(loss, 1)(W, X), name="matmul dX")

    ndW, ndX = numeric_gradients(lambda W_, X_: np.sum(dD * (W_ @ X_)), [W, X])
    assert_numeric_close(dW, ndW, name="matmul dW")
    assert_numeric_close(dX, ndX, name="matmul dX")
