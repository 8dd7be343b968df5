"""Theano's sparse module (theano.sparse.basic) on Hypatia's sparse matrices (hypatia/sparse.h).

Values are SciPy csr and csc matrices; their data, indices and indptr are read without copying. The operators
of a sparse variable (+, -, *, @, .T, [..], .sum, .toarray) call the functions here, as Theano's
SparseVariable did. Gradients with respect to a sparse matrix follow Theano: "structured" ones (structured_dot,
mul, dense_from_sparse by default, the structured_* ops) are sparse with the matrix's stored positions; the
others are full.
"""
import numpy as np

from .. import _core
from ..configparser import config
from ..tensor import basic as T
from .type import SparseType

_s = _core.sparse
Variable = _core.Variable

all_dtypes = sorted(SparseType.dtype_set)
complex_dtypes = ["complex64", "complex128"]
float_dtypes = ["float32", "float64"]
int_dtypes = ["int8", "int16", "int32", "int64"]
discrete_dtypes = int_dtypes

# ---- Telling sparse from dense ----


def _is_sparse_variable(x):
    return isinstance(x, Variable) and x._format is not None


def _is_dense_variable(x):
    return isinstance(x, Variable) and x._format is None


def _is_sparse(x):
    """Whether x is a SciPy sparse matrix (a value, not a variable)."""
    import scipy.sparse as sp
    return sp.issparse(x)


def _is_dense(x):
    return isinstance(x, np.ndarray)


# ---- Declaring sparse variables ----


def matrix(format, name=None, dtype=None):
    """A symbolic sparse matrix of `format` ('csr' or 'csc'); dtype defaults to floatX."""
    return _s.matrix(format, name or "", dtype or config.floatX)


def csr_matrix(name=None, dtype=None):
    return matrix("csr", name, dtype)


def csc_matrix(name=None, dtype=None):
    return matrix("csc", name, dtype)


csc_dmatrix = SparseType("csc", "float64")
csr_dmatrix = SparseType("csr", "float64")
csc_fmatrix = SparseType("csc", "float32")
csr_fmatrix = SparseType("csr", "float32")
csc_imatrix = SparseType("csc", "int32")
csr_imatrix = SparseType("csr", "int32")
csc_lmatrix = SparseType("csc", "int64")
csr_lmatrix = SparseType("csr", "int64")
csc_cmatrix = SparseType("csc", "complex64")
csr_cmatrix = SparseType("csr", "complex64")
csc_zmatrix = SparseType("csc", "complex128")
csr_zmatrix = SparseType("csr", "complex128")


def as_sparse_variable(x, name=None):
    """A sparse variable for x: itself, or a constant for a SciPy sparse matrix."""
    if _is_sparse_variable(x):
        return x
    if isinstance(x, Variable):
        raise TypeError(f"as_sparse_variable: {x} of type {x.type} is dense; convert it with csr_from_dense or csc_from_dense")
    if _is_sparse(x):
        return constant(x, name)
    raise TypeError(f"as_sparse_variable: cannot make a sparse variable of {type(x).__name__}")


as_sparse = as_sparse_variable


def as_sparse_or_tensor_variable(x, name=None):
    if isinstance(x, Variable):
        return x
    if _is_sparse(x):
        return constant(x, name)
    return T.as_tensor_variable(x, name)


def constant(x, name=None):
    """A sparse constant holding the SciPy matrix x (csr or csc; other formats become csr)."""
    if not _is_sparse(x):
        raise TypeError(f"sparse.constant needs a SciPy sparse matrix, got {type(x).__name__}")
    c = _core.constant(x, name or "", None)
    return c


# ---- Conversions and a matrix's arrays ----


def dense_from_sparse(x, structured=True):
    """x as a dense matrix; its gradient is structured unless structured=False."""
    return _s.dense_from_sparse(as_sparse_variable(x), structured)


def csr_from_dense(x):
    return _s.from_dense(x, "csr")


def csc_from_dense(x):
    return _s.from_dense(x, "csc")


class DenseFromSparse:
    def __init__(self, structured=True):
        self.sparse_grad = structured

    def __call__(self, x):
        return dense_from_sparse(x, self.sparse_grad)


class SparseFromDense:
    def __init__(self, format):
        self.format = format

    def __call__(self, x):
        return _s.from_dense(x, self.format)


class CSM:
    """CSM('csr')(data, indices, indptr, shape): a matrix from its arrays, checked when it is made."""

    def __init__(self, format, kmap=None):
        if kmap is not None:
            raise NotImplementedError("CSM: kmap is not supported")
        self.format = format

    def __call__(self, data, indices, indptr, shape):
        return _s.csm(self.format, data, indices, indptr, shape)


