"""TensorType: a dtype and a static shape (None where a dimension may vary; 1 broadcasts)."""
import numpy as np

from .. import _core
from ..configparser import config


def normalize_dtype(dtype):
    """'float32', np.float32, np.dtype('float32'), 'floatX' or None (floatX) as a dtype name."""
    if dtype is None or (isinstance(dtype, str) and dtype == "floatX"):
        return config.floatX
    return _core.dtype_name(dtype)


class TensorType:
    """The type of a symbolic tensor. TensorType('float32', shape=(None, 1)) or Theano's
    TensorType('float32', broadcastable=(False, True)); calling it makes a variable of that type."""

    def __init__(self, dtype, broadcastable=None, name=None, shape=None):
        if shape is None and broadcastable is None:
            raise TypeError("TensorType needs a shape (e.g. (None, None)) or a broadcastable pattern")
        if shape is None:
            shape = tuple(1 if b else None for b in broadcastable)
        elif broadcastable is not None and tuple(bool(b) for b in broadcastable) != tuple(s == 1 for s in shape):
            raise ValueError(f"TensorType: broadcastable {broadcastable} contradicts shape {shape}")
        self.dtype = normalize_dtype(dtype)
        self.shape = tuple(None if s is None or s == -1 else int(s) for s in shape)
        self.name = name

    @property
    def broadcastable(self):
        return tuple(s == 1 for s in self.shape)

    @property
    def ndim(self):
        return len(self.shape)

    def __call__(self, name=None):
        return _core.tensor(self.dtype, list(self.shape), name or "")

    def filter(self, data, strict=False, allow_downcast=None):
        """The value as a NumPy array of this type, by the rules function inputs follow."""
        if strict:
            if not isinstance(data, np.ndarray) or data.dtype != self.dtype:
                raise TypeError(f"{self} (strict) needs a NumPy array of dtype {self.dtype}, got {type(data).__name__}")
            allow_downcast = False
        value = data if isinstance(data, np.ndarray) and data.dtype == self.dtype else \
            _core._filter_value(data, self(), allow_downcast, config.floatX)
        if value.ndim != self.ndim or any(s is not None and s != d for s, d in zip(self.shape, value.shape)):
            raise TypeError(f"{self} cannot hold a value of shape {value.shape}")
        return value

    def value_zeros(self, shape):
        return np.zeros(shape, dtype=self.dtype)

    def is_super(self, other):
        return (self.dtype == other.dtype and self.ndim == other.ndim
                and all(s is None or s == o for s, o in zip(self.shape, other.shape)))

    def __eq__(self, other):
        return isinstance(other, TensorType) and (self.dtype, self.shape) == (other.dtype, other.shape)

    def __hash__(self):
        return hash((self.dtype, self.shape))

    def __repr__(self):
        if self.name:
            return self.name
        return f"TensorType({self.dtype}, shape={self.shape})"

    __str__ = __repr__
