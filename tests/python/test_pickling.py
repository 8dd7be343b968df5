"""pickle.dump / pickle.load of variables, graphs, shared variables and compiled functions (a model object
holding all of them loads as one graph again), and the errors for other versions and damaged data."""
import pickle
import subprocess
import sys

import numpy as np
import pytest

import hypatia as theano
import hypatia.tensor as T
from hypatia import _core, _pickling
from hypatia.tensor.shared_randomstreams import RandomStreams


class LogisticRegression:
    """The deep-learning tutorial's model object: input, weights, predictions."""

    def __init__(self, n_in, n_out):
        self.input = T.dmatrix("x")
        self.W = theano.shared(np.random.default_rng(0).normal(size=(n_in, n_out)), name="W")
        self.b = theano.shared(np.zeros(n_out), name="b")
        self.p_y_given_x = T.nnet.softmax(T.dot(self.input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])


def _trained():
    model = LogisticRegression(4, 3)
    y = T.ivector("y")
    cost = model.negative_log_likelihood(y)
    grads = T.grad(cost, model.params)
    train = theano.function([model.input, y], cost, updates=[(p, p - 0.5 * g) for p, g in zip(model.params, grads)])
    X = np.random.default_rng(1).normal(size=(30, 4))
    Y = (X[:, 0] > 0).astype("int32") + (X[:, 1] > 1).astype("int32")
    for _ in range(20):
        train(X, Y)
    return model, train, X, Y


def test_a_trained_model_predicts_the_same_after_loading():
    model, train, X, Y = _trained()
    loaded, train_again = pickle.loads(pickle.dumps((model, train)))
    assert loaded.W is not model.W
    np.testing.assert_array_equal(loaded.W.get_value(), model.W.get_value())
    predict = theano.function([model.input], model.y_pred)
    predict_loaded = theano.function([loaded.input], loaded.y_pred)  # the input is the one in its graph
    np.testing.assert_array_equal(predict_loaded(X), predict(X))
    # The loaded training function updates the loaded weights, not the original ones.
    before = model.W.get_value()
    assert train_again(X, Y) == pytest.approx(train(X, Y), rel=1e-15)
    np.testing.assert_allclose(loaded.W.get_value(), model.W.get_value(), rtol=1e-14)
    assert not np.array_equal(model.W.get_value(), before)


_SAVE = """
import pickle, sys, numpy as np
sys.path.insert(0, {tests!r})
from test_pickling import _trained
model, train, X, Y = _trained()
import hypatia as theano
pickle.dump((model, X, theano.function([model.input], model.y_pred)(X)), open({path!r}, "wb"))
"""

_LOAD = """
import pickle, numpy as np, hypatia as theano
model, X, predicted = pickle.load(open({path!r}, "rb"))
f = theano.function([model.input], model.y_pred)
assert (f(X) == predicted).all()
print("same")
"""


