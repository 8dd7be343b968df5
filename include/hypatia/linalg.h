// Linear algebra (Theano's tensor.nlinalg and tensor.slinalg, NumPy's linalg), on LAPACK.
// Matrices are the last two axes; the axes before them are a batch, as in NumPy's linalg (lstsq takes
// one matrix). Integer inputs compute in float64, float16 and float32 ones in float32 (SciPy's rule). A singular or non-positive-
// definite matrix raises LinAlgError (numpy.linalg.LinAlgError in Python) where NumPy raises, naming the
// op and the batch entry; det and slogdet return 0 and (0, -inf) for it, as NumPy.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

Variable matrix_inverse(const Operand& x);
Variable det(const Operand& x);
struct SignLogDet {
  Variable sign, logabsdet;
};
SignLogDet slogdet(const Operand& x);

// lower: L with x = L L^T (only x's lower triangle is read); else U with x = U^T U (the upper one). A matrix
// that is not positive definite raises LinAlgError, or gives NaNs with nan_on_error (Theano's on_error='nan').
Variable cholesky(const Operand& x, bool lower = true, bool nan_on_error = false);

// Which routine solve uses, and what of `a` it reads: Symmetric and PositiveDefinite read the triangle
// `lower` names (SciPy's assume_a 'sym' and 'pos'), the triangular ones that triangle alone (and not its
// diagonal with unit_diagonal).
// CholeskyFactor: `a` is the Cholesky factor of the system's matrix, lower or upper as `lower` says (cho_solve).
enum class MatrixStructure : uint8_t { General, Symmetric, PositiveDefinite, LowerTriangular, UpperTriangular, CholeskyFactor };
struct SolveOptions {
  MatrixStructure structure = MatrixStructure::General;
  bool lower = false;  // Symmetric / PositiveDefinite: read the lower triangle (SciPy's default: upper); CholeskyFactor: lower
  bool transposed = false;     // solve a^T x = b (General and the triangular structures)
  bool unit_diagonal = false;  // triangular: take the diagonal as ones
};
// x with a x = b. b is a vector (..., n) when it has one dimension fewer than a, else (..., n, k).
Variable solve(const Operand& a, const Operand& b, const SolveOptions& options = {});
Variable solve_triangular(const Operand& a, const Operand& b, bool lower = false, bool transposed = false,
                          bool unit_diagonal = false);
// x with (c c^T) x = b for lower c, (c^T c) x = b for upper c: c a Cholesky factor (SciPy's cho_solve).
Variable cho_solve(const Operand& c, const Operand& b, bool lower = true);

struct Eigen {
  Variable values, vectors;
};
// Eigenvalues and eigenvectors of a general matrix: complex dtypes always (complex128 from float64).
Eigen eig(const Operand& x);
// Of a symmetric matrix (its lower or upper triangle read): ascending eigenvalues, orthonormal vectors.
Eigen eigh(const Operand& x, bool lower = true);
Variable eigvalsh(const Operand& x, bool lower = true);
// The generalized problem a v = w b v with b symmetric positive definite (SciPy's eigvalsh(a, b)).
Variable eigvalsh(const Operand& a, const Operand& b, bool lower = true);

struct SvdResult {
  Variable u, s, vt;
};
// x = u diag(s) vt, s descending; full_matrices: u (m, m) and vt (n, n), else (m, k) and (k, n).
SvdResult svd(const Operand& x, bool full_matrices = true);
Variable singular_values(const Operand& x);  // svd's s alone (compute_uv=False)

enum class QrMode : uint8_t { Reduced, Complete, R, Raw };
// NumPy's qr: {q, r} for Reduced and Complete, {r} for R, {h, tau} for Raw.
std::vector<Variable> qr(const Operand& x, QrMode mode = QrMode::Reduced);

Variable pinv(const Operand& x, double rcond = 1e-15);

// NumPy's lstsq of a (m, n) and b (m) or (m, k): the solution, the residuals' squared norms (empty when
// rank < n or m <= n), the rank (int64, as Theano's) and a's singular values. rcond < 0: machine precision.
struct LeastSquares {
  Variable x, residuals, rank, s;
};
LeastSquares lstsq(const Operand& a, const Operand& b, const Operand& rcond = -1.0);

Variable matrix_power(const Operand& x, int64_t n);  // n < 0: powers of the inverse
Variable expm(const Operand& x);
Variable kron(const Operand& a, const Operand& b);
// NumPy's tensorinv and tensorsolve, by reshaping to a matrix.
Variable tensorinv(const Operand& a, int ind = 2);
Variable tensorsolve(const Operand& a, const Operand& b, std::optional<std::vector<int>> axes = std::nullopt);
// x with the entries above (tril) or below (triu) diagonal k of its last two axes zeroed.
Variable tril(const Operand& x, int k = 0);
Variable triu(const Operand& x, int k = 0);

// NumPy's norm orders: None (default), a number p (inf and -inf included), 'fro' or 'nuc'.
struct NormOrder {
  enum Kind : uint8_t { Default, Number, Frobenius, Nuclear } kind = Default;
  double p = 2;
  NormOrder() = default;
  NormOrder(double p) : kind(Number), p(p) {}  // NOLINT: an order is written as a number
  NormOrder(int p) : kind(Number), p(p) {}     // NOLINT
  static NormOrder frobenius() { NormOrder o; o.kind = Frobenius; return o; }
  static NormOrder nuclear() { NormOrder o; o.kind = Nuclear; return o; }
};
// NumPy's norm: over `axes` (one axis: a vector norm, two: a matrix norm), or without axes over a vector,
// a matrix, or (the default order only) the flattened tensor.
Variable norm(const Operand& x, NormOrder ord = {}, std::optional<std::vector<int>> axes = std::nullopt,
              bool keepdims = false);

}  // namespace hypatia
