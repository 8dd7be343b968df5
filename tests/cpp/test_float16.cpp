// float16: promotion, conversion, printing, and ops that compute in float32 and store half, on every mode.
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;

namespace {

Array half(std::initializer_list<double> values) { return Array::from(values, DType::Float16); }

std::vector<double> values_of(const Array& a) {
  std::vector<double> result;
  for (int64_t i = 0; i < a.size(); ++i) result.push_back(a.get_as_double(i));
  return result;
}

}  // namespace

TEST(Float16, PromotionFollowsNumPy) {
  // np.result_type of each pair.
  struct Case { DType a, b, expected; };
  const Case cases[] = {
      {DType::Float16, DType::Int8, DType::Float16},    {DType::Float16, DType::UInt8, DType::Float16},
      {DType::Float16, DType::Int16, DType::Float32},   {DType::Float16, DType::UInt16, DType::Float32},
      {DType::Float16, DType::Int32, DType::Float64},   {DType::Float16, DType::Float32, DType::Float32},
      {DType::Float16, DType::Bool, DType::Float16},    {DType::Float16, DType::Complex64, DType::Complex64},
      {DType::Float32, DType::Int16, DType::Float32},   {DType::Float32, DType::Int32, DType::Float64},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(hp::promote_types(c.a, c.b), c.expected) << hp::dtype_name(c.a) << " + " << hp::dtype_name(c.b);
    EXPECT_EQ(hp::promote_types(c.b, c.a), c.expected);
  }
  EXPECT_EQ(hp::dtype_size(DType::Float16), 2u);
  EXPECT_TRUE(hp::is_float(DType::Float16));
  EXPECT_EQ(hp::upgrade_to_float(DType::Float16), DType::Float16);
  EXPECT_EQ(hp::complex_dtype(DType::Float16), DType::Complex64);
}

TEST(Float16, ConvertsAndPrintsAsNumPy) {
  // np.float16 of each: 65520 rounds to inf, 1e-8 to 0, 0.1 to 0.0999755859375.
  EXPECT_EQ(values_of(Array::from({65520.0, 1e-8, 0.1}).astype(DType::Float16)),
            (std::vector<double>{INFINITY, 0.0, 0.0999755859375}));
  EXPECT_EQ(values_of(half({2.75, -1.5, 300}).astype(DType::Int32)), (std::vector<double>{2, -1, 300}));
  // repr(np.array([0.1, 0.5], dtype=np.float16)) and repr(np.arange(3, dtype=np.float16) / 7).
  EXPECT_EQ(half({0.1, 0.5}).str(), "array([0.1, 0.5], dtype=float16)");
  EXPECT_EQ(half({0.0, 1.0 / 7, 2.0 / 7}).str(), "array([0.    , 0.1428, 0.2856], dtype=float16)");
}

TEST(Float16, OpsComputeInFloat32AndStoreHalfOnEveryMode) {
  auto h = hp::tensor(DType::Float16, {-1}, "h");
  const Array value = half({-3.5, -0.25, -7});
  const std::vector<hp::Variable> outputs = {h * 2 + 1, hp::exp(h), hp::max(h), hp::min(h), hp::sum(h),
                                             hp::dot(h, h)};
  // By hand: 2h + 1 = [-6, 0.5, -13]; exp in float32 rounded to half: exp(-3.5) = 0.030197... -> 0.0302,
  // exp(-0.25) = 0.7788 -> 0.7788, exp(-7) = 0.000911882 -> 0.000912; max -0.25 (every value negative),
  // min -7, sum -10.75, dot 12.25 + 0.0625 + 49 = 61.3125.
  const std::vector<std::vector<double>> expected = {
      {-6, 0.5, -13}, {0.030197383, 0.77880078, 0.000911882}, {-0.25}, {-7}, {-10.75}, {61.3125}};
  for (hp::Mode mode : {hp::Mode::Unoptimized, hp::Mode::FastCompile, hp::Mode::FastRun}) {
    hp::FunctionOptions options;
    options.mode = mode;
    const auto results = hp::function({h}, outputs, {}, {}, options)({value});
    for (size_t k = 0; k < outputs.size(); ++k) {
      EXPECT_EQ(results[k].dtype(), DType::Float16) << k;
      const std::vector<double> got = values_of(results[k]);
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_NEAR(got[i], expected[k][i], std::abs(expected[k][i]) * 1e-3) << "output " << k << " element " << i;
    }
  }
}
