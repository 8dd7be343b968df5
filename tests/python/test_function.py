"""theano.function as a Theano user calls it: outputs, updates, givens, In/Out, modes, unused inputs, Theano's
input conversion rules, aliasing, atomicity of failed calls, and the tutorial's logistic regression.

Every expectation comes from NumPy or from Theano's documented behaviour, not from Hypatia's own output.
"""
import os
import re
import subprocess
import sys
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import hypatia as theano
import hypatia.tensor as T


# ---------------------------------------------------------------------------------------------------------
# Outputs
# ---------------------------------------------------------------------------------------------------------

def test_single_output_returns_an_ndarray():
    x = T.dvector("x")
    f = theano.function([x], x * 2)
    out = f(np.array([1.0, 2.5]))
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [2.0, 5.0])


def test_scalar_output_is_a_zero_dimensional_array_or_scalar():
    x = T.dvector("x")
    out = theano.function([x], x.sum())(np.array([1.0, 2.0]))
    assert np.ndim(out) == 0
    assert out == 3.0


def test_list_of_outputs_returns_a_list():
    x, y = T.dvectors("x", "y")
    f = theano.function([x, y], [x + y, x * y])
    out = f([1.0, 2.0], [3.0, 4.0])
    assert isinstance(out, list) and len(out) == 2
    np.testing.assert_array_equal(out[0], [4.0, 6.0])
    np.testing.assert_array_equal(out[1], [3.0, 8.0])
    single = theano.function([x], [x * 3])([1.0])
    assert isinstance(single, list) and len(single) == 1
    np.testing.assert_array_equal(single[0], [3.0])


def test_tutorial_elementwise_logistic():
    """Theano tutorial: s = 1 / (1 + T.exp(-x)); logistic = theano.function([x], s)."""
    x = T.dmatrix("x")
    s = 1 / (1 + T.exp(-x))
    logistic = theano.function([x], s)
    data = np.array([[0.0, 1.0], [-1.0, -2.0]])
    np.testing.assert_allclose(logistic(data), 1 / (1 + np.exp(-data)), rtol=1e-12)
    s2 = (1 + T.tanh(x / 2)) / 2
    np.testing.assert_allclose(theano.function([x], s2)(data), 1 / (1 + np.exp(-data)), rtol=1e-12)


def test_tutorial_multiple_outputs():
    a, b = T.dmatrices("a", "b")
    diff = a - b
    abs_diff = abs(diff)
    diff_squared = diff ** 2
    f = theano.function([a, b], [diff, abs_diff, diff_squared])
    got = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    np.testing.assert_array_equal(got[0], [[1, 0], [-1, -2]])
    np.testing.assert_array_equal(got[1], [[1, 0], [1, 2]])
    np.testing.assert_array_equal(got[2], [[1, 0], [1, 4]])


# ---------------------------------------------------------------------------------------------------------
# Updates
# ---------------------------------------------------------------------------------------------------------

def test_tutorial_accumulator_with_updates_and_outputs():
    """Theano tutorial: state = shared(0); accumulator = function([inc], state, updates=[(state, state+inc)])."""
    state = theano.shared(0)
    inc = T.iscalar("inc")
    accumulator = theano.function([inc], state, updates=[(state, state + inc)])
    assert accumulator(1) == 0  # the output is computed from the value before the update
    assert state.get_value() == 1
    assert accumulator(300) == 1
    assert state.get_value() == 301
    state.set_value(-1)
    assert accumulator(3) == -1
    assert state.get_value() == 2
    decrementor = theano.function([inc], state, updates=[(state, state - inc)])
    assert decrementor(2) == 2
    assert state.get_value() == 0


@pytest.mark.parametrize("kind", ["dict", "ordereddict", "list", "tuple"])
def test_updates_containers_with_empty_outputs(kind):
    s = theano.shared(np.float64(0.0), name="s")
    inc = T.dscalar("inc")
    pairs = [(s, s + inc)]
    updates = {"dict": dict(pairs), "ordereddict": OrderedDict(pairs), "list": pairs, "tuple": tuple(pairs)}[kind]
    f = theano.function([inc], [], updates=updates)
    assert f(2.0) == []
    assert f(0.5) == []
    assert s.get_value() == 2.5


def test_outputs_none_with_updates():
    s = theano.shared(np.float64(1.0))
    f = theano.function([], updates=[(s, s * 3)])
    f()
    f()
    assert s.get_value() == 9.0


