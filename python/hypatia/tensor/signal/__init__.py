"""Theano's tensor.signal: pooling (pool) and its old name (downsample)."""
from . import pool  # noqa: F401
