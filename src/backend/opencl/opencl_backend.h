// The OpenCL backend: fused elementwise loops as generated OpenCL C (codegen/gpu_source.h), run on one
// device's in-order queue; every other node runs on the host, the placement pass putting transfers
// around it. Runs for real on PoCL (OpenCL on the CPU), which is how `make test` exercises device code.
#pragma once
#include "backend/backend.h"

namespace hypatia {

const Backend& opencl_backend(const Device& device);  // ValueError when the device is not present

}  // namespace hypatia
