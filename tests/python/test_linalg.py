"""Linear algebra (tensor.nlinalg, tensor.slinalg and the NumPy-style names of tensor.linalg) against NumPy's
and SciPy's results on the same values (numpy.linalg, scipy.linalg) or values worked out by hand: inverses,
determinants, eigen- and singular value decompositions, QR, least squares, norms, Cholesky, the solvers and the
matrix exponential, in float64 and float32 (results compared with rtol 1e-4), integer inputs upcast to float64,
leading batch dimensions; gradients by verify_grad (central differences, float64), forward mode (Rop) against
finite differences of NumPy's functions along a direction; errors (singular and non-positive-definite matrices,
non-square and vector inputs) name the op and the user's line and leave the function usable. Decompositions
defined up to signs (eigenvectors, singular vectors, QR) are compared after aligning the signs, or through
properties that do not depend on them. Each graph runs in FAST_RUN and in FAST_COMPILE and the two must agree."""

import numpy as np
import pytest
import scipy.linalg

import hypatia as theano
from every_mode import expect_error, here, MODES, run_every_mode
import hypatia.tensor as T
from hypatia.tensor import linalg, nlinalg, slinalg

FLOATS = ("float64", "float32")
THIS_FILE = "test_linalg.py"

# On OpenCL the ops without device kernels run on the host; the warning saying so is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:.*has no kernel on this device")


def low_precision(dtype):
    return np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.complex64))


def tolerances(dtype):
    return dict(rtol=1e-4, atol=1e-4) if low_precision(dtype) else dict(rtol=1e-9, atol=1e-10)


def run(inputs, outputs, values, **kwargs):
    """Compiles the graph in every mode, checks that the modes agree, returns the FAST_RUN results."""
    return run_every_mode(inputs, outputs, values, lambda a: tolerances(a.dtype), **kwargs)


def check(actual, expected, dtype=None):
    """actual against expected (computed in float64) within the tolerances of actual's dtype; when dtype is given,
    actual must have it."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if dtype is not None:
        assert actual.dtype == np.dtype(dtype), (actual.dtype, dtype)
    np.testing.assert_allclose(actual, expected, **tolerances(actual.dtype))


def var(name, ndim, dtype="float64"):
    return T.tensor(name, dtype=dtype, shape=(None,) * ndim)


def f64(x):
    return np.asarray(x, dtype=np.float64)


def general(rng, *shape, dtype="float64"):
    """Square matrices (..., n, n) far from singular: standard normal entries plus n + 1 on the diagonal."""
    n = shape[-1]
    return (rng.standard_normal(shape) + (n + 1) * np.eye(n)).astype(dtype)


def spd(rng, *shape, dtype="float64"):
    """Symmetric positive definite matrices (..., n, n): a a^T + n I, exactly symmetric."""
    n = shape[-1]
    a = rng.standard_normal(shape)
    s = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    return ((s + np.swapaxes(s, -1, -2)) / 2).astype(dtype)


def indefinite(rng, n):
    """A symmetric n x n matrix (n <= 6) with eigenvalues of both signs, none near zero."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    s = (q * np.array([3.0, -2.0, 1.5, -4.0, 2.5, -1.25])[:n]) @ q.T
    return (s + s.T) / 2


def triangular(rng, n, lower=True):
    """A well-conditioned triangular matrix: off-diagonal entries 0.5 N(0, 1), the diagonal in [2, 3)."""
    t = 0.5 * rng.standard_normal((n, n))
    t[np.diag_indices(n)] = 2 + rng.random_sample(n)
    return np.tril(t) if lower else np.triu(t)


def keep_triangle(x, lower, rng):
    """x's lower (or upper) triangle with the diagonal, and large random values in the other triangle: an op that
    reads only that triangle must give the same result as for x."""
    n = x.shape[-1]
    mask = np.tri(n, dtype=bool) if lower else np.tri(n, dtype=bool).T
    noise = 100 + 10 * rng.standard_normal(x.shape)
    return np.where(mask, x, noise).astype(x.dtype)


def align_columns(got, expected):
    """got with each column (along the second-to-last axis) multiplied by +-1 to point the way expected's does."""
    return got * np.sign(np.sum(got * expected, axis=-2, keepdims=True)).astype(got.dtype)


def match(got, expected):
    """Positions in got of expected's entries (eigenvalues in any order): each expected value takes the nearest
    value of got not taken yet."""
    left, order = list(range(len(got))), []
    for e in expected:
        k = min(left, key=lambda i: abs(got[i] - e))
        left.remove(k)
        order.append(k)
    return np.array(order, dtype=int)


def outputs_of(out):
    return list(out) if isinstance(out, (list, tuple)) else out


def error_when_built_or_called(exc, build, inputs, values):
    """The message of exc raised by build() (when the static types already tell) or else by the compiled
    function called with values."""
    try:
        out = build()
    except exc as error:
        return str(error)
    f = theano.function(inputs, outputs_of(out), on_unused_input="ignore")
    with pytest.raises(exc) as error:
        f(*values)
    return str(error.value)


def directional_difference(fn, x, v, eps=1e-6):
    """Central difference of the NumPy function fn at x along v."""
    return (fn(x + eps * v) - fn(x - eps * v)) / (2 * eps)


# ---------------------------------------------------------------------------------------------------------
# nlinalg: inverse, determinants
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", [1, 3, 6])
def test_matrix_inverse(n, dtype):
    rng = np.random.RandomState(n)
    xv = general(rng, n, n, dtype=dtype)
    x = var("x", 2, dtype)
    got = run([x], nlinalg.matrix_inverse(x), [xv])
    check(got, np.linalg.inv(f64(xv)), dtype)
    check((f64(xv) @ got).astype(got.dtype), np.eye(n))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(5, 3, 3), (2, 3, 4, 4)])
def test_matrix_inverse_batch(shape, dtype):
    rng = np.random.RandomState(len(shape))
    xv = general(rng, *shape, dtype=dtype)
    x = var("x", len(shape), dtype)
    check(run([x], nlinalg.matrix_inverse(x), [xv]), np.linalg.inv(f64(xv)), dtype)


def test_matrix_inverse_by_hand():
    x = var("x", 2)
    got = run([x], nlinalg.matrix_inverse(x), [np.array([[4.0, 7.0], [2.0, 6.0]])])
    check(got, np.array([[0.6, -0.7], [-0.2, 0.4]]), np.float64)


@pytest.mark.parametrize("mode", MODES)
def test_matrix_inverse_of_a_singular_matrix_raises(mode):
    x = var("x", 2)
    where = here(1)
    f = theano.function([x], nlinalg.matrix_inverse(x), mode=mode)
    expect_error(lambda: f(np.ones((3, 3))), ValueError, "matrix_inverse", "singular", where=where)
    expect_error(lambda: f(np.zeros((2, 2))), ValueError, "matrix_inverse", "singular")
    # The failed calls leave the function usable.
    good = general(np.random.RandomState(7), 3, 3)
    check(f(good), np.linalg.inv(good))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", [1, 2, 5])
def test_det(n, dtype):
    rng = np.random.RandomState(10 + n)
    xv = general(rng, n, n, dtype=dtype)
    x = var("x", 2, dtype)
    got = run([x], nlinalg.det(x), [xv])
    check(got, np.linalg.det(f64(xv)), dtype)
    if n > 1:  # two rows swapped: the sign flips
        swapped = xv[[1, 0] + list(range(2, n))]
        check(run([x], nlinalg.det(x), [swapped]), -np.linalg.det(f64(xv)), dtype)


def test_det_by_hand_and_of_singular_matrices():
    x = var("x", 2)
    check(run([x], nlinalg.det(x), [np.array([[3.0, 8.0], [4.0, 6.0]])]), np.array(-14.0), np.float64)
    check(run([x], nlinalg.det(x), [np.array([[2.0, 0, 0], [0, 3.0, 0], [0, 0, 0.5]])]), np.array(3.0))
    # Singular matrices: zero, not an error.
    check(run([x], nlinalg.det(x), [np.ones((3, 3))]), np.array(0.0))
    check(run([x], nlinalg.det(x), [np.array([[1.0, 2.0], [2.0, 4.0]])]), np.array(0.0))


@pytest.mark.parametrize("dtype", FLOATS)
def test_det_batch(dtype):
    rng = np.random.RandomState(13)
    xv = rng.standard_normal((2, 3, 4, 4)).astype(dtype)
    xv[1, 2] = 1.0  # one singular matrix in the batch
    x = var("x", 4, dtype)
    got = run([x], nlinalg.det(x), [xv])
    check(got, np.linalg.det(f64(xv)), dtype)
    assert got[1, 2] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", [1, 4])
def test_slogdet(n, dtype):
    rng = np.random.RandomState(20 + n)
    x = var("x", 2, dtype)
    positive = general(rng, n, n, dtype=dtype)
    negative = -positive if n == 1 else positive[[1, 0] + list(range(2, n))]  # two rows swapped
    for xv in (positive, negative):
        sign, logabsdet = run([x], list(nlinalg.slogdet(x)), [xv])
        expected_sign, expected_log = np.linalg.slogdet(f64(xv))
        check(sign, expected_sign, dtype)
        check(logabsdet, expected_log, dtype)


def test_slogdet_of_singular_and_batched_matrices():
    x = var("x", 2)
    for singular in (np.ones((3, 3)), np.array([[1.0, 2.0], [2.0, 4.0]]), np.zeros((2, 2))):
        sign, logabsdet = run([x], list(nlinalg.slogdet(x)), [singular])
        assert sign == 0.0 and logabsdet == -np.inf, (sign, logabsdet)
    rng = np.random.RandomState(24)
    xb = var("xb", 4)
    xv = rng.standard_normal((2, 3, 4, 4))
    sign, logabsdet = run([xb], list(nlinalg.slogdet(xb)), [xv])
    expected_sign, expected_log = np.linalg.slogdet(xv)
    check(sign, expected_sign, np.float64)
    check(logabsdet, expected_log, np.float64)
    # A large determinant: the logarithm stays finite where det overflows.
    big = 1e30 * np.eye(12)
    sign, logabsdet = run([x], list(nlinalg.slogdet(x)), [big])
    check(sign, np.array(1.0))
    check(logabsdet, np.array(12 * 30 * np.log(10.0)))


