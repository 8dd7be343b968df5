"""The Python API as a Theano / PyTensor user meets it: declaring variables, Variable operators and methods,
shared variables, printing, missing features and random streams.

Every expectation comes from NumPy or from Theano's documented behaviour, not from Hypatia's own output.
"""
import importlib
import io
import json
import os
import subprocess
import sys
from collections import OrderedDict

import numpy as np
import pytest

import hypatia as theano
import hypatia.tensor as T
from hypatia.sandbox.rng_mrg import MRG_RandomStreams
from hypatia.tensor.shared_randomstreams import RandomStreams

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(theano.__file__)))


def run(outputs, givens=None):
    """Compiles outputs over the inputs in givens ({variable: value}) and runs them once."""
    givens = givens or {}
    f = theano.function(list(givens), outputs)
    return f(*givens.values())


# ---------------------------------------------------------------------------------------------------------
# Declaring variables
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, ndim, broadcastable", [
    ("scalar", 0, ()),
    ("vector", 1, (False,)),
    ("matrix", 2, (False, False)),
    ("row", 2, (True, False)),
    ("col", 2, (False, True)),
    ("tensor3", 3, (False,) * 3),
    ("tensor4", 4, (False,) * 4),
])
def test_untyped_constructors_follow_floatx(kind, ndim, broadcastable):
    with theano.config.change_flags(floatX="float64"):
        v = getattr(T, kind)("v")
        assert v.dtype == "float64"
    with theano.config.change_flags(floatX="float32"):
        w = getattr(T, kind)("w")
        assert w.dtype == "float32"
    for var in (v, w):
        assert var.ndim == ndim
        assert var.broadcastable == broadcastable
        assert var.type.ndim == ndim
        assert var.type.broadcastable == broadcastable
    assert v.name == "v" and w.name == "w"


@pytest.mark.parametrize("prefix, dtype", [
    ("b", "int8"), ("w", "int16"), ("i", "int32"), ("l", "int64"), ("f", "float32"), ("d", "float64"),
])
@pytest.mark.parametrize("kind, ndim", [
    ("scalar", 0), ("vector", 1), ("matrix", 2), ("row", 2), ("col", 2), ("tensor3", 3), ("tensor4", 4),
])
def test_typed_constructors(prefix, dtype, kind, ndim):
    with theano.config.change_flags(floatX="float32" if dtype == "float64" else "float64"):
        v = getattr(T, prefix + kind)("q")
    assert v.dtype == dtype
    assert v.type.dtype == dtype
    assert v.ndim == ndim
    assert v.name == "q"


def test_typed_constructor_without_name_has_no_name():
    assert T.dmatrix().name is None
    assert T.fscalar().name is None


def test_typed_constructor_refuses_conflicting_dtype():
    with pytest.raises(TypeError):
        T.fscalar(dtype="float64")


def test_untyped_constructor_with_dtype():
    assert T.matrix("m", dtype="int32").dtype == "int32"
    assert T.vector(dtype=np.float32).dtype == "float32"
    assert T.scalar(dtype="int8").dtype == "int8"


def test_plural_constructors():
    a, b = T.dmatrices("a", "b")
    assert (a.name, b.name) == ("a", "b")
    assert a.dtype == b.dtype == "float64" and a.ndim == b.ndim == 2
    assert a is not b
    x, y = T.scalars("x y")
    assert (x.name, y.name) == ("x", "y")
    assert x.ndim == 0
    p, q, r = T.fvectors("p", "q", "r")
    assert [v.name for v in (p, q, r)] == ["p", "q", "r"]
    assert all(v.dtype == "float32" and v.ndim == 1 for v in (p, q, r))
    i, j = T.iscalars("i", "j")
    assert i.dtype == j.dtype == "int32"
    unnamed = T.lvectors(3)
    assert len(unnamed) == 3 and all(v.dtype == "int64" for v in unnamed)


def test_theano_tensor_signature():
    """Theano: tensor(dtype, broadcastable, name)."""
    t = T.tensor("float32", (False, True), "t")
    assert t.dtype == "float32"
    assert t.broadcastable == (False, True)
    assert t.name == "t"
    u = T.tensor(dtype="int16", broadcastable=(True,), name="u")
    assert (u.dtype, u.broadcastable, u.name) == ("int16", (True,), "u")


def test_pytensor_tensor_signature():
    """PyTensor: tensor(name, dtype=, shape=) where 1 in shape broadcasts."""
    t = T.tensor("x", dtype="int32", shape=(None, 3))
    assert t.name == "x"
    assert t.dtype == "int32"
    assert t.ndim == 2
    assert t.broadcastable == (False, False)
    assert t.type.shape == (None, 3)
    b = T.tensor("b", dtype="float64", shape=(1, None))
    assert b.broadcastable == (True, False)
    with theano.config.change_flags(floatX="float32"):
        assert T.tensor("y", shape=(None,)).dtype == "float32"


def test_tensor_without_shape_is_an_error():
    with pytest.raises(TypeError):
        T.tensor("x", dtype="float64")


