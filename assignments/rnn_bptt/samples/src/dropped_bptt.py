# Partially done: the forward pass and the loss are finished, but the student deleted the
# bptt cell altogether (there is no definition of bptt anywhere).

# %% [todo] rnn_forward
def rnn_forward(x, U, W, V):
    s = []
    h = np.zeros(W.shape[0])
    for t in range(len(x)):
        h = np.tanh(np.dot(U, x[t]) + np.dot(W, h))
        s.append(h)
    s = np.array(s)
    return s, np.array([softmax(V @ h_t) for h_t in s])

# %% [todo] rnn_loss
def rnn_loss(y_hat, y):
    return float(-sum(np.log(y_hat[i][y[i]]) for i in range(len(y))))

# %% [drop] bptt