CSR = CSM("csr")
CSC = CSM("csc")


def csm_properties(x):
    """(data, indices, indptr, shape) of x; indices, indptr and shape are int32, as in Theano."""
    return tuple(_s.csm_properties(as_sparse_variable(x)))


def csm_data(x):
    return csm_properties(x)[0]


def csm_indices(x):
    return csm_properties(x)[1]


def csm_indptr(x):
    return csm_properties(x)[2]


def csm_shape(x):
    return csm_properties(x)[3]


def with_data(x, data):
    """x's structure holding other values (as many as x stores)."""
    return _s.with_data(as_sparse_variable(x), data)


def cast(variable, dtype):
    return _s.cast(as_sparse_variable(variable), dtype)


def _caster(dtype):
    return lambda x: cast(x, dtype)


bcast, wcast, icast, lcast = _caster("int8"), _caster("int16"), _caster("int32"), _caster("int64")
fcast, dcast, ccast, zcast = _caster("float32"), _caster("float64"), _caster("complex64"), _caster("complex128")

# ---- Products ----


def structured_dot(x, y):
    """x @ y with a sparse operand; the gradient of the sparse operand is structured."""
    return _s.structured_dot(as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y))


def dot(x, y):
    """x @ y with at least one sparse operand: a dense result, dense gradients."""
    return _s.dot(as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y))


def true_dot(x, y, grad_preserves_dense=True):
    """x @ y as a sparse matrix (x's format), with the full gradient of the sparse operand."""
    return _s.true_dot(as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y), grad_preserves_dense)


def sampling_dot(x, y, p):
    """p * (x @ y.T), computed at p's stored positions only."""
    return _s.sampling_dot(x, y, as_sparse_variable(p))


def usmm(alpha, x, y, z):
    """z + alpha * (x @ y) with a sparse x or y (Theano's Usmm)."""
    return T.as_tensor_variable(z) + alpha * structured_dot(x, y)


# ---- Elementwise ----


def add(x, y):
    return _s.add(as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y))


def sub(x, y):
    return _s.sub(as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y))


def mul(x, y):
    return _s.mul(as_sparse_or_tensor_variable(x), as_sparse_or_tensor_variable(y))


def neg(x):
    return _s.neg(as_sparse_variable(x))


def transpose(x):
    return _s.transpose(as_sparse_variable(x))


def mul_s_v(x, y):
    """Each row of sparse x times the dense vector y."""
    return mul(x, y)


def structured_add_s_v(x, y):
    """y[j] added to the values x stores in column j."""
    x = as_sparse_variable(x)
    return with_data(x, csm_data(x) + csm_data(mul(sp_ones_like(x), y)))


def row_scale(x, s):
    return _s.row_scale(as_sparse_variable(x), s)


def col_scale(x, s):
    return _s.col_scale(as_sparse_variable(x), s)


def structured_monoid(tensor_op):
    """Theano's decorator: the function applies tensor_op to the stored values only (its other arguments are
    scalars)."""

    def decorator(f):
        def wrapper(*args):
            x = as_sparse_variable(args[0])
            return with_data(x, tensor_op(csm_data(x), *args[1:]))

        wrapper.__name__ = f.__name__
        wrapper.__doc__ = f.__doc__
        return wrapper

    return decorator


def structured_sigmoid(x):
    return _s.structured_sigmoid(as_sparse_variable(x))


def structured_exp(x):
    return _s.structured_exp(as_sparse_variable(x))


def structured_log(x):
    return _s.structured_log(as_sparse_variable(x))


def structured_pow(x, y):
    return _s.structured_pow(as_sparse_variable(x), y)


def structured_minimum(x, y):
    return _s.structured_minimum(as_sparse_variable(x), y)


def structured_maximum(x, y):
    return _s.structured_maximum(as_sparse_variable(x), y)


def structured_add(x, y):
    return _s.structured_add(as_sparse_variable(x), y)


def _zero_preserving(name, tensor_op):
    @structured_monoid(tensor_op)
    def f(x):
        pass

    f.__name__ = name
    f.__doc__ = f"Elementwise {name} of the stored values (the function maps 0 to 0, so the result is exact)."
    return f


