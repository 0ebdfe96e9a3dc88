# Mistake: the 1/N of the mean is applied twice: output_gradient already divides by N, and
# backward_gradient averages over the batch at every step as well. backward_gradient on its
# own is right (given a per-sample grad_out); the composed gradient is N times too small.

# %% [todo] output_gradient
def output_gradient(y, t):
    n = y.shape[0]
    return 2 * (y - t) / n   # mean squared error -> divide by n

# %% [todo] backward_gradient
def backward_gradient(X, S, grad_out, wRec):
    T = X.shape[1]
    grad_states = [None] * (T + 1)
    grad_states[T] = grad_out
    wx_grad, wRec_grad = 0.0, 0.0
    for k in range(T, 0, -1):
        wx_grad += (grad_states[k] * X[:, k - 1]).mean()
        wRec_grad += (grad_states[k] * S[:, k - 1]).mean()
        grad_states[k - 1] = grad_states[k] * wRec
    return (wx_grad, wRec_grad), np.column_stack(grad_states)
