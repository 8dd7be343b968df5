#include "backend/cpu/lowering.h"

#include <thread>
#include <unordered_map>

#include <algorithm>
#include <complex>
#include <type_traits>
#include <cmath>

#include "backend/cpu/module_cache.h"
#include "hypatia/config.h"
#include "hypatia/function.h"

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
  bool complex_numbers = false;
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
    } else if (reduce_kernel_spec(*nodes[i], reduce) && reduce.kind != ReduceKind::Any && reduce.kind != ReduceKind::All) {
      // (any and all keep perform() here: it stops at the first deciding element.)
      kernels[i].kind = CpuKernel::Kind::Reduce;
      definition = render_reduce_kernel(reduce, kPlaceholder);
      prefix = "hypatia_reduce_";
    } else {
      continue;
    }
    symbols[i] = prefix + hex64(stable_hash(definition));
    // Kernels an earlier function of this process compiled are reused; only the others are compiled.
    if (cache.kernel(symbols[i]).address.load() || rendered[symbols[i]]) continue;
    rendered[symbols[i]] = true;
    complex_numbers = complex_numbers || uses_complex_numbers(kernels[i].kind == CpuKernel::Kind::Elemwise ? elemwise.composite
                                                                                                       : reduce.composite);
    definition.replace(definition.find(kPlaceholder), std::string(kPlaceholder).size(), symbols[i]);
    definitions.push_back(std::move(definition));
  }
  if (!definitions.empty()) {
    std::vector<std::string> names;
    for (const auto& [symbol, unused] : rendered) names.push_back(symbol);
    auto publish = [&cache, names](const Module* module, Optimization level) {
      if (module)
        for (const std::string& name : names) cache.kernel(name).publish(module->symbol(name), level);
    };
    const std::string source = render_cpu_module(definitions);
    const Module* module = cache.find(source, complex_numbers);
    // Without the optimized module at hand: a quick build now and the optimized one in the background (a
    // quick build that fails leaves the optimized one to do, here).
    const Module* quick = !module && config().tiered_compilation ? cache.load(source, complex_numbers, Optimization::Quick)
                                                                 : nullptr;
    if (quick) {
      publish(quick, Optimization::Quick);
      cache.load_in_background(source, complex_numbers, [publish](const Module* m) { publish(m, Optimization::Full); });
    } else {
      publish(module ? module : cache.load(source, complex_numbers), Optimization::Full);
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i) {
    const KernelSlot* slot = symbols[i].empty() ? nullptr : &cache.kernel(symbols[i]);
    if (slot && slot->address.load()) kernels[i].slot = slot;
    else kernels[i].kind = CpuKernel::Kind::None;
  }
  return kernels;
}

void finish_compiling() { ModuleCache::instance().wait_for_background(); }

namespace {

// Elements a quick (-O0, one thread) kernel takes about 0.1 s over: the rest of an optimized build's time.
constexpr int64_t kLargeForQuickBuild = int64_t{1} << 22;

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
  kernel(static_cast<int64_t>(dims.size()), dims.data(), data.data(), flat.data(), cpu_threads());
}

// The running result of a reduction whose outer reduced axes are looped over: each kernel call's partial
// result is folded in at the kernels' own accumulator precision (sums and products of floats in double,
// complex in complex<double>, integers wrapping through uint64 as the kernels do), and rounded once.
class PartialResults {
 public:
  PartialResults(ReduceKind kind, DType dtype, int64_t size) : kind_(kind), dtype_(dtype), wide_(size) {}

