# A correct solution: einsum, np.where, a one-hot matrix and a network written without the layer
# functions.

# %% [todo] affine_forward
def affine_forward(x, w, b):
    return np.einsum("nd,dh->nh", x, w) + b, {"x": x, "w": w}

# %% [todo] affine_backward
def affine_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    return np.einsum("nh,dh->nd", dout, w), np.einsum("nd,nh->dh", x, dout), dout.sum(0)

# %% [todo] relu_forward
def relu_forward(x):
    return np.where(x > 0, x, 0.0), x > 0

# %% [todo] relu_backward
def relu_backward(dout, cache):
    return np.where(cache, dout, 0.0)

# %% [todo] softmax_loss
def softmax_loss(scores, y):
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    top = scores.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(scores - top).sum(axis=1)) + top[:, 0]
    onehot = np.eye(scores.shape[1])[y]
    loss = np.mean(log_z - np.sum(onehot * scores, axis=1))
    return loss, (np.exp(scores - log_z[:, None]) - onehot) / n

# %% [todo] two_layer_loss
def two_layer_loss(X, y, params, reg):
    h = X @ params["W1"] + params["b1"]
    a = np.maximum(h, 0)
    loss, ds = softmax_loss(a @ params["W2"] + params["b2"], y)
    loss = loss + reg / 2 * sum(np.sum(params[k] ** 2) for k in ("W1", "W2"))
    dh = (ds @ params["W2"].T) * (h > 0)
    return loss, {"W1": X.T @ dh + reg * params["W1"], "b1": dh.sum(0),
                  "W2": a.T @ ds + reg * params["W2"], "b2": ds.sum(0)}
