"""Where Hypatia once differed from Theano 1.0: each expected value comes from Theano's documentation,
its source's stated rule, NumPy, or a hand computation (noted per test)."""
import copy
import warnings

import numpy as np
import pytest

import hypatia as theano
import hypatia.tensor as T
from hypatia.tensor.shared_randomstreams import RandomStreams

floatX = theano.config.floatX


def fx(values):
    return np.asarray(values, dtype=floatX)


# ---- scan ----

@pytest.mark.parametrize("taps,want", [([-1], [0, 1, 2, 3]), ([2], [2, 3, 4]), ([-2], [0, 1, 2]), ([1], [1, 2, 3, 4]),
                                       ([0], [0, 1, 2, 3, 4])])
def test_scan_sequence_taps_without_zero_shorten_the_loop(taps, want):
    # Theano's scan cuts a sequence as if tap 0 were among its taps: arange(5) with taps [-1] gives
    # [0..3], with taps [2] gives [2, 3, 4].
    x = T.vector("x")
    out, _ = theano.scan(lambda a: a, sequences=dict(input=x, taps=taps))
    np.testing.assert_array_equal(theano.function([x], out)(fx(np.arange(5))), want)


def test_scan_taps_both_sides_of_zero():
    # taps [-1, 1] on arange(5): steps read (x[t-1], x[t+1]) for t = 1..3 -> sums 2, 4, 6 (by hand).
    x = T.vector("x")
    out, _ = theano.scan(lambda a, b: a + b, sequences=dict(input=x, taps=[-1, 1]))
    np.testing.assert_array_equal(theano.function([x], out)(fx(np.arange(5))), [2, 4, 6])


def test_scan_step_may_return_a_list_of_outputs_and_updates():
    x = T.vector("x")
    total = theano.shared(np.asarray(0.0, dtype=floatX))
    out, updates = theano.scan(lambda a: [a * 2, {total: total + a}], sequences=x)
    f = theano.function([x], out, updates=updates)
    np.testing.assert_array_equal(f(fx([0, 1, 2])), [0, 2, 4])
    assert total.get_value() == 3  # the shared variable is carried from step to step: 0 + 0 + 1 + 2


# ---- numerically stable forms ----

def test_gradient_of_log_softmax_is_finite_where_softmax_underflows():
    # Theano: grad(log(softmax(m)).sum(), m) at [[1000, 0, 1]] is [[-2, 1, 1]] (1 - 3 * softmax).
    m = T.matrix("m")
    g = theano.grad(T.log(T.nnet.softmax(m)).sum(), m)
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        np.testing.assert_allclose(theano.function([m], g, mode=mode)(fx([[1000, 0, 1]])), [[-2, 1, 1]])


def test_log_of_a_sum_of_two_exps_is_logaddexp():
    a, b = T.dscalars("a", "b")
    f = theano.function([a, b], T.log(T.exp(a) + T.exp(b)))
    for x, y in [(1e4, 1e4), (1e4, 0.0), (-1e4, -1e4), (0.5, -0.25), (-np.inf, 3.0), (-np.inf, -np.inf), (np.inf, 2.0)]:
        np.testing.assert_allclose(f(x, y), np.logaddexp(x, y), rtol=1e-15)


# ---- elementwise semantics ----

def test_isclose_of_infinities():
    # NumPy and Theano: an infinity is close only to the same infinity.
    a, b = T.dvectors("a", "b")
    left = np.array([-np.inf, np.inf, 1.0, np.inf, np.nan, 1.0])
    right = np.array([np.inf, np.inf, np.inf, 1.0, np.nan, 1.0 + 1e-9])
    np.testing.assert_array_equal(theano.function([a, b], T.isclose(a, b))(left, right), np.isclose(left, right))


def test_clip_with_crossed_bounds_follows_theano():
    # Theano's Clip: x < lo ? lo : x > hi ? hi : x, so clip(x, 1, -1) is 1 below 1 and -1 above it
    # (np.clip gives -1 everywhere); README lists the difference.
    x = T.vector("x")
    np.testing.assert_array_equal(theano.function([x], T.clip(x, 1, -1))(fx([-2, 0, 2])), [1, 1, -1])


