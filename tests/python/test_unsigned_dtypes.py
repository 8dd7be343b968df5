"""The unsigned dtypes uint16, uint32 and uint64 (and uint8 beside them) against NumPy: promotion of every
pair, wrapping arithmetic, sums and products, casts, indexing, shared variables, pickling, and agreement of
the generated kernels (FAST_RUN) with the reference interpreter (FAST_COMPILE). Expected values come from
NumPy or are computed by hand."""
import pickle

import numpy as np
import pytest

import hypatia as theano
import hypatia.scalar
import hypatia.tensor as T

UINTS = ["uint8", "uint16", "uint32", "uint64"]
WIDE_UINTS = ["uint16", "uint32", "uint64"]
ALL = ["bool", "int8", "int16", "int32", "int64"] + UINTS + ["float32", "float64"]
MODES = ["FAST_RUN", "FAST_COMPILE"]


def compute(build, values, mode="FAST_RUN"):
    """build(*inputs) compiled in mode for inputs declared like values, called on them."""
    inputs = [T.tensor(f"x{i}", dtype=v.dtype.name, shape=(None,) * v.ndim) for i, v in enumerate(values)]
    return theano.function(inputs, build(*inputs), mode=mode, on_unused_input="ignore")(*values)


def check_exact(got, want):
    want = np.asarray(want)
    assert isinstance(got, np.ndarray) and got.dtype == want.dtype, f"{got!r} is not a {want.dtype} array"
    np.testing.assert_array_equal(got, want)


