// Batch normalization (Theano's tensor.nnet.bn). Statistics over every axis but the channels are the
// BatchNormalization op (oneDNN's on the CPU backend); other axes are composed from reductions and
// elementwise ops, whose gradients follow from theirs.
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

std::string BatchNormalization::props() const {
  char text[48];
  std::snprintf(text, sizeof text, "epsilon=%g", epsilon_);
  return text;
}

BatchNormalization::Layout BatchNormalization::layout(const Shape& x) {
  Layout l{x[0], x[1], 1};
  for (size_t axis = 2; axis < x.size(); ++axis) l.positions *= x[axis];
  return l;
}

std::vector<TensorType> BatchNormalization::output_types(const std::vector<Variable>& inputs) const {
  const std::string op = "[" + name() + "] ";
  const size_t arity = pass_ == BatchNormPass::Train ? 3 : 5;
  if (inputs.size() != arity) throw TypeError(op + "takes " + std::to_string(arity) + " inputs");
  const Variable& x = inputs[0];
  if (x.ndim() < 2 || !is_float(x.dtype())) throw TypeError(op + "needs a float input of at least 2 dimensions, got " + x.type().str());
  const int64_t channels = x.type().shape[1];
  const size_t first_vector = pass_ == BatchNormPass::Train ? 1 : 2;
  if (pass_ == BatchNormPass::TrainGrad && inputs[1].type().dtype != x.dtype())
    throw TypeError(op + "the output gradient " + inputs[1].type().str() + " must have the input's dtype " + x.type().str());
  // Per-channel values: a vector, or the input's ndim with size 1 on every other axis (Theano's
  // broadcastable parameters); the statistics and gradients take gamma's form.
  const TensorType& form = inputs[first_vector].type();
  for (size_t i = first_vector; i < arity; ++i) {
    const TensorType& t = inputs[i].type();
    bool fits = t.dtype == x.dtype() && (t.ndim() == 1 || t.ndim() == x.ndim()) && t.ndim() == form.ndim();
    for (int axis = 0; fits && axis < t.ndim(); ++axis) {
      const bool channel_axis = t.ndim() == 1 || axis == 1;
      const int64_t size = t.shape[axis];
      fits = channel_axis ? (size < 0 || channels < 0 || size == channels) : size == 1;
    }
    if (!fits)
      throw TypeError(op + "input " + std::to_string(i) + " " + t.str() + " must be one " + std::string(dtype_name(x.dtype())) +
                      " per channel of " + x.type().str() + ", as a vector or with size 1 on every other axis (as gamma " +
                      form.str() + ")");
  }
  TensorType per_channel = form;
  const int channel_axis = form.ndim() == 1 ? 0 : 1;
  if (per_channel.shape[channel_axis] < 0) per_channel.shape[channel_axis] = channels;
  return {x.type(), per_channel, per_channel};
}

