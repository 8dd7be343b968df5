// complex64 and complex128: promotion, conversion, printing, the scalar rows defined on complex numbers
// (reference interpreter against generated kernels), refusals, and Theano's gradient convention.
#include <complex>

#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::throws_with;
using Z = std::complex<double>;

namespace {

Array complex_vector(std::vector<Z> values, DType dtype = DType::Complex128) {
  return Array::from_vector<Z>(values).astype(dtype);
}

std::vector<Z> values_of(const Array& a) {
  const Array z = a.astype(DType::Complex128).contiguous();
  return std::vector<Z>(z.data<Z>(), z.data<Z>() + z.size());
}

// The outputs of `outputs` on every mode: the unoptimized interpreter is the reference.
std::vector<std::vector<Array>> on_every_mode(const std::vector<hp::Variable>& inputs, const std::vector<hp::Variable>& outputs,
                                              const std::vector<Array>& values) {
  std::vector<std::vector<Array>> results;
  for (hp::Mode mode : {hp::Mode::Unoptimized, hp::Mode::FastCompile, hp::Mode::FastRun}) {
    hp::FunctionOptions options;
    options.mode = mode;
    results.push_back(hp::function(inputs, outputs, {}, {}, options)(values));
  }
  return results;
}

}  // namespace

TEST(Complex, PromotionFollowsNumPy) {
  // np.result_type of each pair.
  struct Case { DType a, b, expected; };
  const Case cases[] = {
      {DType::Complex64, DType::Float32, DType::Complex64},   {DType::Complex64, DType::Float64, DType::Complex128},
      {DType::Complex64, DType::Int8, DType::Complex64},      {DType::Complex64, DType::Int16, DType::Complex64},
      {DType::Complex64, DType::Int32, DType::Complex128},    {DType::Complex64, DType::UInt64, DType::Complex128},
      {DType::Complex64, DType::Bool, DType::Complex64},      {DType::Complex64, DType::Complex128, DType::Complex128},
      {DType::Complex128, DType::Float32, DType::Complex128},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(hp::promote_types(c.a, c.b), c.expected) << hp::dtype_name(c.a) << " + " << hp::dtype_name(c.b);
    EXPECT_EQ(hp::promote_types(c.b, c.a), c.expected);
  }
  EXPECT_EQ(hp::real_dtype(DType::Complex64), DType::Float32);
  EXPECT_EQ(hp::complex_dtype(DType::Int32), DType::Complex128);
  EXPECT_TRUE(hp::is_inexact(DType::Complex64));
  EXPECT_FALSE(hp::is_float(DType::Complex64));
  EXPECT_FALSE(hp::is_integer(DType::Complex128));
  EXPECT_EQ(hp::dtype_size(DType::Complex128), 16u);
}

TEST(Complex, ConversionsKeepOrDropTheImaginaryPartAsNumPyDoes) {
  const Array z = complex_vector({{1.5, -2}, {0, 3}});
  EXPECT_TRUE(arrays_close(z.astype(DType::Float64), Array::from({1.5, 0.0})));  // astype drops it
  EXPECT_EQ(values_of(Array::from({2.0, -1.0}).astype(DType::Complex64)), (std::vector<Z>{{2, 0}, {-1, 0}}));
  EXPECT_EQ(values_of(z.astype(DType::Complex64)), values_of(z));
  EXPECT_EQ(z.astype(DType::Bool).str(), "array([ True,  True])");
}

TEST(Complex, PrintsAsNumPy) {
  // repr(np.array([1+2j, 3-1j])) and the same as complex64.
  EXPECT_EQ(complex_vector({{1, 2}, {3, -1}}).str(), "array([1.+2.j, 3.-1.j])");
  EXPECT_EQ(complex_vector({{1, 2}, {3, -1}}, DType::Complex64).str(), "array([1.+2.j, 3.-1.j], dtype=complex64)");
  EXPECT_EQ(complex_vector({{0.5, 0}}).str(), "array([0.5+0.j])");
}

