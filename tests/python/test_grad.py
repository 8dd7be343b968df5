"""Gradients from Python: verify_grad for every differentiable op, hand-computed gradients, second
derivatives, integer inputs and the options of grad (consider_constant, known_grads,
disconnected_inputs, disconnected_grad, zero_grad).

Points are small (a few elements) and chosen away from the kinks of non-smooth ops (abs at 0, ties of
maximum, the steps of floor and int_div, ...), so central differences are exact there.
"""
import re

import numpy as np
import pytest

import hypatia as theano
import hypatia.tensor as T
from hypatia.gradient import GradientError, verify_grad
from hypatia.tensor import nnet


# ---- Points ----

def U(*shape, lo=-1.0, hi=1.0, seed=0):
    """Uniform values in [lo, hi) (deterministic per shape and seed)."""
    rng = np.random.default_rng(seed + 7919 * len(shape) + int(np.prod(shape, dtype=np.int64)))
    return rng.uniform(lo, hi, shape)


def P(*shape, seed=0):
    """Positive values in [0.5, 1.5)."""
    return U(*shape, lo=0.5, hi=1.5, seed=seed)


def away(*shape, seed=0, margin=0.2):
    """Values in [-1.5, 1.5] at least `margin` away from 0 (for abs, sign, relu, ...)."""
    a = U(*shape, lo=margin, hi=1.5, seed=seed)
    signs = np.where(U(*shape, seed=seed + 1) < 0, -1.0, 1.0)
    return a * signs


def distinct(*shape, seed=0):
    """A permutation of well separated values (no ties for max, min, sort, maximum)."""
    n = int(np.prod(shape, dtype=np.int64))
    rng = np.random.default_rng(seed + n)
    return (rng.permutation(n) * 0.3 - 0.15 * n + 0.05).reshape(shape)


def off_steps(*shape, seed=0):
    """Values at least 0.2 away from every multiple of 0.5 (floor, ceil, round, int_div, mod are smooth)."""
    k = np.random.default_rng(seed + 3).integers(-4, 4, shape)
    return k * 0.5 + U(*shape, lo=0.2, hi=0.3, seed=seed)


def probs(*shape, seed=0):
    """Rows of positive probabilities summing to 1."""
    p = P(*shape, seed=seed)
    return p / p.sum(axis=-1, keepdims=True)


ONEHOT = np.eye(4)[[1, 3, 0]]                 # 3 samples, 4 classes
LABELS = np.array([1, 3, 0], dtype="int64")


def check(fun, points, n_tests=1, **tol):
    verify_grad(fun, points, n_tests=n_tests, rng=np.random.default_rng(0), **tol)


# ---- The table: (name, fun, points[, verify_grad options]) ----

_UNARY_POINTS = {
    "abs": away(3, 4), "sign": away(3, 4), "log": P(3, 4), "log2": P(3, 4), "log10": P(3, 4),
    "log1p": U(3, 4, lo=-0.5, hi=1.0), "sqrt": P(3, 4), "reciprocal": away(3, 4), "arcsin": U(3, 4, lo=-0.9, hi=0.9),
    "arccos": U(3, 4, lo=-0.9, hi=0.9), "tan": U(3, 4), "floor": off_steps(3, 4), "ceil": off_steps(3, 4),
    "round": off_steps(3, 4), "arccosh": U(3, 4, lo=1.2, hi=4.0), "arctanh": U(3, 4, lo=-0.9, hi=0.9),
    "trunc": off_steps(3, 4),
}
# Ops with a bool input or output: their gradient is zero (disconnected), as are finite differences.
_UNARY_NOT_FLOAT = {"logical_not": lambda x: T.logical_not(T.gt(x, 0)), "isnan": T.isnan, "isinf": T.isinf}

UNARY_CASES = [
    (f"unary-{name}", _UNARY_NOT_FLOAT.get(name, getattr(T, name)), [_UNARY_POINTS.get(name, U(3, 4))])
    for name in T.basic._UNARY
]

# Binary elementwise ops; the second operand is a (1, 4) row broadcast over the first's rows.
_BINARY_POINTS = {
    "true_div": [U(3, 4), away(1, 4)],
    "int_div": [off_steps(3, 4), np.full((1, 4), 0.5)],
    "mod": [off_steps(3, 4), np.full((1, 4), 0.5)],
    "pow": [P(3, 4), U(1, 4, lo=-2.0, hi=2.0)],
    "maximum": [distinct(3, 4), distinct(1, 4, seed=1) + 0.1],
    "minimum": [distinct(3, 4), distinct(1, 4, seed=1) + 0.1],
}
BINARY_CASES = [
    (f"binary-{name}", getattr(T, name), _BINARY_POINTS.get(name, [U(3, 4), U(1, 4, seed=1)]))
    for name in T.basic._BINARY if name != "complex"  # a complex output: test_complex.py checks its gradient
]

ELEMWISE_CASES = [
    ("add-3-operands", lambda a, b, c: T.add(a, b, c), [U(3, 4), U(1, 4), U(3, 1)]),
    ("mul-3-operands", lambda a, b, c: T.mul(a, b, c), [U(3, 4), U(1, 4), U(3, 1)]),
    ("operators", lambda a, b: (a + b) * a - b / 2.0 + a ** 2 - (-b), [U(3, 4), U(3, 4, seed=1)]),
    ("broadcast-col-row", lambda a, b: a * b + a / b, [U(3, 1), P(1, 4)]),
    ("broadcast-scalar", lambda a, b: a * b + T.exp(a), [U(), U(3, 4)]),
    ("broadcast-vector-over-rows", lambda a, b: a - b * a, [U(3, 4), U(4)]),
    ("broadcast-3d", lambda a, b: a * b, [U(2, 1, 4), U(3, 1)]),
    ("pow-broadcast-exponent", lambda a, b: a ** b, [P(3, 1), U(1, 4)]),
    ("pow-constant-exponent", lambda a: a ** 3 + a ** 0.5, [P(3, 4)]),
    ("pow-negative-base-int-exponent", lambda a: a ** 3.0, [U(3, 4)]),
    ("mod-negative-divisor", lambda a, b: T.mod(a, b), [off_steps(3, 4), np.full((1, 4), -0.5)]),
    ("true_div-both", lambda a, b: a / b, [U(3, 4), away(3, 4, seed=2)]),
    ("clip-symbolic-bounds", lambda x, lo, hi: T.clip(x, lo, hi),
     [distinct(3, 4) / 6, np.array(-0.27), np.array(0.13)]),
    ("clip-constant-bounds", lambda x: T.clip(x, -0.27, 0.13), [distinct(3, 4) / 6]),
    ("switch", lambda c, a, b: T.switch(T.gt(c, 0), a * 2.0, b ** 2), [away(3, 4), U(3, 4), U(1, 4)]),
    ("where", lambda c, a: T.where(T.lt(c, 0), a, -a), [away(3, 4), U(3, 4)]),
    ("comparison-mask", lambda a: T.gt(a, 0) * a, [away(3, 4)]),
    ("fill", lambda m, v: T.fill(m, v), [U(3, 4), U()]),
    ("alloc", lambda v: T.alloc(v, 3, 4), [U()]),
    ("alloc-row", lambda v: T.alloc(v, 3, 4), [U(4)]),
    ("zeros_like-ones_like", lambda a: a * T.ones_like(a) + T.zeros_like(a), [U(3, 4)]),
    ("copy", lambda a: a.copy() * a, [U(3, 4)]),
]

