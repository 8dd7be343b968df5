// IfElse: the op and its builder. Laziness lives in the Program, which skips the steps only the
// branch not taken reads.
#include "ops/ifelse.h"

#include "hypatia/elemwise.h"
#include "hypatia/ifelse.h"
#include "hypatia/shape_ops.h"
#include "ir/serialize.h"

namespace hypatia {
namespace {

std::vector<Variable> build_ifelse(const Variable& condition, const std::vector<Variable>& then_branch,
                                   const std::vector<Variable>& else_branch, CodeLocation where) {
  std::vector<Variable> inputs{condition};
  inputs.insert(inputs.end(), then_branch.begin(), then_branch.end());
  inputs.insert(inputs.end(), else_branch.begin(), else_branch.end());
  return apply_op(std::make_shared<IfElse>(static_cast<int>(then_branch.size())), inputs, where);
}

}  // namespace

ViewMap IfElse::view_map() const {
  ViewMap views;
  for (int k = 0; k < num_outputs_; ++k) {
    views.emplace_back(k, 1 + k);
    views.emplace_back(k, 1 + num_outputs_ + k);
  }
  return views;
}

std::vector<TensorType> IfElse::output_types(const std::vector<Variable>& inputs) const {
  const int n = num_outputs_;
  if (static_cast<int>(inputs.size()) != 1 + 2 * n)
    throw Error("[ifelse] internal error: " + std::to_string(inputs.size()) + " inputs for " + std::to_string(n) + " outputs");
  const Variable& condition = inputs[0];
  if (condition.ndim() != 0)
    throw TypeError("[ifelse] the condition must be a scalar, got " + condition.type().str());
  std::vector<TensorType> types;
  for (int k = 0; k < n; ++k) {
    const TensorType &then_type = inputs[1 + k].type(), &else_type = inputs[1 + n + k].type();
    if (then_type.dtype != else_type.dtype || then_type.ndim() != else_type.ndim())
      throw TypeError("[ifelse] output " + std::to_string(k) + ": the then branch gives " + then_type.str() +
                      " but the else branch gives " + else_type.str() + "; they must have the same dtype and number of dimensions");
    std::vector<int64_t> shape(then_type.shape);
    for (int axis = 0; axis < then_type.ndim(); ++axis)
      if (shape[axis] != else_type.shape[axis]) shape[axis] = TensorType::kUnknown;
    types.emplace_back(then_type.dtype, std::move(shape));
  }
  return types;
}

void IfElse::perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const {
  const bool take_then = inputs[0].item() != 0;
  for (int k = 0; k < num_outputs_; ++k) outputs[k] = inputs[(take_then ? 1 : 1 + num_outputs_) + k];
}

std::vector<Variable> IfElse::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const int n = num_outputs_;
  std::vector<Variable> grads(node.inputs().size());
  std::vector<Variable> taken, then_zeros, else_zeros;
  std::vector<int> float_outputs;
  for (int k = 0; k < n; ++k) {
    if (!output_grads[k] || !is_inexact(node.output(k).dtype())) continue;
    float_outputs.push_back(k);
    Variable g = output_grads[k];
    if (g.dtype() != node.output(k).dtype()) g = cast(g, node.output(k).dtype());
    taken.push_back(g);
    then_zeros.push_back(zeros_like(node.input(1 + k)));
    else_zeros.push_back(zeros_like(node.input(1 + n + k)));
  }
  if (float_outputs.empty()) return grads;
  // The branch not taken gets zeros, itself chosen lazily.
  const std::vector<Variable> to_then = build_ifelse(node.input(0), taken, then_zeros, node.where());
  const std::vector<Variable> to_else = build_ifelse(node.input(0), else_zeros, taken, node.where());
  for (size_t j = 0; j < float_outputs.size(); ++j) {
    grads[1 + float_outputs[j]] = to_then[j];
    grads[1 + n + float_outputs[j]] = to_else[j];
  }
  return grads;
}

std::vector<std::vector<Variable>> IfElse::infer_shape(const Apply& node,
                                                       const std::vector<std::vector<Variable>>& input_shapes) const {
  // The shape of the branch taken, chosen lazily like the values.
  std::vector<std::vector<Variable>> shapes;
  for (int k = 0; k < num_outputs_; ++k) {
    const Variable& out = node.output(k);
    std::vector<Variable> dims;
    for (int axis = 0; axis < out.ndim(); ++axis) {
      const Variable &a = input_shapes[1 + k][axis], &b = input_shapes[1 + num_outputs_ + k][axis];
      dims.push_back(a.is(b) ? a : build_ifelse(node.input(0), {a}, {b}, node.where()).at(0));
    }
    shapes.push_back(std::move(dims));
  }
  return shapes;
}

std::vector<Variable> ifelse(const Operand& condition, const std::vector<Variable>& then_branch,
                             const std::vector<Variable>& else_branch, std::source_location where) {
  if (then_branch.size() != else_branch.size())
    throw ValueError("[ifelse] the then branch has " + std::to_string(then_branch.size()) + " outputs but the else branch " +
                     std::to_string(else_branch.size()) + " (ifelse called at " + format_location(where) + ")");
  if (then_branch.empty()) return {};
  for (const auto* branch : {&then_branch, &else_branch})
    for (const Variable& v : *branch)
      if (!v) throw ValueError("[ifelse] a branch holds a null Variable (ifelse called at " + format_location(where) + ")");
  return build_ifelse(condition.as_variable(), then_branch, else_branch, where);
}

Variable ifelse(const Operand& condition, const Operand& then_branch, const Operand& else_branch,
                std::source_location where) {
  Variable then_value, else_value;
  if (then_branch.is_number() && !else_branch.is_number()) {
    else_value = else_branch.variable();
    then_value = then_branch.as_weak_variable(else_value.dtype());
  } else if (else_branch.is_number() && !then_branch.is_number()) {
    then_value = then_branch.variable();
    else_value = else_branch.as_weak_variable(then_value.dtype());
  } else {
    then_value = then_branch.as_variable();
    else_value = else_branch.as_variable();
  }
  return ifelse(condition, std::vector<Variable>{then_value}, std::vector<Variable>{else_value}, where).at(0);
}

std::string IfElse::save() const {
  OpWriter out("if_else");
  out.integer(num_outputs_);
  return out.bytes();
}

void register_ifelse_loaders(OpLoaders& loaders) {
  loaders["if_else"] = [](OpReader& in) -> OpPtr {
    return std::make_shared<IfElse>(static_cast<int>(in.integer_in(1, 1 << 20, "a number of outputs")));
  };
}
}  // namespace hypatia
