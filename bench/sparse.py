"""Sparse matrices in Hypatia and its peers, each written as its users write it:

    logreg     a training step of softmax regression over sparse inputs: 100k features, 0.1% density (100 stored
               per row), batch 256, 10 classes, float32, SGD on dense weights (SciPy's row: the NumPy/SciPy
               program a user writes by hand, gradient X.T @ g included)
    spmm_D     X @ B for a csr X (4096 x 32768, density D) and a dense B (32768 x 64), float32
    spmm_t_D   X.T @ G for the same X and a dense G (4096 x 64): the product of a gradient

    python bench/sparse.py [STEPS] [systems]     systems: hypatia,scipy,jax (default) or torch (Debian's python3)

Prints "<case> <system> <median ms> <p10 ms> <p90 ms>", or "<case> <system> missing <reason>".
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 30
FEATURES, BATCH, CLASSES, PER_ROW = 100_000, 256, 10, 100
ROWS, COLS, WIDTH = 4096, 32768, 64
DENSITIES = (0.001, 0.01)
LR = 0.1


def timed(step):
    return peers.timed(step, STEPS, warmup=3)


def csr_arrays(rows, cols, per_row, seed):
    """The data, indices and indptr of a csr float32 matrix with per_row stored values in each row, sorted."""
    rng = np.random.default_rng(seed)
    indices = np.sort(np.stack([rng.choice(cols, per_row, replace=False) for _ in range(rows)]), axis=1).ravel()
    data = rng.uniform(0.5, 1.5, rows * per_row).astype(np.float32)
    indptr = np.arange(0, rows * per_row + 1, per_row)
    return data, indices.astype(np.int32), indptr.astype(np.int32)


def logreg_data():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, CLASSES, BATCH).astype(np.int32)
    return csr_arrays(BATCH, FEATURES, PER_ROW, 0), labels


def product_data(density):
    per_row = int(COLS * density)
    rng = np.random.default_rng(2)
    return (csr_arrays(ROWS, COLS, per_row, 3), rng.normal(size=(COLS, WIDTH)).astype(np.float32),
            rng.normal(size=(ROWS, WIDTH)).astype(np.float32))


def scipy_matrix(arrays, shape):
    import scipy.sparse as sp
    return sp.csr_matrix(arrays, shape=shape)


def hypatia_cases():
    import hypatia as theano
    import hypatia.tensor as T
    from hypatia import sparse

    arrays, labels = logreg_data()
    x_value = scipy_matrix(arrays, (BATCH, FEATURES))
    x, y = sparse.csr_matrix("x", dtype="float32"), T.ivector("y")
    W = theano.shared(np.zeros((FEATURES, CLASSES), dtype=np.float32), "W")
    b = theano.shared(np.zeros(CLASSES, dtype=np.float32), "b")
    p_y = T.nnet.softmax(sparse.structured_dot(x, W) + b)
    xent = -T.mean(T.log(p_y)[T.arange(y.shape[0]), y])
    gW, gb = T.grad(xent, [W, b])
    train = theano.function([x, y], xent, updates=[(W, W - LR * gW), (b, b - LR * gb)])
    yield "logreg", timed(lambda: train(x_value, labels))

    for density in DENSITIES:
        arrays, b_value, g_value = product_data(density)
        m = scipy_matrix(arrays, (ROWS, COLS))
        xs, d = sparse.csr_matrix("x", dtype="float32"), T.fmatrix("d")
        product = theano.function([xs, d], sparse.structured_dot(xs, d))
        transposed = theano.function([xs, d], sparse.structured_dot(xs.T, d))
        yield f"spmm_{density:g}", timed(lambda: product(m, b_value))
        yield f"spmm_t_{density:g}", timed(lambda: transposed(m, g_value))


def scipy_cases():
    arrays, labels = logreg_data()
    x = scipy_matrix(arrays, (BATCH, FEATURES))
    W = np.zeros((FEATURES, CLASSES), dtype=np.float32)
    b = np.zeros(CLASSES, dtype=np.float32)
    onehot = np.eye(CLASSES, dtype=np.float32)[labels]

    def step():
        z = x @ W + b
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(BATCH), labels]))
        g = (p - onehot) / BATCH
        W[...] -= LR * (x.T @ g)
        b[...] -= LR * g.sum(axis=0)
        return loss

    yield "logreg", timed(step)
    for density in DENSITIES:
        arrays, b_value, g_value = product_data(density)
        m = scipy_matrix(arrays, (ROWS, COLS))
        yield f"spmm_{density:g}", timed(lambda: m @ b_value)
        yield f"spmm_t_{density:g}", timed(lambda: m.T @ g_value)


def torch_cases():
    import torch
    peers.torch_threads(torch)

    def csr(arrays, shape):
        data, indices, indptr = (torch.from_numpy(a) for a in arrays)
        return torch.sparse_csr_tensor(indptr.long(), indices.long(), data, size=shape)

    arrays, labels = logreg_data()
    x = csr(arrays, (BATCH, FEATURES))
    y = torch.from_numpy(labels).long()
    W = torch.zeros(FEATURES, CLASSES, requires_grad=True)
    b = torch.zeros(CLASSES, requires_grad=True)

    def step():
        loss = torch.nn.functional.cross_entropy(torch.sparse.mm(x, W) + b, y)
        W.grad = b.grad = None
        loss.backward()
        with torch.no_grad():
            W.sub_(LR * W.grad)
            b.sub_(LR * b.grad)
        return loss.item()

    yield "logreg", timed(step)
    for density in DENSITIES:
        arrays, b_value, g_value = product_data(density)
        m = csr(arrays, (ROWS, COLS))
        bt, gt = torch.from_numpy(b_value), torch.from_numpy(g_value)
        with torch.no_grad():
            yield f"spmm_{density:g}", timed(lambda: torch.sparse.mm(m, bt))
            yield f"spmm_t_{density:g}", timed(lambda: torch.sparse.mm(m.t(), gt))


def jax_cases():
    import jax
    import jax.numpy as jnp
    from jax.experimental import sparse as jsparse

    def bcoo(arrays, shape):
        return jsparse.BCSR((jnp.asarray(arrays[0]), jnp.asarray(arrays[1]), jnp.asarray(arrays[2])), shape=shape).to_bcoo()

    arrays, labels = logreg_data()
    x = bcoo(arrays, (BATCH, FEATURES))
    y = jnp.asarray(labels)

    def loss(params, x, y):
        W, b = params
        z = x @ W + b
        return -jnp.mean(jax.nn.log_softmax(z)[jnp.arange(BATCH), y])

    @jax.jit
    def update(params, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return value, [p - LR * g for p, g in zip(params, grads)]

    params = [jnp.zeros((FEATURES, CLASSES), jnp.float32), jnp.zeros(CLASSES, jnp.float32)]

    def step():
        nonlocal params
        value, params = update(params, x, y)
        value.block_until_ready()

    yield "logreg", timed(step)
    for density in DENSITIES:
        arrays, b_value, g_value = product_data(density)
        m = bcoo(arrays, (ROWS, COLS))
        product = jax.jit(lambda m, d: m @ d)
        transposed = jax.jit(lambda m, d: m.T @ d)
        bj, gj = jnp.asarray(b_value), jnp.asarray(g_value)
        yield f"spmm_{density:g}", timed(lambda: product(m, bj).block_until_ready())
        yield f"spmm_t_{density:g}", timed(lambda: transposed(m, gj).block_until_ready())


CASES = {"hypatia": hypatia_cases, "scipy": scipy_cases, "jax": jax_cases, "torch": torch_cases}

if __name__ == "__main__":
    peers.print_cases(CASES, sys.argv[2].split(",") if len(sys.argv) > 2 else ["hypatia", "scipy", "jax"], "logreg")