REDUCTION_CASES = [
    ("sum-all", T.sum, [U(3, 4)]),
    ("sum-axis0", lambda x: T.sum(x, axis=0), [U(3, 4)]),
    ("sum-axis-1-keepdims", lambda x: T.sum(x, axis=-1, keepdims=True), [U(3, 4)]),
    ("sum-axes-0-2", lambda x: T.sum(x, axis=(0, 2)), [U(2, 3, 2)]),
    ("prod-all", T.prod, [P(2, 3)]),
    ("prod-axis1-negative-values", lambda x: T.prod(x, axis=1), [away(3, 4)]),
    ("prod-axis0-keepdims", lambda x: T.prod(x, axis=0, keepdims=True), [P(3, 4)]),
    ("prod-one-zero-per-row", lambda x: T.prod(x, axis=1), [U(3, 4) * (np.arange(4) != np.array([[0], [2], [3]]))]),
    ("prod-two-zeros", T.prod, [U(2, 3) * np.array([[1, 0, 1], [1, 1, 0]])]),
    ("mean-all", T.mean, [U(3, 4)]),
    ("mean-axis0", lambda x: T.mean(x, axis=0), [U(3, 4)]),
    ("mean-axis1-keepdims", lambda x: T.mean(x, axis=1, keepdims=True), [U(3, 4)]),
    ("var-all", T.var, [U(3, 4)]),
    ("var-axis0-ddof1", lambda x: T.var(x, axis=0, ddof=1), [U(3, 4)]),
    ("var-axis1-keepdims", lambda x: T.var(x, axis=1, keepdims=True), [U(3, 4)]),
    ("std-all", T.std, [U(3, 4)]),
    ("std-axis1", lambda x: T.std(x, axis=1), [U(3, 4)]),
    ("std-axis0-keepdims-ddof1", lambda x: T.std(x, axis=0, keepdims=True, ddof=1), [U(3, 4)]),
    ("max-all", T.max, [distinct(3, 4)]),
    ("max-axis0", lambda x: T.max(x, axis=0), [distinct(3, 4)]),
    ("max-axis1-keepdims", lambda x: T.max(x, axis=1, keepdims=True), [distinct(3, 4)]),
    ("max-axes-0-2", lambda x: T.max(x, axis=(0, 2)), [distinct(2, 3, 2)]),
    ("min-all", T.min, [distinct(3, 4)]),
    ("min-axis1", lambda x: T.min(x, axis=1), [distinct(3, 4)]),
    ("min-axis0-keepdims", lambda x: T.min(x, axis=0, keepdims=True), [distinct(3, 4)]),
    ("max_and_argmax", lambda x: T.max_and_argmax(x, axis=1)[0], [distinct(3, 4)]),
    ("method-sum-mean", lambda x: x.sum(axis=0) * x.mean(), [U(3, 4)]),
]


def _split(x, which, axis=0):
    parts = T.split(x, [1, 3] if axis == 0 else [2, 1, 1], n_splits=2 if axis == 0 else 3, axis=axis)
    return parts[which] if which is not None else T.concatenate([p * (k + 1.0) for k, p in enumerate(parts)], axis)


SHAPE_CASES = [
    ("reshape", lambda x: T.reshape(x, (2, 6)) * U(2, 6), [U(3, 4)]),
    ("reshape-minus-one", lambda x: x.reshape((4, -1)), [U(3, 4)]),
    ("reshape-3d", lambda x: x.reshape((2, 1, 6)), [U(3, 4)]),
    ("flatten", T.flatten, [U(2, 3, 2)]),
    ("flatten-ndim2", lambda x: T.flatten(x, ndim=2), [U(2, 3, 2)]),
    ("ravel", lambda x: x.ravel(), [U(3, 4)]),
    ("dimshuffle-transpose", lambda x: x.dimshuffle(1, 0), [U(3, 4)]),
    ("dimshuffle-add-axes", lambda x: x.dimshuffle("x", 1, "x", 0), [U(3, 4)]),
    ("dimshuffle-drop-broadcast-axis", lambda x: x.dimshuffle(1), [U(1, 4)]),
    ("dimshuffle-broadcast", lambda x, y: x.dimshuffle(0, "x") * y, [U(3), U(3, 4)]),
    ("none-index-broadcast", lambda x, y: x[None] + y, [U(4), U(3, 4)]),
    ("transpose-default", T.transpose, [U(2, 3, 4)]),
    ("transpose-axes", lambda x: T.transpose(x, (1, 2, 0)), [U(2, 3, 4)]),
    ("T-attribute", lambda x: x.T, [U(3, 4)]),
    ("concatenate-axis0", lambda a, b: T.concatenate([a, b, a * 2.0], axis=0), [U(3, 4), U(2, 4)]),
    ("concatenate-axis1", lambda a, b: T.concatenate([a, b], axis=1), [U(3, 4), U(3, 2)]),
    ("join", lambda a, b: T.join(1, a, b), [U(3, 4), U(3, 2)]),
    ("stack-axis0", lambda a, b: T.stack([a, b]), [U(3, 4), U(3, 4, seed=1)]),
    ("stack-axis-last", lambda a, b, c: T.stack([a, b, c], axis=2), [U(3, 4), U(3, 4, seed=1), U(3, 4, seed=2)]),
    ("split-first-output", lambda x: _split(x, 0), [U(4, 3)]),
    ("split-second-output", lambda x: _split(x, 1), [U(4, 3)]),
    ("split-all-outputs-axis1", lambda x: _split(x, None, axis=1), [U(3, 4)]),
    ("tile", lambda x: T.tile(x, (2, 3)), [U(3, 4)]),
    ("tile-more-dims", lambda x: T.tile(x, (2, 1, 2)), [U(3, 4)]),
    ("repeat-flat", lambda x: T.repeat(x, 2), [U(3, 4)]),
    ("repeat-axis0", lambda x: T.repeat(x, 3, axis=0), [U(3, 4)]),
    ("repeat-axis1", lambda x: T.repeat(x, 2, axis=1), [U(3, 4)]),
    ("roll-axis1", lambda x: T.roll(x, 1, axis=1), [U(3, 4)]),
    ("roll-negative-axis0", lambda x: T.roll(x, -2, axis=0), [U(3, 4)]),
    ("roll-flat", lambda x: T.roll(x, 5), [U(3, 4)]),
    ("flip-all", T.flip, [U(3, 4)]),
    ("flip-axis1", lambda x: T.flip(x, 1), [U(3, 4)]),
    ("flip-axes", lambda x: T.flip(x, (0, 2)), [U(2, 3, 2)]),
    ("swapaxes", lambda x: T.swapaxes(x, 0, 2), [U(2, 3, 4)]),
    ("expand_dims", lambda x: T.expand_dims(x, 1), [U(3, 4)]),
    ("expand_dims-several", lambda x: T.expand_dims(x, (0, 3)), [U(3, 4)]),
    ("shape_padleft-padright", lambda x: T.shape_padright(T.shape_padleft(x)), [U(3, 4)]),
    ("squeeze-all", T.squeeze, [U(3, 1, 4, 1)]),
    ("squeeze-axis", lambda x: T.squeeze(x, 1), [U(3, 1, 4)]),
]

