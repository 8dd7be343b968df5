#include "ops/nnet.h"

#include <cmath>

#include "hypatia/elemwise.h"
#include "hypatia/grad.h"
#include "hypatia/nnet.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "ops/elemwise.h"
#include "ops/op_support.h"
#include "ir/serialize.h"

namespace hypatia {

// ---- Softmax / LogSoftmax ----

std::vector<TensorType> Softmax::output_types(const std::vector<Variable>& inputs) const {
  const Variable& x = inputs.at(0);
  if (!is_float(x.dtype())) throw TypeError("[" + name() + "] needs a float input, got " + x.type().str());
  if (axis_ < 0 || axis_ >= x.ndim())
    throw ValueError("[" + name() + "] axis " + std::to_string(axis_) + " is out of range for " + x.type().str());
  return {x.type()};
}

void Softmax::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  if (perform_float16_in_float32(*this, node, inputs, outputs)) return;
  const Array& x = inputs[0];
  // Work on rows along the axis: move it last, compute, move it back.
  std::vector<int> perm, inverse(x.ndim());
  for (int axis = 0; axis < x.ndim(); ++axis)
    if (axis != axis_) perm.push_back(axis);
  perm.push_back(axis_);
  for (int i = 0; i < x.ndim(); ++i) inverse[perm[i]] = i;
  Array rows = x.transpose(perm).copy();
  const int64_t length = x.shape()[axis_], count = length ? rows.size() / length : 0;
  dispatch_dtype(x.dtype(), [&]<class T>() {
    if constexpr (std::is_floating_point_v<T>) {
      T* data = rows.data<T>();
      for (int64_t r = 0; r < count; ++r) {
        T* row = data + r * length;
        // Subtracting the row's max keeps exp from overflowing.
        T peak = row[0];
        for (int64_t j = 1; j < length; ++j) peak = std::max(peak, row[j]);
        if (std::isinf(peak) && peak < 0) peak = 0;
        double total = 0;
        for (int64_t j = 0; j < length; ++j) total += std::exp(static_cast<double>(row[j] - peak));
        if (log_) {
          const double log_total = std::log(total);
          for (int64_t j = 0; j < length; ++j) row[j] = static_cast<T>(row[j] - peak - log_total);
        } else {
          for (int64_t j = 0; j < length; ++j) row[j] = static_cast<T>(std::exp(static_cast<double>(row[j] - peak)) / total);
        }
      }
    }
  });
  outputs[0] = rows.transpose(inverse).copy();
}

std::vector<Variable> Softmax::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable out = node.output(0);
  const Variable& g = output_grads[0];
  if (log_) return {g - exp(out) * sum(g, axis_, /*keepdims=*/true)};
  // g = n / softmax(x), as log's gradient sends back: (n / p - sum(n)) * p is n - sum(n) * p, which stays
  // finite where p underflows to 0 (Theano's log-softmax gradient rewrite). n must have p's shape for
  // the sums to agree.
  if (auto quotient = g.owner(); quotient && quotient->inputs().size() == 2 && quotient->input(1).is(out)) {
    const auto* division = dynamic_cast<const Elemwise*>(&quotient->op());
    const Variable numerator = quotient->input(0);
    if (division && division->scalar_op().id == ScalarOpId::true_div && numerator.type() == out.type())
      return {numerator - sum(numerator, axis_, /*keepdims=*/true) * out};
  }
  return {(g - sum(g * out, axis_, /*keepdims=*/true)) * out};
}

std::vector<std::vector<Variable>> Softmax::infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const {
  return {shapes[0]};
}

// ---- CrossentropyCategorical1Hot ----

