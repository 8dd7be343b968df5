"""The convolutional-network tutorial's LeNet training step (batch 500, float32: conv 5x5x20, max-pool 2,
tanh, conv 5x5x50, max-pool 2, tanh, 800-500 tanh, 500-10 softmax, cross-entropy, SGD), and the second
layer's convolution alone (500x20x12x12 images, 50x20x5x5 filters) forward and backward, in Hypatia and its
peers.

    python bench/lenet.py [STEPS] [systems]      systems: hypatia,jax (default) or torch (Debian's python3)

Prints "<case> <system> <median ms> <p10 ms> <p90 ms>", or "<case> <system> missing <reason>".
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
BATCH, LR = 500, 0.1


def timed(step):
    return peers.timed(step, STEPS, warmup=3)


def initial():
    """Images, labels and the tutorial's initial weights (uniform in +-sqrt(6 / (fan_in + fan_out)))."""
    rng = np.random.default_rng(23455)

    def uniform(shape, fan_in, fan_out):
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-bound, bound, shape).astype("float32")

    x = rng.uniform(0, 1, (BATCH, 1, 28, 28)).astype("float32")
    y = rng.integers(0, 10, BATCH)
    params = [uniform((20, 1, 5, 5), 25, 20 * 25 / 4), np.zeros(20, "float32"),
              uniform((50, 20, 5, 5), 500, 50 * 25 / 4), np.zeros(50, "float32"),
              uniform((800, 500), 800, 500), np.zeros(500, "float32"),
              np.zeros((500, 10), "float32"), np.zeros(10, "float32")]
    return x, y, params


def conv_data():
    rng = np.random.default_rng(1)
    return (rng.normal(size=(BATCH, 20, 12, 12)).astype("float32"), rng.normal(size=(50, 20, 5, 5)).astype("float32"),
            rng.normal(size=(BATCH, 50, 8, 8)).astype("float32"))


def hypatia_cases():
    import hypatia as theano
    import hypatia.tensor as T
    from hypatia.tensor.nnet import conv2d
    from hypatia.tensor.signal import pool

    x_value, y_value, values = initial()
    x, y = T.ftensor4("x"), T.lvector("y")
    params = [theano.shared(v) for v in values]
    w0, b0, w1, b1, w2, b2, w3, b3 = params
    h0 = T.tanh(pool.pool_2d(conv2d(x, w0), (2, 2), ignore_border=True) + b0.dimshuffle("x", 0, "x", "x"))
    h1 = T.tanh(pool.pool_2d(conv2d(h0, w1), (2, 2), ignore_border=True) + b1.dimshuffle("x", 0, "x", "x"))
    h2 = T.tanh(T.dot(h1.flatten(2), w2) + b2)
    p = T.nnet.softmax(T.dot(h2, w3) + b3)
    cost = T.mean(T.nnet.categorical_crossentropy(p, y))
    grads = T.grad(cost, params)
    train = theano.function([x, y], cost, updates=[(s, s - np.float32(LR) * g) for s, g in zip(params, grads)])
    yield "lenet_step", timed(lambda: train(x_value, y_value))

    images, filters, top = conv_data()
    xi, wi, gi = T.ftensor4(), T.ftensor4(), T.ftensor4()
    out = conv2d(xi, wi, filter_flip=False)
    forward = theano.function([xi, wi], out)
    yield "conv_fwd", timed(lambda: forward(images, filters))
    backward = theano.function([xi, wi, gi], T.grad(None, [xi, wi], known_grads={out: gi}))
    yield "conv_bwd", timed(lambda: backward(images, filters, top))


def jax_cases():
    import jax
    import jax.numpy as jnp
    from jax import lax

    x_value, y_value, values = initial()

    def conv(x, w):
        return lax.conv(x, w, (1, 1), "VALID")

    def pool2(x):
        return lax.reduce_window(x, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")

    def loss(params, x, y):
        w0, b0, w1, b1, w2, b2, w3, b3 = params
        h0 = jnp.tanh(pool2(conv(x, w0)) + b0[None, :, None, None])
        h1 = jnp.tanh(pool2(conv(h0, w1)) + b1[None, :, None, None])
        h2 = jnp.tanh(h1.reshape(x.shape[0], -1) @ w2 + b2)
        logp = jax.nn.log_softmax(h2 @ w3 + b3)
        return -jnp.mean(logp[jnp.arange(x.shape[0]), y])

    @jax.jit
    def train(params, x, y):
        cost, grads = jax.value_and_grad(loss)(params, x, y)
        return [p - LR * g for p, g in zip(params, grads)], cost

    params = [jnp.asarray(v) for v in values]
    x, y = jnp.asarray(x_value), jnp.asarray(y_value)

    def step():
        nonlocal params
        params, cost = train(params, x, y)
        cost.block_until_ready()
    yield "lenet_step", timed(step)

    images, filters, top = (jnp.asarray(a) for a in conv_data())
    forward = jax.jit(conv)
    yield "conv_fwd", timed(lambda: forward(images, filters).block_until_ready())
    backward = jax.jit(lambda x, w, g: jax.vjp(conv, x, w)[1](g))
    yield "conv_bwd", timed(lambda: [a.block_until_ready() for a in backward(images, filters, top)])


def torch_cases():
    import torch
    import torch.nn.functional as F

    peers.torch_threads(torch)
    x_value, y_value, values = initial()
    params = [torch.tensor(v, requires_grad=True) for v in values]
    x, y = torch.tensor(x_value), torch.tensor(y_value)

    def step():
        w0, b0, w1, b1, w2, b2, w3, b3 = params
        h0 = torch.tanh(F.max_pool2d(F.conv2d(x, w0), 2) + b0[None, :, None, None])
        h1 = torch.tanh(F.max_pool2d(F.conv2d(h0, w1), 2) + b1[None, :, None, None])
        h2 = torch.tanh(h1.reshape(x.shape[0], -1) @ w2 + b2)
        cost = F.cross_entropy(h2 @ w3 + b3, y)
        cost.backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad
                p.grad = None
        return float(cost)
    yield "lenet_step", timed(step)

    images, filters, top = (torch.tensor(a) for a in conv_data())
    with torch.no_grad():
        yield "conv_fwd", timed(lambda: F.conv2d(images, filters))
    xi, wi = images.clone().requires_grad_(), filters.clone().requires_grad_()

    def backward():
        out = F.conv2d(xi, wi)
        return torch.autograd.grad(out, [xi, wi], top)
    # (the forward pass is part of autograd's backward here; measured alone above, it is subtracted below)
    total = timed(backward)
    with torch.no_grad():
        fwd = timed(lambda: F.conv2d(images, filters))
    yield "conv_bwd", tuple(t - fwd[0] for t in total)


def main():
    systems = sys.argv[2].split(",") if len(sys.argv) > 2 else ["hypatia", "jax"]
    names = {"hypatia": "hypatia-py"}
    for system in systems:
        try:
            for case, (median, p10, p90) in {"hypatia": hypatia_cases, "jax": jax_cases, "torch": torch_cases}[system]():
                print(f"{case} {names.get(system, system)} {median:.3f} {p10:.3f} {p90:.3f}", flush=True)
        except ImportError as error:
            for case in ("lenet_step", "conv_fwd", "conv_bwd"):
                print(f"{case} {names.get(system, system)} missing {type(error).__name__}:{error.name}", flush=True)


if __name__ == "__main__":
    main()
