// Library sources carried as text into generated code.
#pragma once

namespace hypatia {

// src/scalar/scalar_math.h, without its #pragma once.
extern const char* const kScalarMathSource;

}  // namespace hypatia