# ---------------------------------------------------------------------------------------------------------
# nlinalg: eigen- and singular value decompositions, QR
# ---------------------------------------------------------------------------------------------------------

def check_eig(xv, w, v, dtype):
    """w, v: Hypatia's eig of xv. Complex of the input's precision; the eigenvalues NumPy's in some order; the
    columns of v unit eigenvectors."""
    complex_dtype = np.complex64 if np.dtype(dtype) == np.float32 else np.complex128
    n = xv.shape[-1]
    assert w.dtype == complex_dtype and v.dtype == complex_dtype, (w.dtype, v.dtype)
    assert w.shape == (n,) and v.shape == (n, n), (w.shape, v.shape)
    x = f64(xv)
    expected = np.linalg.eigvals(x)
    check(w[match(w, expected)], expected.astype(np.complex128))
    tol = tolerances(dtype)["atol"] * max(1.0, np.abs(x).max())
    w, v = w.astype(np.complex128), v.astype(np.complex128)
    np.testing.assert_allclose(x @ v, v * w, rtol=0, atol=tol)
    np.testing.assert_allclose(np.linalg.norm(v, axis=0), np.ones(n), **tolerances(dtype))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", [1, 3, 5])
def test_eig(n, dtype):
    rng = np.random.RandomState(30 + n)
    xv = rng.standard_normal((n, n)).astype(dtype)
    x = var("x", 2, dtype)
    w, v = run([x], list(nlinalg.eig(x)), [xv])
    check_eig(xv, w, v, dtype)


def test_eig_by_hand():
    x = var("x", 2)
    # A rotation by 90 degrees: eigenvalues +-i.
    w, v = run([x], list(nlinalg.eig(x)), [np.array([[0.0, -1.0], [1.0, 0.0]])])
    check(np.sort_complex(w), np.array([-1j, 1j]), np.complex128)
    check_eig(np.array([[0.0, -1.0], [1.0, 0.0]]), w, v, "float64")
    # Triangular: the diagonal.
    upper = np.array([[2.0, 1.0, 3.0], [0.0, -1.0, 4.0], [0.0, 0.0, 5.0]])
    w, v = run([x], list(nlinalg.eig(x)), [upper])
    check(np.sort_complex(w), np.array([-1.0, 2.0, 5.0], dtype=np.complex128))
    check_eig(upper, w, v, "float64")


def test_eig_of_integers_is_complex128():
    x = var("x", 2, "int64")
    xv = np.array([[2, 1], [1, 2]], dtype=np.int64)
    w, v = run([x], list(nlinalg.eig(x)), [xv])
    check_eig(xv, w, v, "float64")
    check(np.sort_complex(w), np.array([1.0, 3.0], dtype=np.complex128), np.complex128)


@pytest.mark.parametrize("n, UPLO, dtype", [(n, uplo, "float64") for n in (1, 4) for uplo in ("L", "U", None)] +
                         [(4, "L", "float32"), (4, "U", "float32")])
def test_eigh(n, UPLO, dtype):
    """The input is not symmetric: only the UPLO triangle counts (L when not given), as numpy.linalg.eigh."""
    rng = np.random.RandomState(40 + n)
    xv = rng.standard_normal((n, n)).astype(dtype)
    x = var("x", 2, dtype)
    out = nlinalg.eigh(x) if UPLO is None else nlinalg.eigh(x, UPLO=UPLO)
    w, v = run([x], list(out), [xv])
    expected_w, expected_v = np.linalg.eigh(f64(xv), UPLO or "L")
    check(w, expected_w, dtype)
    assert np.all(np.diff(w) >= 0), w
    check(align_columns(v, expected_v), expected_v, dtype)


def test_eigh_by_hand():
    x = var("x", 2)
    w, v = run([x], list(nlinalg.eigh(x)), [np.array([[2.0, 1.0], [1.0, 2.0]])])
    check(w, np.array([1.0, 3.0]), np.float64)
    s = np.sqrt(0.5)
    check(align_columns(v, np.array([[s, s], [-s, s]])), np.array([[s, s], [-s, s]]))


SVD_SHAPES = [(4, 4), (5, 3), (3, 5), (2, 3, 4, 3)]


@pytest.mark.parametrize("shape, full_matrices, dtype",
                         [(shape, full, "float64") for shape in SVD_SHAPES for full in (True, False)] +
                         [((5, 3), True, "float32"), ((3, 5), False, "float32"), ((2, 3, 4, 3), False, "float32")],
                         ids=str)
def test_svd(shape, full_matrices, dtype):
    rng = np.random.RandomState(sum(shape))
    xv = rng.standard_normal(shape).astype(dtype)
    x = var("x", len(shape), dtype)
    u, s, vt = run([x], list(nlinalg.svd(x, full_matrices=full_matrices)), [xv])
    expected_u, expected_s, expected_vt = np.linalg.svd(f64(xv), full_matrices=full_matrices)
    assert (u.shape, vt.shape) == (expected_u.shape, expected_vt.shape), (u.shape, vt.shape)
    assert u.dtype == vt.dtype == np.dtype(dtype)
    check(s, expected_s, dtype)
    # The first min(m, n) singular vectors: NumPy's, up to one sign per pair.
    k = min(shape[-2:])
    signs = np.sign(np.sum(u[..., :k] * expected_u[..., :k], axis=-2)).astype(u.dtype)
    check(u[..., :k] * signs[..., None, :], expected_u[..., :k])
    check(vt[..., :k, :] * signs[..., :, None], expected_vt[..., :k, :])
    # Orthonormal (the completed bases included), and the product gives x back.
    check(np.swapaxes(u, -1, -2) @ u, np.broadcast_to(np.eye(u.shape[-1]), u.shape[:-2] + (u.shape[-1],) * 2))
    check(vt @ np.swapaxes(vt, -1, -2), np.broadcast_to(np.eye(vt.shape[-2]), vt.shape[:-2] + (vt.shape[-2],) * 2))
    check((u[..., :k] * s[..., None, :]) @ vt[..., :k, :], f64(xv))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 3, 3, 4)], ids=str)
def test_svd_without_vectors(shape, dtype):
    rng = np.random.RandomState(50 + sum(shape))
    xv = rng.standard_normal(shape).astype(dtype)
    x = var("x", len(shape), dtype)
    check(run([x], nlinalg.svd(x, compute_uv=False), [xv]), np.linalg.svd(f64(xv), compute_uv=False), dtype)


def test_svd_defaults_and_by_hand():
    x = var("x", 2)
    xv = np.array([[3.0, 0.0], [0.0, -4.0], [0.0, 0.0]])
    u, s, vt = run([x], list(nlinalg.svd(x)), [xv])  # full_matrices=True
    assert u.shape == (3, 3) and vt.shape == (2, 2)
    check(s, np.array([4.0, 3.0]))
    check((u[:, :2] * s) @ vt, xv)
    # A rank-one matrix: one nonzero singular value.
    check(run([x], nlinalg.svd(x, compute_uv=False), [np.outer([1.0, 2.0, 2.0], [3.0, 4.0])]),
          np.array([15.0, 0.0]))


QR_SHAPES = [(5, 3), (4, 4), (3, 5)]


@pytest.mark.parametrize("shape, mode, dtype",
                         [(shape, mode, "float64") for shape in QR_SHAPES for mode in ("reduced", "complete", "r")] +
                         [((5, 3), "reduced", "float32"), ((3, 5), "complete", "float32"), ((4, 4), "r", "float32")],
                         ids=str)
def test_qr(shape, mode, dtype):
    """numpy.linalg.qr's shapes and values; the factorization is LAPACK's (geqrf) as NumPy's, compared after
    aligning the signs of the rows of r (and the columns of q) in case the signs of the reflections differ."""
    rng = np.random.RandomState(60 + sum(shape))
    m, n = shape
    k = min(m, n)
    xv = rng.standard_normal(shape).astype(dtype)
    x = var("x", 2, dtype)
    if mode == "r":
        r = run([x], nlinalg.qr(x, mode="r"), [xv])
        q, expected_q, expected_r = None, None, np.linalg.qr(f64(xv), mode="r")
    else:
        q, r = run([x], list(nlinalg.qr(x, mode=mode)), [xv])
        expected_q, expected_r = np.linalg.qr(f64(xv), mode=mode)
        assert q.shape == expected_q.shape and q.dtype == np.dtype(dtype), (q.shape, q.dtype)
    assert r.shape == expected_r.shape and r.dtype == np.dtype(dtype), (r.shape, r.dtype)
    assert np.all(np.tril(r, -1) == 0), r
    signs = (np.sign(np.diag(r)[:k]) * np.sign(np.diag(expected_r)[:k])).astype(r.dtype)
    aligned_r = r.copy()
    aligned_r[:k] *= signs[:, None]
    check(aligned_r, expected_r)
    if q is not None:
        check(q[:, :k] * signs, expected_q[:, :k])
        check(q.T @ q, np.eye(q.shape[1]))
        check(q @ r, f64(xv))


def test_qr_default_mode_and_by_hand():
    x = var("x", 2)
    xv = np.array([[3.0, 1.0], [4.0, 2.0], [0.0, 5.0]])
    q, r = run([x], list(nlinalg.qr(x)), [xv])  # mode='reduced'
    assert q.shape == (3, 2) and r.shape == (2, 2)
    check(np.abs(r[0, 0]), np.array(5.0))
    check(q @ r, xv)
    check(q.T @ q, np.eye(2))


