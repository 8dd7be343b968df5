"""Theano's theano.compile.io."""
from . import In, Out, Param  # noqa: F401
