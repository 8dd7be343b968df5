"""Sparse matrices, as Theano's theano.sparse: symbolic csr and csc matrices whose values are SciPy matrices."""
from . import basic  # noqa: F401
from .basic import *  # noqa: F401,F403
from .basic import _is_dense, _is_dense_variable, _is_sparse, _is_sparse_variable  # noqa: F401
from .type import SparseType  # noqa: F401
from . import _variable  # noqa: F401  (the sparse methods of variables)

# Theano's SparseVariable and SparseConstant are the one Variable class here; these names work in isinstance checks
# of variables in general.
from .._core import Variable as SparseVariable  # noqa: F401,E402
from .._core import Variable as SparseConstant  # noqa: F401,E402
