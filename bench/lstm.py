"""The Theano LSTM tutorial's model (deeplearning.net's lstm.py: word embedding, an LSTM over a padded batch
with a mask, mean pooling over time, softmax), one SGD training step: vocabulary 10000, 128 units, batch 16,
sequences padded to 100 steps (lengths 50 to 100), 2 classes, float32. (The tutorial trains with adadelta;
plain SGD keeps the step comparable across systems.) Hypatia's scan against PyTensor's scan, JAX's
lax.scan under jit, and PyTorch's nn.LSTM over packed sequences (its idiomatic form of the same model).

Usage: lstm.py [REPEATS] [SYSTEMS]. Prints rows "lstm-train-step <system> <median ms>" (or "... missing <reason>").
"""
import sys

import numpy as np

from peers import timed

WORDS, DIM, BATCH, STEPS, CLASSES = 10000, 128, 16, 100, 2
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
SYSTEMS = sys.argv[2].split(",") if len(sys.argv) > 2 else ["hypatia", "pytensor", "jax"]
LR = np.float32(0.1)
CASE = "lstm-train-step"

rng = np.random.default_rng(0)
LENGTHS = np.sort(rng.integers(50, STEPS + 1, BATCH))[::-1].copy()  # longest first (PyTorch's packing wants it)
X = rng.integers(1, WORDS, (STEPS, BATCH)).astype(np.int64)
MASK = (np.arange(STEPS)[:, None] < LENGTHS[None, :]).astype(np.float32)
X = X * MASK.astype(np.int64)  # padding is word 0, as in the tutorial
Y = rng.integers(0, CLASSES, BATCH).astype(np.int64)


def ortho(n):
    u, _, _ = np.linalg.svd(rng.normal(size=(n, n)))
    return u.astype(np.float32)


INITIAL = {"Wemb": (0.01 * rng.random((WORDS, DIM))).astype(np.float32),
           "lstm_W": np.concatenate([ortho(DIM) for _ in range(4)], axis=1),
           "lstm_U": np.concatenate([ortho(DIM) for _ in range(4)], axis=1),
           "lstm_b": np.zeros(4 * DIM, np.float32),
           "U": (0.01 * rng.normal(size=(DIM, CLASSES))).astype(np.float32),
           "b": np.zeros(CLASSES, np.float32)}
ORDER = ("Wemb", "lstm_W", "lstm_U", "lstm_b", "U", "b")


def emit(system, value):
    print(f"{CASE} {system} {value}" if isinstance(value, str) else f"{CASE} {system} {value:.4f}", flush=True)


def theano_like(theano, T, sigmoid, softmax):
    """The tutorial's build_model, for Hypatia and PyTensor (the Theano API)."""
    tparams = {k: theano.shared(v.copy(), name=k) for k, v in INITIAL.items()}
    x, mask, y = T.matrix("x", dtype="int64"), T.matrix("mask", dtype="float32"), T.vector("y", dtype="int64")
    n_timesteps, n_samples = x.shape[0], x.shape[1]
    emb = tparams["Wemb"][x.flatten()].reshape([n_timesteps, n_samples, DIM])

    def _slice(_x, n):
        return _x[:, n * DIM:(n + 1) * DIM]

    def _step(m_, x_, h_, c_):
        preact = T.dot(h_, tparams["lstm_U"]) + x_
        i, f, o = sigmoid(_slice(preact, 0)), sigmoid(_slice(preact, 1)), sigmoid(_slice(preact, 2))
        c = f * c_ + i * T.tanh(_slice(preact, 3))
        c = m_[:, None] * c + (1.0 - m_)[:, None] * c_
        h = o * T.tanh(c)
        h = m_[:, None] * h + (1.0 - m_)[:, None] * h_
        return h, c

    state_below = T.dot(emb, tparams["lstm_W"]) + tparams["lstm_b"]
    zeros = T.alloc(np.float32(0.0), n_samples, DIM)
    (h, _), _ = theano.scan(_step, sequences=[mask, state_below], outputs_info=[zeros, zeros], n_steps=n_timesteps)
    proj = (h * mask[:, :, None]).sum(axis=0) / mask.sum(axis=0)[:, None]
    pred = softmax(T.dot(proj, tparams["U"]) + tparams["b"])
    cost = -T.log(pred[T.arange(n_samples), y] + 1e-8).mean()
    params = [tparams[k] for k in ORDER]
    grads = T.grad(cost, params)
    return theano.function([x, mask, y], cost, updates=[(p, p - LR * g) for p, g in zip(params, grads)])


