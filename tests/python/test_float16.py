"""float16: stored as half, computed in float32 (Theano's CPU behaviour). Expected values come from NumPy:
the float32 result rounded to half, NumPy's promotion table, and float64 sums rounded once."""
import numpy as np
import pytest

import hypatia as th
import hypatia.tensor as T

MODES = ["FAST_COMPILE", "FAST_RUN"]
HALF = dict(rtol=1e-3, atol=1e-4)  # one half ulp is 2**-11 relative
RNG = np.random.default_rng(3)


def half(shape, low=-3.0, high=3.0):
    return RNG.uniform(low, high, size=shape).astype("float16")


def test_dtype_lists_and_round_trips():
    assert T.float_dtypes == ["float16", "float32", "float64"]
    assert [t.dtype for t in th.scalar.float_types][0] == "float16"
    value = half((2, 3))
    h = T.matrix("h", dtype="float16")
    out = th.function([h], h.T)(value)
    assert out.dtype == "float16"
    np.testing.assert_array_equal(out, value.T)
    s = th.shared(value)
    assert s.dtype == "float16"
    th.function([], [], updates=[(s, s * 2)])()
    np.testing.assert_array_equal(s.get_value(), value * np.float16(2))


UNARY = ["neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "sin", "cos", "arctan", "floor", "sqr", "expm1",
         "log1p", "erf", "reciprocal", "sign"]
DOMAIN = {"log": (0.1, 3), "sqrt": (0.0, 3), "log1p": (-0.5, 3), "reciprocal": (0.5, 3)}


@pytest.mark.parametrize("mode", MODES)
def test_elementwise_ops_compute_in_float32_and_store_half(mode):
    h = T.vector("h", dtype="float16")
    values = {name: half((64,), *DOMAIN.get(name, (-3, 3))) for name in UNARY}
    for name in UNARY:
        out = th.function([h], getattr(T, name)(h), mode=mode)(values[name])
        assert out.dtype == "float16", name
        as_float32 = values[name].astype("float32")
        if name == "sigmoid":
            want = 1 / (1 + np.exp(-as_float32))
        elif name == "erf":
            import math
            want = np.vectorize(math.erf)(as_float32)
        else:
            want = getattr(np, {"neg": "negative", "sqr": "square"}.get(name, name))(as_float32)
        np.testing.assert_allclose(out.astype("float32"), want.astype("float16").astype("float32"), err_msg=name,
                                   **HALF)


@pytest.mark.parametrize("mode", MODES)
def test_each_op_rounds_to_half_so_fusion_changes_no_result(mode):
    # As NumPy's float16 ufuncs: each op computes in float32 and rounds its result to half. 60 * 1000 + 1
    # rounds back to 60000 (halves are 32 apart there), so the difference is 0 in one fused loop too.
    h = T.vector("h", dtype="float16")
    value = np.array([60.0, 61.0, 0.5], dtype="float16")
    out = th.function([h], (h * 1000 + 1) - h * 1000, mode=mode)(value)
    assert out.dtype == "float16"
    np.testing.assert_array_equal(out, (value * np.float16(1000) + np.float16(1)) - value * np.float16(1000))


@pytest.mark.parametrize("a, b", [("float16", "int8"), ("float16", "uint8"), ("float16", "int16"),
                                  ("float16", "uint16"), ("float16", "int32"), ("float16", "float32"),
                                  ("float16", "bool"), ("float16", "complex64"), ("float16", "float64")])
def test_promotion_follows_numpy(a, b):
    x, y = T.vector("x", dtype=a), T.vector("y", dtype=b)
    assert (x + y).dtype == np.result_type(a, b).name
    assert (T.vector("h", dtype="float16") * 2).dtype == "float16"
    assert (T.vector("h", dtype="float16") * 0.5).dtype == "float16"


