// Batch normalization (Theano's tensor.nnet.bn): training's passes are the BatchNormalization op (oneDNN's on
// the CPU backend for per-channel statistics); inference is elementwise.
#include "ops/batch_norm.h"

#include <cmath>

#include "hypatia/conv.h"
#include "hypatia/elemwise.h"
#include "hypatia/grad.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "ir/serialize.h"
#include "ops/op_support.h"

namespace hypatia {

// ---- BatchNormalization ----

namespace {

std::vector<int> kept_axes(const std::vector<int>& axes, int ndim) {
  std::vector<int> kept;
  for (int axis = 0; axis < ndim; ++axis)
    if (!std::binary_search(axes.begin(), axes.end(), axis)) kept.push_back(axis);
  return kept;
}

std::string axes_text(const std::vector<int>& axes) {
  std::string text = "(";
  for (size_t i = 0; i < axes.size(); ++i) text += (i ? ", " : "") + std::to_string(axes[i]);
  return text + (axes.size() == 1 ? ",)" : ")");
}

}  // namespace

std::string BatchNormalization::props() const {
  char text[48];
  std::snprintf(text, sizeof text, "epsilon=%g", epsilon_);
  return "axes=" + axes_text(axes_) + ", " + text;
}

bool BatchNormalization::per_channel(int ndim) const { return kept_axes(axes_, ndim) == std::vector<int>{1}; }

std::vector<TensorType> BatchNormalization::output_types(const std::vector<Variable>& inputs) const {
  const std::string op = "[" + name() + "] ";
  const size_t arity = pass_ == BatchNormPass::Train ? 3 : 5;
  if (inputs.size() != arity) throw TypeError(op + "takes " + std::to_string(arity) + " inputs");
  const Variable& x = inputs[0];
  if (!is_float(x.dtype())) throw TypeError(op + "needs a float input, got " + x.type().str());
  for (int axis : axes_)
    if (axis < 0 || axis >= x.ndim()) throw TypeError(op + "axes " + axes_text(axes_) + " do not fit the input " + x.type().str());
  const std::vector<int> kept = kept_axes(axes_, x.ndim());
  const size_t first_vector = pass_ == BatchNormPass::Train ? 1 : 2;
  if (pass_ == BatchNormPass::TrainGrad && inputs[1].type().dtype != x.dtype())
    throw TypeError(op + "the output gradient " + inputs[1].type().str() + " must have the input's dtype " + x.type().str());
  // Per-channel values: the input's ndim with size 1 on the reduced axes (Theano's broadcastable
  // parameters), or the kept axes alone; every one in gamma's form.
  const TensorType& form = inputs[first_vector].type();
  for (size_t i = first_vector; i < arity; ++i) {
    const TensorType& t = inputs[i].type();
    const bool full = t.ndim() == x.ndim();
    bool fits = t.dtype == x.dtype() && t.ndim() == form.ndim() && (full || t.ndim() == static_cast<int>(kept.size()));
    for (int a = 0; fits && a < t.ndim(); ++a) {
      const int axis = full ? a : kept[a];
      const bool reduced = full && std::binary_search(axes_.begin(), axes_.end(), axis);
      const int64_t size = t.shape[a], expected = reduced ? 1 : x.type().shape[axis];
      fits = reduced ? size == 1 : (size < 0 || expected < 0 || size == expected);
    }
    if (!fits)
      throw TypeError(op + "input " + std::to_string(i) + " " + t.str() + " must hold one " + std::string(dtype_name(x.dtype())) +
                      " per position of the axes of " + x.type().str() + " not in " + axes_text(axes_) +
                      ": with size 1 on those axes, or without them (as gamma " + form.str() + ")");
  }
  TensorType per_group = form;
  for (int a = 0; a < form.ndim(); ++a) {
    const int axis = form.ndim() == x.ndim() ? a : kept[a];
    if (per_group.shape[a] < 0) per_group.shape[a] = x.type().shape[axis];
  }
  return {x.type(), per_group, per_group};
}

BatchNormalization::Layout BatchNormalization::checked_layout(std::span<const Array> in) const {
  const Shape& shape = in[0].shape();
  for (int axis : axes_)
    if (axis >= static_cast<int>(shape.size()))
      throw ShapeError("[" + name() + "] axes " + axes_text(axes_) + " do not fit an input of shape " + shape_str(shape));
  Layout l{1, 1};
  for (int axis = 0; axis < static_cast<int>(shape.size()); ++axis)
    (std::binary_search(axes_.begin(), axes_.end(), axis) ? l.samples : l.groups) *= shape[axis];
  const std::vector<int> kept = kept_axes(axes_, static_cast<int>(shape.size()));
  for (size_t i = pass_ == BatchNormPass::Train ? 1 : 2; i < in.size(); ++i) {
    const Shape& s = in[i].shape();
    bool fits = s.size() == shape.size() || s.size() == kept.size();
    for (size_t a = 0; fits && a < s.size(); ++a) {
      const bool full = s.size() == shape.size();
      const int axis = full ? static_cast<int>(a) : kept[a];
      fits = s[a] == (full && std::binary_search(axes_.begin(), axes_.end(), axis) ? 1 : shape[axis]);
    }
    if (!fits)
      throw ShapeError("[" + name() + "] input " + std::to_string(i) + " has shape " + shape_str(s) + ", not one value per position of the axes of " +
                       shape_str(shape) + " not in " + axes_text(axes_));
  }
  if (pass_ == BatchNormPass::TrainGrad && in[1].shape() != shape)
    throw ShapeError("[" + name() + "] the output gradient " + shape_str(in[1].shape()) + " must have the input's shape " + shape_str(shape));
  if (l.samples == 0 && l.groups > 0)
    throw ShapeError("[" + name() + "] an input of shape " + shape_str(shape) + " has no samples to take statistics over along " +
                     axes_text(axes_));
  return l;
}

namespace {

// The statistics of each row of a (groups, samples) matrix, in double.
template <class T>
void reference_batch_norm(BatchNormPass pass, double epsilon, const BatchNormalization::Layout& l, const T* x, const T* dy,
                          std::span<const Array> in, T* result, std::span<Array> out) {
  const double m = static_cast<double>(l.samples);
  for (int64_t g = 0; g < l.groups; ++g) {
    const T* row = x + g * l.samples;
    T* written = result + g * l.samples;
    if (pass == BatchNormPass::Train) {
      const double gamma = in[1].data<T>()[g], beta = in[2].data<T>()[g];
      double mean = 0, var = 0;
      for (int64_t i = 0; i < l.samples; ++i) mean += row[i];
      mean /= m;
      for (int64_t i = 0; i < l.samples; ++i) var += (row[i] - mean) * (row[i] - mean);
      const double invstd = 1.0 / std::sqrt(var / m + epsilon);
      for (int64_t i = 0; i < l.samples; ++i) written[i] = static_cast<T>((row[i] - mean) * invstd * gamma + beta);
      out[1].data<T>()[g] = static_cast<T>(mean);
      out[2].data<T>()[g] = static_cast<T>(invstd);
      continue;
    }
    // Theano's form (AbstractBatchNormTrainGrad), the same values as any other where mean and invstd are the
    // input's, and the same partial derivatives (the gradient's gradient) as Theano's where they are not.
    const T* grad = dy + g * l.samples;
    const double gamma = in[2].data<T>()[g], mean = in[3].data<T>()[g], invstd = in[4].data<T>()[g];
    double dbeta = 0, dy_x_diff = 0;
    for (int64_t i = 0; i < l.samples; ++i) {
      dbeta += grad[i];
      dy_x_diff += grad[i] * (row[i] - mean);
    }
    const double mean_dy_x_diff = dy_x_diff / m, cubed = invstd * invstd * invstd;
    auto c = [&](int64_t i) { return grad[i] * invstd - (row[i] - mean) * mean_dy_x_diff * cubed; };
    double mean_c = 0;
    for (int64_t i = 0; i < l.samples; ++i) mean_c += c(i);
    mean_c /= m;
    for (int64_t i = 0; i < l.samples; ++i) written[i] = static_cast<T>(gamma * (c(i) - mean_c));
    out[1].data<T>()[g] = static_cast<T>(dy_x_diff * invstd);
    out[2].data<T>()[g] = static_cast<T>(dbeta);
  }
}

// Per-group values broadcast against x: the input's-ndim form as it is, the kept-axes form given the
// reduced axes.
Variable against_input(const Variable& v, const Variable& x, const std::vector<int>& axes) {
  if (v.ndim() == x.ndim()) return v;
  const std::vector<int> kept = kept_axes(axes, x.ndim());
  std::vector<int> pattern(x.ndim(), kNewAxis);
  for (size_t i = 0; i < kept.size(); ++i) pattern[kept[i]] = static_cast<int>(i);
  return dimshuffle(v, pattern);
}

// The sum over the reduced axes, in the form of `like`.
Variable group_sums(const Variable& v, const Variable& like, const std::vector<int>& axes) {
  return sum(v, axes, /*keepdims=*/like.ndim() == v.ndim());
}

// How many samples each statistic runs over, as x's float.
Variable samples_per_group(const Variable& x, const std::vector<int>& axes) {
  Variable count = constant(1.0, DType::Int64);
  for (int axis : axes) count = count * shape_i(x, axis);
  return cast(count, x.dtype());
}

}  // namespace

void BatchNormalization::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  if (perform_float16_in_float32(*this, node, inputs, outputs)) return;
  std::vector<Array> in;
  for (const Array& input : inputs) in.push_back(input.contiguous());
  const Layout l = checked_layout(in);
  const Shape& shape = in[0].shape();
  // The input as a (groups, samples) matrix: kept axes first, then the reduced ones.
  std::vector<int> order = kept_axes(axes_, static_cast<int>(shape.size())), inverse(shape.size());
  order.insert(order.end(), axes_.begin(), axes_.end());
  for (size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int>(i);
  const Array x = in[0].transpose(order).copy();
  const Array dy = pass_ == BatchNormPass::TrainGrad ? in[1].transpose(order).copy() : Array();
  Array result = Array::empty(x.shape(), x.dtype());
  const Shape& form = in[pass_ == BatchNormPass::Train ? 1 : 2].shape();  // (gamma's)
  outputs[1] = Array::empty(form, x.dtype());
  outputs[2] = Array::empty(form, x.dtype());
  dispatch_dtype(x.dtype(), [&]<class T>() {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>)
      reference_batch_norm<T>(pass_, epsilon_, l, x.data<T>(), dy.storage() ? dy.data<T>() : nullptr, in, result.data<T>(), outputs);
  });
  outputs[0] = result.transpose(inverse).copy();
}

