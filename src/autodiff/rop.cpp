// Forward mode (Rop): tangents pushed from wrt through the graph, node by node, with each op's r_op. Ops
// without their own rule transpose their pullback (Op::r_op below).
#include <unordered_map>
#include <unordered_set>

#include "hypatia/elemwise.h"
#include "hypatia/grad.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "ir/describe.h"

namespace hypatia {

std::vector<Variable> Op::r_op(const Apply& node, const std::vector<Variable>& eval_points) const {
  std::vector<Variable> tangents(node.num_outputs());
  // Transposing a pullback takes real cotangents: Theano's complex gradients are conjugate-linear.
  bool complex_values = false;
  for (const Variable& out : node.outputs()) complex_values = complex_values || is_complex(out.dtype());
  for (size_t i = 0; i < eval_points.size(); ++i)
    complex_values = complex_values || (eval_points[i] && is_complex(node.input(i).dtype()));
  if (complex_values)
    throw NotImplementedError("[Rop] " + name() + " has no forward-mode rule for complex values (" +
                              describe_variable(node.output(0)) + "); Lop or grad of a real cost works");
  // One placeholder cotangent per float output; the pullback is linear in them.
  std::vector<Variable> cotangents(node.num_outputs());
  bool any_float = false;
  for (size_t k = 0; k < node.num_outputs(); ++k)
    if (is_float(node.output(k).dtype())) {
      cotangents[k] = tensor(node.output(k).dtype(), node.output(k).type().shape, "cotangent");
      any_float = true;
    }
  if (!any_float) return tangents;
  const std::vector<Variable> pulled = grad(node, cotangents);
  Variable pairing;  // <pullback(v), eval_points>
  for (size_t i = 0; i < pulled.size() && i < eval_points.size(); ++i) {
    if (!pulled[i] || !eval_points[i]) continue;
    Variable term = sum(pulled[i] * eval_points[i]);
    pairing = pairing ? pairing + term : term;
  }
  if (!pairing) return tangents;
  GradOptions ignore;
  ignore.disconnected_inputs = Disconnected::Ignore;
  std::vector<Variable> wrt;
  std::vector<size_t> of_output;
  for (size_t k = 0; k < cotangents.size(); ++k)
    if (cotangents[k]) {
      wrt.push_back(cotangents[k]);
      of_output.push_back(k);
    }
  std::vector<Variable> derivatives = hypatia::grad(pairing, wrt, ignore);
  // The result does not depend on the placeholders' values, only (at most) on their shapes.
  std::vector<std::pair<Variable, Variable>> shapes_only;
  for (size_t j = 0; j < wrt.size(); ++j) shapes_only.emplace_back(wrt[j], zeros_like(node.output(of_output[j])));
  derivatives = clone_replace(derivatives, shapes_only);
  for (size_t j = 0; j < wrt.size(); ++j) tangents[of_output[j]] = derivatives[j];
  return tangents;
}

std::vector<Variable> Rop(const std::vector<Variable>& f, const std::vector<Variable>& wrt,
                          const std::vector<Variable>& eval_points, std::source_location where) {
  auto fail = [&](const std::string& message) -> void {
    throw ValueError("[Rop] " + message + " (Rop called at " + format_location(where) + ")");
  };
  if (wrt.size() != eval_points.size())
    fail(std::to_string(wrt.size()) + " wrt variables but " + std::to_string(eval_points.size()) + " eval points");
  std::unordered_map<const VariableNode*, Variable> tangent;
  for (size_t i = 0; i < wrt.size(); ++i) {
    if (!wrt[i] || !eval_points[i]) fail("wrt " + std::to_string(i) + " or its eval point is a null Variable");
    if (wrt[i].ndim() != eval_points[i].ndim())
      fail("the eval point " + describe_variable(eval_points[i]) + " does not match " + describe_variable(wrt[i]) + " (number of dimensions)");
    if (!is_inexact(wrt[i].dtype())) continue;  // integers have no tangent
    Variable u = eval_points[i].dtype() == wrt[i].dtype() ? eval_points[i] : cast(eval_points[i], wrt[i].dtype());
    auto [it, inserted] = tangent.try_emplace(wrt[i].node(), u);
    if (!inserted) it->second = it->second + u;
  }
  for (const Variable& out : f)
    if (!out) fail("an expression is a null Variable");
  for (const auto& node : toposort(f)) {
    std::vector<Variable> inputs_tangents;
    bool any = false;
    for (const Variable& input : node->inputs()) {
      auto it = tangent.find(input.node());
      inputs_tangents.push_back(it == tangent.end() ? Variable() : it->second);
      any = any || it != tangent.end();
    }
    if (!any || !node->op().gradient_connected()) continue;
    std::vector<Variable> outputs_tangents = at_location(node->where(), [&] { return node->op().r_op(*node, inputs_tangents); });
    if (outputs_tangents.size() != node->num_outputs())
      throw Error("[Rop] internal error: " + node->op().str() + " gave " + std::to_string(outputs_tangents.size()) +
                  " tangents for " + std::to_string(node->num_outputs()) + " outputs");
    for (size_t k = 0; k < node->num_outputs(); ++k) {
      const Variable out = node->output(k);
      Variable t = outputs_tangents[k];
      if (!t || !is_inexact(out.dtype()) || tangent.count(out.node())) continue;  // a wrt keeps its given tangent
      if (t.ndim() != out.ndim())
        throw Error("[Rop] internal error: " + node->op().str() + " gave a tangent of type " + t.type().str() +
                    " for an output of type " + out.type().str());
      if (t.dtype() != out.dtype()) t = cast(t, out.dtype());
      // A tangent narrower than its output (broadcast) takes the output's shape.
      for (int axis = 0; axis < out.ndim(); ++axis)
        if (t.type().shape[axis] == 1 && out.type().shape[axis] != 1) {
          t = second(out, t);
          break;
        }
      tangent.emplace(out.node(), t);
    }
  }
  std::vector<Variable> result;
  for (const Variable& out : f) {
    auto it = tangent.find(out.node());
    result.push_back(it != tangent.end() ? it->second : zeros_like(out));
  }
  // Theano's Rop keeps in the graph every wrt the expressions read (it pairs the inputs held constant with
  // zero tangents), so function([W, V, x], Rop(dot(x, W), W, V)) takes W although dot(x, V) does not
  // read it. A zero term does the same here; fold_zeros removes it from the compiled program.
  auto ancestors = [](const std::vector<Variable>& roots) {
    std::unordered_set<const VariableNode*> found;
    for (const Variable& r : roots) found.insert(r.node());
    for (const auto& node : toposort(roots))
      for (const Variable& input : node->inputs()) found.insert(input.node());
    return found;
  };
  const auto read_by_f = ancestors(f), read_by_result = ancestors(result);
  for (const Variable& w : wrt)
    if (read_by_f.count(w.node()) && !read_by_result.count(w.node()))
      for (Variable& r : result) r = r + cast(sum(zeros_like(w)), r.dtype());
  return result;
}

Variable Rop(const Variable& f, const Variable& wrt, const Variable& eval_point, std::source_location where) {
  return Rop(std::vector<Variable>{f}, std::vector<Variable>{wrt}, std::vector<Variable>{eval_point}, where).at(0);
}

}  // namespace hypatia
