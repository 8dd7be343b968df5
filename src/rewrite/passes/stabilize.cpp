// Stabilize: forms that overflow or lose everything to rounding become forms that do not. The logistic
// function written out, 1 / (1 + exp(-z)), rounds to exactly 1 once z > 37, so log(1 - p) is -inf and its
// gradient divides by zero; as sigmoid it keeps its tail, and logs of sigmoids become softplus. Likewise
// log(1 + x), exp(x) - 1, log(sum(exp(x))), log(exp(a) + exp(b)) and log(softmax(x)).
#include <cmath>

#include "hypatia/elemwise.h"
#include "hypatia/nnet.h"
#include "ops/dimshuffle.h"
#include "ops/elemwise.h"
#include "ops/nnet.h"
#include "ops/reduce.h"
#include "rewrite/passes/passes.h"
#include "rewrite/patterns.h"
#include "rewrite/rewriter.h"

namespace hypatia {
namespace {

bool is_one(const Variable& v) { return is_scalar_constant(v, 1.0); }

std::vector<Variable> if_same_type(const Variable& result, const Apply& node) {
  if (result.type() != node.output(0).type()) return {};
  return {result};
}

// 1 / (1 + exp(t)) -> sigmoid(-t).
class LogisticToSigmoid : public LocalRewriter {
 public:
  std::string name() const override { return "logistic_to_sigmoid"; }
  std::vector<std::string> tracks() const override { return {"true_div"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    if (!is_one(node.input(0))) return {};
    auto sum = elemwise_producer(node.input(1), ScalarOpId::add);
    if (!sum) return {};
    for (int k = 0; k < 2; ++k) {
      auto exponential = elemwise_producer(sum->input(1 - k), ScalarOpId::exp);
      // Only for floats: negating an unsigned or a minimal integer would not give -t.
      if (is_one(sum->input(k)) && exponential && is_float(exponential->input(0).dtype()))
        return if_same_type(sigmoid(neg(exponential->input(0))), node);
    }
    return {};
  }
};

// 1 - sigmoid(x) -> sigmoid(-x).
class OneMinusSigmoid : public LocalRewriter {
 public:
  std::string name() const override { return "one_minus_sigmoid"; }
  std::vector<std::string> tracks() const override { return {"sub"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    auto logistic = elemwise_producer(node.input(1), ScalarOpId::sigmoid);
    if (!is_one(node.input(0)) || !logistic || !is_float(logistic->input(0).dtype())) return {};
    return if_same_type(sigmoid(neg(logistic->input(0))), node);
  }
};

// log(sigmoid(x)) -> -softplus(-x).
class LogSigmoid : public LocalRewriter {
 public:
  std::string name() const override { return "log_sigmoid"; }
  std::vector<std::string> tracks() const override { return {"log"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    auto logistic = elemwise_producer(node.input(0), ScalarOpId::sigmoid);
    if (!logistic || !is_float(logistic->input(0).dtype())) return {};
    return if_same_type(neg(softplus(neg(logistic->input(0)))), node);
  }
};

// log(1 + x) -> log1p(x): exact for tiny x, where 1 + x rounds to 1.
class Log1p : public LocalRewriter {
 public:
  std::string name() const override { return "log1p"; }
  std::vector<std::string> tracks() const override { return {"log"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    auto sum = elemwise_producer(node.input(0), ScalarOpId::add);
    if (!sum) return {};
    for (int k = 0; k < 2; ++k)
      if (is_one(sum->input(k)) && is_float(sum->input(1 - k).dtype()))
        return if_same_type(log1p(sum->input(1 - k)), node);
    return {};
  }
};

// exp(x) - 1 -> expm1(x): exact for tiny x.
class Expm1 : public LocalRewriter {
 public:
  std::string name() const override { return "expm1"; }
  std::vector<std::string> tracks() const override { return {"sub"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    auto exponential = elemwise_producer(node.input(0), ScalarOpId::exp);
    if (!exponential || !is_one(node.input(1))) return {};
    return if_same_type(expm1(exponential->input(0)), node);
  }
};

// x - m where m is the max of the same x over the same axes, reached through logsumexp's own steps
// (where, dimshuffle, disconnected_grad): an exponent that is already shifted.
bool shifted_by_its_max(const Variable& exponent, const std::vector<int>& axes) {
  auto difference = elemwise_producer(exponent, ScalarOpId::sub);
  if (!difference) return false;
  Variable shift = difference->input(1);
  for (int hops = 0; hops < 4; ++hops) {
    std::shared_ptr<Apply> owner = shift.owner();
    if (!owner) return false;
    if (const auto* reduce = dynamic_cast<const Reduce*>(&owner->op()))
      return reduce->kind() == ReduceKind::Max && reduce->axes() == axes && owner->input(0).is(difference->input(0));
    const bool is_where = elemwise_producer(shift, ScalarOpId::where) != nullptr;
    if (!is_where && !dynamic_cast<const DimShuffle*>(&owner->op()) && owner->op().name() != "disconnected_grad")
      return false;
    shift = owner->input(is_where ? 2 : 0);
  }
  return false;
}

// log(sum(exp(x), axes)) -> logsumexp(x, axes), also through keepdims' dimshuffle: finite where exp
// overflows. logsumexp's own log(sum(exp(x - max))) is left alone.
class LogSumExp : public LocalRewriter {
 public:
  std::string name() const override { return "logsumexp"; }
  std::vector<std::string> tracks() const override { return {"log"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    std::shared_ptr<Apply> reduced = node.input(0).owner(), kept_dims;
    if (reduced && dynamic_cast<const DimShuffle*>(&reduced->op())) {
      kept_dims = reduced;
      reduced = reduced->input(0).owner();
    }
    const auto* sum_op = reduced ? dynamic_cast<const Reduce*>(&reduced->op()) : nullptr;
    if (!sum_op || sum_op->kind() != ReduceKind::Sum) return {};
    auto exponential = elemwise_producer(reduced->input(0), ScalarOpId::exp);
    if (!exponential || !is_float(exponential->input(0).dtype())) return {};
    if (shifted_by_its_max(exponential->input(0), sum_op->axes())) return {};
    Variable result = logsumexp(exponential->input(0), sum_op->axes());
    if (kept_dims) result = apply_op1(kept_dims->op_ptr(), {result});
    return if_same_type(result, node);
  }
};

// log(exp(a) + exp(b)) -> max(a, b) + log1p(exp(-|a - b|)), NumPy's logaddexp: finite where either exp
// overflows. Equal operands take a + log(2) (exact, and right for equal infinities, where a - b is NaN).
class LogAddExp : public LocalRewriter {
 public:
  std::string name() const override { return "logaddexp"; }
  std::vector<std::string> tracks() const override { return {"log"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    auto sum = elemwise_producer(node.input(0), ScalarOpId::add);
    if (!sum) return {};
    auto first = elemwise_producer(sum->input(0), ScalarOpId::exp), second = elemwise_producer(sum->input(1), ScalarOpId::exp);
    if (!first || !second) return {};
    const Variable a = first->input(0), b = second->input(0);
    if (!is_float(a.dtype()) || !is_float(b.dtype())) return {};
    const Variable spread = log1p(exp(neg(abs(a - b))));
    return if_same_type(where(eq(a, b), a + std::log(2.0), maximum(a, b) + spread), node);
  }
};

// log(softmax(x)) -> log_softmax(x): finite where softmax underflows to 0.
class LogOfSoftmax : public LocalRewriter {
 public:
  std::string name() const override { return "log_of_softmax"; }
  std::vector<std::string> tracks() const override { return {"log"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    auto inner = node.input(0).owner();
    const auto* softmax_op = inner ? dynamic_cast<const Softmax*>(&inner->op()) : nullptr;
    if (!softmax_op || softmax_op->log()) return {};
    return if_same_type(log_softmax(inner->input(0), softmax_op->axis()), node);
  }
};

// crossentropy_categorical_1hot(softmax(x), labels) -> the fused op on the logits x: finite where
// softmax underflows to 0 (for graphs that reach this form only through other rewrites; the builder
// makes the fused form directly, with its fused gradient).
class CrossentropyOfSoftmax : public LocalRewriter {
 public:
  std::string name() const override { return "crossentropy_of_softmax"; }
  std::vector<std::string> tracks() const override { return {"crossentropy_categorical_1hot"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    auto inner = node.input(0).owner();
    const auto* softmax_op = inner ? dynamic_cast<const Softmax*>(&inner->op()) : nullptr;
    if (!softmax_op || softmax_op->log() || softmax_op->axis() != 1) return {};
    return if_same_type(apply_op1(std::make_shared<CrossentropyCategorical1Hot>(/*from_logits=*/true),
                                  {inner->input(0), node.input(1)}),
                        node);
  }
};

}  // namespace

int stabilize(FunctionGraph& graph) {
  const RewriteSet& rewrites =
      rewrite_set<LogisticToSigmoid, OneMinusSigmoid, LogSigmoid, Log1p, Expm1, LogSumExp, LogAddExp, LogOfSoftmax,
                  CrossentropyOfSoftmax>();
  return rewrite_to_equilibrium(graph, rewrites);
}

}  // namespace hypatia
