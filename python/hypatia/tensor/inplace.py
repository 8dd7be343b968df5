"""Theano's tensor.inplace: `<op>_inplace` for each elementwise op. Theano's versions overwrite their
first input; Hypatia's give the same values as the plain ops and leave that choice to its own in-place
pass (which writes into a buffer only when nothing else reads it)."""
from . import basic as _basic

_NAMES = [
    "lt", "gt", "le", "ge", "eq", "neq", "and_", "or_", "xor", "invert", "abs_", "exp", "exp2", "expm1", "neg",
    "inv", "log", "log1p", "log2", "log10", "sgn", "ceil", "floor", "trunc", "round_half_to_even",
    "round_half_away_from_zero", "sqr", "sqrt", "deg2rad", "rad2deg", "cos", "arccos", "sin", "arcsin", "tan",
    "arctan", "arctan2", "cosh", "arccosh", "sinh", "arcsinh", "tanh", "arctanh", "erf", "erfc", "maximum",
    "minimum", "add", "sub", "mul", "true_div", "int_div", "mod", "pow", "conj", "second", "transpose",
] + _basic._SPECIAL  # the special functions (their list in tensor.basic)


def _inplace(fn, name):
    inplace = _basic.ElementwiseFunction(fn, name, shown=name)  # str() is Theano's: add_inplace
    inplace.__doc__ = f"{fn.__name__}, the values of Theano's in-place version (tensor/inplace.py says why)."
    inplace.__module__ = __name__
    return inplace


for _name in _NAMES:
    globals()[_name + "_inplace"] = _inplace(getattr(_basic, _name), _name + "_inplace")