sin = _zero_preserving("sin", T.sin)
tan = _zero_preserving("tan", T.tan)
arcsin = _zero_preserving("arcsin", T.arcsin)
arctan = _zero_preserving("arctan", T.arctan)
sinh = _zero_preserving("sinh", T.sinh)
arcsinh = _zero_preserving("arcsinh", T.arcsinh)
tanh = _zero_preserving("tanh", T.tanh)
arctanh = _zero_preserving("arctanh", T.arctanh)
rint = _zero_preserving("rint", lambda d: T.round(d, mode="half_to_even"))
sgn = _zero_preserving("sgn", T.sgn)
ceil = _zero_preserving("ceil", T.ceil)
floor = _zero_preserving("floor", T.floor)
log1p = _zero_preserving("log1p", T.log1p)
expm1 = _zero_preserving("expm1", T.expm1)
deg2rad = _zero_preserving("deg2rad", T.deg2rad)
rad2deg = _zero_preserving("rad2deg", T.rad2deg)
trunc = _zero_preserving("trunc", T.trunc)
sqr = _zero_preserving("sqr", T.sqr)
sqrt = _zero_preserving("sqrt", T.sqrt)
conj = _zero_preserving("conj", T.conj)
abs_ = _zero_preserving("abs_", T.abs_)

# ---- Comparisons (bool, as SciPy: sparse against a scalar or a sparse matrix, dense against a dense array) ----


def _operand(v):
    """A Python number stays a number (it takes the matrix's dtype, as in SciPy); anything else a variable."""
    return v if isinstance(v, (int, float, complex)) else as_sparse_or_tensor_variable(v)


def eq(x, y):
    return T.eq(_operand(x), _operand(y))


def neq(x, y):
    return T.neq(_operand(x), _operand(y))


def lt(x, y):
    return T.lt(_operand(x), _operand(y))


def le(x, y):
    return T.le(_operand(x), _operand(y))


def gt(x, y):
    return T.gt(_operand(x), _operand(y))


def ge(x, y):
    return T.ge(_operand(x), _operand(y))


# ---- Reductions and structure ----


def sp_sum(x, axis=None, sparse_grad=False):
    """Sum of all values (axis None), of each column (0) or of each row (1): dense. sparse_grad: a structured
    gradient."""
    return _s.sp_sum(as_sparse_variable(x), axis, sparse_grad)


def sp_ones_like(x):
    return _s.sp_ones_like(as_sparse_variable(x))


def sp_zeros_like(x):
    return _s.sp_zeros_like(as_sparse_variable(x))


def remove0(x):
    return _s.remove0(as_sparse_variable(x))


def ensure_sorted_indices(x):
    return _s.ensure_sorted_indices(as_sparse_variable(x))


def clean(x):
    return _s.clean(as_sparse_variable(x))


def hstack(blocks, format=None, dtype=None):
    """The blocks side by side: a sparse matrix of `format` (default the first block's) and `dtype`."""
    return _s.stack([as_sparse_variable(b) for b in blocks], 1, format, dtype)


def vstack(blocks, format=None, dtype=None):
    return _s.stack([as_sparse_variable(b) for b in blocks], 0, format, dtype)


def square_diagonal(diag):
    """The square csc matrix with the vector diag on its diagonal."""
    return _s.square_diagonal(diag)


def diag(x):
    """The diagonal of a square sparse matrix, as a dense vector."""
    return _s.diag(as_sparse_variable(x))


def get_item_2d(x, index):
    return as_sparse_variable(x)[index]


def get_item_list(x, index):
    return _s.take(as_sparse_variable(x), index, 0)


def get_item_scalar(x, index):
    i, j = index
    return _s.get_item_scalar(as_sparse_variable(x), i, j)


# ---- Checking gradients ----


def verify_grad_sparse(op, pt, structured=False, *args, **kwargs):
    """verify_grad for an op over sparse and dense points: a sparse point varies through its stored values
    (structured) or through every entry of its dense form; a sparse output is compared as its dense form."""
    import scipy.sparse as sp
    from ..gradient import verify_grad

    dense_points, back = [], []
    for p in pt:
        if not sp.issparse(p):
            dense_points.append(np.asarray(p))
            back.append(lambda v: v)
            continue
        p = p.asformat(p.format if p.format in ("csr", "csc") else "csr")
        if structured:
            dense_points.append(p.data.copy())
            back.append(lambda v, p=p: CSM(p.format)(v, p.indices.copy(), p.indptr.copy(), np.asarray(p.shape, dtype="int64")))
        else:
            dense_points.append(p.toarray())
            back.append(lambda v, p=p: SparseFromDense(p.format)(v))

    def dense_op(*inputs):
        out = op(*[b(v) for b, v in zip(back, inputs)])
        if isinstance(out, (list, tuple)):
            raise NotImplementedError("verify_grad_sparse checks ops with one output")
        return dense_from_sparse(out, structured=False) if _is_sparse_variable(out) else out

    return verify_grad(dense_op, dense_points, *args, **kwargs)


__all__ = [n for n in dir() if not n.startswith("__") and n not in ("np", "T", "config", "Variable")]