_IDX = np.array([2, 0, 2, 2])   # an integer array with repeats
INDEXING_CASES = [
    ("index-int", lambda x: x[1], [U(3, 4)]),
    ("index-two-ints", lambda x: x[-1, 2], [U(3, 4)]),
    ("index-slice", lambda x: x[1:3], [U(3, 4)]),
    ("index-slices-with-steps", lambda x: x[::2, 1::2], [U(3, 4)]),
    ("index-negative-steps", lambda x: x[::-1, ::-2], [U(3, 4)]),
    ("index-negative-step-bounds", lambda x: x[2:0:-1, -1:0:-2], [U(3, 4)]),
    ("index-int-and-slice", lambda x: x[:, 1:-1][1], [U(3, 4)]),
    ("index-ellipsis", lambda x: x[..., 1], [U(2, 3, 4)]),
    ("index-newaxis", lambda x: x[:, None, 1:], [U(3, 4)]),
    ("index-int-array-repeats", lambda x: x[_IDX], [U(3, 4)]),
    ("index-int-array-axis1-repeats", lambda x: x[:, [1, 1, 3]], [U(3, 4)]),
    ("index-list-on-vector", lambda x: x[[0, 0, 1, 3]], [U(4)]),
    ("take-axis1", lambda x: T.take(x, np.array([3, 0, 3]), axis=1), [U(3, 4)]),
    ("take-flat", lambda x: T.take(x, np.array([5, 5, 11])), [U(3, 4)]),
    ("set_subtensor-slice", lambda x, y: T.set_subtensor(x[1:3], y), [U(3, 4), U(2, 4)]),
    ("set_subtensor-broadcast-value", lambda x, y: T.set_subtensor(x[:, 1], y), [U(3, 4), U()]),
    ("set_subtensor-steps", lambda x, y: T.set_subtensor(x[::-2, 1::2], y), [U(3, 4), U(2, 2)]),
    ("set_subtensor-int", lambda x, y: T.set_subtensor(x[1, 2], y) * x, [U(3, 4), U()]),
    ("set_subtensor-int-array", lambda x, y: T.set_subtensor(x[[0, 2]], y), [U(3, 4), U(2, 4)]),
    ("set_subtensor-int-array-repeats", lambda x, y: T.set_subtensor(x[[0, 0]], y), [U(3, 4), U(2, 4)]),
    ("inc_subtensor-slice", lambda x, y: T.inc_subtensor(x[1:3], y), [U(3, 4), U(2, 4)]),
    ("inc_subtensor-broadcast-row", lambda x, y: T.inc_subtensor(x[:, ::2], y), [U(3, 4), U(1, 2)]),
    ("inc_subtensor-int-array-repeats", lambda x, y: T.inc_subtensor(x[_IDX], y) ** 2, [U(3, 4), U(4, 4)]),
    ("inc_subtensor-set_instead_of_inc", lambda x, y: T.inc_subtensor(x[0], y, set_instead_of_inc=True),
     [U(3, 4), U(4)]),
    ("take_along_axis", lambda x: T.take_along_axis(x, np.array([[2, 0, 2], [1, 1, 3], [0, 3, 0]]), 1), [U(3, 4)]),
    ("take_along_axis-axis0", lambda x: T.take_along_axis(x, np.array([[2, 0, 1, 1]]), 0), [U(3, 4)]),
    ("take_along_axis-broadcast-indices", lambda x: T.take_along_axis(x, np.array([[[1], [0], [1]]]), 2),
     [U(2, 3, 2)]),
]

PRODUCT_CASES = [
    ("dot-vector-vector", T.dot, [U(4), U(4, seed=1)]),
    ("dot-vector-matrix", T.dot, [U(3), U(3, 4)]),
    ("dot-matrix-vector", T.dot, [U(3, 4), U(4)]),
    ("dot-matrix-matrix", T.dot, [U(3, 4), U(4, 2)]),
    ("dot-scalar-matrix", T.dot, [U(), U(3, 4)]),
    ("dot-3d-matrix", T.dot, [U(2, 3, 4), U(4, 2)]),
    ("dot-3d-vector", T.dot, [U(2, 3, 4), U(4)]),
    ("dot-method", lambda a, b: a.dot(b), [U(3, 4), U(4, 2)]),
    ("matmul-matrix", T.matmul, [U(3, 4), U(4, 2)]),
    ("matmul-batched", T.matmul, [U(2, 3, 4), U(2, 4, 2)]),
    ("matmul-broadcast-batch", T.matmul, [U(1, 3, 4), U(2, 4, 2)]),
    ("matmul-matrix-by-batch", T.matmul, [U(3, 4), U(2, 4, 2)]),
    ("matmul-operator", lambda a, b: a @ b, [U(2, 3, 4), U(4, 2)]),
    ("outer", T.outer, [U(3), U(4)]),
    ("tensordot-axes1", lambda a, b: T.tensordot(a, b, 1), [U(2, 3), U(3, 4)]),
    ("tensordot-axes2", lambda a, b: T.tensordot(a, b, 2), [U(2, 3, 4), U(3, 4, 2)]),
    ("tensordot-axes-lists", lambda a, b: T.tensordot(a, b, [[0, 2], [2, 0]]), [U(2, 3, 4), U(4, 2, 2)]),
    ("batched_dot-3d", T.batched_dot, [U(2, 3, 4), U(2, 4, 2)]),
    ("batched_dot-2d", T.batched_dot, [U(3, 4), U(3, 4, seed=1)]),
    ("batched_dot-3d-by-2d", T.batched_dot, [U(2, 3, 4), U(2, 4)]),
]

