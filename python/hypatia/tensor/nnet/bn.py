"""Theano's tensor.nnet.bn: batch normalization for training (batch statistics, running averages) and
inference (given statistics)."""
from ... import _core
from ..basic import as_tensor_variable

__all__ = ["batch_normalization", "batch_normalization_train", "batch_normalization_test"]


def _axes(axes, ndim):
    if axes == "per-activation":
        return [0]
    if axes == "spatial":
        return [0] + list(range(2, ndim))
    if isinstance(axes, str):
        raise ValueError(f"axes {axes!r} is not 'per-activation', 'spatial' or a tuple of ints")
    return [int(a) for a in axes]


def batch_normalization_train(inputs, gamma, beta, axes="per-activation", epsilon=1e-4,
                              running_average_factor=0.1, running_mean=None, running_var=None):
    """Normalizes inputs with the statistics of this batch over `axes`: returns (out, mean, invstd), and
    with running_mean and running_var also their new values (running_var averages the unbiased variance)."""
    inputs = as_tensor_variable(inputs)
    if epsilon < 1e-5:
        raise ValueError(f"epsilon must be at least 1e-5, got {epsilon}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must be given together")
    return _core.batch_normalization_train(inputs, gamma, beta, _axes(axes, inputs.ndim), float(epsilon),
                                           float(running_average_factor), running_mean, running_var)


def batch_normalization_test(inputs, gamma, beta, mean, var, axes="per-activation", epsilon=1e-4):
    """Normalizes inputs with given statistics: (inputs - mean) * gamma / sqrt(var + epsilon) + beta."""
    inputs = as_tensor_variable(inputs)
    if epsilon < 1e-5:
        raise ValueError(f"epsilon must be at least 1e-5, got {epsilon}")
    return _core.batch_normalization_test(inputs, gamma, beta, mean, var, _axes(axes, inputs.ndim), float(epsilon))


def batch_normalization(inputs, gamma, beta, mean, std, mode="low_mem"):
    """(inputs - mean) * (gamma / std) + beta, broadcasting as written (mode changes nothing here)."""
    if mode not in ("low_mem", "high_mem"):
        raise ValueError(f"mode must be 'low_mem' or 'high_mem', not {mode!r}")
    return _core.batch_normalization(inputs, gamma, beta, mean, std)
