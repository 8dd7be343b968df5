"""Theano 1.0 public names composed in Python from existing ops: each checked against NumPy, Theano's
documentation or a hand computation (never Hypatia's own output), and the differentiable ones with
verify_grad.
"""
import importlib
import io
import warnings
from collections import OrderedDict

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import hypatia as theano
import hypatia.tensor as T
from hypatia.gradient import verify_grad

RNG = np.random.default_rng(20240611)


def run(outputs, givens=None):
    """Compiles outputs over the inputs in givens ({variable: value}) and runs them once."""
    givens = givens or {}
    return theano.function(list(givens), outputs)(*givens.values())


def rand(*shape):
    return RNG.standard_normal(shape)


# ---------------------------------------------------------------------------------------------------------
# tensor: elementwise
# ---------------------------------------------------------------------------------------------------------

def test_deg2rad_and_rad2deg():
    x = T.dvector("x")
    values = np.array([-180.0, 0.0, 45.0, 90.0, 360.0])
    assert_allclose(run(T.deg2rad(x), {x: values}), np.deg2rad(values))
    assert_allclose(run(T.rad2deg(x), {x: values}), np.rad2deg(values))
    verify_grad(T.deg2rad, [rand(4)])
    verify_grad(T.rad2deg, [rand(4)])


def test_deg2rad_of_integers_gives_floats_by_theanos_rule():
    assert T.deg2rad(T.bvector()).dtype == "float32"
    assert T.rad2deg(T.ivector()).dtype == "float64"
    i = T.ivector("i")
    assert_allclose(run(T.deg2rad(i), {i: np.array([90, 180], dtype="int32")}), [np.pi / 2, np.pi])


def test_inverse_hyperbolic_functions_match_numpy_near_their_edges():
    x = T.dvector("x")
    sinh_points = np.array([-1e300, -1e9, -3.0, -1e-10, -0.0, 0.0, 1e-300, 1e-10, 0.5, 3.0, 1e9, 1e300])
    cosh_points = np.array([1.0, 1.0 + 1e-15, 1.0 + 1e-12, 1.5, 10.0, 1e9, 1e300])
    tanh_points = np.array([-1.0, -0.999999, -1e-12, 0.0, 1e-300, 0.3, 0.999999999, 1.0])
    assert_allclose(run(T.arcsinh(x), {x: sinh_points}), np.arcsinh(sinh_points), rtol=1e-14)
    assert_allclose(run(T.arccosh(x), {x: cosh_points}), np.arccosh(cosh_points), rtol=1e-12)
    with np.errstate(divide="ignore"):
        assert_allclose(run(T.arctanh(x), {x: tanh_points}), np.arctanh(tanh_points), rtol=1e-12)
    # Outside the domain NumPy gives nan.
    assert np.isnan(run(T.arccosh(x), {x: np.array([0.5])})).all()
    assert np.isnan(run(T.arctanh(x), {x: np.array([1.5, -2.0])})).all()


def test_inverse_hyperbolic_functions_in_float32():
    f = T.fvector("f")
    points = np.array([-5.0, -1e-6, 0.25, 3.0], dtype="float32")
    out = run(T.arcsinh(f), {f: points})
    assert out.dtype == np.float32
    assert_allclose(out, np.arcsinh(points), rtol=1e-6)


def test_inverse_hyperbolic_gradients():
    verify_grad(T.arcsinh, [np.array([-2.0, -0.3, 0.0, 0.7, 4.0])])
    verify_grad(T.arccosh, [np.array([1.2, 2.0, 7.0])])
    verify_grad(T.arctanh, [np.array([-0.8, 0.0, 0.4])])
    x = T.dscalar("x")
    # d/dx asinh(x) = 1 at 0, by hand.
    assert_allclose(run(theano.grad(T.arcsinh(x), x), {x: 0.0}), 1.0)


def test_trunc_rounds_toward_zero_and_gives_floats_for_integers():
    x = T.dvector("x")
    values = np.array([-2.7, -1.5, -0.2, 0.0, 0.2, 1.5, 2.7])
    assert_array_equal(run(T.trunc(x), {x: values}), np.trunc(values))
    assert T.trunc(T.ivector()).dtype == "float64"
    assert T.trunc(T.bvector()).dtype == "float32"
    i = T.ivector("i")
    assert_array_equal(run(T.trunc(i), {i: np.array([-3, 4], dtype="int32")}), [-3.0, 4.0])


def test_round_modes():
    x = T.dvector("x")
    halves = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994])
    assert_array_equal(run(T.round(x), {x: halves}), np.round(halves))
    assert_array_equal(run(T.round(x, mode="half_to_even"), {x: halves}), np.round(halves))
    assert_array_equal(run(T.round(x, mode="half_away_from_zero"), {x: halves}), [-3, -2, -1, 1, 2, 3, 0])
    assert_array_equal(run(T.round_half_away_from_zero(x), {x: halves}), [-3, -2, -1, 1, 2, 3, 0])
    with pytest.raises(ValueError, match="mode"):
        T.round(x, mode="up")


