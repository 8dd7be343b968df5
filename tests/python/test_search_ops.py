"""topk/argtopk, bincount, searchsorted, unique, nonzero, unravel_index/ravel_multi_index and grad_clip
against NumPy, in FAST_RUN and FAST_COMPILE, with their error messages and gradients."""
import numpy as np
import pytest

import hypatia as theano
import hypatia.tensor as T
from hypatia.tensor import extra_ops

INTS = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
ALL = ["bool"] + INTS + ["float32", "float64"]
NUMBERS = INTS + ["float32", "float64"]


def data(shape, dtype, lo=-4, hi=4, seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if dtype.startswith("float"):
        return rng.uniform(lo, hi, shape).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(lo, info.min), min(hi, info.max) + 1, shape).astype(dtype)


def sym(value, name="x"):
    """A symbolic input for value: dimensions of size 1 declared 1, others None."""
    value = np.asarray(value)
    return T.tensor(name, dtype=value.dtype.name, shape=tuple(1 if s == 1 else None for s in value.shape))


def run(build, *values):
    """build(*inputs) compiled in FAST_RUN and FAST_COMPILE, which must agree; the FAST_RUN results."""
    inputs = [sym(v, f"x{i}") for i, v in enumerate(values)]
    outputs = build(*inputs)
    results = [theano.function(inputs, outputs, mode=mode, on_unused_input="ignore")(*values)
               for mode in ("FAST_RUN", "FAST_COMPILE")]
    for fast, compiled in zip(*[r if isinstance(r, list) else [r] for r in results]):
        assert fast.dtype == compiled.dtype and fast.shape == compiled.shape
        np.testing.assert_array_equal(fast, compiled)
    return results[0]


def check(got, want, dtype=None):
    want = np.asarray(want)
    assert got.dtype == np.dtype(dtype or want.dtype), f"dtype {got.dtype}, expected {dtype or want.dtype}"
    assert got.shape == want.shape, f"shape {got.shape}, expected {want.shape}"
    np.testing.assert_allclose(got, want) if got.dtype.kind == "f" else np.testing.assert_array_equal(got, want)


def expected_argtopk(x, kth, axis):
    # Largest (smallest) first, ties by position: a stable sort of -x (x); exact for every int in float64.
    keys = -x.astype("float64") if kth > 0 else x.astype("float64")
    order = np.argsort(keys, axis=axis, kind="stable")
    return np.take(order, np.arange(abs(kth)), axis=axis)


# ---- topk ----

@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("kth, axis", [(2, -1), (-3, -1), (1, 0), (-2, 0), (4, 1)])
def test_topk_matches_numpy(dtype, kth, axis):
    x = data((3, 4), dtype, seed=abs(kth))
    values, positions = run(lambda v: list(T.topk_and_argtopk(v, kth, axis=axis)), x)
    want = expected_argtopk(x, kth, axis)
    check(positions, want, "int64")
    check(values, np.take_along_axis(x, want, axis))
    check(run(lambda v: T.topk(v, kth, axis=axis, sorted=False), x), np.take_along_axis(x, want, axis))


def test_topk_flattened_nan_idx_dtype_and_symbolic_kth():
    x = np.array([[1.0, np.nan], [7.0, 2.0]])
    check(run(lambda v: T.argtopk(v, 2, axis=None), x), [1, 2])  # NaN counts as the largest
    check(run(lambda v: T.argtopk(v, -1, idx_dtype="int16"), x), [[0], [1]], "int16")
    k = T.lscalar("k")
    m = T.matrix("m")
    out = theano.function([m, k], T.topk(m, k))(np.arange(6.0).reshape(2, 3), -2)
    check(out, [[0.0, 1.0], [3.0, 4.0]])
    assert T.topk(m, 2).type.shape == (None, 2)


@pytest.mark.parametrize("shape, kth", [((0, 3), 2), ((1, 1), 1), ((2, 1), -1)])
def test_topk_empty_and_size_one(shape, kth):
    x = data(shape, "float64")
    check(run(lambda v: T.topk(v, kth), x), np.take_along_axis(x, expected_argtopk(x, kth, -1), -1))


def test_topk_errors():
    m = T.matrix("m")
    k = T.lscalar("k")
    f = theano.function([m, k], T.topk(m, k))
    with pytest.raises(ValueError, match=r"\[topk\] kth=4 is out of range for axis 1 of float64\(2, 3\)"):
        f(np.zeros((2, 3)), 4)
    with pytest.raises(ValueError, match="nonzero"):
        f(np.zeros((2, 3)), 0)
    with pytest.raises(TypeError, match=r"\[topk\] kth must be an integer scalar"):
        T.topk(m, T.scalar("f"))
    with pytest.raises(TypeError, match="idx_dtype"):
        T.argtopk(m, 1, idx_dtype="float32")
    with pytest.raises(ValueError, match="axis 2"):
        T.topk(m, 1, axis=2)