def test_updates_read_old_values_and_land_together():
    a = theano.shared(np.array([1.0, 2.0]), name="a")
    b = theano.shared(np.array([10.0, 20.0, 30.0]), name="b")
    swap = theano.function([], [], updates=[(a, b), (b, a)])
    swap()
    np.testing.assert_array_equal(a.get_value(), [10.0, 20.0, 30.0])
    np.testing.assert_array_equal(b.get_value(), [1.0, 2.0])
    swap()
    np.testing.assert_array_equal(a.get_value(), [1.0, 2.0])
    np.testing.assert_array_equal(b.get_value(), [10.0, 20.0, 30.0])


def test_updates_chain_uses_old_values_not_new_ones():
    x = theano.shared(np.float64(1.0))
    y = theano.shared(np.float64(2.0))
    # y's update reads x's old value, even though x is updated in the same call
    f = theano.function([], [x, y], updates=OrderedDict([(x, x + 10), (y, x * 100)]))
    before = f()
    assert before == [1.0, 2.0]
    assert x.get_value() == 11.0
    assert y.get_value() == 100.0


def test_update_with_a_constant_value():
    s = theano.shared(np.zeros(3))
    f = theano.function([], [], updates={s: np.ones(3)})
    f()
    np.testing.assert_array_equal(s.get_value(), np.ones(3))


def test_update_target_must_be_shared():
    x = T.dvector("x")
    with pytest.raises(TypeError):
        theano.function([x], [], updates=[(x, x + 1)])


def test_update_of_another_ndim_is_refused():
    s = theano.shared(np.zeros(3))
    with pytest.raises((TypeError, ValueError)):
        theano.function([], [], updates={s: s.sum()})


def test_update_of_another_dtype_raises_type_error():
    s = theano.shared(np.zeros(2, dtype="float32"), name="s")
    x = T.dvector("x")
    with pytest.raises(TypeError):
        theano.function([x], [], updates={s: x})


def test_update_of_another_dtype_is_refused_and_cast_fixes_it():
    s = theano.shared(np.zeros(2, dtype="float32"), name="s")
    x = T.dvector("x")
    with pytest.raises(Exception, match="float32"):
        theano.function([x], [], updates={s: x})
    f = theano.function([x], [], updates={s: x.astype("float32")})
    f([1.5, 2.5])
    assert s.get_value().dtype == np.float32
    np.testing.assert_array_equal(s.get_value(), [1.5, 2.5])


def test_shared_updated_twice_is_refused():
    s = theano.shared(np.zeros(2))
    with pytest.raises(ValueError):
        theano.function([], [], updates=[(s, s + 1), (s, s + 2)])


def test_shared_variable_as_explicit_input_raises_type_error():
    w = theano.shared(np.zeros((2, 2)), name="w")
    with pytest.raises(TypeError):
        theano.function([w], (w * w).sum())


def test_shared_variable_as_explicit_input_is_refused():
    w = theano.shared(np.zeros((2, 2)), name="w")
    with pytest.raises((TypeError, ValueError)):
        theano.function([w], (w * w).sum())


# ---------------------------------------------------------------------------------------------------------
# givens
# ---------------------------------------------------------------------------------------------------------

def test_givens_minibatch_index_pattern():
    """The deep-learning tutorial's pattern: an index selects a minibatch of shared data."""
    rng = np.random.RandomState(0)
    data_x = rng.randn(10, 3)
    data_y = rng.randn(10)
    train_x = theano.shared(data_x, name="train_x")
    train_y = theano.shared(data_y, name="train_y")
    x = T.dmatrix("x")
    y = T.dvector("y")
    w = theano.shared(np.array([1.0, -2.0, 0.5]), name="w")
    cost = ((T.dot(x, w) - y) ** 2).mean()
    index = T.lscalar("index")
    bs = 3
    f = theano.function([index], cost, givens={x: train_x[index * bs:(index + 1) * bs],
                                               y: train_y[index * bs:(index + 1) * bs]})
    for i in range(4):  # the last batch is short (rows 9..10), as slicing gives
        xs, ys = data_x[i * bs:(i + 1) * bs], data_y[i * bs:(i + 1) * bs]
        np.testing.assert_allclose(f(i), ((xs.dot(w.get_value()) - ys) ** 2).mean(), rtol=1e-12)
    # the shared data is read at call time
    train_x.set_value(data_x * 2)
    np.testing.assert_allclose(f(0), ((2 * data_x[:3].dot(w.get_value()) - data_y[:3]) ** 2).mean(), rtol=1e-12)