namespace {

// Per channel: sums over the batch and positions of f(sample index), in double.
template <class T, class F>
double channel_sum(const BatchNormalization::Layout& l, int64_t c, F&& f) {
  double total = 0;
  for (int64_t n = 0; n < l.batch; ++n) {
    const int64_t start = (n * l.channels + c) * l.positions;
    for (int64_t p = 0; p < l.positions; ++p) total += f(start + p);
  }
  return total;
}

template <class T>
void reference_batch_norm(BatchNormPass pass, double epsilon, const BatchNormalization::Layout& l, std::span<const Array> in,
                          std::span<Array> out) {
  const double m = static_cast<double>(l.batch * l.positions);
  const T* x = in[0].data<T>();
  for (int64_t c = 0; c < l.channels; ++c) {
    if (pass == BatchNormPass::Train) {
      const T gamma = in[1].data<T>()[c], beta = in[2].data<T>()[c];
      const double mean = channel_sum<T>(l, c, [&](int64_t i) { return static_cast<double>(x[i]); }) / m;
      const double var = channel_sum<T>(l, c, [&](int64_t i) { return (x[i] - mean) * (x[i] - mean); }) / m;
      const double invstd = 1.0 / std::sqrt(var + epsilon);
      T* y = out[0].data<T>();
      channel_sum<T>(l, c, [&](int64_t i) {
        y[i] = static_cast<T>((x[i] - mean) * invstd * gamma + beta);
        return 0.0;
      });
      out[1].data<T>()[c] = static_cast<T>(mean);
      out[2].data<T>()[c] = static_cast<T>(invstd);
      continue;
    }
    const T* dy = in[1].data<T>();
    const double gamma = in[2].data<T>()[c], mean = in[3].data<T>()[c], invstd = in[4].data<T>()[c];
    const double dbeta = channel_sum<T>(l, c, [&](int64_t i) { return static_cast<double>(dy[i]); });
    const double dgamma = channel_sum<T>(l, c, [&](int64_t i) { return dy[i] * (x[i] - mean) * invstd; });
    T* dx = out[0].data<T>();
    const double scale = gamma * invstd / m;
    channel_sum<T>(l, c, [&](int64_t i) {
      dx[i] = static_cast<T>(scale * (m * dy[i] - dbeta - (x[i] - mean) * invstd * dgamma));
      return 0.0;
    });
    out[1].data<T>()[c] = static_cast<T>(dgamma);
    out[2].data<T>()[c] = static_cast<T>(dbeta);
  }
}

// Per-channel values broadcast against x (channels on axis 1): vectors get their axes, the input's-ndim
// form already has them.
Variable per_channel(const Variable& v, int ndim) {
  if (v.ndim() == ndim) return v;
  std::vector<int> pattern(ndim, kNewAxis);
  pattern[1] = 0;
  return dimshuffle(v, pattern);
}

// The sum over every axis but the channels, in the form of `like` (a vector or the input's ndim).
Variable channel_sums(const Variable& v, const Variable& like) {
  std::vector<int> axes{0};
  for (int axis = 2; axis < v.ndim(); ++axis) axes.push_back(axis);
  return sum(v, axes, /*keepdims=*/like.ndim() == v.ndim());
}

// The batch and positions each channel's statistics run over, as x's float.
Variable samples_per_channel(const Variable& x) {
  Variable count = constant(1.0, DType::Int64);
  for (int axis = 0; axis < x.ndim(); ++axis)
    if (axis != 1) count = count * shape_i(x, axis);
  return cast(count, x.dtype());
}

}  // namespace

BatchNormalization::Layout BatchNormalization::checked_layout(std::span<const Array> in) const {
  const Shape& shape = in[0].shape();
  if (shape.size() < 2) throw ShapeError("[" + name() + "] needs at least 2 dimensions, got " + shape_str(shape));
  const Layout l = layout(shape);
  for (size_t i = pass_ == BatchNormPass::Train ? 1 : 2; i < in.size(); ++i)
    if (in[i].size() != l.channels || (in[i].ndim() != 1 && in[i].shape()[1] != l.channels))
      throw ShapeError("[" + name() + "] input " + std::to_string(i) + " has shape " + shape_str(in[i].shape()) + ", not one value for each of the " +
                       std::to_string(l.channels) + " channels of " + shape_str(shape));
  if (pass_ == BatchNormPass::TrainGrad && in[1].shape() != shape)
    throw ShapeError("[" + name() + "] the output gradient " + shape_str(in[1].shape()) + " must have the input's shape " + shape_str(shape));
  if (l.batch * l.positions == 0 && l.channels > 0)
    throw ShapeError("[" + name() + "] an input of shape " + shape_str(shape) + " has no samples to take statistics over");
  return l;
}

void BatchNormalization::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  if (perform_float16_in_float32(*this, node, inputs, outputs)) return;
  std::vector<Array> in;
  for (const Array& input : inputs) in.push_back(input.is_contiguous() ? input : input.copy());
  const Layout l = checked_layout(in);
  const Shape& shape = in[0].shape();
  const Shape& form = in[pass_ == BatchNormPass::Train ? 1 : 2].shape();  // (gamma's)
  outputs[0] = Array::empty(shape, in[0].dtype());
  outputs[1] = Array::empty(form, in[0].dtype());
  outputs[2] = Array::empty(form, in[0].dtype());
  dispatch_dtype(in[0].dtype(), [&]<class T>() {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) reference_batch_norm<T>(pass_, epsilon_, l, in, outputs);
  });
}

