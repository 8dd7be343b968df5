// Convolutions, pooling, batch normalization and neighbours (hypatia/conv.h). The Python package turns
// Theano's arguments (border_mode strings or tuples, ws/stride/pad, 'per-activation') into these.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "hypatia/conv.h"

namespace hypatia::python {
namespace {

using X = nb::handle;
using namespace nb::literals;

std::vector<int64_t> to_sizes(nb::handle values, const char* what) {
  std::vector<int64_t> sizes;
  if (values.is_none()) return sizes;
  for (int v : to_ints(values, what)) sizes.push_back(v);
  return sizes;
}

std::vector<Operand> to_operand_list(nb::handle sequence) {
  std::vector<Operand> operands;
  for (nb::handle item : sequence) operands.push_back(to_operand(item));
  return operands;
}

// border: 'valid', 'full', 'half' or None with padding sizes.
ConvOptions conv_options(const std::string& border, X padding, X subsample, bool filter_flip, X dilation, int64_t groups) {
  ConvOptions options;
  if (border == "full") options.border_mode = BorderMode::Full;
  else if (border == "half") options.border_mode = BorderMode::Half;
  else if (border != "valid" && border != "explicit")
    throw ValueError("[conv] border_mode '" + border + "' is not 'valid', 'full', 'half', an int or a tuple of ints");
  options.padding = to_sizes(padding, "[conv] border_mode");
  options.subsample = to_sizes(subsample, "[conv] subsample");
  options.filter_flip = filter_flip;
  options.filter_dilation = to_sizes(dilation, "[conv] filter_dilation");
  options.num_groups = groups;
  return options;
}

PoolMode pool_mode(const std::string& mode) {
  if (mode == "max" || mode == "max_deterministic") return PoolMode::Max;  // (Theano's CPU op: the same)
  if (mode == "sum") return PoolMode::Sum;
  if (mode == "average_inc_pad") return PoolMode::AverageIncPad;
  if (mode == "average_exc_pad") return PoolMode::AverageExcPad;
  throw ValueError("[pool] mode '" + mode + "' is not 'max', 'sum', 'average_inc_pad' or 'average_exc_pad'");
}

}  // namespace

void init_conv(nb::module_& m) {
  m.def("conv", [](X input, X filters, int spatial, const std::string& border, X padding, X subsample, bool flip, X dilation,
                   int64_t groups) {
    const ConvOptions options = conv_options(border, padding, subsample, flip, dilation, groups);
    return spatial == 3 ? conv3d(to_operand(input), to_operand(filters), options)
                        : conv2d(to_operand(input), to_operand(filters), options);
  }, kUserLine);
  m.def("conv_transpose", [](X input, X filters, X image_shape, const std::string& border, X padding, X subsample, bool flip,
                             X dilation, int64_t groups) {
    return conv_transpose(to_operand(input), to_operand(filters), to_operand_list(image_shape),
                          conv_options(border, padding, subsample, flip, dilation, groups));
  }, kUserLine);
  m.def("conv_grad_weights", [](X input, X output_grad, X filter_shape, const std::string& border, X padding, X subsample,
                                bool flip, X dilation, int64_t groups) {
    return conv_grad_weights(to_operand(input), to_operand(output_grad), to_operand_list(filter_shape),
                             conv_options(border, padding, subsample, flip, dilation, groups));
  }, kUserLine);
  m.def("pool", [](X x, int spatial, X ws, X stride, X pad, bool ignore_border, const std::string& mode) {
    PoolOptions options;
    options.stride = to_sizes(stride, "[pool] stride");
    options.pad = to_sizes(pad, "[pool] pad");
    options.ignore_border = ignore_border;
    options.mode = pool_mode(mode);
    const std::vector<int64_t> window = to_sizes(ws, "[pool] ws");
    return spatial == 3 ? pool_3d(to_operand(x), window, options) : pool_2d(to_operand(x), window, options);
  }, kUserLine);
  m.def("max_pool_2d_same_size", [](X x, X patch) {
    return max_pool_2d_same_size(to_operand(x), to_sizes(patch, "[max_pool_2d_same_size] patch_size"));
  }, kUserLine);
  m.def("batch_normalization_train", [](X inputs, X gamma, X beta, X axes, double epsilon, double factor, X running_mean,
                                        X running_var) {
    const Variable mean = running_mean.is_none() ? Variable() : to_variable(running_mean);
    const Variable var = running_var.is_none() ? Variable() : to_variable(running_var);
    BatchNormTrain r = batch_normalization_train(to_operand(inputs), to_operand(gamma), to_operand(beta),
                                                 to_ints(axes, "[batch_normalization_train] axes"), epsilon, factor, mean, var);
    nb::list result;
    for (const Variable& v : {r.output, r.mean, r.invstd, r.running_mean, r.running_var})
      if (v) result.append(nb::cast(v));
    return nb::tuple(result);
  }, "inputs"_a, "gamma"_a, "beta"_a, "axes"_a, "epsilon"_a, "factor"_a, "running_mean"_a.none(), "running_var"_a.none(),
     kUserLine);
  m.def("batch_normalization_test", [](X inputs, X gamma, X beta, X mean, X var, X axes, double epsilon) {
    return batch_normalization_test(to_operand(inputs), to_operand(gamma), to_operand(beta), to_operand(mean), to_operand(var),
                                    to_ints(axes, "[batch_normalization_test] axes"), epsilon);
  }, kUserLine);
  m.def("batch_normalization", [](X inputs, X gamma, X beta, X mean, X std) {
    return batch_normalization(to_operand(inputs), to_operand(gamma), to_operand(beta), to_operand(mean), to_operand(std));
  }, kUserLine);
  m.def("images2neibs", [](X images, X patch, X step, const std::string& mode) {
    return images2neibs(to_operand(images), to_sizes(patch, "[images2neibs] neib_shape"), to_sizes(step, "[images2neibs] neib_step"),
                        mode);
  }, kUserLine);
  m.def("neibs2images", [](X neibs, X patch, X original_shape, const std::string& mode) {
    return neibs2images(to_operand(neibs), to_sizes(patch, "[neibs2images] neib_shape"), to_operand_list(original_shape), mode);
  }, kUserLine);
}

}  // namespace hypatia::python
