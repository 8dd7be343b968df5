// Zeros by construction cost nothing. The gradient through a floor, an integer division or zero_grad is
// zeros_like(x) (second(x, 0)), and what it meets downstream — products, quotients, sums, dots, indexed
// increments, additions to other gradients — would otherwise compute zeros over whole tensors (one
// Theano program spent 3x PyTensor's time on such a gradient of a (10, 784, 500) tensor). Here
// 0 * x, 0 / x, sum(0), dot(0, x) become zeros of the result's shape (alloc, which reads no data) and
// x + 0, x - 0, inc_subtensor(x, 0) become x, and inc_subtensor(zeros, v, idx)[idx] is v. As in Theano
// (local_mul_zero, local_zero_div, local_0_dot_x), NaNs and infinities in x do not survive a product with a
// zero by construction.
#include "hypatia/elemwise.h"
#include "hypatia/shape_ops.h"
#include "ops/blas.h"
#include "ops/dimshuffle.h"
#include "ops/elemwise.h"
#include "ops/op_support.h"
#include "ops/reduce.h"
#include "ops/shape_query.h"
#include "ops/subtensor.h"
#include "rewrite/passes/passes.h"
#include "rewrite/patterns.h"
#include "rewrite/rewriter.h"

namespace hypatia {
namespace {

bool all_elements_zero(const Array& value) {
  if (value.is_sparse()) return false;  // a sparse constant is never replaced by zeros of a dense op
  const Array values = value.astype(DType::Complex128).contiguous();  // holds every dtype's values
  const auto* data = values.data<std::complex<double>>();
  for (int64_t i = 0; i < values.size(); ++i)
    if (data[i] != 0.0) return false;
  return true;
}

}  // namespace

// v is zero everywhere by construction: a zero constant, or a zero broadcast, cast, negated,
// rearranged or reshaped.
bool is_known_zero(const Variable& v) {
  if (v.is_constant()) return all_elements_zero(v.constant_value());
  std::shared_ptr<Apply> owner = v.owner();
  if (!owner) return false;
  if (const auto* elemwise = dynamic_cast<const Elemwise*>(&owner->op())) {
    switch (elemwise->scalar_op().id) {
      case ScalarOpId::second: return is_known_zero(owner->input(1));
      case ScalarOpId::cast:
      case ScalarOpId::neg: return is_known_zero(owner->input(0));
      default: return false;
    }
  }
  if (dynamic_cast<const DimShuffle*>(&owner->op()) || is_alloc(owner->op()) || is_reshape(owner->op()))
    return is_known_zero(owner->input(0));
  return false;
}

namespace {


// Zeros of the type and shape of the node's first output, the shape computed from the inputs' shapes
// (the op's infer_shape), so neither the output nor the inputs' values are computed for it. Null when
// the op cannot say.
Variable zeros_shaped_like(const Apply& node) {
  const Variable& out = node.output(0);
  std::vector<Operand> shape;
  for (int axis = 0; axis < out.ndim(); ++axis) {
    if (out.type().shape[axis] != TensorType::kUnknown) {  // a size the type knows stays known
      shape.emplace_back(constant(static_cast<double>(out.type().shape[axis]), DType::Int64));
      continue;
    }
    Variable dim = inferred_dimension(node, 0, axis);
    if (!dim) return Variable();
    shape.emplace_back(dim);
  }
  return zeros(shape, out.dtype());
}

std::vector<Variable> zeros_for(const Apply& node) {
  Variable zero = zeros_shaped_like(node);
  return zero ? std::vector<Variable>{zero} : std::vector<Variable>{};
}

class ElemwiseOfZeros : public LocalRewriter {
 public:
  std::string name() const override { return "elemwise_of_zeros"; }
  std::vector<std::string> tracks() const override { return {"mul", "true_div", "int_div", "add", "sub", "neg"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const auto* op = dynamic_cast<const Elemwise*>(&node.op());
    if (!op) return {};
    const Variable& out = node.output(0);
    auto zero = [&](size_t i) { return i < node.inputs().size() && is_known_zero(node.input(i)); };
    // x + c and x - c for a constant c are canonicalize's: the sign of a zero matters there (-0.0 + 0.0).
    auto built_zero = [&](size_t i) { return zero(i) && !node.input(i).is_constant(); };
    auto keep = [&](const Variable& x) { return x.type() == out.type() ? std::vector<Variable>{x} : std::vector<Variable>{}; };
    switch (op->scalar_op().id) {
      case ScalarOpId::mul:
        if (zero(0) || zero(1)) return zeros_for(node);
        break;
      case ScalarOpId::true_div:
      case ScalarOpId::int_div:
      case ScalarOpId::neg:
        if (zero(0)) return zeros_for(node);
        break;
      case ScalarOpId::add:
        if (built_zero(0) && built_zero(1)) return zeros_for(node);
        if (built_zero(1)) return keep(node.input(0));
        if (built_zero(0)) return keep(node.input(1));
        break;
      case ScalarOpId::sub:
        if (built_zero(0) && built_zero(1)) return zeros_for(node);
        if (built_zero(1)) return keep(node.input(0));
        if (built_zero(0) && node.input(1).type() == out.type()) return {neg(node.input(1))};
        break;
      default:
        break;
    }
    return {};
  }
};

// sum(0) and dot(0, x) are zeros.
class ReductionAndProductOfZeros : public LocalRewriter {
 public:
  std::string name() const override { return "reduction_and_product_of_zeros"; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    if (const auto* reduce = dynamic_cast<const Reduce*>(&node.op())) {
      if (reduce->kind() == ReduceKind::Sum && is_known_zero(node.input(0))) return zeros_for(node);
      return {};
    }
    if (dynamic_cast<const Dot*>(&node.op()) && (is_known_zero(node.input(0)) || is_known_zero(node.input(1))))
      return zeros_for(node);
    return {};
  }
};

// inc_subtensor(x, 0) is x (a gradient of indexing whose incoming gradient is zero).
class IncrementByZeros : public LocalRewriter {
 public:
  std::string name() const override { return "increment_by_zeros"; }
  std::vector<std::string> tracks() const override { return {"inc_subtensor", "inc_take"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const auto* basic = dynamic_cast<const IncSubtensor*>(&node.op());
    const auto* advanced = dynamic_cast<const AdvancedIncSubtensor*>(&node.op());
    const bool increments = (basic && !basic->sets()) || (advanced && !advanced->sets());
    if (!increments || !is_known_zero(node.input(1)) || node.input(0).type() != node.output(0).type()) return {};
    return {node.input(0)};
  }
};

// inc_subtensor(zeros, v, idx)[idx] (or set_subtensor's) is v, for slices idx: what is read back is what
// was written, and around it are zeros no one reads (checked to fit the region, as the increment was). A
// scan's gradient builds this: the cotangent of the trajectory is zeros with the rows after the initial
// states incremented, and the backward loop reads just those rows (two passes over the trajectory's size,
// 0.5 ms of the Elman RNN's 5.6 ms step, for nothing).
class ReadBackOfIncrementedZeros : public LocalRewriter {
 public:
  std::string name() const override { return "read_back_of_incremented_zeros"; }
  std::vector<std::string> tracks() const override { return {"subtensor"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const auto* read = dynamic_cast<const Subtensor*>(&node.op());
    const std::shared_ptr<Apply> written_node = node.input(0).owner();
    const auto* written = written_node ? dynamic_cast<const IncSubtensor*>(&written_node->op()) : nullptr;
    if (!read || !written || read->entries().size() != written->entries().size()) return {};
    const Variable& base = written_node->input(0);
    const Variable& value = written_node->input(1);
    // Zeros built (a constant's sign of zero would matter: +0 + -0 is +0), and a value of the region's type
    // (Theano's broadcasting rule stretches only axes that are statically 1, and those would differ in type).
    if (!is_known_zero(base) || base.is_constant() || value.type() != node.output(0).type()) return {};
    const std::shared_ptr<Apply> alloc_node = base.owner() && is_alloc(base.owner()->op()) ? base.owner() : nullptr;
    auto same = [](const Variable& a, const Variable& b) {
      const auto x = constant_int(a), y = constant_int(b);
      return (x && y && *x == *y) || computes_the_same(a, b);
    };
    // True when `bound` is the length of x's axis: a stop that reads to the end.
    auto whole_length = [&](const Variable& bound, size_t axis) {
      if (alloc_node && alloc_node->inputs().size() == 1 + static_cast<size_t>(base.ndim()) &&
          computes_the_same(bound, alloc_node->input(1 + axis)))
        return true;
      const auto stop = constant_int(bound);
      return stop && base.type().shape[axis] != TensorType::kUnknown && *stop >= base.type().shape[axis];
    };
    // A slice entry's bounds, its index inputs read from `next` on.
    struct Bounds {
      std::optional<Variable> start, stop, step;
    };
    auto bounds = [](const Apply& indexing, const BasicIndex& entry, size_t& next) {
      Bounds b;
      if (entry.has_start) b.start = indexing.input(next++);
      if (entry.has_stop) b.stop = indexing.input(next++);
      if (entry.has_step) b.step = indexing.input(next++);
      return b;
    };
    size_t r = 1, w = 2;  // the next index input of each
    for (size_t axis = 0; axis < read->entries().size(); ++axis) {
      if (read->entries()[axis].is_integer || written->entries()[axis].is_integer) return {};  // (out of bounds must still fail)
      const Bounds a = bounds(node, read->entries()[axis], r), b = bounds(*written_node, written->entries()[axis], w);
      // Equal bounds, or one absent and the other its default (start 0, stop the axis's length).
      auto matches = [&](const std::optional<Variable>& x, const std::optional<Variable>& y, auto is_default) {
        if (x && y) return same(*x, *y);
        const std::optional<Variable>& given = x ? x : y;
        return !given || is_default(*given);
      };
      if ((a.step || b.step) && !(a.step && b.step && same(*a.step, *b.step) && constant_int(*a.step) == 1))
        return {};  // (steps other than 1 are left alone)
      if (!matches(a.start, b.start, [](const Variable& v) { return constant_int(v) == 0; }) ||
          !matches(a.stop, b.stop, [&](const Variable& v) { return whole_length(v, axis); }))
        return {};
    }
    // The increment failed where the value's shape was not the region's: the read-back checks it still.
    std::vector<Operand> fits;
    for (int axis = 0; axis < value.ndim(); ++axis) {
      const Variable region = inferred_dimension(node, 0, axis);
      if (!region) return {};
      fits.emplace_back(eq(shape_i(value, axis), region));
    }
    return {assert_op(value, fits, "[inc_subtensor] the value's shape is not the indexed region's (read back at " +
                                       format_location(node.where()) + ")")};
  }
};

}  // namespace

int fold_zeros(FunctionGraph& graph) {
  const RewriteSet& rewrites = rewrite_set<ElemwiseOfZeros, ReductionAndProductOfZeros, IncrementByZeros, ReadBackOfIncrementedZeros>();
  return rewrite_to_equilibrium(graph, rewrites);
}

}  // namespace hypatia