std::vector<Variable> BatchNormalization::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable& x = node.input(0);
  if (pass_ == BatchNormPass::Train) {
    const Variable &gamma = node.input(1), mean = node.output(1), invstd = node.output(2);
    Variable dx, dgamma, dbeta;
    if (output_grads[0]) {
      std::vector<Variable> grads = apply_op(std::make_shared<BatchNormalization>(BatchNormPass::TrainGrad, epsilon_, axes_),
                                             {x, output_grads[0], gamma, mean, invstd}, node.where());
      dx = grads[0], dgamma = grads[1], dbeta = grads[2];
    }
    // Through the statistics: d mean / dx = 1 / m; d invstd / dx = -invstd^3 (x - mean) / m.
    const Variable m = samples_per_group(x, axes_);
    if (output_grads[1]) {
      const Variable term = against_input(output_grads[1], x, axes_) / m + zeros_like(x);
      dx = dx ? dx + term : term;
    }
    if (output_grads[2]) {
      const Variable term = against_input(-output_grads[2] * invstd * invstd * invstd, x, axes_) * (x - against_input(mean, x, axes_)) / m;
      dx = dx ? dx + term : term;
    }
    return {dx, dgamma, dbeta};
  }
  // The gradient's gradient: the same formulas (Theano's) composed from public ops on stand-ins for the
  // inputs (so the pullback gives partial derivatives: mean and invstd come from x in the graph, and their
  // own gradients flow back through the forward op), pulled back, then the inputs put in place.
  std::vector<Variable> stand_ins, inputs = node.inputs();
  for (const Variable& input : inputs) stand_ins.push_back(tensor(input.dtype(), input.type().shape));
  const Variable &sx = stand_ins[0], &dy = stand_ins[1], &gamma = stand_ins[2], &mean = stand_ins[3], &invstd = stand_ins[4];
  const Variable inv = against_input(invstd, sx, axes_), x_diff = sx - against_input(mean, sx, axes_);
  const Variable mean_dy_x_diff = hypatia::mean(dy * x_diff, axes_, /*keepdims=*/true);
  const Variable c = dy * inv - x_diff * mean_dy_x_diff * inv * inv * inv;
  const Variable dx = against_input(gamma, sx, axes_) * (c - hypatia::mean(c, axes_, /*keepdims=*/true));
  const Variable dgamma = group_sums(dy * inv * x_diff, gamma, axes_), dbeta = group_sums(dy, gamma, axes_);
  std::vector<Variable> partials = Lop({dx, dgamma, dbeta}, stand_ins, output_grads, Disconnected::Ignore);
  std::vector<std::pair<Variable, Variable>> placed;
  for (size_t i = 0; i < inputs.size(); ++i) placed.emplace_back(stand_ins[i], inputs[i]);
  return clone_replace(partials, placed);
}