std::vector<TensorType> CrossentropyCategorical1Hot::output_types(const std::vector<Variable>& inputs) const {
  const Variable &p = inputs.at(0), &labels = inputs.at(1);
  if (p.ndim() != 2 || !is_float(p.dtype()))
    throw TypeError("[categorical_crossentropy] predictions must be a float matrix, got " + p.type().str());
  if (labels.ndim() != 1 || !is_integer(labels.dtype()))
    throw TypeError("[categorical_crossentropy] integer labels must be an int vector, got " + labels.type().str());
  int64_t rows = p.type().shape[0], count = labels.type().shape[0];
  if (rows != TensorType::kUnknown && count != TensorType::kUnknown && rows != count)
    throw ShapeError("[categorical_crossentropy] " + std::to_string(count) + " labels for " + std::to_string(rows) +
                     " rows of predictions " + p.type().str());
  return {TensorType(p.dtype(), {rows != TensorType::kUnknown ? rows : count})};
}

void CrossentropyCategorical1Hot::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  if (perform_float16_in_float32(*this, node, inputs, outputs)) return;
  const Array &p = inputs[0], labels = inputs[1].astype(DType::Int64);
  const int64_t rows = p.shape()[0], classes = p.shape()[1];
  if (labels.size() != rows)
    throw ShapeError("[categorical_crossentropy] " + std::to_string(labels.size()) + " labels for predictions of shape " +
                     shape_str(p.shape()));
  Array out = Array::empty({rows}, p.dtype());
  const int64_t* label = labels.data<int64_t>();
  dispatch_dtype(p.dtype(), [&]<class T>() {
    if constexpr (std::is_floating_point_v<T>) {
      const T* data = p.data<T>();
      T* result = out.data<T>();
      for (int64_t i = 0; i < rows; ++i) {
        if (label[i] < 0 || label[i] >= classes)
          throw IndexError("[categorical_crossentropy] label " + std::to_string(label[i]) + " of row " + std::to_string(i) +
                           " is outside 0.." + std::to_string(classes - 1) + " (" + std::to_string(classes) + " classes)");
        const T* row = data + i * p.strides()[0];
        const int64_t step = p.strides()[1];
        if (!from_logits_) {
          result[i] = -std::log(row[label[i] * step]);
          continue;
        }
        // logsumexp(row) - row[label], shifted by the row's max (a -inf max counts as 0, as in softmax).
        T peak = row[0];
        for (int64_t j = 1; j < classes; ++j) peak = std::max(peak, row[j * step]);
        if (std::isinf(peak) && peak < 0) peak = 0;
        double total = 0;
        for (int64_t j = 0; j < classes; ++j) total += std::exp(static_cast<double>(row[j * step] - peak));
        result[i] = static_cast<T>(std::log(total) - static_cast<double>(row[label[i] * step] - peak));
      }
    }
  });
  outputs[0] = std::move(out);
}

std::vector<Variable> CrossentropyCategorical1Hot::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable &p = node.input(0), &labels = node.input(1);
  Variable is_label = eq(dimshuffle(labels, {0, kNewAxis}), dimshuffle(arange(shape_i(p, 1)), {kNewAxis, 0}));
  Variable g = dimshuffle(output_grads[0], {0, kNewAxis});
  // From logits: (softmax(x) - onehot) * g, finite wherever the loss is.
  if (from_logits_) return {(softmax(p, 1) - cast(is_label, p.dtype())) * g, Variable()};
  // d/dp[i, j] = -g[i] / p[i, j] where j = labels[i], zero elsewhere.
  return {where(is_label, -g / p, 0), Variable()};
}

std::vector<std::vector<Variable>> CrossentropyCategorical1Hot::infer_shape(const Apply&,
                                                                           const std::vector<std::vector<Variable>>& shapes) const {
  return {{shapes[0][0]}};
}

// ---- Builders ----

namespace {
Variable softmax_op(const Operand& x, int axis, bool log) {
  Variable input = x.as_variable();
  int resolved = at_location(x.where(), [&] { return normalize_axis(axis, input.ndim(), log ? "log_softmax" : "softmax"); });
  return apply_op1(std::make_shared<Softmax>(resolved, log), {input}, x.where());
}
}  // namespace

