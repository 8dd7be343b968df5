#include "backend/opencl/opencl_backend.h"

#include <mutex>
#include <unordered_map>

#include "backend/opencl/blas.h"
#include "backend/opencl/runtime.h"
#include "backend/cpu/lowering.h"
#include "ops/blas.h"
#include "ops/dimshuffle.h"
#include "ops/subtensor.h"
#include "codegen/cpu_source.h"
#include "codegen/gpu_source.h"

namespace hypatia {
namespace {

// Runs `kernel` over `total` work items (in whole groups of 64) with the buffers of `arrays`, then the
// int64 `scalars`, as its arguments. Arguments belong to the kernel object: one launch at a time.
void launch(opencl::Context& context, cl_kernel kernel, const std::string& what, const std::vector<const Array*>& arrays,
            const std::vector<int64_t>& scalars, int64_t total) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  const opencl::Api& cl = *opencl::api();
  cl_uint arg = 0;
  for (const Array* array : arrays) {
    cl_mem mem = opencl::buffer_of(*array).mem();
    opencl::check(cl.clSetKernelArg(kernel, arg++, sizeof(cl_mem), &mem), "setting an argument of " + what);
  }
  for (int64_t scalar : scalars) {
    const cl_long value = scalar;
    opencl::check(cl.clSetKernelArg(kernel, arg++, sizeof(cl_long), &value), "setting an argument of " + what);
  }
  const size_t local = 64, global = (static_cast<size_t>(total) + local - 1) / local * local;
  opencl::check(cl.clEnqueueNDRangeKernel(context.queue(), kernel, 1, nullptr, &global, &local, 0, nullptr, nullptr),
                "running " + what + " on " + context.device().str());
}

// Runs an elementwise kernel (gpu_source.h's layout) over `shape`: outputs allocated by the caller, inputs
// read through their strides (0 along broadcast axes) and offsets.
void run_elementwise(opencl::Context& context, const std::string& source, const std::string& name, const Shape& shape,
                     std::span<const Array> outputs, std::span<const Array> inputs) {
  const int64_t total = shape_size(shape);
  if (total == 0) return;
  // ndim, the shape, each operand's strides, then each operand's element offset (views made on the
  // device, such as transposes, start inside a buffer).
  std::vector<int64_t> layout{static_cast<int64_t>(shape.size())};
  layout.insert(layout.end(), shape.begin(), shape.end());
  for (const Array& output : outputs) layout.insert(layout.end(), output.strides().begin(), output.strides().end());
  for (const Array& input : inputs) {
    const Strides strides = input.broadcast_to(shape).strides();
    layout.insert(layout.end(), strides.begin(), strides.end());
  }
  std::vector<const Array*> arrays;
  for (const Array& output : outputs) {
    layout.push_back(output.offset());
    arrays.push_back(&output);
  }
  for (const Array& input : inputs) {
    layout.push_back(input.offset());
    arrays.push_back(&input);
  }
  const Array layout_on_device = opencl::to_device(context, Array::from_vector<int64_t>(layout));
  arrays.push_back(&layout_on_device);
  launch(context, context.kernel(source, name), name, arrays, {total}, total);
}

class ElemwiseKernel final : public Kernel {
 public:
  ElemwiseKernel(opencl::Context& context, std::string source, std::string name)
      : context_(context), source_(std::move(source)), name_(std::move(name)) {}

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Shape shape = broadcast_shapes_for(node, inputs);
    for (size_t k = 0; k < node.num_outputs(); ++k)
      if (!outputs[k].storage() || outputs[k].shape() != shape || outputs[k].dtype() != node.output(k).dtype() ||
          outputs[k].device() != context_.device() || !outputs[k].is_contiguous())
        outputs[k] = opencl::empty(context_, shape, node.output(k).dtype());
    run_elementwise(context_, source_, name_, shape, outputs, inputs);
  }
  bool writes_into_any_input() const override { return true; }

 private:
  opencl::Context& context_;
  std::string source_, name_;
};