def test_topk_gradient():
    rng = np.random.default_rng(3)
    point = rng.permutation(12).reshape(3, 4).astype("float64")  # distinct values: the choice is stable
    theano.gradient.verify_grad(lambda v: T.topk(v, 2), [point])
    theano.gradient.verify_grad(lambda v: T.topk(v, -2, axis=0), [point])
    theano.gradient.verify_grad(lambda v: T.topk(v, 5, axis=None), [point])
    x = T.vector("x")
    g = theano.function([x], theano.grad(T.sum(T.topk(x, 2) * np.array([10.0, 1.0])), x))
    check(g(np.array([1.0, 5.0, 3.0])), [0.0, 10.0, 1.0])


# ---- bincount ----

@pytest.mark.parametrize("dtype", INTS + ["bool"])
def test_bincount_matches_numpy(dtype):
    x = np.abs(data((9,), dtype)).astype(dtype)
    check(run(lambda v: extra_ops.bincount(v), x), np.bincount(x), "int64")
    check(run(lambda v: extra_ops.bincount(v, minlength=8), x), np.bincount(x, minlength=8), "int64")


@pytest.mark.parametrize("weights_dtype", ["float32", "float64", "int32"])
def test_bincount_weights_keep_their_dtype(weights_dtype):
    x = np.array([1, 3, 1, 0], dtype="int32")
    w = np.array([0.5, 2, 1, 4]).astype(weights_dtype)
    check(run(lambda v, u: extra_ops.bincount(v, u), x, w), np.bincount(x, w).astype(weights_dtype))


def test_bincount_empty_errors_and_gradient():
    empty = np.zeros(0, dtype="int64")
    check(run(lambda v: extra_ops.bincount(v), empty), np.bincount(empty))
    check(run(lambda v: extra_ops.bincount(v, minlength=3), empty), np.bincount(empty, minlength=3))
    x = T.ivector("x")
    f = theano.function([x], extra_ops.bincount(x, assert_nonneg=True))
    with pytest.raises(ValueError, match=r"\[bincount\] x holds the negative value -2"):
        f(np.array([1, -2], dtype="int32"))
    w = T.vector("w")
    g = theano.function([x, w], extra_ops.bincount(x, w))
    with pytest.raises(ValueError, match=r"\[bincount\] weights of shape \(3,\) do not match x of shape \(2,\)"):
        g(np.array([1, 2], dtype="int32"), np.zeros(3))
    with pytest.raises(TypeError, match=r"\[bincount\] x must be a vector of integers, got float64"):
        extra_ops.bincount(T.vector("f"))
    with pytest.raises(ValueError, match="minlength"):
        extra_ops.bincount(x, minlength=-1)
    bins = np.array([2, 0, 2, 5])
    theano.gradient.verify_grad(lambda u: extra_ops.bincount(bins, u), [np.array([0.5, 1.0, 2.0, -1.0])])


# ---- searchsorted ----

@pytest.mark.parametrize("dtype", NUMBERS)
@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_matches_numpy(dtype, side):
    x = np.sort(data((8,), dtype))
    v = data((3, 2), dtype, seed=1)
    check(run(lambda a, b: extra_ops.searchsorted(a, b, side=side), x, v), np.searchsorted(x, v, side=side))
    unsorted = data((8,), dtype, seed=2)
    sorter = np.argsort(unsorted, kind="stable")
    check(run(lambda a, b, s: extra_ops.searchsorted(a, b, side, s), unsorted, v, sorter),
          np.searchsorted(unsorted, v, side, sorter))


@pytest.mark.parametrize("x, v", [([], [1.0]), ([1.0], []), ([1.0], [[1.0]]), ([1.0, 2.0, np.nan], [np.nan, 3.0])])
def test_searchsorted_empty_size_one_and_nan(x, v):
    x, v = np.array(x), np.array(v)
    for side in ("left", "right"):
        check(run(lambda a, b: extra_ops.searchsorted(a, b, side=side), x, v), np.searchsorted(x, v, side=side))


