"""Special functions of the scalar op table (gamma, gammaln, psi, tri_gamma, polygamma, the incomplete gamma
functions gammainc, gammaincc, gammau, gammal and chi2sf, erfinv, erfcinv, erfcx, the Bessel functions i0, i1, iv,
j0, j1, jv, and log1mexp) against SciPy's and NumPy's results on the same values: float64 and float32 (the
float32 inputs are compared with SciPy in float64 on the same float32 values), integer inputs upcast as Theano's
upgrade_to_float, two-input functions promoting their inputs first and broadcasting, the domain edges where
SciPy gives NaN or infinities, the in-place variants of tensor.inplace, gradients by verify_grad (central
differences, float64) and against their closed forms evaluated by SciPy, the gradient of gammainc with respect
to k refused when it runs, and expressions mixing them fused into generated kernels. Each graph runs in
FAST_RUN and in FAST_COMPILE and the two must agree."""
import numpy as np
import pytest
import scipy.special as sp
import scipy.stats

import hypatia as theano
from every_mode import MODES, run_every_mode
import hypatia.tensor as T
from hypatia.tensor import inplace

FLOATS = ("float64", "float32")

# On OpenCL the ops without device kernels run on the host; the warning saying so is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:.*has no kernel on this device")

RTOL64 = 1e-12           # where SciPy is accurate to a few ulps
RTOL64_LOOSE = 1e-10     # Bessel functions, incomplete gamma functions
RTOL32 = 1e-5


def low_precision(dtype):
    return np.dtype(dtype) == np.dtype(np.float32)


def agreement(dtype):
    """Tolerances between the modes: twice those against SciPy (the modes may evaluate the same function by
    different code, each within the tolerance of SciPy's value)."""
    return dict(rtol=2 * RTOL32, atol=2e-6) if low_precision(dtype) else dict(rtol=2 * RTOL64_LOOSE, atol=2e-13)


def run(inputs, outputs, values, **kwargs):
    """Compiles the graph in every mode, checks that the modes agree, returns the FAST_RUN results."""
    return run_every_mode(inputs, outputs, values, lambda a: agreement(a.dtype), equal_nan=True, **kwargs)


def check(actual, expected, dtype, rtol64=RTOL64, atol64=0.0, atol32=0.0):
    """actual (of dtype) against expected (computed in float64): NaN where expected is NaN, the same infinities,
    the finite values within the tolerances of dtype."""
    actual, expected = np.asarray(actual), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype == np.dtype(dtype), (actual.dtype, dtype)
    tol = dict(rtol=RTOL32, atol=atol32) if low_precision(dtype) else dict(rtol=rtol64, atol=atol64)
    np.testing.assert_allclose(actual.astype(np.float64), expected, equal_nan=True, **tol)


def var(name, ndim, dtype="float64"):
    return T.tensor(name, dtype=dtype, shape=(None,) * ndim)


def f64(x):
    return np.asarray(x, dtype=np.float64)


def as_dtype(values, dtype):
    """values rounded to dtype, and those rounded values in float64 (what SciPy is given)."""
    v = np.asarray(values, dtype=dtype)
    return v, f64(v)