def extremes(dtype):
    """Values at both ends of dtype's range and in between, where wrapping shows."""
    top = np.iinfo(dtype).max
    return np.array([0, 1, 2, 7, top // 2, top // 2 + 1, top - 1, top], dtype)


# ---- Types and promotion ----

@pytest.mark.parametrize("b", ALL)
@pytest.mark.parametrize("a", ALL)
def test_promotion_of_every_pair_matches_numpy(a, b):
    expected = np.result_type(np.dtype(a), np.dtype(b)).name
    assert (T.vector("a", dtype=a) + T.vector("b", dtype=b)).dtype == expected
    assert hypatia.scalar.upcast(a, b) == expected


@pytest.mark.parametrize("dtype,expected", [("uint8", "float32"), ("uint16", "float32"), ("uint32", "float64"),
                                            ("uint64", "float64")])
def test_float_ops_of_unsigned_follow_theanos_upgrade_to_float(dtype, expected):
    x = T.vector("x", dtype=dtype)
    assert (x / x).dtype == expected
    assert T.sqrt(x).dtype == expected
    assert T.floor(x).dtype == expected
    value = np.array([0, 4, 9], dtype)
    check_exact(theano.function([x], T.sqrt(x))(value), np.sqrt(value.astype(expected)))


def test_declaring_unsigned_tensors_in_every_form():
    assert T.TensorType("uint32", (False,))("x").dtype == "uint32"
    assert T.TensorType("uint64", broadcastable=(True, False))("x").broadcastable == (True, False)
    assert T.tensor("x", dtype="uint16", shape=(None, 3)).type.shape == (None, 3)
    assert T.matrix("m", dtype=np.uint64).dtype == "uint64"
    assert T.scalar("s", dtype=np.dtype("uint32")).dtype == "uint32"
    assert hypatia.scalar.uint16("s").dtype == "uint16"
    assert T.uint_dtypes == UINTS
    assert set(UINTS) <= set(T.integer_dtypes) and set(UINTS) <= set(T.all_dtypes)


def test_unknown_dtypes_are_refused_with_the_list_of_known_ones():
    with pytest.raises(TypeError, match="uint8, uint16, uint32, uint64, float16, float32"):
        T.vector("c", dtype="timedelta64")


# ---- Arithmetic ----

WRAPPING_OPS = {
    "add": lambda m, x, y: x + y,
    "sub": lambda m, x, y: x - y,  # a smaller minus a larger wraps around
    "mul": lambda m, x, y: x * y,
    "int_div": lambda m, x, y: x // y,
    "mod": lambda m, x, y: x % y,
    "pow": lambda m, x, y: x ** (y % 5),
    "neg": lambda m, x, y: -x,
    "abs": lambda m, x, y: abs(x),
    "sign": lambda m, x, y: m.sign(x),
    "maximum": lambda m, x, y: m.maximum(x, y),
    "invert": lambda m, x, y: ~x,
    "lt": lambda m, x, y: x < y,
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", list(WRAPPING_OPS))
@pytest.mark.parametrize("dtype", UINTS)
def test_arithmetic_wraps_like_numpy(dtype, op, mode):
    a = extremes(dtype)
    b = np.roll(a, 3)  # includes 0: division and modulo by zero give 0, as for signed integers
    with np.errstate(all="ignore"):
        want = WRAPPING_OPS[op](np, a, b)
    check_exact(compute(lambda x, y: WRAPPING_OPS[op](T, x, y), [a, b], mode), want)


def test_wrapping_by_hand():
    x, y = T.vector("x", dtype="uint32"), T.vector("y", dtype="uint32")
    f = theano.function([x, y], [x - y, x * y, -x])
    diff, prod, neg = f(np.array([1, 65536], "uint32"), np.array([2, 65536], "uint32"))
    check_exact(diff, np.array([4294967295, 0], "uint32"))
    check_exact(prod, np.array([2, 0], "uint32"))  # 2^32 wraps to 0
    check_exact(neg, np.array([4294967295, 4294901760], "uint32"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("signed,unsigned", [("int8", "uint16"), ("int32", "uint32"), ("int64", "uint64"),
                                             ("int64", "uint32"), ("int16", "uint8")])
def test_mixed_signed_and_unsigned_arithmetic(signed, unsigned, mode):
    # The result is a signed type twice the unsigned one's width, or float64 beside uint64.
    a = np.array([-5, 0, 3, 100], signed)
    b = np.array([7, np.iinfo(unsigned).max, 0, 9], unsigned)
    for build in (lambda m, x, y: x + y, lambda m, x, y: x * y - y, lambda m, x, y: m.maximum(x, y)):
        with np.errstate(all="ignore"):
            want = build(np, a, b)
        got = compute(lambda x, y: build(T, x, y), [a, b], mode)
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-15)  # exact for integers, and floats may use FMA


@pytest.mark.parametrize("dtype,expression,want_dtype", [
    ("uint16", lambda x: x + 3, "uint16"),
    ("uint32", lambda x: 4294967295 - x, "uint32"),
    ("uint64", lambda x: x * 2 ** 40, "uint64"),
    ("uint64", lambda x: x + 1.5, "float64"),
    ("uint16", lambda x: x * 0.5, "float64"),
])
def test_python_numbers_take_the_unsigned_dtype_when_they_fit(dtype, expression, want_dtype):
    value = np.array([0, 1, 5], dtype)
    with np.errstate(all="ignore"):
        want = expression(value)
    assert want.dtype == want_dtype  # NumPy 2's weak scalars
    x = T.vector("x", dtype=dtype)
    got = theano.function([x], expression(x))(value)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_negative_python_numbers_beside_unsigned_tensors_are_int64():
    # NumPy 2 raises OverflowError here; Hypatia takes the number as int64, as it does for uint8.
    assert (T.vector("x", dtype="uint16") + (-1)).dtype == np.result_type("uint16", "int64").name == "int64"
    assert (T.vector("x", dtype="uint64") + (-1)).dtype == np.result_type("uint64", "int64").name == "float64"


# ---- Reductions ----

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", UINTS)
def test_sums_and_products_accumulate_in_uint64_as_numpy(dtype, mode):
    a = np.tile(extremes(dtype), (3, 1))
    for op in ("sum", "prod", "max", "min", "argmax", "cumsum"):
        for axis in (None, 0, 1):
            with np.errstate(all="ignore"):
                want = getattr(np, op)(a, axis=axis)
            assert want.dtype == ("uint64" if op in ("sum", "prod", "cumsum") else
                                  "int64" if op == "argmax" else dtype)
            check_exact(compute(lambda x: getattr(T, op)(x, axis=axis), [a], mode), want)


def test_sums_beyond_the_input_type_by_hand():
    x = T.vector("x", dtype="uint32")
    total = theano.function([x], x.sum())(np.array([4000000000, 4000000000, 1], "uint32"))
    check_exact(total, np.uint64(8000000001))
    y = T.vector("y", dtype="uint64")
    wrapped = theano.function([y], y.sum())(np.array([2 ** 64 - 1, 2], "uint64"))
    check_exact(wrapped, np.uint64(1))


@pytest.mark.parametrize("dtype", UINTS)
def test_mean_of_unsigned_is_float64(dtype):
    a = extremes(dtype)
    got = compute(lambda x: T.mean(x), [a])
    assert got.dtype == np.mean(a).dtype == "float64"
    np.testing.assert_allclose(got, np.mean(a), rtol=1e-15)


# ---- Casts ----

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("float_dtype", ["float32", "float64"])
@pytest.mark.parametrize("dtype", UINTS)
def test_casts_between_unsigned_and_floats(dtype, float_dtype, mode):
    # Floats in range (C leaves negative or too large values undefined, and NumPy's results vary by platform).
    floats = np.array([0.0, 0.7, 1.5, 2.9, 200.25, 255.0], float_dtype)
    check_exact(compute(lambda x: T.cast(x, dtype), [floats], mode), floats.astype(dtype))
    unsigned = extremes(dtype)
    check_exact(compute(lambda x: T.cast(x, float_dtype), [unsigned], mode), unsigned.astype(float_dtype))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target", ALL)
@pytest.mark.parametrize("source", UINTS)
def test_casts_from_unsigned_to_every_dtype(source, target, mode):
    a = extremes(source)
    check_exact(compute(lambda x: x.astype(target), [a], mode), a.astype(target))


@pytest.mark.parametrize("source", ["int8", "int64", "bool"])
@pytest.mark.parametrize("target", WIDE_UINTS)
def test_casts_of_negative_integers_wrap(source, target):
    a = np.array([-1, -128, 0, 5], source) if source != "bool" else np.array([True, False])
    check_exact(compute(lambda x: T.cast(x, target), [a]), a.astype(target))


# ---- Indexing ----

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("index_dtype", UINTS)
def test_indexing_with_unsigned_indices(index_dtype, mode):
    m = np.arange(20.0).reshape(4, 5)
    rows, position = np.array([3, 0, 3, 1], index_dtype), np.array(2, index_dtype)
    check_exact(compute(lambda x, i: x[i], [m, rows], mode), m[rows])
    check_exact(compute(lambda x, i: x[i, i], [m, rows], mode), m[rows, rows])
    check_exact(compute(lambda x, i: x[i], [m, position], mode), m[position])
    check_exact(compute(lambda x, i: x[:, i:], [m, position], mode), m[:, position:])
    check_exact(compute(lambda x, i: T.set_subtensor(x[i], 0.0), [m, rows], mode),
                np.where(np.isin(np.arange(4), rows)[:, None], 0.0, m))
    incremented = m.copy()
    np.add.at(incremented, rows, 1.0)
    check_exact(compute(lambda x, i: T.inc_subtensor(x[i], 1.0), [m, rows], mode), incremented)


def test_uint64_indices_past_int64():
    m = np.arange(6.0).reshape(3, 2)
    huge = np.array([2 ** 64 - 1], "uint64")
    # NumPy converts index arrays to intp, so 2^64 - 1 wraps to -1, the last row.
    check_exact(compute(lambda x, i: x[i], [m, huge]), m[huge])
    # A scalar index that large is out of bounds (NumPy raises OverflowError), not the last row.
    with pytest.raises(IndexError, match="out of bounds"):
        compute(lambda x, i: x[i], [m, huge[0]])
    # As a slice bound it is past the end, as in NumPy.
    check_exact(compute(lambda x, i: x[1:i], [m, huge[0]]), m[1:huge[0]])


def test_indexing_unsigned_arrays():
    a = extremes("uint64")
    idx = np.array([7, 0, 5])
    check_exact(compute(lambda x, i: x[i], [a, idx]), a[idx])
    check_exact(compute(lambda x: x[::-2], [a]), a[::-2])


# ---- NumPy conversion, shared variables, pickling ----

@pytest.mark.parametrize("dtype", UINTS)
def test_values_round_trip_through_numpy_exactly(dtype):
    value = extremes(dtype)
    x = T.vector("x", dtype=dtype)
    check_exact(theano.function([x], x)(value), value)
    check_exact(T.constant(value).eval(), value)


def test_function_inputs_follow_the_downcast_rules():
    x = T.vector("x", dtype="uint32")
    f = theano.function([x], x * 2)
    check_exact(f(np.array([1, 2], "uint8")), np.array([2, 4], "uint32"))  # uint8 -> uint32 loses nothing
    check_exact(f([3, 4]), np.array([6, 8], "uint32"))  # Python integers that fit
    with pytest.raises(TypeError, match="allow_input_downcast"):
        f(np.array([1, 2], "int64"))
    with pytest.raises(TypeError):
        f([-1])  # does not survive the conversion
    g = theano.function([x], x, allow_input_downcast=True)
    check_exact(g(np.array([1, 2], "int64")), np.array([1, 2], "uint32"))


@pytest.mark.parametrize("dtype", WIDE_UINTS)
def test_shared_variables_of_unsigned_dtypes_update_with_wraparound(dtype):
    top = np.iinfo(dtype).max
    counter = theano.shared(np.array([top - 1, 0], dtype), name="counter")
    assert counter.dtype == dtype
    step = theano.function([], counter.sum(), updates={counter: counter + 1})
    first = step()
    assert first.dtype == "uint64"
    check_exact(counter.get_value(), np.array([top, 1], dtype))
    step()
    check_exact(counter.get_value(), np.array([0, 2], dtype))  # top + 1 wraps to 0
    counter.set_value(np.array([5, 6], dtype))
    check_exact(counter.get_value(), np.array([5, 6], dtype))


def test_pickling_keeps_unsigned_values_and_types():
    value = extremes("uint64")
    w = theano.shared(value, name="w")
    loaded = pickle.loads(pickle.dumps(w))
    assert loaded.dtype == "uint64"
    check_exact(loaded.get_value(), value)
    x = T.vector("x", dtype="uint16")
    expression = pickle.loads(pickle.dumps(x * 3 - 1))
    assert expression.dtype == "uint16"
    f = pickle.loads(pickle.dumps(theano.function([x], [x * 3 - 1, x.sum()])))
    small = extremes("uint16")
    with np.errstate(all="ignore"):
        check_exact(f(small)[0], small * np.uint16(3) - np.uint16(1))
    check_exact(f(small)[1], np.sum(small))


# ---- Generated kernels against the reference ----

def test_fused_mixed_unsigned_graphs_agree_between_modes_and_with_numpy():
    values = [extremes("uint8"), extremes("uint16"), extremes("uint32"), extremes("uint64")]

    def expression(m, a, b, c, d):
        return [(a * b + c) // (b + 1), (c - d) % (a + 3), m.maximum(a - b, c) * 2, (a + b + c).sum(),
                (c * c).max(), (d + a) > (c * b)]

    with np.errstate(all="ignore"):
        want = expression(np, *values)
    fast = compute(lambda *xs: expression(T, *xs), values, "FAST_RUN")
    reference = compute(lambda *xs: expression(T, *xs), values, "FAST_COMPILE")
    for got_fast, got_reference, expected in zip(fast, reference, want):
        check_exact(got_fast, expected)
        check_exact(got_reference, expected)