@pytest.mark.parametrize("expression,point,want", [
    (lambda a: T.clip(a, a, 5.0), 2.0, 1.0),            # clip(a, a, 5) = a
    (lambda a: T.clip(a, 0.0, a), 2.0, 1.0),            # clip(a, 0, a) = a
    (lambda a: T.clip(2 * a, a, 3 * a), 2.0, 2.0),      # 2a lies between a and 3a
    (lambda a: T.clip(a, 2 * a, 3.0), 2.0, 2.0),        # a < 2a: the lower bound 2a is returned
    (lambda a: T.clip(a, 1.0, a - 1), 3.0, 1.0),        # crossed bounds above: hi = a - 1 is returned
    (lambda a: T.clip(a, a + 1, -5.0), 0.0, 1.0),       # crossed bounds below: lo = a + 1 is returned
])
def test_clip_gradient_where_bounds_are_expressions_of_x(expression, point, want):
    a = T.dscalar("a")
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        assert theano.function([a], theano.grad(expression(a), a), mode=mode)(point) == want


def test_float_modulo_of_zero_takes_the_divisor_sign():
    a, b = T.dscalars("a", "b")
    f = theano.function([a, b], a % b)
    for x, y in [(0.0, -2.0), (-0.0, 2.0), (4.0, -2.0), (-4.0, 2.0), (5.5, -2.0)]:
        got, want = f(x, y), np.mod(x, y)
        assert got == want and np.signbit(got) == np.signbit(want), (x, y, got, want)


# ---- products ----

@pytest.mark.parametrize("shapes", [((3, 5), (3,)), ((3,), (3, 5, 7)), ((3, 4, 5), (3, 5)), ((3, 4), (3, 4, 2)),
                                    ((2, 3, 4, 5), (2, 5, 6)), ((2, 3, 4), (2, 2, 4, 5))], ids=str)
def test_batched_dot_follows_theano(shapes):
    # Theano's batched_dot: a vector of per-batch scalars multiplies; above three dimensions a's last axis
    # pairs with b's second-to-last, batch by batch (np.einsum gives the expectation).
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    x, y = T.TensorType("float64", (None,) * a.ndim)("x"), T.TensorType("float64", (None,) * b.ndim)("y")
    got = theano.function([x, y], T.batched_dot(x, y))(a, b)
    if a.ndim == 1:
        want = a.reshape((-1,) + (1,) * (b.ndim - 1)) * b
    elif b.ndim == 1:
        want = a * b.reshape((-1,) + (1,) * (a.ndim - 1))
    else:
        want = np.stack([np.dot(a[i], b[i]) for i in range(a.shape[0])])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_dot_of_a_tensor_and_a_0d_tensor_multiplies():
    t, s = T.tensor3("t"), T.scalar("s")
    value = fx(np.arange(8).reshape(2, 2, 2))
    np.testing.assert_array_equal(theano.function([t, s], T.dot(t, s))(value, 2), value * 2)


# ---- reductions and dtypes ----

def test_mean_with_an_integer_dtype_is_the_float_mean():
    # Theano's mean sums in dtype and divides by the count in float64: mean([1, 2], dtype='int32') is 1.5.
    iv = T.ivector("iv")
    out = T.mean(iv, dtype="int32")
    assert out.dtype == "float64"
    assert theano.function([iv], out)(np.array([1, 2], dtype="int32")) == 1.5
    f32 = T.mean(iv, dtype="float32")
    assert f32.dtype == "float32"


def test_dtype_rules_of_theano():
    i8 = T.bscalar("i8")
    assert (i8 / i8).dtype == "float32"                      # upgrade_to_float: int8 -> float32
    assert T.ceil(i8).dtype == "float32" and T.floor(T.iscalar()).dtype == "float64"
    assert T.arange(T.fscalar()).dtype == "float32"          # upcast of the bounds, not float64
    assert T.arange(T.fscalar(), T.fscalar()).dtype == "float32"
    assert T.arange(T.bscalar()).dtype == "int64" and T.arange(T.iscalar(), 0.5).dtype == "float64"


@pytest.mark.parametrize("start,stop,step,dtype", [(0.1, 2.3, 0.2, "float64"), (0.1, 2.3, 0.2, "float32"),
                                                   (-3, 7, 3, "int64"), (1.5, -2.0, -0.7, "float32")])
def test_arange_values_match_numpy(start, stop, step, dtype):
    a, b, c = (T.TensorType(dtype, ())(name) for name in "abc")
    f = theano.function([a, b, c], T.arange(a, b, c))
    cast = np.dtype(dtype).type
    got = f(cast(start), cast(stop), cast(step))
    want = np.arange(cast(start), cast(stop), cast(step), dtype=dtype)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_binomial_without_size_takes_the_shape_of_p():
    x = T.vector("x")
    draw = RandomStreams(1).binomial(p=x)
    assert draw.ndim == 1
    out = theano.function([x], draw)(fx([0.0, 1.0, 0.0]))
    np.testing.assert_array_equal(out, [0, 1, 0])
    low = T.matrix("low")
    u = theano.function([low], RandomStreams(2).uniform(low=low, high=low + 1))(fx(np.zeros((2, 3))))
    assert u.shape == (2, 3) and ((u >= 0) & (u < 1)).all()


