"""The binding's memory and threading contracts: NumPy memory is never written through when it is
read-only, never kept by a shared variable behind the caller's back, and calls from several threads
apply their updates one at a time; a process whose daemon thread is inside a call exits cleanly."""
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import hypatia as theano
import hypatia.tensor as T
from conftest import ROOT


def test_read_only_numpy_memory_stays_read_only():
    buffer = bytes(16)
    read_only = np.frombuffer(buffer, dtype="float32")
    assert not read_only.flags.writeable
    s = theano.shared(read_only, borrow=True)
    view = s.get_value(borrow=True)
    assert np.shares_memory(view, read_only) and not view.flags.writeable
    with pytest.raises(ValueError):
        view[0] = 1.0
    assert buffer == bytes(16)
    assert T.fvector().type.filter(read_only) is read_only
    # Computing from read-only inputs works, and outputs are the caller's to change.
    x = T.fvector("x")
    out = theano.function([x], x * 1)(read_only)
    assert out.flags.writeable and not np.shares_memory(out, read_only)


def test_an_update_never_keeps_the_callers_input_memory():
    x = T.dvector("x")
    s = theano.shared(np.zeros(3))
    f = theano.function([x], [], updates={s: x[::-1]})
    a = np.array([1.0, 2.0, 3.0])
    f(a)
    a[:] = 5.0
    np.testing.assert_array_equal(s.get_value(), [3.0, 2.0, 1.0])


def test_calls_from_several_threads_lose_no_update():
    count = theano.shared(np.int64(0), "count")
    total = theano.shared(np.zeros(8), "total")
    x = T.dvector("x")
    step = theano.function([x], count * 1, updates={count: count + 1, total: total + x})
    ones = np.ones(8)
    errors = []

    def work():
        try:
            for _ in range(1500):
                step(ones)
                total.get_value(borrow=True)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert count.get_value() == 6000
    np.testing.assert_array_equal(total.get_value(), np.full(8, 6000.0))


def test_exit_while_a_daemon_thread_is_inside_a_call():
    program = f"""
import sys, threading, time
sys.path[:0] = [{ROOT + '/python'!r}]
import numpy as np
import hypatia as theano, hypatia.tensor as T
x = T.dvector()
f = theano.function([x], T.sum(T.tanh(x) * 2))
def loop():
    while True:
        f(np.ones(10**6))
threading.Thread(target=loop, daemon=True).start()
time.sleep(0.3)
print("exiting")
"""
    for _ in range(3):
        result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert "exiting" in result.stdout


def test_warnings_point_at_the_users_line():
    x, unused = T.dvector("x"), T.dvector("unused")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        theano.function([x, unused], x * 2, on_unused_input="warn")
    assert len(caught) == 1
    assert caught[0].filename.endswith("test_binding_safety.py")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="'unused'"):
            theano.function([x, unused], x * 2, on_unused_input="warn")


@pytest.mark.parametrize("build, error, fragment", [
    (lambda x: x[2 ** 70], ValueError, "does not fit in int64"),
    (lambda x: x.sum(axis=2 ** 40), ValueError, "out of range"),
    (lambda x: x.argmax(axis="a"), TypeError, "axis must be an integer"),
    (lambda x: T.reshape(x, T.lvector(), ndim=2.0), TypeError, "ndim must be an integer"),
    (lambda x: x.transpose((0, 1.0)), TypeError, "axes must be an integer"),
])
def test_bad_arguments_say_what_is_wrong(build, error, fragment):
    with pytest.raises(error, match=fragment):
        build(T.matrix("x"))
