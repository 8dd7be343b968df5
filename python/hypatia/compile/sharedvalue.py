"""Theano's theano.compile.sharedvalue."""
from . import shared  # noqa: F401
from .._core import SharedVariable  # noqa: F401
