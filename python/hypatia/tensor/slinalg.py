"""Theano's tensor.slinalg: Cholesky, solves, the symmetric eigenvalue problem, expm and kron, on LAPACK,
with gradients. Matrices are the last two axes of a tensor, the axes before them a batch."""
from .. import _core

__all__ = ["cholesky", "Cholesky", "solve", "Solve", "solve_lower_triangular", "solve_upper_triangular",
           "solve_symmetric", "solve_triangular", "cho_solve", "eigvalsh", "Eigvalsh", "expm", "Expm", "kron"]


class Cholesky:
    """The Cholesky factor: lower L with x = L L^T (reading x's lower triangle), or upper U with x = U^T U.
    A matrix that is not positive definite raises numpy.linalg.LinAlgError when the function runs, or, with
    on_error='nan', gives a factor of NaNs."""

    def __init__(self, lower=True, on_error="raise"):
        if on_error not in ("raise", "nan"):
            raise ValueError(f"Cholesky(on_error={on_error!r}): on_error must be 'raise' or 'nan'")
        self.lower, self.on_error = lower, on_error

    def __call__(self, x):
        return _core.cholesky(x, bool(self.lower), self.on_error == "nan")

    def __repr__(self):
        return f"Cholesky(lower={self.lower}, on_error={self.on_error!r})"


cholesky = Cholesky()

_STRUCTURES = ("general", "symmetric", "lower_triangular", "upper_triangular", "positive_definite")


class Solve:
    """Theano's Solve(A_structure, lower): x with A x = b. 'symmetric' reads the `lower` triangle of A (SciPy's
    assume_a='sym'), the triangular structures their triangle."""

    def __init__(self, A_structure="general", lower=False, overwrite_A=False, overwrite_b=False):
        if A_structure not in _STRUCTURES:
            raise ValueError(f"Invalid matrix structure argument {A_structure!r}: one of {sorted(_STRUCTURES)}")
        self.A_structure, self.lower = A_structure, lower

    def __call__(self, A, b):
        return _core.solve(A, b, self.A_structure, bool(self.lower), False, False)

    def __repr__(self):
        return f"Solve(A_structure={self.A_structure!r}, lower={self.lower})"


_ASSUME_A = {"gen": "general", "general": "general", "sym": "symmetric", "symmetric": "symmetric", "her": "symmetric",
             "hermitian": "symmetric", "pos": "positive_definite", "positive definite": "positive_definite"}


def solve(a, b, assume_a="gen", lower=False, check_finite=True, transposed=False, sym_pos=False):
    """SciPy's solve: x with a x = b; 'sym' and 'pos' read the `lower` triangle of a (the upper by default),
    'pos' through a Cholesky factorization."""
    if sym_pos:
        assume_a = "pos"
    if assume_a not in _ASSUME_A:
        raise ValueError(f"solve: assume_a must be one of 'gen', 'sym', 'her', 'pos', got {assume_a!r}")
    return _core.solve(a, b, _ASSUME_A[assume_a], bool(lower), bool(transposed), False)


solve_lower_triangular = Solve(A_structure="lower_triangular", lower=True)
solve_upper_triangular = Solve(A_structure="upper_triangular", lower=False)
solve_symmetric = Solve(A_structure="symmetric")


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, check_finite=True):
    """SciPy's solve_triangular: x with a x = b (trans 0 or 'N') or a^T x = b (1, 'T', 'C')."""
    transposed = {0: False, "N": False, 1: True, "T": True, 2: True, "C": True}.get(trans)
    if transposed is None:
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    structure = "lower_triangular" if lower else "upper_triangular"
    return _core.solve(a, b, structure, bool(lower), transposed, bool(unit_diagonal))


def cho_solve(c_and_lower, b, check_finite=True):
    """SciPy's cho_solve((c, lower), b): x with (c c^T) x = b for a lower factor c, (c^T c) x = b for an upper one."""
    c, lower = c_and_lower
    return _core.solve(c, b, "cholesky_factor", bool(lower), False, False)


class Eigvalsh:
    """Theano's Eigvalsh(lower): the eigenvalues of a symmetric a, or of the pencil (a, b) with b positive definite."""

    def __init__(self, lower=True):
        self.lower = lower

    def __call__(self, a, b=None):
        return _core.eigvalsh(a, b, bool(self.lower))


def eigvalsh(a, b=None, lower=True):
    return Eigvalsh(lower)(a, b)


class Expm:
    def __call__(self, A):
        return _core.expm(A)


def expm(A):
    """The matrix exponential (scaling and squaring with Pade approximants, as SciPy)."""
    return _core.expm(A)


def kron(a, b):
    """The Kronecker product, as numpy.kron."""
    return _core.kron(a, b)
