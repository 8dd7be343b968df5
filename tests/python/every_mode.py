"""What the op test files share: a graph compiled in every mode with the modes checked against each other,
the caller's line for error messages, and checks of an error's message."""
import inspect
import os

import numpy as np
import pytest

import hypatia as theano

MODES = ("FAST_RUN", "FAST_COMPILE")


def run_every_mode(inputs, outputs, values, agreement, equal_nan=False, **kwargs):
    """Compiles the graph in every mode, checks that the modes agree within agreement(array) (a dict of rtol
    and atol), and returns the FAST_RUN results (a list for a list of outputs)."""
    results = []
    for mode in MODES:
        f = theano.function(inputs, outputs, mode=mode, **kwargs)
        got = f(*values)
        results.append([np.asarray(r) for r in got] if isinstance(outputs, (list, tuple)) else np.asarray(got))
    first, *others = results
    for mode, other in zip(MODES[1:], others):
        for a, b in zip(first if isinstance(first, list) else [first], other if isinstance(other, list) else [other]):
            assert a.shape == b.shape, (mode, a.shape, b.shape)
            assert a.dtype == b.dtype, (mode, a.dtype, b.dtype)
            np.testing.assert_allclose(a, b, equal_nan=equal_nan, **agreement(a), err_msg=f"FAST_RUN vs {mode}")
    return first


def here(offset=0):
    """'<test file>:<line>' of the caller's line (plus offset): where error messages must point."""
    frame = inspect.currentframe().f_back
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno + offset}"


def expect_error(fn, exc, *fragments, where=None):
    """fn() raises exc whose message holds every fragment (and `where`, the user's line, when given)."""
    with pytest.raises(exc) as error:
        fn()
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    if where is not None:
        assert where in message, (where, message)
    return message
