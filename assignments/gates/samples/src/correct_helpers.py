# Correct: a student who wrote one tiny helper per gate and chains them, with a masked sigmoid
# and explicit loops in the neuron.

# %% [todo] sigmoid
def sigmoid(x):
    arr = np.array(x, dtype=np.float64)
    result = np.empty_like(arr)
    positive = arr >= 0
    result[positive] = 1.0 / (1.0 + np.exp(-arr[positive]))
    exp_neg = np.exp(arr[~positive])
    result[~positive] = exp_neg / (1.0 + exp_neg)
    return result

# %% [todo] sigmoid_backward
def sigmoid_backward(dout, out):
    local = out * (1.0 - out)   # dsigma/dx written with the output
    return np.multiply(dout, local)

# %% [todo] neuron_forward
def neuron_forward(w, x):
    total = w[-1]
    for weight, value in zip(w[:-1], x):
        total += weight * value
    act = sigmoid(total)
    return float(act), {"w": np.array(w, dtype=float), "x": np.array(x, dtype=float), "act": act}

# %% [todo] neuron_backward
def neuron_backward(dout, cache):
    w, x, act = cache["w"], cache["x"], cache["act"]
    grad_z = sigmoid_backward(dout, act)
    grad_w = np.zeros_like(w)
    grad_x = np.zeros_like(x)
    for j in range(len(x)):
        grad_w[j] = grad_z * x[j]
        grad_x[j] = grad_z * w[j]
    grad_w[-1] = grad_z          # the bias sees a constant input of 1
    return grad_w, grad_x

# %% [todo] staged_forward
def add_gate(a, b):
    return a + b


def mul_gate(a, b):
    return a * b


def add_backward(g):
    return g, g


def mul_backward(g, a, b):
    return g * b, g * a


def staged_forward(x, y):
    x = np.array(x, dtype=float)
    y = np.array(y, dtype=float)
    sig_y = sigmoid(y)
    top = add_gate(x, sig_y)
    sig_x = sigmoid(x)
    x_plus_y = add_gate(x, y)
    squared = mul_gate(x_plus_y, x_plus_y)
    bottom = add_gate(sig_x, squared)
    inv_bottom = 1.0 / bottom
    f = mul_gate(top, inv_bottom)
    cache = dict(x=x, y=y, sig_y=sig_y, top=top, sig_x=sig_x,
                 x_plus_y=x_plus_y, bottom=bottom, inv_bottom=inv_bottom)
    return f, cache

# %% [todo] staged_backward
def staged_backward(dout, cache):
    c = cache
    d_top, d_inv = mul_backward(dout, c["top"], c["inv_bottom"])
    d_bottom = -d_inv / c["bottom"] ** 2
    d_sig_x, d_squared = add_backward(d_bottom)
    d_xpy = 2 * c["x_plus_y"] * d_squared
    d_x_1, d_y_1 = add_backward(d_xpy)
    d_x_2 = sigmoid_backward(d_sig_x, c["sig_x"])
    d_x_3, d_sig_y = add_backward(d_top)
    d_y_2 = sigmoid_backward(d_sig_y, c["sig_y"])
    # x reached f along three paths and y along two: add them all
    return d_x_1 + d_x_2 + d_x_3, d_y_1 + d_y_2

# %% [todo] matmul_backward
def matmul_backward(dD, W, X):
    return np.dot(dD, np.transpose(X)), np.dot(np.transpose(W), dD)

# %% [extra]
# my own check of the max gate
a, b = 2.0, 5.0
print("max gate sends the gradient to b:", (0.0, 1.0) if b > a else (1.0, 0.0))
