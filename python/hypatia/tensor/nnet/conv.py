"""Theano's old tensor.nnet.conv module: conv2d with image_shape, the same op as tensor.nnet.conv2d."""
from .abstract_conv import conv2d as _conv2d

__all__ = ["conv2d"]


def conv2d(input, filters, image_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1), **kargs):
    """The convolution (filters flipped) of a batch of images with filters; border_mode 'valid' or 'full'."""
    if border_mode not in ("valid", "full"):
        raise ValueError(f"tensor.nnet.conv.conv2d takes border_mode 'valid' or 'full', not {border_mode!r}")
    unknown = set(kargs) - {"imshp", "kshp", "nkern", "bsize", "unroll_batch", "unroll_kern", "unroll_patch",
                            "openmp", "verbose"}
    if unknown:
        raise TypeError(f"conv2d() got unexpected keyword arguments {sorted(unknown)}")
    return _conv2d(input, filters, input_shape=image_shape, filter_shape=filter_shape, border_mode=border_mode,
                   subsample=subsample)
