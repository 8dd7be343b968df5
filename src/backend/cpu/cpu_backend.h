// The CPU backend: elementwise loops and reductions as generated C++ (lowering.h), compiled together in
// one module per function; convolutions and pooling on oneDNN (onednn.h); every other node runs its op's
// perform() (BLAS, the interpreter).
#pragma once
#include "backend/backend.h"

namespace hypatia {

const Backend& cpu_backend();

}  // namespace hypatia
