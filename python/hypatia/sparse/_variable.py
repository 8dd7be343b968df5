"""The methods Theano's SparseVariable had, on the Variable class: sparse variables route to the sparse ops,
dense ones keep their tensor methods."""
from .. import _core
from . import basic

Variable = _core.Variable
_dense_sum = Variable.sum


def _toarray(self):
    """The dense matrix (structured gradient, as Theano's dense_from_sparse)."""
    return basic.dense_from_sparse(self)


def _sum(self, axis=None, *args, sparse_grad=False, **kwargs):
    if self._format is None:
        return _dense_sum(self, axis, *args, **kwargs)
    if args or any(v not in (None, False) for v in kwargs.values()):
        raise TypeError(f"sum of the sparse matrix {self} takes axis (None, 0 or 1) and sparse_grad only, as Theano's sp_sum")
    return basic.sp_sum(self, axis, sparse_grad)


def _format(self):
    if self._format is None:
        raise AttributeError(f"{self} is dense: only sparse variables have a format")
    return self._format


Variable.toarray = _toarray
Variable.sum = _sum
Variable.format = property(_format, doc="'csr' or 'csc' for a sparse matrix.")
