"""Neural-network ops (Theano's tensor.nnet)."""
from ... import _core
from ..._missing import CONV, module_getattr
from ..basic import as_tensor_variable
import warnings

sigmoid = _core.sigmoid
softplus = _core.softplus
softsign = _core.softsign
hard_sigmoid = _core.hard_sigmoid
log_sigmoid = _core.log_sigmoid
# Theano's fast approximations; Hypatia computes the exact functions, which are as fast here.
ultra_fast_sigmoid = _core.sigmoid
scalar_sigmoid = _core.sigmoid


def _padded_vector(c, name):
    """Theano 1.0 pads a vector to a (1, n) matrix before a softmax, with a deprecation warning;
    programs index the result as a matrix, so the padding is kept."""
    c = as_tensor_variable(c)
    if c.ndim == 1:
        warnings.warn(f"DEPRECATION: {name} of a vector returns a (1, n) matrix, as in Theano 1.0; pass "
                      f"axis=-1 for a vector result", stacklevel=3)
        return c.dimshuffle("x", 0)
    return c


def softmax(c, axis=None):
    """exp(c) / sum(exp(c)) along axis (the last by default), computed stably. Without an axis a vector
    gives a (1, n) matrix, as in Theano 1.0."""
    if axis is None:
        return _core.softmax(_padded_vector(c, "softmax"), -1)
    return _core.softmax(c, axis)


def log_softmax(c, axis=None):
    if axis is None:
        return _core.log_softmax(_padded_vector(c, "log_softmax"), -1)
    return _core.log_softmax(c, axis)


logsoftmax = log_softmax


def logsumexp(x, axis=None, keepdims=False):
    return _core.logsumexp(x, axis, keepdims)


def relu(x, alpha=0):
    """max(x, 0), or x * alpha below zero (leaky)."""
    return _core.relu(x, float(alpha))


def elu(x, alpha=1.0):
    return _core.elu(x, float(alpha))


def selu(x):
    scale, alpha = 1.0507009873554805, 1.6732632423543772
    return _core.elu(x, alpha) * scale


def categorical_crossentropy(coding_dist, true_dist):
    """-sum(true_dist * log(coding_dist)) per row; true_dist is one-hot/probabilities or integer labels."""
    return _core.categorical_crossentropy(coding_dist, true_dist)


def binary_crossentropy(output, target):
    """Elementwise -(target log(output) + (1 - target) log(1 - output))."""
    return _core.binary_crossentropy(output, target)


def sigmoid_binary_crossentropy(output, target):
    """binary_crossentropy(sigmoid(output), target), computed stably from the logits."""
    output = as_tensor_variable(output)
    return softplus(output) - output * target


def crossentropy_categorical_1hot(coding_dist, true_one_of_n):
    return _core.categorical_crossentropy(coding_dist, true_one_of_n)


__getattr__ = module_getattr(__name__, {
    "conv2d": CONV, "conv3d": CONV, "conv2d_transpose": CONV, "abstract_conv": CONV, "conv": CONV,
    "neighbours": CONV, "images2neibs": CONV, "batchnorm": "batch normalization is planned",
    "bn": "batch normalization is planned", "h_softmax": "hierarchical softmax is not planned",
    "ctc": "CTC loss is not planned", "softmax_with_bias": "fused softmax with bias is not implemented; "
    "use softmax(x + b)", "crossentropy_softmax_1hot": "use categorical_crossentropy(softmax(x), y)",
    "crossentropy_softmax_argmax_1hot_with_bias": "use categorical_crossentropy(softmax(x + b), y) and argmax",
})
