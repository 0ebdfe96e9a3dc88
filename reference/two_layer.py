"""Reference two-layer fully connected network (cs231n assignment 1): affine → ReLU → affine →
softmax, with L2 regularisation.

Every layer is a forward/backward pair: `*_forward(...)` returns `(out, cache)` and
`*_backward(dout, cache)` multiplies the upstream gradient `dout` by the layer's local
gradients. The softmax loss is the mean over the batch of −log p(correct class); the
regularisation term is 0.5·reg·(ΣW1² + ΣW2²), the 0.5 chosen so that its gradient is reg·W.
Biases are not regularised.
"""
import numpy as np


def affine_forward(x, w, b):
    """A fully connected layer: out = x·w + b.

    x: (N, D), w: (D, H), b: (H,). Returns (out, cache): out (N, H), cache = (x, w, b).
    """
    out = x @ w + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Backward of affine_forward: dx = dout·wᵀ, dw = xᵀ·dout, db = Σ_n dout[n].

    dout: (N, H), the upstream gradient; cache: (x, w, b) from affine_forward.
    Returns (dx, dw, db) of shapes (N, D), (D, H), (H,).
    """
    x, w, b = cache
    dx = dout @ w.T
    dw = x.T @ dout
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    """ReLU, element-wise: out = max(0, x).

    x: any shape. Returns (out, cache): out of x's shape, cache = x.
    """
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Backward of relu_forward: the gradient passes where the input was positive, dx = dout·[x > 0].

    dout: the upstream gradient, x's shape; cache: x. Returns dx of x's shape.
    """
    x = cache
    dx = dout * (x > 0)
    return dx


def softmax_loss(scores, y):
    """Softmax cross-entropy, the mean over the batch: L = −(1/N) Σ_n log p[n, y[n]] with
    p[n] = softmax(scores[n]), computed without overflow (scores shifted by their row maximum).

    scores: (N, C); y: (N,) integer labels in [0, C).
    Returns (loss, dscores): loss a float, dscores = (p − onehot(y)) / N of shape (N, C).
    """
    N = scores.shape[0]
    shifted = scores - np.max(scores, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    probs = np.exp(log_probs)
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dscores = dscores / N
    return loss, dscores


def two_layer_loss(X, y, params, reg):
    """Loss and gradients of the net affine → ReLU → affine → softmax with L2 regularisation:
    L = softmax_loss + 0.5·reg·(ΣW1² + ΣW2²).

    X: (N, D); y: (N,) labels in [0, C); params: {"W1": (D, H), "b1": (H,), "W2": (H, C),
    "b2": (C,)}; reg: the regularisation strength.
    Returns (loss, grads): grads holds the gradient of L for each entry of params, same keys
    and shapes (the weights' gradients include reg·W; the biases are not regularised).
    """
    W1, b1 = params["W1"], params["b1"]
    W2, b2 = params["W2"], params["b2"]
    hidden, affine1 = affine_forward(X, W1, b1)
    activated, relu_cache = relu_forward(hidden)
    scores, affine2 = affine_forward(activated, W2, b2)
    data_loss, dscores = softmax_loss(scores, y)
    loss = data_loss + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dactivated, dW2, db2 = affine_backward(dscores, affine2)
    dhidden = relu_backward(dactivated, relu_cache)
    dX, dW1, db1 = affine_backward(dhidden, affine1)
    grads = {}
    for key, grad in (("W1", dW1), ("b1", db1), ("W2", dW2), ("b2", db2)):
        # the weights' regularisation adds d(0.5·reg·W²)/dW = 0.5·reg·2W = reg·W; the biases
        # are not regularised
        grads[key] = grad + (0.5 * reg * 2 * params[key] if key.startswith("W") else 0.0)
    return loss, grads
