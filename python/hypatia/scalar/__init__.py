"""hypatia.scalar (Theano's theano.scalar): scalar types, upcast and constant.

Hypatia has no separate scalar graph: a scalar is a 0-d tensor, so these types declare 0-d tensors.
"""
import numpy as np

from ..tensor import basic as _tensor
from ..tensor.type import normalize_dtype

__all__ = ["Scalar", "ScalarType", "get_scalar_type", "upcast", "constant", "as_scalar"]


def upcast(dtype, *dtypes):
    """The dtype (a string) that values of all the given dtypes combine to, by NumPy's promotion rules
    (Theano's rule under its default cast_policy='custom')."""
    combined = np.zeros((), dtype=normalize_dtype(dtype))
    for other in dtypes:
        combined = combined + np.zeros((), dtype=normalize_dtype(other))
    return str(combined.dtype)


class Scalar:
    """The type of scalars of one dtype: Scalar('float32')('x') declares a 0-d float32 tensor."""

    def __init__(self, dtype):
        self.dtype = normalize_dtype(dtype)
        if self.dtype not in _tensor.all_dtypes:
            raise TypeError(f"Scalar: Hypatia has no dtype {dtype!r}; it has {', '.join(_tensor.all_dtypes)}")

    def __call__(self, name=None):
        return _tensor.TensorType(self.dtype, shape=())(name)

    make_variable = __call__

    def upcast(self, *others):
        return upcast(self.dtype, *[other.dtype for other in others])

    def __eq__(self, other):
        return type(self) is type(other) and self.dtype == other.dtype

    def __hash__(self):
        return hash(("hypatia.scalar.Scalar", self.dtype))

    def __str__(self):
        return self.dtype

    def __repr__(self):
        return f"Scalar({self.dtype})"


ScalarType = Scalar


def get_scalar_type(dtype):
    return Scalar(dtype)


for _dtype in _tensor.all_dtypes:
    globals()[_dtype] = Scalar(_dtype)
    __all__.append(_dtype)

int_types = tuple(Scalar(dtype) for dtype in _tensor.int_dtypes)
uint_types = tuple(Scalar(dtype) for dtype in _tensor.uint_dtypes)
float_types = tuple(Scalar(dtype) for dtype in _tensor.float_dtypes)
complex_types = tuple(Scalar(dtype) for dtype in _tensor.complex_dtypes)
integer_types = int_types + uint_types
discrete_types = (Scalar("bool"),) + integer_types
continuous_types = float_types + complex_types
all_types = discrete_types + continuous_types


def constant(x, name=None, dtype=None):
    """A 0-d constant of x's value (tensor.constant's dtype rules)."""
    result = _tensor.constant(x, name=name, dtype=dtype)
    if result.ndim != 0:
        raise TypeError(f"scalar.constant: the value has shape {np.shape(x)}, not a scalar")
    return result


def as_scalar(x, name=None):
    """x as a 0-d Variable: Variables must already be 0-d; numbers become constants."""
    result = _tensor.as_tensor_variable(x, name=name)
    if result.ndim != 0:
        raise TypeError(f"as_scalar: {x} has {result.ndim} dimensions, not 0")
    return result
