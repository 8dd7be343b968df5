"""Theano's tensor.nlinalg: linear algebra on LAPACK, with gradients, as NumPy's linalg computes it.

Matrices are the last two axes of a tensor; the axes before them are a batch (lstsq takes one matrix).
Integer inputs compute in float64, float32 stays float32. A singular matrix raises
numpy.linalg.LinAlgError when the function runs, naming the op and the line that built it.
"""
from .. import _core
from .basic import as_tensor_variable, diag, diagonal, dot
from .basic import trace as _trace

__all__ = ["matrix_inverse", "inv", "pinv", "det", "slogdet", "eig", "eigh", "svd", "qr", "lstsq", "matrix_power",
           "norm", "trace", "matrix_dot", "tensorinv", "tensorsolve", "alloc_diag", "extract_diag", "diag",
           "MatrixInverse", "MatrixPinv", "Det", "Eig", "Eigh", "SVD", "QRFull", "Lstsq", "AllocDiag", "ExtractDiag"]


def _matrix_inverse(x):
    """The inverse of each matrix of x (LinAlgError for a singular one)."""
    return _core.matrix_inverse(x)




def _pinv(x, rcond=1e-15, hermitian=False):
    """The Moore-Penrose pseudo-inverse: singular values below rcond * the largest are dropped, as NumPy."""
    return _core.pinv(x, float(rcond))


def _det(x):
    """The determinant (0 for a singular matrix, as NumPy)."""
    return _core.det(x)


def slogdet(x):
    """(sign, log|det|): sign 0 and log|det| -inf for a singular matrix."""
    return _core.slogdet(x)


def _eig(x):
    """(w, v) of a general matrix, as complex tensors (NumPy returns real arrays when every eigenvalue is real;
    a graph's dtype cannot depend on the values). No gradient, as in Theano."""
    return _core.eig(x)


def _lower(UPLO):
    if UPLO not in ("L", "U"):
        raise ValueError(f"UPLO argument must be 'L' or 'U', got {UPLO!r}")
    return UPLO == "L"


def eigh(a, UPLO="L"):
    """Ascending eigenvalues and orthonormal eigenvectors of a symmetric matrix, reading its UPLO triangle."""
    return _core.eigh(a, _lower(UPLO))


def svd(a, full_matrices=1, compute_uv=1):
    """(u, s, vt) with a = u @ diag(s) @ vt, or s alone with compute_uv=0."""
    return _core.svd(a, bool(full_matrices), bool(compute_uv))


def qr(a, mode="reduced"):
    """NumPy's qr: [q, r] ('reduced', 'complete'), r ('r'), or [h, tau] ('raw')."""
    outputs = _core.qr(a, mode)
    return outputs[0] if mode == "r" else list(outputs)


def _lstsq(a, b, rcond=-1):
    """Theano's Lstsq: [x, residuals, rank, s] as numpy.linalg.lstsq(a, b, rcond)."""
    return list(_core.lstsq(a, b, -1.0 if rcond is None else rcond))


def matrix_power(M, n):
    """M to the integer power n (n < 0: powers of the inverse), by repeated squaring."""
    if int(n) != n:
        raise TypeError(f"matrix_power: the exponent must be an integer, got {n!r}")
    return _core.matrix_power(M, int(n))


def _order(ord):
    """Theano writes the infinite orders as strings."""
    if isinstance(ord, str) and ord in ("inf", "-inf", "Inf", "-Inf"):
        return float(ord)
    return ord


def norm(x, ord=None, axis=None, keepdims=False):
    """Theano's norm(x, ord) of a vector or a matrix ('fro', 'inf', '-inf', 0, 1, -1, 2, ... as NumPy); as Theano's,
    a scalar is a ValueError and more than two dimensions NotImplementedError (tensor.linalg.norm takes axes)."""
    x = as_tensor_variable(x)
    if axis is None:
        if x.ndim == 0:
            raise ValueError("norm: 'axis' entry is out of bounds (a scalar has no norm)")
        if x.ndim > 2:
            raise NotImplementedError(f"norm of a {x.ndim}-d tensor: Theano's norm takes vectors and matrices")
    return _core.norm(x, _order(ord), axis, bool(keepdims))


def trace(X):
    """The sum of the diagonal of a matrix."""
    return _trace(X)


def matrix_dot(*args):
    """args[0] . args[1] . ... (dot, left to right)."""
    result = args[0]
    for a in args[1:]:
        result = dot(result, a)
    return result


def tensorinv(a, ind=2):
    """NumPy's tensorinv: the inverse of a seen as a matrix of its first ind axes against the rest."""
    return _core.tensorinv(a, int(ind))


def tensorsolve(a, b, axes=None):
    """NumPy's tensorsolve: x with tensordot(a, x, x.ndim) = b."""
    return _core.tensorsolve(a, b, None if axes is None else list(axes))


def _alloc_diag(x):
    """A square matrix with the vector x on its diagonal."""
    return diag(x)


def _extract_diag(x):
    """The diagonal of a matrix."""
    return diagonal(x)


class _Callable:
    """Theano's op classes, callable on variables (the ops themselves are Hypatia's C++ ops)."""

    def __repr__(self):
        return type(self).__name__


class MatrixInverse(_Callable):
    def __call__(self, x):
        return _matrix_inverse(x)


class MatrixPinv(_Callable):
    def __init__(self, hermitian=False):
        self.hermitian = hermitian

    def __call__(self, x, rcond=1e-15):
        return _pinv(x, rcond)


class Det(_Callable):
    def __call__(self, x):
        return _det(x)


class Eig(_Callable):
    def __call__(self, x):
        return list(_eig(x))


class AllocDiag(_Callable):
    def __call__(self, x):
        return _alloc_diag(x)


class ExtractDiag(_Callable):
    def __call__(self, x):
        return _extract_diag(x)


class Eigh(_Callable):
    def __init__(self, UPLO="L"):
        self.UPLO = UPLO

    def __call__(self, x):
        return list(eigh(x, self.UPLO))


class SVD(_Callable):
    def __init__(self, full_matrices=True, compute_uv=True):
        self.full_matrices, self.compute_uv = full_matrices, compute_uv

    def __call__(self, x):
        result = svd(x, self.full_matrices, self.compute_uv)
        return list(result) if self.compute_uv else result


class QRFull(_Callable):
    def __init__(self, mode="reduced"):
        self.mode = mode

    def __call__(self, x):
        return qr(x, self.mode)


QRIncomplete = QRFull


class Lstsq(_Callable):
    def __call__(self, a, b, rcond=-1):
        return _lstsq(a, b, rcond)


class lstsq(Lstsq):  # noqa: N801  (Theano's name for its Op class: lstsq()(a, b, rcond))
    """Theano's lstsq: `lstsq()(a, b, rcond)` as Theano wrote it, or `lstsq(a, b, rcond)`."""

    def __new__(cls, *args, **kwargs):
        if args or kwargs:
            return _lstsq(*args, **kwargs)
        return super().__new__(cls)


# Theano's Op instances (so a test class may hold them as attributes without binding them as methods).
matrix_inverse = inv = MatrixInverse()
pinv = MatrixPinv()
det = Det()
eig = Eig()
alloc_diag = AllocDiag()
extract_diag = ExtractDiag()

