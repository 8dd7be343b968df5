"""hypatia.sparse against SciPy: every op over csr and csc, with empty rows and columns, explicit zeros, duplicate
entries and unsorted indices in the inputs; gradients by finite differences (verify_grad_sparse); SciPy values
in and out, sparse shared variables, and the errors."""
import numpy as np
import pytest
import scipy.sparse as sp

import hypatia as theano
from hypatia import sparse, tensor as T

FORMATS = ["csr", "csc"]


def messy(format, shape=(5, 6), seed=0, dtype="float64"):
    """A matrix with an empty row and column, an explicit zero, a duplicate and unsorted indices, and the dense
    matrix SciPy says it stands for."""
    rng = np.random.default_rng(seed)
    dense = rng.normal(size=shape) * (rng.random(shape) < 0.4)
    dense[1, :] = 0
    dense[:, 2] = 0
    coo = sp.coo_matrix(dense)
    last_row, last_col = shape[0] - 1, shape[1] - 1
    rows = np.concatenate([coo.row, [last_row, 0, 0]])
    cols = np.concatenate([coo.col, [last_col - 1, last_col, last_col]])
    vals = np.concatenate([coo.data, [0.0, 1.5, -0.5]])  # an explicit zero; (0, last column) stored twice
    m = sp.coo_matrix((vals, (rows, cols)), shape=shape).asformat(format)
    # Unsort each line: reverse its entries.
    for line in range(m.shape[0] if format == "csr" else m.shape[1]):
        a, b = m.indptr[line], m.indptr[line + 1]
        m.indices[a:b] = m.indices[a:b][::-1].copy()
        m.data[a:b] = m.data[a:b][::-1].copy()
    m.has_sorted_indices = False
    return m.astype(dtype), m.toarray().astype(dtype)


def run(inputs, outputs, *values):
    return theano.function(inputs, outputs)(*values)


def dense(v):
    return v.toarray() if sp.issparse(v) else np.asarray(v)


@pytest.mark.parametrize("format", FORMATS)
def test_values_cross_as_scipy_matrices(format):
    x = sparse.matrix(format, "x")
    assert x.type == sparse.SparseType(format, "float64") and x.format == format
    m, d = messy(format)
    out = run([x], x, m)
    assert sp.issparse(out) and out.format == format
    np.testing.assert_array_equal(out.toarray(), d)
    # The data, indices and indptr arrays are read in place: a view of the input comes back.
    data = run([x], sparse.csm_data(x), m)
    np.testing.assert_array_equal(data, m.data)


@pytest.mark.parametrize("format", FORMATS)
def test_products_against_scipy(format):
    x, y = sparse.matrix(format, "x"), sparse.csr_matrix("y")
    b, v, a = T.matrix("b"), T.vector("v"), T.matrix("a")
    m, d = messy(format)
    n, _ = messy("csr", shape=(6, 4), seed=1)
    B, V, A = np.arange(18.0).reshape(6, 3), np.linspace(-1, 1, 6), np.arange(10.0).reshape(2, 5)
    outs = run([x, y, b, v, a], [sparse.structured_dot(x, b), x.dot(v), T.dot(a, x), sparse.dot(x, b), sparse.dot(x, y),
                                 sparse.structured_dot(x, y), sparse.true_dot(x, b), sparse.dot(x, x.T)], m, n, B, V, A)
    np.testing.assert_allclose(outs[0], m @ B)
    np.testing.assert_allclose(outs[1], m @ V)
    np.testing.assert_allclose(outs[2], A @ m)
    np.testing.assert_allclose(outs[3], m @ B)
    np.testing.assert_allclose(outs[4], (m @ n).toarray())
    assert sp.issparse(outs[5])
    np.testing.assert_allclose(outs[5].toarray(), (m @ n).toarray())
    assert sp.issparse(outs[6]) and outs[6].format == format
    np.testing.assert_allclose(outs[6].toarray(), m @ B)
    np.testing.assert_allclose(outs[7], (m @ m.T).toarray())


def test_sampling_dot_against_scipy():
    x, y, p = T.matrix("x"), T.matrix("y"), sparse.csr_matrix("p")
    m, d = messy("csr")
    X, Y = np.random.default_rng(2).normal(size=(5, 3)), np.random.default_rng(3).normal(size=(6, 3))
    out = run([x, y, p], sparse.sampling_dot(x, y, p), X, Y, m)
    assert sp.issparse(out)
    np.testing.assert_allclose(out.toarray(), m.multiply(X @ Y.T).toarray(), atol=1e-12)


