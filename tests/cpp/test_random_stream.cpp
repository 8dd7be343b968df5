// Symbolic random draws: fresh numbers each call, replay by seed, distributions, gradients, dropout.
#include <cmath>

#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::throws_with;

namespace {
double mean_of(const Array& a) {
  double total = 0;
  for (int64_t i = 0; i < a.size(); ++i) total += a.get_as_double(i);
  return total / static_cast<double>(a.size());
}
double std_of(const Array& a) {
  double m = mean_of(a), total = 0;
  for (int64_t i = 0; i < a.size(); ++i) total += std::pow(a.get_as_double(i) - m, 2);
  return std::sqrt(total / static_cast<double>(a.size()));
}
}  // namespace

TEST(RandomStream, EachCallDrawsFreshNumbersAndSeedsReplay) {
  hp::RandomStream stream(7);
  auto u = stream.uniform({3});
  auto f = hp::function({}, {u});
  Array first = f({})[0], second = f({})[0];
  EXPECT_FALSE(first.equals(second));
  hp::RandomStream again(7);
  auto g = hp::function({}, {again.uniform({3})});
  EXPECT_TRUE(g({})[0].equals(first));
  EXPECT_TRUE(g({})[0].equals(second));
  stream.seed(7);  // restarts the stream
  EXPECT_TRUE(f({})[0].equals(first));
  hp::RandomStream other(8);
  EXPECT_FALSE(hp::function({}, {other.uniform({3})})({})[0].equals(first));
}

TEST(RandomStream, DrawsInOneGraphAreIndependent) {
  hp::RandomStream stream(1);
  auto a = stream.normal({4}), b = stream.normal({4});
  auto out = hp::function({}, {a, b})({});
  EXPECT_FALSE(out[0].equals(out[1]));
  // One node read twice is one draw.
  auto same = hp::function({}, {a, a * 1.0})({});
  EXPECT_TRUE(arrays_close(same[0], same[1]));
}

TEST(RandomStream, Distributions) {
  hp::RandomStream stream(3);
  auto x = hp::matrix("x");
  auto u = stream.uniform({hp::shape_i(x, 0), 1000}, -1.0, 3.0);
  auto z = stream.normal({100000}, 2.0, 0.5, DType::Float32);
  auto coin = stream.binomial({100000}, 10, 0.3);
  auto out = hp::function({x}, {u, z, coin})({Array::zeros({100, 2})});
  EXPECT_EQ(out[0].shape(), (hp::Shape{100, 1000}));
  EXPECT_NEAR(mean_of(out[0]), 1.0, 0.02);
  EXPECT_EQ(out[1].dtype(), DType::Float32);
  EXPECT_NEAR(mean_of(out[1]), 2.0, 0.01);
  EXPECT_NEAR(std_of(out[1]), 0.5, 0.01);
  EXPECT_EQ(out[2].dtype(), DType::Int64);
  EXPECT_NEAR(mean_of(out[2]), 3.0, 0.03);
  EXPECT_NEAR(std_of(out[2]), std::sqrt(2.1), 0.03);
}

TEST(RandomStream, PoissonGammaAndBetaMoments) {
  // Means and standard deviations by hand: Poisson(lam) has both lam and sqrt(lam); scale * Gamma(k) has
  // k scale and sqrt(k) scale; Beta(a, b) has a / (a + b) and sqrt(ab / ((a + b)^2 (a + b + 1))).
  hp::RandomStream stream(9);
  auto small = stream.poisson({100000}, 4.0), large = stream.poisson({100000}, 400.0);
  auto gamma = stream.gamma({100000}, 0.3, 2.0), gamma_large = stream.gamma({100000}, 9.0, 0.5, DType::Float32);
  auto beta = stream.beta({100000}, 2.0, 3.0);
  auto out = hp::function({}, {small, large, gamma, gamma_large, beta})({});
  EXPECT_EQ(out[0].dtype(), DType::Int64);
  EXPECT_NEAR(mean_of(out[0]), 4.0, 0.03);
  EXPECT_NEAR(std_of(out[0]), 2.0, 0.02);
  EXPECT_NEAR(mean_of(out[1]), 400.0, 0.3);
  EXPECT_NEAR(std_of(out[1]), 20.0, 0.2);
  EXPECT_NEAR(mean_of(out[2]), 0.6, 0.01);
  EXPECT_NEAR(std_of(out[2]), std::sqrt(0.3) * 2.0, 0.02);
  EXPECT_EQ(out[3].dtype(), DType::Float32);
  EXPECT_NEAR(mean_of(out[3]), 4.5, 0.01);
  EXPECT_NEAR(std_of(out[3]), 1.5, 0.01);
  EXPECT_NEAR(mean_of(out[4]), 0.4, 0.003);
  EXPECT_NEAR(std_of(out[4]), 0.2, 0.002);
}

