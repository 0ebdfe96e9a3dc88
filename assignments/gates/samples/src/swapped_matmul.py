# Mistake: matmul_backward follows a summary that swaps the two formulas (dW = Wᵀ·dD and
# dX = dD·Xᵀ). The shapes come out exchanged. Everything else is correct.

# %% [todo] sigmoid
def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    np.divide(1.0, 1.0 + np.exp(-x, where=x >= 0, out=np.ones_like(x)), out=out, where=x >= 0)
    ex = np.exp(x, where=x < 0, out=np.zeros_like(x))
    np.divide(ex, 1.0 + ex, out=out, where=x < 0)
    return out

# %% [todo] sigmoid_backward
def sigmoid_backward(dout, out):
    return dout * (out - out ** 2)

# %% [todo] neuron_forward
def neuron_forward(w, x):
    w = np.asarray(w, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    z = np.dot(w, np.append(x, 1.0))
    s = sigmoid(z)
    return float(s), (w, x, s)

# %% [todo] neuron_backward
def neuron_backward(dout, cache):
    w, x, s = cache
    dz = dout * s * (1 - s)
    return dz * np.append(x, 1.0), dz * w[:-1]

# %% [todo] staged_forward
def staged_forward(x, y):
    sigy = sigmoid(y)
    num = x + sigy
    sigx = sigmoid(x)
    xpy = x + y
    xpysqr = xpy ** 2
    den = sigx + xpysqr
    invden = 1.0 / den
    f = num * invden
    return f, (x, y, sigy, num, sigx, xpy, xpysqr, den, invden)

# %% [todo] staged_backward
def staged_backward(dout, cache):
    x, y, sigy, num, sigx, xpy, xpysqr, den, invden = cache
    dnum = invden * dout
    dinvden = num * dout
    dden = (-1.0 / den ** 2) * dinvden
    dsigx = dden
    dxpysqr = dden
    dxpy = 2 * xpy * dxpysqr
    dx = dxpy
    dy = dxpy
    dx = dx + (1 - sigx) * sigx * dsigx
    dx = dx + dnum
    dsigy = dnum
    dy = dy + (1 - sigy) * sigy * dsigy
    return dx, dy

# %% [todo] matmul_backward
def matmul_backward(dD, W, X):
    dW = W.T.dot(dD)
    dX = dD.dot(X.T)
    return dW, dX