# ---------------------------------------------------------------------------------------------------------
# nlinalg: pseudo-inverse, least squares, trace, matrix_dot
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape, dtype", [((4, 4), "float64"), ((5, 3), "float64"), ((3, 5), "float64"),
                                          ((5, 3), "float32")], ids=str)
def test_pinv(shape, dtype):
    rng = np.random.RandomState(70 + sum(shape))
    xv = rng.standard_normal(shape).astype(dtype)
    x = var("x", 2, dtype)
    check(run([x], nlinalg.pinv(x), [xv]), np.linalg.pinv(f64(xv)), dtype)


def with_singular_values(rng, m, n, values):
    """An m x n matrix with the given singular values (min(m, n) of them) and random singular vectors."""
    u, _ = np.linalg.qr(rng.standard_normal((m, m)))
    v, _ = np.linalg.qr(rng.standard_normal((n, n)))
    k = len(values)
    return (u[:, :k] * np.asarray(values, dtype=np.float64)) @ v[:, :k].T


def test_pinv_of_a_rank_deficient_matrix():
    rng = np.random.RandomState(75)
    xv = rng.standard_normal((5, 2)) @ rng.standard_normal((2, 4))  # rank 2
    x = var("x", 2)
    expected = np.linalg.pinv(xv, rcond=1e-8)
    got = run([x], nlinalg.pinv(x, rcond=1e-8), [xv])
    check(got, expected, np.float64)
    check(xv @ got @ xv, xv)
    # rcond cuts off singular values below rcond times the largest: 1e-6 goes at 1e-4, stays at the default.
    small = with_singular_values(rng, 5, 3, [3.0, 1.0, 1e-6])
    check(run([x], nlinalg.pinv(x, rcond=1e-4), [small]), np.linalg.pinv(small, rcond=1e-4))
    kept = run([x], nlinalg.pinv(x), [small])
    np.testing.assert_allclose(kept, np.linalg.pinv(small), rtol=1e-6, atol=1e-6)
    assert np.abs(kept).max() > 1e5
    # A zero matrix: zeros of the transposed shape.
    check(run([x], nlinalg.pinv(x), [np.zeros((2, 3))]), np.zeros((3, 2)))


LSTSQ_CASES = [
    # (id, a's shape, b's shape, a's singular values or None for random, rcond)
    ("tall-vector", (6, 3), (6,), None, -1),
    ("tall-matrix", (6, 3), (6, 2), None, -1),
    ("square", (4, 4), (4, 2), None, -1),
    ("wide", (3, 5), (3,), None, -1),
    ("rank-deficient", (6, 4), (6, 2), [5.0, 2.0, 0.0, 0.0], 1e-10),
    ("cut-off-by-rcond", (6, 3), (6,), [3.0, 1.0, 1e-6], 1e-4),
]


@pytest.mark.parametrize("case, dtype", [pytest.param(c, "float64", id=c[0]) for c in LSTSQ_CASES] +
                         [pytest.param(c, "float32", id=c[0] + "-float32") for c in LSTSQ_CASES[1:4]])
def test_lstsq(case, dtype):
    """[x, residuals, rank, s] as numpy.linalg.lstsq: residuals, the squared 2-norms of b - a x per column, only
    for a of full column rank with more rows than columns, else empty."""
    _, a_shape, b_shape, singular_values, rcond = case
    rng = np.random.RandomState(80 + sum(a_shape) + len(b_shape))
    if singular_values is None:
        av = rng.standard_normal(a_shape)
    else:
        av = with_singular_values(rng, *a_shape, singular_values)
    av, bv = av.astype(dtype), rng.standard_normal(b_shape).astype(dtype)
    a, b = var("a", 2, dtype), var("b", len(b_shape), dtype)
    x, residuals, got_rank, s = run([a, b], list(nlinalg.lstsq(a, b, rcond)), [av, bv])
    expected_x, expected_residuals, expected_rank, expected_s = np.linalg.lstsq(f64(av), f64(bv), rcond=rcond)
    check(x, expected_x, dtype)
    check(residuals, expected_residuals, dtype)
    assert np.asarray(got_rank).shape == () and int(got_rank) == expected_rank, (got_rank, expected_rank)
    check(s, expected_s, dtype)


def test_lstsq_default_rcond_and_exact_fit():
    a, b = var("a", 2), var("b", 1)
    av = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]])
    bv = np.array([1.0, 3.0, 5.0])  # on the line 1 + 2 t
    x, residuals, rank, s = run([a, b], list(nlinalg.lstsq(a, b)), [av, bv])
    check(x, np.array([1.0, 2.0]))
    assert residuals.shape == (1,) and abs(residuals[0]) < 1e-12, residuals
    assert int(rank) == 2
    check(s, np.linalg.svd(av, compute_uv=False))


@pytest.mark.parametrize("shape, dtype", [((4, 4), "float64"), ((3, 5), "float64"), ((5, 2), "float64"),
                                          ((4, 4), "float32")], ids=str)
def test_trace(shape, dtype):
    rng = np.random.RandomState(90 + sum(shape))
    xv = rng.standard_normal(shape).astype(dtype)
    x = var("x", 2, dtype)
    check(run([x], nlinalg.trace(x), [xv]), np.trace(f64(xv)), dtype)


def test_matrix_dot():
    rng = np.random.RandomState(95)
    av, bv, cv, vv = (rng.standard_normal(s) for s in ((2, 3), (3, 4), (4, 2), (4,)))
    a, b, c, v = var("a", 2), var("b", 2), var("c", 2), var("v", 1)
    check(run([a, b, c], nlinalg.matrix_dot(a, b, c), [av, bv, cv]), av @ bv @ cv, np.float64)
    check(run([a, b, v], nlinalg.matrix_dot(a, b, v), [av, bv, vv]), av @ bv @ vv, np.float64)
    check(run([a, b], nlinalg.matrix_dot(a, b), [av, bv]), av @ bv, np.float64)


# ---------------------------------------------------------------------------------------------------------
# matrix_power, norm, tensorinv, tensorsolve (each in its own tests)
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("n, dtype", [(n, "float64") for n in (0, 1, 2, 3, 5, -1, -2)] +
                         [(3, "float32"), (-2, "float32")])
def test_matrix_power(n, dtype):
    rng = np.random.RandomState(100)
    xv = (general(rng, 4, 4) / 5).astype(dtype)  # eigenvalues near 1: the powers stay moderate
    x = var("x", 2, dtype)
    got = run([x], nlinalg.matrix_power(x, n), [xv], on_unused_input="ignore")
    check(got, np.linalg.matrix_power(f64(xv), n), dtype)


def test_matrix_power_by_hand():
    x = var("x", 2)
    fib = np.array([[1.0, 1.0], [1.0, 0.0]])
    check(run([x], nlinalg.matrix_power(x, 10), [fib]), np.array([[89.0, 55.0], [55.0, 34.0]]))
    check(run([x], nlinalg.matrix_power(x, -1), [fib]), np.array([[0.0, 1.0], [1.0, -1.0]]))
    check(run([x], nlinalg.matrix_power(x, 0), [fib], on_unused_input="ignore"), np.eye(2))


def numpy_ord(ord):
    """Theano's 'inf' and '-inf' as NumPy's np.inf and -np.inf."""
    return {"inf": np.inf, "-inf": -np.inf}.get(ord, ord) if isinstance(ord, str) else ord


VECTOR_ORDS = [None, "inf", "-inf", 0, 1, 2, 3, np.inf, -np.inf]
MATRIX_ORDS = [None, "fro", "inf", "-inf", 1, -1, "nuc", 2, -2, np.inf, -np.inf]


@pytest.mark.parametrize("ord, dtype", [(o, "float64") for o in VECTOR_ORDS] + [(3, "float32"), ("-inf", "float32")],
                         ids=repr)
def test_norm_vector(ord, dtype):
    xv = np.array([0.5, -2.0, 1.25, 1.5, -0.25, 3.0], dtype=dtype)
    if ord == 0:
        xv[[1, 4]] = 0  # 4 nonzero entries
    x = var("x", 1, dtype)
    got = run([x], nlinalg.norm(x, ord), [xv])
    expected = np.linalg.norm(f64(xv), numpy_ord(ord))
    assert got.shape == (), got.shape
    if ord == 0:
        assert float(got) == expected == 4.0, got
    else:
        check(got, expected, dtype)


@pytest.mark.parametrize("ord, dtype", [(o, "float64") for o in MATRIX_ORDS] + [("fro", "float32"), (2, "float32"),
                                                                            ("inf", "float32")], ids=repr)
def test_norm_matrix(ord, dtype):
    rng = np.random.RandomState(110)
    xv = rng.standard_normal((4, 3)).astype(dtype)
    x = var("x", 2, dtype)
    got = run([x], nlinalg.norm(x, ord), [xv])
    check(got, np.linalg.norm(f64(xv), numpy_ord(ord)), dtype)


def test_norm_by_hand():
    v, m = var("v", 1), var("m", 2)
    check(run([v], nlinalg.norm(v, None), [np.array([3.0, -4.0])]), np.array(5.0))
    check(run([v], nlinalg.norm(v, 1), [np.array([3.0, -4.0])]), np.array(7.0))
    check(run([v], nlinalg.norm(v, "inf"), [np.array([3.0, -4.0])]), np.array(4.0))
    check(run([m], nlinalg.norm(m, "fro"), [np.array([[1.0, 2.0], [2.0, 4.0]])]), np.array(5.0))
    check(run([m], nlinalg.norm(m, 1), [np.array([[1.0, -2.0], [3.0, 4.0]])]), np.array(6.0))  # columns
    check(run([m], nlinalg.norm(m, "inf"), [np.array([[1.0, -2.0], [3.0, 4.0]])]), np.array(7.0))  # rows
    check(run([m], nlinalg.norm(m, 2), [np.diag([3.0, -5.0, 1.0])]), np.array(5.0))
    check(run([m], nlinalg.norm(m, "nuc"), [np.diag([3.0, -5.0, 1.0])]), np.array(9.0))


