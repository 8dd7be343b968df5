#include "backend/cpu/lowering.h"

#include <thread>
#include <unordered_map>

#include "backend/cpu/module_cache.h"
#include "hypatia/config.h"

namespace hypatia {

bool elemwise_kernel_spec(const Apply& node, ElemwiseKernelSpec& spec) {
  if (const auto* fused = dynamic_cast<const FusedElemwise*>(&node.op())) {
    spec.composite = fused->composite();
  } else if (const auto* elemwise = dynamic_cast<const Elemwise*>(&node.op())) {
    spec.composite = Composite();
    for (const Variable& input : node.inputs()) spec.composite.input_dtypes.push_back(input.dtype());
    std::vector<int> args;
    for (int i = 0; i < spec.composite.num_inputs(); ++i) args.push_back(i);
    spec.composite.outputs.push_back(spec.composite.add(elemwise->scalar_op(), std::move(args)));
  } else {
    return false;
  }
  spec.scalar_inputs.clear();
  for (const Variable& input : node.inputs()) {
    bool scalar = true;
    for (int64_t dim : input.type().shape) scalar = scalar && dim == 1;
    spec.scalar_inputs.push_back(scalar);
  }
  return true;
}

std::vector<ElemwiseKernelFn> lower_to_cpu_kernels(const std::vector<std::shared_ptr<Apply>>& nodes) {
  ModuleCache& cache = ModuleCache::instance();
  std::vector<ElemwiseKernelFn> kernels(nodes.size(), nullptr);
  std::vector<std::string> symbols(nodes.size()), definitions;
  std::unordered_map<std::string, bool> rendered;
  for (size_t i = 0; i < nodes.size(); ++i) {
    ElemwiseKernelSpec spec;
    if (!elemwise_kernel_spec(*nodes[i], spec)) continue;
    const std::string definition = render_elemwise_kernel(spec, "kernel");
    symbols[i] = "hypatia_elemwise_" + hex64(stable_hash(definition));
    // Kernels an earlier function of this process compiled are reused; only the others are compiled.
    if (cache.loaded_symbol(symbols[i]) || rendered[symbols[i]]) continue;
    rendered[symbols[i]] = true;
    definitions.push_back(render_elemwise_kernel(spec, symbols[i]));
  }
  if (!definitions.empty()) {
    if (const Module* module = cache.load(render_cpu_module(definitions)))
      for (const auto& [symbol, unused] : rendered) cache.remember_symbol(symbol, module->symbol(symbol));
  }
  for (size_t i = 0; i < nodes.size(); ++i)
    if (!symbols[i].empty()) kernels[i] = reinterpret_cast<ElemwiseKernelFn>(cache.loaded_symbol(symbols[i]));
  return kernels;
}

void run_elemwise_kernel(ElemwiseKernelFn kernel, const Apply& node, std::span<const Array> inputs,
                         std::span<Array> outputs) {
  const Shape shape = broadcast_shapes_checked(node, inputs);
  for (size_t k = 0; k < node.num_outputs(); ++k) outputs[k] = Array::empty(shape, node.output(k).dtype());
  if (shape_size(shape) == 0) return;

  // Operand strides over the output's shape; then drop size-1 dimensions and merge neighbours that
  // every operand steps through as one.
  const size_t num_operands = node.num_outputs() + inputs.size();
  std::vector<Strides> strides;
  std::vector<char*> data;
  for (size_t k = 0; k < node.num_outputs(); ++k) {
    strides.push_back(outputs[k].strides());
    data.push_back(static_cast<char*>(outputs[k].raw_data()));
  }
  for (const Array& input : inputs) {
    Strides s(shape.size(), 0);
    const int offset = static_cast<int>(shape.size()) - input.ndim();
    for (int axis = 0; axis < input.ndim(); ++axis)
      s[offset + axis] = input.shape()[axis] == 1 ? 0 : input.strides()[axis];
    strides.push_back(std::move(s));
    data.push_back(static_cast<char*>(input.raw_data()));
  }
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> kept(num_operands);
  for (size_t axis = 0; axis < shape.size(); ++axis) {
    if (shape[axis] == 1) continue;
    bool merge = !dims.empty();
    for (size_t k = 0; k < num_operands && merge; ++k) merge = kept[k].back() == strides[k][axis] * shape[axis];
    if (merge) {
      dims.back() *= shape[axis];
      for (size_t k = 0; k < num_operands; ++k) kept[k].back() = strides[k][axis];
    } else {
      dims.push_back(shape[axis]);
      for (size_t k = 0; k < num_operands; ++k) kept[k].push_back(strides[k][axis]);
    }
  }
  if (dims.empty()) {
    dims.push_back(1);
    for (size_t k = 0; k < num_operands; ++k) kept[k].push_back(1);
  }
  std::vector<int64_t> flat;
  for (const auto& s : kept) flat.insert(flat.end(), s.begin(), s.end());
  static const int cores = std::max(1u, std::thread::hardware_concurrency());
  const int threads = config().openmp_threads > 0 ? config().openmp_threads : cores;
  kernel(static_cast<int64_t>(dims.size()), dims.data(), data.data(), flat.data(), threads);
}

}  // namespace hypatia
