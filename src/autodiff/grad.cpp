// Reverse-mode differentiation over the graph between `wrt` and `cost`.
#include "hypatia/grad.h"

#include <unordered_map>
#include <unordered_set>

#include "hypatia/elemwise.h"
#include "hypatia/shape_ops.h"
#include "ir/describe.h"
#include "ir/function_graph.h"

namespace hypatia {
namespace {

using NodeSet = std::unordered_set<const VariableNode*>;

// Variables that depend on any of `sources` (including them), among the ancestors of `outputs`. A
// blocked variable (consider_constant) is a leaf: what it depends on does not reach through it.
NodeSet depends_on(const std::vector<std::shared_ptr<Apply>>& order, const std::vector<Variable>& sources,
                   const NodeSet& blocked, bool through_barriers = true) {
  NodeSet result;
  for (const Variable& s : sources) result.insert(s.node());
  for (const auto& node : order) {
    if (!through_barriers && !node->op().gradient_connected()) continue;
    const std::vector<std::vector<bool>> pattern = node->op().connection_pattern(*node);
    for (size_t k = 0; k < node->num_outputs(); ++k) {
      bool connected = false;
      for (size_t i = 0; i < node->inputs().size(); ++i)
        connected = connected || (result.count(node->input(i).node()) && (pattern.empty() || pattern[i][k]));
      if (connected && !blocked.count(node->output(k).node())) result.insert(node->output(k).node());
    }
  }
  return result;
}

// Reverse accumulation from `seeds` (each variable's cotangent, summed with what flows back to it) and
// options.known_grads (which replace what flows back); `where` names the caller for messages.
std::vector<Variable> backpropagate(const std::vector<std::pair<Variable, Variable>>& seed_grads,
                                    const std::vector<Variable>& wrt, const GradOptions& options,
                                    const std::string& component, std::source_location where) {
  auto fail = [&](const std::string& message) -> void {
    throw ValueError("[" + component + "] " + message + " (" + component + " called at " + format_location(where) + ")");
  };
  for (const Variable& w : wrt)
    if (!w) fail("a wrt entry is a null Variable");

  std::vector<Variable> seeds;
  for (const auto& [v, g] : seed_grads) seeds.push_back(v);
  for (const auto& [v, g] : options.known_grads) seeds.push_back(v);
  const auto order = toposort(seeds);

  NodeSet blocked;
  for (const Variable& v : options.consider_constant) blocked.insert(v.node());
  // Only nodes on a path from some wrt to the cost get differentiated.
  const NodeSet from_wrt = depends_on(order, wrt, blocked);

  // Known gradients are given, not accumulated: what flows back to those variables is ignored (Theano).
  std::unordered_map<const VariableNode*, Variable> grads;
  NodeSet known;
  for (const auto& [v, g] : options.known_grads) {
    if (!v || !g) fail("a known_grads entry holds a null Variable");
    if (v.ndim() != g.ndim()) fail("known gradient for " + describe_variable(v) + " has type " + g.type().str());
    grads[v.node()] = g;
    known.insert(v.node());
  }
  auto accumulate = [&](const Variable& v, const Variable& g) {
    if (known.count(v.node())) return;
    auto [it, inserted] = grads.try_emplace(v.node(), g);
    if (!inserted) it->second = it->second + g;
  };
  for (const auto& [v, g] : seed_grads) accumulate(v, g);

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Apply& node = **it;
    bool any_output_grad = false;
    std::vector<Variable> output_grads;
    for (const Variable& out : node.outputs()) {
      // A blocked output is a leaf: its gradient does not flow on into this node.
      auto found = blocked.count(out.node()) ? grads.end() : grads.find(out.node());
      output_grads.push_back(found != grads.end() ? found->second : Variable());
      any_output_grad = any_output_grad || found != grads.end();
    }
    bool needed = false;
    for (const Variable& input : node.inputs()) needed = needed || from_wrt.count(input.node());
    if (!any_output_grad || !needed) continue;
    // Outputs without a gradient get zeros when a sibling output has one.
    for (size_t k = 0; k < output_grads.size(); ++k)
      if (!output_grads[k] && is_inexact(node.output(k).dtype())) output_grads[k] = zeros_like(node.output(k));
    std::vector<Variable> input_grads = node.op().grad(node, output_grads);
    if (input_grads.size() != node.inputs().size())
      throw Error("[" + component + "] internal error: " + node.op().str() + " returned " + std::to_string(input_grads.size()) +
                  " gradients for " + std::to_string(node.inputs().size()) + " inputs");
    // An input no output with a gradient depends on gets none (it may still be reached another way).
    if (const auto pattern = node.op().connection_pattern(node); !pattern.empty())
      for (size_t i = 0; i < input_grads.size(); ++i) {
        bool reached = false;
        for (size_t k = 0; k < node.num_outputs(); ++k)
          reached = reached || (pattern[i][k] && grads.count(node.output(k).node()) && !blocked.count(node.output(k).node()));
        if (!reached) input_grads[i] = Variable();
      }
    for (size_t i = 0; i < input_grads.size(); ++i) {
      const Variable& input = node.input(i);
      if (!input_grads[i] || !from_wrt.count(input.node())) continue;
      if (!is_inexact(input.dtype())) continue;
      Variable g = input_grads[i];
      if (is_complex(g.dtype()) && !is_complex(input.dtype())) g = real(g);  // a real input's share is dC/dRe
      if (g.dtype() != input.dtype()) g = cast(g, input.dtype());
      if (g.ndim() != input.ndim())
        throw Error("[" + component + "] internal error: " + node.op().str() + " gave a gradient of type " + g.type().str() +
                    " for input " + input.type().str());
      accumulate(input, g);
    }
  }

