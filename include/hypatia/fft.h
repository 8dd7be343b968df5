// Discrete Fourier transforms on FFTW (NumPy's numpy.fft semantics; Theano's tensor.fft layout is composed
// from these in the Python package). Real inputs compute in float32 (float32, float16) or float64 (the
// rest); complex transforms take and give complex64 or complex128.
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

// NumPy's norm: Backward scales the inverse transforms by 1/n, Ortho both by 1/sqrt(n), Forward the forward ones by 1/n.
enum class FftNorm : uint8_t { Backward, Ortho, Forward };

// Over `axes` (distinct; the default: the last): complex to complex, forward and inverse.
Variable fftn(const Operand& x, const std::vector<int>& axes = {-1}, FftNorm norm = FftNorm::Backward);
Variable ifftn(const Operand& x, const std::vector<int>& axes = {-1}, FftNorm norm = FftNorm::Backward);
// Real to complex: the last of `axes` keeps n / 2 + 1 frequencies (the others are Hermitian-redundant).
Variable rfftn(const Operand& x, const std::vector<int>& axes = {-1}, FftNorm norm = FftNorm::Backward);
// Its inverse: complex (the non-redundant half on the last axis) to real, that axis of length
// `last_size` (an int, constant or symbolic; default 2 * (m - 1), m its input length); the input is cut or
// zero-padded to last_size / 2 + 1.
Variable irfftn(const Operand& x, const std::vector<int>& axes = {-1}, std::optional<Operand> last_size = std::nullopt,
                FftNorm norm = FftNorm::Backward);
// The zero frequency moved to the middle of each axis (np.fft.fftshift), and back.
Variable fftshift(const Operand& x, const std::vector<int>& axes = {});
Variable ifftshift(const Operand& x, const std::vector<int>& axes = {});

}  // namespace hypatia