TEST(RandomStream, ParametersBroadcast) {
  hp::RandomStream stream(4);
  auto mean = hp::row("mean");
  auto z = stream.normal({2000, 2}, mean, 0.001);
  Array out = hp::eval(z, {{mean, Array::from({{-5, 5}})}});
  EXPECT_NEAR(out.at<double>({0, 0}), -5, 0.01);
  EXPECT_NEAR(out.at<double>({1999, 1}), 5, 0.01);
  auto p = hp::tensor(DType::Float64, {1, 2}, "p");
  Array coins = hp::eval(stream.binomial({3, 2}, 1, p), {{p, Array::from({{0.0, 1.0}})}});
  EXPECT_TRUE(coins.equals(Array::from_vector<int64_t>({0, 1, 0, 1, 0, 1}, {3, 2})));
}

TEST(RandomStream, GradientsReachMeanAndStddev) {
  hp::RandomStream stream(5);
  auto mean = hp::scalar("mean"), stddev = hp::scalar("stddev");
  auto sample = stream.normal({10}, mean, stddev);
  auto g = hp::grad(hp::sum(sample), {mean, stddev});
  auto f = hp::function({mean, stddev}, {g[0], g[1], sample});
  auto out = f({Array::scalar(1.0), Array::scalar(2.0)});
  EXPECT_DOUBLE_EQ(out[0].item(), 10.0);
  // d sum(mean + stddev z) / d stddev = sum(z) = sum((sample - mean) / stddev) for this call's draw.
  double z_sum = 0;
  for (int64_t i = 0; i < 10; ++i) z_sum += (out[2].get_as_double(i) - 1.0) / 2.0;
  EXPECT_NEAR(out[1].item(), z_sum, 1e-12);
}

TEST(RandomStream, DropoutTrainsLikeAnyOtherGraph) {
  hp::RandomStream stream(6);
  auto x = hp::matrix("x");
  auto mask = stream.binomial({hp::shape_i(x, 0), hp::shape_i(x, 1)}, 1, 0.5, DType::Float64);
  auto dropped = hp::function({x}, {x * mask});
  Array out = dropped({Array::ones({50, 40})})[0];
  double kept = mean_of(out);
  EXPECT_GT(kept, 0.4);
  EXPECT_LT(kept, 0.6);
  for (int64_t i = 0; i < out.size(); ++i) EXPECT_TRUE(out.get_as_double(i) == 0.0 || out.get_as_double(i) == 1.0);
}

TEST(RandomStream, FailedCallsDoNotAdvanceTheState) {
  hp::RandomStream stream(9);
  auto x = hp::vector("x");
  auto f = hp::function({x}, {x + stream.uniform({3})});
  Array before = stream.states()[0].get_value();
  EXPECT_THROW(f({Array::zeros({4})}), hp::ShapeError);
  EXPECT_TRUE(stream.states()[0].get_value().equals(before));
  f({Array::zeros({3})});
  EXPECT_FALSE(stream.states()[0].get_value().equals(before));
}

TEST(RandomStream, Errors) {
  hp::RandomStream stream;
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { stream.uniform({2}, 0.0, 1.0, DType::Int32); },
                                         {"[uniform] draws floats", "test_random_stream.cpp"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { stream.normal({2.5}); }, {"[normal] dimensions must be integer scalars"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { stream.uniform({-1}); }, {"[uniform] negative dimension -1"}));
  auto p = hp::scalar("p");
  auto f = hp::function({p}, {stream.binomial({2}, 1, p)});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({Array::scalar(1.5)}); }, {"[binomial] p must be in [0, 1]", "test_random_stream.cpp"}));
}