Variable softmax(const Operand& x, int axis) { return softmax_op(x, axis, false); }
Variable log_softmax(const Operand& x, int axis) { return softmax_op(x, axis, true); }

Variable logsumexp(const Operand& x, Axes axes, bool keepdims) {
  Variable input = x.as_variable();
  // The max is a constant shift: the gradient flows through the exp-sum only (softmax weights).
  Variable peak = disconnected_grad(Operand(max(Operand(input, x.where()), axes, /*keepdims=*/true), x.where()));
  Variable finite_peak = where(isinf(peak), 0.0, peak);
  Variable result = log(sum(exp(input - finite_peak), axes, /*keepdims=*/true)) + finite_peak;
  if (keepdims) return result;
  std::vector<int> reduced = axes.resolve(input.ndim(), "logsumexp");
  return squeeze(Operand(result, x.where()), reduced);
}

Variable relu(const Operand& x, double alpha) {
  if (alpha == 0.0) return maximum(x, 0);
  Variable input = x.as_variable();
  return where(Operand(input > 0, x.where()), input, input * alpha);
}
Variable elu(const Operand& x, double alpha) {
  Variable input = x.as_variable();
  return where(Operand(input > 0, x.where()), input, expm1(input) * alpha);
}
Variable softsign(const Operand& x) {
  Variable input = x.as_variable();
  return true_div(Operand(input, x.where()), abs(input) + 1);
}
Variable hard_sigmoid(const Operand& x) { return clip(Operand(x.as_variable() * 0.2 + 0.5, x.where()), 0, 1); }
Variable log_sigmoid(const Operand& x) { return neg(Operand(softplus(neg(x)), x.where())); }

Variable categorical_crossentropy(const Operand& predictions, const Operand& targets) {
  Variable p = predictions.as_variable(), t = targets.as_variable();
  if (is_integer(t.dtype())) {
    // Of a softmax over the rows: the fused, stable form on its logits.
    std::shared_ptr<Apply> producer = p.owner();
    const auto* softmax_op = producer ? dynamic_cast<const Softmax*>(&producer->op()) : nullptr;
    if (softmax_op && !softmax_op->log() && softmax_op->axis() == 1 && p.ndim() == 2)
      return apply_op1(std::make_shared<CrossentropyCategorical1Hot>(/*from_logits=*/true), {producer->input(0), t},
                       predictions.where());
    return apply_op1(std::make_shared<CrossentropyCategorical1Hot>(), {p, t}, predictions.where());
  }
  if (t.ndim() != p.ndim())
    rethrow_with_location(TypeError("[categorical_crossentropy] targets " + t.type().str() +
                                    " must be integer labels or match predictions " + p.type().str()),
                          predictions.where());
  return -sum(t * log(p), -1);
}

Variable binary_crossentropy(const Operand& predictions, const Operand& targets) {
  Variable p = predictions.as_variable(), t = targets.as_variable();
  return -(t * log(p) + (1.0 - t) * log1p(-p));
}

std::string Softmax::save() const {
  OpWriter out("softmax");
  out.integer(axis_);
  out.flag(log_);
  return out.bytes();
}
std::string CrossentropyCategorical1Hot::save() const {
  OpWriter out("crossentropy_categorical_1hot");
  out.flag(from_logits_);
  return out.bytes();
}

void register_nnet_loaders(OpLoaders& loaders) {
  loaders["softmax"] = [](OpReader& in) -> OpPtr {
    const int axis = static_cast<int>(in.integer_in(0, 64, "an axis"));
    return std::make_shared<Softmax>(axis, in.flag());
  };
  loaders["crossentropy_categorical_1hot"] = [](OpReader& in) -> OpPtr {
    return std::make_shared<CrossentropyCategorical1Hot>(in.flag());
  };
}
}  // namespace hypatia