def test_givens_as_list_of_pairs_and_symbolic_replacement():
    x = T.dvector("x")
    y = T.dvector("y")
    f = theano.function([y], x * 2, givens=[(x, y + 1)])
    np.testing.assert_array_equal(f([1.0, 2.0]), [4.0, 6.0])


def test_givens_with_updates():
    data = theano.shared(np.arange(6.0))
    total = theano.shared(np.float64(0.0))
    x = T.dvector("x")
    i = T.lscalar("i")
    f = theano.function([i], [], updates=[(total, total + x.sum())], givens={x: data[i * 2:(i + 1) * 2]})
    for k in range(3):
        f(k)
    assert total.get_value() == np.arange(6.0).sum()


def test_givens_of_another_type_is_refused():
    x = T.dvector("x")
    with pytest.raises((TypeError, ValueError)):
        theano.function([T.fvector("f")], x + 1, givens={x: T.fvector("g")})


# ---------------------------------------------------------------------------------------------------------
# In, Out, modes
# ---------------------------------------------------------------------------------------------------------

def test_in_default_does_not_stick_after_an_explicit_value():
    x = T.dvector("x")
    y = T.dvector("y")
    f = theano.function([x, theano.In(y, value=np.array([10.0, 20.0]))], x + y)
    np.testing.assert_array_equal(f([1.0, 2.0], [0.0, 0.0]), [1.0, 2.0])
    np.testing.assert_array_equal(f([1.0, 2.0]), [11.0, 22.0])


def test_in_strict_requires_the_exact_type():
    x = T.dvector("x")
    f = theano.function([theano.In(x, strict=True)], x * 2)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [2.0, 4.0])
    with pytest.raises(TypeError):
        f(np.array([1, 2], dtype="int32"))


def test_in_strict_refuses_downcast():
    x = T.fvector("x")
    f = theano.function([theano.In(x, strict=True)], x * 2, allow_input_downcast=True)
    with pytest.raises(TypeError):
        f(np.array([1.0, 2.0]))


def test_call_by_variable_name():
    x = T.dvector("x")
    y = T.dvector("y")
    f = theano.function([x, y], x - y)
    np.testing.assert_array_equal(f(y=[1.0], x=[3.0]), [2.0])


def test_param_is_theanos_older_in():
    x = T.dscalar("x")
    spec = theano.Param(x, default=3.0, name="x_by_name")
    assert isinstance(spec, theano.In) and spec.value == 3.0 and spec.name == "x_by_name"


def test_out_borrow():
    x = T.dvector("x")
    f = theano.function([x], theano.Out(x * 2, borrow=True))
    np.testing.assert_array_equal(f([1.0, 2.0]), [2.0, 4.0])
    g = theano.function([x], [theano.Out(x + 1, borrow=True), x - 1])
    a, b = g([1.0])
    np.testing.assert_array_equal(a, [2.0])
    np.testing.assert_array_equal(b, [0.0])


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
def test_modes_accepted(mode):
    x = T.dvector("x")
    f = theano.function([x], x ** 2, mode=mode)
    np.testing.assert_array_equal(f([3.0]), [9.0])
    g = theano.function([x], x ** 2, mode=theano.Mode(optimizer=None, linker="py"))
    np.testing.assert_array_equal(g([3.0]), [9.0])


@pytest.mark.parametrize("mode", ["DebugMode", "DEBUG_MODE", "ProfileMode"])
def test_unavailable_modes_raise_not_implemented(mode):
    x = T.dvector("x")
    with pytest.raises(NotImplementedError, match=mode):
        theano.function([x], x, mode=mode)


def test_function_name_keyword():
    x = T.dvector("x")
    f = theano.function([x], x, name="identity")
    assert f.name == "identity"


# ---------------------------------------------------------------------------------------------------------
# on_unused_input, wrong calls
# ---------------------------------------------------------------------------------------------------------

def test_unused_input_raises_by_default_naming_it():
    x = T.dvector("x")
    unused = T.dvector("the_unused_one")
    with pytest.raises(ValueError, match="the_unused_one"):
        theano.function([x, unused], x * 2)
    with pytest.raises(ValueError, match="the_unused_one"):
        theano.function([x, unused], x * 2, on_unused_input="raise")


def test_unused_input_error_suggests_the_python_keyword():
    x = T.dvector("x")
    unused = T.dvector("u")
    with pytest.raises(ValueError) as info:
        theano.function([x, unused], x * 2)
    assert re.search(r"on_unused_input to ignore \(or warn\)", str(info.value)), str(info.value)


