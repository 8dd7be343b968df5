"""Theano's theano.scalar.basic: the same names as hypatia.scalar."""
from . import *  # noqa: F401,F403
from . import upcast, constant, as_scalar, Scalar, ScalarType, get_scalar_type  # noqa: F401
