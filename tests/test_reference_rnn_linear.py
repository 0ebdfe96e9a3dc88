"""Tests of reference/rnn_linear.py against central differences and an autograd oracle.

The oracle forward is the closed form S_k = wx·Σ_{j≤k} X_j·wRec^(k−j) (not the reference's
recurrence), written in autograd.numpy.
"""
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import elementwise_grad, grad

from reference.rnn_linear import (backward_gradient, forward_states, loss, output_gradient,
                                  update_state)
from tests.gradients import (assert_autograd_close, assert_numeric_close, assert_unchanged,
                             numeric_gradient, numeric_gradients, snapshot)

# (n_samples, seq_len, wx, wRec): batch 1, sequence length 1, |wRec| > 1, negative, zero.
CASES = [
    (1, 1, 0.7, 1.3),
    (1, 5, -0.4, 0.9),
    (4, 1, 1.2, -0.5),
    (3, 6, 0.8, 1.1),
    (5, 10, -1.5, -0.95),
    (2, 4, 0.3, 0.0),
    (6, 3, 2.0, 1.0),
]


def make(seed, n, T):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T))
    t = rng.normal(size=n)
    return X, t


def oracle_states(X, wx, wRec, eps=None, at=None):
    """Closed-form states [S_0 … S_T] (list of (n,) arrays); optionally adds eps to S_at and
    lets the perturbation propagate: S_k += eps·wRec^(k−at) for k ≥ at."""
    n, T = X.shape
    states = []
    for k in range(T + 1):
        if k == 0:
            s = anp.zeros(n)
        else:
            powers = anp.array([wRec ** (k - j) for j in range(1, k + 1)])
            s = wx * anp.dot(X[:, :k], powers)
        if eps is not None and k >= at:
            s = s + eps * wRec ** (k - at)
        states.append(s)
    return states


def oracle_loss(wx, wRec, X, t):
    y = oracle_states(X, wx, wRec)[-1]
    return anp.mean((t - y) ** 2)


# ---------------------------------------------------------------- forward, loss, output

@pytest.mark.parametrize("n, T, wx, wRec", CASES)
def test_forward_states(n, T, wx, wRec):
    X, _ = make(0, n, T)
    before = snapshot(X)
    S = forward_states(X, wx, wRec)
    assert_unchanged(before, X, "X")
    assert S.shape == (n, T + 1)
    assert np.all(S[:, 0] == 0.0)
    expected = np.stack(oracle_states(X, wx, wRec), axis=1)
    np.testing.assert_allclose(S, expected, rtol=1e-12, atol=1e-12)
    # and the single step agrees with the stated recurrence
    for k in range(T):
        np.testing.assert_allclose(update_state(X[:, k], S[:, k], wx, wRec), S[:, k + 1],
                                   rtol=1e-15, atol=0)


def test_forward_states_small_example():
    # X = [[1, 2]], wx = 1, wRec = 2 → S = [0, 1, 1·2 + 2] = [0, 1, 4]
    np.testing.assert_array_equal(forward_states(np.array([[1.0, 2.0]]), 1.0, 2.0),
                                  [[0.0, 1.0, 4.0]])


def test_loss_and_output_gradient():
    y = np.array([1.0, 2.0, -1.0])
    t = np.array([0.0, 0.5, 1.0])
    assert loss(y, t) == pytest.approx((1.0 + 2.25 + 4.0) / 3, rel=1e-15)
    np.testing.assert_array_equal(output_gradient(y, t), [2.0, 3.0, -4.0])


@pytest.mark.parametrize("n", [1, 2, 7])
def test_output_gradient_is_per_sample_derivative(n):
    rng = np.random.default_rng(n)
    y, t = rng.normal(size=n), rng.normal(size=n)
    g = elementwise_grad(lambda y_: (t - y_) ** 2)(y)
    assert_autograd_close(output_gradient(y, t), g, name="output_gradient")
    # the mean's 1/N is not in output_gradient, but the loss's gradient has it
    assert_autograd_close(output_gradient(y, t) / n, grad(lambda y_: anp.mean((t - y_) ** 2))(y),
                          name="∂loss/∂y · N")


# ---------------------------------------------------------------- backward_gradient

@pytest.mark.parametrize("n, T, wx, wRec", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_weight_gradients_exact(n, T, wx, wRec, seed):
    X, t = make(seed, n, T)
    S = forward_states(X, wx, wRec)
    g_out = output_gradient(S[:, -1], t)
    before = snapshot((X, S, g_out))
    (wx_grad, wRec_grad), _ = backward_gradient(X, S, g_out, wRec)
    assert_unchanged(before, (X, S, g_out), "backward_gradient inputs")
    analytic = np.array([wx_grad, wRec_grad], dtype=np.float64)

    oracle = np.array([grad(oracle_loss, 0)(wx, wRec, X, t),
                       grad(oracle_loss, 1)(wx, wRec, X, t)])
    assert_autograd_close(analytic, oracle, name="(wx_grad, wRec_grad)")

    def ref_loss(p):
        return loss(forward_states(X, p[0], p[1])[:, -1], t)
    num = numeric_gradient(ref_loss, np.array([wx, wRec]))
    assert_numeric_close(analytic, num, name="(wx_grad, wRec_grad)")


@pytest.mark.parametrize("n, T, wx, wRec", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_grad_over_time(n, T, wx, wRec, seed):
    X, t = make(seed, n, T)
    S = forward_states(X, wx, wRec)
    g_out = output_gradient(S[:, -1], t)
    _, got = backward_gradient(X, S, g_out, wRec)
    assert got.shape == (n, T + 1)
    np.testing.assert_array_equal(got[:, -1], g_out)

    for k in range(T + 1):
        # ξ(eps) = Σ_i (t_i − y_i)² with eps added to S_k; samples are independent, so
        # ∂ξ/∂eps_i is the per-sample derivative ∂ξ_i/∂S_k.
        def xi(eps, k=k):
            y = oracle_states(X, wx, wRec, eps=eps, at=k)[-1]
            return anp.sum((t - y) ** 2)
        oracle = grad(xi)(np.zeros(n))
        assert_autograd_close(got[:, k], oracle, name=f"grad_over_time[:, {k}]")

        def xi_ref(eps, k=k):  # numeric: perturb S_k and rerun the reference recurrence
            s = S[:, k] + eps
            for j in range(k, T):
                s = update_state(X[:, j], s, wx, wRec)
            return np.sum((t - s) ** 2)
        num = numeric_gradient(xi_ref, np.zeros(n))
        assert_numeric_close(got[:, k], num, name=f"grad_over_time[:, {k}]")


def test_backward_gradient_small_example():
    # X = [[1, 2]], wx = 1, wRec = 2 → S = [0, 1, 4]; t = 3 → grad_out = 2, loss = 1.
    # grad_over_time = [2·4, 2·2, 2] = [8, 4, 2];
    # wx_grad = 4·X_1 + 2·X_2 = 8, wRec_grad = 4·S_0 + 2·S_1 = 2.
    X = np.array([[1.0, 2.0]])
    S = forward_states(X, 1.0, 2.0)
    (gwx, gwr), got = backward_gradient(X, S, output_gradient(S[:, -1], [3.0]), 2.0)
    np.testing.assert_array_equal(got, [[8.0, 4.0, 2.0]])
    assert (gwx, gwr) == (8.0, 2.0)