@pytest.mark.parametrize("format", FORMATS)
def test_elementwise_against_scipy(format):
    x, y, z = sparse.matrix(format, "x"), sparse.csc_matrix("y"), T.matrix("z")
    m, d = messy(format)
    n, e = messy("csc", seed=4)
    Z = np.arange(30.0).reshape(5, 6)
    outs = run([x, y, z], [x + y, x - y, x * y, x + z, z - x, x * z, x * 3, -x, x / 4.0, sparse.sub(x, z),
                           sparse.structured_exp(x), sparse.structured_add(x, 1.0), T.sqrt(abs(x)), sparse.sin(x),
                           sparse.structured_pow(x, 2), sparse.structured_maximum(x, 0.1), sparse.structured_minimum(x, 0.1)],
               m, n, Z)
    expected = [m + n, m - n, m.multiply(n), d + Z, Z - d, m.multiply(Z), m * 3, -m, m / 4.0, d - Z]
    for k, want in enumerate(expected):
        np.testing.assert_allclose(dense(outs[k]), dense(want), err_msg=str(k))
    for k in (0, 1, 2, 5, 6, 7, 8):
        assert sp.issparse(outs[k]), k
    stored = m.copy()
    stored.data = np.exp(stored.data)  # the structured op applies to every stored value, explicit zeros included
    np.testing.assert_allclose(outs[10].toarray(), stored.toarray())
    np.testing.assert_allclose(outs[11].toarray(), (m + sp_ones(m)).toarray())
    np.testing.assert_allclose(outs[12].toarray(), np.sqrt(np.abs(d)))
    np.testing.assert_allclose(outs[13].toarray(), np.sin(d))
    np.testing.assert_allclose(outs[14].toarray(), structured(m, lambda v: v ** 2).toarray())
    np.testing.assert_allclose(outs[15].toarray(), structured(m, lambda v: np.maximum(v, 0.1)).toarray())
    np.testing.assert_allclose(outs[16].toarray(), structured(m, lambda v: np.minimum(v, 0.1)).toarray())


def sp_ones(m):
    ones = m.copy()
    ones.data = np.ones_like(ones.data)
    return ones


def structured(m, f):
    """f applied to each stored value, as Theano's structured ops do (duplicates each on its own)."""
    out = m.copy()
    out.data = f(out.data)
    return out


@pytest.mark.parametrize("format", FORMATS)
def test_reductions_structure_and_conversions(format):
    x, d = sparse.matrix(format, "x"), T.matrix("d")
    m, dm = messy(format)
    outs = run([x, d], [sparse.sp_sum(x), sparse.sp_sum(x, axis=0), x.sum(axis=1), sparse.remove0(x), sparse.ensure_sorted_indices(x),
                        sparse.clean(x), x.T, sparse.csr_from_dense(d), sparse.csc_from_dense(d), sparse.dense_from_sparse(x),
                        sparse.sp_ones_like(x), sparse.sp_zeros_like(x), sparse.cast(x, "float32"), sparse.transpose(x)],
               m, dm)
    np.testing.assert_allclose(outs[0], m.sum())
    np.testing.assert_allclose(outs[1], np.asarray(m.sum(axis=0)).ravel())
    np.testing.assert_allclose(outs[2], np.asarray(m.sum(axis=1)).ravel())
    stripped = m.copy()
    stripped.eliminate_zeros()
    assert outs[3].nnz == stripped.nnz
    assert outs[4].has_sorted_indices and outs[4].nnz == m.nnz
    assert outs[5].has_sorted_indices and outs[5].nnz == stripped.nnz
    np.testing.assert_allclose(outs[6].toarray(), dm.T)
    assert outs[7].format == "csr" and outs[8].format == "csc"
    assert outs[7].nnz == np.count_nonzero(dm)
    np.testing.assert_allclose(outs[9], dm)
    np.testing.assert_allclose(outs[10].toarray(), sp_ones(m).toarray())
    assert outs[11].nnz == 0 and outs[11].shape == m.shape
    assert outs[12].dtype == np.float32
    assert outs[13].format != format