LINALG_NORM_CASES = [
    # (input shape, ord, axis, keepdims)
    ((3, 4), None, None, False),
    ((3, 4), None, None, True),
    ((2, 3, 4), None, None, False),
    ((3, 4), 1, 1, False),
    ((3, 4), 3, 0, True),
    ((3, 4), np.inf, -1, False),
    ((2, 3, 4), None, 0, False),
    ((2, 3, 4), "fro", (1, 2), False),
    ((2, 3, 4), 1, (2, 1), True),
    ((2, 3, 4), np.inf, (0, 1), False),
    ((2, 3, 4), 2, (0, 2), False),
    ((2, 3, 4), "nuc", (1, 2), True),
]


@pytest.mark.parametrize("case", LINALG_NORM_CASES, ids=repr)
def test_linalg_norm_axis_keepdims(case):
    shape, ord, axis, keepdims = case
    rng = np.random.RandomState(120 + len(shape))
    xv = rng.standard_normal(shape)
    x = var("x", len(shape))
    got = run([x], linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims), [xv])
    check(got, np.linalg.norm(xv, ord=ord, axis=axis, keepdims=keepdims), np.float64)


@pytest.mark.parametrize("case", [((2, 3, 6), 2), ((6, 2, 3), 1), ((2, 3, 2, 3), 2), ((4, 2, 2), 1)], ids=repr)
def test_tensorinv(case):
    shape, ind = case
    rng = np.random.RandomState(130 + sum(shape))
    size = int(np.prod(shape[:ind]))
    av = general(rng, size, size).reshape(shape)
    a = var("a", len(shape))
    expected = np.linalg.tensorinv(av, ind=ind)
    got = run([a], nlinalg.tensorinv(a, ind=ind), [av])
    check(got, expected, np.float64)
    # a's trailing axes against tensorinv(a)'s leading ones: the identity.
    trailing = len(shape) - ind
    check(np.tensordot(av, got, axes=trailing).reshape(size, size), np.eye(size))
    if ind == 2:
        check(run([a], nlinalg.tensorinv(a), [av]), expected)  # ind=2 by default


TENSORSOLVE_CASES = [((2, 3, 6), (2, 3), None), ((6, 2, 3), (2, 3), (0,)), ((2, 3, 2, 3), (2, 3), None),
                     ((3, 2, 2, 3), (2, 3), (0, 1))]


@pytest.mark.parametrize("case", TENSORSOLVE_CASES, ids=repr)
def test_tensorsolve(case):
    a_shape, b_shape, axes = case
    rng = np.random.RandomState(140 + sum(a_shape))
    size = int(np.prod(b_shape))
    # With its `axes` moved to the end (as numpy.linalg.tensorsolve does), a is a well-conditioned square matrix
    # reshaped: rows along b's axes, columns along x's.
    moved = tuple(range(len(a_shape) - len(axes), len(a_shape))) if axes else ()
    kept_shape = tuple(d for i, d in enumerate(a_shape) if not axes or i not in axes)
    a0 = general(rng, size, size).reshape(kept_shape + tuple(a_shape[i] for i in (axes or ())))
    av = np.moveaxis(a0, moved, axes) if axes else a0
    assert av.shape == a_shape and a0.shape[:len(b_shape)] == b_shape
    bv = rng.standard_normal(b_shape)
    a, b = var("a", len(a_shape)), var("b", len(b_shape))
    got = run([a, b], nlinalg.tensorsolve(a, b, axes=axes), [av, bv])
    expected = np.linalg.tensorsolve(av, bv, axes=axes)
    check(got, expected, np.float64)
    check(np.tensordot(a0, got, axes=got.ndim), bv)
    if axes is None:
        check(run([a, b], nlinalg.tensorsolve(a, b), [av, bv]), expected)


# ---------------------------------------------------------------------------------------------------------
# slinalg: Cholesky
# ---------------------------------------------------------------------------------------------------------

CHOLESKY_SHAPES = [(1, 1), (4, 4), (2, 3, 3, 3)]


@pytest.mark.parametrize("shape, lower, dtype",
                         [(shape, lower, "float64") for shape in CHOLESKY_SHAPES for lower in (True, False)] +
                         [((4, 4), True, "float32"), ((2, 3, 3, 3), False, "float32")], ids=str)
def test_cholesky(shape, lower, dtype):
    """Only the chosen triangle is read: the other holds large values that would change the result."""
    rng = np.random.RandomState(150 + sum(shape))
    s = spd(rng, *shape)
    xv = keep_triangle(s, lower, rng).astype(dtype)
    x = var("x", len(shape), dtype)
    out = slinalg.cholesky(x) if lower else slinalg.Cholesky(lower=False)(x)
    got = run([x], out, [xv])
    factor = np.linalg.cholesky(s)
    expected = factor if lower else np.swapaxes(factor, -1, -2)
    check(got, expected, dtype)
    if not lower and len(shape) == 2:
        check(got, scipy.linalg.cholesky(s, lower=False))


def test_cholesky_by_hand_and_explicit_lower():
    x = var("x", 2)
    xv = np.array([[4.0, 12.0, -16.0], [12.0, 37.0, -43.0], [-16.0, -43.0, 98.0]])
    lower = np.array([[2.0, 0.0, 0.0], [6.0, 1.0, 0.0], [-8.0, 5.0, 3.0]])
    check(run([x], slinalg.cholesky(x), [xv]), lower, np.float64)
    check(run([x], slinalg.Cholesky(lower=True)(x), [xv]), lower)
    check(run([x], slinalg.Cholesky(lower=False)(x), [xv]), lower.T)


@pytest.mark.parametrize("mode", MODES)
def test_cholesky_of_a_matrix_that_is_not_positive_definite_raises(mode):
    x = var("x", 2)
    where = here(1)
    f = theano.function([x], slinalg.cholesky(x), mode=mode)
    expect_error(lambda: f(np.array([[1.0, 2.0], [2.0, 1.0]])), ValueError, "cholesky", where=where)
    expect_error(lambda: f(-np.eye(3)), ValueError, "cholesky")
    # Usable afterwards; a lower triangle that is positive definite is enough, whatever lies above it.
    check(f(np.array([[4.0, -100.0], [2.0, 10.0]])), np.array([[2.0, 0.0], [1.0, 3.0]]))


# ---------------------------------------------------------------------------------------------------------
# slinalg: solvers
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("b_ndim", [1, 2])
@pytest.mark.parametrize("n", [1, 4])
def test_solve(n, b_ndim, dtype):
    rng = np.random.RandomState(160 + n + b_ndim)
    av = general(rng, n, n, dtype=dtype)
    bv = rng.standard_normal((n,) if b_ndim == 1 else (n, 3)).astype(dtype)
    a, b = var("a", 2, dtype), var("b", b_ndim, dtype)
    check(run([a, b], slinalg.solve(a, b), [av, bv]), np.linalg.solve(f64(av), f64(bv)), dtype)


@pytest.mark.parametrize("assume_a, lower, dtype",
                         [(a, lower, "float64") for a in ("gen", "sym", "pos") for lower in (False, True)] +
                         [("sym", False, "float32"), ("pos", True, "float32")])
def test_solve_assume_a(assume_a, lower, dtype):
    """scipy.linalg.solve's assume_a: for 'sym' and 'pos' only the `lower` triangle is read (upper when
    lower=False)."""
    rng = np.random.RandomState(170 + lower)
    if assume_a == "gen":
        av = general(rng, 4, 4)
    else:
        av = keep_triangle(spd(rng, 4, 4) if assume_a == "pos" else indefinite(rng, 4), lower, rng)
    av, bv = av.astype(dtype), rng.standard_normal((4, 2)).astype(dtype)
    a, b = var("a", 2, dtype), var("b", 2, dtype)
    got = run([a, b], slinalg.solve(a, b, assume_a=assume_a, lower=lower), [av, bv])
    check(got, scipy.linalg.solve(f64(av), f64(bv), assume_a=assume_a, lower=lower), dtype)


STRUCTURES = ["lower_triangular", "upper_triangular", "symmetric", "general"]


@pytest.mark.parametrize("b_ndim", [1, 2])
@pytest.mark.parametrize("structure", STRUCTURES)
def test_Solve_structures(structure, b_ndim):
    """Theano's Solve(A_structure, lower) and the functions solve_lower_triangular, solve_upper_triangular,
    solve_symmetric. Triangular structures read their triangle only; symmetric inputs are symmetric."""
    rng = np.random.RandomState(180 + STRUCTURES.index(structure) + b_ndim)
    bv = rng.standard_normal((4,) if b_ndim == 1 else (4, 2))
    if structure.endswith("triangular"):
        lower = structure == "lower_triangular"
        av = keep_triangle(triangular(rng, 4, lower), lower, rng)
        expected = scipy.linalg.solve_triangular(av, bv, lower=lower)
    else:
        lower = False
        av = indefinite(rng, 4) if structure == "symmetric" else general(rng, 4, 4)
        expected = np.linalg.solve(av, bv)
    a, b = var("a", 2), var("b", b_ndim)
    check(run([a, b], slinalg.Solve(A_structure=structure, lower=lower)(a, b), [av, bv]), expected, np.float64)
    function = {"lower_triangular": "solve_lower_triangular", "upper_triangular": "solve_upper_triangular",
                "symmetric": "solve_symmetric", "general": "solve"}[structure]
    check(run([a, b], getattr(slinalg, function)(a, b), [av, bv]), expected, np.float64)


