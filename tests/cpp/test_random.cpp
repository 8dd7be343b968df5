// The Philox generator: known-answer vectors, distributions and reproducibility.
#include <cmath>

#include "test_util.h"

namespace hp = hypatia;
using hp::testing::throws_with;

TEST(Random, PhiloxMatchesTheRandom123KnownAnswers) {
  struct Case { uint32_t counter[4]; uint32_t key[2]; uint32_t expected[4]; };
  const Case cases[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Case& c : cases) {
    uint32_t out[4];
    hp::random::Generator::philox4x32(c.counter, c.key, out);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i], c.expected[i]) << "word " << i;
  }
}

TEST(Random, SameSeedSameNumbers) {
  hp::random::Generator a(42), b(42), c(43);
  hp::Array x = a.normal({100}), y = b.normal({100}), z = c.normal({100});
  EXPECT_TRUE(x.equals(y));
  EXPECT_FALSE(x.equals(z));
  hp::random::seed(5);
  hp::Array first = hp::random::uniform({3});
  hp::random::seed(5);
  EXPECT_TRUE(first.equals(hp::random::uniform({3})));
}

TEST(Random, NormalHasTheRequestedMoments) {
  hp::random::Generator rng(1);
  hp::Array x = rng.normal({100000}, 2.0, 0.5);
  double sum = 0, sum_sq = 0;
  for (int64_t i = 0; i < x.size(); ++i) sum += x.get_as_double(i);
  double mean = sum / x.size();
  for (int64_t i = 0; i < x.size(); ++i) sum_sq += std::pow(x.get_as_double(i) - mean, 2);
  EXPECT_NEAR(mean, 2.0, 0.01);
  EXPECT_NEAR(std::sqrt(sum_sq / x.size()), 0.5, 0.01);
  EXPECT_EQ(rng.normal({2, 3}, 0, 1, hp::DType::Float32).dtype(), hp::DType::Float32);
}

TEST(Random, UniformStaysInRange) {
  hp::random::Generator rng(2);
  hp::Array x = rng.uniform({10000}, -1.0, 3.0);
  double lo = 10, hi = -10, sum = 0;
  for (int64_t i = 0; i < x.size(); ++i) {
    double v = x.get_as_double(i);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  EXPECT_GE(lo, -1.0);
  EXPECT_LT(hi, 3.0);
  EXPECT_NEAR(sum / x.size(), 1.0, 0.05);
}

TEST(Random, BinomialHasTheRightMeanAndVariance) {
  hp::random::Generator rng(3);
  for (auto [n, p] : {std::pair<int64_t, double>{10, 0.3}, {200, 0.5}, {50, 0.9}}) {
    hp::Array x = rng.binomial({20000}, n, p);
    double sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < x.size(); ++i) {
      double v = x.get_as_double(i);
      EXPECT_GE(v, 0);
      EXPECT_LE(v, n);
      sum += v;
      sum_sq += v * v;
    }
    double mean = sum / x.size(), variance = sum_sq / x.size() - mean * mean;
    EXPECT_NEAR(mean, n * p, 0.05 * n * p) << "n=" << n << " p=" << p;
    EXPECT_NEAR(variance, n * p * (1 - p), 0.1 * n * p * (1 - p)) << "n=" << n << " p=" << p;
  }
}

TEST(Random, PermutationIsAPermutation) {
  hp::random::Generator rng(4);
  hp::Array perm = rng.permutation(100);
  std::vector<bool> seen(100, false);
  for (int64_t i = 0; i < 100; ++i) seen.at(static_cast<size_t>(perm.get_as_double(i))) = true;
  for (bool s : seen) EXPECT_TRUE(s);
  EXPECT_FALSE(perm.equals(hp::Array::arange(100)));
}

TEST(Random, BadArgumentsAreRefused) {
  hp::random::Generator rng;
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { rng.normal({2}, 0, -1); }, {"[random] normal needs stddev >= 0"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { rng.uniform({2}, 1, 0); }, {"[random] uniform needs low <= high"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { rng.binomial({2}, 5, 1.5); }, {"0 <= p <= 1"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { rng.binomial({2}, -1, 0.5); }, {"n >= 0"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { rng.uniform({2}, 0, 1, hp::DType::Int32); }, {"draws floats"}));
}