# ---- Python semantics ----

def test_softmax_of_a_vector_is_a_row_as_in_theano():
    v = T.vector("v")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        row = T.nnet.softmax(v)
    assert row.ndim == 2 and any("DEPRECATION" in str(w.message) for w in caught)
    out = theano.function([v], row[:, 0])(fx([1, 1]))
    np.testing.assert_allclose(out, [0.5])


def test_deepcopy_of_a_shared_variable_copies_its_value():
    w = theano.shared(np.zeros(3), name="w")
    snapshot = copy.deepcopy(w)
    w.set_value(np.ones(3))
    assert snapshot is not w and snapshot.name == "w"
    np.testing.assert_array_equal(snapshot.get_value(), np.zeros(3))


def test_copy_and_deepcopy_of_a_compiled_function():
    x = T.dvector("x")
    w = theano.shared(np.ones(2), name="w")
    step = theano.function([x], (w * x).sum(), updates={w: w * 2})
    shallow = copy.copy(step)  # Theano's Function.copy(): the same shared variables
    assert shallow(np.ones(2)) == 2 and step(np.ones(2)) == 4
    model = {"w": w, "step": step}
    clone = copy.deepcopy(model)  # its own weights, shared by its own function
    assert clone["w"] is not w
    assert clone["step"](np.ones(2)) == 8
    np.testing.assert_array_equal(clone["w"].get_value(), [8, 8])
    np.testing.assert_array_equal(w.get_value(), [4, 4])


# ---- indexing (found by differential fuzzing against NumPy) ----

@pytest.mark.parametrize("index", [
    lambda x: x[0, None, [0, -1]],          # advanced indices apart in the list: their dimensions first
    lambda x: x[:, [0, 1], ..., [0, 1]],    # apart across an empty ellipsis
    lambda x: x[:, 0, ..., [0, 1]],
    lambda x: x[None, 0, [0, 1]],           # together: in place
    lambda x: x[[1, 0], None, :, 0],
], ids=["int-newaxis-array", "array-ellipsis-array", "int-ellipsis-array", "newaxis-int-array", "array-newaxis-int"])
def test_advanced_index_placement_follows_numpy(index):
    value = np.arange(30.0).reshape(5, 2, 3)
    if index(value).ndim == 0:
        return
    x = T.tensor3("x", dtype="float64")
    got = theano.function([x], index(x))(value)
    want = index(value)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_set_subtensor_writes_into_the_view_that_was_indexed():
    # v = x[0]; set_subtensor(v[[0, 2]], 5) is v with two entries set (Theano), not x modified.
    x = T.dmatrix("x")
    v = x[0]
    out = T.set_subtensor(v[[0, 2]], 5)
    assert out.ndim == 1
    np.testing.assert_array_equal(theano.function([x], out)(np.zeros((2, 3))), [5, 0, 5])
    # Its gradient: d sum(out * w) / dx is w on the untouched entries of row 0, zero elsewhere (by hand).
    w = np.array([1.0, 2.0, 3.0])
    g = theano.function([x], theano.grad((out * w).sum(), x))(np.zeros((2, 3)))
    np.testing.assert_array_equal(g, [[0, 2, 0], [0, 0, 0]])
    # A slice before the index array is fine too.
    rows = x[1:]
    out = T.set_subtensor(rows[[0]], 5)
    np.testing.assert_array_equal(theano.function([x], out)(np.zeros((2, 3))), [[5, 5, 5]])


def test_tensordot_of_a_broadcastable_int_matrix_compiles():
    # A rewrite may learn that an axis has size 1 where the variable it replaces did not say so.
    m = T.TensorType("int32", (True, False))("m")
    value = np.arange(3, dtype="int32").reshape(1, 3)
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        got = theano.function([m], T.tensordot(m, m, axes=[[0], [0]]), mode=mode)(value)
        np.testing.assert_array_equal(got, np.tensordot(value, value, axes=[[0], [0]]))


def test_broadcast_declarations():
    x = T.dmatrix("x")
    row = T.addbroadcast(x, 0)
    assert row.broadcastable == (True, False)
    assert T.unbroadcast(row, 0).broadcastable == (False, False)
    assert T.patternbroadcast(x, (False, True)).broadcastable == (False, True)
    f = theano.function([x], row + np.ones((4, 3)))
    np.testing.assert_array_equal(f(np.zeros((1, 3))), np.ones((4, 3)))
    with pytest.raises(ValueError, match="addbroadcast"):
        f(np.zeros((2, 3)))
    shaped = T.specify_shape(x, (2, 3))
    assert shaped.type.shape == (2, 3)
    with pytest.raises(ValueError, match="specify_shape"):
        theano.function([x], shaped)(np.zeros((3, 3)))
    theano.gradient.verify_grad(lambda a: T.specify_shape(T.addbroadcast(a, 0), (1, 3)) * 2, [np.ones((1, 3))])