std::vector<std::vector<Variable>> BatchNormalization::infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const {
  const size_t form = pass_ == BatchNormPass::Train ? 1 : 2;
  return {shapes[0], shapes[form], shapes[form]};
}

std::string BatchNormalization::save() const {
  OpWriter out("batch_normalization");
  out.integer(static_cast<int>(pass_));
  out.real(epsilon_);
  out.integers(axes_);
  return out.bytes();
}

void register_batch_norm_loaders(OpLoaders& loaders) {
  loaders["batch_normalization"] = [](OpReader& in) -> OpPtr {
    const auto pass = static_cast<BatchNormPass>(in.integer_in(0, 1, "a batch normalization pass"));
    const double epsilon = in.real();
    if (!(epsilon > 0)) in.damaged("a batch normalization's epsilon must be positive");
    std::vector<int> axes = in.integers();
    if (axes.empty() || !std::is_sorted(axes.begin(), axes.end()) || axes.front() < 0 ||
        std::adjacent_find(axes.begin(), axes.end()) != axes.end())
      in.damaged("a batch normalization's axes must be sorted, distinct and non-negative");
    return std::make_shared<BatchNormalization>(pass, epsilon, std::move(axes));
  };
}

// ---- Builders ----

namespace {

struct Normalized {
  std::vector<int> axes, kept;
  bool params_full_rank = true;  // the parameters have the input's ndim (else only the kept axes)
};

Normalized normalization_axes(const Variable& inputs, const Variable& gamma, const std::vector<int>& axes, const char* op) {
  Normalized n;
  if (axes.empty()) throw ValueError(std::string("[") + op + "] there should be at least one normalization axis");
  n.axes = Axes(axes).resolve(inputs.ndim(), op);
  for (int axis = 0; axis < inputs.ndim(); ++axis)
    if (!std::binary_search(n.axes.begin(), n.axes.end(), axis)) n.kept.push_back(axis);
  if (gamma.ndim() == inputs.ndim()) return n;
  if (gamma.ndim() != static_cast<int>(n.kept.size()))
    throw TypeError(std::string("[") + op + "] gamma " + gamma.type().str() + " must have the input's " +
                    std::to_string(inputs.ndim()) + " dimensions or the " + std::to_string(n.kept.size()) +
                    " it keeps (input " + inputs.type().str() + ")");
  n.params_full_rank = false;
  return n;
}

// A parameter shaped for broadcasting against the input: size-1 axes where statistics are taken.
Variable broadcastable(const Variable& param, const Normalized& n, int ndim, const char* what, const char* op) {
  if (n.params_full_rank) {
    if (param.ndim() != ndim)
      throw TypeError(std::string("[") + op + "] " + what + " " + param.type().str() + " must have " + std::to_string(ndim) +
                      " dimensions, as gamma");
    return addbroadcast(param, n.axes);
  }
  if (param.ndim() != static_cast<int>(n.kept.size()))
    throw TypeError(std::string("[") + op + "] " + what + " " + param.type().str() + " must have " +
                    std::to_string(n.kept.size()) + " dimensions, as gamma");
  std::vector<int> pattern(ndim, kNewAxis);
  for (size_t i = 0; i < n.kept.size(); ++i) pattern[n.kept[i]] = static_cast<int>(i);
  return dimshuffle(param, pattern);
}

}  // namespace

