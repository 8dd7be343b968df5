// Matrix products on an OpenCL device through CLBlast (Debian's libclblast), loaded at run time like the
// ICD loader, so a machine without it still runs (the products then stay on the host).
#pragma once
#include <optional>

#include "backend/opencl/runtime.h"

namespace hypatia::opencl {

bool clblast_available();

// How a 2-d device array is read by BLAS: row-major with leading dimension ld, or transposed (its
// transpose is row-major); nullopt when neither (the caller copies it contiguous first).
struct BlasOperand {
  bool transposed;
  size_t ld;
};
std::optional<BlasOperand> blas_operand(const Array& matrix);

// c = beta * c + alpha * a @ b for float32/float64 device matrices (c contiguous, row-major).
void gemm(Context& context, double alpha, const Array& a, const Array& b, double beta, Array& c);

}  // namespace hypatia::opencl