@pytest.mark.parametrize("format", FORMATS)
def test_stacking_indexing_and_arrays(format):
    x, y = sparse.matrix(format, "x"), sparse.csr_matrix("y")
    i, rows = T.iscalar("i"), T.lvector("rows")
    m, d = messy(format)
    n, e = messy("csr", shape=(3, 6), seed=5)
    data, indices, indptr, shape = sparse.csm_properties(x)
    outs = run([x, y, i, rows], [sparse.vstack([x, y]), sparse.hstack([x, x], format="csr"), x[i], x[1:4], x[:, 3], x[1:, :-2],
                                 x[2, 3], x[rows], x[:, rows], sparse.CSM(format)(data * 2, indices, indptr, shape), indptr, shape],
               m, n, 3, np.array([4, 0, -1, 4]))
    np.testing.assert_allclose(outs[0].toarray(), sp.vstack([m, n]).toarray())
    assert outs[0].format == format
    np.testing.assert_allclose(outs[1].toarray(), sp.hstack([m, m]).toarray())
    assert outs[1].format == "csr"
    np.testing.assert_allclose(outs[2].toarray(), m.tocsr()[3].toarray())
    np.testing.assert_allclose(outs[3].toarray(), d[1:4])
    np.testing.assert_allclose(outs[4].toarray(), d[:, 3:4])
    np.testing.assert_allclose(outs[5].toarray(), d[1:, :-2])
    np.testing.assert_allclose(outs[6], d[2, 3])
    np.testing.assert_allclose(outs[7].toarray(), d[[4, 0, -1, 4]])
    np.testing.assert_allclose(outs[8].toarray(), d[:, [4, 0, -1, 4]])
    np.testing.assert_allclose(outs[9].toarray(), 2 * d)
    np.testing.assert_array_equal(outs[10], m.indptr)
    assert outs[10].dtype == np.int32 and outs[11].dtype == np.int32
    np.testing.assert_array_equal(outs[11], m.shape)


def test_square_diagonal_and_scales():
    v, u, x = T.vector("v"), T.vector("u"), sparse.csr_matrix("x")
    m, d = messy("csr")
    r, c = np.arange(1.0, 6.0), np.arange(1.0, 7.0)
    outs = run([v, u, x], [sparse.square_diagonal(v), sparse.row_scale(x, v), sparse.col_scale(x, u), sparse.diag(x[:, :5])],
               r, c, m)
    np.testing.assert_allclose(outs[0].toarray(), np.diag(r))
    np.testing.assert_allclose(outs[1].toarray(), d * r[:, None])
    np.testing.assert_allclose(outs[2].toarray(), d * c[None, :])
    np.testing.assert_allclose(outs[3], m[:, :5].diagonal())


# ---- Gradients ----

STRUCTURED = {
    "structured_dot": (lambda x, b: sparse.structured_dot(x, b), "b"),
    "mul_s_d": (lambda x, b: x * b, "z"),
    "add_s_d": (lambda x, b: x + b, "z"),
    "structured_exp": (lambda x: sparse.structured_exp(x), None),
    "sp_sum sparse_grad": (lambda x: sparse.sp_sum(x, axis=1, sparse_grad=True), None),
    "dense_from_sparse": (lambda x: sparse.dense_from_sparse(x), None),
    "row_scale": (lambda x, b: sparse.row_scale(x, b[:, 0] + 0 * b[:, 0]), "b5"),
    "sampling_dot": (lambda x, u, w: sparse.sampling_dot(u, w, x), "uw"),
}
FULL = {
    "dot": (lambda x, b: sparse.dot(x, b), "b"),
    "true_dot": (lambda x, b: sparse.true_dot(x, b), "b"),
    "add_s_s": (lambda x, y: x + y, "y"),
    "mul_s_s": (lambda x, y: x * y, "y"),
    "sp_sum": (lambda x: sparse.sp_sum(x, axis=0), None),
    "transpose": (lambda x: x.T, None),
    "vstack": (lambda x, y: sparse.vstack([x, y]), "y"),
    "getitem": (lambda x: x[1:4, 2:], None),
    "rows": (lambda x: x[[3, 0, 3]], None),
}