def test_searchsorted_errors_and_gradient():
    x, s = T.vector("x"), T.lvector("s")
    f = theano.function([x, s], extra_ops.searchsorted(x, 1.0, sorter=s))
    with pytest.raises(ValueError, match=r"\[searchsorted\] sorter of shape \(1,\) must have x's length 2"):
        f(np.array([1.0, 2.0]), np.array([0]))
    with pytest.raises(ValueError, match="sorter entry 5 is out of range"):
        f(np.array([1.0, 2.0]), np.array([0, 5]))
    with pytest.raises(TypeError, match=r"\[searchsorted\] x must be a vector"):
        extra_ops.searchsorted(T.matrix("m"), x)
    with pytest.raises(ValueError, match="side"):
        extra_ops.searchsorted(x, x, side="middle")
    v = T.vector("v")
    cost = T.sum(T.cast(extra_ops.searchsorted(x, v), "float64") * v)
    g = theano.function([x, v], theano.grad(cost, v))
    check(g(np.array([1.0, 2.0, 3.0]), np.array([2.5, 0.0])), [2.0, 0.0])


# ---- unique ----

@pytest.mark.parametrize("dtype", ALL)
def test_unique_matches_numpy(dtype):
    x = data((4, 5), dtype, lo=-2, hi=2)
    got = run(lambda v: extra_ops.unique(v, True, True, True), x)
    want = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    for g, w in zip(got, want):
        check(g, w.reshape(-1) if g is got[2] else w, x.dtype if g is got[0] else "int64")
    check(run(lambda v: extra_ops.unique(v), x), np.unique(x))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_unique_along_an_axis(axis):
    x = np.array([[1, 2, 1], [0, 5, 0], [1, 2, 1]], dtype="int32")
    got = run(lambda v: extra_ops.unique(v, return_index=True, return_inverse=True, return_counts=True,
                                         axis=axis), x)
    want = np.unique(x, return_index=True, return_inverse=True, return_counts=True, axis=axis)
    for g, w in zip(got, want):
        check(g, w.reshape(-1) if g is got[2] else w, x.dtype if g is got[0] else "int64")


@pytest.mark.parametrize("x", [np.zeros(0), np.array([7.0]), np.array([np.nan, 1.0, np.nan])])
def test_unique_empty_size_one_and_nan(x):
    got = run(lambda v: extra_ops.unique(v, return_counts=True), x)
    want = np.unique(x, return_counts=True)
    check(got[0], want[0])
    check(got[1], want[1], "int64")


def test_unique_errors_and_gradient():
    with pytest.raises(ValueError, match=r"\[unique\] axis 2"):
        extra_ops.unique(T.matrix("m"), axis=2)
    theano.gradient.verify_grad(lambda v: extra_ops.unique(v, axis=1), [np.array([[0.5, 2.0, -1.0], [1.0, 3.0, 0.0]])])


# ---- nonzero ----

@pytest.mark.parametrize("dtype", ALL)
@pytest.mark.parametrize("shape", [(3, 4), (5,), (2, 1, 3), (0, 3), (1,)])
def test_nonzero_matches_numpy(dtype, shape):
    a = data(shape, dtype, lo=-1, hi=1)
    rows = run(lambda v: list(T.nonzero(v)), a)
    for got, want in zip(rows, np.nonzero(a)):
        check(got, want, "int64")
    check(run(lambda v: T.nonzero(v, return_matrix=True), a), np.array(np.nonzero(a)).reshape(len(shape), -1),
          "int64")
    check(run(lambda v: T.flatnonzero(v), a), np.flatnonzero(a), "int64")
    check(run(lambda v: T.nonzero_values(v), a), a.ravel()[np.flatnonzero(a)])
    check(run(lambda v: v.nonzero()[0], a), np.nonzero(a)[0], "int64")


def test_nonzero_errors_shape_and_gradient():
    with pytest.raises(ValueError, match=r"\[nonzero\] needs at least one dimension"):
        T.nonzero(T.scalar("s"))
    with pytest.raises(ValueError, match=r"\[flatnonzero\] needs at least one dimension"):
        T.flatnonzero(T.scalar("s"))
    assert T.nonzero(T.matrix("m"), return_matrix=True).type.shape == (2, None)
    theano.gradient.verify_grad(lambda v: T.nonzero_values(v * 1.0), [np.array([[0.5, 1.5], [-2.0, 3.0]])])
    # Through a shape: the count is read from the computed coordinates.
    m = T.matrix("m")
    f = theano.function([m], T.flatnonzero(m).shape[0])
    assert f(np.array([[0.0, 1.0], [2.0, 0.0]])) == 2


# ---- unravel_index / ravel_multi_index ----

