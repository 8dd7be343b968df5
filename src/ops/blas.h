// Products: Dot (NumPy's dot for vectors and matrices) and BatchedMatmul (matmul over broadcast
// batch dimensions). Float products call OpenBLAS; other dtypes use plain loops.
#pragma once
#include "hypatia/graph.h"

namespace hypatia {

class Dot : public Op {
 public:
  std::string name() const override { return "dot"; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override;
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override;
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override;
  std::vector<std::vector<Variable>> infer_shape(const Apply& node,
                                                 const std::vector<std::vector<Variable>>& input_shapes) const override;
};

// Inputs of equal rank >= 3... or 2: (..., m, k) @ (..., k, n); batch axes broadcast where statically 1.
class BatchedMatmul : public Op {
 public:
  std::string name() const override { return "matmul"; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override;
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override;
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override;
  std::vector<std::vector<Variable>> infer_shape(const Apply& node,
                                                 const std::vector<std::vector<Variable>>& input_shapes) const override;
};

// C = A @ B for 2-d arrays (any strides), C preallocated (m, n) contiguous of the promoted dtype.
void matrix_product(const Array& a, const Array& b, Array& c);

}  // namespace hypatia
