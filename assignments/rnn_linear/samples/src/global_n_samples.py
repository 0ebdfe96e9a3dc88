# Mistake: divides by the notebook's global n_samples (20) instead of X.shape[0]. Right on the
# notebook's own data set, wrong for any other batch size.

# %% [todo] output_gradient
def output_gradient(y, t):
    return 2. * (y - t)

# %% [todo] backward_gradient
def backward_gradient(X, S, grad_out, wRec):
    # dL/dS for every state, filled from the last one backwards
    dS = np.zeros(S.shape)
    dS[:, -1] = grad_out
    gx, grec = 0.0, 0.0
    for step in range(X.shape[1], 0, -1):
        gx = gx + dS[:, step] @ X[:, step - 1]
        grec = grec + dS[:, step] @ S[:, step - 1]
        dS[:, step - 1] = dS[:, step] * wRec
    # average over the data set
    return (gx / n_samples, grec / n_samples), dS
