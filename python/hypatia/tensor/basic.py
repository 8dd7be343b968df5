"""The tensor op library under Theano's and NumPy's names, with their keyword arguments."""
import builtins
import functools
import warnings

import numpy as np

from .. import _core
from ..configparser import config
from .type import TensorType, normalize_dtype

Variable = _core.Variable
SharedVariable = _core.SharedVariable

# ---- Declaring symbolic inputs ----

_KINDS = {
    "scalar": (),
    "vector": (None,),
    "matrix": (None, None),
    "row": (1, None),
    "col": (None, 1),
    "tensor3": (None,) * 3,
    "tensor4": (None,) * 4,
    "tensor5": (None,) * 5,
    "tensor6": (None,) * 6,
    "tensor7": (None,) * 7,
}
_PREFIXES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64", "f": "float32", "d": "float64", "c": "complex64",
             "z": "complex128"}
_PLURALS = {"scalar": "scalars", "vector": "vectors", "matrix": "matrices", "row": "rows", "col": "cols",
            "tensor3": "tensor3s", "tensor4": "tensor4s", "tensor5": "tensor5s", "tensor6": "tensor6s",
            "tensor7": "tensor7s"}


def _declare(kind, fixed_dtype=None):
    kind_shape = _KINDS[kind]

    def declare(name=None, dtype=None, shape=None):
        if fixed_dtype is not None and dtype is not None and normalize_dtype(dtype) != fixed_dtype:
            raise TypeError(f"{declare.__name__} is always {fixed_dtype}, got dtype={dtype}")
        chosen = fixed_dtype if fixed_dtype is not None else normalize_dtype(dtype)
        static = kind_shape if shape is None else tuple(shape)
        if len(static) != len(kind_shape):
            raise ValueError(f"{declare.__name__}: shape {static} does not have {len(kind_shape)} dimensions")
        return _core.tensor(chosen, list(static), name or "")

    return declare


def _declare_many(single):
    def declare_many(*names, dtype=None):
        # Theano's forms: ('a', 'b'), ('ab',) one name per character, (3,) unnamed; also 'a b' or 'a,b'.
        if len(names) == 1 and isinstance(names[0], str):
            text = names[0]
            names = text.replace(",", " ").split() if (" " in text or "," in text) else list(text)
        elif len(names) == 1 and isinstance(names[0], int):
            names = [None] * names[0]
        made = [single(name) if dtype is None else single(name, dtype=dtype) for name in names]
        return made[0] if len(made) == 1 else made

    return declare_many


for _kind in _KINDS:
    globals()[_kind] = _declare(_kind)
    globals()[_kind].__name__ = _kind
    globals()[_kind].__doc__ = f"A symbolic {_kind} (dtype floatX unless given), e.g. {_kind}('x')."
    globals()[_PLURALS[_kind]] = _declare_many(globals()[_kind])
    for _prefix, _dtype in _PREFIXES.items():
        # As in Theano, the typed forms are the types themselves: fmatrix('x') declares, x.type == fmatrix.
        _typed = TensorType(_dtype, shape=_KINDS[_kind], name=_prefix + _kind)
        globals()[_prefix + _kind] = _typed
        globals()[_prefix + _PLURALS[_kind]] = _declare_many(_typed)


# Theano's dtype families (theano.tensor.float_dtypes, ...), limited to the dtypes Hypatia has.
int_dtypes = ["int8", "int16", "int32", "int64"]
uint_dtypes = ["uint8", "uint16", "uint32", "uint64"]
float_dtypes = ["float16", "float32", "float64"]
complex_dtypes = ["complex64", "complex128"]
integer_dtypes = int_dtypes + uint_dtypes
discrete_dtypes = ["bool"] + integer_dtypes
continuous_dtypes = float_dtypes + complex_dtypes
all_dtypes = discrete_dtypes + continuous_dtypes

_SUPPORTED_DTYPE_NAMES = set(all_dtypes) | {"floatX"}

# Theano's old name for the type of tensors (Tensor(dtype, broadcastable)).
Tensor = TensorType


def tensor(*args, name=None, dtype=None, shape=None, broadcastable=None):
    """A symbolic tensor of any rank: tensor('x', dtype='float32', shape=(None, 3)), or Theano's
    tensor(dtype, broadcastable, name)."""
    theano_form = len(args) >= 2 or (len(args) == 1 and args[0] in _SUPPORTED_DTYPE_NAMES and broadcastable is not None)
    if theano_form:
        dtype, *rest = args
        broadcastable = rest.pop(0) if rest else broadcastable
        name = rest[0] if rest else name
    elif args:
        name = args[0]
    if shape is None and broadcastable is None:
        raise TypeError("tensor() needs shape=(...) (None for a dimension that may vary) or broadcastable=(...)")
    return TensorType(dtype, broadcastable=broadcastable, shape=shape)(name)


