// The linear-algebra ops (Theano's tensor.nlinalg and tensor.slinalg), on LAPACK (src/ops/lapack.h).
// Each works on the last two axes of its inputs (the last one for a vector right-hand side); the axes
// before them are a batch, of equal rank across the inputs, where statically-1 axes broadcast as in
// matmul. They compute in float32 where the inputs' promoted dtype is float16 or float32 and in float64
// otherwise (integers included), as SciPy; complex inputs are refused.
// The builders and the compositions (norm, matrix_power, kron, ...) are in linalg_api.cpp; gradients in
// linalg_grad.cpp.
#pragma once
#include <cstdint>
#include <string>

#include "hypatia/graph.h"
#include "hypatia/linalg.h"

namespace hypatia {

#define HYPATIA_LINALG_OP_METHODS                                                                            \
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override;                  \
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override;   \
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override;    \
  std::string save() const override;
#define HYPATIA_LINALG_CORE_SHAPES                                                                           \
  std::vector<std::vector<int64_t>> core_output_shapes(const std::vector<Variable>& inputs) const override;  \
  std::vector<std::vector<Variable>> core_output_shapes(const Apply&, const std::vector<std::vector<Variable>>& cores) const override;

// " (batch entry (1, 2))" for errors about one matrix of a batch; empty without batch axes.
std::string batch_entry_note(const Shape& batch, int64_t entry);
// ValueError "[op] a pivot P outside 1..n" unless each of `count` LU pivots is LAPACK's (1-based rows of n):
// a factored op's pivots come from a graph that may hold anything.
void check_lu_pivots(const std::string& op, const int32_t* pivots, int64_t count, int64_t n);

// What the linear-algebra ops share: the dtype rule and the batch axes' static shape.
class LinalgOp : public Op {
 public:
  std::vector<std::vector<Variable>> infer_shape(const Apply& node,
                                                 const std::vector<std::vector<Variable>>& input_shapes) const override;

  // Each input's core rank (the matrix or vector axes after the batch): inputs must have at least that many.
  virtual int core_rank(int input) const { (void)input; return 2; }
  // Whether the input holds values in the compute dtype (not scalar parameters or LU pivots).
  virtual bool holds_values(int input) const { return core_rank(input) != 0; }

 protected:
  // float32 when the inputs promote to float16 or float32, float64 otherwise; TypeError for complex inputs.
  DType compute_dtype(const std::vector<Variable>& inputs) const;
  // The inputs' batch shape broadcast (statically); ShapeError when two known sizes differ.
  std::vector<int64_t> batch_shape(const std::vector<Variable>& inputs) const;
  // Output k's core shape from the inputs' core shapes (kUnknown where not known statically), and the same
  // symbolically for infer_shape. By default: one output shaped as the first input's square matrices.
  virtual std::vector<std::vector<int64_t>> core_output_shapes(const std::vector<Variable>& inputs) const;
  virtual std::vector<std::vector<Variable>> core_output_shapes(const Apply& node,
                                                                const std::vector<std::vector<Variable>>& cores) const;
  // The output types of an op taking `arity` inputs, output k of dtypes[k]; with `square`, input 0's
  // matrices must be square where their sizes are known.
  std::vector<TensorType> matrix_types(const std::vector<Variable>& inputs, size_t arity, const std::vector<DType>& dtypes,
                                       bool square) const;
  // Output types from the pieces above; output k's dtype from `dtypes`.
  std::vector<TensorType> typed_outputs(const std::vector<Variable>& inputs, const std::vector<DType>& dtypes) const;
};

// LAPACK's LU factorization (getrf) of each matrix: the factors (LAPACK's array, row-major: U^T on and below
// the diagonal, L^T above) and the int32 pivots. The linear_algebra rewrite makes it where several ops
// factor one matrix; their `factored` forms then read it. A singular matrix is not an error here.
class LuFactor : public LinalgOp {
 public:
  std::string name() const override { return "lu_factor"; }
  HYPATIA_LINALG_OP_METHODS

 protected:
  HYPATIA_LINALG_CORE_SHAPES
};

// The ops below that factor their matrix take LuFactor's two outputs in its place when `factored`.
class MatrixInverse : public LinalgOp {
 public:
  explicit MatrixInverse(bool factored = false) : factored_(factored) {}
  bool factored() const { return factored_; }
  std::string name() const override { return "matrix_inverse"; }
  std::string props() const override { return factored_ ? "factored" : ""; }
  HYPATIA_LINALG_OP_METHODS
  int core_rank(int input) const override { return input == 1 ? 1 : 2; }
  bool holds_values(int input) const override { return !(factored_ && input == 1); }

