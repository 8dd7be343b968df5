"""Theano's tensor.nnet.abstract_conv: convolutions over 2 or 3 spatial axes, their gradients as layers, and
the shape arithmetic. Layouts are Theano's: images (batch, channels, rows, columns[, depth]) and filters
(output channels, input channels / num_groups, rows, columns[, depth])."""
from numbers import Integral

from ... import _core
from ..basic import as_tensor_variable, specify_shape

__all__ = ["conv2d", "conv3d", "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights", "conv3d_grad_wrt_inputs",
           "conv3d_grad_wrt_weights", "get_conv_output_shape", "get_conv_shape_1axis", "separable_conv2d"]


def _border(border_mode, spatial):
    """Theano's border_mode as (name, padding): 'valid', 'full', 'half', an int or a tuple of ints."""
    if isinstance(border_mode, str):
        if border_mode not in ("valid", "full", "half"):
            raise ValueError(f"border_mode {border_mode!r} is not 'valid', 'full', 'half', an int or a tuple of ints")
        return border_mode, []
    if isinstance(border_mode, Integral):
        border_mode = (int(border_mode),) * spatial
    padding = tuple(border_mode)
    if len(padding) != spatial or not all(isinstance(p, Integral) and p >= 0 for p in padding):
        raise ValueError(f"border_mode {border_mode!r} must be {spatial} non-negative ints")
    return "explicit", [int(p) for p in padding]


def _with_shape(x, shape, what):
    """x with the sizes the user declared (input_shape / filter_shape), checked when the graph runs."""
    x = as_tensor_variable(x)
    if shape is None:
        return x
    shape = tuple(shape)
    if len(shape) != x.ndim:
        raise ValueError(f"{what} {shape} must have {x.ndim} entries, as the variable {x.type}")
    if all(s is None or s == known for s, known in zip(shape, x.type.shape)):
        return x
    return specify_shape(x, [x.shape[i] if s is None else s for i, s in enumerate(shape)])


def _conv(spatial, input, filters, input_shape, filter_shape, border_mode, subsample, filter_flip, filter_dilation,
          num_groups, unshared):
    if unshared:
        raise NotImplementedError("unshared convolutions (a filter per output position) are not implemented")
    name, padding = _border(border_mode, spatial)
    input = _with_shape(input, input_shape, "input_shape")
    filters = _with_shape(filters, filter_shape, "filter_shape")
    return _core.conv(input, filters, spatial, name, padding, list(subsample), bool(filter_flip), list(filter_dilation),
                      int(num_groups))


def conv2d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1),
           filter_flip=True, image_shape=None, filter_dilation=(1, 1), num_groups=1, unshared=False, **kwargs):
    """The 2-d convolution of a batch of images (N, C, H, W) with filters (O, C / num_groups, h, w): (N, O, H', W').
    filter_flip=False computes the cross-correlation. input_shape and filter_shape declare sizes (None where
    unknown); they are checked when the function runs."""
    if image_shape is not None:
        input_shape = image_shape if input_shape is None else input_shape
    if kwargs:
        raise TypeError(f"conv2d() got unexpected keyword arguments {sorted(kwargs)}")
    return _conv(2, input, filters, input_shape, filter_shape, border_mode, subsample, filter_flip, filter_dilation,
                 num_groups, unshared)


def conv3d(input, filters, input_shape=None, filter_shape=None, border_mode="valid", subsample=(1, 1, 1),
           filter_flip=True, filter_dilation=(1, 1, 1), num_groups=1):
    """The 3-d convolution of (N, C, D, H, W) with filters (O, C / num_groups, d, h, w)."""
    return _conv(3, input, filters, input_shape, filter_shape, border_mode, subsample, filter_flip, filter_dilation,
                 num_groups, False)


def _operand(x, spatial, what):
    """x as a tensor of the convolution's rank: (batch, channels) and `spatial` axes."""
    x = as_tensor_variable(x)
    if x.ndim != spatial + 2:
        raise TypeError(f"conv{spatial}d's {what} must have {spatial + 2} dimensions, got {x.type}")
    return x


def _grad_inputs(spatial, output_grad, filters, input_shape, filter_shape, border_mode, subsample, filter_flip,
                 filter_dilation, num_groups):
    name, padding = _border(border_mode, spatial)
    filters = _with_shape(_operand(filters, spatial, "filters"), filter_shape, "filter_shape")
    output_grad = _operand(output_grad, spatial, "output gradient")
    shape = list(input_shape)
    if len(shape) not in (spatial, spatial + 2):
        raise ValueError(f"input_shape {input_shape} must give the {spatial + 2}-d shape of the convolution's input")
    image_shape = shape[-spatial:]
    if any(s is None for s in image_shape):
        raise ValueError(f"input_shape {input_shape}: the spatial sizes must be given (they cannot be inferred "
                         "when the convolution is strided)")
    return _core.conv_transpose(as_tensor_variable(output_grad), filters, image_shape, name, padding, list(subsample),
                                bool(filter_flip), list(filter_dilation), int(num_groups))