def grad_point(kind, m):
    rng = np.random.default_rng(7)
    return {None: [], "b": [rng.normal(size=(6, 3))], "z": [rng.normal(size=(5, 6))], "y": [messy("csr", seed=8)[0]],
            "b5": [rng.normal(size=(5, 2))], "uw": [rng.normal(size=(5, 2)), rng.normal(size=(6, 2))]}[kind]


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("name", sorted(STRUCTURED) + sorted(FULL))
def test_gradients_by_finite_differences(format, name):
    fn, extra = STRUCTURED.get(name) or FULL[name]
    m, _ = messy(format)
    m.sum_duplicates()  # finite differences move each stored value on its own
    point = [m] + grad_point(extra, m)
    sparse.verify_grad_sparse(fn, point, structured=True)
    if name in FULL:
        sparse.verify_grad_sparse(fn, point, structured=False)


def test_structured_gradient_is_sparse_and_dot_gradient_dense():
    x, b = sparse.csr_matrix("x"), T.matrix("b")
    gs = theano.grad(T.sum(sparse.structured_dot(x, b)), x)
    gd = theano.grad(T.sum(sparse.dot(x, b)), x)
    assert gs.type == sparse.SparseType("csr", "float64") and gd.type.ndim == 2 and not hasattr(gd, "format")
    m, d = messy("csr")
    B = np.arange(18.0).reshape(6, 3)
    s, full = run([x, b], [gs, gd], m, B)
    np.testing.assert_allclose(full, np.tile(B.sum(axis=1), (5, 1)))
    np.testing.assert_allclose(s.toarray(), (sp_ones(m).multiply(full)).toarray())


# ---- State and errors ----


def test_sparse_shared_variable_trains_on_stored_values():
    m, d = messy("csr")
    m.sum_duplicates()
    w = theano.shared(m, "w")
    assert w.type == sparse.SparseType("csr", "float64")
    b = T.matrix("b")
    cost = T.sum(sparse.structured_dot(w, b) ** 2)
    g = theano.grad(cost, w)
    step = theano.function([b], cost, updates=[(w, w - 0.01 * g)])
    B = np.random.default_rng(9).normal(size=(6, 2))
    costs = [float(step(B)) for _ in range(5)]
    assert costs[-1] < costs[0]
    after = w.get_value()
    assert sp.issparse(after) and after.nnz == m.nnz  # only stored values moved
    w.set_value(sp.csc_matrix(d))  # another format is converted to the variable's
    assert w.get_value().format == "csr"
    with pytest.raises(TypeError, match="SciPy sparse matrix"):
        w.set_value(d)


def test_errors_name_the_op_and_line():
    x, b = sparse.csr_matrix("x"), T.matrix("b")
    with pytest.raises(TypeError, match=r"\[exp\].*sparse matrix x.*structured_exp.*test_sparse.py"):
        T.exp(x)
    with pytest.raises(TypeError, match="sparse matrix"):
        T.nnet.softmax(x)
    f = theano.function([x, b], sparse.structured_dot(x, b))
    m, _ = messy("csr")
    with pytest.raises(ValueError, match=r"\[structured_dot\].*inner dimensions.*test_sparse.py"):
        f(m, np.ones((4, 2)))
    with pytest.raises(TypeError, match="takes a SciPy sparse matrix"):
        f(np.ones((5, 6)), np.ones((6, 2)))
    g = theano.function([b], b * 2)
    with pytest.raises(TypeError, match="toarray"):
        g(m)
    # A matrix whose arrays were edited after SciPy checked them: an index past the columns.
    data, indices, indptr = np.ones(2), np.array([0, 9], dtype=np.int32), np.array([0, 1, 2, 2, 2, 2], dtype=np.int32)
    bad = sp.csr_matrix((5, 6))
    bad.data, bad.indices, bad.indptr = data, indices, indptr
    with pytest.raises(ValueError, match=r"index 9.*outside 0..5"):
        f(bad, np.ones((6, 2)))


def test_sparse_inputs_on_every_device(device_under_test):
    """On a device the sparse ops stay on the host and the dense work around them moves; results match SciPy."""
    x, w = sparse.csr_matrix("x"), theano.shared(np.random.default_rng(1).normal(size=(6, 3)), "w")
    p = T.nnet.softmax(sparse.structured_dot(x, w))
    cost = -T.mean(T.log(p[:, 0]))
    g = theano.grad(cost, w)
    f = theano.function([x], [p, g])
    m, d = messy("csr")
    probs, grad = f(m)
    z = d @ w.get_value()
    want = np.exp(z - z.max(axis=1, keepdims=True))
    want /= want.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probs, want, rtol=1e-6)
    onehot = np.zeros_like(want)
    onehot[:, 0] = 1
    np.testing.assert_allclose(grad, d.T @ ((want - onehot) / 5), rtol=1e-6, atol=1e-12)


