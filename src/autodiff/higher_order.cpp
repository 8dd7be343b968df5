// jacobian, hessian and Hessian-vector products, built from grad, Rop and scan.
#include "hypatia/elemwise.h"
#include "hypatia/grad.h"
#include "hypatia/scan.h"
#include "hypatia/shape_ops.h"
#include "hypatia/subtensor.h"

namespace hypatia {

std::vector<Variable> jacobian(const Variable& expression, const std::vector<Variable>& wrt,
                               Disconnected disconnected_inputs, std::source_location where) {
  if (!expression) throw ValueError("[jacobian] the expression is a null Variable (jacobian called at " + format_location(where) + ")");
  if (!is_float(expression.dtype()))
    throw ValueError("[jacobian] the expression must have a float dtype, got " + expression.type().str() +
                     " (jacobian called at " + format_location(where) + ")");
  GradOptions options;
  options.disconnected_inputs = disconnected_inputs;
  if (expression.ndim() == 0) return grad(expression, wrt, options, where);
  // One reverse pass per element of the flattened expression: row i of the result is d flat[i] / d wrt.
  const Variable flat = flatten(expression, 1);
  std::vector<Variable> non_sequences{flat};
  non_sequences.insert(non_sequences.end(), wrt.begin(), wrt.end());
  ScanOptions scan_options;
  scan_options.name = "jacobian";
  ScanResult rows = scan(
      [&](const std::vector<Variable>& args) {
        const std::vector<Variable> targets(args.begin() + 2, args.end());
        return ScanStep(grad(args[1][{args[0]}], targets, options, where));
      },
      {arange(shape_i(flat, 0))}, std::vector<OutputInfo>(wrt.size()), non_sequences, scan_options, where);
  std::vector<Variable> result;
  for (size_t k = 0; k < wrt.size(); ++k) {
    std::vector<Operand> shape;
    for (int axis = 0; axis < expression.ndim(); ++axis) shape.emplace_back(shape_i(expression, axis));
    for (int axis = 0; axis < wrt[k].ndim(); ++axis) shape.emplace_back(shape_i(wrt[k], axis));
    result.push_back(reshape(rows.outputs[k], shape));
  }
  return result;
}

Variable jacobian(const Variable& expression, const Variable& wrt, Disconnected disconnected_inputs, std::source_location where) {
  return jacobian(expression, std::vector<Variable>{wrt}, disconnected_inputs, where).at(0);
}

std::vector<Variable> hessian(const Variable& cost, const std::vector<Variable>& wrt, Disconnected disconnected_inputs,
                              std::source_location where) {
  GradOptions options;
  options.disconnected_inputs = disconnected_inputs;
  const std::vector<Variable> gradients = grad(cost, wrt, options, where);
  std::vector<Variable> result;
  for (size_t k = 0; k < wrt.size(); ++k) result.push_back(jacobian(gradients[k], wrt[k], disconnected_inputs, where));
  return result;
}

Variable hessian(const Variable& cost, const Variable& wrt, Disconnected disconnected_inputs, std::source_location where) {
  return hessian(cost, std::vector<Variable>{wrt}, disconnected_inputs, where).at(0);
}

std::vector<Variable> hessian_vector_product(const Variable& cost, const std::vector<Variable>& wrt,
                                             const std::vector<Variable>& vectors, std::source_location where) {
  return Rop(grad(cost, wrt, {}, where), wrt, vectors, where);
}

}  // namespace hypatia
