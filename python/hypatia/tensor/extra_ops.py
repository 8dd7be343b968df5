"""Theano's tensor.extra_ops: cumulative ops, sorting, repeat, diagonals."""
from .._missing import module_getattr
from .basic import (argsort, cumprod, cumsum, diag, diagonal, repeat, sort, squeeze, take_along_axis,  # noqa: F401
                    trace)

__getattr__ = module_getattr(__name__, {
    "bincount": "data-dependent output shapes are not implemented",
    "unique": "data-dependent output shapes are not implemented",
    "searchsorted": "searchsorted is not implemented",
    "fill_diagonal": "fill_diagonal is not implemented; use set_subtensor on a diagonal view",
    "to_one_hot": "to_one_hot is not implemented; use eq(labels.dimshuffle(0, 'x'), arange(n))",
    "ravel_multi_index": "ravel_multi_index is not implemented",
    "unravel_index": "unravel_index is not implemented",
})
