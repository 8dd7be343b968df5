// Specialize: general ops with particular arguments become cheaper ops that compute the same values.
#include "hypatia/elemwise.h"
#include "hypatia/reduce.h"
#include "hypatia/blas.h"
#include "hypatia/shape_ops.h"
#include "ops/blas.h"
#include "ops/dimshuffle.h"
#include "ops/elemwise.h"
#include "ops/nnet.h"
#include "ops/reduce.h"
#include "ops/sparse.h"
#include "rewrite/passes/passes.h"
#include "rewrite/patterns.h"
#include "rewrite/rewriter.h"

#include <cmath>
#include <optional>

namespace hypatia {
namespace {

// x ** c for c in {-1, 2, 3, 4}: reciprocal and square (the same values as pow), and products for cubes
// and fourth powers (exact for integers, within rounding for floats, as PyTensor does). x ** 0.5 stays:
// sqrt differs from pow at -0.0 and -inf.
class PowByConstant : public LocalRewriter {
 public:
  std::string name() const override { return "pow_by_constant"; }
  std::vector<std::string> tracks() const override { return {"pow"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const Variable &x = node.input(0), &exponent = node.input(1);
    double c = 0;
    for (double candidate : {2.0, 3.0, 4.0, -1.0})
      if (is_scalar_constant(exponent, candidate)) c = candidate;
    if (c == 0) return {};
    Variable result;
    if (c == 2) result = sqr(x);
    else if (c == 3) result = mul(sqr(x), x);
    else if (c == 4) result = sqr(sqr(x));
    else if (c == -1 && is_float(x.dtype())) result = reciprocal(x);
    if (!result || result.type() != node.output(0).type()) return {};
    return {result};
  }
};

// A matrix product, perhaps scaled: dot(x, y), a * dot(x, y) or dot(x, y) * a, read only by `reader`.
struct ScaledProduct {
  std::shared_ptr<Apply> dot;
  Variable scale;  // null for 1
};

std::optional<ScaledProduct> scaled_product(const FunctionGraph& graph, const Variable& term, const Apply& reader) {
  // Matrix products, and matrix-vector products (GEMV, computed as a GEMM with one column).
  auto is_matrix_dot = [&](const std::shared_ptr<Apply>& node) {
    if (!node || !(dynamic_cast<const Dot*>(&node->op()) || is_sparse_dense_product(*node))) return false;
    const int a = node->input(0).ndim(), b = node->input(1).ndim();
    return (a == 2 || b == 2) && node->input(0).dtype() == term.dtype() && node->input(1).dtype() == term.dtype();
  };
  if (!only_reader_is(graph, term, reader)) return std::nullopt;
  if (is_matrix_dot(term.owner())) return ScaledProduct{term.owner(), Variable()};
  std::shared_ptr<Apply> product = elemwise_producer(term, ScalarOpId::mul);
  if (!product) return std::nullopt;
  for (int side = 0; side < 2; ++side) {
    const Variable &scale = product->input(side), &other = product->input(1 - side);
    if (scale.type().has_one_element() && scale.dtype() == term.dtype() && is_matrix_dot(other.owner()) &&
        only_reader_is(graph, other, *product))
      return ScaledProduct{other.owner(), scale};
  }
  return std::nullopt;
}

// z + a * dot(x, y), z - a * dot(x, y), a * dot(x, y) - z (and without a), for matrices and for a
// matrix times a vector (GEMV as a one-column GEMM): one GEMM, beta * z +
// alpha * x @ y, when z has the product's shape (a broadcast z stays for fusion) and nothing else
// reads the product. BLAS then reads z once and writes the result once.
class DotToGemm : public LocalRewriter {
 public:
  std::string name() const override { return "dot_to_gemm"; }
  std::vector<std::string> tracks() const override { return {"add", "sub"}; }
  std::vector<Variable> transform(const FunctionGraph& graph, const Apply& node) const override {
    const Variable out = node.output(0);
    if (!is_float(out.dtype()) || (out.ndim() != 2 && out.ndim() != 1)) return {};
    const bool subtract = node.op().name() == "sub";
    for (int side = 0; side < 2; ++side) {
      const Variable &term = node.input(side), &z = node.input(1 - side);
      if (z.dtype() != out.dtype() || z.ndim() != out.ndim()) continue;
      bool broadcasts = false;
      for (int axis = 0; axis < out.ndim(); ++axis)
        broadcasts = broadcasts || (z.type().shape[axis] == 1 && out.type().shape[axis] != 1);
      if (broadcasts) continue;
      auto product = scaled_product(graph, term, node);
      // GEMM works in one dtype: a float32 product added to a float64 z is upcast first, and stays so.
      if (!product || product->dot->output(0).dtype() != out.dtype()) continue;
      const DType dtype = out.dtype();
      Variable alpha = product->scale ? product->scale : constant(1.0, dtype);
      if (is_sparse_dense_product(*product->dot)) {
        // Theano's usmm: z + alpha * a @ b with a sparse a, added into z (only the rows a stores change).
        if ((subtract && side == 0) || out.ndim() != 2) continue;
        bool product_broadcasts = false;  // a one-row product added to every row of z: the sum stays elementwise
        for (int axis = 0; axis < 2; ++axis)
          product_broadcasts = product_broadcasts || (product->dot->output(0).type().shape[axis] == 1 && out.type().shape[axis] != 1);
        if (product_broadcasts) continue;
        if (subtract) alpha = neg(alpha);
        if (alpha.ndim() != 0) alpha = reshape(alpha, std::vector<Operand>{});
        const Variable result = usmm(z, alpha, product->dot->input(0), product->dot->input(1), node.where());
        if (!out.type().is_supertype_of(result.type())) return {};
        return {result};
      }
      Variable beta = constant(1.0, dtype);
      if (subtract && side == 1) alpha = neg(alpha);  // z - a * x @ y
      if (subtract && side == 0) beta = constant(-1.0, dtype);  // a * x @ y - z
      Variable x = product->dot->input(0), y = product->dot->input(1), z_matrix = z;
      // A vector result: the vector operand as a column (A @ v) or a row (v @ A), z likewise.
      const bool column = out.ndim() == 1 && y.ndim() == 1, row = out.ndim() == 1 && x.ndim() == 1;
      if (column) {
        y = dimshuffle(y, {0, kNewAxis});
        z_matrix = dimshuffle(z, {0, kNewAxis});
      } else if (row) {
        x = dimshuffle(x, {kNewAxis, 0});
        z_matrix = dimshuffle(z, {kNewAxis, 0});
      }
      // A transposed z (gradients often are: dot(a, b).T + x @ y) is updated through its own buffer:
      // (z.T + x @ y) is (z + y.T @ x.T).T, so GEMM writes in place instead of copying z first.
      bool transposed = false;
      if (const auto owner = z_matrix.owner(); owner && out.ndim() == 2)
        if (const auto* shuffle = dynamic_cast<const DimShuffle*>(&owner->op());
            shuffle && shuffle->pattern() == std::vector<int>{1, 0} && owner->input(0).ndim() == 2) {
          transposed = true;
          z_matrix = owner->input(0);
          std::swap(x, y);
          x = dimshuffle(x, {1, 0});
          y = dimshuffle(y, {1, 0});
        }
      Variable gemm = apply_op1(std::make_shared<Gemm>(), {z_matrix, alpha, x, y, beta}, node.where());
      if (transposed) gemm = dimshuffle(gemm, {1, 0});
      if (column) gemm = dimshuffle(gemm, {0});
      if (row) gemm = dimshuffle(gemm, {1});
      // The same broadcast pattern (a product of a one-row x is not a z-shaped result).
      for (int axis = 0; axis < out.ndim(); ++axis)
        if ((gemm.type().shape[axis] == 1) != (out.type().shape[axis] == 1)) return {};
      if (!out.type().is_supertype_of(gemm.type())) return {};
      return {gemm};
    }
    return {};
  }
};

// Sums of products that are matrix and vector products: sum(u * v) of vectors is dot(u, v);
// sum(A * v[None, :], 1) is A @ v and sum(A * v[:, None], 0) is v @ A; sum(X[:, :, None] * Y[None, :, :], 1)
// is X @ Y, and likewise with the axes permuted. BLAS does the work and no product array exists.
// Broadcasting is static (a type's size-1 axes), so the operands' shapes are those of the product.
class SumOfProductToDot : public LocalRewriter {
 public:
  std::string name() const override { return "sum_of_product_to_dot"; }
  std::vector<std::string> tracks() const override { return {"sum"}; }
  std::vector<Variable> transform(const FunctionGraph& graph, const Apply& node) const override {
    const std::vector<int>& axes = static_cast<const Reduce&>(node.op()).axes();
    const Variable& product = node.input(0);
    const Variable out = node.output(0);
    std::shared_ptr<Apply> mul = elemwise_producer(product, ScalarOpId::mul);
    const int d = product.ndim();
    if (!mul || !only_reader_is(graph, product, node) || !is_float(out.dtype()) || axes.size() != 1 || d < 1 || d > 3)
      return {};
    for (const Variable& operand : mul->inputs())
      if (operand.dtype() != out.dtype()) return {};
    // Whether an operand broadcasts along an axis of the product (axes it lacks count as broadcast).
    auto broadcasts = [d](const Variable& v, int axis) {
      const int offset = d - v.ndim();
      return axis < offset || v.type().shape[axis - offset] == 1;
    };
    // The operand without the product's axis `dropped` (which it broadcasts along), its axes in order.
    auto without = [d](const Variable& v, int dropped) {
      const int offset = d - v.ndim();
      std::vector<int> pattern;
      for (int axis = std::max(offset, 0); axis < d; ++axis)
        if (axis != dropped) pattern.push_back(axis - offset);
      return dimshuffle(v, pattern);
    };
    const int r = axes[0];
    Variable result;
    for (int side = 0; side < 2 && !result; ++side) {
      const Variable &a = mul->input(side), &b = mul->input(1 - side);
      if (broadcasts(a, r) || broadcasts(b, r)) return {};
      if (d == 1 && side == 0) {
        result = dot(a, b);
      } else if (d == 2) {  // b is a vector along r, a a matrix
        const int other = 1 - r;
        if (broadcasts(a, other) || !broadcasts(b, other)) continue;
        result = r == 1 ? dot(a, without(b, other)) : dot(without(b, other), a);
      } else if (d == 3) {  // kept axes p < q: a spans (p, r), b spans (r, q)
        const int p = r == 0 ? 1 : 0, q = r == 2 ? 1 : 2;
        if (broadcasts(a, p) || !broadcasts(a, q) || !broadcasts(b, p) || broadcasts(b, q)) continue;
        Variable left = without(a, q), right = without(b, p);
        if (r < p) left = left.T();
        if (q < r) right = right.T();
        result = dot(left, right);
      }
    }
    if (!result || !out.type().is_supertype_of(result.type())) return {};
    return {result};
  }
};

// softmax and log_softmax as the max, exp, sum and division they are (with the reference's shift by
// the max, a -inf max counting as 0), so fusion and the generated kernels take them: the exp is
// reduced as it is computed, and the last step is one fused loop.
class SoftmaxToPrimitives : public LocalRewriter {
 public:
  std::string name() const override { return "softmax_to_primitives"; }
  std::vector<std::string> tracks() const override { return {"softmax", "log_softmax"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const auto& softmax_op = static_cast<const Softmax&>(node.op());
    const Variable& x = node.input(0);
    const int axis = softmax_op.axis();
    // initial=-inf: an empty axis gives an empty result, as softmax does, instead of max's error.
    Variable peak = reduce(ReduceKind::Max, x, std::vector<int>{axis}, /*keepdims=*/true, -INFINITY);
    Variable shift = where(isinf(peak) & (peak < 0), 0, peak);
    Variable shifted = x - shift;
    Variable result = softmax_op.log() ? shifted - log(sum(exp(shifted), axis, /*keepdims=*/true))
                                       : exp(shifted) / sum(exp(shifted), axis, /*keepdims=*/true);
    if (result.type() != node.output(0).type()) return {};
    return {result};
  }
};

}  // namespace

int specialize(FunctionGraph& graph) {
  return rewrite_to_equilibrium(graph, rewrite_set<PowByConstant, DotToGemm, SumOfProductToDot, SoftmaxToPrimitives>());
}

}  // namespace hypatia