def _grad_weights(spatial, input, output_grad, filter_shape, input_shape, border_mode, subsample, filter_flip,
                  filter_dilation, num_groups):
    name, padding = _border(border_mode, spatial)
    input = _with_shape(_operand(input, spatial, "input"), input_shape, "input_shape")
    output_grad = _operand(output_grad, spatial, "output gradient")
    shape = list(filter_shape)
    if len(shape) not in (spatial, spatial + 2) or any(s is None for s in shape[-spatial:]):
        raise ValueError(f"filter_shape {filter_shape} must give the filters' {spatial} spatial sizes")
    return _core.conv_grad_weights(input, as_tensor_variable(output_grad), shape[-spatial:], name, padding,
                                   list(subsample), bool(filter_flip), list(filter_dilation), int(num_groups))


def conv2d_grad_wrt_inputs(output_grad, filters, input_shape, filter_shape=None, border_mode="valid",
                           subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1), num_groups=1, unshared=False):
    """The gradient of conv2d with respect to its input, given the gradient of its output (input_shape:
    the input's shape, whose spatial sizes are needed)."""
    if unshared:
        raise NotImplementedError("unshared convolutions are not implemented")
    return _grad_inputs(2, output_grad, filters, input_shape, filter_shape, border_mode, subsample, filter_flip,
                        filter_dilation, num_groups)


def conv3d_grad_wrt_inputs(output_grad, filters, input_shape, filter_shape=None, border_mode="valid",
                           subsample=(1, 1, 1), filter_flip=True, filter_dilation=(1, 1, 1), num_groups=1):
    return _grad_inputs(3, output_grad, filters, input_shape, filter_shape, border_mode, subsample, filter_flip,
                        filter_dilation, num_groups)


def conv2d_grad_wrt_weights(input, output_grad, filter_shape, input_shape=None, border_mode="valid",
                            subsample=(1, 1), filter_flip=True, filter_dilation=(1, 1), num_groups=1, unshared=False):
    """The gradient of conv2d with respect to its filters, given the gradient of its output."""
    if unshared:
        raise NotImplementedError("unshared convolutions are not implemented")
    return _grad_weights(2, input, output_grad, filter_shape, input_shape, border_mode, subsample, filter_flip,
                         filter_dilation, num_groups)


def conv3d_grad_wrt_weights(input, output_grad, filter_shape, input_shape=None, border_mode="valid",
                            subsample=(1, 1, 1), filter_flip=True, filter_dilation=(1, 1, 1), num_groups=1):
    return _grad_weights(3, input, output_grad, filter_shape, input_shape, border_mode, subsample, filter_flip,
                         filter_dilation, num_groups)


def conv2d_transpose(input, filters, output_shape, filter_shape=None, border_mode="valid", input_dilation=(1, 1),
                     filter_flip=True, filter_dilation=(1, 1), num_groups=1, unshared=False):
    """The transpose of conv2d (the gradient with respect to its input) as a layer: output_shape is the shape
    of the result, input_dilation the strides of the convolution it transposes."""
    return conv2d_grad_wrt_inputs(input, filters, output_shape, filter_shape, border_mode, input_dilation,
                                  filter_flip, filter_dilation, num_groups, unshared)


def separable_conv2d(input, depthwise_filters, pointwise_filters, num_channels, input_shape=None,
                     depthwise_filter_shape=None, pointwise_filter_shape=None, border_mode="valid", subsample=(1, 1),
                     filter_flip=True, filter_dilation=(1, 1)):
    """A depthwise convolution (one group per input channel) followed by a 1x1 pointwise one."""
    depthwise = conv2d(input, depthwise_filters, input_shape, depthwise_filter_shape, border_mode, subsample,
                       filter_flip, filter_dilation=filter_dilation, num_groups=num_channels)
    return conv2d(depthwise, pointwise_filters, None, pointwise_filter_shape, "valid", (1, 1), filter_flip)


def get_conv_shape_1axis(image_shape, kernel_shape, border_mode, subsample, dilation=1):
    """The output size along one axis (None where an input size is None)."""
    if None in (image_shape, kernel_shape, border_mode, subsample, dilation):
        return None
    span = (kernel_shape - 1) * dilation + 1
    pad = {"valid": 0, "full": span - 1, "half": span // 2}.get(border_mode, border_mode)
    if isinstance(pad, tuple):
        pad = pad[0]
    return (image_shape + 2 * pad - span) // subsample + 1


def get_conv_output_shape(image_shape, kernel_shape, border_mode, subsample, filter_dilation=None):
    """The output shape of a convolution (Theano's helper): (batch, filters, *spatial sizes)."""
    spatial = len(image_shape) - 2
    dilation = filter_dilation or (1,) * spatial
    if isinstance(border_mode, (int, tuple)) and not isinstance(border_mode, str):
        pads = (border_mode,) * spatial if isinstance(border_mode, int) else border_mode
    else:
        pads = (border_mode,) * spatial
    sizes = [get_conv_shape_1axis(image_shape[2 + i], kernel_shape[2 + i], pads[i], subsample[i], dilation[i])
             for i in range(spatial)]
    return (image_shape[0], kernel_shape[0]) + tuple(sizes)
