// The device backend of every GPU runtime: fused elementwise loops and reductions as generated kernels
// (codegen/gpu_source.h, printed in the runtime's dialect), matrix products through its BLAS, and the ops
// that only relabel elements (dimshuffle, basic indexing) as views of device memory; every other node
// runs on the host, the placement pass putting transfers around it.
#pragma once
#include <functional>
#include <memory>

#include "backend/backend.h"
#include "backend/gpu/runtime.h"

namespace hypatia {

// The process's backend for `device`, over the runtime `make_runtime` gives on first use (which may throw
// to say the device is not there). Kept until exit: kernels and arrays refer to it.
const Backend& gpu_backend_for(const Device& device, const std::function<std::unique_ptr<GpuRuntime>()>& make_runtime);

}  // namespace hypatia
