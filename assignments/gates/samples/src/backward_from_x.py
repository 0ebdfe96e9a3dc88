# Mistake: sigmoid_backward treats its second argument as the input x and recomputes σ from it.
# The student's own callers consistently pass the pre-activation, so only sigmoid_backward
# itself disagrees with the reference (which is given the output σ(x)).

# %% [todo] sigmoid
def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -x))

# %% [todo] sigmoid_backward
def sigmoid_backward(dout, out):
    s = sigmoid(out)
    return dout * s * (1 - s)

# %% [todo] neuron_forward
def neuron_forward(w, x):
    w, x = np.asarray(w, float), np.asarray(x, float)
    z = np.dot(w[:-1], x) + w[-1]
    return float(sigmoid(z)), (w, x, z)

# %% [todo] neuron_backward
def neuron_backward(dout, cache):
    w, x, z = cache
    dz = sigmoid_backward(dout, z)
    return dz * np.r_[x, 1.0], dz * w[:-1]

# %% [todo] staged_forward
def staged_forward(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    num = x + sigmoid(y)
    den = sigmoid(x) + (x + y) ** 2
    return num / den, (x, y, num, den)

# %% [todo] staged_backward
def staged_backward(dout, cache):
    x, y, num, den = cache
    dnum = dout / den
    dden = -dout * num / den ** 2
    dx = dnum + sigmoid_backward(dden, x) + dden * 2 * (x + y)
    dy = sigmoid_backward(dnum, y) + dden * 2 * (x + y)
    return dx, dy

# %% [todo] matmul_backward
def matmul_backward(dD, W, X):
    return dD @ X.T, W.T @ dD
