"""complex64 and complex128: types, NumPy conversion, the scalar ops defined on complex numbers, promotion,
reductions, dot, refusals of what is only defined on reals, and Theano's gradient convention
(dC/dRe z + i dC/dIm z for a real cost C). Expected values come from NumPy and finite differences."""
import pickle

import numpy as np
import pytest

import hypatia as th
import hypatia.tensor as T

MODES = ["FAST_COMPILE", "FAST_RUN"]
RNG = np.random.default_rng(7)


def random_complex(shape, dtype="complex128"):
    return (RNG.normal(size=shape) + 1j * RNG.normal(size=shape)).astype(dtype)


def tolerance(dtype):
    return dict(rtol=2e-5, atol=2e-5) if dtype == "complex64" else dict(rtol=1e-12, atol=1e-12)


def test_dtype_lists_and_typed_constructors():
    assert T.complex_dtypes == ["complex64", "complex128"]
    assert "complex128" in T.continuous_dtypes and "complex64" in T.all_dtypes
    assert T.cmatrix("a").dtype == "complex64" and T.zvector("b").dtype == "complex128"
    assert T.zmatrix.dtype == "complex128" and T.cscalar("s").ndim == 0
    assert [t.dtype for t in th.scalar.complex_types] == ["complex64", "complex128"]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_values_round_trip_through_numpy_and_shared_variables(dtype):
    value = random_complex((2, 3), dtype)
    x = T.matrix("x", dtype=dtype)
    f = th.function([x], x.T)
    out = f(value)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, value.T)
    s = th.shared(value)
    assert s.dtype == dtype
    np.testing.assert_array_equal(s.get_value(), value)
    g = th.function([], s * 2, updates=[(s, s * np.array(1j, dtype))])
    np.testing.assert_allclose(g(), value * 2, **tolerance(dtype))
    np.testing.assert_allclose(s.get_value(), value * 1j, **tolerance(dtype))


UNARY = ["neg", "exp", "log", "sqrt", "sin", "cos", "tan", "tanh", "sinh", "cosh", "arcsin", "arccos", "arctan",
         "arcsinh", "arccosh", "arctanh", "exp2", "log2", "log10", "sqr", "reciprocal", "conj", "real", "imag",
         "angle", "abs", "isnan", "isinf"]