def hypatia_step():
    import hypatia
    import hypatia.tensor as T
    train = theano_like(hypatia, T, T.nnet.sigmoid, T.nnet.softmax)
    return lambda: train(X, MASK, Y)


def pytensor_step():
    import pytensor
    import pytensor.tensor as pt
    from pytensor.tensor.special import softmax
    train = theano_like(pytensor, pt, pt.sigmoid, softmax)
    return lambda: train(X, MASK, Y)


def jax_step():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_platforms", "cpu")

    def loss(params, x, mask, y):
        Wemb, W, U, b, Uc, bc = params
        state_below = Wemb[x] @ W + b

        def step(carry, inputs):
            h_, c_ = carry
            m_, x_ = inputs
            preact = h_ @ U + x_
            i, f, o = (jax.nn.sigmoid(preact[:, n * DIM:(n + 1) * DIM]) for n in range(3))
            c = f * c_ + i * jnp.tanh(preact[:, 3 * DIM:])
            c = m_[:, None] * c + (1.0 - m_)[:, None] * c_
            h = o * jnp.tanh(c)
            h = m_[:, None] * h + (1.0 - m_)[:, None] * h_
            return (h, c), h

        zeros = jnp.zeros((x.shape[1], DIM), jnp.float32)
        _, h = jax.lax.scan(step, (zeros, zeros), (mask, state_below))
        proj = (h * mask[:, :, None]).sum(axis=0) / mask.sum(axis=0)[:, None]
        pred = jax.nn.softmax(proj @ Uc + bc)
        return -jnp.log(pred[jnp.arange(x.shape[1]), y] + 1e-8).mean()

    @jax.jit
    def train(params, x, mask, y):
        cost, grads = jax.value_and_grad(loss)(params, x, mask, y)
        return cost, [p - LR * g for p, g in zip(params, grads)]

    state = {"params": [jnp.asarray(INITIAL[k]) for k in ORDER]}
    jx, jm, jy = jnp.asarray(X.astype(np.int32)), jnp.asarray(MASK), jnp.asarray(Y.astype(np.int32))

    def run():
        cost, state["params"] = train(state["params"], jx, jm, jy)
        cost.block_until_ready()

    return run


def torch_step():
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(WORDS, DIM)
    lstm = torch.nn.LSTM(DIM, DIM)
    classifier = torch.nn.Linear(DIM, CLASSES)
    params = list(embedding.parameters()) + list(lstm.parameters()) + list(classifier.parameters())
    optimizer = torch.optim.SGD(params, lr=float(LR))
    x, y = torch.from_numpy(X), torch.from_numpy(Y)
    lengths = torch.from_numpy(LENGTHS)
    mask = torch.from_numpy(MASK)

    def run():
        optimizer.zero_grad()
        packed = pack_padded_sequence(embedding(x), lengths)
        h, _ = pad_packed_sequence(lstm(packed)[0], total_length=STEPS)
        proj = (h * mask[:, :, None]).sum(dim=0) / mask.sum(dim=0)[:, None]
        cost = torch.nn.functional.cross_entropy(classifier(proj), y)
        cost.backward()
        optimizer.step()

    return run


if __name__ == "__main__":
    builders = {"hypatia": hypatia_step, "pytensor": pytensor_step, "jax": jax_step, "torch": torch_step}
    for system in SYSTEMS:
        label = "hypatia-py" if system == "hypatia" else system
        try:
            step = builders[system]()
        except ImportError as error:
            emit(label, f"missing {type(error).__name__}:{error.name}")
            continue
        emit(label, timed(step, REPEATS, warmup=3)[0])
