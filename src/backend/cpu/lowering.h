// The CPU backend's lowering: elementwise nodes (fused or single) and reductions (fused or plain sum,
// prod, max, min) get generated kernels, compiled together in one module per function; every other
// node runs its op's perform(). With tiered compilation (config's tiered_compilation), a function whose
// optimized module is in no cache starts on a quick (-O0) build of the same source and switches to the
// optimized one when the background build lands: the same values (a NaN's sign and payload aside), sooner.
#pragma once
#include <memory>
#include <span>
#include <vector>

#include "codegen/cpu_source.h"

namespace hypatia {

struct KernelSlot;  // module_cache.h

struct CpuKernel {
  enum class Kind : uint8_t { None, Elemwise, Reduce };
  Kind kind = Kind::None;
  // The module cache's slot for the kernel (ModuleCache::kernel): its address, swapped for the optimized
  // build's when that lands.
  const KernelSlot* slot = nullptr;
  explicit operator bool() const { return slot != nullptr; }
};

// One kernel per node; Kind::None where the node keeps perform() (another op, or no compiler).
std::vector<CpuKernel> lower_to_cpu_kernels(const std::vector<std::shared_ptr<Apply>>& nodes);

// The specs of a node's kernel; false for nodes without one.
bool elemwise_kernel_spec(const Apply& node, ElemwiseKernelSpec& spec);
bool reduce_kernel_spec(const Apply& node, ReduceKernelSpec& spec);

// Runs a node through its generated kernel: checks and broadcasts the shapes, allocates the outputs,
// collapses the dimensions the operands traverse alike, and calls the kernel. A reduction whose
// layout the kernel cannot take (reduced axes not adjacent after collapsing) runs perform().
void run_cpu_kernel(const CpuKernel& kernel, const Apply& node, std::span<const Array> inputs, std::span<Array> outputs);

}  // namespace hypatia
