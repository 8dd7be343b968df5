"""Theano's RandomStreams: symbolic random draws whose state advances with each call of a function."""
import numbers

import numpy as np

from .. import _core
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

    def poisson(self, size=None, lam=1.0, ndim=None, dtype="int64"):
        """Poisson counts of mean lam (Theano's raw_random.poisson)."""
        return self._stream.poisson(_sample_size(size, lam), lam, normalize_dtype(dtype))

    def gamma(self, size=None, shape=1.0, scale=1.0, ndim=None, dtype=None):
        """scale * Gamma(shape) draws (NumPy's gamma; PyTensor's RandomStream.gamma)."""
        return self._stream.gamma(_sample_size(size, shape, scale), shape, scale, normalize_dtype(dtype))

    def beta(self, size=None, a=1.0, b=1.0, ndim=None, dtype=None):
        """Beta(a, b) draws in [0, 1] (NumPy's beta; PyTensor's RandomStream.beta)."""
        return self._stream.beta(_sample_size(size, a, b), a, b, normalize_dtype(dtype))

    def multinomial(self, size=None, n=1, pvals=(0.5, 0.5), ndim=None, dtype="int64", nstreams=None):
        """Counts of n draws among len(pvals[-1]) outcomes (Theano's raw_random.multinomial; with n=1 the
        one-hot draws MRG_RandomStreams.multinomial gives). pvals is a vector or one row of probabilities
        per draw; size (default: pvals' leading shape) is the batch shape; the result adds the outcome axis."""
        from .basic import as_tensor_variable, cumsum, cast, concatenate, zeros_like

        pvals = as_tensor_variable(pvals)
        if pvals.ndim not in (1, 2):
            raise ValueError(f"multinomial: pvals must be a vector or a matrix of probabilities, got {pvals.type}")
        if not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"multinomial: n must be a non-negative Python int, got {n!r}")
        if size is None:
            batch = [] if pvals.ndim == 1 else [pvals.shape[0]]
        else:
            batch = list(size) if isinstance(size, (list, tuple)) else [size]
            if pvals.ndim == 2 and len(batch) != 1:
                raise ValueError("multinomial: with a matrix of pvals, size must be (rows,)")
        # Each draw: the first outcome whose cumulative probability exceeds a uniform number.
        cdf = cumsum(pvals, axis=-1)
        u = self.uniform(size=[n] + batch + [1], dtype=cdf.dtype)
        below = cast(u < cdf, "int8")  # true from the chosen outcome on
        before = concatenate([zeros_like(below[..., :1]), below[..., :-1]], axis=-1)
        counts = (below - before).sum(axis=0, dtype="int64")
        return cast(counts, normalize_dtype(dtype))

    def updates(self):
        """(state, update) pairs of every draw, for function(updates=...), as Theano's updates()."""
        return list(self.state_updates)

    def random_integers(self, size=None, low=0, high=1, ndim=None, dtype="int64"):
        """Integers drawn uniformly from [low, high], both included (Theano's random_integers)."""
        from .basic import cast, floor, minimum

        drawn = floor(self.uniform(size=_sample_size(size, low, high), low=low, high=high + 1, dtype="float64"))
        return cast(minimum(drawn, high), normalize_dtype(dtype))  # u may round up to high + 1

    def permutation(self, size=None, n=1, ndim=None, dtype="int64"):
        """A random permutation of range(n) for each of size (Theano's permutation): the order that sorts
        uniform numbers, each order equally likely."""
        from .basic import argsort, cast

        batch = [] if size is None else (list(size) if isinstance(size, (list, tuple)) else [size])
        return cast(argsort(self.uniform(size=batch + [n]), axis=-1), normalize_dtype(dtype))

    def choice(self, size=None, a=2, replace=True, p=None, ndim=None, dtype="int64"):
        """Entries of range(a) (NumPy's choice with an integer a): uniform, or weighted by p; without
        replacement, the first entries of a random permutation (weighted by p when given)."""
        from .basic import argmax, cast

        batch = [] if size is None else (list(size) if isinstance(size, (list, tuple)) else [size])
        if not replace:
            count = 1
            for d in batch:
                count *= d
            if p is None:
                return self.permutation(n=a, dtype=dtype)[:count].reshape(batch)
            # Weighted, without replacement: the entries with the largest keys log(u) / p, which picks them
            # in the order of successive draws proportional to the weights left (Efraimidis and Spirakis).
            from .basic import argsort, as_tensor_variable, log

            p = as_tensor_variable(p)
            keys = log(self.uniform(size=[a], dtype=p.dtype)) / p
            return cast(argsort(-keys)[:count].reshape(batch), normalize_dtype(dtype))
        if p is None:
            return self.random_integers(size=batch, low=0, high=a - 1, dtype=dtype)
        onehot = self.multinomial(size=batch if batch else None, n=1, pvals=p)
        return cast(argmax(onehot, axis=-1), normalize_dtype(dtype))
