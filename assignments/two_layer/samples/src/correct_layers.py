# A correct solution: the layers with .dot and masks, the network built from them.

# %% [todo] affine_forward
def affine_forward(x, w, b):
    out = x.dot(w) + b
    return out, (x, w, b)

# %% [todo] affine_backward
def affine_backward(dout, cache):
    x, w, b = cache
    return dout.dot(w.T), x.T.dot(dout), dout.sum(axis=0)

# %% [todo] relu_forward
def relu_forward(x):
    return np.maximum(x, 0), x

# %% [todo] relu_backward
def relu_backward(dout, cache):
    dx = dout.copy()
    dx[cache <= 0] = 0
    return dx

# %% [todo] softmax_loss
def softmax_loss(scores, y):
    N = scores.shape[0]
    z = scores - scores.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(N), y].mean()
    dscores = np.exp(log_p)
    dscores[np.arange(N), y] -= 1
    return loss, dscores / N

# %% [todo] two_layer_loss
def two_layer_loss(X, y, params, reg):
    h, c1 = affine_forward(X, params["W1"], params["b1"])
    a, c2 = relu_forward(h)
    s, c3 = affine_forward(a, params["W2"], params["b2"])
    loss, ds = softmax_loss(s, y)
    loss += 0.5 * reg * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    da, dW2, db2 = affine_backward(ds, c3)
    _, dW1, db1 = affine_backward(relu_backward(da, c2), c1)
    return loss, {"W1": dW1 + reg * params["W1"], "b1": db1,
                  "W2": dW2 + reg * params["W2"], "b2": db2}