 private:
  bool factored_;
};

// det (one output) or slogdet (sign and log|det|), from an LU factorization.
class Determinant : public LinalgOp {
 public:
  explicit Determinant(bool logarithm, bool factored = false) : logarithm_(logarithm), factored_(factored) {}
  bool logarithm() const { return logarithm_; }
  bool factored() const { return factored_; }
  std::string name() const override { return logarithm_ ? "slogdet" : "det"; }
  std::string props() const override { return factored_ ? "factored" : ""; }
  HYPATIA_LINALG_OP_METHODS
  int core_rank(int input) const override { return input == 1 ? 1 : 2; }
  bool holds_values(int input) const override { return !(factored_ && input == 1); }

 protected:
  HYPATIA_LINALG_CORE_SHAPES

 private:
  bool logarithm_, factored_;
};

// The Cholesky factor: lower L with A = L L^T, or upper U with A = U^T U. Only that triangle of A is read.
class Cholesky : public LinalgOp {
 public:
  explicit Cholesky(bool lower, bool nan_on_error = false) : lower_(lower), nan_on_error_(nan_on_error) {}
  bool lower() const { return lower_; }
  bool nan_on_error() const { return nan_on_error_; }
  std::string name() const override { return "cholesky"; }
  std::string props() const override { return std::string(lower_ ? "lower" : "upper") + (nan_on_error_ ? ", nan_on_error" : ""); }
  HYPATIA_LINALG_OP_METHODS

 private:
  bool lower_, nan_on_error_;
};

// Pieces of Cholesky's gradient (linalg_grad.cpp) that skip Murray's O(n^3) steps where the output
// gradient has a known form. Each reads one triangle of its factor and differentiates through its
// composition from public ops.

// L^-T diag(w) L^-1 for a Cholesky factor L, lower (..., n, n), and weights w (..., n): Cholesky's gradient
// (before folding into the read triangle) when its output gradient is diagonal, diag(2 w / diag(L)), as
// sum(log(diag(L))) gives. LAPACK's potri (then times w) where the weights are equal, else trtri and trmm.
class CholeskyInverse : public LinalgOp {
 public:
  std::string name() const override { return "cholesky_inverse"; }
  HYPATIA_LINALG_OP_METHODS
  int core_rank(int input) const override { return input == 1 ? 1 : 2; }
};

// For a Cholesky factor c (lower: A = c c^T; upper: A = c^T c; one triangle read) and u, v (..., n) or
// (..., n, k): tril(-(u v^T + v u^T) c), or triu(-c (u v^T + v u^T)). It is a solve's gradient with respect
// to a Cholesky factor (u the right-hand side's gradient, v the solution), and Cholesky's gradient turns it
// into A's directly: -u v^T folded into the read triangle.
class FactorProductGrad : public LinalgOp {
 public:
  FactorProductGrad(bool lower, bool vector_rhs) : lower_(lower), vector_rhs_(vector_rhs) {}
  bool lower() const { return lower_; }
  bool vector_rhs() const { return vector_rhs_; }
  std::string name() const override { return "factor_product_grad"; }
  std::string props() const override { return lower_ ? "lower" : "upper"; }
  HYPATIA_LINALG_OP_METHODS
  int core_rank(int input) const override { return input == 0 ? 2 : vector_rhs_ ? 1 : 2; }

 private:
  bool lower_, vector_rhs_;
};

// x with op(A) x = b, op(A) = A or A^T; b a vector (n) or a matrix (n, k) with the same batch axes.
// The structure picks the factorization (getrf, sysv, potrf, none for the triangular ones and a Cholesky
// factor) and what of A is read; factors are applied with row-major trsm.
class Solve : public LinalgOp {
 public:
  // factored: the General structure's LU factors in a's place (inputs lu, pivots, b).
  Solve(SolveOptions options, bool vector_rhs, bool factored = false)
      : options_(options), vector_rhs_(vector_rhs), factored_(factored) {}
  const SolveOptions& options() const { return options_; }
  bool vector_rhs() const { return vector_rhs_; }
  bool factored() const { return factored_; }
  std::string name() const override { return "solve"; }
  std::string props() const override;
  HYPATIA_LINALG_OP_METHODS
  int core_rank(int input) const override {
    const int rhs = factored_ ? 2 : 1;
    return input == rhs ? (vector_rhs_ ? 1 : 2) : input == 1 ? 1 : 2;  // (input 1 is the pivots when factored)
  }
  bool holds_values(int input) const override { return !(factored_ && input == 1); }

