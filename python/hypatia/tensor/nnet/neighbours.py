"""Theano's tensor.nnet.neighbours: images2neibs and neibs2images."""
from ... import _core
from ..basic import as_tensor_variable

__all__ = ["images2neibs", "neibs2images"]


def _sizes(values, what):
    if isinstance(values, _core.Variable):
        if not values._is_constant:
            raise NotImplementedError(f"{what} must be known when the graph is built (a computed {what} is not supported)")
        values = values._constant_value.reshape(-1)
    return [int(v) for v in values]


def images2neibs(ten4, neib_shape, neib_step=None, mode="valid"):
    """The (rows, cols) patches of each image of a 4-d tensor, one patch a row of the result, stepping by
    neib_step (default: neib_shape). mode: 'valid' (patches must tile the image), 'ignore_borders',
    'wrap_centered', 'half' or 'full'."""
    step = [] if neib_step is None else _sizes(neib_step, "neib_step")
    return _core.images2neibs(as_tensor_variable(ten4), _sizes(neib_shape, "neib_shape"), step, mode)


def neibs2images(neibs, neib_shape, original_shape, mode="valid"):
    """The images back from their non-overlapping patches (the inverse of images2neibs for 'valid' and
    'ignore_borders'; the ignored border is zeros)."""
    if isinstance(original_shape, _core.Variable):
        original_shape = [original_shape[i] for i in range(4)]
    return _core.neibs2images(as_tensor_variable(neibs), _sizes(neib_shape, "neib_shape"), list(original_shape), mode)