NNET_CASES = [
    ("softmax", nnet.softmax, [U(3, 4)]),
    ("softmax-axis0", lambda x: nnet.softmax(x, axis=0), [U(3, 4)]),
    ("softmax-vector", nnet.softmax, [U(4)]),
    ("log_softmax", nnet.log_softmax, [U(3, 4)]),
    ("log_softmax-axis0", lambda x: nnet.log_softmax(x, axis=0), [U(3, 4)]),
    ("logsumexp-all", nnet.logsumexp, [U(3, 4)]),
    ("logsumexp-axis1-keepdims", lambda x: nnet.logsumexp(x, axis=1, keepdims=True), [U(3, 4)]),
    ("relu", nnet.relu, [away(3, 4)]),
    ("relu-leaky", lambda x: nnet.relu(x, alpha=0.1), [away(3, 4)]),
    ("elu", nnet.elu, [away(3, 4)]),
    ("elu-alpha", lambda x: nnet.elu(x, alpha=0.5), [away(3, 4)]),
    ("selu", nnet.selu, [away(3, 4)]),
    ("softplus", nnet.softplus, [U(3, 4, lo=-3, hi=3)]),
    ("sigmoid", nnet.sigmoid, [U(3, 4, lo=-3, hi=3)]),
    ("softsign", nnet.softsign, [U(3, 4, lo=-3, hi=3)]),
    ("hard_sigmoid", nnet.hard_sigmoid, [np.array([[-4.0, -1.0, 0.3, 1.7], [2.0, 3.5, -2.0, -0.1]])]),
    ("log_sigmoid", nnet.log_sigmoid, [U(3, 4, lo=-3, hi=3)]),
    ("categorical_crossentropy-onehot", lambda p: nnet.categorical_crossentropy(p, ONEHOT), [probs(3, 4)]),
    ("categorical_crossentropy-soft-targets", nnet.categorical_crossentropy, [probs(3, 4), probs(3, 4, seed=1)]),
    ("categorical_crossentropy-labels", lambda p: nnet.categorical_crossentropy(p, LABELS), [probs(3, 4)]),
    ("categorical_crossentropy-softmax-labels",
     lambda x: T.mean(nnet.categorical_crossentropy(nnet.softmax(x), LABELS)), [U(3, 4)]),
    ("crossentropy_categorical_1hot", lambda p: nnet.crossentropy_categorical_1hot(p, LABELS), [probs(3, 4)]),
    ("binary_crossentropy", nnet.binary_crossentropy, [U(3, 4, lo=0.1, hi=0.9), U(3, 4, lo=0.0, hi=1.0)]),
    ("sigmoid_binary_crossentropy", nnet.sigmoid_binary_crossentropy, [U(3, 4, lo=-3, hi=3), U(3, 4, lo=0, hi=1)]),
]

EXTRA_CASES = [
    ("cumsum-flat", T.cumsum, [U(3, 4)]),
    ("cumsum-axis0", lambda x: T.cumsum(x, axis=0), [U(3, 4)]),
    ("cumsum-axis-1", lambda x: T.cumsum(x, axis=-1), [U(3, 4)]),
    ("cumprod-flat", T.cumprod, [away(2, 3)]),
    ("cumprod-axis1", lambda x: T.cumprod(x, axis=1), [away(3, 4)]),
    ("cumprod-axis0", lambda x: T.cumprod(x, axis=0), [P(3, 4)]),
    ("cumprod-with-a-zero", lambda x: T.cumprod(x, axis=1), [U(2, 4) * np.array([[1, 0, 1, 1], [1, 1, 1, 0]])]),
    ("sort-last-axis", T.sort, [distinct(3, 4)]),
    ("sort-axis0", lambda x: T.sort(x, axis=0), [distinct(3, 4)]),
    ("sort-flat", lambda x: T.sort(x, axis=None), [distinct(3, 4)]),
    ("sort-by-argsort", lambda x: T.take_along_axis(x, T.argsort(x, axis=1), 1), [distinct(3, 4)]),
    ("diag-vector-to-matrix", T.diag, [U(3)]),
    ("diag-vector-offset", lambda v: T.diag(v, k=1), [U(3)]),
    ("diag-matrix-to-vector", T.diag, [U(3, 4)]),
    ("diag-matrix-negative-offset", lambda m: T.diag(m, k=-1), [U(3, 4)]),
    ("diagonal", T.diagonal, [U(3, 4)]),
    ("diagonal-offset", lambda m: T.diagonal(m, offset=1), [U(3, 4)]),
    ("diagonal-3d-axes", lambda m: T.diagonal(m, offset=0, axis1=1, axis2=2), [U(2, 3, 3)]),
    ("trace", T.trace, [U(3, 4)]),
    ("trace-offset", lambda m: T.trace(m, offset=1), [U(3, 4)]),
    ("cast-float32-and-back", lambda x: T.cast(T.cast(x, "float32") ** 2, "float64"), [P(3, 4)],
     dict(eps=1e-3, rel_tol=1e-3, abs_tol=1e-3)),
    ("astype-float32-and-back", lambda x: (x.astype("float32") * 3.0).astype("float64"), [U(3, 4)],
     dict(eps=1e-2, rel_tol=1e-3, abs_tol=1e-3)),
    ("float32-intermediate", lambda x: T.cast(T.exp(T.cast(x, "float32")), "float64") * x, [U(3, 4)],
     dict(eps=1e-2, rel_tol=1e-2, abs_tol=1e-3)),
]

ALL_CASES = (UNARY_CASES + BINARY_CASES + ELEMWISE_CASES + REDUCTION_CASES + SHAPE_CASES + INDEXING_CASES +
             PRODUCT_CASES + NNET_CASES + EXTRA_CASES)

# Cases that fail because of a bug in Hypatia: name -> reason.
KNOWN_BUGS = {
    "cumprod-with-a-zero": "LIMITATION (as PyTensor): the gradient of cumprod is NaN at inputs holding a 0 "
                           "(it divides by x); prod handles zeros",
}


def _param(case):
    name, fun, points, *options = case
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])] if name in KNOWN_BUGS else []
    return pytest.param(fun, points, options[0] if options else {}, id=name, marks=marks)


def test_case_names_are_unique():
    names = [case[0] for case in ALL_CASES]
    assert len(names) == len(set(names))
    assert set(KNOWN_BUGS) <= set(names)


@pytest.mark.parametrize("fun, points, options", [_param(case) for case in ALL_CASES])
def test_verify_grad(fun, points, options):
    check(fun, points, **options)


