// The CUDA backend: the device backend (gpu/gpu_backend.h) over the driver API, its kernels printed as
// CUDA C++ and compiled by NVRTC (cached as cubins, kernel_cache.h), GEMM through cuBLAS. Everything is
// loaded at run time: without a driver or GPU the backend is simply not available.
#pragma once
#include "backend/backend.h"

namespace hypatia {

// ValueError naming the devices present, and why CUDA is not, when `device` is not a CUDA device here.
const Backend& cuda_backend(const Device& device);

}  // namespace hypatia
