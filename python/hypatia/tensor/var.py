"""Theano's methods and properties of symbolic variables, added to the core's Variable class."""
import types

import numpy as np

from .. import _core, _pickling
from . import basic
from .type import TensorType

Variable = _core.Variable
SharedVariable = _core.SharedVariable


def _method(name):
    def register(fn):
        fn.__name__ = name
        setattr(Variable, name, fn)
        return fn

    return register


def _property(name):
    def register(fn):
        setattr(Variable, name, property(fn, doc=fn.__doc__))
        return fn

    return register


# NumPy defers to our reflected operators (array + variable builds a graph, not an object array).
Variable.__array_ufunc__ = None
Variable.__array_priority__ = 1000


@_property("type")
def _type(self):
    """The TensorType: dtype and static shape (a SparseType for a sparse matrix)."""
    if self._format is not None:
        from ..sparse.type import SparseType
        return SparseType(self._format, self.dtype)
    return TensorType(self.dtype, shape=self._static_shape)


@_property("broadcastable")
def _broadcastable(self):
    return tuple(s == 1 for s in self._static_shape)


@_property("shape")
def _shape(self):
    """The shape as a symbolic int64 vector (x.shape[0] is a symbolic scalar)."""
    return _core.shape(self)


@_property("size")
def _size(self):
    return basic.prod(_core.shape(self)) if self.ndim else basic.constant(np.int64(1))


@_property("data")
def _data(self):
    """A constant's value."""
    if not self._is_constant:
        raise AttributeError(f"{self} is not a constant; only constants have .data")
    return self._constant_value


Variable.value = Variable.data


@_property("tag")
def _tag(self):
    """Theano's free-form annotations (x.tag.test_value = ...): kept on this Python object, unused by
    Hypatia (test values are not implemented)."""
    tag = self.__dict__.get("_tag")
    if tag is None:
        tag = self.__dict__["_tag"] = types.SimpleNamespace()
    return tag


_RANDOM_OPS = ("uniform", "normal", "binomial")


@_property("rng")
def _rng(self):
    """For a random draw: its generator's state (Theano's rv.rng), whose get_value() is a RandomState with
    seed / get_state / set_state."""
    from .shared_randomstreams import RandomStateVariable

    for node in _core.toposort([self]):
        if node.op.name in _RANDOM_OPS and isinstance(node.inputs[0], SharedVariable):
            return RandomStateVariable(node.inputs[0])
    raise AttributeError(f"{self} is not a random draw: it has no rng")


@_property("real")
def _real(self):
    """The real part (x itself for real dtypes)."""
    return basic.real(self)


@_property("imag")
def _imag(self):
    """The imaginary part (zeros for real dtypes)."""
    return basic.imag(self)


@_method("conj")
def _conj(self):
    return basic.conj(self)


@_method("__iter__")
def _iter(self):
    length = self._static_shape[0] if self.ndim else None
    if length is None:
        raise TypeError(f"cannot iterate over {self} {self.type}: its length is not known until the graph runs")
    return (self[i] for i in range(length))


@_method("__len__")
def _len(self):
    raise TypeError(f"len() of the symbolic variable {self} is unknown until the graph runs; use x.shape[0]")


@_method("__array__")
def _array(self, dtype=None, copy=None):
    raise TypeError(f"{self} is symbolic: compile a function (or call .eval()) to get its value as an array")


@_method("eval")
def _eval(self, inputs_to_values=None):
    """Computes the variable, with inputs_to_values ({variable: value}) for its inputs."""
    inputs_to_values = dict(inputs_to_values or {})
    inputs = list(inputs_to_values)
    n = len(inputs)
    f = _core.function(inputs, [self], [], [], "ignore", [""] * n, [None] * n, [None] * n, [False] * n,
                       basic.config.floatX, True)
    return f(*inputs_to_values.values())


def _forward(name, fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)

    method.__doc__ = fn.__doc__
    _method(name)(method)


for _name in ("sum", "prod", "mean", "var", "std", "max", "min", "any", "all", "argmax", "argmin", "flatten",
              "cumsum", "cumprod", "sort", "argsort", "diagonal", "trace", "repeat", "swapaxes", "squeeze",
              "take", "clip", "dot", "round", "sqrt", "exp", "log", "tanh", "sign", "abs", "arccos", "arccosh",
              "arcsin", "arcsinh", "arctan", "arctanh", "cos", "cosh", "sin", "sinh", "tan", "ceil", "floor", "trunc",
              "deg2rad", "rad2deg", "expm1", "log1p", "log2", "log10", "exp2", "fill", "ptp", "choose",
              "get_scalar_constant_value"):
    _forward(_name, getattr(basic, _name))
for _name, _fn in (("__floor__", basic.floor), ("__ceil__", basic.ceil), ("__trunc__", basic.trunc),
                   ("__dot__", basic.dot), ("__divmod__", basic.divmod)):
    _forward(_name, _fn)


@_method("__rdot__")
def _rdot(self, other):
    return basic.dot(other, self)


@_method("__rdivmod__")
def _rdivmod(self, other):
    return basic.divmod(other, self)


@_method("zeros_like")
def _zeros_like(self, dtype=None):
    return basic.zeros_like(self, dtype=dtype)


@_method("ones_like")
def _ones_like(self, dtype=None):
    return basic.ones_like(self, dtype=dtype)