  void fold(const Array& partial, bool first) {
    dispatch_dtype(dtype_, [&]<class T>() {
      const T* in = partial.data<T>();
      for (size_t i = 0; i < wide_.size(); ++i) {
        if constexpr (is_complex_v<T>) {
          const std::complex<double> v(in[i]);
          wide_[i].c = first ? v : kind_ == ReduceKind::Prod ? wide_[i].c * v : wide_[i].c + v;
        } else if constexpr (std::is_same_v<T, bool>) {
          const bool v = in[i];
          wide_[i].u = first ? v : kind_ == ReduceKind::Min ? (wide_[i].u && v) : (wide_[i].u || v);
        } else if constexpr (is_float_v<T>) {
          const double v = static_cast<double>(in[i]);
          double& acc = wide_[i].d;
          if (first) acc = v;
          else if (kind_ == ReduceKind::Sum) acc += v;
          else if (kind_ == ReduceKind::Prod) acc *= v;
          else if (acc != acc || v != v) acc = acc != acc ? acc : v;  // max/min keep NaN
          else acc = (kind_ == ReduceKind::Max) == (acc < v) ? v : acc;
        } else {
          const uint64_t v = static_cast<uint64_t>(static_cast<std::make_signed_t<T>>(in[i]));
          uint64_t& acc = wide_[i].u;
          if (first) acc = v;
          else if (kind_ == ReduceKind::Sum) acc += v;
          else if (kind_ == ReduceKind::Prod) acc *= v;
          else if (kind_ == ReduceKind::Max) acc = in[i] > static_cast<T>(acc) ? v : acc;
          else acc = in[i] < static_cast<T>(acc) ? v : acc;
        }
      }
    });
  }

  void store(Array& out) const {
    dispatch_dtype(dtype_, [&]<class T>() {
      T* data = out.data<T>();
      for (size_t i = 0; i < wide_.size(); ++i) {
        if constexpr (is_complex_v<T>) data[i] = T(wide_[i].c);
        else if constexpr (std::is_same_v<T, bool>) data[i] = wide_[i].u != 0;
        else if constexpr (is_float_v<T>) data[i] = static_cast<T>(wide_[i].d);
        else data[i] = static_cast<T>(wide_[i].u);
      }
    });
  }

 private:
  union Wide {
    double d;
    uint64_t u;
    std::complex<double> c;
    Wide() : c() {}
  };
  ReduceKind kind_;
  DType dtype_;
  std::vector<Wide> wide_;
};

