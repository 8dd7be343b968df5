"""Theano's tensor.signal.pool: max, sum and average pooling over the last 2 (pool_2d) or 3 (pool_3d) axes."""
import warnings

from ... import _core
from ..basic import as_tensor_variable

__all__ = ["pool_2d", "pool_3d", "max_pool_2d_same_size"]


def _sizes(values, what, spatial):
    if values is None:
        return []
    if isinstance(values, _core.Variable):
        if not values._is_constant:
            raise NotImplementedError(f"{what} must be known when the graph is built (a computed {what} is not supported)")
        values = values._constant_value.reshape(-1)
    values = [int(v) for v in values]
    if len(values) != spatial:
        raise ValueError(f"{what} {tuple(values)} must have {spatial} entries")
    return values


def _pool(spatial, input, ws, ignore_border, stride, pad, mode, ds, st, padding):
    name = f"pool_{spatial}d"
    # Theano 1.0's old argument names, still accepted (not beside the new ones).
    no_pad = (0,) * spatial
    for old, new, value, current in (("ds", "ws", ds, ws), ("st", "stride", st, stride), ("padding", "pad", padding, pad)):
        if value is None:
            continue
        if current is not None and (new != "pad" or tuple(current) != no_pad):
            raise ValueError(f"{name}: you can't provide a value to both '{new}' and '{old}'")
        warnings.warn(f"{name}: the {old} argument is deprecated, use {new}", DeprecationWarning, stacklevel=3)
    ws = ws if ws is not None else ds
    stride = stride if stride is not None else st
    pad = pad if padding is None else padding
    if ws is None:
        raise ValueError(f"{name} needs the window size ws")
    if ignore_border is None:
        warnings.warn(f"{name}() will have the parameter ignore_border default value changed to True (currently "
                      "False). To have consistent behavior with all Theano versions, explicitly add the parameter "
                      "ignore_border=True.", stacklevel=3)
        ignore_border = False
    input = as_tensor_variable(input)
    if input.ndim < spatial:
        raise NotImplementedError(f"{name} requires a dimension >= {spatial}")
    return _core.pool(input, spatial, _sizes(ws, "ws", spatial), _sizes(stride, "stride", spatial),
                      _sizes(pad, "pad", spatial), bool(ignore_border), mode)


def pool_2d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0), mode="max", ds=None, st=None, padding=None):
    """Pools the last two axes of input over windows ws moved by stride (default ws), with pad zeros on each
    side (pad needs ignore_border=True). mode: 'max', 'sum', 'average_inc_pad' (the padding counts in the
    average) or 'average_exc_pad'. ignore_border=False adds an output for a partial window at the end."""
    return _pool(2, input, ws, ignore_border, stride, pad, mode, ds, st, padding)


def pool_3d(input, ws=None, ignore_border=None, stride=None, pad=(0, 0, 0), mode="max", ds=None, st=None,
            padding=None):
    """pool_2d over the last three axes."""
    return _pool(3, input, ws, ignore_border, stride, pad, mode, ds, st, padding)


def max_pool_2d_same_size(input, patch_size):
    """input where it is the maximum of its (non-overlapping) patch of patch_size, 0 elsewhere."""
    return _core.max_pool_2d_same_size(as_tensor_variable(input), [int(p) for p in patch_size])
