// The OpenCL backend: fused elementwise loops as generated OpenCL C (codegen/gpu_source.h), run on one
// device's in-order queue; every other node runs on the host, the placement pass putting transfers
// around it. Runs for real on PoCL (OpenCL on the CPU), which is how `make test` exercises device code.
#pragma once
#include <memory>

#include "backend/backend.h"

namespace hypatia {

const Backend& opencl_backend(const Device& device);  // ValueError when the device is not present

class GpuRuntime;
// A new runtime over the device's context (the backend above holds one; a test wraps another).
std::unique_ptr<GpuRuntime> opencl_runtime(const Device& device);

}  // namespace hypatia
