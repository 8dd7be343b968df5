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

// C = alpha op(A) op(B) + beta C, row-major (BLAS's gemm): float32 through oneDNN's sgemm where it measured
// faster (blas.cpp says where: few rows, outputs and depths of 64 or more), else OpenBLAS on one thread, the
// product split by rows or columns of C among OpenMP threads; either library gets more than one thread from
// 4e6 multiply-adds only. One thread pool, not two: OpenBLAS's own workers (threading from 2.6e5) kept
// spinning after each product, taking the core the next OpenMP kernel needed (the LSTM step ran 44 ms on two
// cores against 32 on one), and they ignore the caller's subnormal mode.
template <class T>
void parallel_gemm(bool trans_a, bool trans_b, int m, int n, int k, T alpha, const T* a, int lda, const T* b, int ldb,
                   T beta, T* c, int ldc);

// C (m x n) = alpha op(A) op(B) + beta C for float32/float64 row-major matrices whose leading dimensions are
// their widths (BLAS's gemm, for the ops' own loops over batches).
template <class T>
void gemm_row_major(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, const T* b, T beta, T* c) {
  if (m == 0 || n == 0) return;
  parallel_gemm<T>(trans_a, trans_b, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
                   static_cast<int>(trans_a ? m : k), b, static_cast<int>(trans_b ? k : n), beta, c, static_cast<int>(n));
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