def test_unused_input_warn_compiles_and_reports():
    x = T.dvector("x")
    unused = T.dvector("the_unused_one")
    with pytest.warns(UserWarning, match="the_unused_one"):
        f = theano.function([x, unused], x * 2, on_unused_input="warn")
    np.testing.assert_array_equal(f([1.0], [5.0]), [2.0])


def test_unused_input_warn_issues_a_python_warning():
    x = T.dvector("x")
    unused = T.dvector("the_unused_one")
    with pytest.warns(UserWarning, match="the_unused_one"):
        theano.function([x, unused], x * 2, on_unused_input="warn")


def test_unused_input_ignore():
    x = T.dvector("x")
    unused = T.dvector("u")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = theano.function([x, unused], x * 2, on_unused_input="ignore")
    np.testing.assert_array_equal(f([1.0], [5.0]), [2.0])


def test_unused_input_invalid_policy():
    x = T.dvector("x")
    with pytest.raises(ValueError):
        theano.function([x], x, on_unused_input="sometimes")


def test_config_on_unused_input():
    x = T.dvector("x")
    unused = T.dvector("u")
    with theano.config.change_flags(on_unused_input="ignore"):
        f = theano.function([x, unused], x + 1)
    np.testing.assert_array_equal(f([1.0], [0.0]), [2.0])


def test_missing_input_raises_type_error():
    x, y = T.dvectors("x", "y")
    f = theano.function([x, y], x + y)
    with pytest.raises(TypeError):
        f([1.0])
    with pytest.raises(TypeError):
        f()


def test_too_many_inputs_raises_type_error():
    x = T.dvector("x")
    f = theano.function([x], x)
    with pytest.raises(TypeError):
        f([1.0], [2.0])


def test_unknown_keyword_raises_type_error():
    x = T.dvector("x")
    f = theano.function([x], x)
    with pytest.raises(TypeError, match="zz"):
        f(zz=[1.0])
    with pytest.raises(TypeError):
        f([1.0], x=[2.0])  # given twice


def test_function_unknown_keyword_argument():
    x = T.dvector("x")
    with pytest.raises(TypeError):
        theano.function([x], x, no_such_option=True)


def test_inputs_must_be_a_list():
    x = T.dvector("x")
    with pytest.raises(TypeError):
        theano.function(x, x)


def test_missing_graph_input_is_reported():
    x, y = T.dvectors("x", "y")
    with pytest.raises(Exception, match="y"):
        theano.function([x], x + y)


# ---------------------------------------------------------------------------------------------------------
# Input conversion (Theano's TensorType.filter rules)
# ---------------------------------------------------------------------------------------------------------

def test_float64_into_float32_input_is_refused_naming_both_dtypes():
    x = T.fvector("x")
    f = theano.function([x], x * 2)
    with pytest.raises(TypeError) as info:
        f(np.array([1.0, 2.0]))
    assert "float32" in str(info.value) and "float64" in str(info.value)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0], dtype="float32")), [2.0, 4.0])


def test_allow_input_downcast():
    x = T.fvector("x")
    f = theano.function([x], x * 2, allow_input_downcast=True)
    got = f(np.array([1.1, 2.2]))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, np.array([1.1, 2.2], dtype="float32") * np.float32(2))
    g = theano.function([theano.In(x, allow_downcast=True)], x + 0)
    assert g(np.array([0.1])).dtype == np.float32


def test_python_float_into_floatx_input():
    with theano.config.change_flags(floatX="float32"):
        s = T.scalar("s")
        v = T.vector("v")
        f = theano.function([s], s * 2)
        got = f(0.1)
        assert got.dtype == np.float32
        assert got == np.float32(0.1) * np.float32(2)
        g = theano.function([v, s], v * s)
        np.testing.assert_array_equal(g(np.ones(2, dtype="float32"), 0.5), [0.5, 0.5])
    d = T.dscalar("d")
    assert theano.function([d], d * 2)(0.1) == 0.2


def test_exact_python_float_into_float32_input():
    """A value float32 holds exactly is accepted (Theano checks the conversion is lossless)."""
    f = theano.function([s := T.fscalar("s")], s * 2)
    assert f(1.5) == 3.0


def test_python_int_into_int8_input():
    b = T.bscalar("b")
    f = theano.function([b], b * 1)
    assert f(5) == 5 and f(5).dtype == np.int8
    assert f(-128) == -128
    assert f(127) == 127
    with pytest.raises(TypeError):
        f(300)
    with pytest.raises(TypeError):
        f(-129)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "bool"])
def test_int_arrays_into_float64_inputs_are_upcast(dtype):
    x = T.dvector("x")
    f = theano.function([x], x / 2)
    value = np.array([1, 0, 1], dtype=dtype)
    got = f(value)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, value.astype("float64") / 2)


