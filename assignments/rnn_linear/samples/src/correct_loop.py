# Correct: the loop over time with np.dot summing over the batch, and the mean taken once at
# the end with N read from the data.

# %% [todo] output_gradient
def output_gradient(y, t):
    return 2. * (y - t)

# %% [todo] backward_gradient
def backward_gradient(X, S, grad_out, wRec):
    N, n = X.shape
    # gradient of each sample's error with respect to each state
    grad_over_time = np.zeros((N, n + 1))
    grad_over_time[:, -1] = grad_out
    wx_grad = 0
    wRec_grad = 0
    for k in range(n, 0, -1):
        wx_grad += np.dot(grad_over_time[:, k], X[:, k - 1])
        wRec_grad += np.dot(grad_over_time[:, k], S[:, k - 1])
        grad_over_time[:, k - 1] = grad_over_time[:, k] * wRec
    return (wx_grad / N, wRec_grad / N), grad_over_time