@pytest.mark.parametrize("dtype", FLOATS)
def test_solve_batch(dtype):
    rng = np.random.RandomState(190)
    av, bv = general(rng, 2, 3, 4, 4, dtype=dtype), rng.standard_normal((2, 3, 4, 2)).astype(dtype)
    a, b = var("a", 4, dtype), var("b", 4, dtype)
    check(run([a, b], slinalg.solve(a, b), [av, bv]), np.linalg.solve(f64(av), f64(bv)), dtype)
    check(run([a, b], linalg.solve(a, b), [av, bv]), np.linalg.solve(f64(av), f64(bv)), dtype)


@pytest.mark.parametrize("mode", MODES)
def test_solve_errors(mode):
    a, b = var("a", 2), var("b", 1)
    where = here(1)
    f = theano.function([a, b], slinalg.solve(a, b), mode=mode)
    expect_error(lambda: f(np.ones((3, 3)), np.ones(3)), ValueError, "solve", where=where)
    with pytest.raises(ValueError):
        f(np.eye(3), np.ones(4))  # b's length is not a's size
    with pytest.raises(ValueError):
        f(np.ones((3, 2)), np.ones(3))  # a is not square
    check(f(np.diag([2.0, 4.0, 8.0]), np.ones(3)), np.array([0.5, 0.25, 0.125]))


@pytest.mark.parametrize("trans, lower, unit_diagonal", [
    (0, False, False), (0, True, True), (1, False, True), (1, True, False),
    ("N", True, False), ("N", False, True), ("T", False, False), ("T", True, True)])
def test_solve_triangular(trans, lower, unit_diagonal):
    rng = np.random.RandomState(200 + 4 * lower + 2 * unit_diagonal + (trans in (1, "T")))
    av = keep_triangle(triangular(rng, 4, lower), lower, rng)
    if unit_diagonal:
        av[np.diag_indices(4)] = 7.0  # not read: ones are assumed
    bv = rng.standard_normal((4, 3))
    a, b = var("a", 2), var("b", 2)
    got = run([a, b], slinalg.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit_diagonal),
              [av, bv])
    check(got, scipy.linalg.solve_triangular(av, bv, trans=trans, lower=lower, unit_diagonal=unit_diagonal),
          np.float64)


@pytest.mark.parametrize("dtype", FLOATS)
def test_solve_triangular_defaults_and_vector(dtype):
    rng = np.random.RandomState(210)
    upper = triangular(rng, 5, lower=False).astype(dtype)
    bv = rng.standard_normal(5).astype(dtype)
    a, b = var("a", 2, dtype), var("b", 1, dtype)
    got = run([a, b], slinalg.solve_triangular(a, b), [upper, bv])  # trans=0, lower=False
    check(got, scipy.linalg.solve_triangular(f64(upper), f64(bv)), dtype)
    got = run([a, b], slinalg.solve_triangular(a, b, trans=1, lower=False), [upper, bv])
    check(got, np.linalg.solve(f64(upper).T, f64(bv)), dtype)


@pytest.mark.parametrize("b_ndim", [1, 2])
@pytest.mark.parametrize("lower", [True, False])
def test_cho_solve(lower, b_ndim):
    rng = np.random.RandomState(220 + 2 * lower + b_ndim)
    s = spd(rng, 4, 4)
    factor = np.linalg.cholesky(s) if lower else np.linalg.cholesky(s).T
    cv = keep_triangle(factor, lower, rng)
    bv = rng.standard_normal((4,) if b_ndim == 1 else (4, 3))
    c, b = var("c", 2), var("b", b_ndim)
    got = run([c, b], slinalg.cho_solve((c, lower), b), [cv, bv])
    check(got, scipy.linalg.cho_solve((cv, lower), bv), np.float64)
    check(got, np.linalg.solve(s, bv))


# ---------------------------------------------------------------------------------------------------------
# slinalg: eigvalsh, expm, kron
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("generalized, lower, dtype",
                         [(g, lower, "float64") for g in (False, True) for lower in (True, False)] +
                         [(True, True, "float32")])
def test_eigvalsh(generalized, lower, dtype):
    """scipy.linalg.eigvalsh(a, b, lower): only the `lower` triangle of a (and of b) is read."""
    rng = np.random.RandomState(230 + 2 * generalized + lower)
    av = keep_triangle(indefinite(rng, 4), lower, rng).astype(dtype)
    a = var("a", 2, dtype)
    if generalized:
        bv = keep_triangle(spd(rng, 4, 4), lower, rng).astype(dtype)
        b = var("b", 2, dtype)
        got = run([a, b], slinalg.eigvalsh(a, b, lower=lower), [av, bv])
        expected = scipy.linalg.eigvalsh(f64(av), f64(bv), lower=lower)
    else:
        got = run([a], slinalg.eigvalsh(a, lower=lower), [av])
        expected = scipy.linalg.eigvalsh(f64(av), lower=lower)
    check(got, expected, dtype)


def test_eigvalsh_defaults_and_by_hand():
    a, b = var("a", 2), var("b", 2)
    check(run([a], slinalg.eigvalsh(a), [np.array([[2.0, 1.0], [1.0, 2.0]])]), np.array([1.0, 3.0]), np.float64)
    check(run([a], slinalg.eigvalsh(a, None), [np.array([[2.0, -50.0], [1.0, 2.0]])]), np.array([1.0, 3.0]))
    # a x = w b x with b = diag(2, 4), a = diag(6, 4): w = 3, 1.
    got = run([a, b], slinalg.eigvalsh(a, b), [np.diag([6.0, 4.0]), np.diag([2.0, 4.0])])
    check(got, np.array([1.0, 3.0]))


@pytest.mark.parametrize("case, dtype", [(c, "float64") for c in [((1, 1), 0.7), ((3, 3), 0.7), ((5, 5), 0.5),
                                                                    ((2, 3, 3, 3), 0.7), ((4, 4), 3.0)]] +
                         [(((3, 3), 0.7), "float32"), (((2, 3, 3, 3), 0.7), "float32")], ids=repr)
def test_expm(case, dtype):
    """Moderate norms, and a larger one (float64 only) where scaling and squaring matters."""
    shape, scale = case
    rng = np.random.RandomState(240 + sum(shape))
    xv = (scale * rng.standard_normal(shape)).astype(dtype)
    x = var("x", len(shape), dtype)
    check(run([x], slinalg.expm(x), [xv]), scipy.linalg.expm(f64(xv)), dtype)


def test_expm_by_hand():
    x = var("x", 2)
    check(run([x], slinalg.expm(x), [np.zeros((3, 3))]), np.eye(3), np.float64)
    check(run([x], slinalg.expm(x), [np.diag([1.0, -2.0, 0.5])]), np.diag(np.exp([1.0, -2.0, 0.5])))
    check(run([x], slinalg.expm(x), [np.array([[0.0, 1.0], [0.0, 0.0]])]), np.array([[1.0, 1.0], [0.0, 1.0]]))
    t = 0.75  # a rotation generator: cos and sin
    check(run([x], slinalg.expm(x), [np.array([[0.0, -t], [t, 0.0]])]),
          np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]))


@pytest.mark.parametrize("shapes, dtype", [(s, "float64") for s in [((2, 3), (3, 2)), ((3,), (2, 2)), ((2, 2), (3,)),
                                                                       ((1, 4), (3, 1))]] +
                         [(((2, 3), (3, 2)), "float32")], ids=repr)
def test_kron(shapes, dtype):
    a_shape, b_shape = shapes
    rng = np.random.RandomState(250 + sum(a_shape) + sum(b_shape))
    av, bv = rng.standard_normal(a_shape).astype(dtype), rng.standard_normal(b_shape).astype(dtype)
    a, b = var("a", len(a_shape), dtype), var("b", len(b_shape), dtype)
    check(run([a, b], slinalg.kron(a, b), [av, bv]), np.kron(f64(av), f64(bv)), dtype)