def test_python_int_into_float64_input():
    d = T.dscalar("d")
    f = theano.function([d], d / 2)
    assert f(3) == 1.5


def test_float_array_into_int_input_is_refused():
    i = T.ivector("i")
    f = theano.function([i], i + 1)
    with pytest.raises(TypeError):
        f(np.array([1.0, 2.0]))
    with pytest.raises(TypeError):
        f(np.array([1, 2], dtype="int64"))
    np.testing.assert_array_equal(f(np.array([1, 2], dtype="int16")), [2, 3])


def test_list_input():
    m = T.dmatrix("m")
    f = theano.function([m], m.sum(axis=0))
    np.testing.assert_array_equal(f([[1, 2], [3, 4]]), [4.0, 6.0])
    np.testing.assert_array_equal(f([[1.5, 2.0]]), [1.5, 2.0])


@pytest.mark.parametrize("make", [
    lambda a: a.T,
    lambda a: a[:, ::2],
    lambda a: a[::-1],
    lambda a: a[::-2, ::-1],
    lambda a: np.asfortranarray(a),
    lambda a: a.astype(a.dtype.newbyteorder(">" if np.little_endian else "<")),
    lambda a: a.astype(a.dtype.newbyteorder(">" if np.little_endian else "<"))[::-1].T,
], ids=["transposed", "strided", "negative_stride", "negative_both", "fortran", "byteswapped", "byteswapped_view"])
def test_unusual_memory_layouts(make):
    m = T.dmatrix("m")
    f = theano.function([m], [m * 1, m.sum(axis=1), T.dot(m, T.ones_like(m).T)])
    base = np.arange(20.0).reshape(4, 5) ** 1.5
    value = make(base)
    expected = np.array(value, dtype="float64")
    got = f(value)
    np.testing.assert_allclose(got[0], expected)
    np.testing.assert_allclose(got[1], expected.sum(axis=1))
    np.testing.assert_allclose(got[2], expected.dot(np.ones_like(expected).T))


def test_byteswapped_float32_into_float32_input():
    x = T.fvector("x")
    f = theano.function([x], x + 1)
    value = np.array([1.0, 2.5, -3.0], dtype=">f4" if np.little_endian else "<f4")
    np.testing.assert_array_equal(f(value), [2.0, 3.5, -2.0])


def test_wrong_ndim_raises_type_error():
    m = T.dmatrix("m")
    f = theano.function([m], m + 1)
    with pytest.raises(TypeError):
        f(np.ones(3))
    with pytest.raises(TypeError):
        f(np.ones((2, 2, 2)))
    s = T.dscalar("s")
    with pytest.raises(TypeError):
        theano.function([s], s + 1)(np.ones(1))


def test_static_shape_mismatch_raises_type_error():
    r = T.drow("r")
    f = theano.function([r], r * 2)
    np.testing.assert_array_equal(f(np.ones((1, 3))), 2 * np.ones((1, 3)))
    with pytest.raises(TypeError):
        f(np.ones((2, 3)))
    t = T.tensor("t", dtype="float64", shape=(None, 3))
    g = theano.function([t], t.sum())
    assert g(np.ones((5, 3))) == 15.0
    with pytest.raises(TypeError):
        g(np.ones((5, 4)))


@pytest.mark.parametrize("dtype", ["float128", "timedelta64"])
def test_unsupported_dtype_raises_type_error_naming_it(dtype):
    x = T.dvector("x")
    f = theano.function([x], x * 2, allow_input_downcast=True)
    with pytest.raises(TypeError, match=dtype):
        f(np.ones(2, dtype=dtype))


@pytest.mark.parametrize("downcast", [False, True])
def test_a_real_input_refuses_a_complex_value_even_with_downcasting(downcast):
    x = T.dvector("x")
    f = theano.function([x], x * 2, allow_input_downcast=downcast)
    with pytest.raises(TypeError, match="complex128"):
        f(np.ones(2, dtype="complex128"))


def test_string_input_is_refused():
    x = T.dvector("x")
    f = theano.function([x], x)
    with pytest.raises(TypeError):
        f(np.array(["a", "b"]))


# ---------------------------------------------------------------------------------------------------------
# Aliasing and atomicity
# ---------------------------------------------------------------------------------------------------------

def test_output_never_aliases_an_input():
    x = T.dvector("x")
    value = np.arange(4.0)
    for out in (x, theano.Out(x, borrow=True)):
        got = theano.function([x], out)(value)
        np.testing.assert_array_equal(got, value)
        assert not np.shares_memory(got, value)


