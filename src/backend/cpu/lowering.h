// The CPU backend's lowering: elementwise nodes (fused or single) get generated kernels, compiled
// together in one module per function; every other node runs its op's perform().
#pragma once
#include <memory>
#include <span>
#include <vector>

#include "codegen/cpu_source.h"

namespace hypatia {

// One kernel per node, or null where the node keeps perform() (not elementwise, or no compiler).
std::vector<ElemwiseKernelFn> lower_to_cpu_kernels(const std::vector<std::shared_ptr<Apply>>& nodes);

// The spec of an elementwise node's kernel; false for other nodes.
bool elemwise_kernel_spec(const Apply& node, ElemwiseKernelSpec& spec);

// Runs an elementwise node through its generated kernel: checks and broadcasts the shapes, allocates
// the outputs, collapses the dimensions the operands traverse alike, and calls the kernel.
void run_elemwise_kernel(ElemwiseKernelFn kernel, const Apply& node, std::span<const Array> inputs,
                         std::span<Array> outputs);

}  // namespace hypatia