def _shared(value, name=None, strict=False, allow_downcast=None, borrow=False, broadcastable=None):
    """Theano's tensor._shared: a shared variable holding a tensor."""
    from ..compile import shared

    return shared(value, name=name, strict=strict, allow_downcast=allow_downcast, borrow=borrow,
                  broadcastable=broadcastable)


def as_tensor_variable(x, name=None, ndim=None, dtype=None):
    """A Variable for x: Variables as they are, NumPy arrays, numbers and lists as constants."""
    if isinstance(x, Variable):
        result = x
    elif dtype is not None:
        result = _core.constant(x, "", normalize_dtype(dtype))
    else:
        result = _core.as_variable(x)
    if dtype is not None and result.dtype != normalize_dtype(dtype):
        result = cast(result, dtype)
    if ndim is not None and result.ndim != ndim:
        if result.ndim > ndim:
            raise ValueError(f"as_tensor_variable: {result} has {result.ndim} dimensions, more than ndim={ndim}")
        result = shape_padleft(result, ndim - result.ndim)
    if name is not None:
        result.name = name
    return result


as_tensor = as_tensor_variable


def constant(x, name=None, ndim=None, dtype=None):
    """A constant of x's value (copied), with NumPy's dtype for it unless dtype is given."""
    result = _core.constant(x, name or "", None if dtype is None else normalize_dtype(dtype))
    if ndim is not None and result.ndim != ndim:
        raise ValueError(f"constant: the value has {result.ndim} dimensions, not ndim={ndim}")
    return result


# ---- Elementwise ----

class ElementwiseFunction:
    """An elementwise op as Theano showed it: str(tensor.add) is 'Elemwise{add,no_inplace}' (Theano's test
    harnesses and some programs name things after it); calling it builds the node."""

    def __init__(self, fn, name, shown=None):
        self._fn = fn
        self.__name__ = self.__qualname__ = name
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__module__ = __name__
        self._shown = shown or f"Elemwise{{{name},no_inplace}}"

    def __call__(self, *args, **kwargs):
        return self._fn(*args, **kwargs)

    def __str__(self):
        return self._shown

    def __repr__(self):
        return self._shown

    def __reduce__(self):
        return self.__name__  # pickled by name, as a function is


def _elementwise(fn):
    """An elementwise composition, shown as Theano's op (ElementwiseFunction)."""
    return ElementwiseFunction(fn, fn.__name__)


def _export(name, fn, doc=None):
    wrapped = ElementwiseFunction(fn, name)
    if doc:
        wrapped.__doc__ = doc
    globals()[name] = wrapped
    return wrapped


_UNARY = ["neg", "abs", "sign", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "sqr",
          "reciprocal", "tanh", "sigmoid", "softplus", "sin", "cos", "tan", "arcsin", "arccos", "arctan",
          "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "erf", "erfc", "floor", "ceil", "trunc", "round",
          "logical_not", "isnan", "isinf", "real", "imag", "conj", "angle"]
_BINARY = ["sub", "true_div", "int_div", "mod", "pow", "arctan2", "maximum", "minimum", "eq", "neq", "lt",
           "le", "gt", "ge", "complex"]
# Special functions (Boost.Math; test_special.py checks them over their own domains).
_SPECIAL = ["gamma", "gammaln", "psi", "tri_gamma", "erfinv", "erfcinv", "erfcx", "i0", "i1", "j0", "j1", "log1mexp",
            "polygamma", "gammainc", "gammaincc", "gammau", "gammal", "chi2sf", "iv", "jv"]
for _name in _UNARY + _BINARY + _SPECIAL:
    _export(_name, getattr(_core, _name))


def _nary(core_fn, name):
    def nary(*xs):
        if len(xs) < 2:
            raise TypeError(f"{name} takes at least two operands")
        return functools.reduce(core_fn, xs)

    nary.__name__ = name
    nary.__doc__ = f"Elementwise {name} of two or more tensors, broadcasting."
    return ElementwiseFunction(nary, name)


add = _nary(_core.add, "add")
mul = _nary(_core.mul, "mul")
logical_and = _nary(_core.logical_and, "logical_and")
logical_or = _nary(_core.logical_or, "logical_or")
logical_xor = _nary(_core.logical_xor, "logical_xor")