// A reduction (sum, prod, max, min) with its fused elementwise producer: one work item per kept element.
class ReduceKernel final : public Kernel {
 public:
  ReduceKernel(opencl::Context& context, std::string source, std::string name)
      : context_(context), source_(std::move(source)), name_(std::move(name)) {}

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Reduce& reduce = *reduce_of(node.op());
    const Shape full = broadcast_shapes_for(node, inputs);
    const std::vector<int>& axes = reduce.axes();
    auto reduced = [&](int axis) { return std::find(axes.begin(), axes.end(), axis) != axes.end(); };
    Shape kept, red;
    for (int axis = 0; axis < static_cast<int>(full.size()); ++axis) (reduced(axis) ? red : kept).push_back(full[axis]);
    const int64_t total = shape_size(kept), count = shape_size(red);
    if (count == 0 && (reduce.kind() == ReduceKind::Max || reduce.kind() == ReduceKind::Min) && total > 0 && !reduce.initial())
      throw ValueError("[" + node.op().name() + "] a zero-size reduction of " + shape_str(full) + " has no identity");
    outputs[0] = opencl::empty(context_, kept, node.output(0).dtype());
    if (total == 0) return;
    std::vector<int64_t> layout{static_cast<int64_t>(kept.size())};
    layout.insert(layout.end(), kept.begin(), kept.end());
    layout.push_back(static_cast<int64_t>(red.size()));
    layout.insert(layout.end(), red.begin(), red.end());
    for (const Array& input : inputs) {
      const Strides strides = input.broadcast_to(full).strides();  // 0 along broadcast axes
      for (int pass = 0; pass < 2; ++pass)
        for (int axis = 0; axis < static_cast<int>(full.size()); ++axis)
          if (reduced(axis) == (pass == 1)) layout.push_back(strides[axis]);
      layout.push_back(input.offset());
    }
    const Array layout_on_device = opencl::to_device(context_, Array::from_vector<int64_t>(layout));
    std::vector<const Array*> arrays{&outputs[0]};
    for (const Array& input : inputs) arrays.push_back(&input);
    arrays.push_back(&layout_on_device);
    launch(context_, context_.kernel(source_, name_), name_, arrays, {total, count}, total);
  }

 private:
  opencl::Context& context_;
  std::string source_, name_;
};

// A device copy of `value`, contiguous (for operands BLAS cannot read through their strides).
Array contiguous_on_device(opencl::Context& context, const Array& value);

// dot(x, y) of matrices, and gemm(z, alpha, x, y, beta), through CLBlast.
class GemmKernel final : public Kernel {
 public:
  explicit GemmKernel(opencl::Context& context) : context_(context) {}

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const bool is_gemm = inputs.size() == 5;
    Array x = inputs[is_gemm ? 2 : 0], y = inputs[is_gemm ? 3 : 1];
    if (x.shape()[1] != y.shape()[0])
      throw ShapeError("[" + node.op().name() + "] matrices " + x.shape_dtype_str() + " and " + y.shape_dtype_str() + " do not fit");
    if (!opencl::blas_operand(x)) x = contiguous_on_device(context_, x);
    if (!opencl::blas_operand(y)) y = contiguous_on_device(context_, y);
    const Shape shape{x.shape()[0], y.shape()[1]};
    double alpha = 1, beta = 0;
    if (is_gemm) {
      const Array& z = inputs[0];
      if (z.shape() != shape)
        throw ShapeError("[gemm] z " + z.shape_dtype_str() + " does not have the product's shape " + shape_str(shape));
      alpha = inputs[1].item();
      beta = inputs[4].item();
      // z's buffer when the program hands it over (an update in place), else a copy of z.
      if (!(outputs[0].storage() && outputs[0].storage() == z.storage() && z.is_contiguous() && z.offset() == 0))
        outputs[0] = contiguous_on_device(context_, z);
    } else {
      outputs[0] = opencl::empty(context_, shape, node.output(0).dtype());
    }
    opencl::gemm(context_, alpha, x, y, beta, outputs[0]);
  }

 private:
  opencl::Context& context_;
};

class OpenCLBackend final : public Backend {
 public:
  explicit OpenCLBackend(opencl::Context& context) : context_(context) {}
  Device device() const override { return context_.device(); }

  // Generated elementwise loops and reductions, GEMM, and the ops that only relabel a value's elements
  // (dimshuffle, basic indexing: their perform() makes a view without reading them, so it runs on device
  // arrays as they are).
  bool runs(const Apply& node) const override {
    return dynamic_cast<const DimShuffle*>(&node.op()) || dynamic_cast<const Subtensor*>(&node.op()) || runs_as_gemm(node) ||
           static_cast<bool>(source_of(node)) || static_cast<bool>(reduce_source_of(node));
  }
  // GEMM's alpha and beta, and the scalar bounds of basic indexing, are read on the host.
  bool reads_on_host(const Apply& node, int input) const override {
    if (dynamic_cast<const Gemm*>(&node.op())) return input == 1 || input == 4;
    return dynamic_cast<const Subtensor*>(&node.op()) && input >= 1;
  }

