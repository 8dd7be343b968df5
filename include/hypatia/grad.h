// Reverse-mode differentiation. Gradients are ordinary graphs, so they can be differentiated again.
#pragma once
#include <functional>
#include <unordered_map>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

enum class Disconnected { Raise, Warn, Ignore };

struct GradOptions {
  // Gradients of the cost with respect to these variables are given: they replace what would flow back
  // to them, and act as seeds when there is no cost (Theano's known_grads).
  std::vector<std::pair<Variable, Variable>> known_grads;
  // Treated as constants: gradients do not flow through them (their own gradient is still computed).
  std::vector<Variable> consider_constant;
  // What to do when a wrt variable does not influence the cost.
  Disconnected disconnected_inputs = Disconnected::Raise;
};

// d cost / d wrt for each wrt; `cost` must be a scalar (0-d) unless known_grads seed the graph.
// A disconnected input's gradient is zeros_like(input) (Warn/Ignore); an input that reaches the cost only
// through integers (casts, comparisons, indices) has a zero gradient.
std::vector<Variable> grad(const Variable& cost, const std::vector<Variable>& wrt,
                           const GradOptions& options = {},
                           std::source_location where = std::source_location::current());
Variable grad(const Variable& cost, const Variable& wrt, const GradOptions& options = {},
              std::source_location where = std::source_location::current());

// Vector-Jacobian products (Theano's Lop): for each wrt, the sum over k of eval_points[k] pulled back
// through f[k]. A null eval point contributes nothing; f[k] need not be scalar.
std::vector<Variable> Lop(const std::vector<Variable>& f, const std::vector<Variable>& wrt,
                          const std::vector<Variable>& eval_points, Disconnected disconnected_inputs = Disconnected::Raise,
                          std::source_location where = std::source_location::current());

// Jacobian-vector products (forward mode, Theano's Rop): for each f[k], the sum over i of d f[k] / d wrt[i]
// applied to eval_points[i]. An f[k] that does not depend on wrt gets zeros.
std::vector<Variable> Rop(const std::vector<Variable>& f, const std::vector<Variable>& wrt,
                          const std::vector<Variable>& eval_points,
                          std::source_location where = std::source_location::current());
Variable Rop(const Variable& f, const Variable& wrt, const Variable& eval_point,
             std::source_location where = std::source_location::current());

// d expression / d wrt with the expression's axes first: shape expression.shape + wrt.shape (one reverse
// pass per element of the expression, run as a scan). Theano's jacobian.
Variable jacobian(const Variable& expression, const Variable& wrt, Disconnected disconnected_inputs = Disconnected::Raise,
                  std::source_location where = std::source_location::current());
std::vector<Variable> jacobian(const Variable& expression, const std::vector<Variable>& wrt,
                               Disconnected disconnected_inputs = Disconnected::Raise,
                               std::source_location where = std::source_location::current());
// The matrix of second derivatives of a scalar cost, for each (vector) wrt: jacobian(grad(cost, wrt), wrt).
std::vector<Variable> hessian(const Variable& cost, const std::vector<Variable>& wrt,
                              Disconnected disconnected_inputs = Disconnected::Raise,
                              std::source_location where = std::source_location::current());
Variable hessian(const Variable& cost, const Variable& wrt, Disconnected disconnected_inputs = Disconnected::Raise,
                 std::source_location where = std::source_location::current());
// H v for the Hessian H of a scalar cost, without forming H: forward mode over the gradient.
std::vector<Variable> hessian_vector_product(const Variable& cost, const std::vector<Variable>& wrt,
                                             const std::vector<Variable>& vectors,
                                             std::source_location where = std::source_location::current());

// Identity in the forward pass; no gradient flows back (the gradient is disconnected).
Variable disconnected_grad(const Operand& x);
// Identity in the forward pass; the gradient flowing back is zero.
Variable zero_grad(const Operand& x);
// Identity in the forward pass; taking a gradient through it throws GradientError (Theano's undefined_grad).
Variable undefined_grad(const Operand& x);

struct VerifyGradOptions {
  double eps = 1e-6;       // finite-difference step (float64)
  double rtol = 1e-4;
  double atol = 1e-6;
  uint64_t seed = 1234;    // for the random projection of multi-element outputs
};

// Checks the symbolic gradient of fn(inputs) against central differences in float64 at `point`.
// fn builds the output graph from symbolic inputs; a non-scalar output is reduced by a random
// projection. Throws GradientError (a ValueError) with both gradients when they disagree.
void verify_grad(const std::function<Variable(const std::vector<Variable>&)>& fn,
                 const std::vector<Array>& point, const VerifyGradOptions& options = {});

}  // namespace hypatia