def test_tensortype_call_makes_variables():
    tt = T.TensorType("float64", (False, True))
    assert tt.dtype == "float64"
    assert tt.broadcastable == (False, True)
    assert tt.ndim == 2
    v = tt("v")
    assert v.name == "v"
    assert v.type == tt
    assert v.broadcastable == (False, True)
    assert T.TensorType("float32", shape=(2, None))("s").type.shape == (2, None)
    assert T.dmatrix().type == T.TensorType("float64", (False, False))
    assert T.dmatrix().type != T.fmatrix().type
    assert T.dmatrix().type != T.drow().type
    # a variable's type makes fresh variables of the same type
    x = T.fvector("x")
    y = x.type("y")
    assert y.type == x.type and y is not x and y.name == "y"


def test_tensortype_floatx():
    with theano.config.change_flags(floatX="float32"):
        assert T.TensorType("floatX", (False,))("v").dtype == "float32"


@pytest.mark.parametrize("dtype", ["timedelta64", "float128"])
def test_unsupported_dtypes_are_refused_by_name(dtype):
    with pytest.raises(TypeError, match=dtype):
        T.TensorType(dtype, (False,))
    with pytest.raises(TypeError, match=dtype):
        T.tensor("x", dtype=dtype, shape=(None,))


# ---- config.floatX ----

def test_change_flags_is_temporary():
    before = theano.config.floatX
    with theano.config.change_flags(floatX="float32"):
        assert theano.config.floatX == "float32"
        assert T.matrix().dtype == "float32"
    assert theano.config.floatX == before
    with theano.change_flags(floatX="float32"):
        assert T.scalar().dtype == "float32"
    assert theano.config.floatX == before


def test_change_flags_restores_after_an_exception():
    before = theano.config.floatX
    with pytest.raises(RuntimeError):
        with theano.config.change_flags(floatX="float32"):
            raise RuntimeError("boom")
    assert theano.config.floatX == before


def test_floatx_assignment():
    before = theano.config.floatX
    try:
        theano.config.floatX = "float32"
        assert T.vector().dtype == "float32"
        theano.config.floatX = "float64"
        assert T.vector().dtype == "float64"
    finally:
        theano.config.floatX = before


def test_floatx_refuses_bad_values_and_unknown_settings():
    before = theano.config.floatX
    with pytest.raises(ValueError):
        theano.config.floatX = "int32"
    assert theano.config.floatX == before
    with pytest.raises(AttributeError):
        theano.config.no_such_setting  # noqa: B018


def _run_with_flags(env_flags, code):
    env = {k: v for k, v in os.environ.items() if k not in ("HYPATIA_FLAGS", "THEANO_FLAGS")}
    env.update(env_flags)
    env["PYTHONPATH"] = PYTHON_DIR + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


_FLAGS_SCRIPT = """
import json
import numpy as np
import hypatia as theano
import hypatia.tensor as T
x = T.vector('x')
f = theano.function([x], x * 2.0)
out = f(np.array([1.5, 2.5], dtype='float32'))
print(json.dumps({'floatX': theano.config.floatX, 'scalar': T.scalar().dtype, 'matrix': T.matrix().dtype,
                  'out': str(out.dtype), 'shared_float': theano.shared(0.5).dtype, 'values': out.tolist()}))
"""


def test_hypatia_flags_environment_variable_sets_floatx():
    got = _run_with_flags({"HYPATIA_FLAGS": "floatX=float32"}, _FLAGS_SCRIPT)
    assert got["floatX"] == "float32"
    assert got["scalar"] == "float32"
    assert got["matrix"] == "float32"
    assert got["out"] == "float32"
    assert got["values"] == [3.0, 5.0]
    # Theano: shared() of a Python float keeps float64 whatever floatX says
    assert got["shared_float"] == "float64"


def test_default_floatx_is_float64_and_hypatia_flags_beats_theano_flags():
    assert _run_with_flags({}, _FLAGS_SCRIPT)["floatX"] == "float64"
    assert _run_with_flags({"THEANO_FLAGS": "floatX=float32"}, _FLAGS_SCRIPT)["floatX"] == "float32"
    got = _run_with_flags({"THEANO_FLAGS": "floatX=float32", "HYPATIA_FLAGS": "floatX=float64"}, _FLAGS_SCRIPT)
    assert got["floatX"] == "float64"


# ---------------------------------------------------------------------------------------------------------
# Variable operators
# ---------------------------------------------------------------------------------------------------------

A = np.array([[1.0, -2.0, 3.5], [4.0, 0.5, -6.0]])
B = np.array([[2.0, 3.0, -1.5], [0.5, 2.0, 4.0]])


