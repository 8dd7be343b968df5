"""hypatia.tensor: symbolic tensors and their ops (Theano's theano.tensor)."""
from .. import _core
from .._missing import COMPLEX, HIGHER_ORDER, LINALG, CONV, SPARSE, module_getattr
from . import var as _var  # noqa: F401  (adds Theano's methods to Variable)
from .basic import *  # noqa: F401,F403
from .basic import (Variable, SharedVariable, and_, or_, xor, invert, abs_, sum, max, min, any, all,  # noqa: F401
                    pow, round, abs)
from .type import TensorType
from . import nnet, extra_ops, shared_randomstreams  # noqa: F401
from .nnet import sigmoid, softplus, softmax, relu  # noqa: F401
from ..gradient import grad, disconnected_grad, zero_grad, verify_grad  # noqa: F401

TensorVariable = Variable
TensorConstant = Variable
TensorSharedVariable = SharedVariable

__getattr__ = module_getattr(__name__, {
    "Rop": HIGHER_ORDER, "Lop": HIGHER_ORDER, "jacobian": HIGHER_ORDER, "hessian": HIGHER_ORDER,
    "nlinalg": LINALG, "slinalg": LINALG, "linalg": LINALG, "inv_matrix": LINALG, "det": LINALG,
    "matrix_inverse": LINALG, "eigh": LINALG, "cholesky": LINALG, "solve": LINALG, "qr": LINALG, "svd": LINALG,
    "fft": "FFT (FFTW) is planned", "signal": CONV, "conv": CONV,
    "complex": COMPLEX, "real_": COMPLEX, "imag": COMPLEX, "angle": COMPLEX, "complex_from_polar": COMPLEX,
    "sparse": SPARSE, "addbroadcast": "addbroadcast is not implemented; declare the dimension's size 1 "
    "(row(), col(), tensor(shape=(1, None))) or use dimshuffle", "unbroadcast": "unbroadcast is not implemented",
    "patternbroadcast": "patternbroadcast is not implemented", "specify_shape": "specify_shape is not implemented",
    "stacklists": "stacklists is not implemented; use stack", "mgrid": "mgrid is not implemented",
    "ogrid": "ogrid is not implemented", "nonzero": "data-dependent output shapes are not implemented",
    "flatnonzero": "data-dependent output shapes are not implemented",
    "psi": "the digamma function is not implemented", "gamma": "the gamma function is not implemented",
    "gammaln": "the log-gamma function is not implemented", "erfinv": "erfinv is not implemented",
    "chi2sf": "chi2sf is not implemented", "j0": "Bessel functions are not implemented",
    "j1": "Bessel functions are not implemented", "tensordot_grad": HIGHER_ORDER,
})
