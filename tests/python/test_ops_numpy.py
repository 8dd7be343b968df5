"""Every op of Hypatia's tensor library checked against NumPy, the independent expectation.

Values, shapes and dtypes are compared: exactly for integers and bools, with dtype-appropriate tolerances
for floats. Inputs are declared from the test arrays' shapes: a dimension of size 1 is declared 1 (it
broadcasts, Theano's rule), every other dimension None. Where NumPy 2's result dtype differs from
Hypatia's documented rule, the test checks the documented rule and a comment says so. Bugs found are
strict xfails whose reason starts with "BUG:".
"""
import math
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
import hypothesis.extra.numpy as hnp
from hypothesis import configuration as hypothesis_configuration

import hypatia as theano
import hypatia.tensor as T
from hypatia.tensor import nnet

UINTS = ["uint8", "uint16", "uint32", "uint64"]
INTS = ["int8", "int16", "int32", "int64"] + UINTS
ALL = ["bool"] + INTS + ["float32", "float64"]
FLOATS = ["float32", "float64"]
NUMERIC = INTS + FLOATS
TOL = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-11, atol=1e-13)}
hypothesis_configuration.set_hypothesis_home_dir(tempfile.gettempdir() + "/hypatia-hypothesis")  # not in the repo


# ---- Helpers ----

def upgrade_to_float(dtype):
    """Hypatia's (Theano's) dtype for float ops: float32 for bools and 8- and 16-bit integers, float64 for
    wider integers."""
    if dtype in FLOATS:
        return dtype
    return "float32" if np.dtype(dtype).itemsize <= 2 else "float64"


def promote(*dtypes):
    return np.result_type(*dtypes).name


def data(shape, dtype, lo=-4.0, hi=4.0, seed=0):
    """Deterministic test values of dtype in [lo, hi] (integers: the integers in it, within the dtype)."""
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype in FLOATS:
        return rng.uniform(lo, hi, shape).astype(dtype)
    info = np.iinfo(dtype)
    low, high = max(math.ceil(lo), info.min), min(math.floor(hi), info.max)
    return rng.integers(low, max(low, high) + 1, shape).astype(dtype)


def sym(value, name="x"):
    """A symbolic input for value: dimensions of size 1 declared 1 (broadcastable), others None."""
    value = np.asarray(value)
    return T.tensor(name, dtype=value.dtype.name, shape=tuple(1 if s == 1 else None for s in value.shape))


def run(build, *values):
    """Compiles build(*inputs) for inputs declared from values and calls it on them."""
    inputs = [sym(v, f"x{i}") for i, v in enumerate(values)]
    return theano.function(inputs, build(*inputs), on_unused_input="ignore")(*values)


def check(got, want, dtype=None, **tol):
    """got must be an ndarray of want's shape and of dtype (default: want's) with want's values."""
    want = np.asarray(want)
    dtype = np.dtype(dtype if dtype is not None else want.dtype)
    assert isinstance(got, np.ndarray), f"expected an ndarray, got {type(got).__name__}"
    assert got.dtype == dtype, f"dtype {got.dtype}, expected {dtype}"
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    if dtype.kind == "f":
        np.testing.assert_allclose(got, want, **{**TOL[dtype.name], **tol})
    else:
        np.testing.assert_array_equal(got, want)


def numpy_dtype_is(documented, numpy_dtype, divergent):
    """Documents a dtype rule against NumPy: equal unless the case is a listed divergence (then really unequal,
    so the list stays exact)."""
    if divergent:
        assert np.dtype(numpy_dtype) != np.dtype(documented), "listed as a divergence but NumPy agrees"
    else:
        assert np.dtype(numpy_dtype) == np.dtype(documented)


def _via_float64(fn):
    """A float array's reference computed by a scalar function in float64 (math.erf: NumPy has no erf)."""
    return lambda x: np.vectorize(fn, otypes=[np.float64])(x.astype(np.float64)).astype(x.dtype)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(x.dtype.type(0), x)


# ---- Elementwise: unary ----

# name: (NumPy reference, value domain, dtype rule, dtypes). Rules: "same" (the input's dtype), "float"
# (upgrade_to_float; the reference then runs on the input cast to that dtype), "bool".
UNARY = {
    "neg": (np.negative, (-5, 5), "same", NUMERIC),
    "abs": (np.abs, (-5, 5), "same", ALL),
    "sign": (np.sign, (-5, 5), "same", NUMERIC),
    "exp": (np.exp, (-3, 3), "float", ALL),
    "exp2": (np.exp2, (-3, 3), "float", ALL),
    "log": (np.log, (0.1, 6), "float", ALL),
    "log2": (np.log2, (0.1, 6), "float", ALL),
    "log10": (np.log10, (0.1, 6), "float", ALL),
    "log1p": (np.log1p, (-0.5, 6), "float", ALL),
    "expm1": (np.expm1, (-2, 2), "float", ALL),
    "sqrt": (np.sqrt, (0, 6), "float", ALL),
    "sqr": (np.square, (-5, 5), "same", ALL),
    "reciprocal": (lambda x: 1 / x, (0.5, 4), "float", ALL),
    "tanh": (np.tanh, (-3, 3), "float", ALL),
    "sigmoid": (_sigmoid, (-6, 6), "float", ALL),
    "softplus": (_softplus, (-6, 6), "float", ALL),
    "sin": (np.sin, (-3, 3), "float", ALL),
    "cos": (np.cos, (-3, 3), "float", ALL),
    "tan": (np.tan, (-1.2, 1.2), "float", ALL),
    "arcsin": (np.arcsin, (-0.99, 0.99), "float", ALL),
    "arccos": (np.arccos, (-0.99, 0.99), "float", ALL),
    "arctan": (np.arctan, (-5, 5), "float", ALL),
    "sinh": (np.sinh, (-3, 3), "float", ALL),
    "cosh": (np.cosh, (-3, 3), "float", ALL),
    "erf": (_via_float64(math.erf), (-2, 2), "float", ALL),
    "erfc": (_via_float64(math.erfc), (-2, 2), "float", ALL),
    "arcsinh": (np.arcsinh, (-3, 3), "float", ALL),
    "arccosh": (np.arccosh, (1, 5), "float", ALL),
    "arctanh": (np.arctanh, (-0.9, 0.9), "float", ALL),
    "trunc": (np.trunc, (-5, 5), "float", ALL),
    # Theano's rule (upgrade_to_float_no_complex): floor and ceil of integers are floats.
    "floor": (np.floor, (-5, 5), "float", ALL),
    "ceil": (np.ceil, (-5, 5), "float", ALL),
    "round": (np.round, (-5, 5), "same", ALL),
    "logical_not": (np.logical_not, (-2, 2), "bool", ALL),
    "isnan": (np.isnan, (-2, 2), "bool", ALL),
    "isinf": (np.isinf, (-2, 2), "bool", ALL),
    # Complex parts of real numbers, as NumPy's (their complex behaviour: test_complex.py).
    "real": (np.real, (-5, 5), "same", ALL),
    "imag": (np.imag, (-5, 5), "same", ALL),
    "conj": (np.conj, (-5, 5), "same", ALL),
    "angle": (np.angle, (-5, 5), "float", ALL),
}
assert set(UNARY) == set(T.basic._UNARY)
SMALL_INTS = ("bool", "int8", "uint8")  # NumPy's float ufuncs give float16 for these


def unary_numpy_differs(op, dtype):
    """Where NumPy 2's dtype differs from Hypatia's documented rule (the tests check the rule)."""
    rule = UNARY[op][2]
    # NumPy's float ufuncs give float16 for bool/int8/uint8; Hypatia computes in float32 (upgrade_to_float).
    if rule == "float" and op != "reciprocal" and dtype in SMALL_INTS:
        return True
    # Hypatia's sqr, round and conj keep bool (their rule is Upcast, scalar_ops.def); NumPy gives int8 for
    # square(bool) and conj(bool) and float16 for round(bool).
    if op in ("sqr", "round", "conj") and dtype == "bool":
        return True
    # NumPy 2's floor and ceil keep integer dtypes; Theano 1.0 (and Hypatia) upgrade them to float.
    if op in ("floor", "ceil", "trunc") and dtype not in FLOATS:
        return True
    # np.reciprocal on integers is integer division 1 // x; Hypatia's reciprocal is a float op (Theano's inv).
    return op == "reciprocal" and dtype not in FLOATS


def rule_dtype(rule, dtype):
    return {"same": dtype, "float": upgrade_to_float(dtype), "bool": "bool"}[rule]


UNARY_CASES = [(op, dtype) for op, spec in UNARY.items() for dtype in spec[3]]
ELEMWISE_SHAPES = [(3, 4), (0, 3), (1, 1), (5,), ()]


@pytest.mark.parametrize("shape", ELEMWISE_SHAPES, ids=str)
@pytest.mark.parametrize("op,dtype", UNARY_CASES)
def test_unary(op, dtype, shape):
    ref, (lo, hi), rule, _ = UNARY[op]
    a = data(shape, dtype, lo, hi)
    out_dtype = rule_dtype(rule, dtype)
    with np.errstate(all="ignore"):
        want = ref(a.astype(out_dtype) if rule == "float" else a)
    check(run(getattr(T, op), a), want.astype(out_dtype), out_dtype)


@pytest.mark.parametrize("op,dtype", UNARY_CASES)
def test_unary_dtype_rule_against_numpy(op, dtype):
    ref, _, rule, _ = UNARY[op]
    with np.errstate(all="ignore"):
        probe = {"reciprocal": np.reciprocal, "sigmoid": np.exp, "softplus": np.exp, "erf": np.exp,
                 "erfc": np.exp}.get(op, ref)  # the formulas' dtype is that of NumPy's float ufuncs
        numpy_dtype = probe(np.ones(3, dtype)).dtype
    numpy_dtype_is(rule_dtype(rule, dtype), numpy_dtype, unary_numpy_differs(op, dtype))


SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -2.5, 1e-30, -7.25, 40.0, -40.0])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("op", list(UNARY))
def test_unary_special_values(op, dtype):
    """NaN, infinities, signed zeros, halves (round half to even) and large magnitudes."""
    a = SPECIAL.astype(dtype)
    with np.errstate(all="ignore"):
        want = np.asarray(UNARY[op][0](a))
    check(run(getattr(T, op), a), want, rule_dtype(UNARY[op][2], dtype))


@pytest.mark.parametrize("op", ["neg", "sign"])
def test_unary_refuses_bool(op):
    with pytest.raises(TypeError):
        getattr(T, op)(T.vector("b", dtype="bool"))
    with pytest.raises(TypeError):  # NumPy refuses them too
        getattr(np, {"neg": "negative"}.get(op, op))(np.ones(2, bool))


# ---- Elementwise: binary ----

# name: (NumPy reference, domain of a, domain of b, dtype rule, accepts bool)
BINARY = {
    "add": (np.add, (-5, 5), (-5, 5), "same", True),
    "mul": (np.multiply, (-5, 5), (-5, 5), "same", True),
    "sub": (np.subtract, (-5, 5), (-5, 5), "same", False),
    "true_div": (np.true_divide, (-5, 5), (0.5, 4), "float", True),
    "int_div": (np.floor_divide, (-9, 9), (-3, 3), "same", False),  # integer divisors include 0: result 0
    "mod": (np.mod, (-9, 9), (-3, 3), "same", False),
    "pow": (np.power, (0.1, 3), (-2, 3), "same", False),  # integer exponents are drawn >= 0 (below)
    "arctan2": (np.arctan2, (-3, 3), (-3, 3), "float", True),
    "maximum": (np.maximum, (-5, 5), (-5, 5), "same", True),
    "minimum": (np.minimum, (-5, 5), (-5, 5), "same", True),
    "eq": (np.equal, (-2, 2), (-2, 2), "bool", True),
    "neq": (np.not_equal, (-2, 2), (-2, 2), "bool", True),
    "lt": (np.less, (-2, 2), (-2, 2), "bool", True),
    "le": (np.less_equal, (-2, 2), (-2, 2), "bool", True),
    "gt": (np.greater, (-2, 2), (-2, 2), "bool", True),
    "ge": (np.greater_equal, (-2, 2), (-2, 2), "bool", True),
    "logical_and": (np.logical_and, (-1, 1), (-1, 1), "logical", True),
    "logical_or": (np.logical_or, (-1, 1), (-1, 1), "logical", True),
    "logical_xor": (np.logical_xor, (-1, 1), (-1, 1), "logical", True),
}
assert set(T.basic._BINARY) - {"complex"} <= set(BINARY)  # complex(re, im) has no ufunc: test_complex.py


def binary_operands(op, dtype_a, dtype_b, shape_a, shape_b):
    _, dom_a, dom_b, _, _ = BINARY[op]
    if op == "pow" and promote(dtype_a, dtype_b) not in FLOATS:
        dom_a, dom_b = (-3, 3), (0, 4)  # NumPy refuses negative integer powers
    return data(shape_a, dtype_a, *dom_a, seed=1), data(shape_b, dtype_b, *dom_b, seed=2)


def binary_dtype(op, dtype_a, dtype_b):
    promoted = promote(dtype_a, dtype_b)
    return {"same": promoted, "float": upgrade_to_float(promoted), "bool": "bool", "logical": "bool"}[BINARY[op][3]]


def binary_reference(op, a, b):
    """NumPy's result computed in Hypatia's documented computation dtype."""
    ref, _, _, rule, _ = BINARY[op]
    work = {"same": promote(a.dtype, b.dtype), "bool": promote(a.dtype, b.dtype), "logical": None,
            "float": binary_dtype(op, a.dtype.name, b.dtype.name)}[rule]
    with np.errstate(all="ignore"):
        return ref(a, b) if work is None else ref(a.astype(work), b.astype(work))


def binary_numpy_differs(op, dtype_a, dtype_b):
    """Where NumPy 2's dtype differs from Hypatia's documented rule (the tests check the rule)."""
    # Hypatia: float32 when the promoted dtype is bool or a 8- or 16-bit integer (upgrade_to_float). NumPy's
    # true_divide gives float64 for every integer pair. Its arctan2 takes the smallest float holding each
    # input: float16 when both are bool/int8/uint8, and float32 for uint16 beside int8 or int16, which
    # Hypatia promotes to int32 first and so computes in float64.
    if op == "true_div":
        promoted = promote(dtype_a, dtype_b)
        return promoted not in FLOATS and upgrade_to_float(promoted) == "float32"
    if op == "arctan2":
        return (dtype_a in SMALL_INTS and dtype_b in SMALL_INTS) or {dtype_a, dtype_b} in ({"int8", "uint16"},
                                                                                          {"int16", "uint16"})
    return False


def binary_accepts(op, dtype_a, dtype_b):
    return BINARY[op][4] or promote(dtype_a, dtype_b) != "bool"


BINARY_DTYPE_CASES = [(op, a, b) for op in BINARY for a in ALL for b in ALL if binary_accepts(op, a, b)]


@pytest.mark.parametrize("op,dtype_a,dtype_b", BINARY_DTYPE_CASES)
def test_binary_dtypes(op, dtype_a, dtype_b):
    """Every binary op on every pair of dtypes: values and NumPy's promotion (README table)."""
    a, b = binary_operands(op, dtype_a, dtype_b, (2, 3), (2, 3))
    out_dtype = binary_dtype(op, dtype_a, dtype_b)
    check(run(getattr(T, op), a, b), binary_reference(op, a, b), out_dtype)
    with np.errstate(all="ignore"):
        numpy_dtype = BINARY[op][0](a, b).dtype
    numpy_dtype_is(out_dtype, numpy_dtype, binary_numpy_differs(op, dtype_a, dtype_b))


BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (1, 4)), ((3, 1), (1, 4)), ((0, 4), (1, 4)), ((), (3, 4)),
                    ((4,), (3, 1)), ((2, 1, 3), (4, 1)), ((1, 1), ()), ((0,), (0,))]


@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize("op", list(BINARY))
def test_binary_broadcasting(op, dtype, shapes):
    a, b = binary_operands(op, dtype, dtype, *shapes)
    check(run(getattr(T, op), a, b), binary_reference(op, a, b), binary_dtype(op, dtype, dtype))


@pytest.mark.parametrize("op", [op for op, spec in BINARY.items() if not spec[4]])
def test_binary_refuses_bool(op):
    # Documented ("UpcastNumeric"): sub refuses bool like NumPy; NumPy gives int8 for floor_divide, mod and
    # power of bools, Hypatia refuses them.
    b = T.vector("b", dtype="bool")
    with pytest.raises(TypeError):
        getattr(T, op)(b, b)


def test_binary_runtime_size_one_does_not_broadcast():
    """Theano's rule: a dimension declared None with runtime size 1 is an error, not a broadcast."""
    x, y = T.matrix("x"), T.matrix("y")
    f = theano.function([x, y], x + y)
    with pytest.raises(theano.ShapeError):
        f(np.ones((3, 4)), np.ones((1, 4)))


SPECIAL_OPS = BINARY


