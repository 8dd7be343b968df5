"""Theano's theano.compile.mode."""
from . import FAST_COMPILE, FAST_RUN, Mode, get_default_mode, get_mode  # noqa: F401