@pytest.mark.parametrize("name, build, expected", [
    ("add", lambda x, y: x + y, A + B),
    ("sub", lambda x, y: x - y, A - B),
    ("mul", lambda x, y: x * y, A * B),
    ("truediv", lambda x, y: x / y, A / B),
    ("floordiv", lambda x, y: x // y, A // B),
    ("mod", lambda x, y: x % y, A % B),
    ("pow", lambda x, y: abs(x) ** y, np.abs(A) ** B),
    ("neg", lambda x, y: -x, -A),
    ("abs", lambda x, y: abs(x), np.abs(A)),
    ("rsub", lambda x, y: 1 - x, 1 - A),
    ("rtruediv", lambda x, y: 3 / y, 3 / B),
    ("rpow", lambda x, y: 2 ** x, 2 ** A),
    ("rmod", lambda x, y: 7 % y, 7 % B),
    ("rfloordiv", lambda x, y: 7 // y, 7 // B),
])
def test_arithmetic_operators_match_numpy(name, build, expected):
    x, y = T.dmatrices("x", "y")
    out = build(x, y)
    assert isinstance(out, theano.Variable)
    got = theano.function([x, y], out, on_unused_input="ignore")(A, B)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got.dtype == expected.dtype


@pytest.mark.parametrize("build, expected", [
    (lambda x, y: x < y, A < B),
    (lambda x, y: x <= y, A <= B),
    (lambda x, y: x > y, A > B),
    (lambda x, y: x >= y, A >= B),
    (lambda x, y: T.eq(x, y), A == B),
    (lambda x, y: T.neq(x, y), A != B),
    (lambda x, y: x > 1.0, A > 1.0),
    (lambda x, y: 1.0 < x, 1.0 < A),
])
def test_comparisons_build_boolean_graphs(build, expected):
    x, y = T.dmatrices("x", "y")
    out = build(x, y)
    assert isinstance(out, theano.Variable)
    assert out.dtype == "bool"
    got = theano.function([x, y], out, on_unused_input="ignore")(A, B)
    np.testing.assert_array_equal(got, expected)


def test_eq_on_equal_values():
    x = T.dvector("x")
    got = run(T.eq(x, 2.0), {x: np.array([1.0, 2.0, 3.0])})
    np.testing.assert_array_equal(got, [False, True, False])


def test_python_equality_is_identity():
    x, y = T.dvectors("x", "y")
    assert (x == x) is True
    assert (x == y) is False
    assert (x != y) is True
    assert (x != x) is False
    # same name and type is still a different variable
    assert (T.dvector("x") == x) is False
    assert hash(x) == hash(x)
    table = {x: "x", y: "y"}
    assert table[x] == "x" and table[y] == "y"
    assert x in {x} and T.dvector("x") not in {x}
    s = theano.shared(np.zeros(2))
    assert {s: 1}[s] == 1


def test_reflected_operators_with_numpy_on_the_left():
    x = T.dvector("x")
    xv = np.array([0.5, 1.0, 2.0])
    for out, expected in [
        (np.ones(3) + x, 1 + xv),
        (np.ones(3) - x, 1 - xv),
        (np.full(3, 2.0) * x, 2 * xv),
        (np.full(3, 3.0) / x, 3 / xv),
        (np.full(3, 2.0) ** x, 2 ** xv),
        (np.arange(3.0) < x, np.arange(3.0) < xv),
    ]:
        assert isinstance(out, theano.Variable), type(out)
        np.testing.assert_allclose(run(out, {x: xv}), expected)


def test_numpy_scalar_on_the_left_builds_a_graph():
    x = T.fvector("x")
    out = np.float32(2.0) * x
    assert isinstance(out, theano.Variable)
    assert out.dtype == "float32"


def test_python_numbers_are_weak_scalars():
    f = T.fvector("f")
    b = T.bvector("b")
    for out in (f * 2.0, 2.0 * f, f + 1, f - 0.5, f / 3, f ** 2, -f, abs(f)):
        assert out.dtype == "float32"
    assert (b + 1).dtype == "int8"
    assert (b * 2).dtype == "int8"
    got = run(f * 2.0, {f: np.array([1.5, -2.0], dtype="float32")})
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array([3.0, -4.0], dtype="float32"))


def test_mixed_dtype_upcast_follows_numpy():
    assert (T.fvector() + T.dvector()).dtype == "float64"
    assert (T.ivector() + T.fvector()).dtype == np.result_type(np.int32, np.float32).name
    assert (T.bvector() + T.ivector()).dtype == "int32"
    assert (T.ivector() // T.ivector()).dtype == "int32"
    assert (T.dvector() + np.float64(1)).dtype == "float64"


def test_logical_operators_on_bool_tensors():
    x = T.dvector("x")
    xv = np.array([-1.0, 1.0, 3.0])
    both = (x > 0) & (x < 2)
    either = (x < 0) | (x > 2)
    neither = ~(x > 0)
    exclusive = (x > 0) ^ (x > 2)
    for out in (both, either, neither, exclusive):
        assert out.dtype == "bool"
    got = theano.function([x], [both, either, neither, exclusive])(xv)
    np.testing.assert_array_equal(got[0], (xv > 0) & (xv < 2))
    np.testing.assert_array_equal(got[1], (xv < 0) | (xv > 2))
    np.testing.assert_array_equal(got[2], ~(xv > 0))
    np.testing.assert_array_equal(got[3], (xv > 0) ^ (xv > 2))


@pytest.mark.parametrize("op", ["and", "or", "xor", "invert", "rand"])
def test_bitwise_operators_on_integers_are_bitwise_or_refused(op):
    i = T.ivector("i")
    iv = np.array([5, 6, 12], dtype="int32")
    build, expected = {
        "and": (lambda: i & 3, iv & 3),
        "or": (lambda: i | 3, iv | 3),
        "xor": (lambda: i ^ 3, iv ^ 3),
        "invert": (lambda: ~i, ~iv),
        "rand": (lambda: 3 & i, 3 & iv),
    }[op]
    try:
        out = build()
    except NotImplementedError:
        return  # refusing clearly is acceptable; a wrong answer is not
    got = run(out, {i: iv})
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_unpacking_a_vector_of_known_length():
    v = T.tensor("v", dtype="float64", shape=(2,))
    a, b = v
    assert a.ndim == 0 and b.ndim == 0
    got = theano.function([v], [a, b])(np.array([3.0, 4.0]))
    assert [float(g) for g in got] == [3.0, 4.0]


def test_truth_value_follows_theano_and_len_raises():
    # Theano: every variable is true (`if not W:` in real programs), except the results of <, <=, >, >=,
    # which raise so that a < b < c is not silently one comparison.
    x = T.dmatrix("x")
    assert bool(x) and bool(x + 1) and bool(T.eq(x, 0)) and not (not x)
    W = None
    if not W:
        W = theano.shared(np.zeros(2))
    assert bool(W)
    for comparison in (x > 0, x >= 0, x < 0, x <= 0):
        with pytest.raises(TypeError, match="comparison"):
            bool(comparison)
    with pytest.raises(TypeError):
        if x.shape[0] > 1:
            pass
    with pytest.raises(TypeError):
        len(x)


def test_numpy_conversion_of_symbolic_variable_raises():
    with pytest.raises(TypeError):
        np.asarray(T.dvector("x"), dtype=float)


# ---- indexing ----

M = np.arange(24.0).reshape(4, 6)


@pytest.mark.parametrize("index", [
    0, -1, 3,
    slice(1, 3), slice(None, None, -1), slice(None, None, -2), slice(-1, 0, -1), slice(3, None, -2),
    (1, 2), (-1, -2), (slice(None), 0), (slice(1, None), slice(None, None, -1)),
    (2, slice(None, None, -3)),
    Ellipsis, (Ellipsis, 0), (Ellipsis, slice(None, None, 2)), (0, Ellipsis),
    (slice(None), None), (None, slice(None), None), (1, None),
    [0, 2], [-1, 0, 0], np.array([3, 1]), np.array([[0, 1], [2, 3]]),
    (slice(None), [0, 5]), (slice(None), np.array([4, 1, 1])),
])
def test_indexing_matches_numpy(index):
    x = T.dmatrix("x")
    out = x[index]
    expected = M[index]
    assert out.ndim == expected.ndim
    got = run(out, {x: M})
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("index", [None, np.newaxis])
def test_lone_none_index_adds_an_axis(index):
    x = T.dmatrix("x")
    out = x[index]
    assert out.ndim == 3
    assert out.broadcastable == (True, False, False)
    np.testing.assert_array_equal(run(out, {x: M}), M[None])


def test_symbolic_integer_indices():
    x = T.dmatrix("x")
    i = T.lscalar("i")
    j = T.iscalar("j")
    f = theano.function([x, i, j], [x[i], x[i:j], x[:, j], x[i, j], x[-i]])
    for iv, jv in [(1, 3), (0, 4), (2, 2), (3, 5)]:
        got = f(M, iv, jv)
        np.testing.assert_array_equal(got[0], M[iv])
        np.testing.assert_array_equal(got[1], M[iv:jv])
        np.testing.assert_array_equal(got[2], M[:, jv])
        assert got[3] == M[iv, jv]
        np.testing.assert_array_equal(got[4], M[-iv])


def test_symbolic_negative_step():
    v = T.dvector("v")
    s = T.lscalar("s")
    f = theano.function([v, s], v[::s])
    data = np.arange(7.0)
    for step in (-1, -2, -3, 2):
        np.testing.assert_array_equal(f(data, step), data[::step])


def test_index_out_of_range_raises_index_error():
    v = T.dvector("v")
    with pytest.raises(IndexError):
        run(v[5], {v: np.arange(5.0)})
    with pytest.raises(IndexError):
        v[0, 0]


def test_float_index_is_refused():
    v = T.dvector("v")
    with pytest.raises(TypeError):
        v[T.dscalar("s")]
    with pytest.raises(TypeError):
        v[1.5]


# ---- attributes and methods ----

def test_transpose_and_ndim_dtype():
    x = T.fmatrix("x")
    assert x.T.ndim == 2 and x.T.dtype == "float32"
    got = run(x.T, {x: M.astype("float32")})
    np.testing.assert_array_equal(got, M.T)
    t = T.dtensor3("t")
    data = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(run(t.T, {t: data}), data.T)
    np.testing.assert_array_equal(run(t.transpose(1, 0, 2), {t: data}), data.transpose(1, 0, 2))


def test_shape_is_symbolic_and_unpacks():
    x = T.dmatrix("x")
    assert isinstance(x.shape, theano.Variable)
    assert x.shape.ndim == 1
    assert x.shape.dtype == "int64"
    n, m = x.shape
    assert isinstance(n, theano.Variable) and n.ndim == 0
    f = theano.function([x], [x.shape, n, m, x.shape[0] * x.shape[1]])
    shape, nv, mv, size = f(np.zeros((3, 5)))
    np.testing.assert_array_equal(shape, [3, 5])
    assert (nv, mv, size) == (3, 5, 15)


def test_reductions_match_numpy():
    x = T.dmatrix("x")
    data = np.array([[1.0, 7.0, -2.0], [4.0, 0.5, 9.0]])
    cases = [
        (x.sum(), data.sum()),
        (x.sum(axis=0), data.sum(axis=0)),
        (x.sum(axis=1, keepdims=True), data.sum(axis=1, keepdims=True)),
        (x.sum(axis=-1), data.sum(axis=-1)),
        (x.sum(axis=(0, 1)), data.sum(axis=(0, 1))),
        (x.mean(), data.mean()),
        (x.mean(axis=0), data.mean(axis=0)),
        (x.max(), data.max()),
        (x.max(axis=1), data.max(axis=1)),
        (x.max(axis=0, keepdims=True), data.max(axis=0, keepdims=True)),
        (x.min(axis=0), data.min(axis=0)),
    ]
    got = theano.function([x], [c[0] for c in cases])(data)
    for (out, expected), value in zip(cases, got):
        assert out.ndim == np.ndim(expected)
        np.testing.assert_allclose(value, expected)
    assert x.sum(axis=1, keepdims=True).broadcastable == (False, True)


def test_argmax():
    x = T.dmatrix("x")
    data = np.array([[1.0, 7.0, -2.0], [4.0, 0.5, 9.0], [3.0, 3.0, 1.0]])
    got_all, got0, got1 = theano.function([x], [x.argmax(), x.argmax(axis=0), x.argmax(axis=1)])(data)
    assert got_all == data.argmax()
    np.testing.assert_array_equal(got0, data.argmax(axis=0))
    np.testing.assert_array_equal(got1, data.argmax(axis=1))
    assert x.argmax(axis=1).dtype == "int64"


def test_reshape_both_spellings():
    x = T.dmatrix("x")
    a, b, c = theano.function([x], [x.reshape((2, -1)), x.reshape(2, -1), x.reshape((-1,))])(M)
    np.testing.assert_array_equal(a, M.reshape(2, -1))
    np.testing.assert_array_equal(b, M.reshape(2, -1))
    np.testing.assert_array_equal(c, M.reshape(-1))
    assert x.reshape((2, -1)).ndim == 2 and x.reshape(2, 3, -1).ndim == 3
    with pytest.raises(ValueError):
        run(x.reshape((5, -1)), {x: M})


def test_reshape_to_a_symbolic_shape():
    v = T.dvector("v")
    m = T.dmatrix("m")
    out = v.reshape(m.shape)
    assert out.ndim == 2
    got = theano.function([v, m], out)(np.arange(6.0), np.zeros((2, 3)))
    np.testing.assert_array_equal(got, np.arange(6.0).reshape(2, 3))


def test_dimshuffle():
    x = T.dmatrix("x")
    out = x.dimshuffle(1, "x", 0)
    assert out.ndim == 3
    assert out.broadcastable == (False, True, False)
    got = run(out, {x: M})
    np.testing.assert_array_equal(got, M.T[:, None, :])
    v = T.dvector("v")
    assert v.dimshuffle("x", 0).broadcastable == (True, False)
    assert v.dimshuffle(0, "x").broadcastable == (False, True)
    r = T.drow("r")
    assert r.dimshuffle(1).ndim == 1
    with pytest.raises(ValueError):
        x.dimshuffle(0)  # drops a dimension that is not broadcastable


def test_flatten_and_astype():
    x = T.dmatrix("x")
    flat = x.flatten()
    assert flat.ndim == 1
    np.testing.assert_array_equal(run(flat, {x: M}), M.flatten())
    t = T.dtensor3("t")
    data = np.arange(24.0).reshape(2, 3, 4)
    assert t.flatten(2).ndim == 2
    np.testing.assert_array_equal(run(t.flatten(2), {t: data}), data.reshape(2, 12))
    cast = x.astype("float32")
    assert cast.dtype == "float32"
    got = run(cast, {x: M + 0.25})
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, (M + 0.25).astype("float32"))
    assert x.astype("int32").dtype == "int32"
    assert x.astype(np.float32).dtype == "float32"


def test_eval():
    x = T.dvector("x")
    y = T.dvector("y")
    np.testing.assert_array_equal((x * 2).eval({x: np.array([1.0, 2.0])}), [2.0, 4.0])
    np.testing.assert_array_equal((x + y).eval({x: [1.0, 2.0], y: [10.0, 20.0]}), [11.0, 22.0])
    assert T.constant(3.0).eval() == 3.0
    assert (theano.shared(np.float64(2.5)) * 2).eval() == 5.0


def test_iterating_a_symbolic_vector_of_unknown_length_fails():
    with pytest.raises(TypeError):
        list(T.dvector("v"))


# ---------------------------------------------------------------------------------------------------------
# Shared variables
# ---------------------------------------------------------------------------------------------------------

def test_shared_basic_attributes():
    value = np.arange(6.0).reshape(2, 3)
    s = theano.shared(value, name="s")
    assert isinstance(s, theano.SharedVariable)
    assert isinstance(s, theano.Variable)
    assert s.name == "s"
    assert s.dtype == "float64"
    assert s.ndim == 2
    assert s.broadcastable == (False, False)
    assert theano.shared(np.zeros(3)).name is None


def test_shared_copies_its_value_by_default():
    value = np.arange(4.0)
    s = theano.shared(value)
    value[0] = 100.0
    assert s.get_value()[0] == 0.0
    assert not np.shares_memory(s.get_value(borrow=True), value)


def test_get_value_returns_a_copy():
    s = theano.shared(np.arange(4.0))
    got = s.get_value()
    got[:] = -1.0
    np.testing.assert_array_equal(s.get_value(), np.arange(4.0))
    assert not np.shares_memory(s.get_value(), s.get_value())


def test_borrow_shares_memory():
    value = np.zeros(5, dtype="float32")
    s = theano.shared(value, borrow=True)
    assert np.shares_memory(s.get_value(borrow=True), value)
    assert not np.shares_memory(s.get_value(), value)
    assert np.shares_memory(s.get_value(borrow=True), s.get_value(borrow=True))


def test_set_value_copies_unless_borrowed():
    s = theano.shared(np.zeros(3))
    new = np.array([1.0, 2.0, 3.0])
    s.set_value(new)
    new[0] = 50.0
    np.testing.assert_array_equal(s.get_value(), [1.0, 2.0, 3.0])
    assert not np.shares_memory(s.get_value(borrow=True), new)
    borrowed = np.array([4.0, 5.0, 6.0])
    s.set_value(borrowed, borrow=True)
    assert np.shares_memory(s.get_value(borrow=True), borrowed)
    np.testing.assert_array_equal(s.get_value(), borrowed)


def test_set_value_may_change_the_shape_of_a_non_static_dimension():
    s = theano.shared(np.zeros(3))
    s.set_value(np.ones(5))
    np.testing.assert_array_equal(s.get_value(), np.ones(5))
    with pytest.raises(TypeError):
        s.set_value(np.ones((2, 2)))


def test_set_value_keeps_the_dtype():
    s = theano.shared(np.zeros(3, dtype="float32"))
    with pytest.raises(TypeError) as info:
        s.set_value(np.ones(3, dtype="float64"))
    assert "float32" in str(info.value) and "float64" in str(info.value)
    np.testing.assert_array_equal(s.get_value(), np.zeros(3))
    assert s.get_value().dtype == np.float32
    s.set_value([1, 2, 3])  # a list of ints fits a float32 variable exactly
    assert s.get_value().dtype == np.float32
    np.testing.assert_array_equal(s.get_value(), [1.0, 2.0, 3.0])
    s.set_value(np.ones(3, dtype="float32") * 2)
    assert s.dtype == "float32"


def test_set_value_int_into_int8_is_checked():
    s = theano.shared(np.int8(3))
    assert s.dtype == "int8"
    s.set_value(100)
    assert s.get_value() == 100 and s.get_value().dtype == np.int8
    with pytest.raises(TypeError):
        s.set_value(1000)
    assert s.get_value() == 100


@pytest.mark.parametrize("target_dtype, value", [
    ("float64", np.arange(3, dtype="int64")),
    ("float64", np.arange(3, dtype="int32")),
    ("float32", np.arange(3, dtype="int16")),
    ("float32", np.arange(3, dtype="uint8")),
    ("float64", np.arange(3, dtype="float32")),
])
def test_set_value_int_array_into_float_shared(target_dtype, value):
    s = theano.shared(np.zeros(3, dtype=target_dtype))
    s.set_value(value)
    assert s.get_value().dtype == target_dtype
    np.testing.assert_array_equal(s.get_value(), value.astype(target_dtype))


def test_set_value_python_int_into_float_scalar():
    s = theano.shared(0.5)
    s.set_value(2)
    assert s.get_value() == 2.0 and s.get_value().dtype == np.float64


def test_shared_dtype_from_value():
    assert theano.shared(np.zeros(2, dtype="float32")).dtype == "float32"
    assert theano.shared(np.zeros(2, dtype="int16")).dtype == "int16"
    assert theano.shared(np.float32(1.5)).dtype == "float32"
    half = theano.shared(0.5)
    assert half.dtype == "float64"
    assert half.ndim == 0
    assert half.get_value() == 0.5
    assert isinstance(half.get_value(), np.ndarray)
    with theano.config.change_flags(floatX="float32"):
        assert theano.shared(0.5).dtype == "float64"
    assert theano.shared(3).dtype == "int64"


def test_shared_refuses_unsupported_values():
    with pytest.raises(TypeError, match="timedelta64"):
        theano.shared(np.zeros(3, dtype="timedelta64"))
    with pytest.raises(TypeError):
        theano.shared(T.dvector("x"))


def test_shared_broadcastable_and_shape_arguments():
    r = theano.shared(np.zeros((1, 3)), broadcastable=(True, False))
    assert r.broadcastable == (True, False)
    c = theano.shared(np.zeros((1, 3)), shape=(1, None))
    assert c.broadcastable == (True, False)
    full = theano.shared(np.zeros((2, 3)), shape=(2, 3))
    assert full.type.shape == (2, 3)
    with pytest.raises(TypeError):
        theano.shared(np.zeros((2, 3)), shape=(1, None))
    with pytest.raises(TypeError):
        r.set_value(np.zeros((2, 3)))
    x = T.dmatrix("x")
    got = theano.function([x], x + r)(np.ones((4, 3)))
    np.testing.assert_array_equal(got, np.ones((4, 3)))


def test_shared_in_expressions_reads_the_current_value():
    s = theano.shared(np.array([1.0, 2.0]))
    x = T.dvector("x")
    f = theano.function([x], x * s)
    np.testing.assert_array_equal(f([3.0, 4.0]), [3.0, 8.0])
    s.set_value(np.array([10.0, 0.0]))
    np.testing.assert_array_equal(f([3.0, 4.0]), [30.0, 0.0])


# ---------------------------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------------------------

def _logistic_graph():
    x = T.dvector("x")
    w = T.dvector("w")
    b = T.dscalar("b")
    return x, w, b, T.tanh(T.dot(x, w) + b)


def test_debugprint_to_string_names_ops_and_inputs():
    x, w, b, out = _logistic_graph()
    text = theano.printing.debugprint(out, file="str")
    assert isinstance(text, str)
    for word in ("tanh", "add", "dot", "x", "w", "b"):
        assert word in text
    lines = text.strip().splitlines()
    assert lines[0].lstrip().startswith("tanh")  # the output first, its inputs below
    assert len(lines) >= 6


def test_debugprint_to_a_stream_and_stdout(capsys):
    *_, out = _logistic_graph()
    stream = io.StringIO()
    assert theano.printing.debugprint(out, file=stream) is stream
    assert "tanh" in stream.getvalue()
    theano.printing.debugprint(out)
    assert "dot" in capsys.readouterr().out


def test_debugprint_of_a_compiled_function():
    x, w, b, out = _logistic_graph()
    f = theano.function([x, w, b], out)
    text = theano.printing.debugprint(f, file="str")
    assert "tanh" in text and "dot" in text


def test_pp_gives_the_infix_expression():
    x, w, b, out = _logistic_graph()
    assert theano.pp(out).replace(" ", "") in ("tanh(dot(x,w)+b)", "tanh((dot(x,w)+b))")
    assert theano.printing.pprint(out) == theano.pp(out)
    x, y = T.dvectors("x", "y")
    text = theano.pp(x * y - x)
    assert "x" in text and "y" in text and "*" in text and "-" in text


def test_pydotprint_writes_dot_source(tmp_path):
    x, w, b, out = _logistic_graph()
    f = theano.function([x, w, b], out)
    path = tmp_path / "g.dot"
    theano.printing.pydotprint(f, outfile=path, format="dot", print_output_file=False)
    source = path.read_text()
    assert source.lstrip().startswith("digraph")
    assert "tanh" in source and "dot" in source and "->" in source
    path2 = tmp_path / "v.dot"
    theano.printing.pydotprint(out, outfile=path2, format="dot", print_output_file=False)
    assert "tanh" in path2.read_text()


def test_pydotprint_writes_png(tmp_path):
    x, w, b, out = _logistic_graph()
    f = theano.function([x, w, b], out)
    path = tmp_path / "g.png"
    theano.printing.pydotprint(f, outfile=path, format="png", print_output_file=False)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    path2 = tmp_path / "v.png"
    theano.printing.pydotprint(out, outfile=path2, format="png", print_output_file=False)
    assert path2.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------------------
# Missing Theano features
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("module, name", [
    ("hypatia.tensor.nnet", "conv3d2d"),
    ("hypatia.tensor.nnet", "ctc"),
])
def test_missing_features_raise_not_implemented(module, name):
    mod = importlib.import_module(module)
    with pytest.raises(NotImplementedError, match=name):
        getattr(mod, name)


def test_missing_feature_via_from_import():
    with pytest.raises(NotImplementedError, match="fourier"):
        exec("from hypatia.tensor import fourier", {})
    with pytest.raises(NotImplementedError, match="ctc"):
        exec("from hypatia.tensor.nnet import ctc", {})
    with pytest.raises(NotImplementedError, match="gpuarray"):
        exec("from hypatia import gpuarray", {})


@pytest.mark.parametrize("statement, feature", [
    ("from hypatia.tensor.fourier import fft", "fourier"),
    ("from hypatia.tensor.nnet.conv3d2d import conv3d", "conv3d2d"),
])
def test_missing_submodule_import_raises_not_implemented(statement, feature):
    with pytest.raises(NotImplementedError, match=feature):
        exec(statement, {})


@pytest.mark.parametrize("module", ["hypatia", "hypatia.tensor", "hypatia.tensor.nnet", "hypatia.gradient",
                                    "hypatia.tensor.extra_ops"])
def test_unknown_names_raise_attribute_error(module):
    mod = importlib.import_module(module)
    with pytest.raises(AttributeError):
        getattr(mod, "definitely_not_a_theano_name")
    assert not hasattr(mod, "definitely_not_a_theano_name")


# ---------------------------------------------------------------------------------------------------------
# Random streams
# ---------------------------------------------------------------------------------------------------------

STREAMS = [RandomStreams, MRG_RandomStreams]


@pytest.mark.parametrize("Streams", STREAMS)
def test_random_shapes_and_dtypes(Streams):
    srng = Streams(seed=234)
    u = srng.uniform((2, 3))
    n = srng.normal((4,))
    b = srng.binomial((5, 2), p=0.5)
    assert (u.ndim, n.ndim, b.ndim) == (2, 1, 2)
    assert u.dtype == theano.config.floatX
    assert n.dtype == theano.config.floatX
    assert b.dtype == "int64"
    uv, nv, bv = theano.function([], [u, n, b])()
    assert uv.shape == (2, 3) and nv.shape == (4,) and bv.shape == (5, 2)
    assert uv.dtype == theano.config.floatX and bv.dtype == np.int64
    assert set(np.unique(bv)) <= {0, 1}
    f32 = srng.uniform((3,), dtype="float32")
    assert f32.dtype == "float32"
    assert theano.function([], f32)().dtype == np.float32
    with theano.config.change_flags(floatX="float32"):
        assert srng.uniform((2,)).dtype == "float32"
        assert srng.normal((2,)).dtype == "float32"


@pytest.mark.parametrize("Streams", STREAMS)
def test_random_ranges_and_statistics(Streams):
    srng = Streams(seed=1)
    u, n, b, r = theano.function([], [srng.uniform((10000,)), srng.normal((10000,), avg=3.0, std=2.0),
                                      srng.binomial((10000,), n=5, p=0.3),
                                      srng.uniform((10000,), low=-2.0, high=-1.0)])()
    assert 0.0 <= u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.02
    assert abs(u.var() - 1 / 12) < 0.01
    assert abs(n.mean() - 3.0) < 0.1
    assert abs(n.std() - 2.0) < 0.1
    assert b.min() >= 0 and b.max() <= 5
    assert abs(b.mean() - 1.5) < 0.1
    assert -2.0 <= r.min() and r.max() <= -1.0
    assert abs(r.mean() + 1.5) < 0.02


@pytest.mark.parametrize("Streams", STREAMS)
def test_random_fresh_numbers_per_call_and_seeding(Streams):
    srng = Streams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = theano.function([], rv_u)
    a, b = f(), f()
    assert not np.allclose(a, b)
    # the same seed gives the same sequence
    srng2 = Streams(seed=234)
    g = theano.function([], srng2.uniform((2, 2)))
    np.testing.assert_array_equal(g(), a)
    np.testing.assert_array_equal(g(), b)
    # another seed gives other numbers
    other = theano.function([], Streams(seed=235).uniform((2, 2)))()
    assert not np.allclose(other, a)
    # reseeding restarts the sequence
    srng.seed(234)
    np.testing.assert_array_equal(f(), a)


@pytest.mark.parametrize("Streams", STREAMS)
def test_one_draw_per_call_within_a_function(Streams):
    """Theano tutorial: a random variable is drawn once per call, however often the graph uses it."""
    srng = Streams(seed=7)
    rv_u = srng.uniform((5,))
    nearly_zeros = theano.function([], rv_u + rv_u - 2 * rv_u)
    np.testing.assert_allclose(nearly_zeros(), np.zeros(5), atol=1e-12)


@pytest.mark.parametrize("Streams", STREAMS)
def test_random_size_may_be_symbolic(Streams):
    srng = Streams(seed=3)
    m = T.dmatrix("m")
    f = theano.function([m], m + srng.uniform(m.shape))
    out = f(np.zeros((3, 4)))
    assert out.shape == (3, 4)
    assert 0.0 <= out.min() and out.max() < 1.0


def test_dropout_mask_pattern():
    """A common pattern: multiply by a binomial mask cast to floatX."""
    srng = RandomStreams(seed=11)
    x = T.dmatrix("x")
    mask = srng.binomial(size=x.shape, p=0.8, dtype=theano.config.floatX)
    f = theano.function([x], x * mask)
    out = f(np.ones((100, 100)))
    assert set(np.unique(out)) <= {0.0, 1.0}
    assert abs(out.mean() - 0.8) < 0.03


def test_multinomial_with_a_matrix_of_pvals_takes_the_rows_as_size():
    srng = RandomStreams(seed=1)
    with pytest.raises(ValueError, match="size must be"):  # a matrix of pvals gives one draw per row
        srng.multinomial(size=(3, 2), pvals=[[0.5, 0.5]])


def test_random_ordered_dict_updates_do_not_disturb_streams():
    srng = RandomStreams(seed=5)
    counter = theano.shared(0, name="counter")
    u = srng.uniform((3,))
    f = theano.function([], u, updates=OrderedDict([(counter, counter + 1)]))
    a, b = f(), f()
    assert counter.get_value() == 2
    assert not np.allclose(a, b)


def test_shared_variables_pickle_with_their_value_name_and_type():
    import pickle

    w = theano.shared(np.arange(6.0).reshape(2, 3).astype("float32"), name="w", shape=(None, 3))
    loaded = pickle.loads(pickle.dumps(w))
    assert isinstance(loaded, theano.SharedVariable) and loaded is not w
    assert loaded.name == "w" and loaded.dtype == "float32" and loaded.type.shape == (None, 3)
    np.testing.assert_array_equal(loaded.get_value(), w.get_value())
    loaded.set_value(np.zeros((1, 3), "float32"))
    assert w.get_value().shape == (2, 3)


def test_graphs_and_functions_pickle():
    import pickle

    x = T.vector("x")
    doubled = pickle.loads(pickle.dumps(x * 2))
    assert doubled.ndim == 1 and doubled.owner is not None
    f = pickle.loads(pickle.dumps(theano.function([x], x * 2)))
    np.testing.assert_array_equal(f(np.ones(2, dtype=theano.config.floatX)), [2, 2])


def test_to_one_hot_matches_numpy():
    labels = np.array([0, 2, 1, 2])
    np.testing.assert_array_equal(T.extra_ops.to_one_hot(labels, 3).eval(), np.eye(3)[labels])
    y = T.lvector("y")
    onehot = T.extra_ops.to_one_hot(y, 4, dtype="float32")
    assert onehot.dtype == "float32"
    np.testing.assert_array_equal(onehot.eval({y: labels}), np.eye(4, dtype="float32")[labels])