@pytest.mark.parametrize("op", SPECIAL_OPS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_special_values(op, dtype):
    """NaN propagation of maximum/minimum, comparisons with NaN, division by zero, float mod/floor division."""
    a = np.array([np.nan, 1.0, np.inf, -np.inf, 0.0, -3.5, 7.0, 2.0, np.nan, -0.0, 0.0, 2.0], dtype)
    b = np.array([1.0, np.nan, 1.0, np.inf, 0.0, 2.0, -2.0, 0.0, np.nan, 5.0, -1.0, np.inf], dtype)
    check(run(getattr(T, op), a, b), binary_reference(op, a, b), binary_dtype(op, dtype, dtype))


def test_integer_division_extremes():
    """Floor division and modulo of negative numbers, by zero (0) and of INT_MIN by -1; wrapping arithmetic."""
    a = np.array([-7, 7, -7, 7, 5, -128, 127, -128, 0, 127, -128], dtype="int8")
    b = np.array([2, -2, -2, 2, 0, -1, 1, 1, 0, -128, 127], dtype="int8")
    for op in ("int_div", "mod", "add", "sub", "mul", "maximum"):
        check(run(getattr(T, op), a, b), binary_reference(op, a, b), "int8")
    base, exponent = np.array([3, 2, -3, 5, 0, -1], "int8"), np.array([5, 7, 3, 0, 0, 3], "int8")
    check(run(T.pow, base, exponent), np.power(base, exponent))  # 3 ** 5 wraps to -13 in int8


@pytest.mark.parametrize("dtype", INTS)
def test_integer_unary_extremes(dtype):
    info = np.iinfo(dtype)
    a = np.array([info.min, info.max, 0, 1, info.max // 2], dtype)
    for op in ("neg", "abs", "sign", "sqr"):  # wrapping: neg and abs of the minimum are the minimum
        with np.errstate(all="ignore"):
            check(run(getattr(T, op), a), UNARY[op][0](a))
    for op in ("max", "min", "argmax", "argmin", "sum", "prod", "mean"):
        check_reduction(op, a, None, False)
    check(run(T.cumsum, a), np.cumsum(a))


def test_float_floor_division_matches_numpy():
    a, b = np.array([1.0, -1.0, 0.3, 7.0]), np.array([0.1, 0.1, 0.1, -0.7])
    check(run(lambda x, y: x // y, a, b), a // b)


@pytest.mark.parametrize("op,ref", [(T.add, np.add), (T.mul, np.multiply), (T.logical_and, np.logical_and),
                                    (T.logical_or, np.logical_or), (T.logical_xor, np.logical_xor)])
def test_nary(op, ref):
    a, b, c = data((3, 1), "int16", seed=1), data((1, 4), "int32", seed=2), data((4,), "float32", seed=3)
    with np.errstate(all="ignore"):
        want = ref(ref(a, b), c)
    check(run(op, a, b, c), want)


@pytest.mark.parametrize("op,ref", [(T.and_, np.bitwise_and), (T.or_, np.bitwise_or), (T.xor, np.bitwise_xor),
                                    (T.invert, np.invert), (T.bitwise_and, np.bitwise_and)])
@pytest.mark.parametrize("dtype", ["bool"] + INTS)
def test_bitwise(op, ref, dtype):
    """Theano's and_/or_/xor/invert are bitwise on integers and logical on bools, as NumPy's & | ^ ~."""
    arity = 1 if op is T.invert else 2
    operands = [data((3, 4), dtype, seed=1), data((1, 4), dtype, seed=2)][:arity]
    check(run(op, *operands), ref(*operands))


def test_bitwise_refuses_floats():
    with pytest.raises(TypeError, match=r"\[bitwise_and\] is defined for integers and bools"):
        T.and_(T.dvector(), T.dvector())


# Python operators on Variables, evaluated by the same expression on NumPy arrays.
OPERATORS = {
    "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y, "/": lambda x, y: x / y,
    "//": lambda x, y: x // y, "%": lambda x, y: x % y, "**": lambda x, y: abs(x) ** (y % 3),
    "<": lambda x, y: x < y, "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y,
    "neg": lambda x, y: -x + y, "abs": lambda x, y: abs(x) - y,
    "reflected": lambda x, y: 2 - x + 3 * y - 1.5 / (abs(x) + 1),
}


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
@pytest.mark.parametrize("name", list(OPERATORS))
def test_python_operators(name, dtype):
    a, b = data((3, 4), dtype, -5, 5, seed=1), data((1, 4), dtype, 1, 5, seed=2)
    with np.errstate(all="ignore"):
        want = OPERATORS[name](a, b)
    check(run(OPERATORS[name], a, b), want)


@pytest.mark.parametrize("name,expr", [("&", lambda x, y: x & y), ("|", lambda x, y: x | y),
                                       ("^", lambda x, y: x ^ y), ("~", lambda x, y: ~x)])
def test_python_bool_operators(name, expr):
    a, b = data((3, 4), "bool", seed=1), data((3, 4), "bool", seed=2)
    check(run(expr, a, b), expr(a, b))


# NumPy 2 "weak" Python scalars: (input dtype, expression over a module m). The expected dtype is NumPy's.
WEAK_SCALARS = [
    ("float32", lambda m, x: x * 2.0), ("float32", lambda m, x: 2.0 - x), ("float32", lambda m, x: x / 3),
    ("float32", lambda m, x: x + 1), ("float64", lambda m, x: x * 0.1), ("int8", lambda m, x: x + 1),
    ("int8", lambda m, x: 3 * x), ("int8", lambda m, x: x * 2.5), ("uint8", lambda m, x: x + 3),
    ("uint8", lambda m, x: 200 - x), ("int16", lambda m, x: x // 2), ("int16", lambda m, x: x % 3),
    ("int32", lambda m, x: x - 7), ("int64", lambda m, x: x * 3), ("bool", lambda m, x: x + 1),
    ("bool", lambda m, x: x * 1.5), ("int32", lambda m, x: m.maximum(x, 2)), ("int8", lambda m, x: m.clip(x, 1, 3)),
    ("float32", lambda m, x: x > 0.5), ("int8", lambda m, x: x < 100), ("float32", lambda m, x: x ** 2),
    ("int64", lambda m, x: x + 2 ** 40), ("float32", lambda m, x: m.where(x > 4, x, 0.5)),
    ("uint16", lambda m, x: x + 3), ("uint16", lambda m, x: 60000 * x), ("uint32", lambda m, x: 7 - x),
    ("uint32", lambda m, x: x * 2.5), ("uint64", lambda m, x: x + 2 ** 40), ("uint64", lambda m, x: x // 2),
    ("uint64", lambda m, x: x % 4), ("uint32", lambda m, x: m.maximum(x, 3)),
]


@pytest.mark.parametrize("dtype,expr", WEAK_SCALARS)
def test_weak_python_scalars(dtype, expr):
    a = data((2, 3), dtype, 0, 9)
    with np.errstate(all="ignore"):
        want = expr(np, a)
    check(run(lambda x: expr(T, x), a), want)


@pytest.mark.parametrize("dtype,expr", [("int16", lambda m, x: x / 2), ("uint8", lambda m, x: x / 4),
                                        ("int8", lambda m, x: m.sqrt(x + 1)), ("uint16", lambda m, x: x / 4)])
def test_weak_scalars_with_float_ops(dtype, expr):
    # Documented rule differs from NumPy: float ops on 8- and 16-bit integers compute in float32 (NumPy:
    # float64 for true division, float16 for sqrt of int8).
    a = data((2, 3), dtype, 0, 9)
    check(run(lambda x: expr(T, x), a), expr(np, a.astype("float32")), "float32")


def test_weak_integer_that_does_not_fit():
    # Hypatia's documented choice (Operand::as_weak_variable): a literal that does not fit the tensor's
    # integer dtype makes the result int64. NumPy 2 raises OverflowError instead.
    a = data((4,), "int8")
    check(run(lambda x: x + 1000, a), a.astype("int64") + 1000, "int64")
    with pytest.raises(OverflowError):
        a + 1000


def test_weak_large_integer_literal_is_exact():
    a = np.array([0, 1, -5], dtype="int64")
    check(run(lambda x: x + (2 ** 53 + 1), a), a + (2 ** 53 + 1))


@pytest.mark.parametrize("expr", [lambda m, c: c + True, lambda m, c: m.where(c, True, False),
                                  lambda m, c: m.full((3,), True), lambda m, c: m.maximum(c, False)],
                         ids=["add", "where", "full", "maximum"])
def test_python_bool_literals_are_bool(expr):
    c = data((3,), "bool")
    check(run(lambda x: expr(T, x), c), expr(np, c))


# ---- Elementwise: clip, switch/where, cast, isclose, fill ----

@pytest.mark.parametrize("dtype", NUMERIC)
def test_clip_scalar_bounds(dtype):
    a = data((3, 5), dtype, -6, 6)
    check(run(lambda x: T.clip(x, 1, 4), a), np.clip(a, 1, 4))
    check(run(lambda x: x.clip(1, 4), a), np.clip(a, 1, 4))


@pytest.mark.parametrize("dtypes", [("float64",) * 3, ("int32", "int8", "int64"), ("float32", "int8", "float64"),
                                    ("uint8", "uint8", "uint8")])
def test_clip_tensor_bounds(dtypes):
    a = data((3, 4), dtypes[0], 0, 9)
    lo, hi = data((1, 4), dtypes[1], 0, 3, seed=1), data((3, 1), dtypes[2], 5, 8, seed=2)
    check(run(T.clip, a, lo, hi), np.clip(a, lo, hi))


SWITCH_DTYPES = [("float64", "float64"), ("float32", "int8"), ("int8", "uint8"), ("bool", "int32"),
                 ("int64", "float32"), ("bool", "bool")]


@pytest.mark.parametrize("fn", [T.switch, T.where], ids=["switch", "where"])
@pytest.mark.parametrize("dtypes", SWITCH_DTYPES, ids=str)
@pytest.mark.parametrize("shapes", [((3, 4),) * 3, ((3, 1), (1, 4), ()), ((0, 4), (1, 4), (0, 4))], ids=str)
def test_switch(fn, dtypes, shapes):
    cond = data(shapes[0], "bool")
    a, b = data(shapes[1], dtypes[0], seed=1), data(shapes[2], dtypes[1], seed=2)
    check(run(fn, cond, a, b), np.where(cond, a, b))


@pytest.mark.parametrize("cond_dtype", ["int8", "float64"])
def test_switch_nonbool_condition(cond_dtype):
    cond = data((3, 4), cond_dtype, -1, 1)
    a, b = data((3, 4), "float32", seed=1), data((3, 4), "float32", seed=2)
    check(run(T.switch, cond, a, b), np.where(cond, a, b))


def test_where_scalar_branches():
    cond = data((5,), "bool")
    check(run(lambda c: T.where(c, 1.5, -2), cond), np.where(cond, 1.5, -2))


@pytest.mark.parametrize("target", ALL)
@pytest.mark.parametrize("source", ALL)
def test_cast(source, target):
    if source in FLOATS:
        values = [0.0, 1.0, 2.7, 99.9, 127.0]
        # Negative floats to unsigned integers are undefined in C, and NumPy's results vary by platform.
        values += [-2.7, -1.0, -100.5] if target not in UINTS + ["bool"] else []
    elif source == "bool":
        values = [True, False]
    else:
        values = [0, 1, 2, 100, 127] + ([-1, -5, -128] if source not in UINTS else [255])
        values += [np.iinfo(source).max] if source in UINTS else []
    a = np.array(values, dtype=source)
    check(run(lambda x: T.cast(x, target), a), a.astype(target))
    check(run(lambda x: x.astype(target), a), a.astype(target))


@pytest.mark.parametrize("dtype", FLOATS)
def test_isclose_allclose(dtype):
    a = np.array([1.0, 1.0, np.nan, np.inf, 0.0, 1e-9, 100.0], dtype)
    b = np.array([1.0, 1.0 + 1e-6, np.nan, np.inf, 1e-9, 0.0, 100.001], dtype)
    check(run(T.isclose, a, b), np.isclose(a, b))
    check(run(lambda x, y: T.isclose(x, y, equal_nan=True), a, b), np.isclose(a, b, equal_nan=True))
    check(run(lambda x, y: T.isclose(x, y, rtol=1e-3, atol=0), a, b), np.isclose(a, b, rtol=1e-3, atol=0))
    check(run(T.allclose, a, b), np.array(np.allclose(a, b)))
    check(run(T.allclose, a[:2], a[:2]), np.array(True))


def test_fill_alloc_iround():
    a, v = data((2, 3), "float32"), np.array(7, "int8")
    check(run(T.fill, a, v), np.full((2, 3), 7, "int8"))
    check(run(T.second, a, v), np.full((2, 3), 7, "int8"))
    check(run(lambda x: T.alloc(x, 2, 3), v), np.full((2, 3), 7, "int8"))
    check(run(lambda x: T.alloc(x, 4, 2, 3), data((2, 3), "int32")), np.broadcast_to(data((2, 3), "int32"), (4, 2, 3)))
    h = np.array([0.5, 1.5, 2.5, -0.5, -1.7, 3.2])
    check(run(T.iround, h), np.round(h).astype("int64"))


# ---- Reductions ----

def _np_arg(fn):
    def ref(a, axis=None, keepdims=False):
        return fn(a, axis=axis[0] if isinstance(axis, tuple) else axis, keepdims=keepdims)
    return ref


# name: (NumPy reference, dtype rule: "sum" (int64 for ints/bools), "mean" (float64 for ints/bools),
# "same", "index" (int64), "bool"; identity: False if NumPy refuses an empty reduction)
REDUCTIONS = {
    "sum": (np.sum, "sum", True), "prod": (np.prod, "sum", True), "mean": (np.mean, "mean", True),
    "var": (np.var, "mean", True), "std": (np.std, "mean", True), "max": (np.max, "same", False),
    "min": (np.min, "same", False), "argmax": (_np_arg(np.argmax), "index", False),
    "argmin": (_np_arg(np.argmin), "index", False), "any": (np.any, "bool", True), "all": (np.all, "bool", True),
}


def reduce_dtype(op, dtype):
    rule = REDUCTIONS[op][1]
    if rule == "sum":
        return dtype if dtype in FLOATS else "uint64" if dtype in UINTS else "int64"
    if rule == "mean":
        return dtype if dtype in FLOATS else "float64"
    return {"same": dtype, "index": "int64", "bool": "bool"}[rule]


def reduce_data(op, shape, dtype):
    if op == "prod":
        return data(shape, dtype, 0.5, 1.5) if dtype in FLOATS else data(shape, dtype, -2, 2)
    return data(shape, dtype, -5, 5)


def reduce_reference(op, a, axis, keepdims):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the mean of nothing is NaN
        axis = tuple(axis) if isinstance(axis, list) else axis  # Theano takes lists, NumPy tuples
        return np.asarray(REDUCTIONS[op][0](a, axis=axis, keepdims=keepdims)).astype(reduce_dtype(op, a.dtype.name))


def check_reduction(op, a, axis, keepdims, **kwargs):
    want = reduce_reference(op, a, axis, keepdims)
    got = run(lambda x: getattr(T, op)(x, axis=axis, keepdims=keepdims, **kwargs), a)
    check(got, want, reduce_dtype(op, a.dtype.name))


REDUCE_AXES = [((2, 3, 4), axis) for axis in (None, 0, 1, 2, -1, -3, (0, 2), (-1, 0), (0, 1, 2), [1])]
REDUCE_AXES += [((0, 3), axis) for axis in (None, 0, 1, -1)] + [((1, 3), axis) for axis in (None, 0, 1)]
REDUCE_AXES += [((3, 0, 2), axis) for axis in (1, (0, 2))] + [((), None), ((4,), 0)]


def reduction_defined(op, shape, axis):
    """NumPy refuses max/min/argmax/argmin over an empty axis, and argmax/argmin over several axes."""
    if REDUCTIONS[op][1] == "index" and isinstance(axis, tuple):
        return False
    if REDUCTIONS[op][2]:
        return True
    axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
    return all(shape[ax] > 0 for ax in axes) and (axis is not None or math.prod(shape) > 0)


REDUCE_CASES = [(op, shape, axis) for op in REDUCTIONS for shape, axis in REDUCE_AXES
                if reduction_defined(op, shape, axis)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op,shape,axis", REDUCE_CASES, ids=str)
def test_reduction_axes(op, shape, axis, keepdims):
    check_reduction(op, reduce_data(op, shape, "float64"), axis, keepdims)


@pytest.mark.parametrize("op,dtype", [(op, dtype) for op in REDUCTIONS for dtype in ALL
                                      if not (op in ("var", "std") and dtype == "bool")])  # NumPy refuses these
def test_reduction_dtypes(op, dtype):
    a = reduce_data(op, (3, 4, 2), dtype)
    for axis in (None, 1) if REDUCTIONS[op][1] == "index" else (None, (0, 2)):
        check_reduction(op, a, axis, False)


@pytest.mark.parametrize("op", ["sum", "prod", "mean", "var", "std", "max", "min", "argmax", "argmin", "any", "all"])
def test_reduction_dtype_matches_numpy(op):
    for dtype in ALL:
        if not (op in ("var", "std") and dtype == "bool"):
            assert getattr(np, op)(np.ones(2, dtype)).dtype == np.dtype(reduce_dtype(op, dtype))


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("ddof", [0, 1, 2])
def test_var_std_ddof(op, ddof):
    a = data((4, 5), "float64")
    for axis in (None, 0, 1):
        check(run(lambda x: getattr(T, op)(x, axis=axis, ddof=ddof), a), getattr(np, op)(a, axis=axis, ddof=ddof))


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_ddof_beyond_count(op):
    a = np.array([1.0, 2.0])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = getattr(np, op)(a, ddof=3)
    check(run(lambda x: getattr(T, op)(x, ddof=3), a), want)


@pytest.mark.parametrize("op", ["max", "min", "argmax", "argmin"])
def test_reduction_of_empty_axis_raises(op):
    """NumPy raises ValueError for these; Hypatia must not invent a value."""
    with pytest.raises(ValueError):
        getattr(np, op)(np.zeros((0, 3)), axis=0)
    with pytest.raises(ValueError):
        run(lambda x: getattr(T, op)(x, axis=0), np.zeros((0, 3)))


def test_reduction_methods_and_max_and_argmax():
    a = data((3, 4), "float32")
    check(run(lambda x: x.sum(axis=1), a), a.sum(axis=1))
    check(run(lambda x: x.mean(), a), a.mean())
    check(run(lambda x: x.max(axis=0, keepdims=True), a), a.max(axis=0, keepdims=True))
    check(run(lambda x: x.argmin(axis=-1), a), a.argmin(axis=-1))
    m, i = theano.function([x := sym(a)], list(T.max_and_argmax(x, axis=1)))(a)
    check(m, a.max(axis=1))
    check(i, a.argmax(axis=1))


@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduction_dtype_is_the_accumulator(op):
    a = data((3, 1000), "float32")
    check(run(lambda x: getattr(T, op)(x, axis=1, dtype="float64"), a), getattr(np, op)(a, axis=1, dtype="float64"))


def test_argmax_ties_take_the_first():
    a = np.array([[1, 3, 3, 0], [2, 2, 2, 2], [-1, -5, -5, -1]], dtype="int32")
    for op in ("argmax", "argmin"):
        for axis in (None, 0, 1):
            check(run(lambda x: getattr(T, op)(x, axis=axis), a), getattr(np, op)(a, axis=axis))


def test_max_min_nan_propagate():
    a = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
    for op in ("max", "min", "sum", "mean"):
        check(run(lambda x: getattr(T, op)(x, axis=1), a), getattr(np, op)(a, axis=1))


@pytest.mark.parametrize("op", ["sum", "prod", "max", "any", "mean"])
def test_reduction_over_no_axes(op):
    a = data((2, 3), "float64")
    check(run(lambda x: getattr(T, op)(x, axis=()), a), getattr(np, op)(a, axis=()))


# ---- Shapes, products, extra ops: expressions over a module m (np or T) ----

def case(name, expr, *shapes, ref=None, dtype="float64"):
    """A table row: expr(m, *inputs) built with m=T on symbolic inputs against ref(np, *arrays) (default:
    the same expression with m=np). shapes are the inputs' shapes, or (shape, dtype) pairs."""
    specs = [s if len(s) == 2 and isinstance(s[1], str) else (s, dtype) for s in shapes]
    return pytest.param(expr, ref or expr, specs, id=name)


def check_case(expr, ref, specs):
    values = [data(shape, dtype, seed=i) for i, (shape, dtype) in enumerate(specs)]
    with np.errstate(all="ignore"):
        want = ref(np, *values)
    got = run(lambda *xs: expr(T, *xs), *values)
    if isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want)
        for g, w in zip(got, want):
            check(g, w)
    else:
        check(got, want)


def _split_ref(sizes, axis):
    return lambda m, x: np.split(x, np.cumsum(sizes)[:-1], axis=axis)


SHAPE_CASES = [
    case("reshape", lambda m, x: m.reshape(x, (4, 6)), (2, 3, 4)),
    case("reshape-minus-one", lambda m, x: x.reshape((2, -1, 2)), (2, 3, 4)),
    case("reshape-varargs", lambda m, x: x.reshape(6, 4), (2, 3, 4)),
    case("reshape-empty", lambda m, x: m.reshape(x, (-1, 6)), (0, 3, 2)),
    case("reshape-to-scalar", lambda m, x: m.reshape(x, ()), (1, 1)),
    case("reshape-int8", lambda m, x: m.reshape(x, (3, 2)), ((6,), "int8")),
    case("reshape-symbolic", lambda m, x: m.reshape(x, (x.shape[2], x.shape[0] * x.shape[1])), (2, 3, 4)),
    case("flatten", lambda m, x: T.flatten(x), (2, 3, 4), ref=lambda m, x: x.ravel()),
    case("flatten-2", lambda m, x: T.flatten(x, 2), (2, 3, 4), ref=lambda m, x: x.reshape(2, 12)),
    case("flatten-empty", lambda m, x: T.flatten(x, 2), (3, 0, 2), ref=lambda m, x: x.reshape(3, 0)),
    case("ravel", lambda m, x: x.ravel(), ((2, 3), "int16")),
    case("dimshuffle", lambda m, x: x.dimshuffle(2, "x", 0, 1), (2, 3, 4),
         ref=lambda m, x: x.transpose(2, 0, 1)[:, None]),
    case("dimshuffle-list", lambda m, x: T.dimshuffle(x, (1, 0, "x")), (1, 4), ref=lambda m, x: x.T[:, :, None]),
    case("dimshuffle-drop-axis", lambda m, x: x.dimshuffle(1), (1, 4), ref=lambda m, x: x[0]),
    case("shape-padleft", lambda m, x: T.shape_padleft(x, 2), (3,), ref=lambda m, x: x[None, None]),
    case("shape-padright", lambda m, x: T.shape_padright(x), (3, 2), ref=lambda m, x: x[..., None]),
    case("shape-padaxis", lambda m, x: T.shape_padaxis(x, 1), (3, 2), ref=lambda m, x: x[:, None]),
    case("transpose", lambda m, x: m.transpose(x), (2, 3, 4)),
    case("transpose-axes", lambda m, x: m.transpose(x, (1, 0, 2)), (2, 3, 4)),
    case("transpose-method", lambda m, x: x.transpose(2, 0, 1), (2, 3, 4)),
    case("T", lambda m, x: x.T, ((3, 5), "bool")),
    case("transpose-empty", lambda m, x: x.T, (0, 3)),
    case("concatenate-0", lambda m, x, y: m.concatenate([x, y]), (2, 3), (4, 3)),
    case("concatenate-1", lambda m, x, y: m.concatenate([x, y], axis=1), (2, 3), (2, 4)),
    case("concatenate-neg", lambda m, x, y, z: m.concatenate((x, y, z), axis=-1), (2, 1), (2, 0), (2, 3)),
    case("concatenate-empty", lambda m, x, y: m.concatenate([x, y]), (0, 3), (2, 3)),
    case("concatenate-dtypes", lambda m, x, y: m.concatenate([x, y]), ((2,), "int8"), ((3,), "float32")),
    case("join", lambda m, x, y: T.join(1, x, y), (2, 3), (2, 2), ref=lambda m, x, y: np.concatenate([x, y], 1)),
    case("stack-0", lambda m, x, y: m.stack([x, y]), (2, 3), (2, 3)),
    case("stack-1", lambda m, x, y: m.stack([x, y], axis=1), (2, 3), (2, 3)),
    case("stack-neg", lambda m, x, y, z: m.stack((x, y, z), axis=-1), (2, 3), (2, 3), (2, 3)),
    case("stack-empty", lambda m, x, y: m.stack([x, y]), (0, 3), (0, 3)),
    case("stack-scalars", lambda m, x, y: m.stack([x, y]), (), ()),
    case("stack-theano", lambda m, x, y: T.stack(x, y), (3,), (3,), ref=lambda m, x, y: np.stack([x, y])),
    case("split", lambda m, x: T.split(x, [1, 2], 2, axis=1), (2, 3), ref=_split_ref([1, 2], 1)),
    case("split-0", lambda m, x: T.split(x, [2, 0, 3], axis=0), ((5, 2), "int32"), ref=_split_ref([2, 0, 3], 0)),
    case("split-neg", lambda m, x: T.split(x, [3, 1], axis=-1), (2, 2, 4), ref=_split_ref([3, 1], -1)),
    case("tile", lambda m, x: m.tile(x, (2,)), (3,)),
    case("tile-2d", lambda m, x: m.tile(x, (2, 3)), (2, 3)),
    case("tile-more-reps", lambda m, x: m.tile(x, (2, 1, 3)), (2, 3)),
    case("tile-fewer-reps", lambda m, x: m.tile(x, (2,)), (2, 3)),
    case("tile-zero", lambda m, x: m.tile(x, (0, 2)), (2, 3)),
    case("tile-int", lambda m, x: m.tile(x, 2), ((2, 3), "uint8")),
    case("repeat-flat", lambda m, x: m.repeat(x, 2), (2, 3)),
    case("repeat-0", lambda m, x: m.repeat(x, 3, axis=0), (2, 3)),
    case("repeat-neg", lambda m, x: x.repeat(2, axis=-1), ((2, 3), "int64")),
    case("repeat-zero", lambda m, x: m.repeat(x, 0, axis=1), (2, 3)),
    case("roll-flat", lambda m, x: m.roll(x, 1), (2, 3)),
    case("roll-axis", lambda m, x: m.roll(x, -2, axis=1), (2, 3)),
    case("roll-large", lambda m, x: m.roll(x, 5, axis=0), (2, 3)),
    case("roll-empty", lambda m, x: m.roll(x, 1, axis=0), (0, 3)),
    case("flip-all", lambda m, x: m.flip(x), (2, 3, 4)),
    case("flip-0", lambda m, x: m.flip(x, 0), (2, 3, 4)),
    case("flip-axes", lambda m, x: m.flip(x, (0, 2)), (2, 3, 4)),
    case("flip-neg", lambda m, x: m.flip(x, -1), ((2, 3), "int8")),
    case("swapaxes", lambda m, x: m.swapaxes(x, 0, 2), (2, 3, 4)),
    case("swapaxes-neg", lambda m, x: x.swapaxes(-1, 0), (2, 3, 4)),
    case("expand-dims-0", lambda m, x: m.expand_dims(x, 0), (2, 3)),
    case("expand-dims-last", lambda m, x: m.expand_dims(x, -1), (2, 3)),
    case("expand-dims-middle", lambda m, x: m.expand_dims(x, 2), (2, 3)),
    case("expand-dims-tuple", lambda m, x: m.expand_dims(x, (0, 3)), (2, 3)),
    case("squeeze-all", lambda m, x: m.squeeze(x), (1, 3, 1)),
    case("squeeze-0", lambda m, x: m.squeeze(x, 0), (1, 3, 1)),
    case("squeeze-neg", lambda m, x: x.squeeze(-1), (1, 3, 1)),
    case("squeeze-tuple", lambda m, x: m.squeeze(x, (0, 2)), (1, 3, 1)),
    case("squeeze-scalar", lambda m, x: m.squeeze(x), (1, 1)),
    case("shape", lambda m, x: T.shape(x), (2, 0, 4), ref=lambda m, x: np.array(x.shape, "int64")),
    case("shape-attribute", lambda m, x: x.shape[1] * 1, (2, 3, 4), ref=lambda m, x: np.array(3, "int64")),
    case("size", lambda m, x: x.size, (2, 3, 4), ref=lambda m, x: np.array(x.size, "int64")),
    case("ones-like", lambda m, x: m.ones_like(x), ((2, 3), "int8")),
    case("zeros-like", lambda m, x: m.zeros_like(x), ((0, 3), "float32")),
    case("full-like", lambda m, x: m.full_like(x, 7), ((2, 3), "uint8")),
    case("full-like-float", lambda m, x: m.full_like(x, 2.5), ((2, 3), "float32")),
    case("ones-like-dtype", lambda m, x: m.ones_like(x, dtype="int16"), ((2, 3), "float32")),
    case("zeros-like-dtype", lambda m, x: m.zeros_like(x, dtype="bool"), ((2,), "int64")),
    case("identity-like", lambda m, x: T.identity_like(x), (2, 3), ref=lambda m, x: np.eye(2, 3)),
]


@pytest.mark.parametrize("expr,ref,specs", SHAPE_CASES)
def test_shape_ops(expr, ref, specs):
    check_case(expr, ref, specs)


# Constructors with no inputs: (expression over m, expected dtype when NumPy's differs or None).
CONSTRUCTORS = [
    case("arange-stop", lambda m: m.arange(5)),
    case("arange-start-stop-step", lambda m: m.arange(2, 11, 3)),
    case("arange-negative-step", lambda m: m.arange(10, 2, -2)),
    case("arange-empty", lambda m: m.arange(5, 2)),
    case("arange-float", lambda m: m.arange(0, 1, 0.25)),
    case("arange-float-step-rounding", lambda m: m.arange(0.1, 0.9, 0.2)),
    case("arange-dtype", lambda m: m.arange(1, 7, 2, dtype="int8")),
    case("arange-float-dtype", lambda m: m.arange(3, dtype="float32")),
    case("eye", lambda m: m.eye(3)),
    case("eye-rect-k", lambda m: m.eye(3, 4, 1)),
    case("eye-k-neg", lambda m: m.eye(4, 3, k=-1, dtype="int32")),
    case("eye-empty", lambda m: m.eye(0)),
    case("zeros", lambda m: m.zeros((2, 3))),
    case("zeros-dtype", lambda m: m.zeros((2, 0), dtype="int16")),
    case("ones", lambda m: m.ones((3,), dtype="uint8")),
    case("ones-scalar", lambda m: m.ones(())),
    case("full-int", lambda m: m.full((2, 3), 7)),
    case("full-float", lambda m: m.full((2,), 1.5)),
    case("full-dtype", lambda m: m.full((2, 2), 3, dtype="float32")),
]


@pytest.mark.parametrize("expr,ref,specs", CONSTRUCTORS)
def test_constructors(expr, ref, specs):
    # The default float dtype is floatX (float64 unless configured), NumPy's default too.
    check(theano.function([], expr(T))(), ref(np))


def test_constructors_with_symbolic_sizes():
    n, m = T.lscalar("n"), T.lscalar("m")
    f = theano.function([n, m], [T.arange(n), T.eye(n, m), T.zeros((n, m), dtype="int8"), T.ones(T.stack([m, n])),
                                 T.full((m,), 2.5), T.arange(m, n, 2), T.alloc(np.float32(3), n, m)])
    for a, b in [(3, 2), (0, 4), (5, 0)]:
        want = [np.arange(a), np.eye(a, b), np.zeros((a, b), "int8"), np.ones((b, a)), np.full((b,), 2.5),
                np.arange(b, a, 2), np.full((a, b), 3, "float32")]
        for got, w in zip(f(np.int64(a), np.int64(b)), want):
            check(got, w)


# ---- Products ----

DOT_SHAPES = [((), (3,)), ((3,), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
              ((0, 3), (3, 4)), ((2, 0), (0, 4)), ((1, 3), (3, 1)), ((3,), (3, 1)), ((1, 3), (3,)),
              ((2, 3, 4), (4,)), ((2, 3, 4), (4, 5)), ((0,), (0,))]
PRODUCT_DTYPES = [("float64", "float64"), ("float32", "float32"), ("float32", "float64"), ("int32", "int32"),
                  ("int64", "int8"), ("int16", "float32")]


def product_tol(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else {}


@pytest.mark.parametrize("dtypes", PRODUCT_DTYPES, ids=str)
@pytest.mark.parametrize("shapes", DOT_SHAPES, ids=str)
def test_dot(shapes, dtypes):
    a, b = data(shapes[0], dtypes[0], seed=1), data(shapes[1], dtypes[1], seed=2)
    want = np.dot(a, b)
    check(run(T.dot, a, b), want, **product_tol(want.dtype.name))
    check(run(theano.dot, a, b), want, **product_tol(want.dtype.name))
    if a.ndim and b.ndim:
        check(run(lambda x, y: x.dot(y), a, b), want, **product_tol(want.dtype.name))


@pytest.mark.parametrize("shapes", [((2, 3), (4, 3, 5)), ((2, 3, 4), (2, 4, 3)), ((3,), (2, 3, 2)), ((2, 2, 3), (3,)),
                                    ((2, 3, 4), (5, 2, 4, 3)), ((2, 3, 4), ())], ids=str)
def test_dot_above_two_dimensions_is_numpy_dot(shapes):
    # Theano's dot is np.dot: a's last axis against b's second-to-last (matmul would broadcast batches).
    a, b = data(shapes[0], "float64", seed=1), data(shapes[1], "float64", seed=2)
    check(run(T.dot, a, b), np.dot(a, b))


MATMUL_SHAPES = [((2, 3, 4), (4, 5)), ((1, 3, 4), (5, 4, 2)), ((5, 1, 3, 4), (2, 4, 2)), ((4,), (2, 4, 3)),
                 ((2, 3, 4), (4,)), ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((0, 3, 4), (4, 2)),
                 ((2, 3, 0), (0, 5)), ((3, 2, 4), (3, 4, 1)), ((1, 1), (1, 1))]


@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "float32"), ("int32", "int64")], ids=str)
@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes, dtypes):
    a, b = data(shapes[0], dtypes[0], seed=1), data(shapes[1], dtypes[1], seed=2)
    want = np.matmul(a, b)
    check(run(T.matmul, a, b), want, **product_tol(want.dtype.name))
    check(run(lambda x, y: x @ y, a, b), want, **product_tol(want.dtype.name))


PRODUCT_CASES = [
    case("outer", lambda m, x, y: m.outer(x, y), (3,), (4,)),
    case("outer-empty", lambda m, x, y: m.outer(x, y), (0,), (4,)),
    case("outer-int", lambda m, x, y: m.outer(x, y), ((3,), "int32"), ((2,), "int8")),
    case("tensordot-2", lambda m, x, y: m.tensordot(x, y), (2, 3, 4), (3, 4, 5)),
    case("tensordot-1", lambda m, x, y: m.tensordot(x, y, 1), (2, 3), (3, 4)),
    case("tensordot-0", lambda m, x, y: m.tensordot(x, y, 0), (2, 3), (4,)),
    case("tensordot-pairs", lambda m, x, y: m.tensordot(x, y, [[1, 2], [1, 0]]), (2, 3, 4), (4, 3, 5)),
    case("tensordot-full", lambda m, x, y: m.tensordot(x, y, ([0, 1], [0, 1])), (3, 4), (3, 4)),
    case("tensordot-float32", lambda m, x, y: m.tensordot(x, y, [[0], [1]]), ((3, 2), "float32"), ((4, 3), "float32")),
    case("batched-dot-3d", lambda m, x, y: T.batched_dot(x, y), (3, 2, 4), (3, 4, 5),
         ref=lambda m, x, y: np.matmul(x, y)),
    case("batched-dot-2d", lambda m, x, y: T.batched_dot(x, y), (3, 4), (3, 4),
         ref=lambda m, x, y: np.sum(x * y, axis=1)),
]


@pytest.mark.parametrize("expr,ref,specs", PRODUCT_CASES)
def test_products(expr, ref, specs):
    check_case(expr, ref, specs)


# ---- Cumulative ops, sorting, diagonals, take ----

def _with_ties_and_nan(shape, dtype, seed=0):
    """Small integers (many ties), with NaNs in float arrays."""
    a = data(shape, dtype, -3, 3, seed=seed)
    if dtype in FLOATS and a.size:
        a.flat[:: 5] = np.nan
    return a


@pytest.mark.parametrize("dtype", ["float64", "float32", "int8", "uint8", "int32", "uint16", "uint64", "bool"])
@pytest.mark.parametrize("shape,axis", [((3, 4), None), ((3, 4), 0), ((3, 4), 1), ((3, 4), -1), ((0, 3), 0),
                                        ((0, 3), None), ((2, 3, 2), 1), ((5,), 0)], ids=str)
@pytest.mark.parametrize("op", ["cumsum", "cumprod"])
def test_cumulative(op, shape, axis, dtype):
    # NumPy's dtypes, those of sums: int64 for bools and signed integers, uint64 for unsigned ones.
    a = data(shape, dtype, 0.5, 1.5) if op == "cumprod" and dtype in FLOATS else data(shape, dtype, -2, 2)
    out_dtype = reduce_dtype("sum", dtype)
    want = getattr(np, op)(a, axis=axis)
    assert want.dtype == out_dtype
    check(run(lambda x: getattr(T, op)(x, axis=axis), a), want, out_dtype)
    check(run(lambda x: getattr(x, op)(axis=axis), a), want, out_dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int16", "uint8", "bool"])
@pytest.mark.parametrize("shape,axis", [((4, 5), -1), ((4, 5), 0), ((4, 5), None), ((2, 3, 4), 1), ((0, 3), 0),
                                        ((7,), 0), ((3, 1), 1)], ids=str)
def test_sort_argsort(shape, axis, dtype):
    """Ascending, NaN last, argsort stable (ties keep their order), as NumPy's stable sort."""
    a = _with_ties_and_nan(shape, dtype)
    check(run(lambda x: T.sort(x, axis=axis), a), np.sort(a, axis=axis))
    check(run(lambda x: T.argsort(x, axis=axis), a), np.argsort(a, axis=axis, kind="stable"))
    if axis is not None:
        check(run(lambda x: x.sort(axis), a), np.sort(a, axis=axis))


def test_sort_special_floats():
    a = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, np.nan, -1.0])
    check(run(T.sort, a), np.sort(a))
    check(run(T.argsort, a), np.argsort(a, kind="stable"))


EXTRA_CASES = [
    case("diag-vector", lambda m, x: m.diag(x), (3,)),
    case("diag-vector-k", lambda m, x: m.diag(x, 1), (3,)),
    case("diag-vector-neg-k", lambda m, x: m.diag(x, -2), ((3,), "int32")),
    case("diag-matrix", lambda m, x: m.diag(x), (3, 4)),
    case("diag-matrix-k", lambda m, x: m.diag(x, 1), (3, 4)),
    case("diag-matrix-neg-k", lambda m, x: m.diag(x, k=-1), (3, 4)),
    case("diag-matrix-k-outside", lambda m, x: m.diag(x, 5), (3, 4)),
    case("diag-empty", lambda m, x: m.diag(x), (0,)),
    case("diagonal", lambda m, x: m.diagonal(x), (3, 4)),
    case("diagonal-offset", lambda m, x: m.diagonal(x, 1), (3, 4)),
    case("diagonal-neg-offset", lambda m, x: x.diagonal(-2), (3, 4)),
    case("diagonal-3d", lambda m, x: m.diagonal(x, 0, 1, 2), (2, 3, 4)),
    case("diagonal-3d-axes", lambda m, x: m.diagonal(x, 1, 2, 0), (2, 3, 4)),
    case("diagonal-empty", lambda m, x: m.diagonal(x), (0, 3)),
    case("trace", lambda m, x: m.trace(x), (3, 4)),
    case("trace-offset", lambda m, x: m.trace(x, 1), (3, 4)),
    case("trace-neg-offset", lambda m, x: x.trace(-1), (4, 3)),
    case("trace-float32", lambda m, x: m.trace(x), ((3, 3), "float32")),
    case("trace-int", lambda m, x: m.trace(x), ((3, 3), "int32")),  # int64, NumPy's sum rule
    case("trace-empty", lambda m, x: m.trace(x), (0, 0)),
    case("take-flat", lambda m, x: m.take(x, np.array([5, 0, -1, 5])), (2, 3)),
    case("take-axis-0", lambda m, x: m.take(x, np.array([1, 1, 0]), axis=0), (2, 3)),
    case("take-axis-1", lambda m, x: x.take(np.array([[2, 0], [1, -3]]), axis=1), (2, 3)),
    case("take-empty-index", lambda m, x: m.take(x, np.array([], "int64"), axis=1), (2, 3)),
    case("take-symbolic", lambda m, x, i: m.take(x, i % 3 - 1, axis=-1), (2, 3), ((4,), "int64")),
    case("take-symbolic-flat", lambda m, x, i: m.take(x, i % 6), (2, 3), ((2, 2), "int32")),
    case("take-along-axis", lambda m, x, i: m.take_along_axis(x, i % 4, 1), (3, 4), ((3, 2), "int64")),
    case("take-along-axis-0", lambda m, x, i: m.take_along_axis(x, i % 3, 0), (3, 4), ((1, 4), "int64")),
]


@pytest.mark.parametrize("expr,ref,specs", EXTRA_CASES)
def test_extra_ops(expr, ref, specs):
    check_case(expr, ref, specs)


def test_take_along_axis_with_argsort():
    a = data((3, 5), "float32")
    check(run(lambda x: T.take_along_axis(x, T.argsort(x, axis=1), 1), a), np.sort(a, axis=1))


# ---- Indexing, set_subtensor, inc_subtensor ----

S = slice
INDICES = [  # on a (4, 5, 6) tensor
    (1,), (-1,), (S(None),), (S(1, 3),), (S(None, None, -1),), (S(3, 0, -2),), (S(None), -2), (None,), (Ellipsis, 0),
    (1, Ellipsis, None), (S(None), None, S(2, None)), (-1, S(None, None, -2), S(1, -1)), (S(10, None),),
    (S(None), S(5, 1)), (2, 3, 4), (Ellipsis,), (S(-100, 100),), (S(None, None, -3), Ellipsis, S(4, 0, -1)),
    ([0, 2, 3],), (S(None), [4, 0, -1]), (np.array([3, 1]),), (Ellipsis, np.array([5, -6])), (1, [2, 0], S(1, 3)),
    ([0, 2, 2],), (S(None), [1, 1, 1]), (np.array([], "int64"),),
]


def has_repeats(idx):
    arrays = [np.asarray(i) for i in idx if isinstance(i, (list, np.ndarray))]
    return any(len(np.unique(a % 5)) < len(a) for a in arrays)


@pytest.mark.parametrize("idx", INDICES, ids=str)
def test_indexing(idx):
    a = data((4, 5, 6), "float64")
    check(run(lambda x: x[idx], a), a[idx])


# newaxis is refused when writing (subtensor.cpp: "newaxis is not supported when writing"): tested below.
WRITE_INDICES = [pytest.param(idx, id=str(idx)) for idx in INDICES if not any(i is None for i in idx)]


@pytest.mark.parametrize("op", ["set", "inc"])
@pytest.mark.parametrize("idx", WRITE_INDICES)
def test_set_inc_subtensor(idx, op):
    """x with x[idx] replaced by (or incremented by) y; repeated indices accumulate in inc (np.add.at)."""
    a = data((4, 5, 6), "float64")
    region = a[idx].shape
    # Where the index repeats a position, set gets one value per position (no last-write-wins question).
    y = np.asarray(2.5) if op == "set" and has_repeats(idx) else data(region, "float64", seed=3)
    want = a.copy()
    if op == "set":
        want[idx] = y
    else:
        np.add.at(want, idx, y)
    fn = T.set_subtensor if op == "set" else T.inc_subtensor
    check(run(lambda x, v: fn(x[idx], v), a, y), want)


def test_indexing_with_empty_list():
    a = data((4, 5), "float64")
    check(run(lambda x: x[[]], a), a[[]])


@pytest.mark.parametrize("op", ["set", "inc"])
@pytest.mark.parametrize("value_shape", [(), (1,), (1, 6), (3, 1)], ids=str)
def test_set_inc_subtensor_broadcasts_value(op, value_shape):
    a, y = data((4, 5, 6), "float32"), data(value_shape, "float32", seed=2)
    want = a.copy()
    if op == "set":
        want[1, 1:4] = y
    else:
        want[1, 1:4] += y
    fn = T.set_subtensor if op == "set" else T.inc_subtensor
    check(run(lambda x, v: fn(x[1, 1:4], v), a, y), want)


@pytest.mark.parametrize("dtypes", [("int32", "int32"), ("float32", "float64"), ("int8", "int64"), ("uint8", "bool")],
                         ids=str)
def test_set_inc_subtensor_casts_value_to_x_dtype(dtypes):
    # Theano's rule: the result has x's dtype (the value is cast); NumPy's assignment casts the same way.
    a, y = data((5,), dtypes[0], 0, 4), data((2,), dtypes[1], 0, 4, seed=2)
    set_want, inc_want = a.copy(), a.copy()
    set_want[[1, 3]] = y
    np.add.at(inc_want, [1, 3], y.astype(dtypes[0]))
    check(run(lambda x, v: T.set_subtensor(x[[1, 3]], v), a, y), set_want)
    check(run(lambda x, v: T.inc_subtensor(x[[1, 3]], v), a, y), inc_want)


@pytest.mark.parametrize("fn", [T.set_subtensor, T.inc_subtensor])
def test_writing_through_newaxis_is_refused(fn):
    # A documented limitation of the core (NumPy accepts a[:, None, 2:] = y); it must raise, not miscompute.
    x = T.tensor3("x")
    with pytest.raises((TypeError, IndexError)):
        fn(x[:, None, 2:], 1.0)


def test_inc_subtensor_repeated_symbolic_indices():
    a, i, y = data((4, 3), "float64"), np.array([0, 2, 0, 0, -1]), data((5, 3), "float64", seed=2)
    want = a.copy()
    np.add.at(want, i, y)
    check(run(lambda x, j, v: T.inc_subtensor(x[j], v), a, i, y), want)
    want = a.copy()
    np.add.at(want, (slice(None), i % 3), 1.0)
    check(run(lambda x, j: T.inc_subtensor(x[:, j % 3], 1.0), a, i), want)


def test_inc_subtensor_set_instead_of_inc():
    a = data((5,), "float64")
    want = a.copy()
    want[1:3] = 7.0
    check(run(lambda x: T.inc_subtensor(x[1:3], 7.0, set_instead_of_inc=True), a), want)


@pytest.mark.parametrize("i,j,k", [(1, 3, 1), (-2, None, -1), (0, 0, 1), (4, -5, -2), (None, 2, 2)], ids=str)
def test_symbolic_slice_bounds(i, j, k):
    a = data((6, 2), "float64")
    scalar = lambda v: np.array(v, "int64")
    args = [v for v in (i, j, k) if v is not None]

    def build(x, *bounds):
        it = iter(bounds)
        return x[S(*(None if v is None else next(it) for v in (i, j, k)))]
    check(run(build, a, *map(scalar, args)), a[i:j:k])


def test_symbolic_integer_index():
    a = data((4, 5), "int16")
    for i in (0, 3, -1, -4):
        check(run(lambda x, n: x[n], a, np.array(i, "int64")), a[i])
        check(run(lambda x, n: x[:, n], a, np.array(i, "int32")), a[:, i])


def test_index_out_of_range_raises():
    with pytest.raises(IndexError):  # as NumPy
        run(lambda x, n: x[n], data((4,), "float64"), np.array(4, "int64"))
    with pytest.raises(IndexError):
        run(lambda x, n: x[n], data((4,), "float64"), np.array([0, -5], "int64"))


# ---- Inputs that are NumPy views: transposed, negative and non-unit strides, Fortran order, broadcast ----

LAYOUTS = {"transposed": lambda a: a.T, "reversed": lambda a: a[::-1, ::-2], "fortran": np.asfortranarray,
           "strided": lambda a: a[::2, 1::2], "broadcast": lambda a: np.broadcast_to(a[:1], a.shape)}
LAYOUT_OPS = [
    case("exp", lambda m, x: m.exp(x), ()), case("sum-0", lambda m, x: m.sum(x, axis=0), ()),
    case("dot", lambda m, x: m.dot(x, x.T), ()), case("sort-0", lambda m, x: m.sort(x, axis=0), ()),
    case("cumsum-1", lambda m, x: m.cumsum(x, axis=1), ()), case("reshape", lambda m, x: x.reshape((-1,)), ()),
    case("index", lambda m, x: x[1:, ::-1][[0, 0]], ()), case("argmax", lambda m, x: m.argmax(x, axis=0), ()),
    case("transposed-graph", lambda m, x: m.sum(x.T[::-1], axis=0) * x.T[::2][0], ()),
]


@pytest.mark.parametrize("expr,ref,specs", LAYOUT_OPS)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_non_contiguous_inputs(layout, expr, ref, specs):
    a = LAYOUTS[layout](data((4, 6), "float64"))
    check(run(lambda x: expr(T, x), a), ref(np, a))


def test_set_subtensor_of_non_contiguous_input():
    a = data((4, 6), "float64")[::-1, ::2]
    want = a.copy()
    want[1:, ::-1] = 0.0
    check(run(lambda x: T.set_subtensor(x[1:, ::-1], 0.0), a), want)


# ---- Neural-network ops (references in float64 from their formulas) ----

def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _logsumexp(x, axis=None, keepdims=False):
    peak = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros([1] * x.ndim)
    result = np.log(np.exp(x - peak).sum(axis=axis, keepdims=True)) + peak
    return result if keepdims else np.squeeze(result, axis=axis)


def _ref64(fn):
    """fn computed in float64, returned in the input's dtype."""
    return lambda m, x: fn(x.astype("float64")).astype(x.dtype)


NNET_CASES = [
    case("softmax", lambda m, x: nnet.softmax(x), (3, 5), ref=_ref64(_softmax)),
    case("softmax-axis-0", lambda m, x: nnet.softmax(x, axis=0), (3, 5), ref=_ref64(lambda x: _softmax(x, 0))),
    case("softmax-vector", lambda m, x: T.softmax(x, axis=-1), (4,), ref=_ref64(_softmax)),
    # Theano 1.0 pads a vector to a (1, n) matrix when no axis is given (with a warning).
    case("softmax-vector-padded", lambda m, x: T.softmax(x), (4,), ref=_ref64(lambda x: _softmax(x[None, :]))),
    case("log-softmax-vector-padded", lambda m, x: nnet.log_softmax(x), (4,), ref=_ref64(lambda x: _log_softmax(x[None, :]))),
    case("softmax-3d", lambda m, x: nnet.softmax(x, 1), (2, 3, 4), ref=_ref64(lambda x: _softmax(x, 1))),
    case("softmax-empty", lambda m, x: nnet.softmax(x), (0, 5), ref=_ref64(_softmax)),
    case("softmax-one", lambda m, x: nnet.softmax(x), (2, 1), ref=_ref64(_softmax)),
    case("softmax-large", lambda m, x: nnet.softmax(x * 1000), ((3, 5), "float32"),
         ref=_ref64(lambda x: _softmax(x * 1000))),
    case("log-softmax", lambda m, x: nnet.log_softmax(x), (3, 5), ref=_ref64(_log_softmax)),
    case("log-softmax-axis-0", lambda m, x: nnet.logsoftmax(x, 0), (3, 5), ref=_ref64(lambda x: _log_softmax(x, 0))),
    case("log-softmax-large", lambda m, x: nnet.log_softmax(x * 1000), ((3, 5), "float32"),
         ref=_ref64(lambda x: _log_softmax(x * 1000))),
    case("logsumexp", lambda m, x: nnet.logsumexp(x), (3, 5), ref=_ref64(_logsumexp)),
    case("logsumexp-axis", lambda m, x: nnet.logsumexp(x, axis=1), (3, 5), ref=_ref64(lambda x: _logsumexp(x, 1))),
    case("logsumexp-keepdims", lambda m, x: nnet.logsumexp(x, axis=(0, 2), keepdims=True), (2, 3, 4),
         ref=_ref64(lambda x: _logsumexp(x, (0, 2), True))),
    case("logsumexp-large", lambda m, x: nnet.logsumexp(x * 1000 + 1e4, axis=-1), ((3, 5), "float32"),
         ref=_ref64(lambda x: _logsumexp(x * 1000 + 1e4, -1))),
    case("relu", lambda m, x: nnet.relu(x), (3, 5), ref=lambda m, x: np.maximum(x, 0)),
    case("relu-float32", lambda m, x: T.relu(x), ((3, 5), "float32"), ref=lambda m, x: np.maximum(x, 0)),
    case("relu-leaky", lambda m, x: nnet.relu(x, alpha=0.1), (3, 5), ref=lambda m, x: np.where(x > 0, x, 0.1 * x)),
    case("relu-empty", lambda m, x: nnet.relu(x), (0,), ref=lambda m, x: np.maximum(x, 0)),
    case("elu", lambda m, x: nnet.elu(x), (3, 5), ref=_ref64(lambda x: np.where(x > 0, x, np.expm1(x)))),
    case("elu-alpha", lambda m, x: nnet.elu(x, 0.5), ((3, 5), "float32"),
         ref=_ref64(lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)))),
    case("selu", lambda m, x: nnet.selu(x), (3, 5),
         ref=_ref64(lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)))),
    case("softsign", lambda m, x: nnet.softsign(x), (3, 5), ref=_ref64(lambda x: x / (1 + np.abs(x)))),
    case("hard-sigmoid", lambda m, x: nnet.hard_sigmoid(x), (3, 5), ref=_ref64(lambda x: np.clip(0.2 * x + 0.5, 0, 1))),
    case("log-sigmoid", lambda m, x: nnet.log_sigmoid(x * 20), ((3, 5), "float32"),
         ref=_ref64(lambda x: -np.logaddexp(0, -x * 20))),
    case("ultra-fast-sigmoid", lambda m, x: nnet.ultra_fast_sigmoid(x), (3, 5), ref=_ref64(_sigmoid)),
    case("nnet-sigmoid", lambda m, x: nnet.sigmoid(x * 10), ((4,), "float32"), ref=_ref64(lambda x: _sigmoid(x * 10))),
    case("nnet-softplus", lambda m, x: nnet.softplus(x * 10), ((4,), "float32"),
         ref=_ref64(lambda x: np.logaddexp(0, x * 10))),
]


