// cuSPARSE, loaded at run time like the driver and the other CUDA libraries: the device's sparse-dense
// products (GpuRuntime::sparse_product) through its generic SpMM, on a context's default stream with a
// workspace kept per context.
#pragma once
#include <cstdint>

#include "backend/cuda/driver.h"
#include "hypatia/dtype.h"

namespace hypatia::cuda {

// Whether libcusparse could be loaded with every function this file calls.
bool cusparse_available();

// The compressed matrix a, as cuSPARSE reads it, times dense row-major b into row-major c.
struct SparseOperand {
  bool by_rows;                 // csr (else csc: read as the transpose of a csr matrix)
  int64_t rows, cols, nnz;      // a's shape and stored entries
  CUdeviceptr values, indices, indptr;
  DType index_dtype;            // of indices and indptr (int32 or int64; the same for both)
};

// c (a.rows x n) = beta * c + alpha * a @ b (a.cols x n), float32 or float64; false where cuSPARSE refuses.
bool spmm(CUcontext context, DType dtype, const SparseOperand& a, int64_t n, CUdeviceptr b, CUdeviceptr c, double alpha, double beta);

}  // namespace hypatia::cuda
