"""Errors name the op, the shapes and dtypes, and the Python file and line that built the node; a failed
call changes no shared variable; bad input never crashes the process."""
import re

import numpy as np
import pytest

import hypatia as theano
import hypatia.tensor as T
from every_mode import here


def test_build_time_shape_error_names_op_types_and_line():
    a = T.tensor("a", shape=(3,))
    b = T.tensor("b", shape=(4,), dtype="float32")
    where = here(2)
    with pytest.raises(theano.ShapeError) as error:
        a + b
    message = str(error.value)
    assert message.startswith("[add]")
    assert "float64(3,)" in message and "float32(4,)" in message
    assert message.endswith(f"(node built at {where})")
    assert isinstance(error.value, ValueError)


def test_call_time_error_points_at_the_line_that_built_the_node():
    x, y = T.matrix("x"), T.matrix("y")
    where = here(1)
    total = x + y
    f = theano.function([x, y], total.sum())
    with pytest.raises(ValueError, match=re.escape(f"(node built at {where})")) as error:
        f(np.ones((2, 3)), np.ones((4, 3)))
    assert "[add]" in str(error.value) and "(2, 3)" in str(error.value) and "(4, 3)" in str(error.value)


def test_dot_shapes_not_aligned():
    x, w = T.matrix("x"), T.matrix("w")
    where = here(1)
    f = theano.function([x, w], T.dot(x, w))
    with pytest.raises(ValueError) as error:
        f(np.ones((2, 3)), np.ones((4, 5)))
    assert str(error.value).startswith("[dot]") and "not aligned" in str(error.value)
    assert where in str(error.value)


def test_errors_inside_library_wrappers_still_name_the_users_line():
    x = T.matrix("x")
    where = here(2)
    with pytest.raises(ValueError, match=re.escape(where)) as error:
        x.sum(axis=5)
    assert "[sum]" in str(error.value) and "axis 5" in str(error.value)
    with pytest.raises(IndexError, match="test_errors.py"):
        x[1, 2, 3]


def test_grad_of_a_non_scalar_says_where_grad_was_called():
    x = T.vector("x")
    where = here(2)
    with pytest.raises(ValueError, match=re.escape(f"grad called at {where}")) as error:
        theano.grad(x * 2, x)
    assert "scalar" in str(error.value)


def test_missing_input_is_named_with_its_build_line():
    x = T.vector("x")
    where = here(1)
    y = T.vector("y")
    with pytest.raises(ValueError) as error:
        theano.function([x], x + y)
    message = str(error.value)
    assert message.startswith("[function]") and "'y'" in message and where in message


def test_a_failed_call_changes_no_shared_variable():
    x = T.vector("x")
    count = theano.shared(np.int64(0), "count")
    total = theano.shared(np.zeros(3), "total")
    f = theano.function([x], [], updates={count: count + 1, total: total + x})
    f(np.ones(3))
    with pytest.raises(ValueError):
        f(np.ones(4))
    assert count.get_value() == 1
    np.testing.assert_array_equal(total.get_value(), np.ones(3))


def test_bad_values_raise_instead_of_crashing():
    x = T.matrix("x")
    i = T.lscalar("i")
    f = theano.function([x, i], x[i])
    with pytest.raises(IndexError, match="out of bounds"):
        f(np.ones((2, 2)), 5)
    with pytest.raises(ValueError):
        T.zeros((-1, 2)).eval()
    with pytest.raises((MemoryError, ValueError)):
        T.zeros((2**40, 2**40)).eval()
    with pytest.raises(TypeError, match="complex128"):
        theano.function([x], x * 2)(np.ones((2, 2), dtype=complex))
    with pytest.raises(TypeError, match="matrix|float64\\(\\?, \\?\\)"):
        theano.function([x], x * 2)(np.ones(3))


def test_python_exceptions_in_callbacks_pass_through():
    class Oops(Exception):
        pass

    def fun(a):
        raise Oops("from the user's function")

    with pytest.raises(Oops):
        theano.gradient.verify_grad(fun, [np.ones(3)])


def test_gradient_error_is_raised_for_a_wrong_gradient():
    # zero_grad blocks the gradient, so the symbolic gradient (0) disagrees with finite differences.
    with pytest.raises(theano.gradient.GradientError, match="gradient mismatch for input 0"):
        theano.gradient.verify_grad(lambda a: T.zero_grad(a) * a, [np.ones(3)], n_tests=1)


def test_symbolic_truth_value_is_refused():
    x = T.scalar("x")
    with pytest.raises(TypeError, match="truth value"):
        if x > 0:
            pass