def test_a_model_saved_by_one_process_predicts_the_same_in_another(tmp_path):
    import os
    path, tests = str(tmp_path / "model.pkl"), os.path.dirname(__file__)
    for script in (_SAVE, _LOAD):
        result = subprocess.run([sys.executable, "-c", script.format(path=path, tests=tests)], capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "same"


def test_every_kind_of_object_round_trips():
    x = T.dvector("x")
    w = theano.shared(np.arange(3.0), name="w", strict=True)
    c = T.constant(np.array([1.0, -1.0, 2.0]), name="c")
    expr = T.tanh(x * w + c).sum()
    grad = theano.grad(expr, x)
    x2, w2, c2, expr2, grad2 = pickle.loads(pickle.dumps((x, w, c, expr, grad)))
    assert x2.name == "x" and x2.type == x.type and w2.name == "w" and c2.name == "c" and w2._strict
    np.testing.assert_array_equal(w2.get_value(), [0, 1, 2])
    f, f2 = theano.function([x], [expr, grad]), theano.function([x2], [expr2, grad2])
    value = np.array([0.5, -0.25, 2.0])
    for a, b in zip(f(value), f2(value)):
        np.testing.assert_allclose(a, b, rtol=1e-15)
    # A variable pickled alone carries its graph.
    alone = pickle.loads(pickle.dumps(grad))
    assert len(_core.toposort([alone])) == len(_core.toposort([grad]))


def test_loops_branches_and_random_streams_round_trip():
    from hypatia.ifelse import ifelse
    srng = RandomStreams(seed=11)
    x, k = T.dvector("x"), T.dscalar("k")
    noise = srng.normal((3,))
    steps, updates = theano.scan(lambda a, h: T.tanh(a * h + k), sequences=x, outputs_info=T.constant(0.5))
    out = ifelse(T.gt(k, 0), steps[-1] + noise.sum(), steps[0])
    f = theano.function([x, k], out, updates=updates)
    g = pickle.loads(pickle.dumps(f))
    value = np.array([0.1, 0.2, 0.3])
    # Same random state when pickled: the first calls agree, and both advance.
    assert g(value, -1.0) == f(value, -1.0)
    first_g, first_f = g(value, 1.0), f(value, 1.0)
    assert first_g == first_f and g(value, 1.0) != first_g


def test_another_format_version_is_a_clear_error(monkeypatch):
    x = T.dvector("x")
    monkeypatch.setattr(_pickling, "FORMAT", 99)
    data = pickle.dumps(T.exp(x))
    monkeypatch.setattr(_pickling, "FORMAT", 1)
    with pytest.raises(ValueError, match="format 99"):
        pickle.loads(data)
    saved = _core.save_op(T.exp(x).owner.op)
    newer = saved[:4] + (3).to_bytes(4, "little") + saved[8:]
    with pytest.raises(ValueError, match="format version 3"):
        _core.load_op(newer)


def test_damaged_data_is_a_clear_error_never_a_crash():
    x = T.dmatrix("x")
    steps, _ = theano.scan(lambda r: T.nnet.softmax(r, axis=-1) * 2, sequences=x)
    nodes = _core.toposort([steps])
    for op in [node.op for node in nodes if node.op.name == "scan"] + [nodes[-1].op]:
        saved = _core.save_op(op)
        assert str(_core.load_op(saved)) == str(op)  # a loop's inner graph is a new one
        for cut in range(len(saved)):
            with pytest.raises(ValueError, match=r"\[load\]"):
                _core.load_op(saved[:cut])
        rng = np.random.default_rng(0)
        for _ in range(200):  # random byte flips: an error or an equal-looking op, never a crash
            damaged = bytearray(saved)
            damaged[int(rng.integers(8, len(saved)))] ^= int(rng.integers(1, 256))
            try:
                _core.load_op(bytes(damaged))
            except (ValueError, TypeError, IndexError):
                pass


def test_each_pickle_saves_the_values_of_its_moment():
    # A random state's record is kept alive by its own cycle (state -> update -> state); what it saves is
    # read when pickled, so a later pickle holds the later state.
    srng = RandomStreams(seed=4)
    u = srng.uniform((2,))
    f = theano.function([], u)
    before = pickle.dumps(u)
    f()
    after = pickle.dumps(u)
    first, second = pickle.loads(before), pickle.loads(after)
    assert not np.array_equal(first.rng.get_value().get_state(), second.rng.get_value().get_state())
    assert second.rng.get_value().get_state() == u.rng.get_value().get_state()
    w = theano.shared(np.zeros(2))
    saved = pickle.dumps(w)
    w.set_value(np.ones(2))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(w)).get_value(), [1, 1])
    np.testing.assert_array_equal(pickle.loads(saved).get_value(), [0, 0])


def test_damaged_loop_layouts_are_errors():
    x = T.dvector("x")
    steps, _ = theano.scan(lambda a, h: a + h, sequences=x, outputs_info=T.constant(0.0))
    saved = bytearray(_core.save_op([n for n in _core.toposort([steps]) if n.op.name == "scan"][0].op))
    # The first recurrent tap (-1) made non-negative: refused, not run.
    tap = (-1).to_bytes(8, "little", signed=True)
    at = bytes(saved).find(tap)
    assert at > 0
    saved[at:at + 8] = (0).to_bytes(8, "little", signed=True)
    with pytest.raises(ValueError, match=r"\[load\]"):
        _core.load_op(bytes(saved))