def test_gradient_for_an_initial_state_the_loop_never_reads_is_disconnected():
    # Theano: the step below never reads h, so h0 does not reach the cost (DisconnectedInputError).
    x, h0 = T.dvector("x"), T.dscalar("h0")
    out, _ = theano.scan(lambda a, h: a * 2, sequences=x, outputs_info=h0)
    with pytest.raises(ValueError, match="does not depend on 'h0'"):
        theano.grad(out.sum(), h0)
    assert theano.grad(out.sum(), h0, disconnected_inputs="ignore").eval({h0: 1.0}) == 0
    # Read through a second state, h0 is connected: c_t = c_{t-1} + h_{t-1}, h_t = h_{t-1}.
    c0 = T.dscalar("c0")
    (h, c), _ = theano.scan(lambda a, h, c: [h, c + h + a], sequences=x, outputs_info=[h0, c0])
    g = theano.function([x, h0, c0], theano.grad(c[-1], h0))(np.zeros(3), 1.0, 0.0)
    assert g == 3  # c_3 = c0 + 3 h0 + sum(x)


def test_rop_keeps_its_wrt_in_the_graph_as_in_the_tutorial():
    # Theano's tutorial: f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]) is array([2., 2.]).
    W, V = T.dmatrix("W"), T.dmatrix("V")
    x = T.dvector("x")
    JV = theano.Rop(T.dot(x, W), W, V)
    f = theano.function([W, V, x], JV)
    np.testing.assert_array_equal(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2, 2])


# ---- found by the differential fuzzer (tests/python/test_fuzz.py) ----

def test_flatten_with_an_empty_kept_dimension():
    x = T.tensor3("x")
    assert theano.function([x], T.flatten(x, 3))(np.zeros((3, 0, 2))).shape == (3, 0, 2)
    assert theano.function([x], T.flatten(x, 2))(np.zeros((0, 2, 2))).shape == (0, 4)


def test_a_float32_product_minus_a_float64_vector_compiles():
    x, y, z = T.fmatrix("x"), T.fvector("y"), T.dvector("z")
    out = theano.function([x, y, z], T.dot(x, y) - z)(np.ones((2, 2), "float32"), np.ones(2, "float32"), np.ones(2))
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [1, 1])


def test_set_subtensor_value_gradient_counts_each_position_once():
    # The last write to a repeated position stays (as in NumPy), so only it reaches the cost: d/dy of
    # sum([y]) is 1, and for x[[0, 1, 0]] = y weighted by [1, 10, 100] the gradient is [0, 10, 1] (by hand).
    # (Theano 1.0 counts repeated writes once each; Hypatia follows the derivative.)
    x, y, v = T.dvector("x"), T.dscalar("y"), T.dvector("v")
    assert theano.function([x, y], T.grad(T.sum(T.set_subtensor(x[[-1, -1]], y)), y))(np.ones(1), 0.5) == 1
    cost = T.sum(T.set_subtensor(x[[0, 1, 0]], v) * np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(theano.function([x, v], T.grad(cost, v))(np.zeros(3), np.zeros(3)), [0, 10, 1])
    m, t = T.dmatrix("m"), T.tensor3("t")
    cost = T.sum(T.set_subtensor(t[[0, 0], :, [1, 1]], m) * np.arange(8.0).reshape(2, 2, 2))
    np.testing.assert_array_equal(theano.function([t, m], T.grad(cost, m))(np.zeros((2, 2, 2)), np.zeros((2, 2))),
                                  [[0, 0], [1, 3]])


def test_a_draw_made_before_scan_is_redrawn_at_each_step_unless_a_non_sequence():
    # Theano's scan documentation: a random variable used inside fn is updated through the loop; pass it
    # as a non-sequence to keep one value for every step.
    srng = RandomStreams(seed=5)
    noise = srng.uniform((3,))
    fresh, updates = theano.scan(lambda: noise * 1.0, n_steps=4)
    rows = theano.function([], fresh, updates=updates)()
    assert len({tuple(r) for r in rows}) == 4
    frozen, updates = theano.scan(lambda d: d * 1.0, non_sequences=[noise], n_steps=4)
    rows = theano.function([], frozen, updates=updates)()
    assert len({tuple(r) for r in rows}) == 1


# ---- the environment ----

def _run_python(code, **env):
    import os
    import subprocess
    import sys
    environment = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=120)


