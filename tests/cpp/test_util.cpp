#include "test_util.h"

#include "backend/cuda/driver.h"

namespace hypatia::testing {

Array evaluate_on(const std::function<Variable(const Variable&)>& f, const Array& value) {
  auto x = tensor(value.dtype(), std::vector<int64_t>(value.ndim(), TensorType::kUnknown), "x");
  return eval(f(x), {{x, value}});
}

std::vector<Array> run_every_mode(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs,
                                  const std::vector<Array>& values, const Updates& updates) {
  std::vector<Array> reference;
  auto compare = [&](const std::vector<Array>& got, const std::string& where, double rtol, double atol) {
    ASSERT_EQ(got.size(), reference.size());
    for (size_t k = 0; k < got.size(); ++k) {
      EXPECT_EQ(got[k].dtype(), reference[k].dtype()) << where << ", output " << k;
      EXPECT_TRUE(arrays_close(to_host(got[k]), reference[k], rtol, atol)) << where << ", output " << k;
    }
  };
  for (Mode mode : {Mode::Unoptimized, Mode::FastCompile, Mode::FastRun}) {
    FunctionOptions options;
    options.mode = mode;
    options.on_unused_input = UnusedInput::Ignore;
    std::vector<Array> got = function(inputs, outputs, updates, {}, options)(values);
    if (reference.empty()) reference = got;
    else compare(got, "mode " + std::to_string(static_cast<int>(mode)), 1e-6, 1e-9);
  }
  // Every device present runs the optimized graph too; its math functions may differ from the host's
  // libm by an ulp or two in float32.
  for (const Device& device : devices_under_test()) {
    FunctionOptions options;
    options.device = device.str();
    options.on_unused_input = UnusedInput::Ignore;
    compare(function(inputs, outputs, updates, {}, options)(values), device.str(), 2e-5, 1e-7);
  }
  return reference;
}

std::string first_device(Device::Kind kind, std::string& why) {
  why = kind == Device::Kind::OpenCL ? "no OpenCL device here (make test installs PoCL: scripts/setup.sh)"
                                     : "no CUDA device here: " + cuda::unavailable_reason();
  for (const Device& device : available_devices())
    if (device.kind == kind) return device.str();
  return "";
}

std::vector<Device> devices_under_test() {
  std::vector<Device> devices;
  for (const Device& device : available_devices())
    if (!device.is_cpu()) devices.push_back(device);
  return devices;
}

void expect_infer_shape_ok(const std::vector<Variable>& inputs, const Variable& out, const std::vector<Array>& values) {
  auto owner = out.owner();
  ASSERT_TRUE(owner) << "output has no owner";
  std::vector<std::vector<Variable>> input_shapes;
  for (const Variable& input : owner->inputs()) {
    std::vector<Variable> dims;
    for (int axis = 0; axis < input.ndim(); ++axis) dims.push_back(shape_i(input, axis));
    input_shapes.push_back(dims);
  }
  auto shapes = owner->op().infer_shape(*owner, input_shapes);
  std::vector<Variable> dims = shapes.at(out.index());
  ASSERT_EQ(static_cast<int>(dims.size()), out.ndim());
  std::vector<Variable> outputs = {out};
  for (const Variable& d : dims) outputs.push_back(cast(d, DType::Int64));
  auto results = function(inputs, outputs)(values);
  for (int axis = 0; axis < out.ndim(); ++axis)
    EXPECT_EQ(static_cast<int64_t>(results[1 + axis].item()), results[0].shape()[axis]) << "axis " << axis;
}

}  // namespace hypatia::testing
