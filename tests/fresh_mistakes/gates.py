"""Fresh mistakes for the gates assignment (sigmoid, a neuron, a staged expression, D = W·X)."""
from tests.fresh_mistakes import Mistake, Solution, edit

IMPORTS = "import numpy as np\n"

# Stage by stage, tuple caches, `@`.
PLAIN = IMPORTS + '''
def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, z) / (1.0 + z)


def sigmoid_backward(dout, out):
    out = np.asarray(out, dtype=np.float64)
    return np.asarray(dout, dtype=np.float64) * out * (1.0 - out)


def neuron_forward(w, x):
    w = np.asarray(w, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    z = w[:-1] @ x + w[-1]
    f = float(sigmoid(z))
    return f, (w, x, f)


def neuron_backward(dout, cache):
    w, x, f = cache
    dz = dout * f * (1 - f)
    dw = dz * np.concatenate([x, [1.0]])
    dx = dz * w[:-1]
    return dw, dx


def staged_forward(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    sy = sigmoid(y)
    n = x + sy
    sx = sigmoid(x)
    q = x + y
    r = q * q
    d = sx + r
    v = 1.0 / d
    f = n * v
    return f, (x, y, sy, n, sx, q, d, v)


def staged_backward(dout, cache):
    x, y, sy, n, sx, q, d, v = cache
    df = np.asarray(dout, dtype=np.float64)
    dn = v * df
    dv = n * df
    dd = -dv / d ** 2
    dsx = dd
    dr = dd
    dq = 2 * q * dr
    dx = dq + sx * (1 - sx) * dsx + dn
    dy = dq + sy * (1 - sy) * dn
    return dx, dy


def matmul_backward(dD, W, X):
    dD = np.asarray(dD, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    dW = dD @ X.T
    dX = W.T @ dD
    return dW, dX
'''

# log-sum-exp sigmoid, dict cache, np.dot, the quotient rule in one go.
CLOSED_FORM = IMPORTS + '''
def sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=np.float64)))


def sigmoid_backward(dout, out):
    s = np.array(out, dtype=float)
    return np.multiply(dout, s - s * s, dtype=float)


def neuron_forward(w, x):
    w = np.array(w, dtype=float)
    x = np.array(x, dtype=float)
    out = sigmoid(np.dot(w, np.append(x, 1.0)))
    return float(out), {"w": w, "x": x, "out": float(out)}


def neuron_backward(dout, cache):
    local = cache["out"] * (1.0 - cache["out"]) * dout
    grad_w = local * np.append(cache["x"], 1.0)
    grad_x = local * cache["w"][:len(cache["x"])]
    return grad_w, grad_x


def staged_forward(x, y):
    x, y = np.array(x, dtype=float), np.array(y, dtype=float)
    top = x + sigmoid(y)
    bottom = sigmoid(x) + (x + y) ** 2
    return top / bottom, {"x": x, "y": y, "top": top, "bottom": bottom}


def staged_backward(dout, cache):
    x, y, top, bottom = cache["x"], cache["y"], cache["top"], cache["bottom"]
    sx, sy = sigmoid(x), sigmoid(y)
    dtop_dx, dtop_dy = 1.0, sy * (1 - sy)
    dbot_dx = sx * (1 - sx) + 2 * (x + y)
    dbot_dy = 2 * (x + y)
    dx = dout * (dtop_dx * bottom - top * dbot_dx) / bottom ** 2
    dy = dout * (dtop_dy * bottom - top * dbot_dy) / bottom ** 2
    return dx, dy


def matmul_backward(dD, W, X):
    dD, W, X = (np.array(a, dtype=float) for a in (dD, W, X))
    return np.dot(dD, X.T), np.dot(W.T, dD)
'''

# Boolean masks, one helper per gate, element loops, einsum.
HELPERS = IMPORTS + '''
def sigmoid(x):
    arr = np.array(x, dtype=np.float64, ndmin=1)
    res = np.zeros_like(arr)
    big = arr >= 0
    res[big] = 1.0 / (1.0 + np.exp(-arr[big]))
    small = np.exp(arr[~big])
    res[~big] = small / (1.0 + small)
    return res.reshape(np.shape(x))


def sigmoid_backward(dout, out):
    return np.asarray(dout, dtype=np.float64) * (np.asarray(out, dtype=np.float64)
                                                 * (1 - np.asarray(out, dtype=np.float64)))


def neuron_forward(w, x):
    total = float(w[-1])
    for wi, xi in zip(w[:-1], x):
        total += float(wi) * float(xi)
    f = 1.0 / (1.0 + np.exp(-total)) if total >= 0 else np.exp(total) / (1.0 + np.exp(total))
    return float(f), [list(map(float, w)), list(map(float, x)), float(f)]


def neuron_backward(dout, cache):
    w, x, f = cache
    dz = sigmoid_backward(dout, f)
    dw = np.array([dz * xi for xi in x] + [dz])
    dx = np.array([dz * wi for wi in w[:-1]])
    return dw, dx


def add_back(g):
    return g, g


def mul_back(g, a, b):
    return g * b, g * a


def staged_forward(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    s_y, s_x = sigmoid(y), sigmoid(x)
    numer = x + s_y
    xy = x + y
    denom = s_x + xy ** 2
    inv = 1.0 / denom
    return numer * inv, (x, y, s_x, s_y, numer, xy, denom, inv)


def staged_backward(dout, cache):
    x, y, s_x, s_y, numer, xy, denom, inv = cache
    d_numer, d_inv = mul_back(np.asarray(dout, dtype=np.float64), numer, inv)
    d_denom = d_inv * (-(inv ** 2))
    d_sx, d_sq = add_back(d_denom)
    d_xy = d_sq * 2 * xy
    dx, dy = add_back(d_xy)
    dx = dx + sigmoid_backward(d_sx, s_x)
    dx_num, d_sy = add_back(d_numer)
    dx = dx + dx_num
    dy = dy + sigmoid_backward(d_sy, s_y)
    return dx, dy


def matmul_backward(dD, W, X):
    dD, W, X = (np.asarray(a, dtype=np.float64) for a in (dD, W, X))
    return np.einsum("nm,km->nk", dD, X), np.einsum("nk,nm->km", W, dD)
'''

