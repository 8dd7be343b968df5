// config().flush_denormals: calls flush subnormal floats to zero (operands and results) on every thread
// they use, and leave the caller's floating-point mode as it was.
#include <cmath>
#include <cstring>
#include <tuple>

#include "hypatia/scan.h"
#include "runtime/denormals.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;

namespace {

// Built with the setting on (or off), which a function reads when it is built.
hp::Function built_with_flushing(bool flush, const std::vector<hp::Variable>& inputs, const std::vector<hp::Variable>& outputs) {
  const bool saved = hp::config().flush_denormals;
  hp::config().flush_denormals = flush;
  hp::Function f = hp::function(inputs, outputs);
  hp::config().flush_denormals = saved;
  return f;
}

// A product of two normal floats that is subnormal (as NumPy computes it: about 1e-41).
float subnormal_product() {
  volatile float a = 1e-20f, b = 1e-21f;
  return a * b;
}

}  // namespace

TEST(FlushDenormals, OffByDefaultResultsAreIeee) {
  if (!hp::can_flush_denormals()) GTEST_SKIP() << "no flush-to-zero mode on this CPU";
  EXPECT_FALSE(hp::config().flush_denormals);
  ASSERT_NE(subnormal_product(), 0.0f);
  auto x = hp::vector("x", DType::Float32), y = hp::vector("y", DType::Float32);
  auto f = built_with_flushing(false, {x, y}, {x * y, x + 0.0f});
  auto out = f({Array::full({3}, 1e-20, DType::Float32), Array::full({3}, 1e-21, DType::Float32)});
  EXPECT_EQ(out[0].at<float>({1}), subnormal_product());
  const float subnormal = std::numeric_limits<float>::denorm_min() * 7;
  out = f({Array::full({3}, subnormal, DType::Float32), Array::full({3}, 1, DType::Float32)});
  EXPECT_EQ(out[1].at<float>({2}), subnormal);
}

TEST(FlushDenormals, OnFlushesResultsAndOperandsAndRestoresTheCaller) {
  if (!hp::can_flush_denormals()) GTEST_SKIP() << "no flush-to-zero mode on this CPU";
  auto x = hp::vector("x", DType::Float32), y = hp::vector("y", DType::Float32);
  auto f = built_with_flushing(true, {x, y}, {x * y, x + 0.0f});
  auto out = f({Array::full({3}, 1e-20, DType::Float32), Array::full({3}, 1e-21, DType::Float32)});
  for (int64_t i = 0; i < 3; ++i) EXPECT_EQ(out[0].at<float>({i}), 0.0f);
  const float subnormal = std::numeric_limits<float>::denorm_min() * 7;
  out = f({Array::full({3}, subnormal, DType::Float32), Array::full({3}, 1, DType::Float32)});
  EXPECT_EQ(out[1].at<float>({0}), 0.0f);  // read as zero
  EXPECT_NE(subnormal_product(), 0.0f) << "the caller's mode was left flushing";
}

TEST(FlushDenormals, EveryThreadOfALargeKernelAndOfEveryProductFlushes) {
  // A kernel on two threads; float32 products through oneDNN (on the OpenMP threads) and float64 ones
  // split among the OpenMP threads (OpenBLAS on each); subnormal results everywhere (x 1e-21, 1e-44 and
  // 1e-320 products summed 384 times).
  if (!hp::can_flush_denormals()) GTEST_SKIP() << "no flush-to-zero mode on this CPU";
  const int saved_threads = hp::config().openmp_threads;
  hp::config().openmp_threads = 2;
  auto x = hp::vector("x", DType::Float32), a = hp::matrix("a", DType::Float32), b = hp::matrix("b", DType::Float32);
  auto c = hp::matrix("c", DType::Float64), d = hp::matrix("d", DType::Float64);
  const std::vector<hp::Variable> inputs{x, a, b, c, d}, outputs{x * 1e-21f, hp::dot(a, b), hp::dot(c, d)};
  auto flushing = built_with_flushing(true, inputs, outputs);
  auto ieee = built_with_flushing(false, inputs, outputs);
  const int64_t n = 1 << 21, side = 384;  // large enough for both threads
  const std::vector<Array> values{Array::full({n}, 1e-20, DType::Float32), Array::full({side, side}, 1e-20, DType::Float32),
                                  Array::full({side, side}, 1e-24, DType::Float32), Array::full({side, side}, 1e-160),
                                  Array::full({side, side}, 1e-160)};
  auto nonzero = [&](const std::vector<Array>& out) {
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i) count += out[0].at<float>({i}) != 0.0f;
    for (int64_t i = 0; i < side * side; ++i) count += (out[1].data<float>()[i] != 0.0f) + (out[2].data<double>()[i] != 0.0);
    return count;
  };
  for (int round = 0; round < 2; ++round) {
    // Twice in a row (the second call finds the threads as the first left them), then IEEE values again
    // on the same threads from a function built without the setting.
    EXPECT_EQ(nonzero(flushing(values)), 0) << "round " << round;
    EXPECT_EQ(nonzero(flushing(values)), 0) << "round " << round;
    const std::vector<Array> out = ieee(values);
    EXPECT_EQ(nonzero(out), n + 2 * side * side) << "round " << round;
    EXPECT_EQ(out[0].at<float>({n - 1}), subnormal_product());
  }
  hp::config().openmp_threads = saved_threads;
}

TEST(FlushDenormals, ACallerWithOnlyOneOfTheTwoModesGetsTheSettingsMode) {
  // x86 has two bits (results, operands); a caller that set only one of them still gets IEEE values
  // from a function built with the setting off, and its own bit back afterwards.
#if defined(__x86_64__)
  auto x = hp::vector("x", DType::Float32);
  auto f = built_with_flushing(false, {x}, {x * 1e-21f});
  unsigned int saved = 0;
  __asm__ volatile("stmxcsr %0" : "=m"(saved));
  unsigned int ftz_only = saved | 0x8000;
  __asm__ volatile("ldmxcsr %0" : : "m"(ftz_only));
  const Array out = f({Array::full({3}, 1e-20, DType::Float32)})[0];
  unsigned int after = 0;
  __asm__ volatile("stmxcsr %0" : "=m"(after));
  __asm__ volatile("ldmxcsr %0" : : "m"(saved));
  EXPECT_EQ(out.at<float>({0}), subnormal_product());
  EXPECT_EQ(after & 0x8040u, 0x8000u);
#else
  GTEST_SKIP() << "x86 only";
#endif
}

TEST(FlushDenormals, ALoopsStepKeepsTheModeOfTheFunctionThatRunsIt) {
  // One loop in two functions, built with the setting on and off: its step function is compiled once
  // (by the first), and each call's steps compute in the mode of the function called.
  if (!hp::can_flush_denormals()) GTEST_SKIP() << "no flush-to-zero mode on this CPU";
  auto x = hp::matrix("x", DType::Float32);
  hp::ScanResult scaled = hp::scan([](const std::vector<hp::Variable>& a) { return hp::ScanStep(a[0] * 1e-21f); }, {x}, {});
  auto ieee = built_with_flushing(false, {x}, {scaled[0]});
  auto flushing = built_with_flushing(true, {x}, {scaled[0]});
  const Array value = Array::full({3, 4}, 1e-20, DType::Float32);
  for (int round = 0; round < 2; ++round) {
    EXPECT_EQ(ieee({value})[0].at<float>({2, 3}), subnormal_product()) << "round " << round;
    EXPECT_EQ(flushing({value})[0].at<float>({2, 3}), 0.0f) << "round " << round;
  }
}
