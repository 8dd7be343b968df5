"""An Elman RNN's training step (forward, backpropagation through time, SGD update): sequence length 100,
hidden 128, batch 32, inputs 32, float32. Hypatia's scan against PyTensor's scan, JAX's lax.scan under
jit, and a Python loop calling Hypatia functions compiled for one step (forward and its pullback).
The gradients fade through the 100 steps into subnormal floats: JAX flushes them to zero (as XLA runs on the
CPU), NumPy, PyTensor and Hypatia by default keep them; "hypatia-flush" is Hypatia with flush_denormals on.

Prints rows "<case> <system> <median ms>" (or "<case> <system> missing <reason>").
"""
import sys

import numpy as np

from peers import timed

STEPS, BATCH, HIDDEN, INPUTS = 100, 32, 128, 32
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
LR = np.float32(0.01)
CASE = "rnn-train-step"

rng = np.random.default_rng(0)
X = rng.normal(size=(STEPS, BATCH, INPUTS)).astype(np.float32)
Y = rng.normal(size=(BATCH, 1)).astype(np.float32)
INITIAL = {"W": (rng.normal(size=(HIDDEN, HIDDEN)) * 0.05).astype(np.float32),
           "U": (rng.normal(size=(INPUTS, HIDDEN)) * 0.1).astype(np.float32),
           "b": np.zeros(HIDDEN, np.float32),
           "V": (rng.normal(size=(HIDDEN, 1)) * 0.1).astype(np.float32)}
ORDER = ("W", "U", "b", "V")


def median_ms(fn):
    return timed(fn, REPEATS)[0]


def emit(system, value):
    print(f"{CASE} {system} {value}" if isinstance(value, str) else f"{CASE} {system} {value:.4f}", flush=True)


def theano_like(theano, T):
    """The same program for Hypatia and PyTensor (the Theano API)."""
    params = {k: theano.shared(v.copy(), name=k) for k, v in INITIAL.items()}
    x, y = T.tensor3("x", dtype="float32"), T.matrix("y", dtype="float32")
    h0 = T.zeros((BATCH, HIDDEN), dtype="float32")
    W, U, b, V = (params[k] for k in ORDER)
    h, _ = theano.scan(lambda x_t, h_prev: T.tanh(T.dot(x_t, U) + T.dot(h_prev, W) + b), sequences=x, outputs_info=h0)
    cost = T.mean((T.dot(h[-1], V) - y) ** 2)
    grads = T.grad(cost, [W, U, b, V])
    return theano.function([x, y], cost, updates=[(p, p - LR * g) for p, g in zip([W, U, b, V], grads)])


def hypatia_scan(flush_denormals=False):
    """flush_denormals: subnormals flushed to zero, as JAX computes (this loop's gradients fade into them)."""
    import hypatia
    import hypatia.tensor
    with hypatia.config.change_flags(flush_denormals=flush_denormals):
        train = theano_like(hypatia, hypatia.tensor)
    emit("hypatia-flush" if flush_denormals else "hypatia-py", median_ms(lambda: train(X, Y)))


def hypatia_python_loop():
    """Forward and backward loops in Python, each step a compiled Hypatia function."""
    import hypatia as th
    import hypatia.tensor as T
    params = {k: v.copy() for k, v in INITIAL.items()}
    x_t, h_prev, g_h = T.matrix("x_t", dtype="float32"), T.matrix("h", dtype="float32"), T.matrix("g", dtype="float32")
    W, U, b = T.matrix("W", dtype="float32"), T.matrix("U", dtype="float32"), T.vector("b", dtype="float32")
    h_next = T.tanh(T.dot(x_t, U) + T.dot(h_prev, W) + b)
    forward = th.function([x_t, h_prev, W, U, b], h_next)
    pulled = T.Lop(h_next, [h_prev, W, U, b], g_h)
    backward = th.function([x_t, h_prev, W, U, b, g_h], pulled)

    def train():
        W_, U_, b_, V_ = (params[k] for k in ORDER)
        hs = [np.zeros((BATCH, HIDDEN), np.float32)]
        for t in range(STEPS):
            hs.append(forward(X[t], hs[-1], W_, U_, b_))
        diff = hs[-1] @ V_ - Y
        g_v = hs[-1].T @ (2 * diff / diff.size)
        g = (2 * diff / diff.size) @ V_.T
        g_w, g_u, g_b = np.zeros_like(W_), np.zeros_like(U_), np.zeros_like(b_)
        for t in reversed(range(STEPS)):
            g, dw, du, db = backward(X[t], hs[t], W_, U_, b_, g)
            g_w += dw
            g_u += du
            g_b += db
        for k, grad in zip(ORDER, (g_w, g_u, g_b, g_v)):
            params[k] = params[k] - LR * grad

    emit("hypatia-loop", median_ms(train))


def pytensor_scan():
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError as error:
        emit("pytensor", f"missing {type(error).__name__}")
        return
    train = theano_like(pytensor, pt)
    emit("pytensor", median_ms(lambda: train(X, Y)))


def jax_scan():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as error:
        emit("jax", f"missing {type(error).__name__}")
        return

    def loss(params, x, y):
        W, U, b, V = params

        def step(h, x_t):
            return jnp.tanh(x_t @ U + h @ W + b), None

        h, _ = jax.lax.scan(step, jnp.zeros((BATCH, HIDDEN), jnp.float32), x)
        return jnp.mean((h @ V - y) ** 2)

    @jax.jit
    def train(params, x, y):
        cost, grads = jax.value_and_grad(loss)(params, x, y)
        return cost, [p - LR * g for p, g in zip(params, grads)]

    state = {"params": [jnp.asarray(INITIAL[k]) for k in ORDER]}
    jx, jy = jnp.asarray(X), jnp.asarray(Y)

    def run():
        cost, state["params"] = train(state["params"], jx, jy)
        cost.block_until_ready()

    emit("jax", median_ms(run))


if __name__ == "__main__":
    hypatia_scan()
    hypatia_scan(flush_denormals=True)
    hypatia_python_loop()
    pytensor_scan()
    jax_scan()