@pytest.mark.parametrize("mode", MODES)
def test_reductions_accumulate_wider_and_extrema_see_negative_values(mode):
    many = np.full(10000, 0.1, dtype="float16")
    negative = -np.abs(half((3, 5))) - 1
    h = T.vector("h", dtype="float16")
    m = T.matrix("m", dtype="float16")
    total, mean, peak, low, row_max, arg = th.function(
        [h, m], [h.sum(), h.mean(), m.max(), m.min(), m.max(axis=1), T.argmax(m, axis=1)], mode=mode)(many, negative)
    assert total.dtype == "float16" and peak.dtype == "float16"
    np.testing.assert_allclose(total, np.float16(many.astype("float64").sum()), rtol=1e-3)  # half alone gives 256
    np.testing.assert_allclose(mean, np.float16(0.1), rtol=1e-3)
    assert peak == negative.max() and low == negative.min()
    np.testing.assert_array_equal(row_max, negative.max(axis=1))
    np.testing.assert_array_equal(arg, negative.argmax(axis=1))


@pytest.mark.parametrize("mode", MODES)
def test_nan_is_kept_by_extrema_and_sorted_last(mode):
    m = T.vector("m", dtype="float16")
    value = np.array([1, np.nan, -2], dtype="float16")
    peak, arg, ordered = th.function([m], [m.max(), T.argmax(m), T.sort(m)], mode=mode)(value)
    assert np.isnan(peak) and arg == 1
    np.testing.assert_array_equal(ordered, np.sort(value))


@pytest.mark.parametrize("mode", MODES)
def test_dot_and_softmax_run_in_float32(mode):
    a, b = half((4, 6)), half((6, 3))
    x, y = T.matrices("x", "y", dtype="float16")
    product, probabilities = th.function([x, y], [T.dot(x, y), T.nnet.softmax(x)], mode=mode)(a, b)
    assert product.dtype == "float16" and probabilities.dtype == "float16"
    np.testing.assert_allclose(product.astype("float32"), (a.astype("float32") @ b.astype("float32")).astype("float16"),
                               rtol=2e-3, atol=2e-3)
    e = np.exp(a.astype("float32") - a.astype("float32").max(axis=1, keepdims=True))
    np.testing.assert_allclose(probabilities.astype("float32"), e / e.sum(axis=1, keepdims=True), **HALF)


def test_casts_round_as_numpy_does():
    d = T.dvector("d")
    h = T.vector("h", dtype="float16")
    wide = np.array([65520.0, 1e-8, 0.1, -2.5, np.nan])
    narrowed, back, ints = th.function([d, h], [T.cast(d, "float16"), T.cast(h, "float64"), T.cast(h, "int32")])(
        wide, np.array([2.75, -1.5, 300.0], dtype="float16"))
    np.testing.assert_array_equal(narrowed, wide.astype("float16"))  # 65520 rounds to inf
    np.testing.assert_array_equal(back, [2.75, -1.5, 300.0])
    np.testing.assert_array_equal(ints, [2, -1, 300])


def test_gradients_flow_in_half():
    h = T.vector("h", dtype="float16")
    cost = (h ** 2).sum() + T.tanh(h).sum()
    g = T.grad(cost, h)
    assert g.dtype == "float16"
    value = half((8,))
    as_float32 = value.astype("float32")
    np.testing.assert_allclose(th.function([h], g)(value).astype("float32"),
                               2 * as_float32 + (1 - np.tanh(as_float32) ** 2), rtol=3e-3, atol=3e-3)


def test_python_floats_for_half_inputs_follow_the_downcast_rule():
    h = T.vector("h", dtype="float16")
    f = th.function([h], h * 2)
    with pytest.raises(TypeError, match="float16"):
        f([0.1])  # not exactly representable: loss of precision, as in Theano
    np.testing.assert_array_equal(f([0.5, 2.0]), np.array([1.0, 4.0], dtype="float16"))
    np.testing.assert_array_equal(th.function([h], h, allow_input_downcast=True)([0.1]), np.float16([0.1]))