def log1mexp_ref(x):
    """log(1 - exp(x)) for x <= 0 in float64, accurate to a few ulps on both sides of -log 2 (Maechler's
    log1mexp note): log(-expm1(x)) near 0, log1p(-exp(x)) below -log 2."""
    x = f64(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > -np.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def gammau_ref(k, x):
    return sp.gammaincc(k, x) * sp.gamma(k)


def gammal_ref(k, x):
    return sp.gammainc(k, x) * sp.gamma(k)


def chi2sf_ref(x, k):
    return scipy.stats.chi2.sf(x, k)


# ---- One input: values ----

# name: (SciPy's function, float64 points, float32 points, float64 rtol, float64 atol, float32 atol). Points stay
# away from the zeros of the functions (where only an absolute error means something) and, in float32, inside
# float32's range.
UNARY = {
    "gamma": (sp.gamma,
              [1e-5, 0.1, 0.5, 1.5, 2.5, 3.0, 5.5, 10.0, 20.5, 50.0, 170.5, -0.5, -1.5, -2.5, -3.7, -10.3],
              [1e-3, 0.1, 0.5, 1.5, 2.5, 3.0, 5.5, 10.0, 20.5, 30.0, -0.5, -1.5, -3.7], RTOL64, 0.0, 0.0),
    "gammaln": (sp.gammaln,
                [1e-8, 0.1, 0.5, 1.5, 2.5, 3.3, 10.0, 100.0, 1e5, 1e10, 1e300, -0.5, -1.5, -2.5, -10.3],
                [1e-6, 0.1, 0.5, 1.5, 2.5, 3.3, 10.0, 100.0, 1e5, 1e10, -0.5, -1.5, -2.5], RTOL64, 0.0, 1e-6),
    "psi": (sp.psi,
            [1e-3, 0.1, 0.5, 1.0, 2.0, 3.5, 10.0, 100.0, 1e5, -0.5, -1.5, -2.3, -10.7],
            [1e-2, 0.1, 0.5, 1.0, 2.0, 3.5, 10.0, 100.0, 1e5, -0.5, -1.5, -2.3], RTOL64, 0.0, 1e-6),
    "tri_gamma": (lambda x: sp.polygamma(1, x),
                  [1e-3, 0.1, 0.5, 1.0, 2.0, 3.5, 10.0, 100.0, 1e4, -0.5, -1.5, -2.3],
                  [1e-2, 0.1, 0.5, 1.0, 2.0, 3.5, 10.0, 100.0, 1e4, -0.5, -1.5, -2.3], RTOL64, 0.0, 0.0),
    "erfinv": (sp.erfinv,
               [-0.999999, -0.9, -0.5, -1e-3, -1e-10, 1e-10, 0.1, 0.5, 0.9, 0.99, 0.999999, 1 - 1e-12],
               [-0.999, -0.9, -0.5, -1e-3, 1e-10, 0.1, 0.5, 0.9, 0.99, 0.9999], RTOL64, 0.0, 0.0),
    "erfcinv": (sp.erfcinv,
                [1e-300, 1e-100, 1e-20, 1e-5, 0.1, 0.5, 1.5, 1.9, 1.999999],
                [1e-30, 1e-10, 1e-5, 0.1, 0.5, 1.5, 1.9, 1.9999], RTOL64, 0.0, 0.0),
    # 26.5 and above: exp(x^2) overflows float64 (above 9.4 in float32) while erfcx is about 1 / (x sqrt(pi)).
    "erfcx": (sp.erfcx,
              [-5.0, -2.0, -0.5, 0.0, 1e-3, 0.5, 1.0, 3.0, 10.0, 26.5, 27.0, 50.0, 100.0, 1e3],
              [-5.0, -2.0, -0.5, 0.0, 0.5, 1.0, 3.0, 9.5, 10.0, 50.0, 100.0, 1e3], RTOL64, 0.0, 0.0),
    "i0": (sp.i0,
           [0.0, 1e-3, 0.5, 1.0, 5.0, 10.0, 30.0, 100.0, 500.0, 700.0, -2.0, -7.5],
           [0.0, 1e-3, 0.5, 1.0, 5.0, 10.0, 30.0, 50.0, -2.0, -7.5], RTOL64_LOOSE, 0.0, 0.0),
    "i1": (sp.i1,
           [1e-3, 0.5, 1.0, 5.0, 10.0, 30.0, 100.0, 500.0, 700.0, -2.0, -7.5],
           [1e-3, 0.5, 1.0, 5.0, 10.0, 30.0, 50.0, -2.0, -7.5], RTOL64_LOOSE, 0.0, 0.0),
    "j0": (sp.j0,
           [0.0, 1e-3, 0.5, 1.0, 2.0, 4.0, 7.0, 10.0, 30.0, 100.0, 1e3, -3.0],
           [0.0, 1e-3, 0.5, 1.0, 2.0, 4.0, 7.0, 10.0, -3.0], RTOL64_LOOSE, 1e-13, 1e-6),
    "j1": (sp.j1,
           [1e-3, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 1e3, -3.0],
           [1e-3, 0.5, 1.0, 2.0, 5.0, 10.0, -3.0], RTOL64_LOOSE, 1e-13, 1e-6),
    # Near 0 log(1 - exp(x)) needs expm1, far below it log1p: log(1 - exp(-50)) is -1.9e-22, not 0.
    "log1mexp": (log1mexp_ref,
                 [-1e-10, -1e-3, -0.5, -np.log(2.0), -1.0, -5.0, -50.0, -700.0],
                 [-1e-10, -1e-3, -0.5, -0.69, -1.0, -5.0, -50.0], RTOL64, 0.0, 0.0),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_one_input_functions_match_scipy(name, dtype):
    ref, points64, points32, rtol64, atol64, atol32 = UNARY[name]
    values, exact = as_dtype(points64 if dtype == "float64" else points32, dtype)
    x = var("x", 1, dtype)
    got = run([x], getattr(T, name)(x), [values])
    check(got, ref(exact), dtype, rtol64, atol64, atol32)


def test_log1mexp_matches_numpy_where_the_naive_formula_is_accurate():
    """log(-expm1(x)) in float64 is accurate where 1 - exp(x) is not close to 1: the points of the brief."""
    points = f64([-1e-10, -1e-3, -0.5, -1.0, -5.0])
    x = var("x", 1)
    check(run([x], T.log1mexp(x), [points]), np.log(-np.expm1(points)), "float64")
    # -50: the naive value rounds 1 - 1.9e-22 to 1; log1mexp keeps the tail.
    got = run([x], T.log1mexp(x), [f64([-50.0])])
    check(got, [-np.exp(-50.0)], "float64", rtol64=1e-12)


# ---- One input: special points and domain edges ----

EDGES = {
    # gamma: a pole at 0 (SciPy: +inf at +0), NaN at the negative integers, overflow past 171.6; exact at 1, 2.
    "gamma": ([0.0, -1.0, -2.0, -5.0, 200.0, 1.0, 2.0, 3.0], sp.gamma),
    "gammaln": ([0.0, -1.0, -3.0, 1.0, 2.0], sp.gammaln),
    "psi": ([0.0, -1.0, -2.0, 1.0], sp.psi),
    "erfinv": ([1.0, -1.0, 1.5, -2.0, 0.0], sp.erfinv),
    "erfcinv": ([0.0, 2.0, -1.0, 3.0, 1.0], sp.erfcinv),
    "i0": ([0.0], sp.i0), "i1": ([0.0], sp.i1), "j0": ([0.0], sp.j0), "j1": ([0.0], sp.j1),
    "log1mexp": ([0.0, 0.5], lambda x: np.log(-np.expm1(x))),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(EDGES))
def test_domain_edges_give_scipys_nan_and_infinities(name, dtype):
    points, ref = EDGES[name]
    values, exact = as_dtype(points, dtype)
    with np.errstate(all="ignore"):
        expected = ref(exact)
    x = var("x", 1, dtype)
    got = run([x], getattr(T, name)(x), [values])
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=f"NaN positions of {name}")
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(expected), err_msg=f"+inf positions of {name}")
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(expected), err_msg=f"-inf positions of {name}")
    finite = np.isfinite(expected)
    np.testing.assert_allclose(f64(got)[finite], expected[finite], rtol=RTOL32 if dtype == "float32" else 1e-14,
                               atol=1e-15)


