// Products: Dot (NumPy's dot for vectors and matrices) and BatchedMatmul (matmul over broadcast
// batch dimensions). Float products call OpenBLAS; other dtypes use plain loops.
#pragma once
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