BatchNormTrain batch_normalization_train(const Operand& inputs, const Operand& gamma, const Operand& beta,
                                         const std::vector<int>& axes, double epsilon, double running_average_factor,
                                         const Variable& running_mean, const Variable& running_var) {
  const char* op = "batch_normalization_train";
  return at_location(inputs.where(), [&] {
    const Variable x = inputs.as_variable(), g = gamma.as_variable(x), b = beta.as_variable(x);
    const Normalized n = normalization_axes(x, g, axes, op);
    if (!running_mean != !running_var)
      throw ValueError(std::string("[") + op + "] running_mean and running_var go together");
    if (!(epsilon > 0)) throw ValueError(std::string("[") + op + "] epsilon must be positive, got " + std::to_string(epsilon));
    const int ndim = x.ndim();
    // The parameters in their own form (full rank with the reduced axes declared of size 1, or the kept
    // axes alone), so the statistics the op gives are the variables the user holds: consider_constant on
    // them stops what flows through them, as with Theano's AbstractBatchNormTrain.
    // (broadcastable checks a parameter's rank, naming it; the kept-axes form is passed as it is)
    const auto own_form = [&](const Variable& param, const char* what) {
      const Variable broadcast = broadcastable(param, n, ndim, what, op);
      return n.params_full_rank ? broadcast : param;
    };
    const Variable gamma_form = own_form(g, "gamma"), beta_form = own_form(b, "beta");
    std::vector<Variable> outputs = apply_op(std::make_shared<BatchNormalization>(BatchNormPass::Train, epsilon, n.axes),
                                             {x, cast(gamma_form, x.dtype()), cast(beta_form, x.dtype())}, inputs.where());
    BatchNormTrain result;
    result.output = outputs[0];
    result.mean = outputs[1];
    result.invstd = outputs[2];
    const Variable& mu = result.mean;
    // (From invstd: where the variance is far below epsilon this cancels to rounding noise, kept >= 0.)
    const Variable variance = maximum(reciprocal(sqr(result.invstd)) - epsilon, 0);
    if (running_mean) {
      // The running variance is the unbiased one: m / (m - 1) times the batch's.
      Variable count = constant(1.0, DType::Int64);
      for (int axis : n.axes) count = count * shape_i(x, axis);
      const Variable m = cast(count, x.dtype());
      const Variable unbiased = variance * (m / (m - 1));
      const Variable keep = constant(1.0 - running_average_factor, x.dtype());
      result.running_mean = running_mean * keep + mu * running_average_factor;
      result.running_var = running_var * keep + unbiased * running_average_factor;
    }
    return result;
  });
}

