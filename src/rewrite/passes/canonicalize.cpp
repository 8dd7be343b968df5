// Canonicalize: simplifications that keep every value exactly (identities, double negation, no-op
// casts, dimshuffles and reshapes, shapes read from the inputs' shapes, transposes lifted through
// elementwise ops, integer x - x, ifelse with a constant condition) and constants gathered in sums and
// products (exact for integers, within rounding for floats), so later passes see fewer forms of the
// same computation.
#include <algorithm>

#include "hypatia/elemwise.h"
#include "hypatia/shape_ops.h"
#include "ops/dimshuffle.h"
#include "ops/elemwise.h"
#include "ops/shape_query.h"
#include "rewrite/passes/passes.h"
#include "rewrite/patterns.h"
#include "rewrite/rewriter.h"

namespace hypatia {
namespace {

bool is_scalar_op(const Apply& node, ScalarOpId id) {
  const auto* op = dynamic_cast<const Elemwise*>(&node.op());
  return op && op->scalar_op().id == id;
}


// x op c -> x when c is the identity of op and the result is x's type exactly. For floats the zero's
// sign matters: x + (-0.0) and x - 0.0 are x for every x, x + 0.0 is not (-0.0 + 0.0 is +0.0).
class IdentityOperand : public LocalRewriter {
 public:
  std::string name() const override { return "identity_operand"; }
  std::vector<std::string> tracks() const override { return {"add", "sub", "mul", "true_div", "pow"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const auto* op = dynamic_cast<const Elemwise*>(&node.op());
    if (!op || node.inputs().size() != 2) return {};
    const Variable &a = node.input(0), &b = node.input(1), &out = node.output(0);
    auto keep = [&](const Variable& x) { return x.type() == out.type() ? std::vector<Variable>{x} : std::vector<Variable>{}; };
    const double additive_zero = is_float(out.dtype()) ? -0.0 : 0.0;
    switch (op->scalar_op().id) {
      case ScalarOpId::add:
        if (is_scalar_constant(b, additive_zero)) return keep(a);
        if (is_scalar_constant(a, additive_zero)) return keep(b);
        break;
      case ScalarOpId::mul:
        if (is_scalar_constant(b, 1)) return keep(a);
        if (is_scalar_constant(a, 1)) return keep(b);
        break;
      case ScalarOpId::sub:
        if (is_scalar_constant(b, 0.0)) return keep(a);
        break;
      case ScalarOpId::true_div:
      case ScalarOpId::pow:
        if (is_scalar_constant(b, 1)) return keep(a);
        break;
      default:
        break;
    }
    return {};
  }
};

// Constants gathered in sums and products: (x * 2) * 3 is x * (2 * 3) and (x + 1) - 4 is x + (1 + -4);
// constant folding then makes one constant, one operation fewer per element. Exact for integers
// (their arithmetic wraps); for floats the constants' combination rounds once where the graph as
// built rounded twice (and an overflow between them is gone), "within rounding" as PyTensor's
// canonicalizer has it. Float sums gather only
// constants of one sign, so no constant cancels another (x + 1e20 - 1e20 stays as written).
class GatherConstants : public LocalRewriter {
 public:
  std::string name() const override { return "gather_constants"; }
  std::vector<std::string> tracks() const override { return {"add", "sub", "mul"}; }
  std::vector<Variable> transform(const FunctionGraph& graph, const Apply& node) const override {
    const DType dtype = node.output(0).dtype();
    const bool product = is_scalar_op(node, ScalarOpId::mul);
    if (dtype == DType::Bool || !continues_chain(node, product, dtype)) return {};
    // Only the chain's last node gathers (the nodes it reads are then gone): linear in the chain.
    const auto& clients = graph.clients(node.output(0));
    if (clients.size() == 1 && clients[0].node && continues_chain(*clients[0].node, product, dtype)) return {};
    // The operands of the chain's nodes (the nodes of the same kind only the chain reads; x - c adds
    // the constant -c), left to right.
    std::vector<Variable> terms;
    Variable constant_part;
    int constants = 0;
    bool has_positive = false, has_negative = false;
    std::vector<std::pair<const Apply*, int>> stack = {{&node, 0}};  // node, next operand
    while (!stack.empty()) {
      const Apply* chain = stack.back().first;
      const int k = stack.back().second++;
      if (k == 2) {
        stack.pop_back();
        continue;
      }
      const bool negated = is_scalar_op(*chain, ScalarOpId::sub) && k == 1;
      const Variable& v = chain->input(k);
      if (v.is_constant() && v.type().has_one_element()) {
        Variable c = folded(v.dtype() == dtype ? v : cast(v, dtype));
        if (negated) c = folded(neg(c));
        const double value = c.constant_value().get_as_double(0);
        has_positive = has_positive || value > 0;
        has_negative = has_negative || value < 0;
        constant_part = constants++ == 0 ? c : folded(product ? mul(constant_part, c) : add(constant_part, c));
        continue;
      }
      if (negated) return {};  // x - y: y's sign cannot be carried
      std::shared_ptr<Apply> owner = v.owner();
      // (A node of constants alone is constant folding's: gathering it would make it again.)
      const bool all_constant = owner && owner->inputs().size() == 2 && owner->input(0).is_constant() && owner->input(1).is_constant();
      if (owner && continues_chain(*owner, product, dtype) && !all_constant && only_reader_is(graph, v, *chain))
        stack.emplace_back(owner.get(), 0);
      else
        terms.push_back(v);
    }
    if (constants < 2 || terms.empty() || (is_float(dtype) && !product && has_positive && has_negative)) return {};
    Variable result = terms[0];
    for (size_t k = 1; k < terms.size(); ++k) result = product ? mul(result, terms[k]) : add(result, terms[k]);
    result = product ? mul(result, constant_part) : add(result, constant_part);
    if (result.type() != node.output(0).type()) return {};
    return {result};
  }

