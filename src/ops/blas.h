// Products: Dot (NumPy's dot for vectors and matrices) and BatchedMatmul (matmul over broadcast
// batch dimensions). Float products call OpenBLAS; other dtypes use plain loops.
#pragma once
#include <cblas.h>

#include <type_traits>

#include "hypatia/graph.h"

namespace hypatia {

class Dot : public Op {
 public:
  std::string name() const override { return "dot"; }
  HYPATIA_OP_METHODS
  std::string save() const override;
  std::vector<Variable> r_op(const Apply& node, const std::vector<Variable>& eval_points) const override;
};

// Inputs of equal rank >= 2: (..., m, k) @ (..., k, n); batch axes broadcast where statically 1.
class BatchedMatmul : public Op {
 public:
  std::string name() const override { return "matmul"; }
  HYPATIA_OP_METHODS
  std::string save() const override;
};

// beta * z + alpha * (x @ y) for matrices of one float dtype, alpha and beta scalars (BLAS's GEMM).
// specialize.cpp makes it from dot and elementwise arithmetic around it.
class Gemm : public Op {
 public:
  std::string name() const override { return "gemm"; }
  HYPATIA_OP_METHODS
  std::string save() const override;
  int destination_input() const override { return 0; }  // z
  bool reads_on_host(int input) const override { return input == 1 || input == 4; }  // alpha, beta: BLAS takes them by value
  std::optional<Shape> result_shape(const Apply&, std::span<const Array> inputs) const override;
};

// Sets OpenBLAS's threads for a product of `multiply_adds` (m*n*k) and returns them: one below 4e6, where
// a second thread did not pay on two cores (OpenBLAS's own rule threads products from 2.6e5: alone those ran
// no faster, and between other kernels slower, its workers' waits taking the core the caller needs next);
// else Hypatia's threads, at most OPENBLAS_NUM_THREADS. One while the caller flushes subnormals: OpenBLAS's
// threads would not (the product splits among OpenMP threads instead: `threads_wanted` says how many).
int choose_blas_threads(double multiply_adds, int* threads_wanted = nullptr);

// C (m x n) = alpha op(A) op(B) + beta C for float32/float64 row-major matrices whose leading dimensions are
// their widths (BLAS's gemm, for the ops' own loops over batches).
template <class T>
void gemm_row_major(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, T beta, T* c) {
  const auto ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
  const int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  if (m == 0 || n == 0) return;
  choose_blas_threads(static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k));
  if constexpr (std::is_same_v<T, float>) cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
  else cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, n);
}

// Gemm's result shape for its runtime inputs (z, alpha, x, y, beta); ShapeError when they do not fit.
Shape gemm_output_shape(std::span<const Array> inputs);

// g summed over the batch axes (those before the last `core`) that `input` broadcast along (statically 1),
// keeping them: broadcasting's adjoint, for the gradients of batched ops.
Variable unbroadcast_batch(const Variable& g, const Variable& input, int core = 2);
// v with its last two axes swapped (a batch of transposes).
Variable swap_last_two(const Variable& v);

// C = A @ B for 2-d arrays (any strides), C preallocated (m, n) contiguous of the promoted dtype.
void matrix_product(const Array& a, const Array& b, Array& c);

}  // namespace hypatia