def _grads_of_projection(fun, points, static):
    """The gradients of sum(fun(*inputs) * projection), with static or unknown input shapes (size-1 axes stay 1)."""
    inputs = [T.tensor(f"in{k}", dtype="float64",
                       shape=p.shape if static else tuple(1 if d == 1 else None for d in p.shape))
              for k, p in enumerate(points)]
    out = T.cast(fun(*inputs), "float64")
    shape = np.shape(theano.function(inputs, out, on_unused_input="ignore")(*points))
    cost = T.sum(out * np.random.default_rng(0).uniform(0.5, 1.5, shape)) if shape else out
    grads = theano.grad(cost, inputs, disconnected_inputs="ignore")
    return theano.function(inputs, grads, on_unused_input="ignore")(*points)


@pytest.mark.parametrize("fun, points",
                         [pytest.param(c[1], c[2], id=c[0]) for c in ALL_CASES if c[0] not in KNOWN_BUGS])
def test_gradients_do_not_need_static_shapes(fun, points):
    """verify_grad's inputs have static shapes; the same gradients come out when only the broadcast axes are known."""
    for known, unknown in zip(_grads_of_projection(fun, points, True), _grads_of_projection(fun, points, False)):
        assert known.shape == unknown.shape
        np.testing.assert_allclose(unknown, known, rtol=1e-12, atol=1e-12)


def test_verify_grad_notices_a_wrong_gradient():
    # zero_grad makes the symbolic gradient of x * x half the true one: the table above would catch that.
    with pytest.raises(GradientError, match=r"gradient mismatch for input 0"):
        check(lambda x: theano.gradient.zero_grad(x) * x, [U(3, 4)])
    with pytest.raises(ValueError):  # GradientError is a ValueError
        check(lambda x, y: x * theano.gradient.disconnected_grad(y) * y, [U(2), P(2)])


def test_verify_grad_refuses_integer_points():
    with pytest.raises(TypeError, match="float points"):
        verify_grad(T.exp, [np.arange(3)])


# ---- Integers ----
# grad only propagates through float variables. A wrt of an integer dtype never receives a gradient, so
# grad refuses it like a disconnected input (disconnected_inputs='raise', the default) and gives zeros
# with disconnected_inputs='ignore' / 'warn'.

def _int_cost():
    i = T.ivector("i")
    return i, T.sum(T.cast(i, "float64") * 2.0 + i * 3.0)


@pytest.mark.parametrize("mode", ["raise", "ignore", "warn"])
def test_grad_wrt_an_integer_input_is_floatx_zeros(mode):
    # Theano's convention: an integer variable the cost depends on has a zero gradient, in floatX.
    i, cost = _int_cost()
    g = theano.grad(cost, i, disconnected_inputs=mode)
    assert g.dtype == theano.config.floatX
    value = g.eval({i: np.array([1, 5, -2], dtype="int32")})
    assert value.shape == (3,)
    assert np.all(value == 0)


def test_grad_wrt_an_unrelated_integer_input_is_disconnected():
    i, other = T.ivector("i"), T.ivector("other")
    with pytest.raises(ValueError, match=r"\[grad\] the cost does not depend on 'other' int32"):
        theano.grad(T.sum(T.cast(i, "float64")), other)


def test_integer_costs_follow_theano():
    # Theano: an integer cost's gradient with respect to itself is a float one; what it is computed from
    # through integers (argmax, comparisons, integer clip) gets zeros in floatX.
    i, iv, x = T.iscalar("i"), T.ivector("iv"), T.dvector("x")
    own = theano.grad(i, i)
    assert own.dtype == theano.config.floatX and own.eval({i: 3}) == 1
    np.testing.assert_array_equal(theano.grad(T.sum(iv * 2), iv).eval({iv: np.arange(3, dtype="int32")}), [0, 0, 0])
    np.testing.assert_array_equal(theano.grad(T.clip(iv, 0, 3).sum(), iv).eval({iv: np.arange(3, dtype="int32")}),
                                  [0, 0, 0])
    np.testing.assert_array_equal(theano.grad(T.argmax(x), x).eval({x: [1.0, 3.0, 2.0]}), [0, 0, 0])
    for reduction in (T.any, T.all):
        np.testing.assert_array_equal(theano.grad(reduction(x > 1), x).eval({x: [1.0, 3.0]}), [0, 0])


def test_integer_operands_are_constants_for_the_float_gradient():
    x, i, W = T.dvector("x"), T.lvector("i"), T.imatrix("W")
    xv, iv, Wv = np.array([1.0, 2.0, 3.0]), np.array([2, 0, 3]), np.arange(6, dtype="int32").reshape(3, 2)
    g_mul, g_pow = theano.grad(T.sum(x * i), x), theano.grad(T.sum(x ** i), x)
    g_dot = theano.grad(T.sum(T.dot(x, W)), x)
    assert g_mul.dtype == g_pow.dtype == g_dot.dtype == "float64"
    f = theano.function([x, i, W], [g_mul, g_pow, g_dot], on_unused_input="ignore")
    got = f(xv, iv, Wv)
    np.testing.assert_allclose(got[0], iv)
    np.testing.assert_allclose(got[1], iv * xv ** (iv - 1))
    np.testing.assert_allclose(got[2], Wv.sum(axis=1))


def test_steps_and_comparisons_have_zero_gradient():
    x = T.dvector("x")
    xv = np.array([0.3, 1.7, -2.2])
    for cost in [T.sum(T.floor(x)), T.sum(T.round(x) + T.ceil(x)), T.sum(T.int_div(x, 0.7)), T.sum(T.sign(x)),
                 T.sum(T.gt(x, 0) * 1.0 + x * 0.0)]:
        np.testing.assert_array_equal(theano.grad(cost, x).eval({x: xv}), np.zeros(3))


def test_argmax_path_has_no_gradient_but_indexing_with_it_does():
    x = T.dvector("x")
    g = theano.grad(x[T.argmax(x)] + T.sum(T.cast(T.argmax(x), "float64") * x), x)
    np.testing.assert_allclose(g.eval({x: np.array([1.0, 5.0, -3.0])}), [1.0, 2.0, 1.0])


def test_cast_to_integer_has_zero_gradient():
    x = T.dvector("x")
    g = theano.grad(T.sum(T.cast(x, "int32") * 1.5), x)
    np.testing.assert_array_equal(g.eval({x: np.array([0.3, 1.7])}), np.zeros(2))


def test_categorical_crossentropy_with_symbolic_integer_labels():
    logits, labels = T.dmatrix("logits"), T.lvector("labels")
    cost = T.mean(nnet.categorical_crossentropy(nnet.softmax(logits), labels))
    lv = U(3, 4)
    sm = np.exp(lv) / np.exp(lv).sum(axis=1, keepdims=True)
    g = theano.grad(cost, logits).eval({logits: lv, labels: LABELS})
    np.testing.assert_allclose(g, (sm - ONEHOT) / 3, rtol=1e-10, atol=1e-12)
    # Integer labels reach the cost: their gradient is zero (Theano's convention for integers).
    _, g_labels = theano.grad(cost, [logits, labels])
    assert np.all(g_labels.eval({labels: LABELS}) == 0)