CORRECT = [Solution("plain", PLAIN), Solution("closed-form", CLOSED_FORM),
           Solution("helpers", HELPERS)]

MISTAKES = [
    Mistake("naive-sigmoid", edit(PLAIN, '''    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, z) / (1.0 + z)''', "    return 1.0 / (1.0 + np.exp(-x))"),
            "sigmoid", "σ written as 1/(1 + e^(−x)) for every x: e^(−x) overflows for large "
                       "negative inputs"),
    Mistake("sigmoid-of-output", edit(PLAIN, '''    out = np.asarray(out, dtype=np.float64)
    return''', '''    out = sigmoid(out)
    return'''),
            "sigmoid_backward", "passes the gate output through sigmoid again: σ(σ(x))(1 − σ(σ(x)))"),
    Mistake("no-upstream", edit(CLOSED_FORM, "np.multiply(dout, s - s * s, dtype=float)",
                                "s - s * s"),
            "sigmoid_backward", "returns the local gradient σ(1 − σ) without multiplying by dout"),
    Mistake("tanh-derivative", edit(HELPERS, '''(np.asarray(out, dtype=np.float64)
                                                 * (1 - np.asarray(out, dtype=np.float64)))''',
                                    "(1 - np.asarray(out, dtype=np.float64) ** 2)"),
            "sigmoid_backward", "uses tanh's derivative 1 − out² for the sigmoid"),
    Mistake("bias-first", edit(PLAIN, "z = w[:-1] @ x + w[-1]", "z = w[0] + w[1:] @ x"),
            "neuron_forward", "takes the bias from the first weight instead of the last"),
    Mistake("no-bias", edit(CLOSED_FORM, "np.dot(w, np.append(x, 1.0))", "np.dot(w[:-1], x)"),
            "neuron_forward", "leaves the bias out of z"),
    Mistake("dx-times-x", edit(PLAIN, "dx = dz * w[:-1]", "dx = dz * x"),
            "neuron_backward", "gives each input its own value times dz instead of its weight"),
    Mistake("no-sigmoid-local", edit(PLAIN, "dz = dout * f * (1 - f)", "dz = dout"),
            "neuron_backward", "forgets the sigmoid's local gradient f(1 − f): dz = dout"),
    Mistake("bias-grad-zero", edit(PLAIN, "dw = dz * np.concatenate([x, [1.0]])", '''dw = np.zeros_like(w)
    dw[:-1] = dz * x'''),
            "neuron_backward", "leaves the bias's gradient at zero (its input is 1, not 0)"),
    Mistake("expanded-square", edit(CLOSED_FORM, "sigmoid(x) + (x + y) ** 2",
                                    "sigmoid(x) + x ** 2 + y ** 2"),
            "staged_forward", "writes (x + y)² as x² + y²"),
    Mistake("overwrite-dx", edit(HELPERS, "dx = dx + sigmoid_backward(d_sx, s_x)",
                                 "dx = sigmoid_backward(d_sx, s_x)"),
            "staged_backward", "assigns x's gradient through σ(x) where it should add: the path "
                               "through (x + y)² is dropped"),
    Mistake("reciprocal-sign", edit(PLAIN, "dd = -dv / d ** 2", "dd = dv / d ** 2"),
            "staged_backward", "the derivative of 1/d taken as +1/d² (sign lost)"),
    Mistake("square-no-q", edit(PLAIN, "dq = 2 * q * dr", "dq = 2 * dr"),
            "staged_backward", "the derivative of q² written as 2 instead of 2q"),
    Mistake("sigma-wrong-cache", edit(PLAIN, "dx = dq + sx * (1 - sx) * dsx + dn",
                                      "dx = dq + sy * (1 - sy) * dsx + dn"),
            "staged_backward", "x's path through σ(x) uses σ(y)(1 − σ(y)) from the cache"),
    Mistake("dy-no-sigmoid-path", edit(PLAIN, "dy = dq + sy * (1 - sy) * dn", "dy = dq"),
            "staged_backward", "forgets y's path through the numerator x + σ(y)"),
    Mistake("blog-swap", edit(PLAIN, "return dW, dX", "return dX, dW"),
            "matmul_backward", "returns (dX, dW) in the wrong order"),
    Mistake("missing-transpose", edit(CLOSED_FORM, "np.dot(dD, X.T)", "np.dot(dD, X)"),
            "matmul_backward", "dW = dD·X without the transpose of X"),
]