NUMPY_NAME = {"neg": "negative", "sqr": "square"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_unary_ops_match_numpy(dtype, mode):
    value = random_complex((3, 4), dtype)
    x = T.matrix("x", dtype=dtype)
    outputs = [getattr(T, name)(x) for name in UNARY]
    results = th.function([x], outputs, mode=mode)(value)
    for name, out in zip(UNARY, results):
        expected = getattr(np, NUMPY_NAME.get(name, name))(value)
        assert out.dtype == expected.dtype, name
        np.testing.assert_allclose(out, expected, err_msg=name, **tolerance(dtype))


@pytest.mark.parametrize("mode", MODES)
def test_binary_ops_and_fused_expressions_match_numpy(mode):
    a, b = random_complex((3, 4)), random_complex((3, 4))
    x, y = T.zmatrices("x", "y")
    outputs = [x + y, x - y, x * y, x / y, x ** y, T.eq(x, x), T.neq(x, y), T.exp(x * y + 1) / (x - 2j),
               T.complex(T.real(x), T.imag(y)), T.complex_from_polar(abs(x), T.angle(y))]
    expected = [a + b, a - b, a * b, a / b, a ** b, a == a, a != b, np.exp(a * b + 1) / (a - 2j),
                a.real + 1j * b.imag, np.abs(a) * np.exp(1j * np.angle(b))]
    for out, want in zip(th.function([x, y], outputs, mode=mode)(a, b), expected):
        np.testing.assert_allclose(out, want, rtol=1e-12)


def test_properties_and_python_complex_numbers():
    z = T.zvector("z")
    value = np.array([1 + 2j, -3 - 0.5j])
    re, im, conj, scaled = th.function([z], [z.real, z.imag, z.conj(), z * 1j + 2])(value)
    np.testing.assert_array_equal(re, value.real)
    np.testing.assert_array_equal(im, value.imag)
    np.testing.assert_array_equal(conj, value.conj())
    np.testing.assert_array_equal(scaled, value * 1j + 2)
    # A zero imaginary part is not a zero: 1j * x must not fold away as 0 * x.
    x = T.dvector("x")
    np.testing.assert_array_equal(th.function([x], x * 1j)(np.array([1.0, 2.0])), [1j, 2j])


@pytest.mark.parametrize("a, b", [("float32", "complex64"), ("float64", "complex64"), ("int32", "complex64"),
                                  ("int8", "complex64"), ("uint64", "complex128"), ("complex64", "complex128"),
                                  ("bool", "complex64")])
def test_promotion_follows_numpy(a, b):
    x, y = T.vector("x", dtype=a), T.vector("y", dtype=b)
    assert (x + y).dtype == np.result_type(a, b).name
    assert (x * y).dtype == np.result_type(a, b).name


def test_real_parts_of_complex_types_and_float_functions():
    c = T.cvector("c")
    assert abs(c).dtype == "float32" and c.real.dtype == "float32" and T.angle(c).dtype == "float32"
    assert T.complex(T.fvector("a"), T.fvector("b")).dtype == "complex64"
    assert T.complex(T.ivector("a"), T.ivector("b")).dtype == "complex128"
    assert T.exp(c).dtype == "complex64" and (c / 2).dtype == "complex64"


@pytest.mark.parametrize("mode", MODES)
def test_reductions_dot_and_running_sums_match_numpy(mode):
    a, b, v = random_complex((3, 4)), random_complex((4, 2)), random_complex((4,))
    x, y = T.zmatrices("x", "y")
    w = T.zvector("w")
    outputs = [x.sum(), x.sum(axis=0), x.prod(axis=1), x.mean(axis=1), T.dot(x, y), T.dot(x, w), T.dot(w, w),
               T.cumsum(x, axis=1), T.cumprod(x, axis=0)]
    expected = [a.sum(), a.sum(axis=0), a.prod(axis=1), a.mean(axis=1), a @ b, a @ v, v @ v, np.cumsum(a, axis=1),
                np.cumprod(a, axis=0)]
    for out, want in zip(th.function([x, y, w], outputs, mode=mode)(a, b, v), expected):
        assert out.dtype == want.dtype
        np.testing.assert_allclose(out, want, rtol=1e-12)


def test_complex64_sums_accumulate_in_double():
    value = np.full(100000, 0.1 + 0.1j, dtype="complex64")
    c = T.cvector("c")
    out = th.function([c], c.sum())(value)
    assert out.dtype == "complex64"
    np.testing.assert_allclose(out, value.astype("complex128").sum(), rtol=1e-6)


@pytest.mark.parametrize("build, op", [
    (lambda z: z < z, "lt"), (lambda z: T.maximum(z, z), "maximum"), (lambda z: T.floor(z), "floor"),
    (lambda z: z.max(), "max"), (lambda z: T.argmax(z), "argmax"), (lambda z: z % 2, "mod"),
    (lambda z: T.sigmoid(z), "sigmoid"), (lambda z: T.clip(z, 0, 1), "clip"),
])
def test_what_is_defined_on_reals_only_is_refused_with_the_op_named(build, op):
    z = T.zvector("z")
    with pytest.raises(TypeError, match=op):
        th.function([z], build(z))(np.array([1j]))


@pytest.mark.parametrize("build, op", [
    (T.argsort, "argsort"), (T.sort, "argsort"), (lambda z: T.argmax(z), "argmax"),
    (lambda z: T.extra_ops.searchsorted(z, z), "searchsorted"), (lambda z: T.extra_ops.unique(z), "unique"),
    (lambda z: T.topk(z, 1), "topk"),
])
def test_sorting_and_searching_complex_tensors_is_refused_when_the_graph_is_built(build, op):
    with pytest.raises(TypeError, match=f"{op}.*complex128"):
        build(T.zvector("z"))


def test_casting_complex_to_real_is_refused_as_in_theano():
    z = T.zvector("z")
    with pytest.raises(TypeError, match="ambiguous"):
        T.cast(z, "float64")
    assert T.cast(z, "complex64").dtype == "complex64"
    assert T.cast(T.dvector("x"), "complex128").dtype == "complex128"


def test_a_complex_value_is_not_taken_by_a_real_input():
    x = T.dvector("x")
    f = th.function([x], x * 2)
    with pytest.raises(TypeError):
        f(np.array([1 + 1j]))
    with pytest.raises(TypeError):
        f([1 + 1j])


def test_grad_of_a_complex_cost_is_refused():
    z = T.zvector("z")
    with pytest.raises(ValueError, match="real"):
        T.grad(z.sum(), z)


def numeric_gradient(cost, value, eps=1e-6):
    """dC/dRe z + i dC/dIm z by central differences."""
    grad = np.zeros_like(value)
    for index in np.ndindex(value.shape):
        for direction in (1, 1j):
            step = np.zeros_like(value)
            step[index] = eps * direction
            derivative = (cost(value + step) - cost(value - step)) / (2 * eps)
            grad[index] += derivative * direction
    return grad


COSTS = {
    "abs": lambda z, w: abs(z).sum(),
    "real_of_product": lambda z, w: T.real(z * w).sum(),
    "abs_of_exp": lambda z, w: abs(T.exp(z) * w).sum(),
    "angle": lambda z, w: T.angle(z * w).sum(),
    "imag_of_quotient": lambda z, w: T.imag(z / (w + 3)).sum(),
    "abs_of_dot": lambda z, w: abs(T.dot(z, w)),
    "abs_of_prod": lambda z, w: abs(z.prod()),
    "real_of_log_and_sqrt": lambda z, w: T.real(T.log(z) * T.sqrt(w)).sum(),
    "abs_of_cumprod": lambda z, w: abs(T.cumprod(z)).sum(),
    "squared_modulus": lambda z, w: T.real(z * T.conj(z)).sum() + (T.imag(w) ** 2).sum(),
    "rebuilt": lambda z, w: abs(T.complex(T.real(z) * 2, T.imag(w)) ** 2).sum(),
    "indexed": lambda z, w: abs(z[1:] * w[:-1]).sum() + abs(T.concatenate([z, w])).sum(),
}


@pytest.mark.parametrize("name", sorted(COSTS))
def test_gradients_follow_theano_convention_against_finite_differences(name):
    z, w = T.zvectors("z", "w")
    cost = COSTS[name](z, w)
    compiled = th.function([z, w], cost, on_unused_input="ignore")
    grads = T.grad(cost, [z, w], disconnected_inputs="ignore")
    gz, gw = th.function([z, w], grads, on_unused_input="ignore")(a := random_complex((3,)), b := random_complex((3,)))
    np.testing.assert_allclose(gz, numeric_gradient(lambda v: compiled(v, b), a), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gw, numeric_gradient(lambda v: compiled(a, v), b), rtol=1e-5, atol=1e-6)


def test_gradient_of_a_real_input_through_complex_values_is_real():
    x = T.dvector("x")
    z = T.zvector("z")
    cost = abs(T.exp(1j * x) * z).sum() + T.real(x * z).sum()
    gx = T.grad(cost, x)
    assert gx.dtype == "float64"
    a, b = RNG.normal(size=3), random_complex((3,))
    compiled = th.function([x, z], cost)
    expected = numeric_gradient(lambda v: compiled(v.real, b), a.astype("complex128")).real
    np.testing.assert_allclose(th.function([x, z], gx)(a, b), expected, rtol=1e-5, atol=1e-6)


def test_pickled_complex_shared_variable_and_function_keep_their_values(tmp_path):
    s = th.shared(random_complex((2,), "complex64"), name="s")
    f = th.function([], s * 1j)
    loaded_s, loaded_f = pickle.loads(pickle.dumps((s, f)))
    assert loaded_s.get_value().dtype == "complex64"
    np.testing.assert_array_equal(loaded_s.get_value(), s.get_value())
    np.testing.assert_allclose(loaded_f(), s.get_value() * 1j, rtol=1e-6)


# ---- Theano 1.0's tensor/tests/test_complex.py, whose gradient tests Theano skipped ("Complex grads not
# enabled, see #178"): each is a real function of real inputs through complex values, so verify_grad checks it.

def test_theano_real_imag_and_complex_types():
    x = T.zvector()
    value = np.asarray([complex(a, b) for a, b in np.random.RandomState(23).randn(10, 2)])
    assert np.all(value.real == th.function([x], T.real(x))(value))
    assert np.all(value.imag == th.function([x], T.imag(x))(value))
    m = T.fmatrix()
    c = T.complex(m[0], m[1])
    assert c.type == T.cvector
    r, i = T.real(c), T.imag(c)
    assert r.type == T.fvector and i.type == T.fvector
    mval = np.asarray(np.random.RandomState(2333).randn(2, 5), dtype="float32")
    rval, ival = th.function([m], [r, i])(mval)
    assert np.all(rval == mval[0]) and np.all(ival == mval[1])
    with pytest.raises(TypeError):
        T.cast(T.zvector(), "int32")


THEANO_SKIPPED_GRADS = {
    "complex_grads": (lambda m: 0.5 * T.real(T.complex(m[0], m[1])) + 0.9 * T.imag(T.complex(m[0], m[1])), 1),
    "mul_mixed0": (lambda a: abs(T.complex(a[0], a[1]) ** 2).sum(), 1),
    "mul_mixed1": (lambda a: abs(T.complex(a[0], a[1])).sum(), 1),
    "mul_mixed": (lambda a, b: abs((T.complex(a[0], a[1]) * b) ** 2).sum(), 2),
    "polar_grads": (lambda m: 0.5 * T.real(T.complex_from_polar(abs(m[0]), m[1]))
                    + 0.9 * T.imag(T.complex_from_polar(abs(m[0]), m[1])), 1),
    "abs_grad": (lambda m: 0.5 * abs(T.complex(m[0], m[1])), 1),
}


@pytest.mark.parametrize("name", sorted(THEANO_SKIPPED_GRADS))
def test_theano_complex_gradient_tests_pass(name):
    fn, arity = THEANO_SKIPPED_GRADS[name]
    rng = np.random.RandomState(9333)
    points = [np.asarray(rng.randn(2, 5))] + ([rng.randn(5)] if arity == 2 else [])
    th.gradient.verify_grad(fn, points, rng=np.random.default_rng(0))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_dot_of_transposed_strided_and_vector_operands_matches_numpy(dtype):
    # Complex products go to CGEMM / ZGEMM: every layout BLAS reads in place, and the copies it cannot.
    a, b = random_complex((6, 4), dtype), random_complex((6, 5), dtype)
    x, y = T.matrix("x", dtype=dtype), T.matrix("y", dtype=dtype)
    outputs = [T.dot(x.T, y), T.dot(x[::2].T, y[::2]), T.dot(y.T[:, 1:], x[1:]), T.dot(x[:, 0], y), T.dot(x.T, y[:, 2])]
    expected = [a.T @ b, a[::2].T @ b[::2], b.T[:, 1:] @ a[1:], a[:, 0] @ b, a.T @ b[:, 2]]
    for out, want in zip(th.function([x, y], outputs)(a, b), expected):
        assert out.dtype == dtype
        np.testing.assert_allclose(out, want, **tolerance(dtype))


ROP_COSTS = ["abs", "real_of_product", "abs_of_exp", "angle", "imag_of_quotient", "abs_of_dot", "real_of_log_and_sqrt",
             "squared_modulus", "rebuilt"]


@pytest.mark.parametrize("name", ROP_COSTS)
def test_rop_pushes_complex_tangents_forward(name):
    # Forward mode: the directional derivative d/dt C(z + t dz, w + t dw), against central differences.
    z, w, dz, dw = T.zvectors("z", "w", "dz", "dw")
    cost = COSTS[name](z, w)
    compiled = th.function([z, w], cost, on_unused_input="ignore")
    tangent = th.function([z, w, dz, dw], T.Rop(cost, [z, w], [dz, dw]), on_unused_input="ignore")
    a, b, da, db = (random_complex((3,)) for _ in range(4))
    eps = 1e-6
    numeric = (compiled(a + eps * da, b + eps * db) - compiled(a - eps * da, b - eps * db)) / (2 * eps)
    np.testing.assert_allclose(tangent(a, b, da, db), numeric, rtol=1e-5, atol=1e-7)


def test_rop_of_complex_outputs_and_of_real_inputs_through_complex_values():
    x, v = T.dvectors("x", "v")
    z, dz = T.zvectors("z", "dz")
    out = T.exp(z) * z + T.complex(x, x ** 2)  # complex-valued, reading a complex and a real input
    f = th.function([z, x], out)
    tangent = th.function([z, x, dz, v], T.Rop(out, [z, x], [dz, v]))
    a, da = random_complex((3,)), random_complex((3,))
    b, db = RNG.normal(size=3), RNG.normal(size=3)
    eps = 1e-6
    numeric = (f(a + eps * da, b + eps * db) - f(a - eps * da, b - eps * db)) / (2 * eps)
    np.testing.assert_allclose(tangent(a, b, da, db), numeric, rtol=1e-5, atol=1e-7)
    # An op without a forward rule for complex values says so instead of giving a zero tangent.
    with pytest.raises(NotImplementedError, match="Rop.*complex"):
        T.Rop(abs(z.prod()), z, dz)