Variable batch_normalization_test(const Operand& inputs, const Operand& gamma, const Operand& beta, const Operand& mean_,
                                  const Operand& var_, const std::vector<int>& axes, double epsilon) {
  const char* op = "batch_normalization_test";
  return at_location(inputs.where(), [&] {
    const Variable x = inputs.as_variable(), g = gamma.as_variable(x);
    const Normalized n = normalization_axes(x, g, axes, op);
    if (!(epsilon > 0)) throw ValueError(std::string("[") + op + "] epsilon must be positive, got " + std::to_string(epsilon));
    const int ndim = x.ndim();
    const Variable mu = broadcastable(mean_.as_variable(x), n, ndim, "mean", op);
    const Variable variance = broadcastable(var_.as_variable(x), n, ndim, "var", op);
    const Variable scale = broadcastable(g, n, ndim, "gamma", op) / sqrt(variance + epsilon);
    return (x - mu) * scale + broadcastable(beta.as_variable(x), n, ndim, "beta", op);
  });
}

Variable batch_normalization(const Operand& inputs, const Operand& gamma, const Operand& beta, const Operand& mean_,
                             const Operand& std) {
  return at_location(inputs.where(), [&] {
    const Variable x = inputs.as_variable();
    return (x - mean_.as_variable(x)) * (gamma.as_variable(x) / std.as_variable(x)) + beta.as_variable(x);
  });
}

}  // namespace hypatia