def test_output_never_aliases_a_shared_value():
    s = theano.shared(np.arange(3.0))
    f = theano.function([], s)
    got = f()
    assert not np.shares_memory(got, s.get_value(borrow=True))
    got[0] = 99.0
    np.testing.assert_array_equal(s.get_value(), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(f(), [0.0, 1.0, 2.0])


def test_output_of_an_updated_shared_is_its_old_value_and_not_aliased():
    s = theano.shared(np.zeros(3))
    f = theano.function([], s, updates={s: s + 1})
    got = f()
    np.testing.assert_array_equal(got, np.zeros(3))
    np.testing.assert_array_equal(s.get_value(), np.ones(3))
    assert not np.shares_memory(got, s.get_value(borrow=True))


def test_two_outputs_do_not_alias_each_other():
    x = T.dvector("x")
    a, b = theano.function([x], [x, x])(np.arange(3.0))
    assert not np.shares_memory(a, b)
    c, d = theano.function([x], [x * 2, x * 2])(np.arange(3.0))
    assert not np.shares_memory(c, d)


def test_mutating_a_returned_array_does_not_change_later_results():
    x = T.dvector("x")
    f = theano.function([x], x * 2)
    value = np.arange(3.0)
    first = f(value)
    first[:] = -1.0
    np.testing.assert_array_equal(f(value), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(value, [0.0, 1.0, 2.0])
    c = theano.function([], T.constant(np.array([1.0, 2.0])) * 1)
    r = c()
    r[0] = 50.0
    np.testing.assert_array_equal(c(), [1.0, 2.0])


def test_function_does_not_modify_its_input():
    m = T.dmatrix("m")
    value = np.arange(6.0).reshape(2, 3)
    copy = value.copy()
    theano.function([m], [m * 2, m + 1, -m])(value)
    np.testing.assert_array_equal(value, copy)


def test_failed_call_changes_no_shared_variable():
    w = theano.shared(np.zeros(3), name="w")
    v = theano.shared(np.ones(3), name="v")
    count = theano.shared(0, name="count")
    y = T.dvector("y")
    f = theano.function([y], (w + y).sum(), updates=[(count, count + 1), (w, w + 1), (v, v * y)])
    with pytest.raises(ValueError):
        f(np.ones(4))  # shape mismatch inside the graph
    assert count.get_value() == 0
    np.testing.assert_array_equal(w.get_value(), np.zeros(3))
    np.testing.assert_array_equal(v.get_value(), np.ones(3))
    assert f(np.full(3, 2.0)) == 6.0
    assert count.get_value() == 1
    np.testing.assert_array_equal(w.get_value(), np.ones(3))
    np.testing.assert_array_equal(v.get_value(), np.full(3, 2.0))


def test_failure_only_in_an_update_changes_nothing():
    w = theano.shared(np.zeros(3), name="w")
    v = theano.shared(np.ones(3), name="v")
    y = T.dvector("y")
    # the output and w's update can be computed; v's update cannot
    f = theano.function([y], y.sum(), updates=OrderedDict([(w, w + 1), (v, v * y)]))
    with pytest.raises(ValueError):
        f(np.ones(2))
    np.testing.assert_array_equal(w.get_value(), np.zeros(3))
    np.testing.assert_array_equal(v.get_value(), np.ones(3))


def test_failed_index_changes_no_shared_variable():
    data = theano.shared(np.arange(3.0))
    count = theano.shared(0)
    i = T.lscalar("i")
    f = theano.function([i], data[i], updates=[(count, count + 1)])
    with pytest.raises(IndexError):
        f(10)
    assert count.get_value() == 0
    assert f(-1) == 2.0
    assert count.get_value() == 1


def test_refused_input_changes_no_shared_variable():
    count = theano.shared(0)
    x = T.fvector("x")
    f = theano.function([x], x, updates=[(count, count + 1)])
    with pytest.raises(TypeError):
        f(np.ones(2))
    assert count.get_value() == 0


# ---------------------------------------------------------------------------------------------------------
# The tutorial's logistic regression
# ---------------------------------------------------------------------------------------------------------

def test_tutorial_logistic_regression_trains():
    rng = np.random.RandomState(42)
    N, feats = 300, 20
    true_w = rng.randn(feats)
    X = rng.randn(N, feats)
    Y = (X.dot(true_w) + 0.1 * rng.randn(N) > 0).astype("float64")

    x = T.dmatrix("x")
    y = T.dvector("y")
    w = theano.shared(rng.randn(feats) * 0.01, name="w")
    b = theano.shared(0.0, name="b")

    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])

    train = theano.function(inputs=[x, y], outputs=[prediction, xent],
                            updates=((w, w - 0.1 * gw), (b, b - 0.1 * gb)))
    predict = theano.function(inputs=[x], outputs=prediction)

    w0 = w.get_value()
    first_cost = None
    for step in range(200):
        pred, err = train(X, Y)
        if step == 0:
            first_cost = err.mean()
            assert pred.shape == (N,) and err.shape == (N,)
            # the first call's outputs use the initial parameters
            p0 = 1 / (1 + np.exp(-X.dot(w0)))
            np.testing.assert_allclose(err, -Y * np.log(p0) - (1 - Y) * np.log(1 - p0), rtol=1e-10)
    last_cost = err.mean()
    assert last_cost < first_cost * 0.6
    final = predict(X)
    assert final.dtype == np.bool_
    assert (final == Y).mean() > 0.9
    # the gradient matches NumPy's for the final parameters
    wv, bv = w.get_value(), b.get_value()
    p = 1 / (1 + np.exp(-X.dot(wv) - bv))
    gw_np = X.T.dot(p - Y) / N + 0.02 * wv
    gw_fn = theano.function([x, y], gw)
    np.testing.assert_allclose(gw_fn(X, Y), gw_np, rtol=1e-8, atol=1e-12)


