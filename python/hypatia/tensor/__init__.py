"""hypatia.tensor: symbolic tensors and their ops (Theano's theano.tensor)."""
import builtins

from .. import _core, _missing
from . import var as _var  # noqa: F401  (adds Theano's methods to Variable)
from .basic import *  # noqa: F401,F403
from .basic import (Variable, SharedVariable, and_, or_, xor, invert, abs_, sum, max, min, any, all,  # noqa: F401
                    pow, round, abs, _shared)
from .type import TensorType  # noqa: F401
from . import nnet, extra_ops, shared_randomstreams, signal, xlogx, inplace, opt  # noqa: F401
from . import nlinalg, slinalg, linalg, fft  # noqa: F401
from .extra_ops import fill_diagonal, fill_diagonal_offset, bartlett  # noqa: F401
from .extra_ops import (topk, argtopk, topk_and_argtopk, nonzero, flatnonzero, nonzero_values,  # noqa: F401
                        unravel_index, ravel_multi_index)
from .nnet import sigmoid, softplus, softmax, relu  # noqa: F401
from ..gradient import grad, disconnected_grad, zero_grad, verify_grad, Rop, Lop, jacobian, hessian  # noqa: F401

class _OpKind(builtins.type):  # `type` here is the submodule tensor.type
    """isinstance(op, tensor.Elemwise) asks the op what it is: Hypatia's ops are C++ objects, not
    subclasses of these Python classes."""

    def __instancecheck__(cls, op):
        return isinstance(op, _core.Op) and cls._matches(op)


class Elemwise(metaclass=_OpKind):
    """Theano's Elemwise, for isinstance checks on f.maker.fgraph.toposort()'s ops: one scalar op broadcast
    over tensors, or a fused loop of them."""

    @staticmethod
    def _matches(op):
        return op.is_elementwise


def _op_family(class_name, doc, *op_names):
    """A class for isinstance checks of ops of one family, by the names Hypatia's ops give themselves."""
    return _OpKind(class_name, (), {"__doc__": doc, "_matches": staticmethod(lambda op: op.name in op_names)})


# Theano's classes of the sort family (theano.tensor.sort): topk values come from argtopk's positions.
TopKOp = _op_family("TopKOp", "Theano's TopKOp: the k largest (or smallest) entries or their positions.", "argtopk")
SortOp = _op_family("SortOp", "Theano's SortOp: a sort (argsort, then the values taken along the axis).",
                    "argsort")
ArgSortOp = _op_family("ArgSortOp", "Theano's ArgSortOp.", "argsort")

TensorVariable = Variable
TensorConstant = Variable
TensorSharedVariable = SharedVariable


def _table():
    table = {}
    return table


__getattr__ = _missing.module_getattr(__name__, _table())
