"""OrderedUpdates (Theano's theano.updates): the updates of a function as an ordered mapping."""
from collections import OrderedDict

from ._core import SharedVariable


class OrderedUpdates(OrderedDict):
    """Maps shared variables to their new values, in the order given; `a + b` is the union of two sets of
    updates. A variable given two different new values raises KeyError('Collision', variable).
    (Theano warned when built from a plain dict; Python's dicts keep their order, so it is safe here.)"""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key in self:
            self._check_key(key)

    @staticmethod
    def _check_key(key):
        if not isinstance(key, SharedVariable):
            raise TypeError("OrderedUpdates keys must be shared variables", key)

    def __setitem__(self, key, value):
        self._check_key(key)
        super().__setitem__(key, value)

    def update(self, other=None, **kwargs):
        if other is None:
            return
        for key, value in OrderedDict(other).items():
            # Variables compare by identity (== builds no node), so a repeated pair is not a collision.
            if key in self:
                if self[key] is value:
                    continue
                raise KeyError("Collision", key)
            self[key] = value

    def __add__(self, other):
        union = OrderedUpdates()
        union.update(self)
        union.update(other)
        return union

    def __radd__(self, other):
        union = OrderedUpdates()
        union.update(other)
        union.update(self)
        return union
