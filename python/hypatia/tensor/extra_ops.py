"""Theano's tensor.extra_ops: cumulative ops, sorting, repeat, diagonals."""
from .._missing import module_getattr
from .basic import (arange, argsort, as_tensor_variable, cast, cumprod, cumsum, diag, diagonal, eq,  # noqa: F401
                    repeat, shape_padright, sort, squeeze, take_along_axis, trace)
from .type import normalize_dtype


def to_one_hot(y, nb_class, dtype=None):
    """A matrix with a 1 in column y[i] of row i (dtype floatX unless given)."""
    y = as_tensor_variable(y)
    return cast(eq(shape_padright(y), arange(nb_class)), normalize_dtype(dtype))


__getattr__ = module_getattr(__name__, {
    "bincount": "data-dependent output shapes are not implemented",
    "unique": "data-dependent output shapes are not implemented",
    "searchsorted": "searchsorted is not implemented",
    "fill_diagonal": "fill_diagonal is not implemented; use set_subtensor on a diagonal view",
    "ravel_multi_index": "ravel_multi_index is not implemented",
    "unravel_index": "unravel_index is not implemented",
})
