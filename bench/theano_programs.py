"""Training steps of two Theano tutorial programs, written once against the Theano API and run in Hypatia
and in PyTensor side by side:

- mlp-penalties: the MLP tutorial's cost, negative log-likelihood + L1 + L2 penalties on both weight
  matrices (784-500-10, tanh, batch 20, float64). The penalties' gradients are fill(sqr(W), c)-shaped:
  what matters is that W's square is never materialized for its shape.
- contractive-ae: the contractive autoencoder tutorial (784-500, sigmoid, batch 10, float64). Its Jacobian
  penalty is sum(J ** 2) // batch, an integer division whose gradient is zero by construction over the
  (10, 784, 500) Jacobian: it should cost nothing.

Prints rows "<case> <system> <median ms>" (or "<case> <system> missing <reason>").
"""
import sys

import numpy as np

from peers import timed

REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 50
rng = np.random.default_rng(0)


def sigmoid_of(T):
    return T.nnet.sigmoid if hasattr(T, "nnet") and hasattr(T.nnet, "sigmoid") else T.sigmoid


def softmax_of(T):
    return T.nnet.softmax if hasattr(T, "nnet") and hasattr(T.nnet, "softmax") else T.special.softmax


def mlp_penalties(theano, T, batch=20, n_in=784, n_hidden=500, n_out=10):
    x, y = T.matrix("x"), T.ivector("y")
    W1 = theano.shared(rng.uniform(-0.05, 0.05, (n_in, n_hidden)), name="W1")
    b1 = theano.shared(np.zeros(n_hidden), name="b1")
    W2 = theano.shared(np.zeros((n_hidden, n_out)), name="W2")
    b2 = theano.shared(np.zeros(n_out), name="b2")
    hidden = T.tanh(T.dot(x, W1) + b1)
    p_y = softmax_of(T)(T.dot(hidden, W2) + b2)
    nll = -T.mean(T.log(p_y)[T.arange(y.shape[0]), y])
    L1 = abs(W1).sum() + abs(W2).sum()
    L2_sqr = (W1 ** 2).sum() + (W2 ** 2).sum()
    cost = nll + 0.00 * L1 + 0.0001 * L2_sqr
    params = [W1, b1, W2, b2]
    updates = [(p, p - 0.01 * g) for p, g in zip(params, T.grad(cost, params))]
    train = theano.function([x, y], cost, updates=updates)
    xv, yv = rng.uniform(0, 1, (batch, n_in)), rng.integers(0, n_out, batch).astype("int32")
    return lambda: train(xv, yv)


def contractive_autoencoder(theano, T, batch=10, n_visible=784, n_hidden=500):
    x = T.matrix("x")
    bound = 4 * np.sqrt(6.0 / (n_hidden + n_visible))
    W = theano.shared(rng.uniform(-bound, bound, (n_visible, n_hidden)), name="W")
    b = theano.shared(np.zeros(n_hidden), name="b")
    b_prime = theano.shared(np.zeros(n_visible), name="b_prime")
    sigmoid = sigmoid_of(T)
    hidden = sigmoid(T.dot(x, W) + b)
    z = sigmoid(T.dot(hidden, W.T) + b_prime)
    J = T.reshape(hidden * (1 - hidden), (batch, 1, n_hidden)) * T.reshape(W, (1, n_visible, n_hidden))
    L_rec = -T.sum(x * T.log(z) + (1 - x) * T.log(1 - z), axis=1)
    L_jacob = T.sum(J ** 2) // batch
    cost = T.mean(L_rec) + 0.1 * T.mean(L_jacob)
    params = [W, b, b_prime]
    updates = [(p, p - 0.01 * g) for p, g in zip(params, T.grad(cost, params))]
    train = theano.function([x], cost, updates=updates)
    xv = rng.uniform(0, 1, (batch, n_visible))
    return lambda: train(xv)


def main():
    import hypatia
    import hypatia.tensor
    systems = [("hypatia-py", hypatia, hypatia.tensor)]
    try:
        import pytensor
        import pytensor.tensor
        systems.append(("pytensor", pytensor, pytensor.tensor))
    except ImportError as error:
        for case in ("mlp-penalties", "contractive-ae"):
            print(f"{case} pytensor missing {type(error).__name__}")
    for case, program in (("mlp-penalties", mlp_penalties), ("contractive-ae", contractive_autoencoder)):
        for name, theano, T in systems:
            step = program(theano, T)
            print(f"{case} {name} {timed(step, REPEATS)[0]:.4f}", flush=True)


if __name__ == "__main__":
    main()
