"""Neural-network ops (Theano's tensor.nnet)."""
import warnings

from ... import _core
from ..._missing import module_getattr
from ..basic import (alloc, arange, argmax, as_tensor_variable, batched_dot, cast, concatenate, dot, eq, exp, max,
                     shape_padright, sum, tensordot, zeros_like)
from ..extra_ops import unique

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


def softmax_graph(c):
    """softmax written out as exp(c) / sum(exp(c)) over the last axis (Theano's unfused form)."""
    e = exp(as_tensor_variable(c))
    return e / sum(e, axis=-1, keepdims=True)


def _matrix_and_bias(x, b, name):
    x, b = as_tensor_variable(x), as_tensor_variable(b)
    if x.ndim != 2 or b.ndim != 1:
        raise TypeError(f"{name}: x must be a matrix and b a vector, got {x.type} and {b.type}")
    return x, b


def softmax_with_bias(x, b):
    """softmax(x + b) of each row of the matrix x, b a vector added to every row."""
    x, b = _matrix_and_bias(x, b, "softmax_with_bias")
    return _core.softmax(x + b, -1)


def crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx):
    """(nll, sm, am) for the rows of x + b: sm their softmax, nll[i] = -log(sm[i, y_idx[i]]) (the fused
    cross-entropy of the logits, stable) and am their argmax in y_idx's dtype."""
    x, b = _matrix_and_bias(x, b, "crossentropy_softmax_argmax_1hot_with_bias")
    y_idx = as_tensor_variable(y_idx)
    if y_idx.ndim != 1 or not y_idx.dtype.startswith(("int", "uint")):
        raise TypeError(f"crossentropy_softmax_1hot: y_idx must be an integer vector, got {y_idx.type}")
    logits = x + b
    sm = _core.softmax(logits, -1)
    return _core.categorical_crossentropy(sm, y_idx), sm, cast(argmax(logits, axis=-1), y_idx.dtype)


def crossentropy_softmax_1hot_with_bias(x, b, y_idx):
    """(nll, softmax(x + b)) with nll[i] = -log softmax(x + b)[i, y_idx[i]]."""
    return crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx)[:2]


def crossentropy_softmax_1hot(x, y_idx):
    """(nll, softmax(x)) with nll[i] = -log softmax(x)[i, y_idx[i]]."""
    x = as_tensor_variable(x)
    return crossentropy_softmax_1hot_with_bias(x, zeros_like(x[0, :]), y_idx)


def crossentropy_softmax_max_and_argmax_1hot_with_bias(x, b, y_idx):
    """(nll, softmax, max of each softmax row, its argmax)."""
    nll, sm = crossentropy_softmax_1hot_with_bias(x, b, y_idx)
    return nll, sm, max(sm, axis=-1), argmax(sm, axis=-1)


def crossentropy_softmax_max_and_argmax_1hot(x, y_idx):
    x = as_tensor_variable(x)
    return crossentropy_softmax_max_and_argmax_1hot_with_bias(x, zeros_like(x[0, :]), y_idx)


def prepend_scalar_to_each_row(val, mat):
    """The matrix mat with a first column of val (a scalar of mat's dtype; Python numbers are cast)."""
    mat = as_tensor_variable(mat)
    if isinstance(val, (int, float)):
        val = cast(val, mat.dtype)
    val = as_tensor_variable(val)
    if val.ndim != 0 or val.dtype != mat.dtype:
        raise TypeError(f"prepend_scalar_to_each_row: val must be a {mat.dtype} scalar, got {val.type}")
    return concatenate([alloc(val, mat.shape[0], 1), mat], axis=1)


def prepend_0_to_each_row(mat):
    return prepend_scalar_to_each_row(0.0, mat)


def prepend_1_to_each_row(mat):
    return prepend_scalar_to_each_row(1.0, mat)


def confusion_matrix(actual, pred):
    """[conf_mat, order] as Theano: order holds the distinct values of actual and pred, sorted, and
    conf_mat[i, j] (int64) counts the positions where actual is order[i] and pred is order[j]."""
    actual, pred = as_tensor_variable(actual), as_tensor_variable(pred)
    if actual.ndim != 1 or pred.ndim != 1:
        raise ValueError(f"confusion_matrix: actual and pred must be vectors, got {actual.type} and {pred.type}")
    order = unique(concatenate([actual, pred]))
    one_hot_actual = cast(eq(shape_padright(actual), order), "int64")
    one_hot_pred = cast(eq(shape_padright(pred), order), "int64")
    return [dot(one_hot_actual.T, one_hot_pred), order]


def h_softmax(x, batch_size, n_outputs, n_classes, n_outputs_per_class, W1, b1, W2, b2, target=None):
    """Theano's two-level hierarchical softmax: P(output) = P(its class | x) * P(output | its class, x), with
    outputs split into n_classes classes of n_outputs_per_class. x: (batch_size, n_in); W1: (n_in, n_classes),
    b1: (n_classes,); W2: (n_classes, n_in, n_outputs_per_class), b2: (n_classes, n_outputs_per_class).
    Without target: the (batch_size, n_outputs) probabilities of every output; with an integer target
    (one per row): the (batch_size,) probability of each row's target, computing only its class."""
    class_probs = softmax(dot(x, W1) + b1, axis=-1)
    if target is None:
        activations = tensordot(x, W2, [[1], [1]]) + b2  # (batch, class, output in class)
        output_probs = softmax(activations.reshape((-1, n_outputs_per_class)), axis=-1)
        output_probs = output_probs.reshape((batch_size, n_classes, -1)) * class_probs.dimshuffle(0, 1, "x")
        # n_classes * n_outputs_per_class may exceed n_outputs: the extra outputs are left out.
        return output_probs.reshape((batch_size, -1))[:, :n_outputs]
    target = as_tensor_variable(target).flatten()
    target_classes = target // n_outputs_per_class
    rows = arange(batch_size)
    activations = batched_dot(x, W2[target_classes]) + b2[target_classes]  # each row's class only
    output_probs = softmax(activations, axis=-1)[rows, target % n_outputs_per_class]
    return class_probs[rows, target_classes] * output_probs


from . import abstract_conv, bn, conv, neighbours  # noqa: E402
from .abstract_conv import conv2d, conv2d_transpose, conv3d, separable_conv2d  # noqa: E402
from .bn import batch_normalization  # noqa: E402
from .neighbours import images2neibs, neibs2images  # noqa: E402

__getattr__ = module_getattr(__name__, {
    "conv3d2d": "conv3d2d's layout is not implemented; use tensor.nnet.conv3d (batch, channels, depth, rows, columns)",
    "ctc": "CTC loss is not planned",
})
