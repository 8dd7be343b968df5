// config().flush_denormals: calls flush subnormal floats to zero (operands and results) on every thread
// they use, and leave the caller's floating-point mode as it was.
#include <cmath>
#include <cstring>
#include <tuple>

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

TEST(FlushDenormals, EveryThreadOfALargeKernelAndOfBlasFlushes) {
  if (!hp::can_flush_denormals()) GTEST_SKIP() << "no flush-to-zero mode on this CPU";
  const int saved_threads = hp::config().openmp_threads;
  hp::config().openmp_threads = 2;
  auto x = hp::vector("x", DType::Float32), a = hp::matrix("a", DType::Float32), b = hp::matrix("b", DType::Float32);
  auto flushing = built_with_flushing(true, {x, a, b}, {x * 1e-21f, hp::dot(a, b)});
  auto ieee = built_with_flushing(false, {x, a, b}, {x * 1e-21f, hp::dot(a, b)});
  const int64_t n = 1 << 21, side = 384;  // large enough for both threads
  const std::vector<Array> inputs{Array::full({n}, 1e-20, DType::Float32), Array::full({side, side}, 1e-20, DType::Float32),
                                  Array::full({side, side}, 1e-24, DType::Float32)};
  for (int call = 0; call < 2; ++call) {  // (the second call finds the threads' mode already set)
    auto out = flushing(inputs);
    int64_t nonzero = 0;
    for (int64_t i = 0; i < n; ++i) nonzero += out[0].at<float>({i}) != 0.0f;
    for (int64_t i = 0; i < side * side; ++i) nonzero += out[1].data<float>()[i] != 0.0f;
    EXPECT_EQ(nonzero, 0) << "call " << call;
    // A function built without the setting, called next on the same threads, computes IEEE values again.
    out = ieee(inputs);
    EXPECT_EQ(out[0].at<float>({n - 1}), subnormal_product());
    EXPECT_NE(out[1].data<float>()[side * side - 1], 0.0f);
    EXPECT_NE(out[0].at<float>({0}), 0.0f);
  }
  hp::config().openmp_threads = saved_threads;
}

TEST(FlushDenormals, ProductsSplitAmongThreadsMatchAPlainLoop) {
  // While flushing, a large product splits among OpenMP threads (by rows or by columns, operands
  // transposed or not); each block must land where a plain loop puts it.
  if (!hp::can_flush_denormals()) GTEST_SKIP() << "no flush-to-zero mode on this CPU";
  const int saved_threads = hp::config().openmp_threads;
  hp::config().openmp_threads = 2;
  for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{300, 200, 90}, {70, 200, 333}, {250, 130, 250}})
    for (bool trans_a : {false, true})
      for (bool trans_b : {false, true}) {
        auto a = hp::matrix("a", DType::Float64), b = hp::matrix("b", DType::Float64);
        auto f = built_with_flushing(true, {a, b}, {hp::dot(trans_a ? a.T() : a, trans_b ? b.T() : b)});
        Array av = Array::empty(trans_a ? hp::Shape{k, m} : hp::Shape{m, k}), bv = Array::empty(trans_b ? hp::Shape{n, k} : hp::Shape{k, n});
        for (int64_t i = 0; i < av.size(); ++i) av.data<double>()[i] = std::sin(0.37 * i);
        for (int64_t i = 0; i < bv.size(); ++i) bv.data<double>()[i] = std::cos(0.11 * i);
        const Array out = f({av, bv})[0];
        double worst = 0;
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double expected = 0;
            for (int64_t p = 0; p < k; ++p)
              expected += (trans_a ? av.data<double>()[p * m + i] : av.data<double>()[i * k + p]) *
                          (trans_b ? bv.data<double>()[j * k + p] : bv.data<double>()[p * n + j]);
            worst = std::max(worst, std::abs(out.data<double>()[i * n + j] - expected));
          }
        EXPECT_LT(worst, 1e-11) << m << "x" << k << "x" << n << " trans_a " << trans_a << " trans_b " << trans_b;
      }
  hp::config().openmp_threads = saved_threads;
}