def test_pickled_functions_keep_sparse_inputs_and_shared_matrices():
    import pickle

    m, d = messy("csc")
    w = theano.shared(m, "w")
    x, b = sparse.csr_matrix("x"), T.matrix("b")
    f = theano.function([x, b], [sparse.structured_dot(x, b) + sparse.dot(w.T, b[:5]).sum(), sparse.structured_exp(x)])
    g = pickle.loads(pickle.dumps(f))
    n, _ = messy("csr", seed=3)
    B = np.arange(18.0).reshape(6, 3)
    for want, got in zip(f(n, B), g(n, B)):
        np.testing.assert_allclose(dense(got), dense(want))
    x2 = pickle.loads(pickle.dumps(x))
    assert x2.type == sparse.SparseType("csr", "float64")


def test_results_never_share_memory_with_inputs_constants_or_shared_matrices():
    m, d = messy("csr")
    x = sparse.csr_matrix("x")
    data = theano.function([x], sparse.csm_data(x))(m)
    data[:] = 0
    assert np.any(m.data != 0)  # the input's values are untouched
    s = theano.shared(m.copy(), "s")
    out, again, flipped = theano.function([], [s, s, s.T])()
    out.data[:] = 7
    assert not np.any(s.get_value().data == 7)
    assert not np.shares_memory(out.data, again.data) and not np.shares_memory(again.data, flipped.data)


def test_arithmetic_rules_of_mixed_operands():
    x, z, d = sparse.csr_matrix("x", dtype="float32"), T.fmatrix("z"), T.matrix("d")
    assert (2.0 * x).dtype == "float32" and (x * 2.0).dtype == "float32" and (1 + x).dtype == "float32"
    m, dm = messy("csr", dtype="float32")
    W = np.arange(12.0, dtype="float32").reshape(6, 2)
    # A one-row product broadcast over z's rows: an elementwise sum (not usmm).
    f = theano.function([x, z], z + sparse.structured_dot(x[0], theano.shared(W)))
    np.testing.assert_allclose(f(m, np.ones((3, 2), "float32")), np.ones((3, 2)) + dm[0:1] @ W, rtol=1e-6)
    # Division as SciPy: by a scalar, the stored values; by a dense array, the dense quotient.
    xd = sparse.csr_matrix("xd")
    q = theano.function([xd, d], [xd / 4, xd / d])
    m64, dm64 = messy("csr")
    D = np.arange(1.0, 31.0).reshape(5, 6)
    D[1, 0] = 0  # 0 / 0
    by_scalar, by_dense = q(m64, D)
    assert sp.issparse(by_scalar) and not sp.issparse(by_dense)
    np.testing.assert_allclose(by_dense, dm64 / D)


def test_strict_sparse_inputs_and_imaginary_parts():
    x = sparse.csr_matrix("x")
    f = theano.function([theano.In(x, strict=True)], sparse.sp_sum(x))
    m, d = messy("csr")
    np.testing.assert_allclose(f(m), d.sum())
    with pytest.raises(TypeError, match="strict"):
        f(m.tocsc())
    with pytest.raises(TypeError, match="strict"):
        f(m.astype("float32"))
    g = theano.function([x], sparse.sp_sum(x), allow_input_downcast=True)
    with pytest.raises(TypeError, match="is real"):
        g(m.astype("complex128"))


@pytest.mark.parametrize("format", FORMATS)
def test_comparisons_as_scipy(format):
    x, y, d = sparse.matrix(format, "x"), sparse.csr_matrix("y"), T.matrix("d")
    m, dm = messy(format)
    n, dn = messy("csr", seed=6)
    D = np.zeros((5, 6))
    outs = run([x, y, d], [x > 0.5, x < 0.5, sparse.neq(x, y), sparse.eq(x, y), x >= d, -1.0 < x], m, n, D)
    expected = [dm > 0.5, dm < 0.5, dm != dn, dm == dn, dm >= D, -1.0 < dm]
    for k, want in enumerate(expected):
        assert dense(outs[k]).dtype == np.bool_, k
        np.testing.assert_array_equal(dense(outs[k]), want, err_msg=str(k))
    for k in (0, 1, 2, 3, 5):
        assert sp.issparse(outs[k]), k
    assert outs[0].nnz == np.count_nonzero(dm > 0.5)  # only true entries are stored
