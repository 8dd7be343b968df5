"""Theano's theano.tensor.xlogx: x log x and x log y with the limit 0 where x is 0."""
from .basic import _as_float, as_tensor_variable, eq, log, switch, zeros_like


def xlogx(x):
    """x * log(x), and 0 where x is 0 (its limit); integers give floats."""
    x = _as_float(x)
    product = x * log(x)
    return switch(eq(x, 0), zeros_like(product), product)


def xlogy0(x, y):
    """x * log(y), and 0 where x is 0 (whatever y is)."""
    x, y = as_tensor_variable(x), _as_float(y)
    product = x * log(y)
    return switch(eq(x, 0), zeros_like(product), product)
