"""Theano's RandomStreams: symbolic random draws whose state advances with each call of a function."""
import numbers

import numpy as np

from .. import _core
from .._missing import missing
from .type import normalize_dtype


def _sample_size(size, *parameters):
    """Theano's rule for size=None: the shape the parameters broadcast to (a scalar draw when they are
    all numbers)."""
    if size is not None:
        return size
    from .basic import as_tensor_variable, zeros_like

    tensors = [as_tensor_variable(p) for p in parameters if not isinstance(p, numbers.Number)]
    tensors = [t for t in tensors if t.ndim > 0]
    if not tensors:
        return ()
    ndim = max(t.ndim for t in tensors)
    combined = None
    for t in tensors:
        padded = t.dimshuffle(*(["x"] * (ndim - t.ndim) + list(range(t.ndim))))
        combined = zeros_like(padded) if combined is None else combined + zeros_like(padded)
    return [combined.shape[i] for i in range(ndim)]


class RandomState:
    """The state of one random draw, with NumPy RandomState's seed / get_state / set_state (what
    Theano's rv.rng.get_value() returned). Hypatia's generator is Philox: the state is a key and a
    counter, and get_state() returns ('philox', key, counter)."""

    def __init__(self, state):
        self._state = np.array(state, dtype=np.int64).reshape(2)

    def seed(self, seed=None):
        """Restarts the draw as the first draw of a stream built with `seed` would start."""
        self._state = np.asarray(_core.initial_random_state(0 if seed is None else int(seed), 0), dtype=np.int64)

    def get_state(self):
        return ("philox", int(self._state[0]), int(self._state[1]))

    def set_state(self, state):
        if len(state) != 3 or state[0] != "philox":
            raise ValueError(f"RandomState.set_state: expected ('philox', key, counter) from get_state(), got {state!r}")
        self._state = np.array(state[1:], dtype=np.int64)

    def __array__(self, dtype=None, copy=None):
        return self._state if dtype is None else self._state.astype(dtype)

    def __repr__(self):
        return f"RandomState(key={self._state[0]}, counter={self._state[1]})"


class RandomStateVariable:
    """rv.rng: the shared state of the draw rv, as Theano exposed it. get_value() gives a RandomState;
    set_value() takes one back (or the raw [key, counter] array)."""

    def __init__(self, state):
        self.state = state  # the shared variable the draw reads and advances

    def get_value(self, borrow=False):
        return RandomState(self.state.get_value())

    def set_value(self, value, borrow=False):
        self.state.set_value(np.asarray(value, dtype=np.int64).reshape(2))

    @property
    def default_update(self):
        return self.state.default_update

    def __repr__(self):
        return f"RandomStateVariable({self.state})"


class RandomStreams:
    """Each draw is a graph node; every compiled function that uses it gets fresh numbers per call, and
    streams built with the same seed give the same sequence."""

    def __init__(self, seed=None):
        self._stream = _core.RandomStream(0 if seed is None else int(seed))

    def seed(self, seed=None):
        """Restarts every draw of this stream as if it were built with `seed`."""
        self._stream.seed(0 if seed is None else int(seed))

    @property
    def state_updates(self):
        """(state, its update) for every draw still in use."""
        pairs = [(state, state.default_update) for state in self._stream.states]
        return [(state, update) for state, update in pairs if update is not None]

    def uniform(self, size=None, low=0.0, high=1.0, ndim=None, dtype=None):
        return self._stream.uniform(_sample_size(size, low, high), low, high, normalize_dtype(dtype))

    def normal(self, size=None, avg=0.0, std=1.0, ndim=None, dtype=None):
        return self._stream.normal(_sample_size(size, avg, std), avg, std, normalize_dtype(dtype))

    def binomial(self, size=None, n=1, p=0.5, ndim=None, dtype="int64", prob=None):
        p = p if prob is None else prob
        return self._stream.binomial(_sample_size(size, n, p), n, p, normalize_dtype(dtype))

    def updates(self):
        """(state, update) pairs of every draw, for function(updates=...), as Theano's updates()."""
        return list(self.state_updates)

    random_integers = missing("RandomStreams.random_integers", "draw uniform() and floor() it")
    choice = missing("RandomStreams.choice", "random choice is not implemented")
    permutation = missing("RandomStreams.permutation", "random permutations inside graphs are not implemented")
    multinomial = missing("RandomStreams.multinomial", "multinomial draws are not implemented")
    poisson = missing("RandomStreams.poisson", "Poisson draws are not implemented")
    gamma = missing("RandomStreams.gamma", "gamma draws are not implemented")
    beta = missing("RandomStreams.beta", "beta draws are not implemented")
