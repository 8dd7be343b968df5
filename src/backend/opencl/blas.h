// Matrix products on an OpenCL device through CLBlast (Debian's libclblast), loaded at run time like the
// ICD loader, so a machine without it still runs (the products then stay on the host).
#pragma once
#include "backend/gpu/runtime.h"
#include "backend/opencl/runtime.h"

namespace hypatia::opencl {

bool clblast_available();

// c = beta * c + alpha * a @ b for float32/float64 device matrices (a and b as blas_operand reads them,
// c contiguous, row-major).
void gemm(Context& context, double alpha, const Array& a, const Array& b, double beta, Array& c);

}  // namespace hypatia::opencl