  std::vector<std::shared_ptr<const Kernel>> lower(const std::vector<std::shared_ptr<Apply>>& nodes) const override {
    std::vector<std::shared_ptr<const Kernel>> kernels(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (runs_as_gemm(*nodes[i])) kernels[i] = std::make_shared<GemmKernel>(context_);
      else if (auto source = source_of(*nodes[i])) kernels[i] = std::make_shared<ElemwiseKernel>(context_, source->first, source->second);
      else if (auto reduction = reduce_source_of(*nodes[i]))
        kernels[i] = std::make_shared<ReduceKernel>(context_, reduction->first, reduction->second);
    }
    return kernels;
  }

  Array to_device(const Array& host) const override { return opencl::to_device(context_, host); }
  Array to_host(const Array& value) const override { return opencl::to_host(value); }

 private:
  // The kernel's source and name for an elementwise node (fused or single) OpenCL C can spell.
  std::optional<std::pair<std::string, std::string>> source_of(const Apply& node) const {
    Composite composite;
    if (!composite_of(node, composite)) return std::nullopt;
    constexpr const char* kPlaceholder = "hypatia_kernel";
    auto source = render_gpu_elemwise(composite, kPlaceholder, context_.has_double());
    if (!source) return std::nullopt;
    const std::string name = "hypatia_elemwise_" + hex64(stable_hash(*source));
    source->replace(source->find(kPlaceholder), std::string(kPlaceholder).size(), name);
    return std::make_pair(*source, name);
  }

  // The kernel's source and name for a reduction (plain or with its fused producer) OpenCL C can spell.
  std::optional<std::pair<std::string, std::string>> reduce_source_of(const Apply& node) const {
    ReduceKernelSpec spec;
    if (!reduce_kernel_spec(node, spec)) return std::nullopt;
    constexpr const char* kPlaceholder = "hypatia_kernel";
    auto source = render_gpu_reduce(spec.composite, spec.kind, node.output(0).dtype(), kPlaceholder, context_.has_double());
    if (!source) return std::nullopt;
    const std::string name = "hypatia_reduce_" + hex64(stable_hash(*source));
    source->replace(source->find(kPlaceholder), std::string(kPlaceholder).size(), name);
    return std::make_pair(*source, name);
  }

  // Matrix products of float32 or float64 matrices (of one dtype), when CLBlast is installed.
  bool runs_as_gemm(const Apply& node) const {
    const bool dot = dynamic_cast<const Dot*>(&node.op()), gemm = dynamic_cast<const Gemm*>(&node.op());
    if ((!dot && !gemm) || !opencl::clblast_available()) return false;
    const DType dtype = node.output(0).dtype();
    if (dtype != DType::Float32 && !(dtype == DType::Float64 && context_.has_double())) return false;
    for (int i : dot ? std::vector<int>{0, 1} : std::vector<int>{0, 2, 3})
      if (node.input(i).ndim() != 2 || node.input(i).dtype() != dtype) return false;
    return true;
  }

  opencl::Context& context_;
};

Array contiguous_on_device(opencl::Context& context, const Array& value) {
  Composite identity;
  identity.input_dtypes = {value.dtype()};
  identity.outputs = {0};
  constexpr const char* kName = "hypatia_copy";
  auto source = render_gpu_elemwise(identity, kName, context.has_double());
  if (!source) throw ValueError("[opencl] no device copy for " + value.shape_dtype_str());
  Array result = opencl::empty(context, value.shape(), value.dtype());
  run_elementwise(context, *source, kName, value.shape(), std::span<const Array>(&result, 1), std::span<const Array>(&value, 1));
  return result;
}

}  // namespace

const Backend& opencl_backend(const Device& device) {
  static std::mutex mutex;
  static auto* backends = new std::unordered_map<std::string, std::unique_ptr<OpenCLBackend>>();  // for the process
  std::lock_guard<std::mutex> lock(mutex);
  auto& backend = (*backends)[device.str()];
  if (!backend) backend = std::make_unique<OpenCLBackend>(opencl::context_for(device));
  return *backend;
}

}  // namespace hypatia