def test_kron_by_hand():
    a, b = var("a", 2), var("b", 2)
    got = run([a, b], slinalg.kron(a, b), [np.array([[1.0, 2.0], [3.0, 4.0]]), np.eye(2)])
    check(got, np.array([[1.0, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]), np.float64)


# ---------------------------------------------------------------------------------------------------------
# Integer inputs, tensor.linalg's names
# ---------------------------------------------------------------------------------------------------------

INTEGER_CASES = [
    ("matrix_inverse", lambda x: nlinalg.matrix_inverse(x), np.linalg.inv),
    ("det", lambda x: nlinalg.det(x), np.linalg.det),
    ("slogdet", lambda x: nlinalg.slogdet(x)[1], lambda x: np.linalg.slogdet(x)[1]),
    ("eigh", lambda x: nlinalg.eigh(x)[0], lambda x: np.linalg.eigh(x)[0]),
    ("svd", lambda x: nlinalg.svd(x, compute_uv=False), lambda x: np.linalg.svd(x, compute_uv=False)),
    ("qr", lambda x: abs(nlinalg.qr(x, mode="r")), lambda x: np.abs(np.linalg.qr(x, mode="r"))),
    ("pinv", lambda x: nlinalg.pinv(x), np.linalg.pinv),
    ("cholesky", lambda x: slinalg.cholesky(x), np.linalg.cholesky),
    ("eigvalsh", lambda x: slinalg.eigvalsh(x), scipy.linalg.eigvalsh),
    ("expm", lambda x: slinalg.expm(x), scipy.linalg.expm),
    ("solve", lambda x: slinalg.solve(x, x[:, 0]), lambda x: np.linalg.solve(x, x[:, 0])),
]


@pytest.mark.parametrize("case, int_dtype", [pytest.param(c, "int64", id=c[0]) for c in INTEGER_CASES] +
                         [pytest.param(c, "int32", id=c[0] + "-int32") for c in INTEGER_CASES[:2]])
def test_integer_inputs_are_upcast_to_float64(case, int_dtype):
    _, build, reference = case
    xv = np.array([[4, 2, 0], [2, 5, 1], [0, 1, 3]], dtype=int_dtype)  # symmetric positive definite
    x = var("x", 2, int_dtype)
    check(run([x], build(x), [xv]), reference(f64(xv)), np.float64)


def test_linalg_reexports_every_name():
    names = ["matrix_inverse", "det", "slogdet", "eig", "eigh", "svd", "qr", "pinv", "lstsq", "matrix_power", "norm",
             "trace", "tensorinv", "tensorsolve", "matrix_dot", "cholesky", "Cholesky", "solve", "Solve",
             "solve_lower_triangular", "solve_upper_triangular", "solve_symmetric", "solve_triangular", "cho_solve",
             "eigvalsh", "expm", "kron", "inv"]
    missing = [name for name in names if not hasattr(linalg, name)]
    assert not missing, missing


def _linalg_cases():
    """(id, builder of the outputs from the linalg module and the input variables, NumPy/SciPy reference, inputs'
    values)."""
    rng = np.random.RandomState(260)
    m, s, b, tall = general(rng, 4, 4), spd(rng, 4, 4), rng.standard_normal((4, 2)), rng.standard_normal((6, 3))
    lower = np.linalg.cholesky(s)
    return [
        ("inv", lambda L, x: L.inv(x), np.linalg.inv, [m]),
        ("det", lambda L, x: L.det(x), np.linalg.det, [m]),
        ("slogdet", lambda L, x: list(L.slogdet(x)), lambda x: list(np.linalg.slogdet(x)), [m]),
        ("eigh", lambda L, x: L.eigh(x)[0], lambda x: np.linalg.eigh(x)[0], [m]),
        ("eigvalsh", lambda L, x: L.eigvalsh(x), np.linalg.eigvalsh, [s]),
        ("svd", lambda L, x: L.svd(x, compute_uv=False), lambda x: np.linalg.svd(x, compute_uv=False), [tall]),
        ("pinv", lambda L, x: L.pinv(x), np.linalg.pinv, [tall]),
        ("lstsq", lambda L, a, y: L.lstsq(a, y, -1)[0], lambda a, y: np.linalg.lstsq(a, y, rcond=-1)[0],
         [tall, rng.standard_normal(6)]),
        ("matrix_power", lambda L, x: L.matrix_power(x, 3), lambda x: np.linalg.matrix_power(x, 3), [m]),
        ("norm", lambda L, x: L.norm(x), np.linalg.norm, [tall]),
        ("norm-2", lambda L, x: L.norm(x, 2), lambda x: np.linalg.norm(x, 2), [tall]),
        ("solve", lambda L, a, y: L.solve(a, y), np.linalg.solve, [m, b]),
        ("solve_triangular", lambda L, a, y: L.solve_triangular(a, y, lower=True),
         lambda a, y: scipy.linalg.solve_triangular(a, y, lower=True), [lower, b]),
        ("cho_solve", lambda L, c, y: L.cho_solve((c, True), y), lambda c, y: scipy.linalg.cho_solve((c, True), y),
         [lower, b]),
        ("cholesky", lambda L, x: L.cholesky(x), np.linalg.cholesky, [s]),
        ("expm", lambda L, x: L.expm(x), scipy.linalg.expm, [m / 4]),
        ("kron", lambda L, x, y: L.kron(x, y), np.kron, [tall, b]),
        ("tensorinv", lambda L, x: L.tensorinv(x, ind=1), lambda x: np.linalg.tensorinv(x, ind=1),
         [general(rng, 6, 6).reshape(6, 2, 3)]),
        ("tensorsolve", lambda L, x, y: L.tensorsolve(x, y), np.linalg.tensorsolve,
         [general(rng, 6, 6).reshape(2, 3, 6), rng.standard_normal((2, 3))]),
        ("trace", lambda L, x: L.trace(x), np.trace, [m]),
        ("matrix_dot", lambda L, x, y: L.matrix_dot(x, y, x), lambda x, y: x @ y @ x, [tall, tall.T]),
    ]


LINALG_CASES = _linalg_cases()


@pytest.mark.parametrize("case", LINALG_CASES, ids=[c[0] for c in LINALG_CASES])
def test_linalg_numpy_style_names(case):
    _, build, reference, values = case
    inputs = [var(f"x{i}", v.ndim) for i, v in enumerate(values)]
    got = run(inputs, build(linalg, *inputs), values)
    expected = reference(*values)
    for g, e in zip(got if isinstance(got, list) else [got], expected if isinstance(expected, list) else [expected]):
        check(g, e)


def test_linalg_decompositions_defaults():
    """NumPy's defaults: svd full_matrices=True, qr mode='reduced', eigh UPLO='L', eig complex."""
    rng = np.random.RandomState(270)
    tall, square = rng.standard_normal((5, 3)), rng.standard_normal((4, 4))
    x = var("x", 2)
    u, s, vt = run([x], list(linalg.svd(x)), [tall])
    assert (u.shape, s.shape, vt.shape) == ((5, 5), (3,), (3, 3))
    check((u[:, :3] * s) @ vt, tall)
    q, r = run([x], list(linalg.qr(x)), [tall])
    assert (q.shape, r.shape) == ((5, 3), (3, 3))
    check(q @ r, tall)
    w, v = run([x], list(linalg.eigh(x)), [square])
    check(w, np.linalg.eigh(square)[0])
    w, v = run([x], list(linalg.eig(x)), [square])
    check_eig(square, w, v, "float64")


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["matrix_inverse", "det"])
def test_non_square_input_is_an_error(name, mode):
    x = var("x", 2)
    where = here(1)
    f = theano.function([x], getattr(nlinalg, name)(x), mode=mode)
    expect_error(lambda: f(np.ones((2, 3))), ValueError, name, "(2, 3)", where=where)
    expect_error(lambda: f(np.ones((4, 1))), ValueError, name, "(4, 1)")
    # Usable afterwards.
    assert np.asarray(f(np.eye(2))).shape == ((2, 2) if name == "matrix_inverse" else ())


def test_non_square_static_shape_is_an_error():
    x = T.tensor("x", shape=(2, 3))
    message = error_when_built_or_called(ValueError, lambda: nlinalg.matrix_inverse(x), [x], [np.ones((2, 3))])
    assert "matrix_inverse" in message and "(2, 3)" in message, message
    message = error_when_built_or_called(ValueError, lambda: nlinalg.det(x), [x], [np.ones((2, 3))])
    assert "det" in message and "(2, 3)" in message, message


VECTOR_INPUT_CASES = {
    "matrix_inverse": lambda x: nlinalg.matrix_inverse(x),
    "det": lambda x: nlinalg.det(x),
    "slogdet": lambda x: nlinalg.slogdet(x),
    "eig": lambda x: nlinalg.eig(x),
    "eigh": lambda x: nlinalg.eigh(x),
    "svd": lambda x: nlinalg.svd(x),
    "qr": lambda x: nlinalg.qr(x),
    "pinv": lambda x: nlinalg.pinv(x),
    "matrix_power": lambda x: nlinalg.matrix_power(x, 2),
    "cholesky": lambda x: slinalg.cholesky(x),
    "eigvalsh": lambda x: slinalg.eigvalsh(x),
    "expm": lambda x: slinalg.expm(x),
    "solve": lambda x: slinalg.solve(x, x),
}


@pytest.mark.parametrize("name", list(VECTOR_INPUT_CASES))
def test_vector_input_is_an_error(name):
    x = var("x", 1)
    error_when_built_or_called((ValueError, TypeError), lambda: VECTOR_INPUT_CASES[name](x), [x], [np.ones(3)])


# ---------------------------------------------------------------------------------------------------------
# Gradients (verify_grad: central differences in float64)
# ---------------------------------------------------------------------------------------------------------

def _spd_of(a, n=4):
    """a a^T + n I for a free n x n matrix a: the check perturbs a, the op sees a symmetric matrix."""
    return T.dot(a, a.T) + n * T.eye(n)


def _normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def _general(n):
    return lambda rng: general(rng, n, n)


def _triangular(n, lower, unit_diagonal=False):
    def make(rng):
        t = keep_triangle(triangular(rng, n, lower), lower, rng)
        if unit_diagonal:
            t[np.diag_indices(n)] = 7.0
        return t
    return make


def _kept(make, lower):
    return lambda rng: keep_triangle(make(rng), lower, rng)


def _chol_factor(n, lower):
    def make(rng):
        factor = np.linalg.cholesky(spd(rng, n, n))
        return keep_triangle(factor if lower else factor.T, lower, rng)
    return make