def test_profile_flag_prints_the_summary_at_exit():
    code = ("import numpy as np, hypatia as theano, hypatia.tensor as T\n"
            "x = T.dvector('x'); f = theano.function([x], T.exp(x) * 2, name='doubled')\n"
            "f(np.ones(3)); print('ran')")
    result = _run_python(code, THEANO_FLAGS="profile=True")
    assert result.returncode == 0 and result.stdout.strip() == "ran", result.stderr
    assert "Function profiling" in result.stderr and "doubled" in result.stderr, result.stderr


def test_omp_num_threads_sets_the_kernel_threads():
    code = "import hypatia as theano; print(theano.config.openmp_threads)"
    assert _run_python(code, OMP_NUM_THREADS="1").stdout.strip() == "1"
    assert _run_python(code, OMP_NUM_THREADS="3", HYPATIA_FLAGS="openmp_threads=2").stdout.strip() == "2"


def test_random_state_can_be_read_seeded_and_restored_as_in_the_tutorial():
    srng = RandomStreams(seed=234)
    rv_u = srng.uniform((2, 2))
    f = theano.function([], rv_u)
    state = rv_u.rng.get_value().get_state()
    v1 = f()
    rng = rv_u.rng.get_value(borrow=True)
    rng.set_state(state)
    rv_u.rng.set_value(rng, borrow=True)
    np.testing.assert_array_equal(f(), v1)
    rng.seed(89234)
    rv_u.rng.set_value(rng)
    first = f()
    rng.seed(89234)
    rv_u.rng.set_value(rng)
    np.testing.assert_array_equal(f(), first)
    assert [pair[0] for pair in srng.updates()] == [pair[0] for pair in srng.state_updates]


# ---- scan's until ----

def test_scan_until_stops_the_loop_as_in_the_documentation():
    # Theano's scan page: powers of 2 until one exceeds 45 -> [2, 4, 8, 16, 32, 64].
    from hypatia.scan_module import until
    max_value = T.dscalar("max_value")

    def power_of_2(previous_power, max_value):
        return previous_power * 2, until(previous_power * 2 > max_value)

    values, _ = theano.scan(power_of_2, outputs_info=T.constant(1.0), non_sequences=max_value, n_steps=1024)
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        f = theano.function([max_value], [values, values[-1], values.shape[0]], mode=mode)
        got, last, length = f(45)
        np.testing.assert_array_equal(got, [2, 4, 8, 16, 32, 64])
        assert last == 64 and length == 6
    np.testing.assert_array_equal(theano.function([max_value], values)(1e9)[-1], 2.0 ** 30)  # n_steps would be 1024
    # With sequences the loop ends early too; the condition never holding runs every step.
    x = T.dvector("x")
    sums, _ = theano.scan(lambda a, acc: (acc + a, until(acc + a > 3)), sequences=x, outputs_info=T.constant(0.0))
    np.testing.assert_array_equal(theano.function([x], sums)(np.arange(10.0)), [0, 1, 3, 6])
    np.testing.assert_array_equal(theano.function([x], sums)(np.full(3, -1.0)), [-1, -2, -3])
    import pickle
    g = pickle.loads(pickle.dumps(theano.function([x], sums)))
    np.testing.assert_array_equal(g(np.arange(10.0)), [0, 1, 3, 6])