def test_round_warns_only_when_config_warn_round_is_set():
    x = T.dvector("x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        T.round(x)
    with theano.config.change_flags(**{"warn.round": True}):
        with pytest.warns(UserWarning, match="half to even"):
            T.round(x)


def test_divmod_and_conj():
    a, b = T.lvector("a"), T.lvector("b")
    quotient, remainder = T.divmod(a, b)
    values_a, values_b = np.array([7, -7, 7, -7]), np.array([2, 2, -2, -2])
    got_q, got_r = run([quotient, remainder], {a: values_a, b: values_b})
    assert_array_equal(got_q, np.floor_divide(values_a, values_b))
    assert_array_equal(got_r, np.mod(values_a, values_b))
    x = T.dvector("x")
    assert_array_equal(run(T.conj(x), {x: np.array([1.0, -2.0])}), [1.0, -2.0])


# ---------------------------------------------------------------------------------------------------------
# tensor: reductions
# ---------------------------------------------------------------------------------------------------------

def test_ptp():
    m = T.dmatrix("m")
    values = rand(4, 5)
    assert_allclose(run(T.ptp(m), {m: values}), np.ptp(values))
    assert_allclose(run(T.ptp(m, axis=0), {m: values}), np.ptp(values, axis=0))
    assert_allclose(run(T.ptp(m, axis=1), {m: values}), np.ptp(values, axis=1))
    verify_grad(lambda v: T.ptp(v, axis=1), [rand(3, 4)])


@pytest.mark.parametrize("kwargs", [{}, {"rowvar": False}, {"bias": True}, {"ddof": 2}])
def test_cov_matches_numpy(kwargs):
    m = T.dmatrix("m")
    values = rand(3, 6)
    assert_allclose(run(T.cov(m, **kwargs), {m: values}), np.cov(values, **kwargs))
    verify_grad(lambda v: T.cov(v, **kwargs), [rand(3, 6)])


def test_cov_with_y_weights_and_a_single_variable():
    m, y, v = T.dmatrix("m"), T.dmatrix("y"), T.dvector("v")
    values, more, vector = rand(2, 5), rand(1, 5), rand(5)
    assert_allclose(run(T.cov(m, y), {m: values, y: more}), np.cov(values, more))
    out = run(T.cov(v), {v: vector})
    assert np.ndim(out) == 0
    assert_allclose(out, np.cov(vector))
    fweights = np.array([1, 2, 1, 3, 1])
    aweights = np.array([0.5, 1.0, 2.0, 1.0, 0.25])
    assert_allclose(run(T.cov(m, fweights=fweights), {m: values}), np.cov(values, fweights=fweights))
    assert_allclose(run(T.cov(m, aweights=aweights), {m: values}), np.cov(values, aweights=aweights))
    assert_allclose(run(T.cov(m, fweights=fweights, aweights=aweights, ddof=0), {m: values}),
                    np.cov(values, fweights=fweights, aweights=aweights, ddof=0))


def reference_arg_over_axes(values, axes, reduce):
    """Theano's documented rule: the kept axes first, the reduced ones (sorted) merged last."""
    axes = sorted(a % values.ndim for a in axes)
    kept = [d for d in range(values.ndim) if d not in axes]
    moved = values.transpose(kept + axes)
    return reduce(moved.reshape(moved.shape[:len(kept)] + (-1,)), axis=-1)


@pytest.mark.parametrize("axes", [(0, 2), (2, 0), (1, 2), (-1, 0), (0,), [1]])
def test_argmax_and_argmin_over_several_axes(axes):
    t = T.dtensor3("t")
    values = rand(3, 4, 5)
    assert_array_equal(run(T.argmax(t, axis=axes), {t: values}), reference_arg_over_axes(values, axes, np.argmax))
    assert_array_equal(run(T.argmin(t, axis=axes), {t: values}), reference_arg_over_axes(values, axes, np.argmin))
    assert_array_equal(run(t.argmax(axis=axes), {t: values}), reference_arg_over_axes(values, axes, np.argmax))


def test_argmax_over_several_axes_keepdims_and_max_agree():
    t = T.dtensor3("t")
    values = rand(3, 4, 5)
    index = run(T.argmax(t, axis=(0, 2), keepdims=True), {t: values})
    assert index.shape == (1, 4, 1)
    assert_array_equal(index[0, :, 0], reference_arg_over_axes(values, (0, 2), np.argmax))
    assert_allclose(run(T.max(t, axis=(0, 2)), {t: values}), values.max(axis=(0, 2)))
    assert_allclose(run(T.min(t, axis=[0, 2]), {t: values}), values.min(axis=(0, 2)))
    # Every axis: the index into the flattened tensor.
    assert run(T.argmax(t, axis=(0, 1, 2)), {t: values}) == values.argmax()
    assert_array_equal(run(T.max_and_argmax(t, axis=(1, 2))[1], {t: values}),
                       reference_arg_over_axes(values, (1, 2), np.argmax))


# ---------------------------------------------------------------------------------------------------------
# tensor: construction and indexing
# ---------------------------------------------------------------------------------------------------------

def test_mgrid_and_ogrid_match_numpy():
    dense = run(T.mgrid[0:3, 1:7:2])
    expected = np.mgrid[0:3, 1:7:2]
    assert len(dense) == 2
    for got, want in zip(dense, expected):
        assert_array_equal(got, want)
    open_grids = run(T.ogrid[0:3, 1:7:2])
    for got, want in zip(open_grids, np.ogrid[0:3, 1:7:2]):
        assert_array_equal(got, want)
    n = T.lscalar("n")
    assert_array_equal(run(T.mgrid[0:n, 0:2], {n: 3})[0], np.mgrid[0:3, 0:2][0])


def test_stacklists():
    a, b, c, d = T.dscalars("abcd")
    values = [1.0, 2.0, 3.0, 4.0]
    out = run(T.stacklists([[a, b], [c, d]]), dict(zip([a, b, c, d], values)))
    assert_array_equal(out, [[1.0, 2.0], [3.0, 4.0]])
    # Theano's documented example: a 2x2 grid of 4x4 matrices gives shape (2, 2, 4, 4).
    m = T.dmatrices("mnop")
    out = run(T.stacklists([[m[0], m[1]], [m[2], m[3]]]), {v: np.ones((4, 4)) for v in m})
    assert out.shape == (2, 2, 4, 4)
    verify_grad(lambda x, y: T.stacklists([[x, y], [y, x]]), [rand(3), rand(3)])


@pytest.mark.parametrize("N, M, k", [(3, None, 0), (3, 5, 1), (4, 2, -1), (2, 3, 5)])
def test_tri(N, M, k):
    out = run(T.tri(N, M, k))
    assert_array_equal(out, np.tri(N, M, k))
    assert out.dtype == theano.config.floatX
    assert run(T.tri(N, M, k, dtype="int32")).dtype == np.int32


@pytest.mark.parametrize("k", [-1, 0, 2])
def test_tril_and_triu(k):
    m = T.dmatrix("m")
    values = rand(4, 5)
    assert_array_equal(run(T.tril(m, k), {m: values}), np.tril(values, k))
    assert_array_equal(run(T.triu(m, k), {m: values}), np.triu(values, k))
    t = T.dtensor3("t")
    batch = rand(2, 3, 3)
    assert_array_equal(run(T.tril(t, k), {t: batch}), np.tril(batch, k))
    verify_grad(lambda v: T.tril(v, k), [rand(3, 4)])
    verify_grad(lambda v: T.triu(v, k), [rand(3, 4)])


def test_choose_matches_numpy():
    a = T.lmatrix("a")
    c0, c1, c2 = T.dmatrix("c0"), T.dmatrix("c1"), T.dmatrix("c2")
    index = np.array([[0, 2, 1], [2, 1, 0]])
    choices = [rand(2, 3), rand(2, 3), rand(2, 3)]
    assert_array_equal(run(T.choose(a, [c0, c1, c2]), {a: index, c0: choices[0], c1: choices[1], c2: choices[2]}),
                       np.choose(index, choices))
    stacked = T.dtensor3("stacked")
    assert_array_equal(run(T.choose(a, stacked), {a: index, stacked: np.stack(choices)}), np.choose(index, choices))
    verify_grad(lambda s: T.choose(index, s), [np.stack(choices)])


def test_choose_broadcasts_and_wraps_and_clips():
    a = T.lvector("a")
    index = np.array([0, 3, -1, 1])
    rows = [np.array([[1.0], [2.0]]), np.array([10.0, 20.0, 30.0, 40.0])]  # shapes (2, 1) and (4,)
    r0, r1 = T.dcol("r0"), T.dvector("r1")  # broadcasting needs the size-1 axis in the type
    for mode in ("wrap", "clip"):
        out = run(T.choose(a, [r0, r1], mode=mode), {a: index, r0: rows[0], r1: rows[1]})
        assert_array_equal(out, np.choose(index, rows, mode=mode))
    ok = np.array([0, 1, 1, 0])
    assert_array_equal(run(T.choose(a, [r0, r1]), {a: ok, r0: rows[0], r1: rows[1]}), np.choose(ok, rows))


def test_inverse_permutation_and_permute_row_elements():
    p = T.lvector("p")
    perm = np.array([2, 0, 3, 1])
    inverse = run(T.inverse_permutation(p), {p: perm})
    assert_array_equal(inverse, np.argsort(perm))
    assert_array_equal(perm[inverse], np.arange(4))

    x, y = T.dmatrix("x"), T.lmatrix("y")
    values = rand(3, 4)
    perms = np.array([RNG.permutation(4) for _ in range(3)])
    expected = np.array([row[order] for row, order in zip(values, perms)])
    assert_array_equal(run(T.permute_row_elements(x, y), {x: values, y: perms}), expected)
    inverted = np.empty_like(values)
    for i in range(3):
        inverted[i, perms[i]] = values[i]
    assert_array_equal(run(T.permute_row_elements(x, y, inverse=True), {x: values, y: perms}), inverted)
    # One permutation for every row; one row under every permutation.
    assert_array_equal(run(T.permute_row_elements(x, p), {x: values, p: perm}), values[:, perm])
    v = T.dvector("v")
    assert_array_equal(run(T.permute_row_elements(v, y), {v: values[0], y: perms}), values[0][perms])
    verify_grad(lambda w: T.permute_row_elements(w, perms), [values])
    verify_grad(lambda w: T.permute_row_elements(w, perms, inverse=1), [values])


def test_fill_diagonal():
    m = T.dmatrix("m")
    for shape in [(3, 3), (4, 2), (2, 5)]:
        values = rand(*shape)
        expected = values.copy()
        np.fill_diagonal(expected, 7.0)
        assert_array_equal(run(T.fill_diagonal(m, 7.0), {m: values}), expected)
    t = T.dtensor3("t")
    cube = rand(3, 3, 3)
    expected = cube.copy()
    np.fill_diagonal(expected, -1.0)
    assert_array_equal(run(T.extra_ops.fill_diagonal(t, -1.0), {t: cube}), expected)
    s = T.dscalar("s")
    verify_grad(T.fill_diagonal, [rand(3, 4), np.array(2.5)])
    # val's gradient is the sum of the output gradient over the diagonal (here 3 ones).
    assert_allclose(run(theano.grad(T.fill_diagonal(m, s).sum(), s), {m: rand(3, 4), s: 1.0}), 3.0)
    with pytest.raises(TypeError):
        T.fill_diagonal(T.lmatrix(), 1.5)
    with pytest.raises(TypeError):
        T.fill_diagonal(T.dvector(), 1.0)


@pytest.mark.parametrize("offset", [-2, -1, 0, 1, 3])
def test_fill_diagonal_offset(offset):
    m = T.dmatrix("m")
    values = rand(4, 5)
    expected = values.copy()
    rows = np.arange(4)
    cols = rows + offset
    keep = (cols >= 0) & (cols < 5)
    expected[rows[keep], cols[keep]] = 9.0
    assert_array_equal(run(T.fill_diagonal_offset(m, 9.0, offset), {m: values}), expected)
    verify_grad(lambda v, s: T.fill_diagonal_offset(v, s, offset), [rand(4, 5), np.array(0.5)])


def test_diff_and_bartlett():
    x = T.dmatrix("x")
    values = rand(4, 6)
    for n, axis in [(1, -1), (2, 1), (1, 0), (3, 0)]:
        assert_allclose(run(T.extra_ops.diff(x, n, axis), {x: values}), np.diff(values, n, axis))
    verify_grad(lambda v: T.extra_ops.diff(v, 2), [rand(3, 5)])
    M = T.lscalar("M")
    for points in (0, 1, 2, 5, 8):
        out = run(T.bartlett(M), {M: points})
        assert out.dtype == np.float64
        assert_allclose(out, np.bartlett(points))


def test_dtype_lists_and_tensor_alias():
    assert T.float_dtypes == ["float16", "float32", "float64"]
    assert T.int_dtypes == ["int8", "int16", "int32", "int64"]
    assert T.uint_dtypes == ["uint8", "uint16", "uint32", "uint64"]
    assert T.complex_dtypes == ["complex64", "complex128"]
    assert T.discrete_dtypes == ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
    assert T.continuous_dtypes == ["float16", "float32", "float64", "complex64", "complex128"]
    assert sorted(T.all_dtypes) == sorted(["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                                           "uint64", "float16", "float32", "float64", "complex64", "complex128"])
    for dtype in T.all_dtypes:  # every listed dtype is one Hypatia can declare
        assert T.tensor(dtype=dtype, shape=(None,)).dtype == dtype
    assert T.Tensor is T.TensorType
    assert T.Tensor("float32", (False, True))().type == T.TensorType("float32", (False, True))


# ---------------------------------------------------------------------------------------------------------
# tensor.xlogx and tensor.nnet
# ---------------------------------------------------------------------------------------------------------

def test_xlogx_and_xlogy0():
    from hypatia.tensor.xlogx import xlogx, xlogy0
    x, y = T.dvector("x"), T.dvector("y")
    values = np.array([0.0, 1e-300, 0.5, 1.0, 3.0])
    # By hand: 0 at 0, 1e-300 * log(1e-300), 0.5 log 0.5, 0, 3 log 3.
    assert_allclose(run(xlogx(x), {x: values}), [0.0, -6.907755278982137e-298, 0.5 * np.log(0.5), 0.0, 3 * np.log(3.0)])
    xs, ys = np.array([0.0, 0.0, 2.0, 0.5]), np.array([0.0, 3.0, 4.0, 0.25])
    assert_allclose(run(xlogy0(x, y), {x: xs, y: ys}), [0.0, 0.0, 2 * np.log(4.0), 0.5 * np.log(0.25)])
    verify_grad(xlogx, [np.array([0.3, 1.0, 2.5])])
    verify_grad(xlogy0, [np.array([0.3, 1.0, 2.5]), np.array([0.7, 1.5, 4.0])])
    assert T.xlogx.xlogx(T.ivector()).dtype == "float64"


def numpy_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_crossentropy_softmax_1hot_returns_nll_and_softmax():
    from hypatia.tensor.nnet import crossentropy_softmax_1hot, crossentropy_softmax_1hot_with_bias
    x, b, y = T.dmatrix("x"), T.dvector("b"), T.lvector("y")
    values, bias, labels = rand(4, 3), rand(3), np.array([0, 2, 1, 2])
    nll, sm = run(list(crossentropy_softmax_1hot(x, y)), {x: values, y: labels})
    expected_sm = numpy_softmax(values)
    assert_allclose(sm, expected_sm)
    assert_allclose(nll, -np.log(expected_sm[np.arange(4), labels]))
    nll, sm = run(list(crossentropy_softmax_1hot_with_bias(x, b, y)), {x: values, b: bias, y: labels})
    assert_allclose(nll, -np.log(numpy_softmax(values + bias)[np.arange(4), labels]))
    # Stable for large logits, where log(softmax) would give inf.
    big = np.array([[1000.0, 0.0]])
    nll, _ = run(list(crossentropy_softmax_1hot(x, y)), {x: big, y: np.array([1])})
    assert_allclose(nll, [1000.0])
    verify_grad(lambda v: crossentropy_softmax_1hot(v, labels)[0], [values])
    verify_grad(lambda v, c: crossentropy_softmax_1hot_with_bias(v, c, labels)[0], [values, bias])


def test_crossentropy_softmax_argmax_and_max_forms():
    nnet = T.nnet
    x, b, y = T.dmatrix("x"), T.dvector("b"), T.ivector("y")
    values, bias, labels = rand(5, 4), rand(4), np.array([0, 3, 1, 2, 2], dtype="int32")
    nll, sm, am = run(list(nnet.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)), {x: values, b: bias, y: labels})
    assert_array_equal(am, np.argmax(values + bias, axis=1))
    assert am.dtype == np.int32
    _, _, top, where = run(list(nnet.crossentropy_softmax_max_and_argmax_1hot(x, y)), {x: values, y: labels})
    assert_allclose(top, numpy_softmax(values).max(axis=1))
    assert_array_equal(where, values.argmax(axis=1))


def test_softmax_with_bias_and_softmax_graph():
    x, b = T.dmatrix("x"), T.dvector("b")
    values, bias = rand(3, 4), rand(4)
    assert_allclose(run(T.nnet.softmax_with_bias(x, b), {x: values, b: bias}), numpy_softmax(values + bias))
    assert_allclose(run(T.nnet.softmax_graph(x), {x: values}), numpy_softmax(values))
    verify_grad(T.nnet.softmax_with_bias, [values, bias])
    with pytest.raises(TypeError):
        T.nnet.softmax_with_bias(T.dvector(), b)


def test_prepend_to_each_row():
    m = T.dmatrix("m")
    values = rand(3, 2)
    assert_array_equal(run(T.nnet.prepend_0_to_each_row(m), {m: values}), np.hstack([np.zeros((3, 1)), values]))
    assert_array_equal(run(T.nnet.prepend_1_to_each_row(m), {m: values}), np.hstack([np.ones((3, 1)), values]))
    s = T.dscalar("s")
    assert_array_equal(run(T.nnet.prepend_scalar_to_each_row(s, m), {s: 4.0, m: values}),
                       np.hstack([np.full((3, 1), 4.0), values]))


def test_confusion_matrix_as_in_theanos_documentation():
    from hypatia.tensor.nnet import confusion_matrix
    x, y = T.vector(), T.vector()
    f = theano.function([x, y], confusion_matrix(x, y))
    conf_mat, order = f([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2])
    assert_array_equal(conf_mat, [[2, 0, 0], [0, 0, 1], [1, 0, 2]])
    assert conf_mat.dtype == np.int64
    assert_array_equal(order, [0.0, 1.0, 2.0])
    a, p = T.lvector("a"), T.lvector("p")
    conf_mat, order = run(confusion_matrix(a, p), {a: np.array([5, 3, 5]), p: np.array([5, 9, 3])})
    assert_array_equal(order, [3, 5, 9])
    assert_array_equal(conf_mat, [[0, 0, 1], [1, 1, 0], [0, 0, 0]])


# ---------------------------------------------------------------------------------------------------------
# hypatia.gradient and hypatia.updates
# ---------------------------------------------------------------------------------------------------------

def test_consider_constant_is_identity_with_zero_gradient():
    from hypatia.gradient import consider_constant
    x = T.dscalar("x")
    with pytest.warns(DeprecationWarning, match="zero_grad"):
        held = consider_constant(x)
    cost = held * x + x ** 2
    value, gradient = run([cost, theano.grad(cost, x)], {x: 3.0})
    assert_allclose(value, 18.0)
    assert_allclose(gradient, 3.0 + 6.0)  # the held factor counts as a constant 3
    with pytest.warns(DeprecationWarning):
        assert_allclose(run(theano.grad(consider_constant(x) ** 2, x), {x: 2.0}), 0.0)


def test_grad_scale_multiplies_the_gradient_only():
    from hypatia.gradient import grad_scale
    x = T.dvector("x")
    values = np.array([0.1, -2.0, 3e5, 1e-300])
    scaled = grad_scale(x, 0.25)
    out, gradient = run([scaled, theano.grad((scaled ** 2).sum(), x)], {x: values})
    assert_array_equal(out, values)
    assert_allclose(gradient, 0.25 * 2 * values)


def test_undefined_grad_raises_only_when_a_gradient_goes_through_it():
    from hypatia.gradient import undefined_grad
    x, y = T.dscalars("x", "y")
    held = undefined_grad(x)
    cost = held * y + y ** 2
    assert_allclose(run(cost, {x: 2.0, y: 3.0}), 15.0)  # the forward pass is x
    assert_allclose(run(theano.grad(cost, y), {x: 2.0, y: 3.0}), 2.0 + 6.0)  # x's side is never asked
    with pytest.raises(theano.GradientError, match="undefined_grad"):
        theano.grad(cost, x)


def h_softmax_reference(x, W1, b1, W2, b2, n_outputs):
    """P(class c | x) * P(output k of c | x) by the definition, in NumPy."""
    def softmax(a):
        e = np.exp(a - a.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    class_probs = softmax(x @ W1 + b1)                                  # (batch, classes)
    within = softmax(np.einsum("bi,cio->bco", x, W2) + b2)              # (batch, classes, per class)
    return (class_probs[:, :, None] * within).reshape(len(x), -1)[:, :n_outputs]


def test_h_softmax_matches_its_definition_with_and_without_targets():
    from hypatia.tensor.nnet import h_softmax
    batch, n_in, n_classes, per_class, n_outputs = 4, 5, 3, 4, 10  # 12 slots, the last 2 unused
    values = [rand(batch, n_in), rand(n_in, n_classes), rand(n_classes), rand(n_classes, n_in, per_class),
              rand(n_classes, per_class)]
    x, W1, W2 = T.dmatrix("x"), T.dmatrix("W1"), T.dtensor3("W2")
    b1, b2 = T.dvector("b1"), T.dmatrix("b2")
    target = T.lvector("target")
    every = h_softmax(x, batch, n_outputs, n_classes, per_class, W1, b1, W2, b2)
    chosen = h_softmax(x, batch, n_outputs, n_classes, per_class, W1, b1, W2, b2, target)
    targets = np.array([0, 9, 5, 3])
    out_every, out_chosen = theano.function([x, W1, b1, W2, b2, target], [every, chosen])(*values, targets)
    expected = h_softmax_reference(*values, n_outputs)
    assert_allclose(out_every, expected)
    assert_allclose(out_chosen, expected[np.arange(batch), targets])
    verify_grad(lambda *v: h_softmax(v[0], batch, n_outputs, n_classes, per_class, *v[1:], target=targets).sum(),
                values)


def test_grad_clip_is_available():
    assert callable(theano.gradient.grad_clip)  # behaviour: tests/python/test_search_ops.py


def test_numeric_grad_and_max_err():
    from hypatia.gradient import numeric_grad

    def f(a, b):
        return float(np.sum(a ** 2) + 3 * np.sum(a * b))
    a, b = np.array([1.0, -2.0]), np.array([[0.5, 0.25]])
    estimate = numeric_grad(f, [a, b])
    exact = [2 * a + 3 * b[0], 3 * a[None, :]]
    assert_allclose(estimate.gf[0], exact[0], atol=1e-5)
    assert_allclose(estimate.gf[1], exact[1], atol=1e-5)
    max_arg, max_pos, abs_err, rel_err = estimate.max_err(exact, 1e-4, 1e-4)
    assert abs_err < 1e-5 and rel_err < 1e-5
    wrong = [exact[0], exact[1] + np.array([[0.0, 1.0]])]
    assert estimate.max_err(wrong, 1e-4, 1e-4)[:2] == (1, 1)
    single = numeric_grad(lambda v: float(np.sum(np.sin(v))), np.array([0.0, 1.0]))
    assert_allclose(single.gf, np.cos([0.0, 1.0]), atol=1e-6)
    assert numeric_grad.type_eps["float64"] == 1e-7
    with pytest.raises(ValueError):
        estimate.abs_rel_errors([exact[0]])


def test_ordered_updates():
    from hypatia.updates import OrderedUpdates
    assert theano.OrderedUpdates is OrderedUpdates
    assert issubclass(OrderedUpdates, OrderedDict)
    w, b = theano.shared(np.zeros(2), "w"), theano.shared(1.0, "b")
    first = OrderedUpdates()
    first[w] = w + 1
    second = OrderedUpdates([(b, b * 2)])
    both = first + second
    assert list(both) == [w, b]
    assert isinstance(both, OrderedUpdates)
    assert list({b: b * 3} + first) == [b, w]
    with pytest.raises(TypeError):
        first[T.dvector()] = 1
    with pytest.raises(KeyError, match="Collision"):
        first + OrderedUpdates([(w, w - 1)])
    first.update(first)  # the same pairs again are not a collision
    f = theano.function([], [], updates=both)
    f()
    assert_array_equal(w.get_value(), [1.0, 1.0])
    assert b.get_value() == 2.0


# ---------------------------------------------------------------------------------------------------------
# config, scalar, compile, ifelse, printing
# ---------------------------------------------------------------------------------------------------------

def test_config_warn_flags_read_and_set():
    config = theano.config
    assert config.warn.subtensor_merge_bug is False
    assert config.warn.sum_div_dimshuffle_bug is False
    assert config.warn.round is False
    try:
        config.warn.subtensor_merge_bug = True
        assert config.warn.subtensor_merge_bug is True
        config.warn.sum_div_dimshuffle_bug = "False"
        assert config.warn.sum_div_dimshuffle_bug is False
        config.warn.ignore_bug_before = "all"
        assert config.warn.ignore_bug_before == "all"
    finally:
        config.warn.subtensor_merge_bug = False
        config.warn.ignore_bug_before = "0.8"
    with config.change_flags(**{"warn.round": True}):
        assert config.warn.round is True
    assert config.warn.round is False
    with pytest.raises(ValueError):
        config.warn.round = "maybe"


@pytest.mark.parametrize("value", ["off", "ignore", "warn", "raise"])
def test_config_compute_test_value_is_accepted(value):
    with theano.config.change_flags(compute_test_value=value):
        assert theano.config.compute_test_value == value
        x = T.dvector("x")
        assert_allclose(run(x * 2, {x: np.array([1.0])}), [2.0])
    assert theano.config.compute_test_value == "off"


def test_config_other_theano_flags():
    config = theano.config
    assert config.warn_float64 == "ignore"
    assert config.cast_policy == "custom"
    assert config.blas.ldflags == ""
    assert config.scan.allow_gc is False
    with config.change_flags(warn_float64="warn", allow_gc=False, **{"tensor.cmp_sloppy": 1}):
        assert config.warn_float64 == "warn"
        assert config.allow_gc is False
        assert config.tensor.cmp_sloppy == 1
    with pytest.raises(NotImplementedError, match="cast_policy"):
        config.cast_policy = "numpy+floatX"
    with pytest.raises(AttributeError):
        config.no_such_flag
    with pytest.raises(AttributeError):
        config.no_such_flag = 1


def test_config_flag_string_sets_dotted_flags():
    from hypatia.configparser import Config
    fresh = Config()
    fresh._apply_flag_string("warn.round=True,warn.sum_div_dimshuffle_bug=False,blas.ldflags=-lblas", "THEANO_FLAGS")
    assert fresh.warn.round is True
    assert fresh.warn.sum_div_dimshuffle_bug is False
    assert fresh.blas.ldflags == "-lblas"


def test_scalar_module():
    import hypatia.scalar as scalar
    from hypatia.scalar.basic import upcast as upcast_from_basic
    # NumPy's promotions (Theano's upcast under cast_policy='custom').
    assert scalar.upcast("int8", "float32") == "float32"
    assert scalar.upcast("int32", "float32") == "float64"
    assert scalar.upcast("int8", "uint8") == "int16"
    assert scalar.upcast("float32") == "float32"
    assert scalar.upcast("int64", "bool", "int16") == "int64"
    assert upcast_from_basic is scalar.upcast
    assert scalar.float32.dtype == "float32" and scalar.int32.dtype == "int32" and scalar.float64.dtype == "float64"
    assert scalar.float32 == scalar.Scalar("float32") and scalar.float32 != scalar.float64
    assert scalar.float32.upcast(scalar.int64) == "float64"
    x = scalar.float32("x")
    assert x.ndim == 0 and x.dtype == "float32"
    c = scalar.constant(2.5)
    assert c.ndim == 0
    assert_allclose(run(c * x, {x: np.float32(2.0)}), 5.0)
    with pytest.raises(TypeError):
        scalar.constant([1, 2])
    assert scalar.int8 in scalar.int_types and scalar.float64 in scalar.float_types


def test_monitor_mode_calls_its_functions_around_each_step(capsys):
    # The debugging FAQ's example: detect_nan names the node whose output holds the NaN.
    from hypatia.compile.monitormode import MonitorMode, detect_nan
    x = T.dscalar("x")
    f = theano.function([x], [T.log(x) * x], mode=theano.compile.MonitorMode(post_func=detect_nan))
    assert np.isnan(f(0)[0])
    out = capsys.readouterr().out
    assert "*** NaN detected ***" in out and "Outputs: [array(nan)]" in out
    calls = []
    y = T.dvector("y")
    g = theano.function([y], T.exp(y) * 5, mode=MonitorMode(
        pre_func=lambda i, node, fn: calls.append(("pre", i, [v[0] for v in fn.outputs])),
        post_func=lambda i, node, fn: calls.append(("post", i, [v[0].tolist() for v in fn.outputs]))))
    assert_allclose(g(np.array([0.0, 1.0])), 5 * np.exp([0.0, 1.0]))
    assert [c[0] for c in calls] == ["pre", "post"] and calls[0][2] == [None]
    assert_allclose(calls[1][2][0], 5 * np.exp([0.0, 1.0]))
    f(1.0)  # no NaN: nothing printed
    assert capsys.readouterr().out == ""


def test_ifelse_is_a_module_with_ifelse():
    ifelse_module = importlib.import_module("hypatia.ifelse")
    from hypatia.ifelse import ifelse
    assert ifelse_module.ifelse is ifelse
    a, b = T.dscalars("a", "b")
    x, y = T.dmatrices("x", "y")
    chosen = ifelse(T.lt(a, b), T.mean(x), T.mean(y))
    f = theano.function([a, b, x, y], chosen)
    ones, zeros = np.ones((2, 2)), np.zeros((2, 2))
    assert f(1.0, 2.0, ones, zeros) == 1.0
    assert f(2.0, 1.0, ones, zeros) == 0.0


def test_debugprint_returns_what_theano_returns(capsys):
    x = T.dvector("x")
    out = T.tanh(x) * 2
    assert "tanh" in theano.printing.debugprint(out, file="str")
    stream = io.StringIO()
    assert theano.printing.debugprint(out, file=stream) is stream
    assert theano.printing.debugprint(out) is None
    assert "tanh" in capsys.readouterr().out


@pytest.mark.parametrize("module, name", [
    ("hypatia.tensor", "stacklists"), ("hypatia.tensor", "mgrid"), ("hypatia.tensor", "ogrid"),
    ("hypatia.tensor.extra_ops", "fill_diagonal"), ("hypatia.tensor.nnet", "softmax_with_bias"),
    ("hypatia.tensor.nnet", "crossentropy_softmax_1hot"),
    ("hypatia.tensor.nnet", "crossentropy_softmax_argmax_1hot_with_bias"), ("hypatia.gradient", "grad_scale"),
])
def test_names_are_no_longer_listed_as_missing(module, name):
    assert callable(getattr(importlib.import_module(module), name)) or name in ("mgrid", "ogrid")


def test_sort_family_classes_answer_isinstance_for_compiled_graphs():
    x = T.dvector("x")
    ops = lambda out: [node.op for node in theano.function([x], out).maker.fgraph.apply_nodes]  # noqa: E731
    assert any(isinstance(op, T.TopKOp) for op in ops(T.topk(x, 1)))
    assert any(isinstance(op, T.SortOp) for op in ops(T.sort(x)))
    assert any(isinstance(op, T.ArgSortOp) for op in ops(T.argsort(x)))
    assert not any(isinstance(op, T.TopKOp) for op in ops(T.sort(x)))
    assert not isinstance(x, T.SortOp)


def test_theano_asarray_reads_floatx():
    value = theano._asarray([1, 2], dtype="floatX")
    assert value.dtype == theano.config.floatX and value.tolist() == [1, 2]
    assert theano._asarray(np.arange(3), "int8").dtype == np.int8


def test_sort_and_argsort_take_a_symbolic_axis():
    # Theano's test_sort passes axis as a symbolic scalar (even a float one); values from NumPy.
    m, axis, laxis = T.dmatrix(), T.scalar(), T.lscalar()
    v = np.array([[3.0, 1, 5], [0, 2, -1]])
    f = theano.function([m, axis], T.sort(m, axis))
    g = theano.function([m, laxis], T.argsort(m, laxis))
    for a in (0, 1, -1, -2):
        np.testing.assert_array_equal(f(v, a), np.sort(v, a))
        np.testing.assert_array_equal(g(v, a), np.argsort(v, a))
    with pytest.raises(IndexError, match="out of bounds"):
        g(v, 2)
    # A vector has one axis to choose: its range is still checked (0 and -1 only).
    vec = T.dvector()
    h1 = theano.function([vec, laxis], T.sort(vec, laxis))
    np.testing.assert_array_equal(h1(np.array([3.0, 1, 2]), -1), [1, 2, 3])
    with pytest.raises(ValueError, match="axis out of range"):
        h1(np.array([3.0, 1, 2]), 1)
    # The gradient follows the chosen axis: 2v, plus 3 where the entry is the first of its sorted line.
    cost = T.sort(m, laxis)[0].sum() * 3 + (T.sort(m, laxis) ** 2).sum()
    h = theano.function([m, laxis], theano.grad(cost, m))
    np.testing.assert_array_equal(h(v, 0), 2 * v + 3 * (v == v.min(axis=0)))
    np.testing.assert_array_equal(h(v, 1), 2 * v + 3 * np.array([[1, 1, 1], [0, 0, 0]]))


def test_theano_tensor_variable_methods():
    # Theano's _tensor_py_operators: elementwise functions, fill, norm, ptp, divmod, compress (the variable
    # is the condition), zeros_like/ones_like, transfer('cpu'). Values from NumPy.
    x = T.dvector("x")
    v = np.array([1.5, -2.5, 0.0])
    outs = [x.fill(3), x.norm(2), x.norm(1, axis=0), x.ptp(), x.__floor__(), divmod(x, 2)[1], x.cos(), x.arcsinh(),
            x.deg2rad(), x.zeros_like(), x.ones_like(dtype="int32"), x.compress(x), x.transfer("cpu"), x.trunc()]
    got = theano.function([x], outs)(v)
    want = [np.full(3, 3.0), np.linalg.norm(v), np.abs(v).sum(), np.ptp(v), np.floor(v), np.mod(v, 2), np.cos(v),
            np.arcsinh(v), np.deg2rad(v), np.zeros(3), np.ones(3, "int32"), v[v != 0], v, np.trunc(v)]
    for g, w in zip(got, want):
        assert_allclose(g, w)
        assert g.dtype == np.asarray(w).dtype
    assert T.constant(2.5).get_scalar_constant_value() == 2.5
    with pytest.raises(NotImplementedError):
        x.norm(0)
    with pytest.raises(ValueError, match="transfer"):
        x.transfer("gpu")


def test_incrementing_a_selection_by_a_value_of_more_dimensions_is_a_type_error():
    # Theano's test_subtensor.test_assigning_matrix_to_vector_selection.
    v, idx = T.fvector(), T.lvector()
    with pytest.raises(TypeError, match="more dimensions"):
        T.inc_subtensor(v[idx], T.fmatrix())


def test_tensor_opt_assert_checks_when_the_function_runs():
    # Theano's tensor.opt.Assert: the value passes through; a false condition raises with the message (Theano's
    # AssertionError is a ValueError here); the gradient flows to the value only; it survives pickling.
    import pickle
    x = T.dscalar("x")
    checked = T.opt.Assert("x must be positive")(x, T.gt(x, 0), T.lt(x, 10))
    f = theano.function([x], [checked * 2, theano.grad(checked * 3, x)])
    assert [float(v) for v in f(2.0)] == [4.0, 3.0]
    for bad in (-1.0, 11.0):
        with pytest.raises(ValueError, match="x must be positive"):
            f(bad)
    with pytest.raises(ValueError, match="x must be positive"):
        pickle.loads(pickle.dumps(f))(-1.0)
    assert T.opt.Assert("a") == T.opt.Assert("a") and T.opt.assert_op(x, T.gt(x, 0)).dtype == "float64"
    with pytest.raises(TypeError, match="scalars"):
        T.opt.Assert()(x, T.dvector())
