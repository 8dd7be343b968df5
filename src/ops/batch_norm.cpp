// Batch normalization (Theano's tensor.nnet.bn), composed from reductions and elementwise ops: its
// gradients follow from theirs, and fusion makes each pass one or two loops over the data.
#include "hypatia/conv.h"
#include "hypatia/elemwise.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"

namespace hypatia {

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
    const int ndim = x.ndim();
    const Variable mu = mean(x, n.axes, /*keepdims=*/true);
    const Variable centered = x - mu;
    const Variable variance = mean(sqr(centered), n.axes, /*keepdims=*/true);
    const Variable invstd = reciprocal(sqrt(variance + epsilon));
    BatchNormTrain result;
    result.output = centered * (invstd * broadcastable(g, n, ndim, "gamma", op)) + broadcastable(b, n, ndim, "beta", op);
    result.mean = as_params(mu, n);
    result.invstd = as_params(invstd, n);
    if (running_mean) {
      // The running variance is the unbiased one: m / (m - 1) times the batch's.
      Variable count = constant(1.0, DType::Int64);
      for (int axis : n.axes) count = count * shape_i(x, axis);
      const Variable m = cast(count, x.dtype());
      const Variable unbiased = variance * (m / (m - 1));
      const Variable keep = constant(1.0 - running_average_factor, x.dtype());
      result.running_mean = running_mean * keep + as_params(mu, n) * running_average_factor;
      result.running_var = running_var * keep + as_params(unbiased, n) * running_average_factor;
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
