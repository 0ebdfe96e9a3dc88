# Correct functions, but the notebook is full of IPython magics and shell escapes: a first cell
# the student moved to the top, a `!pip install` line inside a graded cell, and a `%%time`
# cell at the end. None of them may stop the grading (nor may `pip` really run).

# %% [first]
%matplotlib inline
%load_ext autoreload
%autoreload 2
!pip install tqdm

# %% [todo] sigmoid
!pip install tqdm
def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(-np.abs(x))
    return np.where(x < 0, z, 1.0) / (1.0 + z)

# %% [todo] sigmoid_backward
def sigmoid_backward(dout, out):
    return dout * out * (1 - out)

# %% [todo] neuron_forward
def neuron_forward(w, x):
    w = np.asarray(w, dtype=float)
    x = np.asarray(x, dtype=float)
    f = sigmoid(w[:-1].dot(x) + w[-1])
    return float(f), (w, x, float(f))

# %% [todo] neuron_backward
def neuron_backward(dout, cache):
    w, x, f = cache
    dz = sigmoid_backward(dout, f)
    return np.hstack([x, 1.0]) * dz, w[:-1] * dz

# %% [todo] staged_forward
def staged_forward(x, y):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    stages = {}
    stages["sy"] = sigmoid(y)
    stages["num"] = x + stages["sy"]
    stages["sx"] = sigmoid(x)
    stages["xy"] = x + y
    stages["den"] = stages["sx"] + stages["xy"] ** 2
    f = stages["num"] / stages["den"]
    return f, (x, y, stages)

# %% [todo] staged_backward
def staged_backward(dout, cache):
    x, y, st = cache
    dnum = dout / st["den"]
    dden = -dout * st["num"] / st["den"] ** 2
    dxy = 2 * st["xy"] * dden
    dx = dxy.copy()
    dy = dxy.copy()
    dx += sigmoid_backward(dden, st["sx"])
    dx += dnum
    dy += sigmoid_backward(dnum, st["sy"])
    return dx, dy

# %% [todo] matmul_backward
def matmul_backward(dD, W, X):
    return dD @ X.T, W.T @ dD

# %% [extra]
%%time
for _ in range(100):
    sigmoid(np.linspace(-50, 50, 1001))
