"""Tests of reference/two_layer.py against an autograd oracle and central differences.

The oracle is the network written once more as one autograd.numpy expression (log-sum-exp for
the softmax, no caches, no hand-written backward): the reference's layer-by-layer backward must
give the same gradients, and both must agree with central differences of the reference's own
loss.
"""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from reference.two_layer import (affine_backward, affine_forward, relu_backward, relu_forward,
                                 softmax_loss, two_layer_loss)
from tests.gradients import (assert_autograd_close, assert_numeric_close, assert_unchanged,
                             numeric_gradient, snapshot)

# (N, D, H, C): one sample, one input, one hidden unit, two classes, and ordinary sizes
SIZES = [(1, 3, 4, 2), (5, 1, 3, 4), (4, 3, 1, 5), (6, 4, 5, 3), (7, 5, 6, 4)]
KEYS = ("W1", "b1", "W2", "b2")


def data(seed, N, D, H, C):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    y = rng.integers(0, C, N)
    params = {"W1": rng.normal(size=(D, H)), "b1": rng.normal(size=H),
              "W2": rng.normal(size=(H, C)), "b2": rng.normal(size=C)}
    return X, y, params


def oracle_softmax(scores, y):
    N = scores.shape[0]
    top = anp.max(scores, axis=1, keepdims=True)
    log_z = anp.log(anp.sum(anp.exp(scores - top), axis=1)) + top[:, 0]
    return anp.mean(log_z - scores[anp.arange(N), y])


def oracle_loss(W1, b1, W2, b2, X, y, reg):
    hidden = anp.maximum(anp.dot(X, W1) + b1, 0.0)
    scores = anp.dot(hidden, W2) + b2
    return oracle_softmax(scores, y) + 0.5 * reg * (anp.sum(W1 ** 2) + anp.sum(W2 ** 2))


@pytest.mark.parametrize("N, D, H, C", SIZES)
@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_two_layer_loss_against_autograd_and_numeric(N, D, H, C, reg):
    X, y, params = data(N * 10 + D, N, D, H, C)
    before = snapshot((X, y, params["W1"], params["b1"], params["W2"], params["b2"]))
    loss, grads = two_layer_loss(X, y, params, reg)
    assert_unchanged(before, (X, y, params["W1"], params["b1"], params["W2"], params["b2"]))
    weights = [params[k] for k in KEYS]
    assert loss == pytest.approx(float(oracle_loss(*weights, X, y, reg)), rel=1e-12)
    assert set(grads) == set(KEYS)
    for index, key in enumerate(KEYS):
        oracle = grad(oracle_loss, index)(*weights, X, y, reg)
        assert_autograd_close(grads[key], oracle, name=key)

        def f(value, key=key):
            return two_layer_loss(X, y, {**params, key: value}, reg)[0]
        assert_numeric_close(grads[key], numeric_gradient(f, params[key]), name=key,
                             f_scale=loss)


def test_regularisation_follows_the_half_convention():
    X, y, params = data(3, 4, 3, 5, 2)
    plain, plain_grads = two_layer_loss(X, y, params, 0.0)
    loss, grads = two_layer_loss(X, y, params, 0.7)
    penalty = np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2)
    assert loss - plain == pytest.approx(0.5 * 0.7 * penalty, rel=1e-12)
    for key in ("W1", "W2"):
        np.testing.assert_allclose(grads[key] - plain_grads[key], 0.7 * params[key], rtol=1e-10)
    for key in ("b1", "b2"):  # biases are not regularised
        np.testing.assert_allclose(grads[key], plain_grads[key], rtol=1e-12)


@pytest.mark.parametrize("N, C", [(1, 2), (5, 3), (8, 6)])
def test_softmax_loss_against_autograd_and_numeric(N, C):
    rng = np.random.default_rng(N + C)
    scores, y = rng.normal(size=(N, C)) * 3, rng.integers(0, C, N)
    loss, dscores = softmax_loss(scores, y)
    assert loss == pytest.approx(float(oracle_softmax(scores, y)), rel=1e-12)
    assert_autograd_close(dscores, grad(oracle_softmax)(scores, y), name="dscores")
    assert_numeric_close(dscores, numeric_gradient(lambda s: softmax_loss(s, y)[0], scores),
                         name="dscores", f_scale=loss)


def test_softmax_loss_is_stable_for_large_scores_and_known_for_uniform_ones():
    scores = np.array([[1e4, -1e4, 0.0], [-800.0, 800.0, 3.0]])
    with np.errstate(all="raise", under="ignore"):
        loss, dscores = softmax_loss(scores, np.array([0, 0]))
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))
    assert loss == pytest.approx(1600.0 / 2, rel=1e-12)  # first row right, second off by 1600
    uniform, d = softmax_loss(np.zeros((4, 5)), np.array([0, 1, 2, 3]))
    assert uniform == pytest.approx(np.log(5), rel=1e-15)
    np.testing.assert_allclose(d[0], (np.full(5, 0.2) - np.eye(5)[0]) / 4, rtol=1e-14)


@pytest.mark.parametrize("N, D, H", [(1, 1, 1), (3, 4, 5), (6, 2, 3)])
def test_affine_pair_against_autograd_and_numeric(N, D, H):
    rng = np.random.default_rng(N * D * H)
    x, w, b, dout = (rng.normal(size=s) for s in ((N, D), (D, H), (H,), (N, H)))
    out, cache = affine_forward(x, w, b)
    np.testing.assert_allclose(out, np.einsum("nd,dh->nh", x, w) + b, rtol=1e-13)
    before = snapshot(cache)
    dx, dw, db = affine_backward(dout, cache)
    assert_unchanged(before, cache, "cache")

    def projected(x_, w_, b_):
        return anp.sum(dout * (anp.dot(x_, w_) + b_))
    for index, got in enumerate((dx, dw, db)):
        assert_autograd_close(got, grad(projected, index)(x, w, b))
    assert_numeric_close(dw, numeric_gradient(lambda w_: np.sum(dout * affine_forward(x, w_, b)[0]), w))


def test_relu_pair_against_autograd_and_numeric():
    rng = np.random.default_rng(7)
    x, dout = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, np.where(x > 0, x, 0.0))
    dx = relu_backward(dout, cache)
    assert_autograd_close(dx, grad(lambda x_: anp.sum(dout * anp.maximum(x_, 0.0)))(x))
    assert_numeric_close(dx, numeric_gradient(lambda x_: np.sum(dout * relu_forward(x_)[0]), x))
    np.testing.assert_array_equal(relu_backward(np.ones(3), np.array([-1.0, 0.0, 2.0])),
                                  [0.0, 0.0, 1.0])  # at 0 the gradient is 0 (x > 0)
