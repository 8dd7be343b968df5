// Elemwise(scalar_op): a scalar op from the table broadcast over tensors of equal rank.
#pragma once
#include <initializer_list>
#include <vector>

#include "hypatia/graph.h"
#include "scalar/scalar_table.h"

namespace hypatia {

class Elemwise : public Op {
 public:
  explicit Elemwise(ScalarOp scalar_op) : scalar_op_(scalar_op) {}
  const ScalarOp& scalar_op() const { return scalar_op_; }

  std::string name() const override;
  std::string props() const override;
  HYPATIA_OP_METHODS
  std::string save() const override;
  std::vector<Variable> r_op(const Apply& node, const std::vector<Variable>& eval_points) const override;
  std::optional<Shape> result_shape(const Apply& node, std::span<const Array> inputs) const override;

 private:
  ScalarOp scalar_op_;
};

// Builds Elemwise(op) on the operands: numbers become constants of the tensors' kind (weak scalars)
// and lower-rank inputs get leading broadcastable axes.
Variable elemwise(ScalarOp op, std::initializer_list<const Operand*> operands);

// The output shape of broadcasting inputs of equal rank, as far as the static types tell.
std::vector<int64_t> broadcast_static_shape(const std::string& op_name, const std::vector<Variable>& inputs);
// The same as symbolic dimensions, for infer_shape: the broadcast shape of `node`'s inputs.
std::vector<Variable> broadcast_symbolic_shape(const Apply& node, const std::vector<std::vector<Variable>>& input_shapes);

// Runtime broadcast of the inputs' shapes against the static types of `node`'s inputs.
Shape broadcast_shapes_checked(const Apply& node, std::span<const Array> inputs);

// Applies `op` to `inputs` (already converted to typing.compute and broadcast to out's shape).
void run_scalar_kernel(const ScalarOp& op, const ScalarTyping& typing, const std::vector<Array>& inputs, Array& out);

}  // namespace hypatia