# ---- Integer inputs ----

@pytest.mark.parametrize("dtype, expected", [("int8", "float32"), ("int16", "float32"), ("uint8", "float32"),
                                             ("uint16", "float32"), ("bool", "float32"), ("int32", "float64"),
                                             ("int64", "float64")])
def test_integer_inputs_are_upcast_as_upgrade_to_float(dtype, expected):
    values = np.array([0, 1, 1, 0] if dtype == "bool" else [0, 1, 2, 3, 7], dtype=dtype)
    x = var("x", 1, dtype)
    got = run([x], [T.i0(x), T.erfcx(x), T.j0(x), T.gammaln(x)], [values])
    exact = f64(values)
    with np.errstate(divide="ignore"):
        refs = [sp.i0(exact), sp.erfcx(exact), sp.j0(exact), sp.gammaln(exact)]   # gammaln(0) is +inf
    for g, r in zip(got, refs):
        check(g, r, expected, rtol64=RTOL64_LOOSE, atol64=1e-15, atol32=1e-6)


@pytest.mark.parametrize("name, a_dtype, b_dtype, expected", [
    ("gammainc", "int8", "float32", "float32"),
    ("gammainc", "int32", "float32", "float64"),
    ("gammaincc", "int8", "int16", "float32"),
    ("gammaincc", "int32", "int32", "float64"),
    ("chi2sf", "float32", "int64", "float64"),
    ("chi2sf", "float32", "uint8", "float32"),
    ("jv", "int16", "float32", "float32"),
    ("iv", "int8", "float64", "float64"),
])
def test_two_input_functions_promote_their_inputs_first(name, a_dtype, b_dtype, expected):
    a_values = np.array([1, 2, 3], dtype=a_dtype)
    b_values = np.array([1, 2, 5], dtype=b_dtype)
    a, b = var("a", 1, a_dtype), var("b", 1, b_dtype)
    got = run([a, b], getattr(T, name)(a, b), [a_values, b_values])
    check(got, BINARY[name][0](f64(a_values), f64(b_values)), expected, rtol64=RTOL64_LOOSE, atol64=1e-15,
          atol32=1e-6)


