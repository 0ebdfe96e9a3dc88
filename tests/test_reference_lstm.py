"""Tests of reference/lstm.py against central differences and an autograd oracle.

The oracle forward is written in autograd.numpy from the module docstring (gate order forget,
input, output, block input; a_t = [x_t, h_{t−1}]·W + b, input first; h_0 = c_0 = 0) and never
calls the reference.
"""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from reference.lstm import GATES, lstm_backward, lstm_forward
from tests.gradients import (assert_autograd_close, assert_numeric_close, assert_unchanged,
                             numeric_gradients, rel_error, snapshot)

# (N, T, D, H): batch 1, sequence length 1, hidden size 1, D == H (so a swapped concat
# order would still be shape-compatible and must be caught by values).
SHAPES = [(1, 1, 1, 1), (1, 4, 3, 2), (3, 1, 2, 3), (2, 3, 1, 1), (4, 5, 3, 3), (2, 6, 2, 4)]


def make(seed, N, T, D, H, scale=0.5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, T, D))
    W = rng.normal(0, scale, size=(D + H, 4 * H))
    b = rng.normal(0, scale, size=4 * H)
    dout = rng.normal(size=(N, T, H))
    return X, W, b, dout


def oracle_sigmoid(z):
    return 0.5 * (1.0 + anp.tanh(0.5 * z))


def oracle_lstm(X, W, b, use_state=False, order=(0, 1, 2, 3)):
    """Returns out (N, T, H). `order` gives the column block of (forget, input, output, block
    input); only the sensitivity test uses anything but the documented (0, 1, 2, 3)."""
    N, T, D = X.shape
    H = W.shape[1] // 4
    h = anp.zeros((N, H))
    c = anp.zeros((N, H))
    outs = []
    for t in range(T):
        a = anp.dot(X[:, t, :], W[:D]) + anp.dot(h, W[D:]) + b  # [x, h]·W without concat
        blk = [a[:, j * H:(j + 1) * H] for j in order]
        f, i, o = oracle_sigmoid(blk[0]), oracle_sigmoid(blk[1]), oracle_sigmoid(blk[2])
        g = anp.tanh(blk[3])
        c = f * c + i * g
        h = o * anp.tanh(c)
        outs.append(c if use_state else h)
    return anp.stack(outs, axis=1)


@pytest.mark.parametrize("use_state", [False, True])
@pytest.mark.parametrize("N, T, D, H", SHAPES)
def test_lstm_forward(N, T, D, H, use_state):
    X, W, b, _ = make(0, N, T, D, H)
    before = snapshot((X, W, b))
    out, _ = lstm_forward(X, W, b, use_state=use_state)
    assert_unchanged(before, (X, W, b), "lstm_forward inputs")
    assert out.shape == (N, T, H)
    np.testing.assert_allclose(out, oracle_lstm(X, W, b, use_state), rtol=1e-13, atol=1e-15)
    if not use_state:
        assert np.all(np.abs(out) < 1.0)  # h = o·tanh(c)


@pytest.mark.parametrize("use_state", [False, True])
@pytest.mark.parametrize("N, T, D, H", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_lstm_backward(N, T, D, H, use_state, seed):
    X, W, b, dout = make(seed, N, T, D, H)
    out, cache = lstm_forward(X, W, b, use_state=use_state)
    before = snapshot((dout, cache, X, W, b))
    dX, dW, db = lstm_backward(dout, cache)
    assert_unchanged(before, (dout, cache, X, W, b), "lstm_backward inputs/cache")
    assert dX.shape == X.shape and dW.shape == W.shape and db.shape == b.shape

    def loss(X_, W_, b_):
        return anp.sum(dout * oracle_lstm(X_, W_, b_, use_state))
    for i, (name, g) in enumerate(zip(("dX", "dW", "db"), (dX, dW, db))):
        assert_autograd_close(g, grad(loss, i)(X, W, b), name=f"{name} use_state={use_state}")

    def ref_loss(X_, W_, b_):
        return np.sum(dout * lstm_forward(X_, W_, b_, use_state=use_state)[0])
    f_scale = np.sum(np.abs(dout * out))
    for name, g, n in zip(("dX", "dW", "db"), (dX, dW, db), numeric_gradients(ref_loss, [X, W, b])):
        assert_numeric_close(g, n, name=f"{name} use_state={use_state}", f_scale=f_scale)


@pytest.mark.parametrize("use_state", [False, True])
def test_lstm_backward_single_output(use_state):
    # Gradient of one output entry only: dout is a one-hot at the first step, so everything
    # must flow back through step 0 alone (dX at later steps is exactly 0).
    X, W, b, _ = make(3, 2, 4, 3, 2)
    dout = np.zeros((2, 4, 2))
    dout[1, 0, 1] = 1.0
    out, cache = lstm_forward(X, W, b, use_state=use_state)
    dX, dW, db = lstm_backward(dout, cache)
    assert np.all(dX[:, 1:] == 0.0) and np.all(dX[0] == 0.0)
    loss = lambda X_, W_, b_: oracle_lstm(X_, W_, b_, use_state)[1, 0, 1]
    for i, g in enumerate((dX, dW, db)):
        assert_autograd_close(g, grad(loss, i)(X, W, b))


def test_gate_order_matters():
    # Guard that the forward comparison is not vacuous: any other gate order gives a
    # different output, and the documented order is forget, input, output, block input.
    assert GATES == ("forget", "input", "output", "block input")
    X, W, b, _ = make(4, 2, 3, 3, 3)
    out, _ = lstm_forward(X, W, b)
    for order in [(1, 0, 2, 3), (0, 2, 1, 3), (3, 1, 2, 0), (2, 1, 0, 3)]:
        assert rel_error(out, oracle_lstm(X, W, b, order=order)) > 1e-3, order
    # and the concatenation is input first: with D == H, swapping the two row blocks of W
    # changes the result
    W_swapped = np.concatenate([W[3:], W[:3]])
    assert rel_error(out, oracle_lstm(X, W_swapped, b)) > 1e-3


def test_lstm_one_step_closed_form():
    # T = 1, h_0 = c_0 = 0: c_1 = σ(a_i)·tanh(a_g), h_1 = σ(a_o)·tanh(c_1), no forget gate.
    X, W, b, _ = make(5, 3, 1, 2, 2)
    a = X[:, 0] @ W[:2] + b
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))
    c1 = sig(a[:, 2:4]) * np.tanh(a[:, 6:8])
    h1 = sig(a[:, 4:6]) * np.tanh(c1)
    np.testing.assert_allclose(lstm_forward(X, W, b)[0][:, 0], h1, rtol=1e-14, atol=0)
    np.testing.assert_allclose(lstm_forward(X, W, b, use_state=True)[0][:, 0], c1,
                               rtol=1e-14, atol=0)
