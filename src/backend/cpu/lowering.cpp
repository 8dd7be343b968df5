#include "backend/cpu/lowering.h"

#include <thread>
#include <unordered_map>

#include <algorithm>
#include <cmath>

#include "backend/cpu/module_cache.h"
#include "hypatia/config.h"

namespace hypatia {

bool elemwise_kernel_spec(const Apply& node, ElemwiseKernelSpec& spec) {
  if (!composite_of(node, spec.composite)) return false;
  spec.scalar_inputs.clear();
  spec.invariant_inner.clear();
  for (const Variable& input : node.inputs()) {
    const bool scalar = input.type().has_one_element();
    spec.scalar_inputs.push_back(scalar);
    spec.invariant_inner.push_back(!scalar && input.ndim() > 0 && input.type().shape.back() == 1);
  }
  return true;
}

bool reduce_kernel_spec(const Apply& node, ReduceKernelSpec& spec) {
  const Reduce* reduce = dynamic_cast<const Reduce*>(&node.op());
  if (const auto* fused = dynamic_cast<const FusedReduce*>(&node.op())) {
    reduce = &fused->reduce();
    spec.composite = fused->composite();
  } else if (reduce) {
    spec.composite = Composite();
    spec.composite.input_dtypes = {node.input(0).dtype()};
    spec.composite.outputs = {0};  // the input itself
  } else {
    return false;
  }
  if (reduce->kind() == ReduceKind::Any || reduce->kind() == ReduceKind::All) return false;
  // Kernels start max at -inf and min at +inf: an initial value that is that identity (softmax's
  // max) needs nothing more; others run perform().
  if (const auto& initial = reduce->initial()) {
    const DType dtype = spec.composite.dtype_of(spec.composite.outputs[0]);
    const double identity = reduce->kind() == ReduceKind::Max ? -INFINITY : INFINITY;
    if (!is_float(dtype) || *initial != identity) return false;
  }
  spec.kind = reduce->kind();
  spec.scalar_inputs.clear();
  spec.invariant_r.clear();
  spec.invariant_k2.clear();
  const std::vector<int>& axes = reduce->axes();
  for (const Variable& input : node.inputs()) {
    const bool scalar = input.type().has_one_element();
    bool along_r = !axes.empty(), along_k2 = !axes.empty() && axes.back() + 1 < input.ndim();
    for (int axis : axes) along_r = along_r && input.type().shape[axis] == 1;
    for (int axis = axes.empty() ? input.ndim() : axes.back() + 1; axis < input.ndim(); ++axis)
      along_k2 = along_k2 && input.type().shape[axis] == 1;
    spec.scalar_inputs.push_back(scalar);
    spec.invariant_r.push_back(!scalar && along_r);
    spec.invariant_k2.push_back(!scalar && along_k2);
  }
  return true;
}

std::vector<CpuKernel> lower_to_cpu_kernels(const std::vector<std::shared_ptr<Apply>>& nodes) {
  ModuleCache& cache = ModuleCache::instance();
  std::vector<CpuKernel> kernels(nodes.size());
  std::vector<std::string> symbols(nodes.size()), definitions;
  std::unordered_map<std::string, bool> rendered;
  for (size_t i = 0; i < nodes.size(); ++i) {
    ElemwiseKernelSpec elemwise;
    ReduceKernelSpec reduce;
    // Rendered once under a placeholder name, then named by a hash of that text.
    constexpr const char* kPlaceholder = "hypatia_kernel_placeholder";
    std::string definition, prefix;
    if (elemwise_kernel_spec(*nodes[i], elemwise)) {
      kernels[i].kind = CpuKernel::Kind::Elemwise;
      definition = render_elemwise_kernel(elemwise, kPlaceholder);
      prefix = "hypatia_elemwise_";
    } else if (reduce_kernel_spec(*nodes[i], reduce)) {
      kernels[i].kind = CpuKernel::Kind::Reduce;
      definition = render_reduce_kernel(reduce, kPlaceholder);
      prefix = "hypatia_reduce_";
    } else {
      continue;
    }
    symbols[i] = prefix + hex64(stable_hash(definition));
    // Kernels an earlier function of this process compiled are reused; only the others are compiled.
    if (cache.loaded_symbol(symbols[i]) || rendered[symbols[i]]) continue;
    rendered[symbols[i]] = true;
    definition.replace(definition.find(kPlaceholder), std::string(kPlaceholder).size(), symbols[i]);
    definitions.push_back(std::move(definition));
  }
  if (!definitions.empty()) {
    if (const Module* module = cache.load(render_cpu_module(definitions)))
      for (const auto& [symbol, unused] : rendered) cache.remember_symbol(symbol, module->symbol(symbol));
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!symbols[i].empty()) kernels[i].function = cache.loaded_symbol(symbols[i]);
    if (!kernels[i].function) kernels[i].kind = CpuKernel::Kind::None;
  }
  return kernels;
}

