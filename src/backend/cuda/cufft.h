// cuFFT, loaded at run time like the driver and cuBLAS: the Fft op's transforms for the CUDA runtime, in
// float32 and float64, each plan made once per geometry and kept.
#pragma once
#include "backend/cuda/driver.h"
#include "hypatia/array.h"
#include "ops/fft.h"

namespace hypatia::cuda {

// Whether libcufft could be loaded with every function this file calls; its version (11xxx, 12xxx).
bool cufft_available();
int cufft_version();

// The transforms `g` describes, unscaled, from `in` to `out` (contiguous; pointers are their buffers'
// starts, offsets applied here) on `context`'s default stream (a complex-to-real one overwrites `in`);
// false where cuFFT does not plan the geometry (more than 3 axes, sizes beyond int, lengths it refuses).
bool fft(CUcontext context, const FftGeometry& g, const Array& in, CUdeviceptr in_base, Array& out, CUdeviceptr out_base);

}  // namespace hypatia::cuda
