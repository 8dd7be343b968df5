"""Theano's RandomStreams: symbolic random draws whose state advances with each call of a function."""
import numbers

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

    random_integers = missing("RandomStreams.random_integers", "draw uniform() and floor() it")
    choice = missing("RandomStreams.choice", "random choice is not implemented")
    permutation = missing("RandomStreams.permutation", "random permutations inside graphs are not implemented")
    multinomial = missing("RandomStreams.multinomial", "multinomial draws are not implemented")
    poisson = missing("RandomStreams.poisson", "Poisson draws are not implemented")
    gamma = missing("RandomStreams.gamma", "gamma draws are not implemented")
    beta = missing("RandomStreams.beta", "beta draws are not implemented")
