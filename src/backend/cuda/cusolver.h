// cuSOLVER, loaded at run time like the driver and cuBLAS: the factorizations of the device's linear
// algebra (GpuRuntime::potrf, getrf, syevd) for float32/float64 matrices, as LAPACK's routines take them
// (column-major), on a context's default stream with a workspace kept per context.
#pragma once
#include "backend/cuda/driver.h"
#include "hypatia/dtype.h"

namespace hypatia::cuda {

// Whether libcusolver could be loaded with every function this file calls; its version (11xxx, 12xxx).
bool cusolver_available();
int cusolver_version();

// Addresses are the matrices' own (offsets applied); info: one int32 in device memory.
void potrf(CUcontext context, DType dtype, bool upper, int n, CUdeviceptr a, CUdeviceptr info);
void getrf(CUcontext context, DType dtype, int n, CUdeviceptr a, CUdeviceptr pivots, CUdeviceptr info);
void syevd(CUcontext context, DType dtype, bool upper, bool vectors, int n, CUdeviceptr a, CUdeviceptr w, CUdeviceptr info);

}  // namespace hypatia::cuda