namespace {

int kernel_threads() {
  static const int cores = std::max(1u, std::thread::hardware_concurrency());
  return config().openmp_threads > 0 ? config().openmp_threads : cores;
}

void run_elemwise_kernel(ElemwiseKernelFn kernel, const Apply& node, std::span<const Array> inputs,
                         std::span<Array> outputs) {
  const Shape shape = broadcast_shapes_for(node, inputs);
  // An output that arrives set is the destination (an in-place update); the others are new arrays.
  for (size_t k = 0; k < node.num_outputs(); ++k)
    if (!outputs[k].storage() || outputs[k].shape() != shape || outputs[k].dtype() != node.output(k).dtype())
      outputs[k] = Array::empty(shape, node.output(k).dtype());
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
  kernel(static_cast<int64_t>(dims.size()), dims.data(), data.data(), flat.data(), kernel_threads());
}

// A reduction as (K1, R, K2): the kept axes before the reduced ones, the reduced ones, the kept ones
// after (size-1 axes dropped), each group collapsed to one stride per input. False when the layout
// does not fit that form; the caller then runs perform().
bool run_reduce_kernel(ReduceKernelFn kernel, const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) {
  const Reduce& reduce = dynamic_cast<const FusedReduce*>(&node.op())
                             ? static_cast<const FusedReduce&>(node.op()).reduce()
                             : static_cast<const Reduce&>(node.op());
  const std::vector<int>& axes = reduce.axes();
  const Shape full = broadcast_shapes_for(node, inputs);
  auto reduced = [&](int axis) { return std::binary_search(axes.begin(), axes.end(), axis); };
  int64_t length = 1;
  Shape kept;
  for (int axis = 0; axis < static_cast<int>(full.size()); ++axis) {
    if (reduced(axis)) length *= full[axis];
    else kept.push_back(full[axis]);
  }
  const bool is_extremum = reduce.kind() == ReduceKind::Max || reduce.kind() == ReduceKind::Min;
  if (length == 0 && is_extremum && shape_size(kept) > 0 && !reduce.initial()) return false;  // perform() says why not
  // Groups: 0 = kept before, 1 = reduced, 2 = kept after; a kept axis between reduced ones does not fit.
  std::vector<int> group_of(full.size(), -1);
  int group = 0;
  for (int axis = 0; axis < static_cast<int>(full.size()); ++axis) {
    if (full[axis] == 1) continue;
    const int wanted = reduced(axis) ? 1 : group == 0 ? 0 : 2;
    if (wanted < group || (wanted == 1 && group == 2)) return false;
    group = wanted;
    group_of[axis] = group;
  }
  int64_t sizes[3] = {1, 1, 1};
  for (size_t axis = 0; axis < full.size(); ++axis)
    if (group_of[axis] >= 0) sizes[group_of[axis]] *= full[axis];
  std::vector<int64_t> strides;
  std::vector<char*> data;
  outputs[0] = Array::empty(kept, node.output(0).dtype());
  data.push_back(static_cast<char*>(outputs[0].raw_data()));
  for (const Array& input : inputs) {
    int64_t group_stride[3] = {0, 0, 0};
    int64_t previous[3] = {-1, -1, -1};  // the last axis seen in each group
    for (size_t axis = 0; axis < full.size(); ++axis) {
      const int g = group_of[axis];
      if (g < 0) continue;
      const int offset = static_cast<int>(full.size()) - input.ndim();
      const int64_t stride = input.shape()[axis - offset] == 1 ? 0 : input.strides()[axis - offset];
      if (previous[g] >= 0 && group_stride[g] != stride * full[axis]) return false;  // not one stride per group
      group_stride[g] = stride;
      previous[g] = static_cast<int64_t>(axis);
    }
    strides.insert(strides.end(), group_stride, group_stride + 3);
    data.push_back(static_cast<char*>(input.raw_data()));
  }
  if (outputs[0].size() == 0) return true;
  kernel(sizes, data.data(), strides.data(), kernel_threads());
  return true;
}

}  // namespace

void run_cpu_kernel(const CpuKernel& kernel, const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) {
  if (kernel.kind == CpuKernel::Kind::Elemwise) {
    run_elemwise_kernel(reinterpret_cast<ElemwiseKernelFn>(kernel.function), node, inputs, outputs);
    return;
  }
  if (!run_reduce_kernel(reinterpret_cast<ReduceKernelFn>(kernel.function), node, inputs, outputs))
    node.op().perform(node, inputs, outputs);
}

}  // namespace hypatia