# Bitwise on integers, logical on bools (NumPy's & | ^ ~; Theano's and_, or_, xor, invert).
bitwise_and = and_ = _export("bitwise_and", _core.bitwise_and)
bitwise_or = or_ = _export("bitwise_or", _core.bitwise_or)
bitwise_xor = xor = _export("bitwise_xor", _core.bitwise_xor)
bitwise_not = invert = _export("invert", _core.invert)
abs_ = absolute = abs
sgn = sign
inv = reciprocal
floor_div = floor_divide = int_div
true_divide = divide = true_div
power = pow
square = sqr
negative = neg
multiply = mul
subtract = sub
mod_ = mod
minimum_ = minimum
arctan2_ = arctan2
eq_ = eq
not_equal = neq
equal = eq
less, less_equal, greater, greater_equal = lt, le, gt, ge


def clip(x, min, max):
    return _core.clip(x, min, max)


@_elementwise
def switch(cond, ift, iff):
    """Elementwise: ift where cond is true, else iff (all branches are computed)."""
    return _core.where(cond, ift, iff)


def where(cond, x=None, y=None):
    if x is None or y is None:
        raise NotImplementedError("where(cond) with one argument (the indices of true elements) is not implemented; "
                                  "use where(cond, x, y)")
    return _core.where(cond, x, y)


def cast(x, dtype):
    """x converted to dtype ('float32', 'int64', ... or 'floatX')."""
    return _core.cast(x, normalize_dtype(dtype))


def fill(model, value):
    """value broadcast to model's shape (Theano's fill / second)."""
    return _core.second(model, value)


second = fill


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    if equal_nan:
        return _core.logical_or(_core.isclose(a, b, rtol, atol), _core.logical_and(isnan(a), isnan(b)))
    return _core.isclose(a, b, rtol, atol)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return all(isclose(a, b, rtol, atol, equal_nan))


def iround(x):
    return cast(round(x), "int64")


@_elementwise
def complex_from_polar(abs, angle):
    """The complex numbers abs * exp(i angle)."""
    return complex(abs * cos(angle), abs * sin(angle))


def _as_float(x):
    """x cast to the float dtype a function of it returns (Theano's upgrade_to_float)."""
    x = as_tensor_variable(x)
    return cast(x, _core.upgrade_to_float(x.dtype))


@_elementwise
def round_half_to_even(a):
    """NumPy's rounding: halves go to the even neighbour (2.5 -> 2)."""
    return _core.round(a)


@_elementwise
def round_half_away_from_zero(a):
    """C's rounding: halves go away from zero (2.5 -> 3, -2.5 -> -3)."""
    truncated = trunc(a)
    return switch(ge(abs(a - truncated), 0.5), truncated + sign(a), truncated)


def round(a, mode=None):  # replaces the plain export of _core.round above, adding Theano's mode
    """Rounds to the nearest integer; mode 'half_to_even' (the default, as NumPy) or 'half_away_from_zero'."""
    if mode is None:
        mode = "half_to_even"
        if config.warn.round:
            warnings.warn("tensor.round() rounds half to even (as NumPy); set config.warn.round = False to "
                          "silence this warning", stacklevel=2)
    if mode == "half_to_even":
        return round_half_to_even(a)
    if mode == "half_away_from_zero":
        return round_half_away_from_zero(a)
    raise ValueError(f"round: mode must be 'half_to_even' or 'half_away_from_zero', got {mode!r}")


@_elementwise
def deg2rad(x):
    return _as_float(x) * (np.pi / 180)


@_elementwise
def rad2deg(x):
    return _as_float(x) * (180 / np.pi)


def divmod(x, y):
    """(floor_div(x, y), mod(x, y)), as Python's divmod."""
    return int_div(x, y), mod(x, y)


# ---- Reductions ----

def _with_dtype(result, dtype):
    return result if dtype is None else cast(result, dtype)


def _accumulated(reduce, input, axis, keepdims, dtype, acc_dtype):
    """reduce(input) accumulated in acc_dtype (or dtype, as NumPy does) and returned in dtype."""
    input = as_tensor_variable(input)
    accumulate = acc_dtype if acc_dtype is not None else dtype
    if accumulate is not None and normalize_dtype(accumulate) != input.dtype:
        input = cast(input, accumulate)
    return _with_dtype(reduce(input, axis, keepdims), dtype)