# ---- Two inputs: values on broadcast grids ----

# name: (reference, first argument's points, second's (float64), the same in float32, float64 atol, float32 atol).
# Evaluated as f(a[:, None], b[None, :]).
_K = [0.5, 1.0, 2.5, 10.0, 50.0]
_X = [0.0, 0.01, 0.5, 1.0, 3.0, 10.0, 40.0, 100.0]
_K32 = [0.5, 1.0, 2.5, 10.0]
_X32 = [0.0, 0.01, 0.5, 1.0, 3.0, 10.0, 40.0]
BINARY = {
    "gammainc": (sp.gammainc, _K, _X, _K32, _X32, 0.0, 0.0),
    "gammaincc": (sp.gammaincc, _K, _X, _K32, _X32, 0.0, 0.0),
    "gammau": (gammau_ref, _K, _X, _K32, _X32, 0.0, 0.0),
    "gammal": (gammal_ref, _K, _X, _K32, _X32, 0.0, 0.0),
    "chi2sf": (chi2sf_ref, [0.0, 0.5, 1.0, 3.0, 10.0, 40.0, 100.0], [1.0, 2.0, 3.0, 10.0, 50.0],
               [0.0, 0.5, 1.0, 3.0, 10.0, 40.0], [1.0, 2.0, 3.0, 10.0], 0.0, 0.0),
    "iv": (sp.iv, [0.0, 0.5, 1.0, 2.5, 7.0], [0.5, 2.0, 7.5, 30.0],
           [0.0, 0.5, 1.0, 2.5, 7.0], [0.5, 2.0, 7.5, 30.0], 0.0, 0.0),
    "jv": (sp.jv, [0.0, 0.5, 1.0, 2.5, 7.0], [0.5, 2.0, 7.5, 30.0],
           [0.0, 0.5, 1.0, 2.5, 7.0], [0.5, 2.0, 7.5], 1e-13, 1e-6),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_two_input_functions_match_scipy_on_broadcast_grids(name, dtype):
    ref, a64, b64, a32, b32, atol64, atol32 = BINARY[name]
    a_values, a_exact = as_dtype(a64 if dtype == "float64" else a32, dtype)
    b_values, b_exact = as_dtype(b64 if dtype == "float64" else b32, dtype)
    a, b = var("a", 1, dtype), var("b", 1, dtype)
    got = run([a, b], getattr(T, name)(a[:, None], b[None, :]), [a_values, b_values])
    check(got, ref(a_exact[:, None], b_exact[None, :]), dtype, RTOL64_LOOSE, atol64, atol32)


def test_bessel_functions_of_negative_arguments():
    """Integer orders are defined for x < 0 (J_n(-x) = (-1)^n J_n(x), I_n likewise); other orders give NaN."""
    v_values, x_values = f64([0.0, 1.0, 2.0, 3.0, 0.5]), f64([-3.0, -0.5])
    v, x = var("v", 1), var("x", 1)
    got_iv, got_jv, got_i0, got_i1, got_j0, got_j1 = run(
        [v, x], [T.iv(v[:, None], x[None, :]), T.jv(v[:, None], x[None, :]), T.i0(x), T.i1(x), T.j0(x), T.j1(x)],
        [v_values, x_values])
    check(got_iv, sp.iv(v_values[:, None], x_values), "float64", RTOL64_LOOSE, 1e-14)
    check(got_jv, sp.jv(v_values[:, None], x_values), "float64", RTOL64_LOOSE, 1e-14)
    assert np.isnan(got_iv[-1]).all() and np.isnan(got_jv[-1]).all()
    for got, ref in ((got_i0, sp.i0), (got_i1, sp.i1), (got_j0, sp.j0), (got_j1, sp.j1)):
        check(got, ref(x_values), "float64", RTOL64_LOOSE, 1e-14)


def test_incomplete_gamma_identities():
    """gammainc + gammaincc = 1, gammal + gammau = gamma(k), chi2sf(x, k) = gammaincc(k/2, x/2)."""
    k_values, x_values = f64([0.5, 1.5, 4.0, 12.0]), f64([0.2, 1.0, 3.5, 9.0, 20.0])
    k, x = var("k", 1), var("x", 1)
    kc, xr = k[:, None], x[None, :]
    total, gamma_total, chi2 = run(
        [k, x], [T.gammainc(kc, xr) + T.gammaincc(kc, xr), T.gammal(kc, xr) + T.gammau(kc, xr),
                 T.chi2sf(2 * xr, 2 * kc) - T.gammaincc(kc, xr)], [k_values, x_values])
    check(total, np.ones((4, 5)), "float64", RTOL64_LOOSE)
    check(gamma_total, np.broadcast_to(sp.gamma(k_values)[:, None], (4, 5)), "float64", RTOL64_LOOSE)
    check(chi2, np.zeros((4, 5)), "float64", atol64=1e-13)


# ---- polygamma ----

@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma_with_a_constant_order(n):
    points = f64([0.5, 1.0, 2.5, 10.0, 30.0])
    x = var("x", 1)
    check(run([x], T.polygamma(n, x), [points]), sp.polygamma(n, points), "float64")


def test_polygamma_float32_keeps_float32():
    values, exact = as_dtype([0.5, 1.0, 2.5, 10.0], "float32")
    x = var("x", 1, "float32")
    check(run([x], T.polygamma(2, x), [values]), sp.polygamma(2, exact), "float32")


def test_polygamma_with_an_integer_order_tensor_broadcasts():
    n_values, x_values = np.arange(5, dtype="int32"), f64([0.5, 1.0, 2.5, 10.0, 30.0])
    n, x = var("n", 1, "int32"), var("x", 1)
    got = run([n, x], T.polygamma(n[:, None], x[None, :]), [n_values, x_values])
    check(got, sp.polygamma(n_values[:, None], x_values[None, :]), "float64")


def test_polygamma_0_and_1_are_psi_and_tri_gamma():
    points = f64([0.3, 1.7, 6.0])
    x = var("x", 1)
    p0, psi, p1, tri = run([x], [T.polygamma(0, x), T.psi(x), T.polygamma(1, x), T.tri_gamma(x)], [points])
    np.testing.assert_allclose(p0, psi, rtol=1e-14)
    np.testing.assert_allclose(p1, tri, rtol=1e-14)


# ---- tensor.inplace ----

INPLACE = {"erfcx": 1, "gamma": 1, "gammaln": 1, "psi": 1, "tri_gamma": 1, "chi2sf": 2, "j0": 1, "j1": 1,
           "jv": 2, "i0": 1, "i1": 1, "iv": 2}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_variants_give_the_values_of_the_plain_functions(name):
    fn = getattr(inplace, name + "_inplace")
    assert callable(fn)
    if INPLACE[name] == 1:
        values = [f64([0.3, 1.2, 2.5, 6.0])]
    else:
        values = [f64([0.5, 1.0, 3.5, 6.0]), f64([1.0, 2.0, 3.0, 4.5])]
    xs = [var(f"x{i}", 1) for i in range(len(values))]
    # Separate functions: Theano's in-place ops overwrite their first input, so nothing else should read it.
    got_inplace = run(xs, fn(*xs), values)
    got_plain = run(xs, getattr(T, name)(*xs), values)
    assert got_inplace.dtype == got_plain.dtype
    np.testing.assert_allclose(got_inplace, got_plain, rtol=1e-14, atol=1e-300)


# ---- Gradients ----

def const(values):
    return T.constant(f64(values))


_KC = [0.5, 1.5, 3.0, 7.0]
_XK = [0.4, 1.2, 2.5, 6.0]
_VC = [0.5, 1.0, 2.5, 4.0]
_XV = [0.5, 1.5, 3.0, 7.0]

def function_of(fn):
    """fn, or the function of hypatia.tensor it names (looked up when the test runs, so that a missing function
    fails its tests and not the collection of the file)."""
    return getattr(T, fn) if isinstance(fn, str) else fn


# (id, fn of one float64 input or its name in hypatia.tensor, the point)
GRAD_CASES = [
    ("gamma", "gamma", [-1.5, 0.7, 2.5, 3.2]),
    ("gammaln", "gammaln", [-1.5, 0.3, 1.7, 4.0, 10.0]),
    ("psi", "psi", [-0.5, 0.6, 1.7, 4.0]),
    ("tri_gamma", "tri_gamma", [0.6, 1.7, 4.0]),
    ("polygamma0", lambda x: T.polygamma(0, x), [0.6, 1.7, 4.0]),
    ("polygamma2", lambda x: T.polygamma(2, x), [0.6, 1.7, 4.0]),
    ("gammainc", lambda x: T.gammainc(const(_KC), x), _XK),
    ("gammaincc", lambda x: T.gammaincc(const(_KC), x), _XK),
    ("gammau", lambda x: T.gammau(const(_KC), x), _XK),
    ("gammal", lambda x: T.gammal(const(_KC), x), _XK),
    ("chi2sf", lambda x: T.chi2sf(x, const([1.0, 2.0, 5.0, 10.0])), [0.5, 1.5, 3.0, 8.0]),
    ("erfinv", "erfinv", [-0.9, -0.3, 0.2, 0.7]),
    ("erfcinv", "erfcinv", [0.1, 0.6, 1.3, 1.8]),
    ("erfcx", "erfcx", [-1.5, -0.2, 0.5, 3.0, 30.0]),
    ("i0", "i0", [-2.0, 0.5, 1.5, 6.0]),
    ("i1", "i1", [-2.0, 0.5, 1.5, 6.0]),
    ("iv", lambda x: T.iv(const(_VC), x), _XV),
    ("jv", lambda x: T.jv(const(_VC), x), _XV),
    ("j0", "j0", [0.5, 1.5, 3.0, 7.0]),
    ("j1", "j1", [0.5, 1.5, 3.0, 7.0]),
    ("log1mexp", "log1mexp", [-3.0, -1.0, -0.3, -0.01]),
    ("fused", lambda x: T.gammaln(x) + T.psi(x) * T.exp(-x) + T.erfcx(x), [0.4, 1.3, 2.7, 5.0]),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_verify_grad(case):
    _, fn, point = case
    theano.gradient.verify_grad(function_of(fn), [f64(point)], rng=np.random.RandomState(sum(map(ord, case[0]))))


# (id, fn, point, d fn / dx by SciPy)
def _gamma_pdf_like(k, x):
    return np.exp((k - 1) * np.log(x) - x)


CLOSED_FORMS = [
    ("gamma", "gamma", [-1.5, 0.7, 2.5], lambda x: sp.gamma(x) * sp.psi(x)),
    ("gammaln", "gammaln", [-1.5, 0.3, 4.0], sp.psi),
    ("psi", "psi", [-0.5, 0.6, 4.0], lambda x: sp.polygamma(1, x)),
    ("tri_gamma", "tri_gamma", [0.6, 4.0], lambda x: sp.polygamma(2, x)),
    ("polygamma3", lambda x: T.polygamma(3, x), [0.6, 4.0], lambda x: sp.polygamma(4, x)),
    ("gammainc", lambda x: T.gammainc(const(_KC), x), _XK,
     lambda x: _gamma_pdf_like(f64(_KC), x) / sp.gamma(_KC)),
    ("gammaincc", lambda x: T.gammaincc(const(_KC), x), _XK,
     lambda x: -_gamma_pdf_like(f64(_KC), x) / sp.gamma(_KC)),
    ("gammau", lambda x: T.gammau(const(_KC), x), _XK, lambda x: -_gamma_pdf_like(f64(_KC), x)),
    ("gammal", lambda x: T.gammal(const(_KC), x), _XK, lambda x: _gamma_pdf_like(f64(_KC), x)),
    ("chi2sf", lambda x: T.chi2sf(x, const([1.0, 2.0, 5.0, 10.0])), [0.5, 1.5, 3.0, 8.0],
     lambda x: -scipy.stats.chi2.pdf(x, [1.0, 2.0, 5.0, 10.0])),
    ("erfinv", "erfinv", [-0.9, 0.2, 0.7], lambda x: np.sqrt(np.pi) / 2 * np.exp(sp.erfinv(x) ** 2)),
    ("erfcinv", "erfcinv", [0.1, 1.3, 1.8], lambda x: -np.sqrt(np.pi) / 2 * np.exp(sp.erfcinv(x) ** 2)),
    ("erfcx", "erfcx", [-1.5, 0.5, 30.0], lambda x: 2 * x * sp.erfcx(x) - 2 / np.sqrt(np.pi)),
    ("i0", "i0", [-2.0, 0.0, 1.5, 6.0], sp.i1),
    ("i1", "i1", [-2.0, 1.5, 6.0], lambda x: sp.i0(x) - sp.i1(x) / x),
    ("iv", lambda x: T.iv(const(_VC), x), _XV, lambda x: (sp.iv(f64(_VC) - 1, x) + sp.iv(f64(_VC) + 1, x)) / 2),
    ("jv", lambda x: T.jv(const(_VC), x), _XV, lambda x: (sp.jv(f64(_VC) - 1, x) - sp.jv(f64(_VC) + 1, x)) / 2),
    ("j0", "j0", [0.0, 1.5, 7.0], lambda x: -sp.j1(x)),
    ("j1", "j1", [1.5, 7.0], lambda x: sp.j0(x) - sp.j1(x) / x),
    ("log1mexp", "log1mexp", [-3.0, -0.3, -1e-6], lambda x: -1 / np.expm1(-x)),
]


@pytest.mark.parametrize("case", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_gradients_match_their_closed_forms(case):
    _, fn, point, derivative = case
    x = var("x", 1)
    got = run([x], T.grad(T.sum(function_of(fn)(x)), x), [f64(point)])
    check(got, derivative(f64(point)), "float64", RTOL64_LOOSE, atol64=1e-14)


def test_gradients_of_i1_and_j1_at_zero_are_one_half():
    x = var("x", 1)
    gi1, gj1, gi0, gj0 = run([x], [T.grad(T.sum(T.i1(x)), x), T.grad(T.sum(T.j1(x)), x),
                                   T.grad(T.sum(T.i0(x)), x), T.grad(T.sum(T.j0(x)), x)], [f64([0.0])])
    check(gi1, [0.5], "float64")
    check(gj1, [0.5], "float64")
    check(gi0, [0.0], "float64", atol64=1e-300)
    check(gj0, [0.0], "float64", atol64=1e-300)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_of_gammainc_with_respect_to_k_is_not_implemented(mode):
    """Theano's grad_not_implemented: the gradient graph builds, and running it raises."""
    k, x = var("k", 1), var("x", 1)
    g = T.grad(T.sum(T.gammainc(k, x)), k)
    f = theano.function([k, x], g, mode=mode, on_unused_input="ignore")  # the stand-in may not read x
    with pytest.raises(ValueError, match="gammainc"):
        f(f64([1.5, 2.0]), f64([0.5, 3.0]))


def test_gradient_of_gammainc_with_respect_to_x_alone_still_runs():
    k_values, x_values = f64([1.5, 2.0]), f64([0.5, 3.0])
    k, x = var("k", 1), var("x", 1)
    got = run([k, x], T.grad(T.sum(T.gammainc(k, x)), x), [k_values, x_values])
    check(got, _gamma_pdf_like(k_values, x_values) / sp.gamma(k_values), "float64", RTOL64_LOOSE)


# ---- Fusion into generated kernels ----

def _mixed(x):
    return T.gammaln(x) + T.psi(x) * T.exp(-x) + T.erfcx(x)


def _mixed_ref(x):
    return sp.gammaln(x) + sp.psi(x) * np.exp(-x) + sp.erfcx(x)


@pytest.mark.parametrize("dtype", FLOATS)
def test_fused_expression_matches_scipy(dtype):
    values, exact = as_dtype(np.linspace(0.2, 12.0, 37), dtype)
    x = var("x", 1, dtype)
    check(run([x], _mixed(x), [values]), _mixed_ref(exact), dtype, atol32=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
def test_fused_expression_of_two_broadcast_inputs(dtype):
    k_values, k_exact = as_dtype([0.5, 1.0, 2.5, 6.0], dtype)
    x_values, x_exact = as_dtype([0.1, 0.7, 2.0, 4.5, 9.0], dtype)
    k, x = var("k", 1, dtype), var("x", 1, dtype)
    kc, xr = k[:, None], x[None, :]
    out = [T.gammainc(kc, xr),
           T.gammainc(kc, xr) * T.exp(-xr) + T.j0(xr) * T.i0(kc) - T.log1mexp(-kc - xr),
           T.chi2sf(2 * xr, 2 * kc) + T.jv(kc, xr) * T.erfinv(kc / 10 - xr / 20)]
    got = run([k, x], out, [k_values, x_values])
    ke, xe = k_exact[:, None], x_exact[None, :]
    check(got[0], sp.gammainc(ke, xe), dtype, RTOL64_LOOSE)
    check(got[1], sp.gammainc(ke, xe) * np.exp(-xe) + sp.j0(xe) * sp.i0(ke) - log1mexp_ref(-ke - xe), dtype,
          RTOL64_LOOSE, atol64=1e-13, atol32=1e-6)
    check(got[2], scipy.stats.chi2.sf(2 * xe, 2 * ke) + sp.jv(ke, xe) * sp.erfinv(ke / 10 - xe / 20), dtype,
          RTOL64_LOOSE, atol64=1e-13, atol32=1e-5)
