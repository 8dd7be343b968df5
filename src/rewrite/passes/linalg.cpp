// Linear-algebra rewrites: work the math makes unnecessary is not done, and forms that overflow are not
// computed. An inverse applied to a matrix is a solve (one LU instead of an inverse and a product, and
// more accurate); a solve with a Cholesky factor is a triangular solve; det of a Cholesky factor is the
// product of its diagonal; inv(inv(A)) is A; log(det(A)) is read from slogdet, which does not overflow;
// ops that each LU-factor one matrix share one factorization.
#include <limits>
#include <map>

#include "hypatia/elemwise.h"
#include "hypatia/extra_ops.h"
#include "hypatia/linalg.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "ops/blas.h"
#include "ops/dimshuffle.h"
#include "ops/elemwise.h"
#include "ops/linalg.h"
#include "rewrite/passes/passes.h"
#include "rewrite/patterns.h"
#include "rewrite/rewriter.h"

namespace hypatia {
namespace {

// The matrix whose last two axes v swaps (v = A.T or swapaxes(A, -1, -2)), or null.
Variable swapped_matrix(const Variable& v) {
  const auto* shuffle = produced_by<DimShuffle>(v);
  if (!shuffle || v.ndim() < 2 || v.owner()->input(0).ndim() != v.ndim()) return Variable();
  const std::vector<int>& p = shuffle->pattern();
  const int n = v.ndim();
  for (int a = 0; a < n - 2; ++a)
    if (p[a] != a) return Variable();
  return p[n - 2] == n - 1 && p[n - 1] == n - 2 ? v.owner()->input(0) : Variable();
}

// v = inv(A) computed from A itself (not from shared LU factors): A, else null.
Variable inverted_matrix(const Variable& v) {
  const auto* inverse = produced_by<MatrixInverse>(v);
  return inverse && !inverse->factored() ? v.owner()->input(0) : Variable();
}

// The replacement when it has the type of what it replaces (solve computes integers in float64 where a
// product of a float32 inverse and an int would be float64 too, but not every mix lines up).
std::vector<Variable> if_same_type(const Variable& replacement, const Variable& original) {
  if (!replacement || replacement.type() != original.type()) return {};
  return {replacement};
}

// dot(inv(A), b) and matmul(inv(A), B) are solve(A, b); dot(b, inv(A)) and matmul(B, inv(A)) are solves of A^T.
class InverseAsSolve : public LocalRewriter {
 public:
  std::string name() const override { return "inverse_as_solve"; }
  std::vector<std::string> tracks() const override { return {"dot", "matmul"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const bool batched = dynamic_cast<const BatchedMatmul*>(&node.op()) != nullptr;
    if (!batched && !dynamic_cast<const Dot*>(&node.op())) return {};
    const Variable &left = node.input(0), &right = node.input(1), &out = node.output(0);
    if (inverted_matrix(left) && right.ndim() >= 1 && (batched || (left.ndim() == 2 && right.ndim() <= 2))) {
      const Variable a = inverted_matrix(left);
      if (a.ndim() != left.ndim()) return {};
      return if_same_type(solve(a, right), out);
    }
    if (inverted_matrix(right) && left.ndim() >= 1 && (batched || (right.ndim() == 2 && left.ndim() <= 2))) {
      const Variable a = inverted_matrix(right);
      if (a.ndim() != right.ndim()) return {};
      SolveOptions transposed;
      transposed.transposed = true;
      // b A^-1 = (A^-T b^T)^T
      if (left.ndim() == 1) return if_same_type(solve(a, left, transposed), out);
      return if_same_type(swap_last_two(solve(a, swap_last_two(left), transposed)), out);
    }
    return {};
  }
};

// solve(L, b) and solve(L^T, b) with L a Cholesky factor: triangular solves; solve(A^T, b) a transposed solve.
class SolveWithFactor : public LocalRewriter {
 public:
  std::string name() const override { return "solve_with_cholesky_factor"; }
  std::vector<std::string> tracks() const override { return {"solve"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const auto* solve = dynamic_cast<const Solve*>(&node.op());
    if (!solve || solve->factored() || solve->options().structure != MatrixStructure::General) return {};
    const Solve& op = *solve;
    Variable factor = node.input(0);
    bool transposed = op.options().transposed;
    const Variable inner = swapped_matrix(factor);
    if (inner) {
      factor = inner;
      transposed = !transposed;
    }
    const auto* cholesky_op = produced_by<Cholesky>(factor);
    if (!cholesky_op) {
      // solve(A^T, b) is the transposed solve of A (which may then share A's factorization).
      if (!inner) return {};
      SolveOptions options = op.options();
      options.transposed = transposed;
      return if_same_type(apply_op1(std::make_shared<Solve>(options, op.vector_rhs()), {factor, node.input(1)}), node.output(0));
    }
    SolveOptions options;
    options.lower = cholesky_op->lower();
    options.structure = options.lower ? MatrixStructure::LowerTriangular : MatrixStructure::UpperTriangular;
    options.transposed = transposed;
    return if_same_type(apply_op1(std::make_shared<Solve>(options, op.vector_rhs()), {factor, node.input(1)}), node.output(0));
  }
};

// det(L) for a Cholesky factor L: the product of its diagonal; det(A^T) is det(A).
class DeterminantRewrites : public LocalRewriter {
 public:
  std::string name() const override { return "determinant_structure"; }
  std::vector<std::string> tracks() const override { return {"det"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const auto* determinant = dynamic_cast<const Determinant*>(&node.op());
    if (!determinant || determinant->factored()) return {};
    const Variable& a = node.input(0);
    if (produced_by<Cholesky>(a)) return if_same_type(prod(diagonal(a, 0, a.ndim() - 2, a.ndim() - 1), Axes{a.ndim() - 2}), node.output(0));
    if (const Variable inner = swapped_matrix(a))
      return if_same_type(apply_op1(std::make_shared<Determinant>(false), {inner}), node.output(0));
    return {};
  }
};

// inv(inv(A)) is A.
class InverseOfInverse : public LocalRewriter {
 public:
  std::string name() const override { return "inverse_of_inverse"; }
  std::vector<std::string> tracks() const override { return {"matrix_inverse"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const auto* outer = dynamic_cast<const MatrixInverse*>(&node.op());
    const Variable a = inverted_matrix(node.input(0));
    if (!outer || outer->factored() || !a) return {};
    return if_same_type(a, node.output(0));
  }
};

// log(det(A)) overflows (det of a large matrix is beyond any float) where slogdet does not: the same values
// as log|det| where det > 0, -inf where it is 0 and NaN where it is negative. Of a Cholesky factor: the sum
// of the logs of its diagonal.
class LogDeterminant : public LocalRewriter {
 public:
  std::string name() const override { return "log_determinant"; }
  std::vector<std::string> tracks() const override { return {"log"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const auto* elemwise = dynamic_cast<const Elemwise*>(&node.op());
    if (!elemwise || elemwise->scalar_op().id != ScalarOpId::log) return {};
    const auto* determinant = produced_by<Determinant>(node.input(0));
    if (!determinant || determinant->logarithm() || determinant->factored()) return {};
    const Variable a = node.input(0).owner()->input(0);
    if (produced_by<Cholesky>(a))
      return if_same_type(sum(log(diagonal(a, 0, a.ndim() - 2, a.ndim() - 1)), Axes{a.ndim() - 2}), node.output(0));
    const SignLogDet parts = slogdet(a);
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    const Variable value = where(gt(parts.sign, 0.0), parts.logabsdet, where(eq(parts.sign, 0.0), -inf, nan));
    return if_same_type(value, node.output(0));
  }
};

// Whether `op` LU-factors its first input itself (a general solve, det, slogdet, an inverse).
bool factors_its_matrix(const Op& op) {
  if (const auto* inverse = dynamic_cast<const MatrixInverse*>(&op)) return !inverse->factored();
  if (const auto* det = dynamic_cast<const Determinant*>(&op)) return !det->factored();
  if (const auto* solve = dynamic_cast<const Solve*>(&op))
    return !solve->factored() && solve->options().structure == MatrixStructure::General;
  return false;
}

// The form of `node` (one that factors its matrix) that reads the LU factors `lu` (LuFactor's outputs)
// instead; empty where it would compute in another dtype than the factors.
std::vector<Variable> factored_form(const Apply& node, const std::vector<Variable>& lu) {
  if (lu[0].dtype() != node.output(0).dtype()) return {};
  std::vector<Variable> outputs;
  if (dynamic_cast<const MatrixInverse*>(&node.op()))
    outputs = apply_op(std::make_shared<MatrixInverse>(true), {lu[0], lu[1]}, node.where());
  else if (const auto* det = dynamic_cast<const Determinant*>(&node.op()))
    outputs = apply_op(std::make_shared<Determinant>(det->logarithm(), true), {lu[0], lu[1]}, node.where());
  else if (const auto* solve = dynamic_cast<const Solve*>(&node.op()))
    outputs = apply_op(std::make_shared<Solve>(solve->options(), solve->vector_rhs(), true), {lu[0], lu[1], node.input(1)},
                       node.where());
  for (size_t k = 0; k < outputs.size(); ++k)
    if (outputs[k].type() != node.output(k).type()) return {};
  return outputs;
}

// Ops that LU-factor one matrix in one dtype (general solves, of it or its transpose, det, slogdet, inverses)
// share one factorization: a likelihood's solve and log-determinant, and their gradients' solves, factor once.
int share_lu_factorizations(FunctionGraph& graph) {
  std::map<std::pair<const VariableNode*, DType>, std::vector<const Apply*>> readers;
  std::vector<std::pair<Variable, DType>> matrices;  // in first-use order
  for (const auto& node : graph.nodes()) {
    if (!factors_its_matrix(node->op())) continue;
    const DType dtype = node->output(0).dtype();  // (the dtype the op computes in)
    std::vector<const Apply*>& list = readers[{node->input(0).node(), dtype}];
    if (list.empty()) matrices.emplace_back(node->input(0), dtype);
    list.push_back(node.get());
  }
  std::vector<std::pair<Variable, Variable>> replacements;
  int changed = 0;
  for (const auto& [a, dtype] : matrices) {
    const std::vector<const Apply*>& nodes = readers[{a.node(), dtype}];
    if (nodes.size() < 2) continue;
    // (A float32 matrix solved against float64 right-hand sides is factored in float64.)
    const std::vector<Variable> lu =
        apply_op(std::make_shared<LuFactor>(), {a.dtype() == dtype ? a : cast(a, dtype)}, nodes[0]->where());
    for (const Apply* node : nodes) {
      const std::vector<Variable> outputs = factored_form(*node, lu);
      for (size_t k = 0; k < outputs.size(); ++k) replacements.emplace_back(node->output(k), outputs[k]);
      changed += !outputs.empty();
    }
  }
  if (!replacements.empty()) graph.replace_all(replacements);
  return changed;
}

}  // namespace

int rewrite_linear_algebra(FunctionGraph& graph) {
  const int changed = rewrite_to_equilibrium(
      graph, rewrite_set<InverseAsSolve, SolveWithFactor, DeterminantRewrites, InverseOfInverse, LogDeterminant>());
  return changed + share_lu_factorizations(graph);
}

}  // namespace hypatia
