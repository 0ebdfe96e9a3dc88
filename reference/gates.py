"""Reference gates: the local gradients of cs231n's "Backpropagation, Intuitions".

Every forward keeps what its backward needs in a cache, and every backward multiplies the
upstream gradient `dout` by the local gradient of its gate (the chain rule, one gate at a time).
All arithmetic is float64.
"""
import numpy as np


def sigmoid(x):
    """σ(x) = 1 / (1 + e^(−x)), element-wise, without overflow for any finite x.

    For x ≥ 0 we use 1 / (1 + e^(−x)); for x < 0 the equal form e^x / (1 + e^x), so the
    exponent is never positive and never overflows (x = ±1e4 gives 1.0 and 0.0, no warning).
    x: scalar or array of any shape (float32, float64 or integer). Returns float64.
    """
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(-np.abs(x))  # in (0, 1]: no overflow
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def sigmoid_backward(dout, out):
    """Gradient through σ given its output: dσ/dx = σ(x)(1 − σ(x)), so dx = dout·out·(1 − out).

    Using the forward's output instead of x is the point: the local gradient needs no exp.
    dout, out: same shape. Returns dx of that shape.
    """
    out = np.asarray(out, dtype=np.float64)
    return np.asarray(dout, dtype=np.float64) * out * (1.0 - out)


def neuron_forward(w, x):
    """A 2-D-style neuron f = σ(w[:-1]·x + w[-1]) (the last weight is the bias).

    w: (D + 1,), x: (D,). Returns (f, cache) with f a float.
    """
    w = np.asarray(w, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    f = sigmoid(np.dot(w[:-1], x) + w[-1])
    return float(f), (w, x, f)


def neuron_backward(dout, cache):
    """Backward of neuron_forward: with dz = dout·f(1 − f), dw = dz·[x, 1] and dx = dz·w[:-1].

    Returns (dw, dx) of shapes (D + 1,) and (D,).
    """
    w, x, f = cache
    dz = sigmoid_backward(dout, f)  # the sigmoid gate
    dw = dz * np.append(x, 1.0)     # multiply gate: each weight's gradient is its input
    dx = dz * w[:-1]
    return dw, dx


def staged_forward(x, y):
    """f = (x + σ(y)) / (σ(x) + (x + y)²), element-wise, computed in small stages.

    x, y: same shape (or scalars). Returns (f, cache); the cache holds every stage so the
    backward can walk them in reverse.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    sigy = sigmoid(y)          # numerator, stage 1
    num = x + sigy             # numerator
    sigx = sigmoid(x)          # denominator, stage 1
    xpy = x + y
    xpysqr = xpy ** 2
    den = sigx + xpysqr        # denominator
    invden = 1.0 / den
    f = num * invden
    return f, (x, y, sigy, num, sigx, xpy, xpysqr, den, invden)


def staged_backward(dout, cache):
    """Backward of staged_forward, one stage at a time in reverse; gradients that reach a
    variable along two paths add up (x feeds num, sigx and xpy).

    Returns (dx, dy), each the shape of x.
    """
    x, y, sigy, num, sigx, xpy, xpysqr, den, invden = cache
    dout = np.asarray(dout, dtype=np.float64)
    # f = num * invden  (multiply gate)
    dnum = invden * dout
    dinvden = num * dout
    # invden = 1 / den
    dden = (-1.0 / den ** 2) * dinvden
    # den = sigx + xpysqr  (add gate)
    dsigx = dden
    dxpysqr = dden
    # xpysqr = xpy ** 2
    dxpy = 2.0 * xpy * dxpysqr
    # xpy = x + y
    dx = dxpy
    dy = dxpy.copy()
    # sigx = σ(x)
    dx = dx + sigmoid_backward(dsigx, sigx)
    # num = x + sigy
    dx = dx + dnum
    dsigy = dnum
    # sigy = σ(y)
    dy = dy + sigmoid_backward(dsigy, sigy)
    return dx, dy


def matmul_backward(dD, W, X):
    """Gradients of D = W·X: dW = dD·Xᵀ and dX = Wᵀ·dD (the shapes leave no other choice).

    dD: (N, M), W: (N, K), X: (K, M). Returns (dW, dX) of shapes (N, K) and (K, M).
    """
    dD = np.asarray(dD, dtype=np.float64)
    return dD @ np.asarray(X, dtype=np.float64).T, np.asarray(W, dtype=np.float64).T @ dD
