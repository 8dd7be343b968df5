"""Theano's tensor.extra_ops: cumulative ops, sorting, repeat, diagonals."""
import functools

import numpy as np

from .._missing import module_getattr
from .basic import (abs, arange, argsort, as_tensor_variable, cast, concatenate, cumprod, cumsum, diag,  # noqa: F401
                    diagonal, eq, logical_and, maximum, neq, ones_like, repeat, set_subtensor, shape_padright,
                    sort, squeeze, sum, switch, take_along_axis, trace, zeros)
from .type import normalize_dtype


def to_one_hot(y, nb_class, dtype=None):
    """A matrix with a 1 in column y[i] of row i (dtype floatX unless given)."""
    y = as_tensor_variable(y)
    return cast(eq(shape_padright(y), arange(nb_class)), normalize_dtype(dtype))


def _diagonal_value(a, val, name):
    """val as a scalar of a's dtype, refusing a val that a's dtype cannot hold (Theano's rule)."""
    val = as_tensor_variable(val)
    if val.ndim != 0:
        raise TypeError(f"{name}: the value must be a scalar, got {val.ndim} dimensions")
    if np.promote_types(a.dtype, val.dtype) != np.dtype(a.dtype):
        raise TypeError(f"{name}: a {val.dtype} value does not fit the {a.dtype} array; cast one of them")
    return cast(val, a.dtype)


def fill_diagonal(a, val):
    """A copy of a with its main diagonal (a[i, i, ..., i]) set to the scalar val, as np.fill_diagonal
    (which fills a in place); a has two or more dimensions."""
    a = as_tensor_variable(a)
    if a.ndim < 2:
        raise TypeError(f"fill_diagonal: a must have at least two dimensions, got {a.ndim}")
    val = _diagonal_value(a, val, "fill_diagonal")
    # index_along[d] counts along axis d and has size 1 on the others, so comparing them broadcasts.
    index_along = [arange(a.shape[d]).dimshuffle(*["x" if e != d else 0 for e in range(a.ndim)])
                   for d in range(a.ndim)]
    on_diagonal = functools.reduce(logical_and, [eq(index_along[0], index) for index in index_along[1:]])
    return switch(on_diagonal, val, a)


def fill_diagonal_offset(a, val, offset):
    """A copy of the matrix a with the diagonal offset columns right of the main one (left if negative) set
    to the scalar val."""
    a = as_tensor_variable(a)
    if a.ndim != 2:
        raise TypeError(f"fill_diagonal_offset: a must be a matrix, got {a.ndim} dimensions")
    val = _diagonal_value(a, val, "fill_diagonal_offset")
    rows, cols = shape_padright(arange(a.shape[0])), arange(a.shape[1])
    return switch(eq(cols - rows, offset), val, a)


def diff(x, n=1, axis=-1):
    """The n-th discrete difference along axis, as np.diff: out[i] = x[i + 1] - x[i], n times."""
    x = as_tensor_variable(x)
    axis = axis % x.ndim
    before = (slice(None),) * axis
    for _ in range(n):
        x = x[before + (slice(1, None),)] - x[before + (slice(None, -1),)]
    return x


def bartlett(M):
    """The Bartlett (triangular) window of M points in float64, as np.bartlett (empty for M <= 0)."""
    M = as_tensor_variable(M)
    if M.ndim != 0 or not M.dtype.startswith(("int", "uint")):
        raise TypeError(f"bartlett: M must be an integer scalar, got {M.type}")
    positions = cast(arange(1 - M, M, 2), "float64")
    return 1 - abs(positions) / cast(maximum(M - 1, 1), "float64")


def _sorted_unique(x):
    """The distinct values of the vector x, sorted (np.unique without options): each sorted value is written
    at its rank among the distinct ones, so equal values land on the same place."""
    values = sort(as_tensor_variable(x))
    starts_run = concatenate([ones_like(values[:1], dtype="bool"), neq(values[1:], values[:-1])])
    rank = cumsum(starts_run) - 1
    return set_subtensor(zeros(sum(starts_run), values.dtype)[rank], values)


__getattr__ = module_getattr(__name__, {
    "bincount": "data-dependent output shapes are not implemented",
    "unique": "data-dependent output shapes are not implemented",
    "searchsorted": "searchsorted is not implemented",
    "ravel_multi_index": "ravel_multi_index is not implemented",
    "unravel_index": "unravel_index is not implemented",
    "compress": "data-dependent output shapes are not implemented",
})