# ---- Hand-computed gradients (no finite differences) ----

def test_sum_of_squares():
    x = T.dmatrix("x")
    xv = U(3, 4)
    np.testing.assert_allclose(theano.grad(T.sum(x ** 2), x).eval({x: xv}), 2 * xv, rtol=1e-12)
    np.testing.assert_allclose(theano.grad(T.sum(T.sqr(x)), x).eval({x: xv}), 2 * xv, rtol=1e-12)


def test_polynomial_and_its_second_derivative():
    x = T.dscalar("x")
    cost = x ** 3 + 2.0 * x
    g = theano.grad(cost, x)
    h = theano.grad(g, x)
    f = theano.function([x], [g, h])
    got_g, got_h = f(2.0)
    assert got_g == pytest.approx(14.0) and got_h == pytest.approx(12.0)


def test_seed_network_gradients_against_numpy():
    # The seed program: two tanh layers, err = 0.5 * sum(out - y) ** 2.
    sx, sy = T.dmatrix("x"), T.dmatrix("y")
    params = {"w": U(4, 3), "b": U(3, seed=1), "v": U(3, 2, seed=2), "c": U(2, seed=3)}
    w, b, v, c = (theano.shared(value, name=name) for name, value in params.items())
    hid = T.tanh(T.dot(sx, w) + b)
    out = T.tanh(T.dot(hid, v) + c)
    err = 0.5 * T.sqr(T.sum(out - sy))
    grads = theano.grad(err, [w, b, v, c])
    xv, yv = U(5, 4, seed=4), U(5, 2, seed=5)
    got = theano.function([sx, sy], grads)(xv, yv)

    h = np.tanh(xv @ params["w"] + params["b"])
    o = np.tanh(h @ params["v"] + params["c"])
    d_out = np.full_like(o, np.sum(o - yv))
    d_z2 = d_out * (1 - o ** 2)
    d_z1 = (d_z2 @ params["v"].T) * (1 - h ** 2)
    expected = [xv.T @ d_z1, d_z1.sum(axis=0), h.T @ d_z2, d_z2.sum(axis=0)]
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


def test_a_training_step_with_updates_moves_along_the_gradient():
    x = T.dmatrix("x")
    wv = U(4, 3)
    w = theano.shared(wv.copy(), name="w")
    cost = T.mean(T.tanh(T.dot(x, w)) ** 2)
    train = theano.function([x], cost, updates=[(w, w - 0.5 * theano.grad(cost, w))])
    xv = U(5, 4, seed=1)
    train(xv)
    a = np.tanh(xv @ wv)
    expected_grad = xv.T @ (2 * a * (1 - a ** 2)) / a.size
    np.testing.assert_allclose(w.get_value(), wv - 0.5 * expected_grad, rtol=1e-10)


def test_broadcast_operands_get_summed_gradients_with_unknown_shapes():
    m, r, c, s, v = T.matrix("m"), T.row("r"), T.col("c"), T.scalar("s"), T.vector("v")
    t = T.tensor("t", shape=(1, None))
    cost = T.sum(m * r * c + s * m + v * m + t)
    mv, rv, cv, vv, tv = U(3, 4), U(1, 4, seed=1), U(3, 1, seed=2), U(4, seed=3), U(1, 4, seed=4)
    got = theano.function([m, r, c, s, v, t], theano.grad(cost, [m, r, c, s, v, t]))(mv, rv, cv, 2.0, vv, tv)
    expected = [rv * cv + 2.0 + vv, (mv * cv).sum(0, keepdims=True), (mv * rv).sum(1, keepdims=True), mv.sum(),
                mv.sum(0), np.full((1, 4), 3.0)]
    for g, e in zip(got, expected):
        assert g.shape == np.shape(e)
        np.testing.assert_allclose(g, e, rtol=1e-12)


def test_advanced_increments_accumulate_repeated_indices():
    x, y = T.dmatrix("x"), T.dmatrix("y")
    wv = U(3, 4)
    cost = T.sum(wv * T.inc_subtensor(x[[0, 0, 2]], y))
    gx, gy = theano.function([x, y], theano.grad(cost, [x, y]))(U(3, 4, seed=1), U(3, 4, seed=2))
    np.testing.assert_allclose(gx, wv)
    np.testing.assert_allclose(gy, wv[[0, 0, 2]])


def test_max_gradient_goes_to_the_maximum():
    x = T.dmatrix("x")
    xv = distinct(3, 4)
    g = theano.grad(T.sum(T.max(x, axis=1)), x).eval({x: xv})
    np.testing.assert_array_equal(g, (xv == xv.max(axis=1, keepdims=True)).astype(float))


def test_gradient_dtype_follows_the_input():
    x32, x64 = T.fvector("x32"), T.dvector("x64")
    g32, g64 = theano.grad(T.sum(T.cast(x32, "float64") * x64), [x32, x64])
    assert (g32.dtype, g64.dtype) == ("float32", "float64")
    got = theano.function([x32, x64], g32)(np.array([1, 2], dtype="float32"), np.array([3.0, 4.0]))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [3.0, 4.0])