  std::vector<Variable> result;
  for (const Variable& w : wrt) {
    auto found = grads.find(w.node());
    if (found != grads.end()) {
      result.push_back(found->second);
      continue;
    }
    // Connected only through integers (casts, comparisons, indices): the gradient is zero, as in Theano.
    const NodeSet reached = depends_on(order, {w}, blocked, /*through_barriers=*/false);
    bool connected = false;
    for (const Variable& seed : seeds) connected = connected || reached.count(seed.node());
    if (connected) {
      result.push_back(zeros_like(w));
      continue;
    }
    std::string message = std::string(component == "grad" ? "the cost" : "the expressions") + " does not depend on " + describe_variable(w) + " (built at " + format_location(w.where()) + ")";
    switch (options.disconnected_inputs) {
      case Disconnected::Raise:
        fail(message + "; set disconnected_inputs to warn or ignore to get zeros");
        break;
      case Disconnected::Warn:
        warn("[" + component + "] " + message + "; its gradient is zero");
        [[fallthrough]];
      case Disconnected::Ignore:
        result.push_back(zeros_like(w));
        break;
    }
  }
  return result;
}

}  // namespace

std::vector<Variable> grad(const Variable& cost, const std::vector<Variable>& wrt, const GradOptions& options,
                           std::source_location where) {
  auto fail = [&](const std::string& message) -> void {
    throw ValueError("[grad] " + message + " (grad called at " + format_location(where) + ")");
  };
  if (!cost && options.known_grads.empty()) fail("the cost is a null Variable");
  if (cost && is_complex(cost.dtype()))
    fail("the cost must be real, got " + describe_variable(cost) + "; take real(), imag() or abs() of it first");
  if (cost && cost.ndim() != 0) fail("the cost must be a scalar (0-d), got " + describe_variable(cost) + "; reduce it first, e.g. with sum");
  std::vector<std::pair<Variable, Variable>> seeds;
  // An integer or boolean cost is allowed, as in Theano: its own gradient is a float one, and nothing
  // flows back through integers, so what it depends on gets zeros.
  if (cost) seeds.emplace_back(cost, is_float(cost.dtype()) ? ones_like(cost) : cast(ones_like(cost), DType::Float64));
  return backpropagate(seeds, wrt, options, "grad", where);
}

std::vector<Variable> Lop(const std::vector<Variable>& f, const std::vector<Variable>& wrt,
                          const std::vector<Variable>& eval_points, Disconnected disconnected_inputs,
                          std::source_location where) {
  auto fail = [&](const std::string& message) -> void {
    throw ValueError("[Lop] " + message + " (Lop called at " + format_location(where) + ")");
  };
  if (f.size() != eval_points.size())
    fail(std::to_string(f.size()) + " expressions but " + std::to_string(eval_points.size()) + " eval points");
  std::vector<std::pair<Variable, Variable>> seeds;
  for (size_t k = 0; k < f.size(); ++k) {
    if (!f[k]) fail("expression " + std::to_string(k) + " is a null Variable");
    if (!eval_points[k]) continue;  // contributes nothing
    if (eval_points[k].ndim() != f[k].ndim())
      fail("eval point " + std::to_string(k) + " has type " + eval_points[k].type().str() + " but the expression " +
           describe_variable(f[k]) + " has " + std::to_string(f[k].ndim()) + " dimensions");
    if (!is_inexact(f[k].dtype())) continue;  // no gradient flows through integers
    seeds.emplace_back(f[k], eval_points[k].dtype() == f[k].dtype() ? eval_points[k] : cast(eval_points[k], f[k].dtype()));
  }
  GradOptions options;
  options.disconnected_inputs = disconnected_inputs;
  return backpropagate(seeds, wrt, options, "Lop", where);
}

Variable grad(const Variable& cost, const Variable& wrt, const GradOptions& options, std::source_location where) {
  return grad(cost, std::vector<Variable>{wrt}, options, where).at(0);
}

}  // namespace hypatia
