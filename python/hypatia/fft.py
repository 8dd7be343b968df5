"""NumPy's numpy.fft on symbolic tensors, computed by FFTW, with gradients: fft, ifft, fft2, ifft2, fftn, ifftn,
rfft, irfft, rfft2, irfft2, rfftn, irfftn, fftshift, ifftshift, fftfreq, rfftfreq.

Complex results are complex64 for float32 (and float16) inputs and complex128 otherwise; `n` and `s` cut or
zero-pad the input, as NumPy's. (Theano's tensor.fft, with real and imaginary parts on a last axis of 2, is
hypatia.tensor.fft.)
"""
import numpy as np

from . import _core
from .tensor.basic import as_tensor_variable, concatenate, maximum, zeros

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
           "fftshift", "ifftshift", "fftfreq", "rfftfreq"]


def _fit(x, n, axis):
    """x cut or zero-padded to n entries along axis (NumPy's n argument)."""
    if n is None:
        return x
    n = int(n)
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    axis = axis % x.ndim
    index = [slice(None)] * x.ndim
    index[axis] = slice(0, n)
    kept = x[tuple(index)]
    if x.type.shape[axis] is not None and x.type.shape[axis] >= n:
        return kept
    pad_shape = [x.shape[a] if a != axis else maximum(n - x.shape[axis], 0) for a in range(x.ndim)]
    return concatenate([kept, zeros(pad_shape, dtype=x.dtype)], axis=axis)


def _axes(x, s, axes):
    """NumPy's axes of an n-d transform: the given ones, else the last len(s), else all."""
    if axes is None:
        axes = list(range(-len(s), 0)) if s is not None else list(range(x.ndim))
    axes = [int(a) for a in axes]
    if s is not None and len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    return axes


def fft(a, n=None, axis=-1, norm=None):
    a = as_tensor_variable(a)
    return _core.fftn(_fit(a, n, axis), [axis], norm)


def ifft(a, n=None, axis=-1, norm=None):
    a = as_tensor_variable(a)
    return _core.ifftn(_fit(a, n, axis), [axis], norm)


def _prepared(a, s, axes, last_too=True):
    """a as a tensor cut or padded to s on its transform axes (not the last one unless last_too), the axes,
    and the sizes."""
    a = as_tensor_variable(a)
    axes = _axes(a, s, axes)
    sizes = list(s) if s is not None else [None] * len(axes)
    fitted = list(zip(sizes, axes))
    for size, axis in fitted if last_too else fitted[:-1]:
        a = _fit(a, size, axis)
    return a, axes, sizes


def fftn(a, s=None, axes=None, norm=None):
    a, axes, _ = _prepared(a, s, axes)
    return _core.fftn(a, axes, norm)


def ifftn(a, s=None, axes=None, norm=None):
    a, axes, _ = _prepared(a, s, axes)
    return _core.ifftn(a, axes, norm)


def fft2(a, s=None, axes=(-2, -1), norm=None):
    return fftn(a, s, axes, norm)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    return ifftn(a, s, axes, norm)


def rfft(a, n=None, axis=-1, norm=None):
    a = as_tensor_variable(a)
    return _core.rfftn(_fit(a, n, axis), [axis], norm)


def irfft(a, n=None, axis=-1, norm=None):
    a = as_tensor_variable(a)
    return _core.irfftn(a, [axis], None if n is None else int(n), norm)


def rfftn(a, s=None, axes=None, norm=None):
    a, axes, _ = _prepared(a, s, axes)
    return _core.rfftn(a, axes, norm)


def irfftn(a, s=None, axes=None, norm=None):
    # (The last axis's length is the output's: irfftn cuts or pads its half spectrum itself.)
    a, axes, sizes = _prepared(a, s, axes, last_too=False)
    return _core.irfftn(a, axes, None if sizes[-1] is None else int(sizes[-1]), norm)


def rfft2(a, s=None, axes=(-2, -1), norm=None):
    return rfftn(a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None):
    return irfftn(a, s, axes, norm)


def fftshift(x, axes=None):
    return _core.fftshift(x, None if axes is None else ([axes] if isinstance(axes, int) else list(axes)))


def ifftshift(x, axes=None):
    return _core.ifftshift(x, None if axes is None else ([axes] if isinstance(axes, int) else list(axes)))


def fftfreq(n, d=1.0):
    """The sample frequencies (a constant array, as NumPy's)."""
    return as_tensor_variable(np.fft.fftfreq(int(n), d))


def rfftfreq(n, d=1.0):
    return as_tensor_variable(np.fft.rfftfreq(int(n), d))
