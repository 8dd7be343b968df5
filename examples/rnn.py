"""An Elman RNN trained with scan on the adding problem: each sequence holds random numbers and two
markers; the target is the sum of the two marked numbers. Predicting the mean (1.0) scores an MSE of
about 0.167; the network learns to do much better.

    python examples/rnn.py [steps]
"""
import sys

import numpy as np

import hypatia as theano
import hypatia.tensor as T


def adding_problem(rng, batch, length):
    """Inputs (length, batch, 2): a number and a marker per step; targets (batch, 1)."""
    values = rng.uniform(0, 1, (length, batch))
    markers = np.zeros((length, batch))
    for j in range(batch):
        first, second = rng.choice(length, 2, replace=False)
        markers[first, j] = markers[second, j] = 1
    inputs = np.stack([values, markers], axis=2).astype(theano.config.floatX)
    targets = (values * markers).sum(axis=0)[:, None].astype(theano.config.floatX)
    return inputs, targets


def build(hidden=32, seed=0, lr=0.001):
    """The training and evaluation functions of an Elman network (RMSprop updates)."""
    rng = np.random.default_rng(seed)
    floatx = theano.config.floatX

    def weight(*shape, scale):
        return theano.shared(rng.normal(0, scale, shape).astype(floatx))

    W_in = weight(2, hidden, scale=0.5)
    W_rec = theano.shared((np.eye(hidden) * 0.9 + rng.normal(0, 0.01, (hidden, hidden))).astype(floatx))
    b = theano.shared(np.zeros(hidden, floatx))
    W_out = weight(hidden, 1, scale=0.1)
    b_out = theano.shared(np.ones(1, floatx))
    params = [W_in, W_rec, b, W_out, b_out]

    x = T.tensor3("x")   # (time, batch, 2)
    y = T.matrix("y")    # (batch, 1)
    h0 = T.zeros((x.shape[1], hidden), dtype=floatx)

    def step(x_t, h_prev):
        return T.tanh(T.dot(x_t, W_in) + T.dot(h_prev, W_rec) + b)

    h, _ = theano.scan(step, sequences=x, outputs_info=h0)
    prediction = T.dot(h[-1], W_out) + b_out
    loss = T.mean((prediction - y) ** 2)
    grads = T.grad(loss, params)
    updates = []
    for p, g in zip(params, grads):
        mean_square = theano.shared(np.zeros(p.get_value().shape, floatx))
        new_mean_square = 0.9 * mean_square + 0.1 * g ** 2
        updates.append((mean_square, new_mean_square))
        updates.append((p, p - lr * g / (T.sqrt(new_mean_square) + 1e-6)))
    train = theano.function([x, y], loss, updates=updates)
    evaluate = theano.function([x, y], loss)
    return train, evaluate


def main(steps=2000, length=10, batch=32, log=print):
    rng = np.random.default_rng(1)
    train, evaluate = build()
    test_x, test_y = adding_problem(rng, 500, length)
    losses = [float(evaluate(test_x, test_y))]
    log(f"adding problem, sequences of {length}: test MSE {losses[0]:.4f} before training")
    for step in range(1, steps + 1):
        train(*adding_problem(rng, batch, length))
        if step % 250 == 0:
            losses.append(float(evaluate(test_x, test_y)))
            log(f"step {step}: test MSE {losses[-1]:.4f}")
    return losses


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
