"""Theano's tensor.fft: rfft and irfft of a batch of real signals, the complex values held as a last axis of 2
(real part, imaginary part), transforming every axis but the first (the batch), on FFTW, with gradients.
norm: None (the inverse scaled by 1/n, as NumPy), 'ortho' (both by 1/sqrt(n)) or 'no_norm' (neither).
NumPy's complex-valued transforms are hypatia.fft."""
from .. import _core
from .basic import as_tensor_variable, stack, real, imag, complex as _complex

__all__ = ["rfft", "irfft"]


def _norms(norm):
    """(forward, inverse) in NumPy's terms."""
    if norm is None:
        return "backward", "backward"
    if norm == "ortho":
        return "ortho", "ortho"
    if norm == "no_norm":
        return "backward", "forward"
    raise ValueError(f"Invalid value {norm!r} for norm, must be None, 'ortho' or 'no_norm'")


def rfft(inp, norm=None):
    """(m, ..., n) real -> (m, ..., n // 2 + 1, 2): the transform over every axis but the first."""
    inp = as_tensor_variable(inp)
    if inp.ndim < 2:
        raise ValueError(f"rfft needs a batch axis and at least one axis to transform, got {inp.ndim} dimensions")
    spectrum = _core.rfftn(inp, list(range(1, inp.ndim)), _norms(norm)[0])
    return stack([real(spectrum), imag(spectrum)], axis=-1)


def irfft(inp, norm=None, is_odd=False):
    """(m, ..., n // 2 + 1, 2) -> (m, ..., n) real, n = 2 * (frequencies - 1) (+ 1 when is_odd)."""
    inp = as_tensor_variable(inp)
    if inp.ndim < 3:
        raise ValueError(f"irfft needs a batch axis, an axis to transform and the last axis of 2, got {inp.ndim} dimensions")
    if is_odd not in (True, False):
        raise ValueError(f"Invalid value {is_odd!r} for is_odd, must be True or False")
    spectrum = _complex(inp[..., 0], inp[..., 1])
    axes = list(range(1, spectrum.ndim))
    n = (spectrum.shape[-1] - 1) * 2 + int(is_odd)
    return _core.irfftn(spectrum, axes, n, _norms(norm)[1])