def test_scan_gradient_through_until_covers_the_steps_run():
    # Theano's as_while gradient: the backward loop walks the steps the forward loop ran, and the rows of a
    # sequence it never reached get zero gradient. Hand values: sums = cumsum(x) stopped after 3 steps.
    from hypatia.scan_module import until
    x = T.dvector("x")
    sums, _ = theano.scan(lambda a, acc: (acc + a, until(acc + a > 5)), sequences=x, outputs_info=T.constant(0.0))
    cost = sums[-1] * 2 + (sums ** 2).sum()  # d cost / d sums = [2, 6, 14] at x = 1..5
    for mode in ("FAST_RUN", "FAST_COMPILE"):
        g = theano.function([x], theano.grad(cost, x), mode=mode)
        np.testing.assert_allclose(g(np.arange(1.0, 6.0)), [22, 20, 14, 0, 0])
        np.testing.assert_allclose(g(np.full(4, 1.0)), [22, 20, 16, 10])  # never stops: d/d sums = [2, 4, 6, 10]

    # A plain output, a non-sequence weight and a state read at two taps, against finite differences.
    w = T.dscalar("w")
    h0 = T.dvector("h0")

    def step(a, h2, h1, w):
        h = T.tanh(w * h1 + 0.5 * h2 + a)
        return [h, h * a], until(T.abs_(h) > 0.9)

    (hs, prods), _ = theano.scan(step, sequences=x, outputs_info=[dict(initial=h0, taps=[-2, -1]), None],
                                 non_sequences=w)
    cost = (hs ** 2).sum() + prods.sum() * 0.3
    f = theano.function([x, h0, w], [cost, hs.shape[0]])
    grads = theano.function([x, h0, w], theano.grad(cost, [x, h0, w]))
    xv, h0v, wv = np.array([0.1, -0.3, 0.4, 0.8, 0.9, -0.2]), np.array([0.2, -0.1]), 0.7
    steps = f(xv, h0v, wv)[1]
    assert 1 < steps < len(xv)  # the condition stopped it early
    eps = 1e-6
    for k, (value, got) in enumerate(zip((xv, h0v, np.asarray(wv)), grads(xv, h0v, wv))):
        numeric = np.zeros_like(value)
        for i in np.ndindex(value.shape):
            up, down = [v.copy() for v in (xv, h0v, np.asarray(wv))], [v.copy() for v in (xv, h0v, np.asarray(wv))]
            up[k][i] += eps
            down[k][i] -= eps
            numeric[i] = (f(*up)[0] - f(*down)[0]) / (2 * eps)
        np.testing.assert_allclose(got, numeric, rtol=1e-5, atol=1e-7)
    assert np.all(grads(xv, h0v, wv)[0][steps:] == 0)


def test_scan_updates_are_ordered_updates():
    from hypatia.updates import OrderedUpdates
    counter = theano.shared(np.asarray(0.0))
    _, updates = theano.scan(lambda: {counter: counter + 1}, n_steps=3)
    assert isinstance(updates, OrderedUpdates)


def test_print_prints_each_time_the_graph_computes_it(capsys):
    x = T.dvector("x")
    shown = theano.printing.Print("x is", attrs=("shape", "sum"))(x)
    again = theano.printing.Print("x is")(x)  # a second print of the same value is not merged away
    f = theano.function([x], shown * 2 + again)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [3, 6])
    out = capsys.readouterr().out.splitlines()
    assert sorted(out) == sorted(["x is shape = (2,)", "x is sum = 3.0", "x is __str__ = [1. 2.]"])
    # Gradients pass through; a print of a constant runs with the program, not when compiling.
    g = theano.function([x], theano.grad((shown ** 2).sum(), x))
    np.testing.assert_array_equal(g(np.array([1.0, 2.0])), [2, 4])
    capsys.readouterr()
    constant = theano.function([], theano.printing.Print("c")(T.constant(np.array([7.0]))))
    assert capsys.readouterr().out == ""
    constant()
    assert capsys.readouterr().out == "c __str__ = [7.]\n"


def test_random_streams_multinomial_integers_permutations_and_choice():
    srng = RandomStreams(seed=3)
    pvals = T.dmatrix("pvals")
    onehot = srng.multinomial(pvals=pvals)
    p = np.array([[0.2, 0.5, 0.3], [0.0, 0.0, 1.0]])
    f = theano.function([pvals], onehot)
    samples = np.array([f(p) for _ in range(3000)])
    assert samples.shape == (3000, 2, 3) and samples.dtype == np.int64
    assert (samples.sum(axis=2) == 1).all() and (samples[:, 1, 2] == 1).all()
    np.testing.assert_allclose(samples[:, 0].mean(axis=0), p[0], atol=0.03)  # 3000 draws: sd ~0.009
    counts = theano.function([], srng.multinomial(n=10, pvals=[0.1, 0.9]))()
    assert counts.shape == (2,) and counts.sum() == 10
    ints = theano.function([], srng.random_integers(size=(2000,), low=3, high=5))()
    assert set(np.unique(ints)) == {3, 4, 5}
    perm = theano.function([], srng.permutation(size=(4,), n=6))()
    assert perm.shape == (4, 6) and all(sorted(row) == list(range(6)) for row in perm)
    picked = theano.function([], srng.choice(size=(500,), a=3, p=[0.0, 1.0, 0.0]))()
    assert (picked == 1).all()


def _empirical_cdf_distance(samples, cdf, points):
    """The largest gap between the share of samples <= t and cdf(t) over the points t."""
    return max(abs((samples <= t).mean() - cdf(t)) for t in points)