@pytest.mark.parametrize("expr,ref,specs", NNET_CASES)
def test_nnet(expr, ref, specs):
    check_case(expr, ref, specs)


@pytest.mark.xfail(strict=True, reason="BUG: logsumexp over an empty axis raises ValueError from its internal max "
                                       "(np.logaddexp.reduce gives -inf)")
def test_logsumexp_of_nothing_is_minus_infinity():
    a = np.zeros((0, 3))
    check(run(lambda x: nnet.logsumexp(x, axis=0), a), np.logaddexp.reduce(a, axis=0))


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_softplus_extremes(dtype):
    """Stable formulas: no overflow to NaN for large |x|."""
    a = np.array([-1000.0, -100.0, -20.0, 0.0, 20.0, 100.0, 1000.0], dtype)
    with np.errstate(all="ignore"):
        check(run(T.sigmoid, a), (1 / (1 + np.exp(-a.astype("float64")))).astype(dtype))
        check(run(T.softplus, a), np.logaddexp(0, a.astype("float64")).astype(dtype))


def _probabilities(shape, dtype, seed=0):
    return _softmax(data(shape, "float64", seed=seed)).astype(dtype)


@pytest.mark.parametrize("label_dtype", ["int32", "int64", "int8", "uint8", "uint32", "uint64"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_categorical_crossentropy_labels(dtype, label_dtype):
    p, labels = _probabilities((4, 5), dtype), np.array([0, 4, 2, 2], label_dtype)
    want = -np.log(p.astype("float64")[np.arange(4), labels]).astype(dtype)
    check(run(nnet.categorical_crossentropy, p, labels), want)
    check(run(nnet.crossentropy_categorical_1hot, p, labels), want)


@pytest.mark.parametrize("dtype", FLOATS)
def test_categorical_crossentropy_one_hot_and_soft(dtype):
    p = _probabilities((4, 5), dtype)
    for targets in (np.eye(5, dtype=dtype)[[1, 0, 4, 4]], _probabilities((4, 5), dtype, seed=5)):
        want = -(targets.astype("float64") * np.log(p.astype("float64"))).sum(axis=1).astype(dtype)
        check(run(nnet.categorical_crossentropy, p, targets), want)


def test_categorical_crossentropy_of_softmax():
    x, labels = data((6, 3), "float32"), np.array([0, 1, 2, 2, 1, 0], "int64")
    want = -_log_softmax(x.astype("float64"))[np.arange(6), labels].astype("float32")
    check(run(lambda a, y: nnet.categorical_crossentropy(nnet.softmax(a), y), x, labels), want)


@pytest.mark.parametrize("target_dtype", ["same", "int8", "bool"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_crossentropy(dtype, target_dtype):
    p = data((3, 4), dtype, 0.05, 0.95)
    t = data((3, 4), "float64", 0, 1, seed=1).astype(dtype) if target_dtype == "same" else data((3, 4), "bool", seed=1)
    if target_dtype == "int8":
        t = t.astype("int8")
    # The documented formula under NumPy's rules: the logs in p's dtype; 1.0 - an integer target is float64.
    want = -(t * np.log(p) + (1.0 - t) * np.log1p(-p))
    check(run(nnet.binary_crossentropy, p, t), want, **TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_binary_crossentropy(dtype):
    logits, t = data((3, 4), dtype, -30, 30), data((3, 4), dtype, 0, 1, seed=1)
    x64, t64 = logits.astype("float64"), t.astype("float64")
    want = np.logaddexp(0, x64) - x64 * t64
    check(run(nnet.sigmoid_binary_crossentropy, logits, t), want.astype(dtype), rtol=1e-5, atol=1e-5)


# ---- Property tests ----

BROADCAST_OPS = {"add": np.add, "mul": np.multiply, "sub": np.subtract, "maximum": np.maximum, "lt": np.less,
                 "true_div": np.true_divide, "logical_xor": np.logical_xor}
_compiled = {}


def compiled(key, build):
    """One compiled function per key (op and input types)."""
    if key not in _compiled:
        _compiled[key] = build()
    return _compiled[key]


@settings(max_examples=40, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=3),
       op=st.sampled_from(sorted(BROADCAST_OPS)), dtypes=st.sampled_from([("float64", "float64"), ("float32", "int16"),
                                                                      ("int8", "uint8"), ("int64", "float32")]),
       seed=st.integers(0, 2 ** 16))
def test_property_broadcasting(shapes, op, dtypes, seed):
    (shape_a, shape_b), result_shape = shapes.input_shapes, shapes.result_shape
    a, b = data(shape_a, dtypes[0], 1, 5, seed), data(shape_b, dtypes[1], 1, 5, seed + 1)
    static = tuple(tuple(1 if s == 1 else None for s in v.shape) for v in (a, b))

    def build():
        x, y = (T.tensor(n, dtype=v.dtype.name, shape=st_) for n, v, st_ in zip("xy", (a, b), static))
        return theano.function([x, y], getattr(T, op)(x, y))
    got = compiled((op, dtypes, static), build)(a, b)
    assert got.shape == result_shape
    check(got, binary_reference(op, a, b), binary_dtype(op, *dtypes))


PROPERTY_REDUCTIONS = ["sum", "prod", "mean", "max", "min", "any", "all", "var", "argmax"]


@st.composite
def reduction_cases(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    op = draw(st.sampled_from(PROPERTY_REDUCTIONS))
    ndim = len(shape)
    if op == "argmax" or draw(st.booleans()):
        axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1))) if ndim else None
    else:
        axes = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)) if ndim else []
        axis = tuple(ax - ndim if draw(st.booleans()) else ax for ax in axes)
    return shape, op, axis, draw(st.booleans()), draw(st.sampled_from(["float64", "float32", "int32", "bool"]))


@settings(max_examples=40, deadline=None)
@given(reduction_cases(), st.integers(0, 2 ** 16))
def test_property_reductions(params, seed):
    shape, op, axis, keepdims, dtype = params
    assume(reduction_defined(op, shape, axis) and not (op == "var" and dtype == "bool"))
    a = reduce_data(op, shape, dtype) if seed % 2 else data(shape, dtype, -5, 5, seed)
    static = tuple(1 if s == 1 else None for s in shape)

    def build():
        x = T.tensor("x", dtype=dtype, shape=static)
        return theano.function([x], getattr(T, op)(x, axis=axis, keepdims=keepdims))
    got = compiled((op, dtype, static, axis, keepdims), build)(a)
    check(got, reduce_reference(op, a, axis, keepdims), reduce_dtype(op, dtype), **TOL["float32"])