def test_logistic_regression_in_float32():
    with theano.config.change_flags(floatX="float32"):
        rng = np.random.RandomState(1)
        X = rng.randn(100, 5).astype("float32")
        Y = (X[:, 0] - X[:, 1] > 0).astype("float32")
        x = T.matrix("x")
        y = T.vector("y")
        w = theano.shared(np.zeros(5, dtype="float32"), name="w")
        b = theano.shared(np.float32(0.0), name="b")
        p_1 = T.nnet.sigmoid(T.dot(x, w) + b)
        cost = T.nnet.binary_crossentropy(p_1, y).mean()
        gw, gb = T.grad(cost, [w, b])
        assert gw.dtype == "float32" and gb.dtype == "float32"
        lr = np.float32(0.5)
        train = theano.function([x, y], cost, updates=[(w, w - lr * gw), (b, b - lr * gb)])
        costs = [float(train(X, Y)) for _ in range(50)]
        assert w.get_value().dtype == np.float32
        assert costs[-1] < costs[0] * 0.5
        acc = ((theano.function([x], p_1)(X) > 0.5) == Y).mean()
        assert acc > 0.9


def test_numpy_scalars_keep_their_dtype_python_floats_are_weak():
    f32 = T.fvector()
    assert (f32 * np.float64(2)).dtype == "float64"  # NumPy 2: a float64 scalar is a float64 operand
    assert (f32 * 2.0).dtype == "float32"


def test_allow_input_downcast_false_still_takes_lossless_values():
    x = T.ivector("x")
    f = theano.function([x], x * 2, allow_input_downcast=False)
    np.testing.assert_array_equal(f([1, 2]), [2, 4])
    with pytest.raises(TypeError):
        f([2 ** 40])
    y = T.fvector("y")
    g = theano.function([y], y + 0)
    out = g([np.nan, 0.5])  # NaN survives the conversion to float32
    assert np.isnan(out[0]) and out[1] == 0.5


def test_update_values_follow_the_variables_type():
    counter = theano.shared(np.int64(0))
    with pytest.raises(TypeError, match="loss of precision"):
        theano.function([], [], updates={counter: 1.7})
    reset = theano.function([], [], updates={counter: 3})
    reset()
    assert counter.get_value() == 3


def test_shared_allow_downcast_and_strict_govern_set_value():
    lenient = theano.shared(np.zeros(2, "float32"), allow_downcast=True)
    lenient.set_value(np.array([0.5, 1.5]))
    assert lenient.get_value().dtype == np.float32
    strict = theano.shared(np.zeros(2, "float32"), strict=True)
    with pytest.raises(TypeError, match="strict"):
        strict.set_value([1.0, 2.0])
    strict.set_value(np.ones(2, "float32"))


