"""Self-tests of tests/gradients.py: the checkers used by the reference tests must accept a
correct gradient and reject one that is slightly wrong."""
import numpy as np
import pytest

from tests.gradients import (assert_autograd_close, assert_numeric_close, assert_unchanged,
                             numeric_gradient, numeric_gradients, rel_error, rounding_floor,
                             snapshot)


def f(x):
    return np.sum(np.sin(x) * x ** 2)


def df(x):
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x)


@pytest.mark.parametrize("shape", [(), (1,), (4,), (2, 3)])
def test_numeric_gradient_accuracy_and_no_mutation(shape):
    x = np.random.default_rng(0).normal(size=shape)
    x0 = x.copy()
    g = numeric_gradient(f, x)
    np.testing.assert_array_equal(x, x0)
    assert g.shape == x.shape
    assert rel_error(g, df(x)) < 1e-9


def test_numeric_gradients_multiple_args():
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(2, 3)), rng.normal(size=(3, 2))
    gA, gB = numeric_gradients(lambda A_, B_: np.sum((A_ @ B_) ** 2), [A, B])
    C = A @ B
    assert rel_error(gA, 2 * C @ B.T) < 1e-9
    assert rel_error(gB, 2 * A.T @ C) < 1e-9


def test_rel_error():
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0, -1.0], [1.0, 1.0]) == pytest.approx(1.0)
    assert rel_error(1.0, 1.0 + 1e-6) == pytest.approx(1e-6 / (2 + 1e-6))
    with pytest.raises(AssertionError):
        rel_error(np.zeros(2), np.zeros(3))


def test_numeric_checker_rejects_small_errors():
    x = np.random.default_rng(2).normal(size=5)
    num = numeric_gradient(f, x)
    assert_numeric_close(df(x), num)
    with pytest.raises(AssertionError):
        assert_numeric_close(df(x) * (1 + 1e-6), num)   # 1e-6 relative everywhere
    wrong = df(x).copy()
    wrong[3] += 1e-5                                     # one wrong entry
    with pytest.raises(AssertionError):
        assert_numeric_close(wrong, num)
    with pytest.raises(AssertionError):
        assert_numeric_close(df(x)[:4], num)             # wrong shape
    # the rounding floor only forgives errors of rounding size, not ordinary mistakes
    with pytest.raises(AssertionError):
        assert_numeric_close(wrong, num, f_scale=f(x))
    assert rounding_floor(3.0) < 2e-8  # ≈ 16·ε·3 / 1e-6


def test_autograd_checker_rejects_small_errors():
    g = np.array([1.0, -2.0, 3e-3, 0.0])
    assert_autograd_close(g, g.copy())
    with pytest.raises(AssertionError):
        assert_autograd_close(g * (1 + 1e-9), g)
    bad = g.copy()
    bad[3] = 1e-6
    with pytest.raises(AssertionError):
        assert_autograd_close(bad, g)
    with pytest.raises(AssertionError):
        assert_autograd_close(g[None], g)


def test_assert_unchanged_detects_mutation():
    cache = (np.arange(3.0), (np.ones((2, 2)), 1.5), 4)
    before = snapshot(cache)
    assert_unchanged(before, cache)
    cache[1][0][1, 1] = 2.0
    with pytest.raises(AssertionError):
        assert_unchanged(before, cache)