 protected:
  HYPATIA_LINALG_CORE_SHAPES

 private:
  SolveOptions options_;
  bool vector_rhs_, factored_;
};

// Eigenvalues (ascending) and, when `vectors`, eigenvectors of a symmetric A (one triangle read), or of the
// pencil (A, B) with B positive definite when there are two inputs (A v = w B v, V^T B V = I).
class Eigh : public LinalgOp {
 public:
  Eigh(bool lower, bool vectors) : lower_(lower), vectors_(vectors) {}
  bool lower() const { return lower_; }
  bool vectors() const { return vectors_; }
  std::string name() const override { return vectors_ ? "eigh" : "eigvalsh"; }
  std::string props() const override { return lower_ ? "lower" : "upper"; }
  HYPATIA_LINALG_OP_METHODS

 protected:
  HYPATIA_LINALG_CORE_SHAPES

 private:
  bool lower_, vectors_;
};

// Eigenvalues and right eigenvectors of a general matrix, always complex (NumPy's are real when they
// happen to be; a graph's dtype cannot depend on the values). No gradient, as in Theano.
class Eig : public LinalgOp {
 public:
  std::string name() const override { return "eig"; }
  HYPATIA_LINALG_OP_METHODS

 protected:
  HYPATIA_LINALG_CORE_SHAPES
};

// A = U diag(s) V^T (gesdd): outputs u, s, vt, or s alone without `uv`.
class Svd : public LinalgOp {
 public:
  Svd(bool full_matrices, bool uv) : full_matrices_(full_matrices), uv_(uv) {}
  bool full_matrices() const { return full_matrices_; }
  bool uv() const { return uv_; }
  std::string name() const override { return "svd"; }
  std::string props() const override;
  HYPATIA_LINALG_OP_METHODS

 protected:
  HYPATIA_LINALG_CORE_SHAPES

 private:
  bool full_matrices_, uv_;
};

// NumPy's qr modes: (q, r) reduced or complete, r alone, or LAPACK's raw (h, tau).
class Qr : public LinalgOp {
 public:
  explicit Qr(QrMode mode) : mode_(mode) {}
  QrMode mode() const { return mode_; }
  std::string name() const override { return "qr"; }
  std::string props() const override;
  HYPATIA_LINALG_OP_METHODS

 protected:
  HYPATIA_LINALG_CORE_SHAPES

 private:
  QrMode mode_;
};

// The Moore-Penrose pseudo-inverse from an SVD, singular values below rcond * max(s) dropped (NumPy's).
class Pinv : public LinalgOp {
 public:
  explicit Pinv(double rcond) : rcond_(rcond) {}
  std::string name() const override { return "pinv"; }
  std::string props() const override;
  HYPATIA_LINALG_OP_METHODS

 protected:
  HYPATIA_LINALG_CORE_SHAPES

 private:
  double rcond_;
};

// NumPy's lstsq (gelsd) of one matrix pair (no batch), rcond a scalar input (Theano's Lstsq): x, residuals,
// rank, s.
class Lstsq : public LinalgOp {
 public:
  explicit Lstsq(bool vector_rhs) : vector_rhs_(vector_rhs) {}
  std::string name() const override { return "lstsq"; }
  HYPATIA_LINALG_OP_METHODS
  int core_rank(int input) const override { return input == 1 ? (vector_rhs_ ? 1 : 2) : input == 2 ? 0 : 2; }

 protected:
  std::vector<std::vector<Variable>> infer_shape(const Apply& node,
                                                 const std::vector<std::vector<Variable>>& input_shapes) const override;
  HYPATIA_LINALG_CORE_SHAPES

 private:
  bool vector_rhs_;
};

// The matrix exponential (scaling and squaring with a degree-13 Pade approximant, Higham 2005, as SciPy).
class Expm : public LinalgOp {
 public:
  std::string name() const override { return "expm"; }
  HYPATIA_LINALG_OP_METHODS
};

}  // namespace hypatia
