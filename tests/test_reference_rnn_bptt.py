"""Tests of reference/rnn_bptt.py against central differences and an autograd oracle.

The oracle forward (tanh RNN + log-softmax cross-entropy) is written in autograd.numpy and
never calls the reference. Truncated BPTT is checked against an independent surrogate loss:
for every step t, E_t is recomputed from step first = max(0, t − k) on, starting from the
state s_{first−1} held as a constant (taken from a plain-numpy forward), so autograd lets the
error at step t flow back through steps t, t − 1, …, first only.
"""
import warnings

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from reference.rnn_bptt import bptt, rnn_forward, rnn_loss, softmax
from tests.gradients import (assert_autograd_close, assert_numeric_close, assert_unchanged,
                             numeric_gradients, rel_error, snapshot)

# (T, D, H, K): sequence length 1, hidden size 1, input size 1 all appear.
SHAPES = [(1, 3, 4, 5), (4, 1, 1, 2), (3, 2, 1, 3), (5, 3, 4, 2), (7, 4, 3, 6), (1, 1, 1, 2)]


def make(seed, T, D, H, K, scale=0.6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, D))
    y = rng.integers(0, K, size=T)
    U = rng.normal(0, scale, size=(H, D))
    W = rng.normal(0, scale, size=(H, H))
    V = rng.normal(0, scale, size=(K, H))
    return x, y, U, W, V


# ---------------------------------------------------------------- oracles (autograd.numpy)

def oracle_states(x, U, W, start=0, stop=None, s_init=None):
    """States s_start … s_{stop−1} (list), beginning from s_init (default 0) as s_{start−1}."""
    stop = x.shape[0] if stop is None else stop
    s = anp.zeros(W.shape[0]) if s_init is None else s_init
    out = []
    for t in range(start, stop):
        s = anp.tanh(anp.dot(U, x[t]) + anp.dot(W, s))
        out.append(s)
    return out


def oracle_log_softmax(z):
    m = anp.max(z)
    return z - (m + anp.log(anp.sum(anp.exp(z - m))))


def oracle_loss(U, W, V, x, y):
    return -sum(oracle_log_softmax(anp.dot(V, s))[y[t]]
                for t, s in enumerate(oracle_states(x, U, W)))


def plain_states(x, U, W):
    """Constant (non-differentiated) states for the truncation oracle, plain numpy."""
    s = np.zeros(W.shape[0])
    out = []
    for t in range(x.shape[0]):
        s = np.tanh(U @ x[t] + W @ s)
        out.append(s)
    return out


def truncated_surrogate(x, y, k, U0, W0):
    """Surrogate loss whose exact gradient at (U0, W0, ·) is truncated BPTT with truncate=k.

    For each t, E_t is recomputed from step first = max(0, t − k) on; the state entering that
    step, s_{first−1}, is a constant copy from a plain-numpy forward at (U0, W0).
    """
    consts = plain_states(x, U0, W0)

    def surrogate(U, W, V):
        total = 0.0
        for t in range(x.shape[0]):
            first = max(0, t - k)
            s_init = consts[first - 1] if first > 0 else None
            s_t = oracle_states(x, U, W, start=first, stop=t + 1, s_init=s_init)[-1]
            total = total - oracle_log_softmax(anp.dot(V, s_t))[y[t]]
        return total
    return surrogate


# ---------------------------------------------------------------- forward and loss