@pytest.mark.parametrize("lam", [3.0, 50.0])  # inversion below 10, transformed rejection above
def test_random_streams_poisson_matches_its_probabilities(lam):
    import math
    srng = RandomStreams(seed=17)
    draws = theano.function([], srng.poisson(size=(40000,), lam=lam))()
    assert draws.dtype == np.int64 and draws.min() >= 0
    # pmf by hand: exp(-lam) lam^k / k!, summed for the CDF; 40000 draws: the gap is below ~0.007 (DKW, 1e-3).
    cdf = lambda t: sum(math.exp(-lam + k * math.log(lam) - math.lgamma(k + 1)) for k in range(int(t) + 1))
    assert _empirical_cdf_distance(draws, cdf, range(int(lam + 4 * lam ** 0.5))) < 0.01
    np.testing.assert_allclose([draws.mean(), draws.var()], [lam, lam], rtol=0.05)


def test_random_streams_gamma_and_beta_match_their_distributions():
    import math
    srng = RandomStreams(seed=23)
    half, three, beta = theano.function([], [srng.gamma(size=(40000,), shape=0.5, scale=2.0),
                                              srng.gamma(size=(40000,), shape=3.0, scale=2.0),
                                              srng.beta(size=(40000,), a=2.0, b=5.0)])()
    # Gamma(1/2, scale 2) is a chi-square of one degree: P(X <= t) = erf(sqrt(t / 2)).
    assert _empirical_cdf_distance(half, lambda t: math.erf(math.sqrt(t / 2)), [0.01, 0.1, 0.5, 1, 2, 4]) < 0.01
    # Gamma(3, scale 2): 1 - exp(-t/2) (1 + t/2 + (t/2)^2 / 2).
    erlang = lambda t: 1 - math.exp(-t / 2) * (1 + t / 2 + (t / 2) ** 2 / 2)
    assert _empirical_cdf_distance(three, erlang, [1, 2, 4, 6, 10, 15]) < 0.01
    # Beta(2, 5): sum over j = 2..6 of C(6, j) t^j (1 - t)^(6 - j).
    beta_cdf = lambda t: sum(math.comb(6, j) * t ** j * (1 - t) ** (6 - j) for j in range(2, 7))
    assert _empirical_cdf_distance(beta, beta_cdf, [0.05, 0.1, 0.2, 0.3, 0.5, 0.7]) < 0.01
    assert 0 <= beta.min() and beta.max() <= 1
    k = T.dvector("k")
    per_entry = theano.function([k], srng.gamma(shape=k))(np.array([1.0, 100.0]))  # size from the parameter
    assert per_entry.shape == (2,) and 60 < per_entry[1] < 140


def test_random_streams_refuse_bad_parameters_with_the_distribution_named():
    srng = RandomStreams(seed=1)
    lam = T.dscalar("lam")
    with pytest.raises(ValueError, match="poisson.*lam"):
        theano.function([lam], srng.poisson(size=(2,), lam=lam))(-1.0)
    with pytest.raises(ValueError, match="beta.*b must"):
        theano.function([], srng.beta(size=(2,), a=1.0, b=0.0))()
    with pytest.raises(TypeError, match="poisson"):
        srng.poisson(size=(2,), lam=1.0, dtype="float64")


def test_random_streams_choice_without_replacement_by_weight():
    # Successive draws proportional to the weights left: the first pick is p, and nothing repeats.
    srng = RandomStreams(seed=5)
    p = np.array([0.5, 0.3, 0.15, 0.05])
    f = theano.function([], srng.choice(size=(3,), a=4, replace=False, p=p))
    picks = np.array([f() for _ in range(4000)])
    assert all(len(set(row)) == 3 for row in picks)
    np.testing.assert_allclose(np.bincount(picks[:, 0], minlength=4) / 4000, p, atol=0.03)
    # P(second = 1) = sum over first f != 1 of p[f] * p[1] / (1 - p[f]).
    second = sum(p[f] * p[1] / (1 - p[f]) for f in (0, 2, 3))
    assert abs((picks[:, 1] == 1).mean() - second) < 0.03


def test_the_profile_shows_zero_gradients_and_shape_only_values_cost_nothing():
    # sum(int_div(x W, 2) * 3) has a zero gradient (Theano's local_zero_div / local_mul_zero); the L1
    # penalty's gradient needs W's shape and sign only. FAST_COMPILE computes the products; FAST_RUN none.
    x, W = T.dmatrix("x"), T.dmatrix("W")
    cost = T.sum(T.int_div(T.dot(x, W), 2.0) * 3.0) + T.sum(abs(W)) + T.sum(W ** 2)
    gW = theano.grad(cost, W)
    values = (np.ones((4, 3)), np.arange(6.0).reshape(3, 2) - 2.5)
    fast = theano.function([x, W], gW, profile=True)
    slow = theano.function([x, W], gW, profile=True, mode="FAST_COMPILE")
    np.testing.assert_allclose(fast(*values), slow(*values))
    np.testing.assert_allclose(fast(*values), np.sign(values[1]) + 2 * values[1])
    assert "dot" in str(slow.profile) and "int_div" in str(slow.profile)
    assert "dot" not in str(fast.profile) and "gemm" not in str(fast.profile) and "int_div" not in str(fast.profile)


