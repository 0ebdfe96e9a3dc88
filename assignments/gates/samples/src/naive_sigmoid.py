# Mistake: the textbook sigmoid 1 / (1 + exp(−x)), which overflows (RuntimeWarning) for large
# negative x. Everything else is correct.

# %% [todo] sigmoid
def sigmoid(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))

# %% [todo] sigmoid_backward
def sigmoid_backward(dout, out):
    return dout * out * (1 - out)

# %% [todo] neuron_forward
def neuron_forward(w, x):
    z = sum(wi * xi for wi, xi in zip(w[:-1], x)) + w[-1]
    f = float(sigmoid(z))
    return f, (np.asarray(w, float), np.asarray(x, float), f)

# %% [todo] neuron_backward
def neuron_backward(dout, cache):
    w, x, f = cache
    ddot = (1 - f) * f * dout
    dw = np.append(x, 1) * ddot
    dx = w[:-1] * ddot
    return dw, dx

# %% [todo] staged_forward
def staged_forward(x, y):
    sigy = sigmoid(y)
    num = x + sigy
    sigx = sigmoid(x)
    xpy = x + y
    xpysqr = xpy ** 2
    den = sigx + xpysqr
    invden = 1.0 / den
    return num * invden, (x, y, sigy, num, sigx, xpy, den, invden)

# %% [todo] staged_backward
def staged_backward(dout, cache):
    x, y, sigy, num, sigx, xpy, den, invden = cache
    dnum = invden * dout
    dinvden = num * dout
    dden = (-1.0 / den ** 2) * dinvden
    dxpy = 2 * xpy * dden
    dx = dxpy + (1 - sigx) * sigx * dden + dnum
    dy = dxpy + (1 - sigy) * sigy * dnum
    return dx, dy

# %% [todo] matmul_backward
def matmul_backward(dD, W, X):
    return np.matmul(dD, X.T), np.matmul(W.T, dD)