def test_stable_log_softmax_gradient_for_large_logits():
    x = T.dvector("x")
    g = theano.grad(T.sum(nnet.log_softmax(x) * np.array([0.0, 1.0, 0.0])), x)
    np.testing.assert_allclose(g.eval({x: np.array([1000.0, 0.0, -1000.0])}), [-1.0, 1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(theano.grad(nnet.logsumexp(x), x).eval({x: np.array([1000.0, 0.0, -1000.0])}),
                               [1.0, 0.0, 0.0], atol=1e-12)


def test_pow_of_a_zero_base_has_zero_gradient_wrt_the_exponent():
    b = T.dvector("b")
    g = theano.grad(T.sum(T.pow(np.zeros(3), b)), b)
    np.testing.assert_array_equal(g.eval({b: np.array([1.0, 2.0, 3.0])}), np.zeros(3))


# ---- Second derivatives: gradient graphs are ordinary graphs ----

def _g(cost_fn):
    """x -> d cost_fn(x) / dx, a graph verify_grad differentiates again."""
    return lambda x: theano.grad(cost_fn(x), x)


SECOND_ORDER_CASES = [
    ("tanh", _g(lambda x: T.sum(T.tanh(x) ** 2)), [U(3, 4)]),
    ("exp-sin-log", _g(lambda x: T.sum(T.exp(x) * T.sin(x) + T.log(x))), [P(3, 4)]),
    ("sqrt-sigmoid-softplus", _g(lambda x: T.sum(T.sqrt(x) + nnet.sigmoid(x) * nnet.softplus(x))), [P(3, 4)]),
    ("erf-arctan-cosh", _g(lambda x: T.sum(T.erf(x) + T.arctan(x) * T.cosh(x))), [U(3, 4)]),
    ("pow-wrt-both", lambda x, y: T.concatenate(theano.grad(T.sum(x ** y), [x, y])), [P(3, 4), U(3, 4)]),
    ("true_div-wrt-divisor", lambda x, y: theano.grad(T.sum(x / y), y), [U(3, 4), P(3, 4)]),
    ("softmax", _g(lambda x: T.sum(nnet.softmax(x) * np.arange(12.0).reshape(3, 4))), [U(3, 4)]),
    ("log_softmax", _g(lambda x: T.sum(nnet.log_softmax(x) * ONEHOT)), [U(3, 4)]),
    ("crossentropy-labels", _g(lambda x: T.mean(nnet.categorical_crossentropy(nnet.softmax(x), LABELS))), [U(3, 4)]),
    ("binary_crossentropy", _g(lambda x: T.sum(nnet.binary_crossentropy(nnet.sigmoid(x), U(3, 4, lo=0, hi=1)))),
     [U(3, 4)]),
    ("logsumexp", _g(nnet.logsumexp), [U(3, 4)]),
    ("dense-layer-W", _g(lambda W: T.sum(T.tanh(T.dot(U(2, 3), W)))), [U(3, 4)]),
    ("dot-wrt-both", lambda a, b: T.concatenate([g.flatten() for g in theano.grad(T.sum(T.dot(a, b) ** 2), [a, b])]),
     [U(3, 4), U(4, 2)]),
    ("matmul-batched", lambda a, b: theano.grad(T.sum(T.matmul(a, b) ** 2), a), [U(2, 3, 4), U(2, 4, 2)]),
    ("prod", _g(T.prod), [P(2, 3)]),
    ("prod-axis", _g(lambda x: T.sum(T.prod(x, axis=1))), [away(3, 3)]),
    ("cumprod-cumsum", _g(lambda x: T.sum(T.cumprod(x, axis=1) + T.cumsum(x, axis=0) ** 2)), [P(3, 4)]),
    ("var-std", _g(lambda x: T.var(x) + T.std(x, axis=0).sum()), [U(3, 4)]),
    ("max-sort", _g(lambda x: T.sum(T.max(x, axis=1) ** 2) + T.sum(T.sort(x) ** 2 * np.arange(4.0))), [distinct(3, 4)]),
    ("indexing", _g(lambda x: T.sum(x[::-1, [0, 0, 2]] ** 3)), [U(3, 4)]),
    ("set_subtensor-wrt-value", lambda x, y: theano.grad(T.sum(T.set_subtensor(x[1:], y) ** 3), y),
     [U(3, 4), U(2, 4)]),
    ("inc_subtensor-repeats", lambda x, y: theano.grad(T.sum(T.inc_subtensor(x[[0, 0]], y) ** 3), x),
     [U(3, 4), U(2, 4)]),
    ("elu-relu-abs-clip", _g(lambda x: T.sum(nnet.elu(x) ** 2 + nnet.relu(x) ** 2 + abs(x) ** 3 +
                                             T.clip(x, -0.5, 0.5) ** 2)), [away(3, 4)]),
    ("shape-ops", _g(lambda x: T.sum(T.tile(T.roll(T.flip(x, 0), 1, axis=1), (2, 1)).reshape((3, 4)) ** 3)),
     [U(2, 3)]),
    ("diag-trace", _g(lambda x: T.trace(x) ** 2 + T.sum(T.diag(T.diagonal(x)) ** 3)), [U(3, 3)]),
    ("third-order", _g(lambda x: T.sum(theano.grad(T.sum(T.sin(x) ** 3), x) ** 2)), [U(3, 4)]),
]


@pytest.mark.parametrize("fun, points", [pytest.param(f, p, id=n) for n, f, p in SECOND_ORDER_CASES])
def test_second_derivatives(fun, points):
    check(fun, points)


def test_hessian_vector_product_by_hand():
    x, v = T.dvector("x"), T.dvector("v")
    g = theano.grad(T.sum(x ** 3), x)
    hv = theano.grad(T.sum(g * v), x)  # H = diag(6x)
    xv, vv = np.array([1.0, 2.0, -1.0]), np.array([1.0, 0.5, 2.0])
    np.testing.assert_allclose(hv.eval({x: xv, v: vv}), 6 * xv * vv)
    np.testing.assert_allclose(theano.gradient.hessian_vector_product(T.sum(x ** 3), x, v).eval({x: xv, v: vv}),
                               6 * xv * vv)


def test_rop_matches_finite_differences_and_lop_matches_the_weighted_gradient():
    rng = np.random.default_rng(3)
    x, u, w = T.dvector("x"), T.dvector("u"), T.dvector("w")
    f = T.tanh(x) * T.sum(x ** 2) + T.nnet.softmax(x[None, :])[0]
    xv, uv, wv = rng.normal(size=4), rng.normal(size=4), rng.normal(size=4)
    jvp = theano.function([x, u], T.Rop(f, x, u))(xv, uv)
    fx = theano.function([x], f)
    eps = 1e-6
    np.testing.assert_allclose(jvp, (fx(xv + eps * uv) - fx(xv - eps * uv)) / (2 * eps), rtol=1e-6, atol=1e-8)
    vjp = theano.function([x, w], T.Lop(f, x, w))(xv, wv)
    np.testing.assert_allclose(vjp, theano.function([x, w], theano.grad(T.sum(f * w), x))(xv, wv), rtol=1e-12)


def test_jacobian_and_hessian_against_numpy():
    x = T.dvector("x")
    m = T.dmatrix("m")
    xv, mv = np.array([0.5, -1.0, 2.0]), np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(theano.gradient.jacobian(T.dot(m, x), x).eval({x: xv, m: mv}), mv)
    jm = theano.gradient.jacobian(T.dot(m, x), m).eval({x: xv, m: mv})
    assert jm.shape == (2, 2, 3)
    np.testing.assert_allclose(jm[1, 1], xv)
    np.testing.assert_allclose(theano.gradient.hessian(T.sum(T.exp(x)), x).eval({x: xv}), np.diag(np.exp(xv)))


# ---- grad options ----

def test_consider_constant_stops_the_gradient_through_a_variable():
    x = T.dvector("x")
    y = x ** 2
    cost = T.sum(y * x)
    xv = np.array([1.0, 2.0, -3.0])
    np.testing.assert_allclose(theano.grad(cost, x).eval({x: xv}), 3 * xv ** 2)
    np.testing.assert_allclose(theano.grad(cost, x, consider_constant=[y]).eval({x: xv}), xv ** 2)


def test_consider_constant_agrees_with_disconnected_grad_in_the_graph():
    x = T.dvector("x")
    xv = np.array([1.0, 2.0, -3.0])
    y = x ** 2
    by_option = theano.grad(T.sum(T.exp(y) * x), x, consider_constant=[y])
    by_op = theano.grad(T.sum(T.exp(theano.gradient.disconnected_grad(x ** 2)) * x), x)
    np.testing.assert_allclose(by_option.eval({x: xv}), np.exp(xv ** 2))
    np.testing.assert_allclose(by_op.eval({x: xv}), np.exp(xv ** 2))


def test_consider_constant_still_differentiates_wrt_the_constant_itself():
    x = T.dvector("x")
    y = x ** 2
    y.name = "y"
    xv = np.array([1.0, 2.0, -3.0])
    gx, gy = theano.grad(T.sum(y * x), [x, y], consider_constant=[y])
    np.testing.assert_allclose(gx.eval({x: xv}), xv ** 2)
    np.testing.assert_allclose(gy.eval({x: xv}), xv)


def test_known_grads_without_a_cost():
    x = T.dvector("x")
    y = x * 3.0
    seed = np.array([1.0, 10.0, 100.0])
    g = theano.grad(None, x, known_grads={y: seed})
    np.testing.assert_allclose(g.eval({x: np.zeros(3)}), 3 * seed)
    z = x ** 2  # a symbolic known gradient, and several seeds at once
    g2 = theano.grad(None, x, known_grads={y: x, z: T.ones_like(x)})
    xv = np.array([1.0, 2.0, -3.0])
    np.testing.assert_allclose(g2.eval({x: xv}), 3 * xv + 2 * xv)


def test_known_grads_add_to_a_cost_outside_their_graph():
    x = T.dvector("x")
    xv = np.array([1.0, 2.0, -3.0])
    g = theano.grad(T.sum(x ** 2), x, known_grads={x * 3.0: np.ones(3)})
    np.testing.assert_allclose(g.eval({x: xv}), 2 * xv + 3)


def test_known_grads_of_the_wrong_rank_are_refused():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="known gradient"):
        theano.grad(None, x, known_grads={x * 2.0: 1.0})


@pytest.mark.parametrize("which", ["intermediate", "cost"])
def test_known_grads_on_the_cost_path_give_the_gradient_of_the_cost(which):
    x = T.dvector("x")
    y = x * x
    cost = T.sum(y)
    xv = np.array([1.0, 2.0, 3.0])
    if which == "intermediate":
        known, expected = {y: np.array([1.0, 10.0, 100.0])}, 2 * xv * np.array([1.0, 10.0, 100.0])
    else:
        known, expected = {cost: np.array(2.0)}, 2 * 2 * xv
    np.testing.assert_allclose(theano.grad(cost, x, known_grads=known).eval({x: xv}), expected)


def test_disconnected_inputs_raise_names_the_variable():
    x, unused = T.dvector("x"), T.dmatrix("unused_weights")
    with pytest.raises(ValueError, match=r"\[grad\] the cost does not depend on 'unused_weights'"):
        theano.grad(T.sum(x * 2.0), [x, unused])
    with pytest.raises(ValueError, match="'unused_weights'"):
        theano.grad(T.sum(x * 2.0), [x, unused], disconnected_inputs="raise")


def test_disconnected_inputs_ignore_gives_zeros():
    x, unused = T.dvector("x"), T.dmatrix("unused")
    gx, gu = theano.grad(T.sum(x * 2.0), [x, unused], disconnected_inputs="ignore")
    np.testing.assert_array_equal(gx.eval({x: np.ones(3)}), [2.0, 2.0, 2.0])
    np.testing.assert_array_equal(gu.eval({unused: np.ones((2, 3))}), np.zeros((2, 3)))


def test_disconnected_inputs_warn_gives_zeros_and_says_which():
    x, unused = T.dvector("x"), T.dvector("unused")
    with pytest.warns(UserWarning, match="'unused'"):
        gu = theano.grad(T.sum(x * 2.0), [x, unused], disconnected_inputs="warn")[1]
    np.testing.assert_array_equal(gu.eval({unused: np.ones(2)}), np.zeros(2))


def test_disconnected_inputs_refuses_unknown_modes():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="disconnected_inputs"):
        theano.grad(T.sum(x), x, disconnected_inputs="bogus")