def test_in_with_an_update_keeps_its_value_between_calls():
    # Theano's In(update=...): the input's value is its default, replaced by the update after each call;
    # a value given explicitly is used for that call (and updated from).
    x, s = T.dscalars("x", "s")
    accumulate = theano.function([x, theano.In(s, value=10.0, update=s + x)], s * 2)
    assert [float(accumulate(1.0)), float(accumulate(2.0)), float(accumulate(0.0))] == [20.0, 22.0, 26.0]
    assert float(accumulate(5.0, 100.0)) == 200.0 and float(accumulate(0.0)) == 210.0
    with pytest.raises(ValueError, match="value"):
        theano.In(s, update=s + 1)


def test_a_draw_read_only_by_until_is_redrawn_each_step():
    from hypatia.scan_module import until
    srng = RandomStreams(seed=9)
    counts, updates = theano.scan(lambda c: (c + 1, until(srng.uniform(()) < 0.2)), outputs_info=T.constant(0.0),
                                  n_steps=1000)
    f = theano.function([], counts.shape[0], updates=updates)
    lengths = [int(f()) for _ in range(30)]
    # Redrawn each step, the loop stops after a geometric number of steps (mean 5); a frozen draw would
    # give only 1 or 1000.
    assert any(1 < n < 1000 for n in lengths) and max(lengths) < 1000, lengths


def test_boolean_masks_index_as_in_theano_1_0():
    # Theano 1.0's test_subtensor.test_boolean, values from NumPy.
    numpy_n = np.arange(6, dtype="float64").reshape((2, 3))
    n = T._shared(numpy_n)

    def inc(x, idx, a):
        x = x.copy()
        x[idx] += a
        return x

    mask = np.array([True, False])
    np.testing.assert_array_equal(n[mask].eval(), numpy_n[mask])
    np.testing.assert_array_equal(T.inc_subtensor(n[mask], 1).eval(), inc(numpy_n, mask, 1))
    np.testing.assert_array_equal(n[n > 2].eval(), numpy_n[numpy_n > 2])
    np.testing.assert_array_equal(n[[1], n[0] > 2].eval(), numpy_n[[1], numpy_n[0] > 2])
    columns = np.array([True, False, True])
    for index in [(0, columns), (slice(None), columns), (slice(1, None), columns, None), (None, slice(1, None), columns)]:
        np.testing.assert_array_equal(n[index].eval(), numpy_n[index])
    np.testing.assert_array_equal(n[:, T._shared(columns)].eval(), numpy_n[:, columns])
    np.testing.assert_array_equal(T.inc_subtensor(n[:, columns], 1).eval(), inc(numpy_n, (slice(None), columns), 1))
    both = np.array([[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(T.set_subtensor(n[both], -1).eval(), np.where(both, -1, numpy_n))
    numpy_n4 = np.arange(48, dtype="float64").reshape((2, 3, 4, 2))
    n4 = T._shared(numpy_n4)
    np.testing.assert_array_equal(n4[n > 2, ..., 0, 1].eval(), numpy_n4[numpy_n > 2, ..., 0, 1])
    np.testing.assert_array_equal(T.inc_subtensor(n4[n > 2, ..., 1], 1).eval(), inc(numpy_n4, (numpy_n > 2, Ellipsis, 1), 1))
    theano.gradient.verify_grad(lambda m: m[mask], [numpy_n])
    theano.gradient.verify_grad(lambda m: T.inc_subtensor(m[mask], 1), [numpy_n])
    for wrong in (np.array([True, False, True]), np.array([True, False, False]), np.array([True]),
                  np.array([[True, False, False, False], [False, True, False, False]])):
        with pytest.raises(IndexError, match="boolean index"):
            n[wrong].eval()
        with pytest.raises(IndexError):
            T.inc_subtensor(n[wrong], 1).eval()
    with pytest.raises(IndexError):  # too many dimensions
        n[np.array([[[True, False, False], [False, True, False]]])]
    for python_bools in ((True,), (False,), (True, False)):
        with pytest.raises(TypeError):
            n[python_bools]


def test_axis_arguments_may_be_0d_integer_arrays():
    x = T.dmatrix("x")
    value = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(theano.function([x], x.sum(axis=np.array(1)))(value), value.sum(axis=1))
    assert T._shared(np.zeros(2)).get_value().shape == (2,)
