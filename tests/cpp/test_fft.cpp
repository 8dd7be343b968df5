// Fourier transforms through the C++ API (hypatia/fft.h): transforms worked out by hand, the inverse
// round trips, gradients by finite differences, saving and loading, and errors.
#include <cmath>
#include <complex>

#include "hypatia/fft.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::expect_grad_ok;
using hp::testing::run1;
using hp::testing::run_every_mode;
using hp::testing::values;
using hp::testing::throws_with;
using Z = std::complex<double>;

namespace {

Array complex_values(std::vector<Z> data, const hp::Shape& shape) { return Array::from_vector<Z>(data, shape); }

}  // namespace

TEST(Fft, TransformsByHand) {
  auto x = hp::vector("x");
  // The DFT of [1, 2, 3, 4]: X_k = sum x_j e^{-2 pi i jk / 4}: X_0 = 10, X_1 = -2 + 2i, X_2 = -2, X_3 = -2 - 2i.
  const Array signal = values({1, 2, 3, 4}, {4});
  EXPECT_TRUE(arrays_close(run1({x}, hp::fftn(x), {signal}), complex_values({10, {-2, 2}, -2, {-2, -2}}, {4})));
  // The real transform keeps frequencies 0..2.
  EXPECT_TRUE(arrays_close(run1({x}, hp::rfftn(x), {signal}), complex_values({10, {-2, 2}, -2}, {3})));
  // Ortho scales by 1/sqrt(4) = 1/2; forward by 1/4.
  EXPECT_TRUE(arrays_close(run1({x}, hp::rfftn(x, {-1}, hp::FftNorm::Ortho), {signal}), complex_values({5, {-1, 1}, -1}, {3})));
  EXPECT_TRUE(arrays_close(run1({x}, hp::rfftn(x, {-1}, hp::FftNorm::Forward), {signal}),
                           complex_values({2.5, {-0.5, 0.5}, -0.5}, {3})));
  // The inverses give the signal back (an odd length too: [1, 2, 3] -> 3 frequencies... of which 2 are kept).
  EXPECT_TRUE(arrays_close(run1({x}, hp::irfftn(hp::rfftn(x)), {signal}), signal));
  EXPECT_TRUE(arrays_close(run1({x}, hp::irfftn(hp::rfftn(x), {-1}, 3), {values({1, 2, 3}, {3})}), values({1, 2, 3}, {3})));
  EXPECT_TRUE(arrays_close(run1({x}, hp::real(hp::ifftn(hp::fftn(x))), {signal}), signal));
  // A 2-d transform over both axes of [[1, 2], [3, 4]]: [[10, -2], [-4, 0]].
  auto m = hp::matrix("m");
  EXPECT_TRUE(arrays_close(run1({m}, hp::fftn(m, {0, 1}), {values({1, 2, 3, 4}, {2, 2})}), complex_values({10, -2, -4, 0}, {2, 2})));
  // Over axis 0 only: columns [1, 3] and [2, 4] -> [[4, 6], [-2, -2]].
  EXPECT_TRUE(arrays_close(run1({m}, hp::fftn(m, {0}), {values({1, 2, 3, 4}, {2, 2})}), complex_values({4, 6, -2, -2}, {2, 2})));
  // fftshift of [0, 1, 2, 3, 4] is [3, 4, 0, 1, 2]; ifftshift undoes it.
  EXPECT_TRUE(arrays_close(run1({x}, hp::fftshift(x), {values({0, 1, 2, 3, 4}, {5})}), values({3, 4, 0, 1, 2}, {5})));
  EXPECT_TRUE(arrays_close(run1({x}, hp::ifftshift(hp::fftshift(x)), {values({0, 1, 2, 3, 4}, {5})}), values({0, 1, 2, 3, 4}, {5})));
  // float32 signals transform in complex64.
  auto f = hp::vector("f", DType::Float32);
  EXPECT_EQ(hp::rfftn(f).dtype(), DType::Complex64);
}

TEST(Fft, GradientsByFiniteDifferences) {
  using V = std::vector<hp::Variable>;
  const Array signal = values({0.3, -1.2, 0.8, 2.0, -0.5}, {5}), even = values({0.3, -1.2, 0.8, 2.0}, {4});
  const Array weights = values({0.7, -0.2, 1.1}, {3});
  const hp::Variable weighted = hp::constant(weights);
  // A real cost of the spectrum: its real and imaginary parts weighted.
  expect_grad_ok([&](const V& x) { return hp::sum(hp::real(hp::rfftn(x[0])) * weighted + hp::imag(hp::rfftn(x[0])) * 2.0); }, {signal});
  expect_grad_ok([&](const V& x) { return hp::sum(hp::real(hp::rfftn(x[0])) * weighted + hp::imag(hp::rfftn(x[0])) * 2.0); }, {even});
  expect_grad_ok([](const V& x) { return hp::irfftn(hp::complex(x[0], x[1]), {-1}, 5); }, {weights, values({0.1, 0.4, -0.3}, {3})});
  expect_grad_ok([](const V& x) { return hp::abs(hp::fftn(hp::complex(x[0], x[1]), {-1}, hp::FftNorm::Ortho)); },
                 {signal, values({0.5, 0.1, -0.7, 0.2, 0.9}, {5})});
}

TEST(Fft, SavedAndLoaded) {
  auto x = hp::vector("x");
  const hp::Variable out = hp::irfftn(hp::rfftn(x, {-1}, hp::FftNorm::Ortho), {-1}, 5, hp::FftNorm::Ortho);
  const auto [inputs, outputs] = hp::load_graph(hp::save_graph({x}, {out}));
  const Array signal = values({1, 2, 3, 4, 5}, {5});
  EXPECT_TRUE(arrays_close(run1(inputs, outputs[0], {signal}), signal));
}

TEST(Fft, Errors) {
  auto x = hp::vector("x");
  auto z = hp::vector("z", DType::Complex128);
  EXPECT_TRUE((throws_with<hp::TypeError>([&] { hp::rfftn(z); }, {"[rfftn]", "real", "complex128"})));
  EXPECT_TRUE((throws_with<hp::ValueError>([&] { hp::fftn(x, {1}); }, {"axis"})));
  EXPECT_TRUE((throws_with<hp::ValueError>([&] { hp::irfftn(z, {-1}, 0); }, {"[irfftn]", "at least 1"})));
}
