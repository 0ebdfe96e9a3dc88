# Mistake: sums the weight gradients over the batch and never divides by N (the gradient of
# the summed loss, N times too large).

# %% [todo] output_gradient
def output_gradient(y, t):
    return 2 * (y - t)

# %% [todo] backward_gradient
def backward_gradient(X, S, grad_out, wRec):
    grads = [np.asarray(grad_out, dtype=float)]
    for _ in range(X.shape[1]):
        grads.append(grads[-1] * wRec)
    grad_over_time = np.stack(grads[::-1], axis=1)
    wx_grad = np.sum(grad_over_time[:, 1:] * X)
    wRec_grad = np.sum(grad_over_time[:, 1:] * S[:, :-1])
    return (wx_grad, wRec_grad), grad_over_time
