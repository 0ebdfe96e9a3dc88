# Partially done: the sigmoid and the neuron are finished, staged_forward too, but
# staged_backward and matmul_backward are still the untouched stubs.

# %% [todo] sigmoid
def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    ez = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + ez), ez / (1 + ez))

# %% [todo] sigmoid_backward
def sigmoid_backward(dout, out):
    return dout * out * (1 - out)

# %% [todo] neuron_forward
def neuron_forward(w, x):
    w = np.asarray(w, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    activation = sigmoid(np.dot(w[:-1], x) + w[-1])
    return float(activation), (w, x, activation)

# %% [todo] neuron_backward
def neuron_backward(dout, cache):
    w, x, activation = cache
    delta = sigmoid_backward(dout, activation)
    return delta * np.append(x, 1.0), delta * w[:-1]

# %% [todo] staged_forward
def staged_forward(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    a = sigmoid(y)
    b = x + a
    c = sigmoid(x)
    d = (x + y) ** 2
    e = c + d
    return b / e, (x, y, a, b, c, e)