@pytest.mark.parametrize("dtype", INTS)
@pytest.mark.parametrize("order", ["C", "F"])
def test_unravel_and_ravel_match_numpy(dtype, order):
    dims = (2, 3, 2)
    indices = (np.arange(12).reshape(3, 4) % (12 if dtype != "int8" else 12)).astype(dtype)
    got = run(lambda i: list(T.unravel_index(i, dims, order=order)), indices)
    want = np.unravel_index(indices, dims, order=order)
    for g, w in zip(got, want):
        check(g, w, "int64")
    coordinates = [w.astype(dtype) for w in want]
    check(run(lambda *c: T.ravel_multi_index(c, dims, order=order), *coordinates),
          np.ravel_multi_index(coordinates, dims, order=order), "int64")


@pytest.mark.parametrize("mode", ["wrap", "clip", ("clip", "wrap")])
def test_ravel_multi_index_modes_and_broadcasting(mode):
    rows, cols = np.array([-1, 0, 5]), np.array([[7], [-9]])
    check(run(lambda r, c: T.ravel_multi_index((r, c), (3, 4), mode=mode), rows, cols),
          np.ravel_multi_index((rows, cols), (3, 4), mode=mode))


def test_ravel_symbolic_dims_empty_and_errors():
    m = T.matrix("m")
    i = T.lvector("i")
    r, c = T.unravel_index(i, m.shape)
    f = theano.function([m, i], [r, c, T.ravel_multi_index((r, c), m.shape)])
    out = f(np.zeros((3, 5)), np.array([7, 14]))
    check(out[0], [1, 2])
    check(out[1], [2, 4])
    check(out[2], [7, 14])
    empty = f(np.zeros((3, 5)), np.zeros(0, dtype="int64"))
    assert [e.shape for e in empty] == [(0,), (0,), (0,)]
    with pytest.raises(ValueError, match=r"\[unravel_index\] index 15 is out of bounds"):
        f(np.zeros((3, 5)), np.array([15]))
    g = theano.function([i], T.ravel_multi_index((i, i), (2, 2)))
    with pytest.raises(ValueError, match=r"\[ravel_multi_index\] index 2 is out of bounds for dimension 0 of size 2"):
        g(np.array([2]))
    with pytest.raises(TypeError, match=r"\[unravel_index\] indices must be integers"):
        T.unravel_index(T.vector("f"), (2, 3))
    with pytest.raises(ValueError, match="1 index arrays for 2 dims"):
        T.ravel_multi_index((i,), (2, 3))
    with pytest.raises(ValueError, match="mode must be"):
        T.ravel_multi_index((i, i), (2, 3), mode="bounce")
    with pytest.raises(ValueError, match="order"):
        T.unravel_index(i, (2, 3), order="K")


# ---- grad_clip ----

def test_grad_clip_clips_only_the_gradient():
    from hypatia.gradient import grad_clip
    x = T.vector("x")
    clipped = grad_clip(x, -1.0, 0.5)
    cost = T.sum(clipped * np.array([3.0, 0.25, -4.0]))
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        value, gradient = theano.function([x], [clipped, theano.grad(cost, x)], mode=mode)(np.array([1.0, 2.0, 3.0]))
        check(value, [1.0, 2.0, 3.0])
        check(gradient, [0.5, 0.25, -1.0])
    f32 = T.fvector("f")
    g32 = theano.function([f32], theano.grad(T.sum(grad_clip(f32, 0, 1) * 5), f32))(np.ones(2, dtype="float32"))
    check(g32, np.ones(2, dtype="float32"))
    theano.gradient.verify_grad(lambda v: grad_clip(T.exp(v), -100, 100), [np.array([0.5, -1.0])])
    with pytest.raises(ValueError, match=r"\[grad_clip\] lower_bound"):
        grad_clip(x, 1, -1)


def test_names_are_no_longer_missing():
    for name in ("bincount", "unique", "searchsorted", "ravel_multi_index", "unravel_index"):
        assert callable(getattr(extra_ops, name))
    for name in ("nonzero", "flatnonzero", "nonzero_values", "topk", "argtopk", "topk_and_argtopk"):
        assert callable(getattr(T, name))
    assert callable(theano.gradient.grad_clip)
    assert callable(extra_ops.compress)


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_compress_matches_numpy(axis):
    x = T.dmatrix("x")
    c = T.bvector("c")
    value = np.arange(12.0).reshape(3, 4)
    condition = np.array([1, 0, 1], dtype="int8") if axis != 1 else np.array([0, 1, 1, 0], dtype="int8")
    out = theano.function([c, x], extra_ops.compress(c, x, axis=axis))(condition, value)
    np.testing.assert_array_equal(out, np.compress(condition, value, axis=axis))
    # A condition shorter than the axis leaves the rest out, as np.compress does.
    short = np.array([0, 1], dtype="int8")
    np.testing.assert_array_equal(theano.function([c, x], extra_ops.compress(c, x, axis=0))(short, value),
                                  np.compress(short, value, axis=0))