@_method("norm")
def _norm(self, L, axis=None, keepdims=False):
    """Theano's (sum |x|**L)**(1/L) over axis; L = 0 and infinite L are refused there too."""
    if L == 0 or np.isinf(L):
        raise NotImplementedError(f"norm: L={L} (Theano defines norm for finite nonzero L only)")
    return basic.pow(basic.pow(basic.abs(self), L).sum(axis=axis, keepdims=keepdims), 1.0 / L)


@_method("searchsorted")
def _searchsorted(self, v, side="left", sorter=None):
    from .extra_ops import searchsorted
    return searchsorted(self, v, side, sorter)


@_method("compress")
def _compress(self, a, axis=None):
    """Theano's x.compress(a): x is the condition, a the array it selects from (extra_ops.compress(x, a))."""
    from .extra_ops import compress
    return compress(self, a, axis=axis)


@_method("transfer")
def _transfer(self, target):
    """Theano's transfer: 'cpu' keeps the variable where it is (Hypatia computes on the CPU)."""
    if target != "cpu":
        raise ValueError(f"transfer: unknown target {target!r}; Hypatia has 'cpu'")
    return self


@_method("reshape")
def _reshape(self, shape, *more, ndim=None):
    """x.reshape((2, -1)) or x.reshape(2, -1)."""
    return basic.reshape(self, (shape,) + more if more else shape, ndim)


@_method("dimshuffle")
def _dimshuffle(self, *pattern):
    """Theano's dimshuffle: x.dimshuffle(1, 0), x.dimshuffle('x', 0)."""
    return basic.dimshuffle(self, *pattern)


@_method("transpose")
def _transpose(self, *axes):
    if len(axes) == 1 and isinstance(axes[0], (list, tuple)):
        axes = axes[0]
    return basic.transpose(self, axes or None)


@_method("astype")
def _astype(self, dtype):
    return basic.cast(self, dtype)


@_method("ravel")
def _ravel(self):
    return basic.flatten(self)


@_method("copy")
def _copy(self, name=None):
    result = _core.second(self, self)  # a new variable with the same value
    if name is not None:
        result.name = name
    return result


@_method("nonzero")
def _nonzero(self, return_matrix=False):
    from .extra_ops import nonzero  # imported here: extra_ops loads after this module
    return nonzero(self, return_matrix)


@_method("nonzero_values")
def _nonzero_values(self):
    from .extra_ops import nonzero_values
    return nonzero_values(self)


@_method("__deepcopy__")
def _deepcopy(self, memo):
    # A graph variable is immutable: copies may share it. Shared variables copy their value (below).
    return self


@_method("__copy__")
def _shallow_copy(self):
    return self


_ORDERINGS = frozenset({"lt", "le", "gt", "ge"})


@_method("__bool__")
def _bool(self):
    """Theano's rule: every variable is true (so `if not W:` and `if x is None or not x:` work as in
    Theano programs), except the results of <, <=, > and >=, which raise to stop `a < b < c`, whose
    Python meaning would silently drop a comparison."""
    owner = self.owner
    if owner is not None and owner.op.name in _ORDERINGS:
        raise TypeError(f"the truth value of the comparison {self} is unknown until the graph runs "
                        "(a < b < c is not one comparison); use switch() or ifelse() in the graph")
    return True


# ---- Shared variables ----

def _shared_get_value(self, borrow=False, return_internal_type=False):
    """The current value as a NumPy array (a copy unless borrow=True; always a host copy for a variable
    that lives in a device's memory, as Theano's GPU shared variables without return_internal_type)."""
    return self._get_value(borrow)


def _shared_set_value(self, new_value, borrow=False):
    """Sets the value; it must fit the variable's type (float64 into a float32 variable is refused
    unless the variable was made with allow_downcast=True; with strict=True only arrays of its dtype)."""
    from ..configparser import config

    if getattr(self, "_strict", False) and not (isinstance(new_value, np.ndarray) and new_value.dtype == self.dtype):
        raise TypeError(f"[shared] set_value of {self.name or self} (strict) takes only NumPy arrays of dtype "
                        f"{self.dtype}, got {type(new_value).__name__}")
    self._set_value(new_value, borrow, getattr(self, "_allow_downcast", None), config.floatX)


def _shared_deepcopy(self, memo):
    """A new shared variable holding a copy of the value (Theano, PyTensor): a snapshot of a model's
    weights taken with copy.deepcopy does not change as training goes on."""
    # Python objects for one variable may differ (each C++ handle gets its own wrapper), so the memo
    # keeps copies by variable identity too.
    copies = memo.setdefault("hypatia.shared_copies", {})
    if self in copies:
        return copies[self]
    result = _pickling.new_shared(self._get_value(False), self.name, self._static_shape,
                                  getattr(self, "_strict", False), getattr(self, "_allow_downcast", None))
    memo[id(self)] = copies[self] = result
    return result


def _shared_from_pickle(value, name, shape):
    """The loader of shared variables pickled by earlier Hypatia versions (value, name, static shape)."""
    return _pickling.new_shared(value, name, shape)


SharedVariable.get_value = _shared_get_value
SharedVariable.set_value = _shared_set_value
SharedVariable.__reduce__ = _pickling.reduce_variable  # its value, and its graph's sharing kept
SharedVariable.__deepcopy__ = _shared_deepcopy
Variable.__reduce__ = _pickling.reduce_variable
