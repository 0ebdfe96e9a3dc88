# Correct: compact, vectorized NumPy; each backward reuses sigmoid_backward.

# %% [todo] sigmoid
def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))          # never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

# %% [todo] sigmoid_backward
def sigmoid_backward(dout, out):
    return dout * out * (1 - out)

# %% [todo] neuron_forward
def neuron_forward(w, x):
    w = np.asarray(w, dtype=float)
    x = np.asarray(x, dtype=float)
    z = w[:-1] @ x + w[-1]
    f = float(sigmoid(z))
    return f, (w, x, f)

# %% [todo] neuron_backward
def neuron_backward(dout, cache):
    w, x, f = cache
    dz = sigmoid_backward(dout, f)
    return dz * np.concatenate([x, [1.0]]), dz * w[:-1]

# %% [todo] staged_forward
def staged_forward(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    sy = sigmoid(y)
    num = x + sy
    sx = sigmoid(x)
    q = x + y
    den = sx + q ** 2
    inv = 1 / den
    return num * inv, (x, y, sy, sx, q, num, den, inv)

# %% [todo] staged_backward
def staged_backward(dout, cache):
    x, y, sy, sx, q, num, den, inv = cache
    dnum = dout * inv
    dinv = dout * num
    dden = dinv * (-1 / den ** 2)
    dsx, dq = dden, dden * 2 * q
    dx = dq + sigmoid_backward(dsx, sx) + dnum
    dy = dq + sigmoid_backward(dnum, sy)
    return dx, dy

# %% [todo] matmul_backward
def matmul_backward(dD, W, X):
    dW = dD @ X.T   # (N, M) @ (M, K) -> (N, K), like W
    dX = W.T @ dD   # (K, N) @ (N, M) -> (K, M), like X
    return dW, dX