@pytest.mark.parametrize("T, D, H, K", SHAPES)
def test_rnn_forward(T, D, H, K):
    x, y, U, W, V = make(0, T, D, H, K)
    before = snapshot((x, U, W, V))
    s, y_hat = rnn_forward(x, U, W, V)
    assert_unchanged(before, (x, U, W, V), "rnn_forward inputs")
    assert s.shape == (T, H) and y_hat.shape == (T, K)
    np.testing.assert_allclose(s, np.stack(oracle_states(x, U, W)), rtol=1e-13, atol=1e-15)
    expected = np.stack([np.exp(oracle_log_softmax(V @ st)) for st in s])
    np.testing.assert_allclose(y_hat, expected, rtol=1e-13, atol=0)
    np.testing.assert_allclose(y_hat.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    assert np.all(y_hat > 0)
    # s_0 = tanh(U x_0) exactly (s_{−1} = 0)
    np.testing.assert_allclose(s[0], np.tanh(U @ x[0]), rtol=1e-15, atol=0)


@pytest.mark.parametrize("T, D, H, K", SHAPES)
def test_rnn_loss(T, D, H, K):
    x, y, U, W, V = make(1, T, D, H, K)
    _, y_hat = rnn_forward(x, U, W, V)
    L = rnn_loss(y_hat, y)
    assert isinstance(L, float)
    assert L == pytest.approx(float(oracle_loss(U, W, V, x, y)), rel=1e-13)
    assert L == pytest.approx(-sum(np.log(y_hat[t, y[t]]) for t in range(T)), rel=1e-14)


def test_softmax_rows():
    z = np.array([[0.0, 0.0], [1000.0, 0.0], [-1000.0, -1000.0], [1.0, 2.0]])
    p = softmax(z)
    np.testing.assert_allclose(p, [[0.5, 0.5], [1.0, 0.0], [0.5, 0.5],
                                   [1 / (1 + np.e), np.e / (1 + np.e)]], rtol=1e-15, atol=0)


@pytest.mark.parametrize("mag", [1e2, 1e4, 1e8])
def test_large_magnitudes_finite(mag):
    x, y, U, W, V = make(3, 5, 3, 4, 6, scale=1.0)
    x, U, W, V = x * mag, U * mag, W * mag, V * mag
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            s, y_hat = rnn_forward(x, U, W, V)
            grads = bptt(x, y, U, W, V)
            grads_tr = bptt(x, y, U, W, V, truncate=1)
            p = softmax(np.array([[1e300, -1e300, 0.0], [-1e300, -1e300, -1e300]]))
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(y_hat))
    np.testing.assert_allclose(y_hat.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    assert all(np.all(np.isfinite(g)) for g in grads + grads_tr)
    np.testing.assert_allclose(p, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15, atol=0)


# ---------------------------------------------------------------- full BPTT

@pytest.mark.parametrize("T, D, H, K", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_bptt_full(T, D, H, K, seed):
    x, y, U, W, V = make(seed, T, D, H, K)
    before = snapshot((x, y, U, W, V))
    dU, dW, dV = bptt(x, y, U, W, V)
    assert_unchanged(before, (x, y, U, W, V), "bptt inputs")
    for name, g, a in zip("UWV", (dU, dW, dV), (U, W, V)):
        assert g.shape == a.shape, name

    for i, name in enumerate("UWV"):
        oracle = grad(oracle_loss, i)(U, W, V, x, y)
        assert_autograd_close((dU, dW, dV)[i], oracle, name=f"d{name}")

    num = numeric_gradients(lambda U_, W_, V_: rnn_loss(rnn_forward(x, U_, W_, V_)[1], y),
                            [U, W, V])
    L = oracle_loss(U, W, V, x, y)
    for name, g, n in zip("UWV", (dU, dW, dV), num):
        assert_numeric_close(g, n, name=f"d{name}", f_scale=L)


# ---------------------------------------------------------------- truncated BPTT

@pytest.mark.parametrize("T, D, H, K", SHAPES)
@pytest.mark.parametrize("k", [0, 1, 2])
@pytest.mark.parametrize("seed", [0, 1])
def test_bptt_truncated(T, D, H, K, k, seed):
    x, y, U, W, V = make(seed, T, D, H, K)
    got = bptt(x, y, U, W, V, truncate=k)
    surrogate = truncated_surrogate(x, y, k, U, W)
    # the surrogate's value is the true loss (truncation only changes the gradient)
    assert float(surrogate(U, W, V)) == pytest.approx(float(oracle_loss(U, W, V, x, y)),
                                                      rel=1e-13)
    for i, name in enumerate("UWV"):
        assert_autograd_close(got[i], grad(surrogate, i)(U, W, V), name=f"d{name} (truncate={k})")

    # numeric: central differences of the same surrogate (its constants stay frozen)
    for name, g, n in zip("UWV", got, numeric_gradients(surrogate, [U, W, V])):
        assert_numeric_close(g, n, name=f"d{name} (truncate={k})", f_scale=surrogate(U, W, V))


@pytest.mark.parametrize("T, D, H, K", SHAPES)
def test_bptt_truncate_at_least_T_equals_full(T, D, H, K):
    x, y, U, W, V = make(2, T, D, H, K)
    full = bptt(x, y, U, W, V)
    oracle = [grad(oracle_loss, i)(U, W, V, x, y) for i in range(3)]
    for k in (T - 1, T, T + 3, 10 * T):
        got = bptt(x, y, U, W, V, truncate=k)
        for name, g, f, o in zip("UWV", got, full, oracle):
            np.testing.assert_array_equal(g, f, err_msg=f"d{name} truncate={k} vs None")
            assert_autograd_close(g, o, name=f"d{name} (truncate={k})")


def test_truncation_changes_gradient():
    # Guard that the truncated checks are not vacuous: with T > k + 1 the truncated dW and
    # dU differ from the full ones (and from each other), while dV never depends on k.
    x, y, U, W, V = make(5, 6, 3, 4, 3)
    full = bptt(x, y, U, W, V)
    prev = None
    for k in (0, 1, 2):
        got = bptt(x, y, U, W, V, truncate=k)
        assert rel_error(got[1], full[1]) > 1e-4 and rel_error(got[0], full[0]) > 1e-4
        np.testing.assert_allclose(got[2], full[2], rtol=1e-13, atol=0)
        if prev is not None:
            assert rel_error(got[1], prev[1]) > 1e-4
        prev = got
    # truncate=0: W's gradient comes only from s_{t−1} at each step t (one term per step)
    s, y_hat = rnn_forward(x, U, W, V)
    d_o = y_hat.copy()
    d_o[np.arange(6), y] -= 1.0
    deltas = (d_o @ V) * (1.0 - s ** 2)
    s_prev = np.vstack([np.zeros((1, 4)), s[:-1]])
    np.testing.assert_allclose(bptt(x, y, U, W, V, truncate=0)[1], deltas.T @ s_prev,
                               rtol=1e-12, atol=1e-15)
