"""scan, map, reduce, foldl, foldr from Python: values against NumPy loops, gradients against finite
differences, updates of shared variables and random streams, and the errors users meet."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import hypatia as theano
import hypatia.tensor as T
from hypatia.tensor.shared_randomstreams import RandomStreams


def test_elman_network_matches_a_numpy_loop():
    x, h0, w = T.dmatrix("x"), T.dvector("h0"), T.dmatrix("w")
    h, updates = theano.scan(lambda x_t, h_prev, w: T.tanh(x_t + T.dot(h_prev, w)), sequences=x, outputs_info=h0,
                             non_sequences=w)
    assert updates == {}
    f = theano.function([x, h0, w], h)
    rng = np.random.default_rng(0)
    xv, h0v, wv = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5
    expected, state = [], h0v
    for row in xv:
        state = np.tanh(row + state @ wv)
        expected.append(state)
    assert_allclose(f(xv, h0v, wv), expected, rtol=1e-12)


def test_taps_dicts_and_outputs_not_fed_back():
    x = T.dvector("x")
    f0 = T.dvector("f0")
    diffs, _ = theano.scan(lambda before, now, after: before - 2 * now + after,
                           sequences=dict(input=x, taps=[-1, 0, 1]))
    (fib, doubled), _ = theano.scan(lambda a, b: [a + b, 2 * (a + b)], outputs_info=[dict(initial=f0, taps=[-2, -1]), None],
                                    n_steps=6)
    f = theano.function([x, f0], [diffs, fib, doubled])
    got = f(np.arange(6.0) ** 2, [0.0, 1.0])
    assert_allclose(got[0], [2, 2, 2, 2])
    assert_allclose(got[1], [1, 2, 3, 5, 8, 13])
    assert_allclose(got[2], [2, 4, 6, 10, 16, 26])


def test_go_backwards_and_return_list():
    x = T.dvector("x")
    out, _ = theano.scan(lambda v, acc: acc * 10 + v, sequences=x, outputs_info=T.constant(0.0), go_backwards=True,
                         return_list=True)
    assert isinstance(out, list) and len(out) == 1
    assert_allclose(theano.function([x], out[0])([1.0, 2.0, 3.0]), [3, 32, 321])


def test_shared_variable_updates_and_random_streams_inside_the_loop():
    counter = theano.shared(np.float64(0), name="counter")
    x = T.dvector("x")
    out, updates = theano.scan(lambda v: (v * counter, {counter: counter + 1}), sequences=x)
    f = theano.function([x], out, updates=updates)
    assert_allclose(f([2.0, 2.0, 2.0]), [0, 2, 4])
    assert counter.get_value() == 3
    srng = RandomStreams(seed=3)
    m = T.dmatrix("m")
    noise, updates = theano.scan(lambda v: v + srng.uniform((2,)), sequences=m)
    assert len(updates) == 1
    g = theano.function([m], noise, updates=updates)
    first, second = g(np.zeros((3, 2))), g(np.zeros((3, 2)))
    assert not np.array_equal(first[0], first[1])   # every step draws its own numbers
    assert not np.array_equal(first, second)        # and the stream advances between calls
    assert ((first >= 0) & (first < 1)).all()


def test_gradients_through_time_match_finite_differences():
    rng = np.random.default_rng(1)

    def cost(x, h0, w):
        h, _ = theano.scan(lambda x_t, h_prev, w: T.tanh(x_t + T.dot(h_prev, w)), sequences=x, outputs_info=h0,
                           non_sequences=w)
        return (h ** 2).sum()

    theano.gradient.verify_grad(cost, [rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5])

    def closure_and_taps(x, f0):
        out, _ = theano.scan(lambda a, b, c: T.sin(a * b + c), sequences=x, outputs_info=dict(initial=f0, taps=[-2, -1]))
        return out.sum()

    theano.gradient.verify_grad(closure_and_taps, [rng.normal(size=5), rng.normal(size=2)])


def test_truncated_gradient():
    x, h0, a = T.dvector("x"), T.dscalar("h0"), T.dscalar("a")
    h, _ = theano.scan(lambda x_t, h_prev: a * h_prev + x_t, sequences=x, outputs_info=h0, truncate_gradient=2)
    gx = T.grad(h[-1], x)
    assert_allclose(theano.function([x, h0, a], gx)([1.0, 2.0, 3.0, 4.0], 1.0, 3.0), [0, 0, 3, 1])


def test_errors_name_the_loop_and_the_mismatch():
    x = T.dmatrix("x")
    h32 = T.fvector("h32")
    with pytest.raises(TypeError, match=r"\[scan\].*output 0.*float32"):
        theano.scan(lambda x_t, h: x_t + h, sequences=x, outputs_info=h32)
    with pytest.raises(ValueError, match="n_steps must be given"):
        theano.scan(lambda h: h * 2, outputs_info=T.dvector())
    with pytest.raises(ValueError, match="fn returned 2 outputs"):
        theano.scan(lambda x_t, h: [x_t, h], sequences=x, outputs_info=T.dvector())
    h0 = T.dvector("h0")
    grow, _ = theano.scan(lambda x_t, h: T.concatenate([h, x_t[:1]]), sequences=x, outputs_info=h0)
    f = theano.function([x, h0], grow)
    with pytest.raises(ValueError, match=r"\[scan\].*step 0.*\(3,\).*\(2,\)"):
        f(np.ones((2, 2)), np.zeros(2))