TEST(Complex, ScalarRowsByHandOnEveryMode) {
  auto z = hp::tensor(DType::Complex128, {-1}, "z");
  auto w = hp::tensor(DType::Complex128, {-1}, "w");
  const Array a = complex_vector({{1, 2}, {3, 4}}), b = complex_vector({{3, -1}, {0, 1}});
  const double pi = 3.141592653589793;
  const std::vector<hp::Variable> outputs = {z * w, z / w, hp::abs(z), hp::real(z), hp::imag(z), hp::conj(z),
                                             hp::angle(w), hp::exp(z * 0 + hp::complex(0.0, pi)), hp::sqr(z),
                                             hp::eq(z, w), hp::complex(hp::real(z), hp::imag(w))};
  // (1+2i)(3-i) = 5+5i, (3+4i)i = -4+3i; (1+2i)/(3-i) = (1+7i)/10, (3+4i)/i = 4-3i; |3+4i| = 5;
  // angle(3-i) = -atan(1/3), angle(i) = pi/2; exp(i pi) = -1; (1+2i)^2 = -3+4i, (3+4i)^2 = -7+24i.
  const std::vector<std::vector<Z>> expected = {
      {{5, 5}, {-4, 3}},  {{0.1, 0.7}, {4, -3}}, {{std::sqrt(5.0), 0}, {5, 0}}, {{1, 0}, {3, 0}},
      {{2, 0}, {4, 0}},   {{1, -2}, {3, -4}},     {{-std::atan(1.0 / 3), 0}, {pi / 2, 0}},
      {{-1, 0}, {-1, 0}}, {{-3, 4}, {-7, 24}},    {{0, 0}, {0, 0}},          {{1, -1}, {3, 1}}};
  for (const auto& results : on_every_mode({z, w}, outputs, {a, b}))
    for (size_t k = 0; k < outputs.size(); ++k) {
      const std::vector<Z> got = values_of(results[k]);
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_NEAR(std::abs(got[i] - expected[k][i]), 0, 1e-12) << "output " << k << " element " << i;
    }
  EXPECT_EQ(hp::abs(z).dtype(), DType::Float64);
  EXPECT_EQ(hp::real(hp::tensor(DType::Complex64, {-1}, "c")).dtype(), DType::Float32);
}

TEST(Complex, SumsProductsAndDotsOnEveryMode) {
  auto x = hp::tensor(DType::Complex64, {-1, -1}, "x");
  const Array a = Array::from_vector<Z>({{1, 1}, {2, 0}, {0, 1}, {1, -1}}, {2, 2}).astype(DType::Complex64);
  const std::vector<hp::Variable> outputs = {hp::sum(x), hp::prod(x, {1}), hp::dot(x, x)};
  // sum = 4+1i; row products (1+i)2 = 2+2i, i(1-i) = 1+i; [[1+i,2],[i,1-i]]^2 = [[2i+2i, 2+2i+2-2i], [i-1+i+1, 2i+(1-i)^2]].
  const std::vector<std::vector<Z>> expected = {{{4, 1}}, {{2, 2}, {1, 1}}, {{0, 4}, {4, 0}, {0, 2}, {0, 0}}};
  for (const auto& results : on_every_mode({x}, outputs, {a}))
    for (size_t k = 0; k < outputs.size(); ++k) {
      EXPECT_EQ(results[k].dtype(), DType::Complex64);
      const std::vector<Z> got = values_of(results[k]);
      ASSERT_EQ(got.size(), expected[k].size());
      for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(std::abs(got[i] - expected[k][i]), 0, 1e-6) << k << " " << i;
    }
}

TEST(Complex, OrderingAndRealOnlyFunctionsAreRefusedWithTheOpNamed) {
  auto z = hp::tensor(DType::Complex128, {-1}, "z");
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::maximum(z, z); }, {"[maximum]", "complex"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { (void)(z < z); }, {"[lt]", "complex128"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::floor(z); }, {"[floor]"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::max(z); }, {"max", "complex128"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::cast(z, DType::Float64); }, {"[cast]", "ambiguous"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::complex(z, z); }, {"[complex]", "real parts"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::grad(hp::sum(z), z); }, {"[grad]", "real"}));
}

TEST(Complex, GradientFollowsTheanoRealPartPlusITimesImaginaryPart) {
  // C = |z|^2 summed = sum x^2 + y^2: dC/dRe + i dC/dIm = 2z. C = Re(z w): gradient wrt z is conj(w).
  auto z = hp::tensor(DType::Complex128, {-1}, "z");
  auto w = hp::tensor(DType::Complex128, {-1}, "w");
  const Array a = complex_vector({{1, 2}, {-3, 0.5}}), b = complex_vector({{2, -1}, {0, 3}});
  const auto grads = hp::grad(hp::sum(hp::sqr(hp::abs(z))) + hp::sum(hp::real(z * w)), {z, w});
  const std::vector<Array> got = hp::function({z, w}, grads)({a, b});
  const std::vector<Z> gz = values_of(got[0]), gw = values_of(got[1]);
  const std::vector<Z> az = values_of(a), bw = values_of(b);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(std::abs(gz[i] - (2.0 * az[i] + std::conj(bw[i]))), 0, 1e-12);
    EXPECT_NEAR(std::abs(gw[i] - std::conj(az[i])), 0, 1e-12);
  }
}
