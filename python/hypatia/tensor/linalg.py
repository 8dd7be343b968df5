"""NumPy-style names for Hypatia's linear algebra (tensor.nlinalg and tensor.slinalg together), as
PyTensor's tensor.linalg."""
from .. import _core
from .basic import as_tensor_variable, tril, triu  # noqa: F401
from .nlinalg import (matrix_inverse, inv, pinv, det, slogdet, eig, eigh, svd, qr, lstsq, matrix_power,  # noqa: F401
                      trace, matrix_dot, tensorinv, tensorsolve, alloc_diag, extract_diag)
from .nlinalg import MatrixInverse, MatrixPinv, Det, Eig, Eigh, SVD, QRFull, Lstsq  # noqa: F401
from .slinalg import (cholesky, solve, solve_triangular, cho_solve, eigvalsh, expm, kron,  # noqa: F401
                      solve_lower_triangular, solve_upper_triangular, solve_symmetric, Cholesky, Solve, Eigvalsh,
                      Expm)
from .nlinalg import _order


def norm(x, ord=None, axis=None, keepdims=False):
    """numpy.linalg.norm: vector norms over one axis, matrix norms over two, the 2-norm of the flattened tensor
    by default."""
    return _core.norm(as_tensor_variable(x), _order(ord), axis, bool(keepdims))


def eigvals(a):
    """The eigenvalues of a general matrix (complex)."""
    return eig(a)[0]

