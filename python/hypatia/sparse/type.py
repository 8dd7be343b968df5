"""Theano's SparseType: the type of a sparse matrix variable (a format and a dtype)."""
import numpy as np

from .. import _core
from ..tensor.type import normalize_dtype


class SparseType:
    """SparseType('csr', 'float64'): calling it makes a sparse matrix variable of that type."""

    format_cls = {"csr": "csr_matrix", "csc": "csc_matrix"}
    dtype_set = {"int8", "int16", "int32", "int64", "float32", "float64", "complex64", "complex128"}
    ndim = 2
    broadcastable = (False, False)

    def __init__(self, format, dtype):
        if format not in self.format_cls:
            raise NotImplementedError(f"SparseType: format {format!r} is not supported (csr or csc)")
        self.format = format
        self.dtype = normalize_dtype(dtype)
        if self.dtype == "float16":
            raise NotImplementedError("SparseType: float16 sparse matrices are not supported (SciPy has none)")

    def __call__(self, name=None):
        return _core.sparse.matrix(self.format, name or "", self.dtype)

    def filter(self, value, strict=False, allow_downcast=None):
        """The value as a SciPy matrix of this format and dtype (other formats are converted)."""
        import scipy.sparse as sp
        if not sp.issparse(value):
            raise TypeError(f"{self} needs a SciPy sparse matrix, got {type(value).__name__}")
        if strict and (value.format != self.format or value.dtype != self.dtype):
            raise TypeError(f"{self} (strict) needs a {self.format} matrix of dtype {self.dtype}")
        value = value.asformat(self.format)
        if value.dtype != self.dtype:
            if not allow_downcast and np.result_type(value.dtype, self.dtype) != np.dtype(self.dtype):
                raise TypeError(f"{self} cannot take a {value.dtype} matrix without loss of precision")
            value = value.astype(self.dtype)
        return value

    def is_valid_value(self, value):
        import scipy.sparse as sp
        return sp.issparse(value) and value.format == self.format and value.dtype == self.dtype

    def __eq__(self, other):
        return isinstance(other, SparseType) and other.format == self.format and other.dtype == self.dtype

    def __hash__(self):
        return hash((SparseType, self.format, self.dtype))

    def __repr__(self):
        return f"Sparse[{self.dtype}, {self.format}]"

    __str__ = __repr__
