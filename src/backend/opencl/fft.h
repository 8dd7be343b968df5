// Fourier transforms on an OpenCL device through clFFT (Debian's libclfft2), loaded at run time like
// CLBlast, so a machine without it still runs (the transforms then stay on the host).
#pragma once
#include "backend/opencl/runtime.h"
#include "ops/fft.h"

namespace hypatia::opencl {

bool clfft_available();

// The transforms `g` describes, unscaled, from `in` into `out` (contiguous, at offset 0) on the context's
// queue; false where clFFT cannot plan them (more than 3 axes, or lengths it does not take).
bool fft(Context& context, const FftGeometry& g, const Array& in, Array& out);

}  // namespace hypatia::opencl
