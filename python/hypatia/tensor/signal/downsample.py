"""Theano's old tensor.signal.downsample: max_pool_2d, the same op as pool.pool_2d."""
from .pool import max_pool_2d_same_size, pool_2d  # noqa: F401


def max_pool_2d(input, ds, ignore_border=None, st=None, padding=(0, 0), mode="max"):
    """pool_2d under its old name and argument names (ds: the window, st: the stride)."""
    return pool_2d(input, ws=ds, ignore_border=ignore_border, stride=st, pad=padding, mode=mode)
