"""Theano's tensor.extra_ops: cumulative ops, sorting, repeat, diagonals."""
import builtins
import functools

import numpy as np

from .. import _core
from .._missing import module_getattr
from .basic import (abs, arange, argsort, as_tensor_variable, cast, cumprod, cumsum, diag, diagonal,  # noqa: F401
                    eq, logical_and, maximum, repeat, shape_padright, sort, squeeze, sum, switch, take_along_axis,
                    take, trace)
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


# ---- Searching, counting and index conversion (the C++ ops in src/ops/search_ops.cpp) ----

def topk(x, kth, axis=-1, sorted=True, idx_dtype="int64"):
    """The kth largest entries along axis (the -kth smallest for negative kth), over the flattened x when axis
    is None. They come largest (smallest) first whatever `sorted` says: Theano leaves the order open."""
    return topk_and_argtopk(x, kth, axis, sorted, idx_dtype)[0]


def argtopk(x, kth, axis=-1, sorted=True, idx_dtype="int64"):
    """The positions along axis of topk(x, kth, axis), in idx_dtype."""
    return _core.argtopk(x, kth, axis, normalize_dtype(idx_dtype))


def topk_and_argtopk(x, kth, axis=-1, sorted=True, idx_dtype="int64"):
    """(topk(x, kth, axis), argtopk(x, kth, axis)) from one search."""
    return tuple(_core.topk_and_argtopk(x, kth, axis, normalize_dtype(idx_dtype)))


def bincount(x, weights=None, minlength=None, assert_nonneg=False):
    """How often each value 0..max(x) occurs in the non-negative integer vector x (int64), or the sum of the
    weights at those places (in the weights' dtype); at least minlength long. Negative values always raise
    ValueError when the function runs, so assert_nonneg changes nothing."""
    if minlength is not None and not isinstance(minlength, (int, np.integer)):
        raise TypeError(f"bincount: minlength must be a Python integer, got {minlength!r}")
    return _core.bincount(x, weights, 0 if minlength is None else int(minlength))


def searchsorted(x, v, side="left", sorter=None):
    """np.searchsorted: where each entry of v goes into the ascending vector x (x[sorter] when given) to
    keep it sorted, before equal entries (side='left') or after them ('right'); int64, shaped like v."""
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    return _core.searchsorted(x, v, side == "right", sorter)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None):
    """np.unique: the sorted distinct values of ar (flattened unless axis is given, else its distinct slices
    along axis), and on request the position of each one's first occurrence, each entry's number among them
    (flat when axis is None) and their counts. One Variable, or a list when anything else is requested."""
    values, index, inverse, counts = _core.unique(ar, axis)
    wanted = [values] + [part for part, flag in ((index, return_index), (inverse, return_inverse),
                                                 (counts, return_counts)) if flag]
    return wanted[0] if len(wanted) == 1 else wanted


def nonzero(a, return_matrix=False):
    """The coordinates of a's nonzero entries in C order: a tuple of one int64 vector per dimension, or with
    return_matrix=True a (a.ndim, count) matrix."""
    if return_matrix:
        return _core.nonzero_matrix(a)
    return tuple(_core.nonzero(a))


def flatnonzero(a):
    """The positions of the nonzero entries of a flattened."""
    return _core.flatnonzero(a)


def nonzero_values(a):
    """The nonzero entries of a flattened, in order (differentiable in them)."""
    return _core.nonzero_values(a)


def _dims_vector(dims):
    # A tuple mixing numbers and symbolic scalars (x.shape[0]) becomes one int64 vector of known length.
    if isinstance(dims, (list, tuple)) and builtins.any(isinstance(d, _core.Variable) for d in dims):
        return _core.make_vector(list(dims), "int64")
    return as_tensor_variable(dims)


def _order_is_fortran(order, name):
    if order not in ("C", "F"):
        raise ValueError(f"{name}: order must be 'C' or 'F', got {order!r}")
    return order == "F"


def unravel_index(indices, dims, order="C"):
    """np.unravel_index: a tuple of int64 tensors shaped like indices, the coordinates of each flat index
    into an array of shape dims (C or Fortran order)."""
    return tuple(_core.unravel_index(indices, _dims_vector(dims), _order_is_fortran(order, "unravel_index")))


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """np.ravel_multi_index: the flat index (int64) of each coordinate tuple of multi_index (one integer array
    per dimension, broadcast together) into an array of shape dims. mode ('raise', 'wrap' or 'clip', or one
    per dimension) says what an out-of-range coordinate does."""
    if not isinstance(multi_index, (list, tuple)):
        raise TypeError("ravel_multi_index: multi_index must be a tuple or list of index arrays")
    modes = [mode] if isinstance(mode, str) else list(mode)
    return _core.ravel_multi_index(list(multi_index), _dims_vector(dims), modes,
                                   _order_is_fortran(order, "ravel_multi_index"))


def compress(condition, x, axis=None):
    """np.compress: the slices of x along axis (x flattened when None) where the vector condition is true;
    a condition shorter than the axis leaves the rest out."""
    return take(x, flatnonzero(condition), axis=axis)