std::vector<Variable> BatchNormalization::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable& x = node.input(0);
  const int ndim = x.ndim();
  if (pass_ == BatchNormPass::Train) {
    const Variable &gamma = node.input(1), mean = node.output(1), invstd = node.output(2);
    Variable dx, dgamma, dbeta;
    if (output_grads[0]) {
      std::vector<Variable> grads = apply_op(std::make_shared<BatchNormalization>(BatchNormPass::TrainGrad, epsilon_),
                                             {x, output_grads[0], gamma, mean, invstd}, node.where());
      dx = grads[0], dgamma = grads[1], dbeta = grads[2];
    }
    // Through the statistics: d mean / dx = 1 / m; d invstd / dx = -invstd^3 (x - mean) / m.
    const Variable m = samples_per_channel(x);
    if (output_grads[1]) {
      const Variable term = per_channel(output_grads[1], ndim) / m + zeros_like(x);
      dx = dx ? dx + term : term;
    }
    if (output_grads[2]) {
      const Variable term = per_channel(-output_grads[2] * invstd * invstd * invstd, ndim) * (x - per_channel(mean, ndim)) / m;
      dx = dx ? dx + term : term;
    }
    return {dx, dgamma, dbeta};
  }
  // The gradient's gradient: the same formulas composed from public ops on stand-ins for the inputs (so
  // the pullback gives partial derivatives: mean and invstd come from x in the graph, and their own
  // gradients flow back through the forward op), pulled back, then the inputs put in place.
  std::vector<Variable> stand_ins, inputs = node.inputs();
  for (const Variable& input : inputs) stand_ins.push_back(tensor(input.dtype(), input.type().shape));
  const Variable &sx = stand_ins[0], &dy = stand_ins[1], &gamma = stand_ins[2], &mean = stand_ins[3], &invstd = stand_ins[4];
  const Variable m = samples_per_channel(sx);
  const Variable xhat = (sx - per_channel(mean, ndim)) * per_channel(invstd, ndim);
  const Variable dbeta = channel_sums(dy, gamma), dgamma = channel_sums(dy * xhat, gamma);
  const Variable dx = per_channel(gamma * invstd, ndim) / m * (m * dy - per_channel(dbeta, ndim) - xhat * per_channel(dgamma, ndim));
  std::vector<Variable> partials = Lop({dx, dgamma, dbeta}, stand_ins, output_grads, Disconnected::Ignore);
  std::vector<std::pair<Variable, Variable>> placed;
  for (size_t i = 0; i < inputs.size(); ++i) placed.emplace_back(stand_ins[i], inputs[i]);
  return clone_replace(partials, placed);
}

std::vector<std::vector<Variable>> BatchNormalization::infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const {
  return {shapes[0], {shapes[0][1]}, {shapes[0][1]}};
}

std::string BatchNormalization::save() const {
  OpWriter out("batch_normalization");
  out.integer(static_cast<int>(pass_));
  out.real(epsilon_);
  return out.bytes();
}

void register_batch_norm_loaders(OpLoaders& loaders) {
  loaders["batch_normalization"] = [](OpReader& in) -> OpPtr {
    const auto pass = static_cast<BatchNormPass>(in.integer_in(0, 1, "a batch normalization pass"));
    const double epsilon = in.real();
    if (!(epsilon > 0)) in.damaged("a batch normalization's epsilon must be positive");
    return std::make_shared<BatchNormalization>(pass, epsilon);
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

// A statistic in the parameters' shape.
Variable as_params(const Variable& statistic, const Normalized& n) {
  return n.params_full_rank ? statistic : dimshuffle(statistic, n.kept);
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
    BatchNormTrain result;
    Variable mu, variance;
    if (n.kept == std::vector<int>{1}) {
      // Statistics per channel: one op (oneDNN's), its statistics as (channels,) vectors.
      broadcastable(g, n, ndim, "gamma", op);  // (checks the parameters' shapes, naming them)
      broadcastable(b, n, ndim, "beta", op);
      // (In the parameters' own form, so the statistics the op gives are the variables the user holds:
      // consider_constant on them stops what flows through them.)
      const Variable gamma_form = n.params_full_rank ? broadcastable(g, n, ndim, "gamma", op) : g;
      const Variable beta_form = n.params_full_rank ? broadcastable(b, n, ndim, "beta", op) : b;
      std::vector<Variable> outputs = apply_op(std::make_shared<BatchNormalization>(BatchNormPass::Train, epsilon),
                                               {x, cast(gamma_form, x.dtype()), cast(beta_form, x.dtype())}, inputs.where());
      result.output = outputs[0];
      result.mean = outputs[1];
      result.invstd = outputs[2];
      mu = result.mean;
      // (from invstd: where the variance is far below epsilon this cancels to rounding noise, kept >= 0)
      variance = maximum(reciprocal(sqr(result.invstd)) - epsilon, 0);
    } else {
      mu = mean(x, n.axes, /*keepdims=*/true);
      const Variable centered = x - mu;
      variance = mean(sqr(centered), n.axes, /*keepdims=*/true);
      const Variable invstd = reciprocal(sqrt(variance + epsilon));
      result.output = centered * (invstd * broadcastable(g, n, ndim, "gamma", op)) + broadcastable(b, n, ndim, "beta", op);
      result.mean = as_params(mu, n);
      result.invstd = as_params(invstd, n);
      mu = result.mean;
      variance = as_params(variance, n);
    }
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