 private:
  // A node of the sum (add, or sub of a constant) or product (mul) of this dtype.
  static bool continues_chain(const Apply& node, bool product, DType dtype) {
    if (node.inputs().size() != 2 || node.num_outputs() != 1 || node.output(0).dtype() != dtype) return false;
    if (product) return is_scalar_op(node, ScalarOpId::mul);
    return is_scalar_op(node, ScalarOpId::add) || (is_scalar_op(node, ScalarOpId::sub) && node.input(1).is_constant());
  }
  // An expression of constants as one constant, computed by its op as the program would; `v` itself
  // when it does not fold.
  static Variable folded(const Variable& v) {
    std::shared_ptr<Apply> owner = v.owner();
    if (!owner) return v;
    std::vector<const Variable*> values;
    for (const Variable& input : owner->inputs()) values.push_back(&input);
    std::vector<Variable> result = fold_node(*owner, values);
    return result.empty() ? v : result[v.index()];
  }
};

// x - x is 0 for integers. (For floats it is NaN where x is infinite or NaN, an idiom some code relies
// on to find them, so it stays; PyTensor drops it.)
class IntegerSubtractionOfItself : public LocalRewriter {
 public:
  std::string name() const override { return "integer_subtraction_of_itself"; }
  std::vector<std::string> tracks() const override { return {"sub"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const Variable out = node.output(0);
    if (!is_integer(out.dtype()) || !node.input(0).is(node.input(1)) || node.input(0).type() != out.type()) return {};
    return {zeros_like(node.input(0))};
  }
};

// reshape(x, shape) -> x when the shape is x's own: shape(x), or a vector whose entries are x's
// dimensions (shape_i(x, k) or the constant x's type declares). A -1 is not accepted: NumPy rejects
// it for empty arrays, and the rewrite must keep that error.
class UselessReshape : public LocalRewriter {
 public:
  std::string name() const override { return "useless_reshape"; }
  std::vector<std::string> tracks() const override { return {"reshape"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const Variable &x = node.input(0), &shape = node.input(1);
    if (x.type() != node.output(0).type() && !node.output(0).type().is_supertype_of(x.type())) return {};
    std::shared_ptr<Apply> owner = shape.owner();
    if (!owner || x.ndim() != node.output(0).ndim()) return {};
    if (owner->op().name() == "shape" && owner->input(0).is(x)) return {x};
    if (owner->op().name() != "make_vector" || static_cast<int>(owner->inputs().size()) != x.ndim()) return {};
    for (int k = 0; k < x.ndim(); ++k) {
      const Variable& entry = owner->input(k);
      std::shared_ptr<Apply> entry_owner = entry.owner();
      const bool reads_dimension_k = entry_owner && shape_i_axis(entry_owner->op()) == k && entry_owner->input(0).is(x);
      const int64_t declared = x.type().shape[k];
      const bool is_declared_size = declared != TensorType::kUnknown && entry.is_constant() &&
                                    entry.type().has_one_element() && entry.constant_value().get_as_double(0) == declared;
      if (!reads_dimension_k && !is_declared_size) return {};
    }
    return {x};
  }
};

// ifelse(constant, a, b) -> a or b: the branch is known before the function runs.
class ConstantBranch : public LocalRewriter {
 public:
  std::string name() const override { return "constant_branch"; }
  std::vector<std::string> tracks() const override { return {"if_else"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const Variable& condition = node.input(0);
    if (!condition.is_constant()) return {};
    const size_t n = node.num_outputs(), first = condition.constant_value().item() != 0 ? 1 : 1 + n;
    // Only when the branch broadcasts like the ifelse's output (a static size 1 the other branch lacks
    // would change how the readers broadcast).
    for (size_t k = 0; k < n; ++k)
      for (int axis = 0; axis < node.output(k).ndim(); ++axis)
        if (node.input(first + k).type().broadcastable(axis) != node.output(k).type().broadcastable(axis)) return {};
    return std::vector<Variable>(node.inputs().begin() + first, node.inputs().begin() + first + n);
  }
};

// shape_i(v, k) of a computed v: its op's infer_shape gives the dimension from the inputs' shapes, so
// v need not be computed for its shape (Theano's shape feature, one dimension at a time; the sweeps
// carry it back to the roots). Ops whose rule reads their own output are left alone.
class ShapeOfComputedValue : public LocalRewriter {
 public:
  std::string name() const override { return "shape_of_computed_value"; }
  std::vector<std::string> tracks() const override { return {"shape_i"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const int axis = shape_i_axis(node.op());
    const Variable& value = node.input(0);
    std::shared_ptr<Apply> owner = value.owner();
    if (axis < 0 || !owner) return {};
    Variable dim = inferred_dimension(*owner, static_cast<size_t>(value.index()), axis);
    return dim ? std::vector<Variable>{dim} : std::vector<Variable>{};
  }
};

// shape(v) -> [shape_i(v, 0), ...]: each dimension is then known statically or read from the inputs v
// was computed from, so v is not computed for its shape (Theano's shape feature).
class ShapeAsDimensions : public LocalRewriter {
 public:
  std::string name() const override { return "shape_as_dimensions"; }
  std::vector<std::string> tracks() const override { return {"shape"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const Variable& value = node.input(0);
    if (!is_shape(node.op()) || value.ndim() == 0) return {};
    std::vector<Operand> dims;
    for (int axis = 0; axis < value.ndim(); ++axis) {
      const int64_t known = value.type().shape[axis];
      dims.emplace_back(known != TensorType::kUnknown ? constant(static_cast<double>(known), DType::Int64) : shape_i(value, axis));
    }
    return {make_vector(dims)};
  }
};

// -(-x) -> x.
class DoubleNegation : public LocalRewriter {
 public:
  std::string name() const override { return "double_negation"; }
  std::vector<std::string> tracks() const override { return {"neg"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    auto inner = elemwise_producer(node.input(0), ScalarOpId::neg);
    if (!inner) return {};
    const Variable& x = inner->input(0);
    if (x.type() != node.output(0).type()) return {};
    return {x};
  }
};

// cast(x, dtype of x) -> x.
class UselessCast : public LocalRewriter {
 public:
  std::string name() const override { return "useless_cast"; }
  std::vector<std::string> tracks() const override { return {"cast"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const Variable& x = node.input(0);
    if (!is_scalar_op(node, ScalarOpId::cast) || x.type() != node.output(0).type()) return {};
    return {x};
  }
};

// dimshuffle(x, (0, 1, ..., n-1)) -> x; dimshuffle(dimshuffle(x, p), q) -> dimshuffle(x, p o q).
class DimShuffleRewrites : public LocalRewriter {
 public:
  std::string name() const override { return "dimshuffle_rewrites"; }
  std::vector<std::string> tracks() const override { return {"dimshuffle"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const auto& op = static_cast<const DimShuffle&>(node.op());
    const Variable& x = node.input(0);
    std::vector<int> pattern = op.pattern();
    bool identity = static_cast<int>(pattern.size()) == x.ndim();
    for (size_t i = 0; i < pattern.size() && identity; ++i) identity = pattern[i] == static_cast<int>(i);
    if (identity && x.type() == node.output(0).type()) return {x};
    auto inner = x.owner();
    if (!inner || !dynamic_cast<const DimShuffle*>(&inner->op())) return {};
    const std::vector<int>& first = static_cast<const DimShuffle&>(inner->op()).pattern();
    std::vector<int> composed;
    for (int axis : pattern) composed.push_back(axis == kNewAxis ? kNewAxis : first[axis]);
    Variable result = apply_op1(std::make_shared<DimShuffle>(composed), {inner->input(0)});
    if (result.type() != node.output(0).type()) return {};
    return {result};
  }
};

// f(x.T, y.T) -> f(x, y).T: an elementwise op of operands transposed alike (the same permutation,
// no axes added or dropped; scalar-shaped operands may stand beside them) runs on the untransposed
// operands, often contiguous, and the result is a view. Transposes then meet and cancel.
class LiftTransposeThroughElemwise : public LocalRewriter {
 public:
  std::string name() const override { return "lift_transpose_through_elemwise"; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const auto* elemwise = dynamic_cast<const Elemwise*>(&node.op());
    if (!elemwise || node.output(0).ndim() < 2) return {};
    std::vector<int> permutation;
    std::vector<Variable> inputs;
    for (const Variable& input : node.inputs()) {
      const bool scalar_shaped = input.type().has_one_element();
      std::shared_ptr<Apply> owner = input.owner();
      const auto* shuffle = owner ? dynamic_cast<const DimShuffle*>(&owner->op()) : nullptr;
      const bool is_permutation = shuffle && static_cast<int>(shuffle->pattern().size()) == owner->input(0).ndim() &&
                                  std::find(shuffle->pattern().begin(), shuffle->pattern().end(), kNewAxis) ==
                                      shuffle->pattern().end();
      if (is_permutation && (permutation.empty() || permutation == shuffle->pattern())) {
        permutation = shuffle->pattern();
        inputs.push_back(owner->input(0));
      } else if (scalar_shaped) {
        inputs.push_back(input);  // the same under any permutation
      } else {
        return {};
      }
    }
    if (permutation.empty()) return {};
    bool identity = true;
    for (size_t i = 0; i < permutation.size(); ++i) identity = identity && permutation[i] == static_cast<int>(i);
    if (identity) return {};
    Variable inner = apply_op1(node.op_ptr(), inputs);
    Variable result = apply_op1(std::make_shared<DimShuffle>(permutation), {inner});
    if (result.type() != node.output(0).type()) return {};
    return {result};
  }
};

// second(a, b) -> b when the static types prove there is nothing to broadcast and nothing to check:
// a's shape is fully known and b already has the result's type.
class UselessSecond : public LocalRewriter {
 public:
  std::string name() const override { return "useless_second"; }
  std::vector<std::string> tracks() const override { return {"second"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const Variable &a = node.input(0), &b = node.input(1);
    for (int64_t dim : a.type().shape)
      if (dim == TensorType::kUnknown) return {};
    if (b.type() != node.output(0).type()) return {};
    return {b};
  }
};

// second(e, c) reads e only for its shape (what the gradients of L1/L2 penalties produce: second(sqr(W),
// c), second(abs(W), 0)): when e is elementwise and one of its inputs has e's type, that input gives the
// shape; when e comes from another op, alloc(c, shape(e)) gives it, and shape_i of e is then read from
// e's inputs (Theano's local_fill_sink / local_fill_to_alloc). Either way e is not computed for it.
class ShapeOnlySecond : public LocalRewriter {
 public:
  std::string name() const override { return "shape_only_second"; }
  std::vector<std::string> tracks() const override { return {"second"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const Variable &shaped = node.input(0), &value = node.input(1);
    std::shared_ptr<Apply> producer = shaped.owner();
    if (!producer) return {};
    if (dynamic_cast<const Elemwise*>(&producer->op())) {
      for (const Variable& input : producer->inputs())
        if (input.type() == shaped.type()) return {second(input, value)};
      return {};
    }
    if (shaped.ndim() == 0 || value.ndim() > shaped.ndim() || shape_i_axis(producer->op()) >= 0) return {};
    for (int64_t dim : value.type().shape)
      if (dim != 1) return {};  // a value that is not a broadcast scalar may shape the result too
    std::vector<Operand> shape;
    for (int axis = 0; axis < shaped.ndim(); ++axis) shape.emplace_back(shape_i(shaped, axis));
    return {alloc(value, shape)};
  }
};

// A node whose inputs are all constants becomes constants.
class FoldConstants : public LocalRewriter {
 public:
  std::string name() const override { return "fold_constants"; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    std::vector<const Variable*> values;
    for (const Variable& input : node.inputs()) values.push_back(input.is_constant() ? &input : nullptr);
    return fold_node(node, values);
  }
};

}  // namespace

int canonicalize(FunctionGraph& graph) {
  const RewriteSet& rewrites =
      rewrite_set<IdentityOperand, DoubleNegation, UselessCast, DimShuffleRewrites, UselessSecond, ShapeOnlySecond,
                  ShapeOfComputedValue, ShapeAsDimensions,
                  LiftTransposeThroughElemwise, GatherConstants, IntegerSubtractionOfItself, UselessReshape,
                  ConstantBranch, FoldConstants>();
  return rewrite_to_equilibrium(graph, rewrites);
}

}  // namespace hypatia
