// cuBLAS, loaded at run time like the driver: GEMM for the CUDA runtime (row-major products computed as
// cuBLAS's column-major transposes).
#pragma once
#include "backend/cuda/driver.h"
#include "backend/gpu/runtime.h"

namespace hypatia::cuda {

// Whether libcublas could be loaded (its handle is made per context, on first use).
bool cublas_available();

// c = beta c + alpha a @ b for float32/float64 row-major device matrices (a and b as blas_operand reads
// them, c contiguous) on `context`'s default stream. Pointers are the buffers' starts (offsets in
// elements are applied here).
void gemm(CUcontext context, double alpha, const Array& a, CUdeviceptr a_base, const Array& b, CUdeviceptr b_base, double beta,
          Array& c, CUdeviceptr c_base);

// b (n x k, row-major) <- op(t)^-1 b for one triangle of the row-major n x n float32/float64 matrix t,
// as row-major BLAS's trsm (addresses: the matrices' own, offsets applied).
void trsm(CUcontext context, DType dtype, bool lower, bool transpose, bool unit_diagonal, int n, int k, CUdeviceptr t, CUdeviceptr b);

}  // namespace hypatia::cuda