// A reduction as (K1, R, K2): the kept axes before the reduced ones, the reduced ones, the kept ones
// after (size-1 axes dropped), each group collapsed to one stride per input. Reduced axes that do not
// collapse with the others (inputs broadcast differently along them, as in sum(a[:, None] * b[None])) are
// looped over here, the kernel reducing the innermost ones that do and the partial results combined
// (PartialResults).
// False when the layout does not fit that form; the caller then runs perform().
bool run_reduce_kernel(ReduceKernelFn kernel, const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) {
  const Reduce& reduce = *reduce_of(node.op());
  const std::vector<int>& axes = reduce.axes();
  const Shape full = broadcast_shapes_for(node, inputs);
  const int ndim = static_cast<int>(full.size());
  auto reduced = [&](int axis) { return std::binary_search(axes.begin(), axes.end(), axis); };
  int64_t length = 1;
  Shape kept;
  for (int axis = 0; axis < ndim; ++axis) {
    if (reduced(axis)) length *= full[axis];
    else kept.push_back(full[axis]);
  }
  const bool is_extremum = reduce.kind() == ReduceKind::Max || reduce.kind() == ReduceKind::Min;
  if (length == 0 && is_extremum && shape_size(kept) > 0 && !reduce.initial()) return false;  // perform() says why not
  // Groups: 0 = kept before, 1 = reduced, 2 = kept after; a kept axis between reduced ones does not fit.
  std::vector<int> group_axes[3];
  int group = 0;
  for (int axis = 0; axis < ndim; ++axis) {
    if (full[axis] == 1) continue;
    const int wanted = reduced(axis) ? 1 : group == 0 ? 0 : 2;
    if (wanted < group || (wanted == 1 && group == 2)) return false;
    group = wanted;
    group_axes[group].push_back(axis);
  }
  // Each input's stride along each axis of the full shape (0 where it is broadcast).
  std::vector<Strides> stride_of;
  for (const Array& input : inputs) stride_of.push_back(input.broadcast_to(full).strides());
  auto collapses = [&](const std::vector<int>& group, size_t first) {
    for (const auto& strides : stride_of)
      for (size_t i = first + 1; i < group.size(); ++i)
        if (strides[group[i - 1]] != strides[group[i]] * full[group[i]]) return false;
    return true;
  };
  if (!collapses(group_axes[0], 0) || !collapses(group_axes[2], 0)) return false;
  size_t split = 0;  // the reduced axes from `split` on collapse; those before it are looped over
  while (!collapses(group_axes[1], split)) ++split;
  const std::vector<int> outer(group_axes[1].begin(), group_axes[1].begin() + static_cast<std::ptrdiff_t>(split));
  int64_t outer_count = 1;
  for (int axis : outer) outer_count *= full[axis];
  // Partial float16 results could overflow where the whole would not: those run perform(), in double.
  // (Kernels take an initial value only as max/min's identity, which folding partials keeps.)
  const bool combinable = node.output(0).dtype() != DType::Float16;
  if (!outer.empty() && (outer_count == 0 || !combinable)) return false;

  int64_t sizes[3] = {1, 1, 1};
  for (int g : {0, 2})
    for (int axis : group_axes[g]) sizes[g] *= full[axis];
  for (size_t i = split; i < group_axes[1].size(); ++i) sizes[1] *= full[group_axes[1][i]];
  std::vector<int64_t> strides;
  for (const auto& input_strides : stride_of)
    for (int g = 0; g < 3; ++g) {
      const std::vector<int>& members = group_axes[g];
      const size_t first = g == 1 ? split : 0;
      strides.push_back(first < members.size() ? input_strides[members.back()] : 0);
    }
  outputs[0] = Array::empty(kept, node.output(0).dtype());
  if (outputs[0].size() == 0) return true;
  std::vector<char*> data{static_cast<char*>(outputs[0].raw_data())};
  for (const Array& input : inputs) data.push_back(static_cast<char*>(const_cast<void*>(input.raw_data())));
  if (outer.empty()) {
    kernel(sizes, data.data(), strides.data(), cpu_threads());
    return true;
  }
  Array partial = Array::empty(kept, node.output(0).dtype());
  PartialResults total(reduce.kind(), node.output(0).dtype(), partial.size());
  std::vector<char*> moved = data;
  moved[0] = static_cast<char*>(partial.raw_data());
  std::vector<int64_t> index(outer.size(), 0);
  for (int64_t step = 0; step < outer_count; ++step) {
    for (size_t k = 0; k < inputs.size(); ++k) {
      int64_t elements = 0;
      for (size_t i = 0; i < outer.size(); ++i) elements += index[i] * stride_of[k][outer[i]];
      moved[k + 1] = data[k + 1] + elements * static_cast<int64_t>(inputs[k].itemsize());
    }
    kernel(sizes, moved.data(), strides.data(), cpu_threads());
    total.fold(partial, step == 0);
    for (int i = static_cast<int>(outer.size()) - 1; i >= 0 && ++index[i] == full[outer[i]]; --i) index[i] = 0;
  }
  total.store(outputs[0]);
  return true;
}

}  // namespace

void run_cpu_kernel(const CpuKernel& kernel, const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) {
  // Large work on a quick build would take longer than the optimized build has left to compile: it waits.
  if (!kernel.slot->optimized.load(std::memory_order_acquire)) {
    int64_t elements = 0;
    for (const Array& input : inputs) elements += input.size();
    if (elements >= kLargeForQuickBuild) ModuleCache::instance().wait_for_background();
  }
  void* function = kernel.slot->address.load(std::memory_order_acquire);
  if (kernel.kind == CpuKernel::Kind::Elemwise) {
    run_elemwise_kernel(reinterpret_cast<ElemwiseKernelFn>(function), node, inputs, outputs);
    return;
  }
  if (!run_reduce_kernel(reinterpret_cast<ReduceKernelFn>(function), node, inputs, outputs))
    node.op().perform(node, inputs, outputs);
}

}  // namespace hypatia
