// The Fft op (builders in hypatia/fft.h): complex-to-complex, real-to-complex and complex-to-real
// transforms over an array's last `rank` axes, scaled by 1, 1/sqrt(n) or 1/n. The host runs it on FFTW;
// a device backend runs it through its FFT library (cuFFT, clFFT) from the same geometry.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

enum class FftKind : uint8_t { ComplexToComplex, RealToComplex, ComplexToReal };
enum class FftScale : uint8_t { None, SqrtN, N };  // the result divided by 1, sqrt(n) or n (n: the points transformed)

// One call's transforms: `howmany` contiguous arrays of logical shape `n` (the real side's lengths over
// the transformed axes; a half spectrum's last axis holds n.back() / 2 + 1), unscaled, then multiplied by
// `factor`.
struct FftGeometry {
  FftKind kind;
  bool inverse;
  std::vector<int> n;
  int64_t howmany = 0;
  Shape out_shape;
  double factor = 1.0;

  // The elements of one transform's real side, and of its half spectrum (the last axis n.back() / 2 + 1).
  int64_t points() const {
    int64_t total = 1;
    for (int length : n) total *= length;
    return total;
  }
  int64_t half_points() const { return points() / n.back() * (n.back() / 2 + 1); }
  // The distance, in elements, between consecutive transforms of the batch in the input and in the output.
  int64_t input_distance() const { return kind == FftKind::ComplexToReal ? half_points() : points(); }
  int64_t output_distance() const { return kind == FftKind::RealToComplex ? half_points() : points(); }
};

// Complex-to-real transforms take a second input: the int64 length of the output's last axis, whose
// input axis must hold length / 2 + 1 frequencies (the builders cut or pad it).
class Fft : public Op {
 public:
  Fft(FftKind kind, bool inverse, int rank, FftScale scale) : kind_(kind), inverse_(inverse), rank_(rank), scale_(scale) {}
  std::string name() const override { return "fft"; }
  std::string props() const override;
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override;
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const override;
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override;
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override;
  std::string save() const override;
  bool reads_on_host(int input) const override { return input == 1; }  // the complex-to-real length

  // The transforms of a call on these inputs (their shapes, and the output length of a complex-to-real
  // one): a ValueError naming the shapes where the lengths do not fit or pass int sizes.
  FftGeometry geometry(std::span<const Array> inputs) const;
  FftKind kind() const { return kind_; }

 private:
  FftKind kind_;
  bool inverse_;
  int rank_;
  FftScale scale_;
};

}  // namespace hypatia
