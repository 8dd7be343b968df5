// The device backend of every GPU runtime: fused elementwise loops and reductions as generated kernels
// (codegen/gpu_source.h, printed in the runtime's dialect), matrix products through its BLAS, and the ops
// that only relabel elements (dimshuffle, basic indexing) as views of device memory; every other node
// runs on the host, the placement pass putting transfers around it.
#pragma once
#include <memory>

#include "backend/backend.h"
#include "backend/gpu/runtime.h"

namespace hypatia {

// A backend over `runtime` (which lives as long as the process).
std::unique_ptr<Backend> make_gpu_backend(GpuRuntime& runtime);

}  // namespace hypatia
