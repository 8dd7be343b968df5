"""Hypatia from Python: the seed's training step and a one-op call, timed as bench/peers.py times the
peers ("hypatia-py <case> <median> <p10> <p90>"). It runs with the machine's OpenBLAS settings, as the
C++ benchmark does, so it is a separate process from the peers."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

import hypatia  # noqa: E402
import hypatia.tensor as T  # noqa: E402


def hypatia_step(dtype):
    x_value, y_value, w_value = peers.data(np, dtype)
    x, y = T.matrix("x", dtype=dtype), T.lvector("y")
    w = hypatia.shared(w_value)
    b = hypatia.shared(np.zeros(500, dtype))
    v = hypatia.shared(np.zeros((500, 10), dtype))
    c = hypatia.shared(np.zeros(10, dtype))
    hid = T.tanh(T.dot(x, w) + b)
    p = T.nnet.softmax(T.dot(hid, v) + c)
    err = T.mean(T.nnet.categorical_crossentropy(p, y))
    grads = hypatia.grad(err, [w, b, v, c])
    train = hypatia.function([x, y], err, updates=[(s, s - peers.LR * g) for s, g in zip([w, b, v, c], grads)])
    return lambda: train(x_value, y_value)


def hypatia_call():
    x = T.dvector("x")
    f = hypatia.function([x], x + 1)
    value = np.arange(10.0)
    return lambda: f(value)


if __name__ == "__main__":
    peers.STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    peers.measure({"hypatia-py": hypatia_step}, {"hypatia-py": hypatia_call})