def test_disconnected_grad_is_identity_forward_and_blocks_backward():
    x = T.dvector("x")
    xv = np.array([1.0, 2.0, -3.0])
    np.testing.assert_array_equal(theano.gradient.disconnected_grad(x * 2.0).eval({x: xv}), 2 * xv)
    # Only path: x is disconnected.
    with pytest.raises(ValueError, match="does not depend on 'x'"):
        theano.grad(T.sum(theano.gradient.disconnected_grad(x)), x)
    g = theano.grad(T.sum(theano.gradient.disconnected_grad(x)), x, disconnected_inputs="ignore")
    np.testing.assert_array_equal(g.eval({x: xv}), np.zeros(3))
    # Another path still gives its gradient.
    np.testing.assert_allclose(theano.grad(T.sum(T.disconnected_grad(x ** 2) * x), x).eval({x: xv}), xv ** 2)


def test_zero_grad_is_identity_forward_and_zero_backward():
    x = T.dvector("x")
    xv = np.array([1.0, 2.0, -3.0])
    np.testing.assert_array_equal(theano.gradient.zero_grad(x * 2.0).eval({x: xv}), 2 * xv)
    # Unlike disconnected_grad, the input stays connected: a zero gradient, no error.
    np.testing.assert_array_equal(theano.grad(T.sum(T.zero_grad(x)), x).eval({x: xv}), np.zeros(3))
    np.testing.assert_allclose(theano.grad(T.sum(T.zero_grad(x) * 5.0 + x ** 2), x).eval({x: xv}), 2 * xv)


def test_grad_argument_checks_and_names():
    x = T.dvector("x")
    with pytest.raises(ValueError, match="must be a scalar"):
        theano.grad(x * 2.0, x)
    with pytest.raises(TypeError, match="wrt must hold symbolic Variables"):
        theano.grad(T.sum(x), 3.0)
    with pytest.raises(NotImplementedError, match="return_disconnected"):
        theano.grad(T.sum(x), x, return_disconnected="None")
    cost = T.sum(x ** 2)
    cost.name = "cost"
    g = theano.grad(cost, x)
    assert g.name == "(dcost/dx)"
    assert theano.grad(cost, x, add_names=False).name != "(dcost/dx)"
    both = theano.grad(cost, [x])
    assert isinstance(both, list) and len(both) == 1
