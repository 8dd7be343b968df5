"""Theano's theano.tensor.opt names users reach for: Assert and assert_op (run-time checks kept in the
graph). Theano's graph optimizations themselves live in Hypatia's C++ rewrite pipeline."""
from .. import _core
from .basic import as_tensor_variable


class Assert:
    """Assert(msg)(x, *conditions): x, checked when the function runs that every scalar condition is
    nonzero; ValueError with msg otherwise (Theano raised AssertionError)."""

    def __init__(self, msg="Theano Assert failed!"):
        self.msg = msg

    def __call__(self, value, *conditions):
        conditions = [as_tensor_variable(c) for c in conditions]
        return _core.assert_op(as_tensor_variable(value), conditions, self.msg)

    def __eq__(self, other):
        return type(other) is Assert and other.msg == self.msg

    def __hash__(self):
        return hash((Assert, self.msg))


assert_op = Assert()
