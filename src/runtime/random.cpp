#include "hypatia/random.h"

#include <cmath>
#include <numbers>

#include "hypatia/error.h"

namespace hypatia::random {
namespace {

constexpr uint32_t kMultiplier0 = 0xD2511F53, kMultiplier1 = 0xCD9E8D57;
constexpr uint32_t kWeyl0 = 0x9E3779B9, kWeyl1 = 0xBB67AE85;

void check(bool ok, const std::string& message) {
  if (!ok) throw ValueError("[random] " + message);
}

template <class Fill> Array generate(const Shape& shape, DType dtype, Fill fill) {
  // Draws in double, then converts, so float32 and float64 arrays of one seed agree.
  Array values = Array::empty(shape, DType::Float64);
  double* data = values.data<double>();
  fill(data, values.size());
  return dtype == DType::Float64 ? values : values.astype(dtype);
}

}  // namespace

void Generator::philox4x32(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c[4] = {counter[0], counter[1], counter[2], counter[3]};
  uint32_t k[2] = {key[0], key[1]};
  for (int round = 0; round < 10; ++round) {
    if (round) {
      k[0] += kWeyl0;
      k[1] += kWeyl1;
    }
    uint64_t product0 = static_cast<uint64_t>(kMultiplier0) * c[0];
    uint64_t product1 = static_cast<uint64_t>(kMultiplier1) * c[2];
    uint32_t hi0 = static_cast<uint32_t>(product0 >> 32), lo0 = static_cast<uint32_t>(product0);
    uint32_t hi1 = static_cast<uint32_t>(product1 >> 32), lo1 = static_cast<uint32_t>(product1);
    c[0] = hi1 ^ c[1] ^ k[0];
    c[1] = lo1;
    c[2] = hi0 ^ c[3] ^ k[1];
    c[3] = lo0;
  }
  for (int i = 0; i < 4; ++i) out[i] = c[i];
}

uint32_t Generator::next_uint32() {
  if (used_ == 4) {
    const uint32_t counter[4] = {static_cast<uint32_t>(counter_), static_cast<uint32_t>(counter_ >> 32), 0, 0};
    const uint32_t key[2] = {static_cast<uint32_t>(key_), static_cast<uint32_t>(key_ >> 32)};
    philox4x32(counter, key, block_);
    ++counter_;
    used_ = 0;
  }
  return block_[used_++];
}

double Generator::next_double() {
  uint64_t bits = (static_cast<uint64_t>(next_uint32()) << 32) | next_uint32();
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

Array Generator::uniform(const Shape& shape, double low, double high, DType dtype) {
  check(low <= high, "uniform needs low <= high, got low " + std::to_string(low) + " and high " + std::to_string(high));
  check(is_float(dtype), "uniform draws floats, not " + std::string(dtype_name(dtype)));
  return generate(shape, dtype, [&](double* data, int64_t n) {
    for (int64_t i = 0; i < n; ++i) data[i] = low + (high - low) * next_double();
  });
}

Array Generator::normal(const Shape& shape, double mean, double stddev, DType dtype) {
  check(stddev >= 0, "normal needs stddev >= 0, got " + std::to_string(stddev));
  check(is_float(dtype), "normal draws floats, not " + std::string(dtype_name(dtype)));
  return generate(shape, dtype, [&](double* data, int64_t n) {
    // Box–Muller: each pair of uniforms gives two independent normals.
    for (int64_t i = 0; i < n; i += 2) {
      double u1 = 1.0 - next_double(), u2 = next_double();
      double radius = std::sqrt(-2.0 * std::log(u1)), angle = 2.0 * std::numbers::pi * u2;
      data[i] = mean + stddev * radius * std::cos(angle);
      if (i + 1 < n) data[i + 1] = mean + stddev * radius * std::sin(angle);
    }
  });
}

Array Generator::binomial(const Shape& shape, int64_t n, double p, DType dtype) {
  check(n >= 0, "binomial needs n >= 0, got " + std::to_string(n));
  check(p >= 0 && p <= 1, "binomial needs 0 <= p <= 1, got " + std::to_string(p));
  Array result = Array::empty(shape, DType::Int64);
  int64_t* data = result.data<int64_t>();
  for (int64_t i = 0; i < result.size(); ++i) data[i] = draw_binomial(n, p);
  return dtype == DType::Int64 ? result : result.astype(dtype);
}

int64_t Generator::draw_binomial(int64_t n, double p) {
  const bool flip = p > 0.5;  // draw failures instead, so the inversion below stays short
  const double q = flip ? 1 - p : p;
  int64_t successes = 0;
  if (n * q < 30) {
    // Inversion of the CDF, walking up from 0; exact and O(n q) per draw.
    double u = next_double(), probability = std::pow(1 - q, static_cast<double>(n)), cumulative = probability;
    while (u > cumulative && successes < n) {
      probability *= static_cast<double>(n - successes) / static_cast<double>(successes + 1) * q / (1 - q);
      ++successes;
      cumulative += probability;
    }
  } else {
    for (int64_t trial = 0; trial < n; ++trial) successes += next_double() < q;
  }
  return flip ? n - successes : successes;
}

double Generator::draw_standard_normal() {
  // Box-Muller, one of the pair: draws are per element, so no second value is carried between calls.
  const double u1 = 1.0 - next_double(), u2 = next_double();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

int64_t Generator::draw_poisson(double lam) {
  if (lam < 10) {
    // Inversion: multiply uniforms until the product falls below exp(-lam); O(lam) per draw.
    const double limit = std::exp(-lam);
    int64_t k = 0;
    for (double product = next_double(); product > limit; product *= next_double()) ++k;
    return k;
  }
  // Transformed rejection with squeeze (W. Hormann, "The transformed rejection method for generating
  // Poisson random variables", 1993): O(1) per draw for large means.
  const double root = std::sqrt(lam), log_lam = std::log(lam);
  const double b = 0.931 + 2.53 * root, a = -0.059 + 0.02483 * b;
  const double inverse_alpha = 1.1239 + 1.1328 / (b - 3.4), v_r = 0.9277 - 3.6224 / (b - 2);
  while (true) {
    const double u = next_double() - 0.5, v = next_double(), us = 0.5 - std::fabs(u);
    const double k = std::floor((2 * a / us + b) * u + lam + 0.43);
    if (us >= 0.07 && v <= v_r) return static_cast<int64_t>(k);
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(inverse_alpha) - std::log(a / (us * us) + b) <= -lam + k * log_lam - std::lgamma(k + 1))
      return static_cast<int64_t>(k);
  }
}

double Generator::draw_standard_gamma(double k) {
  if (k < 1) {
    // Gamma(k) = Gamma(k + 1) * U^(1/k) (Marsaglia and Tsang's boost for small shapes).
    const double u = 1.0 - next_double();
    return draw_standard_gamma(k + 1) * std::pow(u, 1.0 / k);
  }
  // G. Marsaglia and W. Tsang, "A simple method for generating gamma variables", 2000.
  const double d = k - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    const double x = draw_standard_normal(), t = 1.0 + c * x;
    if (t <= 0) continue;
    const double v = t * t * t, u = 1.0 - next_double();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

Array Generator::permutation(int64_t n) {
  check(n >= 0, "permutation needs n >= 0, got " + std::to_string(n));
  Array result = Array::arange(n);
  int64_t* data = result.data<int64_t>();
  for (int64_t i = n - 1; i > 0; --i) {
    // Rejection keeps the choice unbiased for every bound.
    const uint64_t bound = static_cast<uint64_t>(i) + 1, limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t r;
    do r = (static_cast<uint64_t>(next_uint32()) << 32) | next_uint32();
    while (r >= limit);
    std::swap(data[i], data[r % bound]);
  }
  return result;
}

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

void seed(uint64_t value) { default_generator() = Generator(value); }
Array uniform(const Shape& shape, double low, double high, DType dtype) {
  return default_generator().uniform(shape, low, high, dtype);
}
Array normal(const Shape& shape, double mean, double stddev, DType dtype) {
  return default_generator().normal(shape, mean, stddev, dtype);
}
Array binomial(const Shape& shape, int64_t n, double p, DType dtype) { return default_generator().binomial(shape, n, p, dtype); }

}  // namespace hypatia::random
