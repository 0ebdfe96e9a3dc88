# Correct functions, but an unrelated plotting cell the student added at the end has a syntax
# error (an unclosed parenthesis). The graded functions must still be graded.

# %% [todo] output_gradient
def output_gradient(y, t):
    return 2.0 * (np.asarray(y) - np.asarray(t))

# %% [todo] backward_gradient
def backward_gradient(X, S, grad_out, wRec):
    samples, steps = X.shape
    grad_over_time = np.zeros((samples, steps + 1))
    grad_over_time[:, steps] = grad_out
    wx_grad = wRec_grad = 0.0
    for k in range(steps, 0, -1):
        wx_grad += np.mean(grad_over_time[:, k] * X[:, k - 1])
        wRec_grad += np.mean(grad_over_time[:, k] * S[:, k - 1])
        grad_over_time[:, k - 1] = wRec * grad_over_time[:, k]
    return (wx_grad, wRec_grad), grad_over_time

# %% [extra]
import matplotlib.pyplot as plt
losses = []
for w in np.linspace(0.5, 1.5, 21):
    losses.append(loss(forward_states(X, w, 1.0)[:, -1], t)
plt.plot(np.linspace(0.5, 1.5, 21), losses)
plt.xlabel("wx")