def sum(input, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Sum over axis (None: all axes); bools and signed integers sum to int64, unsigned integers to uint64.
    dtype (or acc_dtype) sets the type the sum accumulates in, as in NumPy."""
    return _accumulated(_core.sum, input, axis, keepdims, dtype, acc_dtype)


def prod(input, axis=None, dtype=None, keepdims=False, acc_dtype=None, no_zeros_in_input=False):
    return _accumulated(_core.prod, input, axis, keepdims, dtype, acc_dtype)


def mean(input, axis=None, dtype=None, op=False, keepdims=False, acc_dtype=None):
    """The mean over axis. With dtype, Theano's rule: the sum is taken in dtype and divided by the count
    in float32 (float16/float32 sums) or float64, so mean(ints, dtype='int32') is the float mean."""
    if dtype is None:
        return _accumulated(_core.mean, input, axis, keepdims, None, acc_dtype)
    input = as_tensor_variable(input)
    total = sum(input, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    axes = range(input.ndim) if axis is None else [axis] if isinstance(axis, (int, np.integer)) else axis
    count = None
    for a in axes:
        n = input.shape[int(a) % builtins.max(input.ndim, 1)]
        count = n if count is None else count * n
    divide_in = "float32" if total.dtype in ("float16", "float32") else "float64"
    return cast(total, divide_in) if count is None else _core.true_div(total, cast(count, divide_in))


def var(input, axis=None, ddof=0, keepdims=False, corrected=False):
    return _core.var(input, axis, keepdims, ddof)


def std(input, axis=None, ddof=0, keepdims=False, corrected=False):
    return _core.std(input, axis, keepdims, ddof)


def max(x, axis=None, keepdims=False):
    return _core.max(x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    return _core.min(x, axis, keepdims)


def any(x, axis=None, keepdims=False):
    return _core.any(x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    return _core.all(x, axis, keepdims)


def _arg_reduce(core_arg, x, axis, keepdims):
    """core_arg (argmax or argmin) over one or several axes. Several axes, as in Theano: the index into
    those axes (in increasing order) flattened together, found by moving them last and merging them."""
    x = as_tensor_variable(x)
    if isinstance(axis, np.ndarray):
        axis = axis.tolist()
    if not isinstance(axis, (list, tuple)) or x.ndim == 0:
        return core_arg(x, axis, keepdims)
    axes = sorted({int(a) % x.ndim for a in axis}) if len(axis) else list(range(x.ndim))
    if len(axes) == 1 or len(axes) == x.ndim:
        return core_arg(x, axes[0] if len(axes) == 1 else None, keepdims)
    kept = [d for d in range(x.ndim) if d not in axes]
    merged = reshape(x.dimshuffle(*kept, *axes), [x.shape[d] for d in kept] + [-1])
    index = core_arg(merged, -1, False)
    return expand_dims(index, axes) if keepdims else index


def argmax(x, axis=None, keepdims=False):
    return _arg_reduce(_core.argmax, x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    return _arg_reduce(_core.argmin, x, axis, keepdims)


def ptp(a, axis=None):
    """The range max - min along axis (None: all axes), as np.ptp."""
    return max(a, axis) - min(a, axis)


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    """The covariance matrix of the variables in m (and y), as np.cov: with rowvar each row of a matrix is a
    variable and each column an observation. ddof defaults to 1 (0 with bias); fweights (integer repeat
    counts) and aweights (relative importances) weight the observations."""
    def as_variables(v):
        v = _as_float(v)
        if v.ndim > 2:
            raise ValueError(f"cov: m and y must have one or two dimensions, got {v.ndim}")
        v = shape_padleft(v) if v.ndim < 2 else v
        return v if rowvar else v.T
    data = as_variables(m)
    if y is not None:
        data = concatenate([data, as_variables(y)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    weights = None
    for w in (fweights, aweights):
        if w is not None:
            w = _as_float(w)
            weights = w if weights is None else weights * w
    if weights is None:
        total = cast(data.shape[1], data.dtype)
        centered = data - mean(data, axis=1, keepdims=True)
        scale = total - ddof
        product = dot(centered, centered.T)
    else:
        total = sum(weights)
        centered = data - sum(data * weights, axis=1, keepdims=True) / total
        # NumPy's correction for aweights: sum(w * aweights) / sum(w).
        scale = total - ddof if aweights is None else total - ddof * sum(weights * _as_float(aweights)) / total
        product = dot(centered * weights, centered.T)
    result = product / scale
    # np.cov of a single variable is a 0-d array.
    return result[0, 0] if data._static_shape[0] == 1 else result


def largest(*args):
    """The elementwise maximum of two or more tensors."""
    return functools.reduce(_core.maximum, args)


def smallest(*args):
    return functools.reduce(_core.minimum, args)


class NotScalarConstantError(ValueError):
    """get_scalar_constant_value: the variable is not a constant scalar."""


def get_scalar_constant_value(v):
    """The value of a constant with one element, as a NumPy scalar; NotScalarConstantError otherwise."""
    if isinstance(v, (int, float, np.number, np.bool_)):
        return np.asarray(v)
    if isinstance(v, np.ndarray) and v.size == 1:
        return v.reshape(())
    if isinstance(v, Variable) and v._is_constant and v._constant_value.size == 1:
        return v._constant_value.reshape(())
    raise NotScalarConstantError(f"{v} is not a constant scalar")


def max_and_argmax(a, axis=None, keepdims=False):
    return max(a, axis, keepdims), argmax(a, axis, keepdims)


# ---- Shapes ----

def shape(x):
    """The shape of x as a symbolic int64 vector."""
    return _core.shape(x)


def dimshuffle(x, *pattern):
    if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
        pattern = pattern[0]
    return _core.dimshuffle(x, [-1 if p == "x" else int(p) for p in pattern])


def transpose(x, axes=None):
    return _core.transpose(x, None if axes is None else list(axes))


def reshape(x, newshape, ndim=None):
    """x with a new shape: a tuple of ints and symbolic scalars (one may be -1), or a symbolic vector."""
    if isinstance(newshape, Variable) and newshape.ndim == 0:
        newshape = [newshape]
    elif not isinstance(newshape, Variable):
        if np.isscalar(newshape):
            newshape = [newshape]
        newshape = list(newshape)
    return _core.reshape(x, newshape, ndim)


def flatten(x, ndim=1, outdim=None):
    """Keeps ndim - 1 leading axes and merges the rest (ndim=1: a vector)."""
    return _core.flatten(x, outdim if outdim is not None else ndim)


def shape_padleft(t, n_ones=1):
    t = as_tensor_variable(t)
    return dimshuffle(t, ["x"] * n_ones + list(range(t.ndim)))


def shape_padright(t, n_ones=1):
    t = as_tensor_variable(t)
    return dimshuffle(t, list(range(t.ndim)) + ["x"] * n_ones)


def shape_padaxis(t, axis):
    return _core.expand_dims(t, axis)


def addbroadcast(x, *axes):
    """x with the given axes declared of size 1 (broadcastable); checked when the graph runs."""
    return _core.addbroadcast(as_tensor_variable(x), [int(a) for a in axes])


def unbroadcast(x, *axes):
    """x with the given size-1 axes made ordinary (no longer broadcastable)."""
    return _core.unbroadcast(as_tensor_variable(x), [int(a) for a in axes])


def patternbroadcast(x, broadcastable):
    """x with every axis's broadcastability set by the pattern (True: size 1, checked when it runs)."""
    return _core.patternbroadcast(as_tensor_variable(x), [bool(b) for b in broadcastable])


def specify_shape(x, shape):
    """x with its shape declared (constants enter the static type); checked when the graph runs."""
    x = as_tensor_variable(x)
    if isinstance(shape, _core.Variable):
        shape = [shape[i] for i in range(x.ndim)]
    return _core.specify_shape(x, list(shape))


def expand_dims(a, axis):
    if isinstance(axis, (list, tuple)):
        for ax in sorted(axis):
            a = _core.expand_dims(a, ax)
        return a
    return _core.expand_dims(a, axis)


def squeeze(x, axis=None):
    return _core.squeeze(x, axis)


def concatenate(tensor_list, axis=0):
    if not isinstance(tensor_list, (list, tuple)):
        raise TypeError("concatenate takes a list or tuple of tensors (did you mean join(axis, *tensors)?)")
    return _core.concatenate(list(tensor_list), axis)


def join(axis, *tensors_list):
    """Theano's join: concatenate along axis."""
    return _core.concatenate(list(tensors_list), axis)


def stack(*tensors, axis=0):
    """stack([a, b], axis=0), or Theano's older stack(a, b)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    return _core.stack(list(tensors), axis)


def horizontal_stack(*tensors):
    return _core.concatenate(list(tensors), 1)


def vertical_stack(*tensors):
    return _core.concatenate(list(tensors), 0)


def split(x, splits_size, n_splits=None, axis=0):
    sizes = [int(s) for s in (splits_size._constant_value if isinstance(splits_size, Variable) else splits_size)]
    if n_splits is not None and n_splits != len(sizes):
        raise ValueError(f"split: n_splits={n_splits} but {len(sizes)} sizes were given")
    return _core.split(x, sizes, axis)


def _shape_list(shape):
    if isinstance(shape, Variable):
        if shape.ndim == 0:
            return [shape]
        length = shape._static_shape[0]
        if length is None:
            raise ValueError(f"the length of the symbolic shape {shape} is unknown")
        return [shape[i] for i in range(length)]
    if np.isscalar(shape):
        return [shape]
    return list(shape)


def alloc(value, *shape):
    """value broadcast to shape (given as separate dimensions)."""
    return _core.alloc(value, _shape_list(shape[0]) if len(shape) == 1 and not np.isscalar(shape[0]) else list(shape))


def zeros(shape, dtype=None):
    return _core.zeros(_shape_list(shape), normalize_dtype(dtype))


def ones(shape, dtype=None):
    return _core.ones(_shape_list(shape), normalize_dtype(dtype))


def full(shape, fill_value, dtype=None):
    if dtype is None:
        dtype = config.floatX if isinstance(fill_value, float) else as_tensor_variable(fill_value).dtype
    return _core.full(_shape_list(shape), fill_value, normalize_dtype(dtype))


def zeros_like(model, dtype=None):
    return _with_dtype(_core.zeros_like(model), dtype)


def ones_like(model, dtype=None):
    return _with_dtype(_core.ones_like(model), dtype)


def full_like(model, fill_value, dtype=None):
    return _with_dtype(_core.full_like(model, fill_value), dtype)


def arange(start, stop=None, step=1, dtype=None):
    if stop is None:
        start, stop = 0, start
    return _core.arange(start, stop, step, None if dtype is None else normalize_dtype(dtype))


def eye(n, m=None, k=0, dtype=None):
    return _core.eye(n, m, k, normalize_dtype(dtype))


def identity_like(x, dtype=None):
    x = as_tensor_variable(x)
    return eye(x.shape[0], x.shape[1], 0, dtype if dtype is not None else x.dtype)


def swapaxes(y, axis1, axis2):
    return _core.swapaxes(y, axis1, axis2)


def flip(x, axis=None):
    axes = [] if axis is None else ([axis] if np.isscalar(axis) else list(axis))
    return _core.flip(x, axes)


def roll(x, shift, axis=None):
    return _core.roll(x, shift, axis)


def tile(x, reps, ndim=None):
    return _core.tile(x, [int(r) for r in ([reps] if np.isscalar(reps) else reps)])


def repeat(x, repeats, axis=None):
    if not np.isscalar(repeats):
        raise NotImplementedError("repeat with a different count per element is not implemented; give one int")
    return _core.repeat(x, int(repeats), axis)


# ---- Indexing ----

def set_subtensor(x, y, inplace=False, tolerate_inplace_aliasing=False):
    """x must be an indexing result a[...]: returns a with that region replaced by y."""
    return _core.set_subtensor(x, y)


def inc_subtensor(x, y, inplace=False, set_instead_of_inc=False, tolerate_inplace_aliasing=False,
                  ignore_duplicates=False):
    """x must be an indexing result a[...]: returns a with y added to that region."""
    return _core.set_subtensor(x, y) if set_instead_of_inc else _core.inc_subtensor(x, y)


def take(a, indices, axis=None, mode="raise"):
    if mode != "raise":
        raise NotImplementedError(f"take(mode={mode!r}) is not implemented; out-of-range indices raise")
    if axis is None:
        return _core.take(flatten(a), indices, 0)
    return _core.take(a, indices, axis)


# ---- Products ----

def dot(a, b):
    """np.dot, as in Theano: a product with a scalar, the matrix product for vectors and matrices, and
    above two dimensions the last axis of a against the second-to-last of b (tensordot)."""
    return _core.dot(as_tensor_variable(a), as_tensor_variable(b))


def matmul(a, b):
    return _core.matmul(a, b)


def outer(x, y):
    return _core.outer(x, y)


def tensordot(a, b, axes=2):
    return _core.tensordot(a, b, axes)


def batched_dot(a, b):
    """dot(a[i], b[i]) for each i along the first axis, with Theano's rules: a vector of per-batch
    scalars multiplies the other operand; above three dimensions, the last axis of a against the
    second-to-last of b (batched_tensordot)."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        raise TypeError(f"batched_dot: both operands need a batch axis, got {a.type} and {b.type}")
    if a.ndim == 1:
        return a.dimshuffle(0, *(["x"] * (b.ndim - 1))) * b
    if b.ndim == 1:
        return a * b.dimshuffle(0, *(["x"] * (a.ndim - 1)))
    if a.ndim > 3 or b.ndim > 3:
        return batched_tensordot(a, b, [[a.ndim - 1], [builtins.max(1, b.ndim - 2)]])
    if a.ndim == 2 and b.ndim == 2:
        return sum(a * b, axis=1)
    if b.ndim == 2:
        return _core.matmul(a, expand_dims(b, -1))[..., 0]
    if a.ndim == 2:
        return _core.matmul(expand_dims(a, -2), b)[..., 0, :]
    return _core.matmul(a, b)


def batched_tensordot(x, y, axes=2):
    """tensordot(x[i], y[i], axes) for each i along the first axis. axes: n (the last n axes of x against
    the first n after the batch axis of y) or [[axes of x], [axes of y]], counted with the batch axis."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if isinstance(axes, (int, np.integer)):
        axes = [list(range(x.ndim - int(axes), x.ndim)), list(range(1, int(axes) + 1))]
    ax = [int(a) % x.ndim for a in axes[0]]
    ay = [int(a) % y.ndim for a in axes[1]]
    if len(ax) != len(ay) or 0 in ax or 0 in ay:
        raise ValueError(f"batched_tensordot: axes {axes} must pair axes of x and y other than the batch axis 0")
    free_x = [d for d in range(1, x.ndim) if d not in ax]
    free_y = [d for d in range(1, y.ndim) if d not in ay]
    batch = x.shape[0]

    def product(v, dims):
        n = 1
        for d in dims:
            n = n * v.shape[d]
        return n
    left = reshape(x.dimshuffle(0, *free_x, *ax), stack([batch, product(x, free_x), product(x, ax)]), ndim=3)
    right = reshape(y.dimshuffle(0, *ay, *free_y), stack([batch, product(y, ay), product(y, free_y)]), ndim=3)
    out_shape = [batch] + [x.shape[d] for d in free_x] + [y.shape[d] for d in free_y]
    return reshape(_core.matmul(left, right), stack(out_shape), ndim=1 + len(free_x) + len(free_y))


# ---- Cumulative ops, sorting, diagonals (Theano's extra_ops) ----

def cumsum(x, axis=None):
    return _core.cumsum(x, axis)


def cumprod(x, axis=None):
    return _core.cumprod(x, axis)


def _along_axis(op, a, axis):
    """op(a, axis) for an int axis, or for a symbolic scalar one (Theano's sort takes both): the ndim
    candidate axes become a chain of lazy ifelse branches, so only the chosen one runs. The axis is
    read through arange(ndim)[axis], which wraps negative axes and refuses out-of-range ones (a 1-d
    tensor has one candidate: an Assert checks the axis)."""
    if axis is None:
        return op(flatten(a), 0)
    if not isinstance(axis, Variable):
        return op(a, int(axis))
    from ..ifelse import ifelse
    a = as_tensor_variable(a)
    if axis.ndim != 0:
        raise TypeError(f"{op.__name__}: a symbolic axis must be a scalar, got a {axis.ndim}-d {axis.dtype} tensor")
    if axis.dtype not in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        axis = cast(axis, "int64")  # Theano's own tests pass a float scalar
    if a.ndim == 1:
        from .opt import Assert
        return op(Assert(f"{op.__name__}: axis out of range for a 1-d tensor")(a, ge(axis, -1) & le(axis, 0)), 0)
    chosen = arange(a.ndim)[axis]
    result = op(a, a.ndim - 1)
    for k in reversed(range(a.ndim - 1)):
        result = ifelse(eq(chosen, k), op(a, k), result)
    return result


def sort(a, axis=-1, kind="quicksort", order=None):
    if order is not None:
        raise NotImplementedError("sort(order=...) applies to structured arrays, which Hypatia does not have")
    return _along_axis(_core.sort, a, axis)


def argsort(a, axis=-1, kind="quicksort", order=None):
    if order is not None:
        raise NotImplementedError("argsort(order=...) applies to structured arrays, which Hypatia does not have")
    return _along_axis(_core.argsort, a, axis)


def take_along_axis(arr, indices, axis):
    """np.take_along_axis: indices broadcast against arr on every axis but `axis`."""
    arr, indices = as_tensor_variable(arr), as_tensor_variable(indices)
    axis = axis + arr.ndim if axis < 0 else axis
    if indices.ndim == arr.ndim and builtins.any(i == 1 and a != 1 for d, (i, a) in
                                        enumerate(zip(indices._static_shape, arr._static_shape)) if d != axis):
        shape = [indices.shape[d] if d == axis or indices._static_shape[d] != 1 else arr.shape[d]
                 for d in range(arr.ndim)]
        indices = _core.alloc(indices, shape)
    return _core.take_along_axis(arr, indices, axis)


def diagonal(a, offset=0, axis1=0, axis2=1):
    return _core.diagonal(a, offset, axis1, axis2)


def diag(v, k=0):
    return _core.diag(v, k)


def trace(a, offset=0):
    return _core.trace(a, offset)


def tri(N, M=None, k=0, dtype=None):
    """An N x M matrix with ones at and below the k-th diagonal (j <= i + k) and zeros elsewhere."""
    rows, cols = arange(N), arange(N if M is None else M)
    return cast(ge(shape_padright(rows) + k, cols), normalize_dtype(dtype))


def tril(m, k=0):
    """m with the elements above the k-th diagonal of its last two axes zeroed, as np.tril."""
    return _core.tril(m, int(k))


def triu(m, k=0):
    """m with the elements below the k-th diagonal of its last two axes zeroed, as np.triu."""
    return _core.triu(m, int(k))


def _allclose(a, b, rtol=None, atol=None):
    """Theano's tensor.basic._allclose (its test files import it): np.allclose with tolerances for the narrower
    dtype of the two (float16 1e-3, float32 and complex64 1e-5, otherwise rtol 1e-5 and atol 1e-8)."""
    a, b = np.asarray(a), np.asarray(b)
    dtypes = {str(a.dtype), str(b.dtype)}
    if "float16" in dtypes:
        atol_, rtol_ = 1e-3, 1e-3
    elif dtypes & {"float32", "complex64"}:
        atol_, rtol_ = 1e-5, 1e-5
    else:
        atol_, rtol_ = 1e-8, 1e-5
    return np.allclose(a, b, atol=atol_ if atol is None else atol, rtol=rtol_ if rtol is None else rtol)


def stacklists(arg):
    """Nested lists of tensors stacked into one tensor: stacklists([[a, b], [c, d]]) has shape (2, 2) + a.shape."""
    if isinstance(arg, (list, tuple)):
        return stack([stacklists(item) for item in arg])
    return arg


class _NdGrid:
    """mgrid[0:5, 0:3] (dense: each grid has the full shape) or ogrid[...] (open: each grid varies along one
    axis and has size 1 on the others); Theano returns the grids as a list of tensors."""

    def __init__(self, sparse):
        self.sparse = sparse

    def __getitem__(self, slices):
        slices = slices if isinstance(slices, tuple) else (slices,)
        ndim = len(slices)
        ranges = []
        for j, piece in enumerate(slices):
            if not isinstance(piece, slice) or isinstance(piece.step, builtins.complex):
                raise NotImplementedError("mgrid/ogrid take slices with real steps, e.g. mgrid[0:5, 0:3]")
            start, step = (0 if piece.start is None else piece.start), (1 if piece.step is None else piece.step)
            values = arange(start, piece.stop, step)
            ranges.append(dimshuffle(values, ["x"] * j + [0] + ["x"] * (ndim - 1 - j)))
        if self.sparse:
            return ranges
        # Each dense grid is its range times ones of the other ranges' shapes, which broadcasts it out.
        return [functools.reduce(mul, [r if j == i else ones_like(r) for j, r in enumerate(ranges)])
                if ndim > 1 else ranges[0] for i in range(ndim)]


mgrid = _NdGrid(sparse=False)
ogrid = _NdGrid(sparse=True)


def choose(a, choices, out=None, mode="raise"):
    """np.choose: choices[a[i]][i] for each index i, with a and each choice broadcast together. choices is
    a list of tensors or a tensor whose first axis enumerates them; mode 'raise', 'wrap' (a mod n) or
    'clip' (a clipped to [0, n - 1])."""
    if out is not None:
        raise TypeError("choose: out is not supported, use the returned value")
    a = as_tensor_variable(a)
    if isinstance(choices, (list, tuple)):
        # NumPy broadcasts the choices against each other; stack needs one shape.
        choices = [as_tensor_variable(c) for c in choices]
        rank = builtins.max(c.ndim for c in choices)
        choices = [shape_padleft(c, rank - c.ndim) for c in choices]
        common = functools.reduce(add, [zeros_like(c) for c in choices]) if len(choices) > 1 else None
        choices = stack([c if common is None else c + cast(common, c.dtype) for c in choices])
    else:
        choices = as_tensor_variable(choices)
    n = choices.shape[0]
    if mode == "wrap":
        a = mod(a, n)
    elif mode == "clip":
        a = clip(a, 0, n - 1)
    elif mode != "raise":
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    ndim = builtins.max(a.ndim, choices.ndim - 1)
    a = shape_padleft(a, ndim - a.ndim)
    choices = choices.dimshuffle(0, *(["x"] * (ndim + 1 - choices.ndim)), *range(1, choices.ndim))
    a = a + zeros_like(choices[0], dtype=a.dtype)
    choices = choices + zeros_like(a, dtype=choices.dtype)
    return take_along_axis(choices, shape_padleft(a), 0)[0]


def inverse_permutation(perm):
    """The inverse of each permutation along the last axis: out[perm[i]] = i."""
    perm = as_tensor_variable(perm)
    return cast(argsort(perm, axis=-1), perm.dtype)


def permute_row_elements(x, y, inverse=0):
    """Each row (last axis) of x reordered by the permutation in the matching row of y: out[..., i] =
    x[..., y[..., i]], or with inverse out[..., y[..., i]] = x[..., i]. The leading axes of x and y
    broadcast, so one permutation can reorder every row, or one row be reordered by every permutation."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    # Broadcast the leading axes only: the other operand's first column, kept as an axis of size 1.
    rows = x + zeros_like(shape_padright(y[..., 0]), dtype=x.dtype)
    permutations = y + zeros_like(shape_padright(x[..., 0]), dtype=y.dtype)
    if inverse:
        permutations = inverse_permutation(permutations)
    return take_along_axis(rows, permutations, -1)


# What `from hypatia.tensor.basic import *` gives hypatia.tensor: the ops and constructors, not the modules
# and helpers this file imports.
__all__ = [name for name, value in list(globals().items())
           if not name.startswith("_") and not isinstance(value, type(np)) and name not in {"config"}]