GRAD_CASES = [
    ("matrix_inverse", lambda x: nlinalg.matrix_inverse(x), [_general(4)]),
    ("det", lambda x: nlinalg.det(x), [lambda rng: general(rng, 4, 4) / 3]),
    ("det-batch", lambda x: nlinalg.det(x), [lambda rng: general(rng, 2, 3, 3, 3) / 2]),
    ("slogdet", lambda x: nlinalg.slogdet(x)[1], [lambda rng: general(rng, 4, 4)[[1, 0, 2, 3]]]),
    ("cholesky-lower", lambda a: slinalg.cholesky(_spd_of(a)), [_normal(4, 4)]),
    ("cholesky-upper", lambda a: slinalg.Cholesky(lower=False)(_spd_of(a)), [_normal(4, 4)]),
    ("cholesky-lower-raw", lambda x: slinalg.cholesky(x), [_kept(lambda rng: spd(rng, 4, 4), True)]),
    ("cholesky-upper-raw", lambda x: slinalg.Cholesky(lower=False)(x), [_kept(lambda rng: spd(rng, 4, 4), False)]),
    ("solve", lambda a, b: slinalg.solve(a, b), [_general(4), _normal(4, 2)]),
    ("solve-vector", lambda a, b: slinalg.solve(a, b), [_general(3), _normal(3)]),
    ("solve-pos", lambda a, b: slinalg.solve(_spd_of(a), b, assume_a="pos"), [_normal(4, 4), _normal(4, 2)]),
    ("solve-sym-raw-upper", lambda a, b: slinalg.solve(a, b, assume_a="sym", lower=False),
     [_kept(lambda rng: indefinite(rng, 4), False), _normal(4, 2)]),
    ("solve-pos-raw-lower", lambda a, b: slinalg.solve(a, b, assume_a="pos", lower=True),
     [_kept(lambda rng: spd(rng, 4, 4), True), _normal(4)]),
    ("solve_lower_triangular-tril", lambda a, b: slinalg.solve_lower_triangular(T.tril(a) + 3 * T.eye(4), b),
     [lambda rng: 0.5 * rng.standard_normal((4, 4)), _normal(4, 2)]),
    ("Solve-upper_triangular-raw", lambda a, b: slinalg.Solve(A_structure="upper_triangular", lower=False)(a, b),
     [_triangular(4, False), _normal(4, 2)]),
    ("solve_triangular-N-lower", lambda a, b: slinalg.solve_triangular(a, b, trans=0, lower=True),
     [_triangular(4, True), _normal(4, 2)]),
    ("solve_triangular-T-lower", lambda a, b: slinalg.solve_triangular(a, b, trans=1, lower=True),
     [_triangular(4, True), _normal(4, 2)]),
    ("solve_triangular-N-upper", lambda a, b: slinalg.solve_triangular(a, b, trans=0, lower=False),
     [_triangular(4, False), _normal(4)]),
    ("solve_triangular-T-upper-unit", lambda a, b: slinalg.solve_triangular(a, b, trans="T", unit_diagonal=True),
     [_triangular(4, False, True), _normal(4, 2)]),
    ("solve_triangular-N-lower-unit", lambda a, b: slinalg.solve_triangular(a, b, lower=True, unit_diagonal=True),
     [_triangular(4, True, True), _normal(4, 2)]),
    ("cho_solve-lower", lambda c, b: slinalg.cho_solve((c, True), b), [_chol_factor(4, True), _normal(4, 2)]),
    ("cho_solve-upper", lambda c, b: slinalg.cho_solve((c, False), b), [_chol_factor(4, False), _normal(4)]),
    ("eigh-w", lambda a: nlinalg.eigh(a + a.T)[0], [_normal(4, 4)]),
    ("eigh-v", lambda a: T.sqr(nlinalg.eigh(a + a.T)[1]), [_normal(4, 4)]),
    ("eigh-reconstruct", lambda a: (lambda w, v: T.dot(v * w, v.T))(*nlinalg.eigh(a + a.T)), [_normal(4, 4)]),
    ("eigh-w-raw-L", lambda x: nlinalg.eigh(x)[0], [_normal(4, 4)]),
    ("eigh-v-raw-U", lambda x: T.sqr(nlinalg.eigh(x, UPLO="U")[1]), [_normal(4, 4)]),
    ("eigvalsh", lambda a: slinalg.eigvalsh(a + a.T), [_normal(4, 4)]),
    ("eigvalsh-generalized", lambda a, b: slinalg.eigvalsh(a + a.T, _spd_of(b)), [_normal(4, 4), _normal(4, 4)]),
    ("eigvalsh-generalized-raw-upper", lambda a, b: slinalg.eigvalsh(a, b, lower=False),
     [_normal(4, 4), _kept(lambda rng: spd(rng, 4, 4), False)]),
    ("svd-s-tall", lambda x: nlinalg.svd(x, compute_uv=False), [_normal(4, 3)]),
    ("svd-s-wide", lambda x: nlinalg.svd(x, compute_uv=False), [_normal(3, 4)]),
    ("svd-u-tall", lambda x: T.sqr(nlinalg.svd(x, full_matrices=False)[0]), [_normal(4, 3)]),
    ("svd-vt-tall", lambda x: T.sqr(nlinalg.svd(x, full_matrices=False)[2]), [_normal(4, 3)]),
    ("svd-u-wide", lambda x: T.sqr(nlinalg.svd(x, full_matrices=False)[0]), [_normal(3, 4)]),
    ("svd-vt-wide", lambda x: T.sqr(nlinalg.svd(x, full_matrices=False)[2]), [_normal(3, 4)]),
    ("svd-reconstruct", lambda x: (lambda u, s, vt: T.dot(u * s, vt))(*nlinalg.svd(x, full_matrices=False)),
     [_normal(4, 3)]),
    ("qr-q-tall", lambda x: nlinalg.qr(x)[0], [_normal(5, 3)]),
    ("qr-r-tall", lambda x: nlinalg.qr(x)[1], [_normal(5, 3)]),
    ("qr-q-square", lambda x: nlinalg.qr(x)[0], [_normal(3, 3)]),
    ("qr-q-wide", lambda x: nlinalg.qr(x)[0], [_normal(3, 5)]),
    ("qr-r-wide", lambda x: nlinalg.qr(x)[1], [_normal(3, 5)]),
    ("pinv-tall", lambda x: nlinalg.pinv(x), [_normal(4, 3)]),
    ("pinv-wide", lambda x: nlinalg.pinv(x), [_normal(3, 4)]),
    ("lstsq-x", lambda a, b: nlinalg.lstsq(a, b)[0], [_normal(6, 3), _normal(6, 2)]),
    ("lstsq-x-vector", lambda a, b: nlinalg.lstsq(a, b, -1)[0], [_normal(5, 3), _normal(5)]),
    ("matrix_power-3", lambda x: nlinalg.matrix_power(x, 3), [_normal(3, 3)]),
    ("matrix_power--2", lambda x: nlinalg.matrix_power(x, -2), [_general(3)]),
    ("expm", lambda x: slinalg.expm(x), [lambda rng: 0.5 * rng.standard_normal((3, 3))]),
    ("expm-batch", lambda x: slinalg.expm(x), [lambda rng: 0.5 * rng.standard_normal((2, 2, 2))]),
    ("kron", lambda a, b: slinalg.kron(a, b), [_normal(2, 3), _normal(3, 2)]),
    ("norm-fro", lambda x: nlinalg.norm(x, "fro"), [_normal(4, 3)]),
    ("norm-2", lambda x: nlinalg.norm(x, 2), [_normal(4, 3)]),
    ("trace", lambda x: nlinalg.trace(x), [_normal(3, 3)]),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_verify_grad(case):
    name, fun, makers = case
    rng = np.random.RandomState(300 + GRAD_CASES.index(case))
    theano.gradient.verify_grad(fun, [make(rng) for make in makers], rng=np.random.RandomState(42))


# Cholesky's gradient for a log-determinant (a diagonal output gradient) and for solves with the factor (a
# function of c c^T) skips Murray's steps: by hand, and against finite differences with Murray's terms beside.
def gp_terms(k, y, lower=True, weights=None):
    factor = slinalg.Cholesky(lower=lower)(k)
    logs = T.log(nlinalg.extract_diag(factor) if k.ndim == 2 else T.diagonal(factor, axis1=-2, axis2=-1))
    return factor, T.sum(logs if weights is None else logs * weights), slinalg.cho_solve((factor, lower), y)


def folded(s, lower=True):
    """The gradient of a function of a symmetric matrix built from one triangle: g + g^T there, g on the diagonal."""
    both = s + np.swapaxes(s, -1, -2)
    return (np.tril(both) if lower else np.triu(both)) - s * np.eye(s.shape[-1])


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_grad_of_a_log_determinant_and_a_solve_through_cholesky_by_hand(lower, dtype):
    """d/dK [sum(log(diag(chol(K)))) + y.cho_solve(chol(K), y) / 2] = fold(K^-1 / 2 - a a^T / 2), a = K^-1 y."""
    rng = np.random.RandomState(322)
    kv, yv = spd(rng, 5, 5, dtype=dtype), rng.standard_normal(5).astype(dtype)
    k, y = var("k", 2, dtype), var("y", 1, dtype)
    _, logdet, alpha = gp_terms(k, y, lower)
    cost = logdet + 0.5 * T.dot(y, alpha)
    g = run([k, y], theano.grad(cost, k), [kv, yv])
    inverse, a = np.linalg.inv(f64(kv)), np.linalg.solve(f64(kv), f64(yv))
    check(g, folded(0.5 * inverse - 0.5 * np.outer(a, a), lower), dtype)
    # Without Murray's O(n^3) steps: LAPACK's inverse of the factor, no triangular solve of matrices.
    text = theano.printing.debugprint(theano.function([k, y], theano.grad(cost, k)), file="str")
    assert "cholesky_inverse" in text and "lower_triangular" not in text and "upper_triangular" not in text, text


CHOLESKY_GRAD_CASES = [  # (name, cost of the factor, its log-diagonal and a cho_solve, shapes)
    ("weighted-logdet", lambda f, logdet, alpha: logdet, [5], np.arange(1.0, 6.0)),
    ("solve-matrix", lambda f, logdet, alpha: T.sum(alpha ** 2), [5, 2], None),
    ("with-murray", lambda f, logdet, alpha: logdet + T.sum(alpha) + T.sum(f * np.arange(25.0).reshape(5, 5) / 25),
     [5], None),
    ("batch", lambda f, logdet, alpha: logdet + T.sum(alpha ** 2), [2, 5], None),
]


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("case", CHOLESKY_GRAD_CASES, ids=[c[0] for c in CHOLESKY_GRAD_CASES])
def test_verify_grad_through_cholesky_shortcuts(case, lower):
    name, cost, y_shape, weights = case
    rng = np.random.RandomState(323)
    batch = (2,) if name == "batch" else ()
    kv = spd(rng, *batch, 5, 5)

    def fun(k, y):
        # (the raw input's other triangle is never read: symmetrize what the factorization sees)
        return cost(*gp_terms(k, y, lower, weights))

    theano.gradient.verify_grad(fun, [kv, rng.standard_normal(y_shape)], rng=np.random.RandomState(324))


def test_functions_with_the_shortcut_ops_pickle():
    """cholesky_inverse and factor_product_grad (a solve's gradient with respect to a raw factor) save and load."""
    import pickle
    rng = np.random.RandomState(326)
    kv, cv, bv = spd(rng, 4, 4), np.linalg.cholesky(spd(rng, 4, 4)), rng.standard_normal((4, 2))
    k, c, b = var("k", 2), var("c", 2), var("b", 2)
    _, logdet, _ = gp_terms(k, b)
    f = theano.function([k, c, b], [theano.grad(logdet, k), theano.grad(T.sum(slinalg.cho_solve((c, True), b) ** 2), c)])
    text = theano.printing.debugprint(f, file="str")
    assert "cholesky_inverse" in text and "factor_product_grad" in text, text
    loaded = pickle.loads(pickle.dumps(f))
    for got, want in zip(loaded(kv, cv, bv), f(kv, cv, bv)):
        np.testing.assert_array_equal(got, want)


def check_second_order(cost, x, xv, others=(), other_values=()):
    """The gradient's forward-mode derivative (a Hessian-vector product) along a random direction against the
    central difference of the gradient: second derivatives through the shortcut ops."""
    rng = np.random.RandomState(327)
    direction, v = rng.standard_normal(xv.shape), T.tensor("v", dtype="float64", shape=(None,) * xv.ndim)
    grad = theano.function([x, *others], theano.grad(cost, x))
    along = run([x, v, *others], T.Rop(theano.grad(cost, x), x, v), [xv, direction, *other_values])
    eps = 1e-6
    numeric = (grad(xv + eps * direction, *other_values) - grad(xv - eps * direction, *other_values)) / (2 * eps)
    np.testing.assert_allclose(along, numeric, rtol=1e-5, atol=1e-6)


def test_second_derivatives_through_cholesky_shortcuts():
    """The shortcut ops differentiate again, also where one of their inputs is computed from another (a solve's
    gradient reads the solution; the weights of sum(diag(L)) read L)."""
    rng = np.random.RandomState(325)
    kv, yv = spd(rng, 3, 3), rng.standard_normal(3)
    k, y = var("k", 2), var("y", 1)
    factor, logdet, alpha = gp_terms(k, y)
    check_second_order(logdet + T.dot(y, alpha), k, kv, [y], [yv])
    check_second_order(T.sum(nlinalg.extract_diag(factor)) + T.sum(nlinalg.extract_diag(factor)) ** 2, k, kv)
    upper = slinalg.Cholesky(lower=False)(k)
    check_second_order(T.sum(T.log(nlinalg.extract_diag(upper))) ** 2 + T.sum(slinalg.cho_solve((upper, False), y) ** 2), k, kv,
                       [y], [yv])
    # A raw factor: factor_product_grad itself is differentiated.
    c, b = var("c", 2), var("b", 2)
    check_second_order(T.sum(slinalg.cho_solve((c, True), b) ** 2), c, np.linalg.cholesky(kv), [b], [rng.standard_normal((3, 2))])
    # A batch of one axis: cholesky_inverse's own gradient with a matrix right-hand side.
    kb = var("kb", 3)
    batch = slinalg.cholesky(kb)
    weights = T.constant(np.array([[1.0, 2.0, 3.0], [0.5, 1.0, 1.5]]))
    check_second_order(T.sum(T.log(T.diagonal(batch, axis1=1, axis2=2)) * weights) ** 2, kb, spd(rng, 2, 3, 3))


def test_grad_of_a_raw_eigh_input_is_zero_on_the_unread_triangle():
    """The upper triangle of eigh(x, 'L')'s input does not affect the result: its gradient there is zero."""
    x = var("x", 2)
    w, v = nlinalg.eigh(x)
    cost = T.sum(w * np.arange(1.0, 5.0)) + T.sum(T.sqr(v) * np.arange(16.0).reshape(4, 4))
    g = run([x], theano.grad(cost, x), [np.random.RandomState(320).standard_normal((4, 4))])
    check(np.triu(g, 1), np.zeros((4, 4)))


def test_grad_of_the_determinant_by_hand():
    """d det(X) / dX = det(X) X^{-T}."""
    x = var("x", 2)
    xv = general(np.random.RandomState(321), 3, 3)
    g = run([x], theano.grad(nlinalg.det(x), x), [xv])
    check(g, np.linalg.det(xv) * np.linalg.inv(xv).T, np.float64)


# ---------------------------------------------------------------------------------------------------------
# Forward mode (Rop) against finite differences of NumPy's functions
# ---------------------------------------------------------------------------------------------------------

def check_directional(got, expected):
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_rop_matrix_inverse():
    rng = np.random.RandomState(330)
    xv, vv = general(rng, 4, 4), rng.standard_normal((4, 4))
    x, v = var("x", 2), var("v", 2)
    got = run([x, v], T.Rop(nlinalg.matrix_inverse(x), x, v), [xv, vv])
    check_directional(got, directional_difference(np.linalg.inv, xv, vv))
    inverse = np.linalg.inv(xv)
    check(got, -inverse @ vv @ inverse)


def test_rop_cholesky():
    """Along any direction, the upper triangle's part ignored as by numpy.linalg.cholesky."""
    rng = np.random.RandomState(331)
    xv, vv = spd(rng, 4, 4), rng.standard_normal((4, 4))
    x, v = var("x", 2), var("v", 2)
    got = run([x, v], T.Rop(slinalg.cholesky(x), x, v), [xv, vv])
    check_directional(got, directional_difference(np.linalg.cholesky, xv, vv))


def test_rop_det_and_solve():
    rng = np.random.RandomState(332)
    av, uv = general(rng, 4, 4), rng.standard_normal((4, 4))
    bv, wv = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    a, u, b, w = var("a", 2), var("u", 2), var("b", 2), var("w", 2)
    got = run([a, u], T.Rop(nlinalg.det(a), a, u), [av, uv])
    check_directional(got, directional_difference(np.linalg.det, av, uv))
    got = run([a, b, u, w], T.Rop(slinalg.solve(a, b), [a, b], [u, w]), [av, bv, uv, wv])
    eps = 1e-6
    plus, minus = np.linalg.solve(av + eps * uv, bv + eps * wv), np.linalg.solve(av - eps * uv, bv - eps * wv)
    check_directional(got, (plus - minus) / (2 * eps))


# ---------------------------------------------------------------------------------------------------------
# Edge cases a review found
# ---------------------------------------------------------------------------------------------------------

def test_eig_of_a_repeated_complex_pair():
    """LAPACK lists [i, -i, i, -i] for two copies of a rotation: each pair's vectors come from its own columns."""
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    a = np.kron(np.eye(2), rotation)
    x = T.dmatrix()
    w, v = theano.function([x], list(nlinalg.eig(x)))(a)
    np.testing.assert_allclose(a @ v, v * w, atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(w), np.sort_complex(np.linalg.eigvals(a)), atol=1e-12)


def test_svd_of_an_empty_matrix_has_identity_factors():
    x = T.dmatrix()
    u, s, vt = theano.function([x], list(nlinalg.svd(x)))(np.zeros((0, 3)))
    assert u.shape == (0, 0) and s.shape == (0,)
    np.testing.assert_array_equal(vt, np.eye(3))


def test_lstsq_without_right_hand_sides_still_gives_rank_and_singular_values():
    a, b = T.dmatrix(), T.dmatrix()
    x, residuals, rank, s = theano.function([a, b], nlinalg.lstsq(a, b, -1))(2 * np.eye(3)[:, :2], np.zeros((3, 0)))
    assert x.shape == (2, 0) and rank == 2
    np.testing.assert_allclose(s, [2.0, 2.0])


def test_slogdet_of_nan_is_sign_one_and_nan_as_numpy():
    x = T.dmatrix()
    sign, logdet = theano.function([x], list(nlinalg.slogdet(x)))(np.array([[np.nan, 1.0], [2.0, 3.0]]))
    expected = np.linalg.slogdet(np.array([[np.nan, 1.0], [2.0, 3.0]]))
    assert sign == expected[0] and np.isnan(logdet)


def test_batch_axes_broadcast_only_where_the_type_says_size_one():
    rng = np.random.default_rng(3)
    a_value, b_value = rng.standard_normal((1, 3, 3)) + 3 * np.eye(3), rng.standard_normal((4, 3, 2))
    b = T.dtensor3()
    declared = T.tensor(dtype="float64", shape=(1, None, None))
    f = theano.function([declared, b], slinalg.solve(declared, b))
    np.testing.assert_allclose(f(a_value, b_value), np.linalg.solve(a_value, b_value), rtol=1e-10)
    # The gradient with respect to the broadcast matrix is summed over the batch: it keeps its shape.
    g = theano.function([declared, b], theano.grad(T.sum(slinalg.solve(declared, b)), declared))(a_value, b_value)
    assert g.shape == (1, 3, 3)
    # Without the declaration a batch axis of size 1 does not stretch to 4.
    a = T.dtensor3()
    with pytest.raises(ValueError, match="solve"):
        theano.function([a, b], slinalg.solve(a, b))(a_value, b_value)


def test_a_shared_factorization_keeps_the_precision_of_each_solve():
    """solve(float32 A, float64 b) computes in float64; det(A) in float32: they must not share a float32 LU."""
    rng = np.random.default_rng(4)
    a_value = (rng.standard_normal((5, 5)) + 5 * np.eye(5)).astype("float32")
    b_value = rng.standard_normal(5)
    a, b = T.fmatrix(), T.dvector()
    f = theano.function([a, b], [slinalg.solve(a, b), nlinalg.det(a)])
    x, d = f(a_value, b_value)
    assert x.dtype == np.float64
    np.testing.assert_allclose(x, np.linalg.solve(a_value.astype("float64"), b_value), rtol=1e-12)
    np.testing.assert_allclose(d, np.linalg.det(a_value), rtol=1e-4)
