# Mistake: output_gradient returns 2(t − y), the derivative with respect to t instead of y;
# the sign of every gradient flips and training walks uphill. backward_gradient is right.

# %% [todo] output_gradient
def output_gradient(y, t):
    return 2 * (t - y)

# %% [todo] backward_gradient
def backward_gradient(X, S, grad_out, wRec):
    n_batch, steps = X.shape
    g = np.empty((n_batch, steps + 1))
    g[:, steps] = grad_out
    for k in reversed(range(1, steps + 1)):
        g[:, k - 1] = wRec * g[:, k]
    d_wx = (g[:, 1:] * X).sum() / n_batch
    d_wrec = (g[:, 1:] * S[:, :steps]).sum() / n_batch
    return (d_wx, d_wrec), g