def test_compiler_settings_reach_the_core(tmp_path):
    # compiledir, cxx and openmp_threads are the C++ core's settings; config reads and changes them there.
    with theano.config.change_flags(compiledir=str(tmp_path), openmp_threads=1):
        assert theano.config.compiledir == str(tmp_path) and theano.config.openmp_threads == 1
        x = theano.tensor.dvector("x")
        f = theano.function([x], theano.tensor.exp(x) * 2.5 - theano.tensor.log1p(x) / 3.25 + 0.125)
        np.testing.assert_allclose(f(np.array([0.5, 2.0])),
                                   np.exp([0.5, 2.0]) * 2.5 - np.log1p([0.5, 2.0]) / 3.25 + 0.125, rtol=1e-13)
        assert any(name.endswith(".so") for name in os.listdir(tmp_path / "cpu"))
    assert theano.config.compiledir != str(tmp_path)
    with pytest.raises(ValueError):
        theano.config.openmp_threads = "many"
    with theano.config.change_flags(tiered_compilation=True):
        assert theano.config.tiered_compilation is True
        theano.config.tiered_compilation = False
        assert theano.config.tiered_compilation is False
    with pytest.raises(ValueError, match="tiered_compilation"):
        theano.config.tiered_compilation = "sometimes"


def test_flush_denormals_is_read_when_a_function_is_built():
    # Off (the default): NumPy's subnormal product. On: flushed to zero, as JAX computes it; the caller's
    # own arithmetic keeps its IEEE mode.
    assert theano.config.flush_denormals is False
    x = theano.tensor.fvector("x")
    a, b = np.full(3, 1e-20, np.float32), np.float32(1e-21)
    ieee = theano.function([x], x * b)
    with theano.config.change_flags(flush_denormals=True):
        assert theano.config.flush_denormals is True
        flushing = theano.function([x], x * b)
    assert theano.config.flush_denormals is False
    expected = a * b
    assert expected[0] != 0
    np.testing.assert_array_equal(ieee(a), expected)
    np.testing.assert_array_equal(flushing(a), np.zeros(3, np.float32))
    assert (a * b)[0] == expected[0]
    with pytest.raises(ValueError, match="flush_denormals"):
        theano.config.flush_denormals = "sometimes"


_CACHE_SCRIPT = """
import numpy as np, hypatia as theano
x = theano.tensor.fvector("x")
f = theano.function([x], theano.tensor.tanh(x * 1.75 + 0.5) * theano.tensor.exp(-x))
v = np.linspace(-3, 3, 7).astype("float32")
np.testing.assert_allclose(f(v), np.tanh(v * 1.75 + 0.5) * np.exp(-v), rtol=1e-5)
print("ok")
"""


def test_tiered_compilation_leaves_the_optimized_module_for_the_next_process(tmp_path):
    env = dict(os.environ, HYPATIA_FLAGS=f"compiledir={tmp_path}")
    run = lambda: subprocess.run([sys.executable, "-c", _CACHE_SCRIPT], env=env, capture_output=True, text=True,
                                 timeout=120)
    result = run()
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    # The quick build the first calls ran on, and the optimized one the process waited for at exit.
    objects = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "cpu").iterdir() if p.suffix == ".so"}
    assert len(objects) == 2 and not [p for p in (tmp_path / "cpu").iterdir() if ".tmp." in p.name]
    result = run()  # loads the optimized module: nothing is compiled again
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "cpu").iterdir() if p.suffix == ".so"} == objects


def test_processes_share_the_kernel_cache_and_survive_a_damaged_entry(tmp_path):
    # (One build per function: the damaged entry below is the one the next process loads.)
    env = dict(os.environ, HYPATIA_FLAGS=f"compiledir={tmp_path},tiered_compilation=0")
    run = lambda: subprocess.run([sys.executable, "-c", _CACHE_SCRIPT], env=env, capture_output=True, text=True,
                                 timeout=120)
    # Several processes compiling the same kernels at once all succeed.
    procs = [subprocess.Popen([sys.executable, "-c", _CACHE_SCRIPT], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0 and out.strip() == "ok", err
    objects = [p for p in (tmp_path / "cpu").iterdir() if p.suffix == ".so"]
    assert len(objects) == 1 and not [p for p in (tmp_path / "cpu").iterdir() if ".tmp." in p.name]
    # A damaged entry is rebuilt by the next process.
    objects[0].write_bytes(b"\x7fELF truncated")
    result = run()
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    # A module cut to half its size (a full disk) would kill the loading process with SIGBUS: it is
    # checked before loading, rebuilt, and said once.
    whole = objects[0].read_bytes()
    objects[0].write_bytes(whole[:len(whole) // 2])
    result = run()
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
    assert result.stderr.count("is damaged") == 1, result.stderr
    result = run()  # the rebuilt entry is whole again
    assert result.returncode == 0 and "damaged" not in result.stderr, result.stderr
