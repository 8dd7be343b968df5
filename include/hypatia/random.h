// Counter-based random numbers (Philox4x32-10): the same seed gives the same numbers everywhere.
#pragma once
#include <cstdint>

#include "hypatia/array.h"

namespace hypatia::random {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0, uint64_t counter = 0) : key_(seed), counter_(counter) {}
  Array uniform(const Shape& shape, double low = 0.0, double high = 1.0, DType dtype = DType::Float64);
  Array normal(const Shape& shape, double mean = 0.0, double stddev = 1.0, DType dtype = DType::Float64);
  // Number of successes in n trials of probability p, per element.
  Array binomial(const Shape& shape, int64_t n, double p, DType dtype = DType::Int64);
  // A random permutation of 0..n-1 (int64).
  Array permutation(int64_t n);
  // One binomial draw (arguments already checked).
  int64_t draw_binomial(int64_t n, double p);
  // One Poisson draw of mean lam >= 0 (inversion below 10, Hormann's PTRS rejection above).
  int64_t draw_poisson(double lam);
  // One gamma draw of shape k > 0 and scale 1 (Marsaglia and Tsang's method).
  double draw_standard_gamma(double k);
  double draw_standard_normal();
  uint64_t seed() const { return key_; }
  // Philox blocks used so far; Generator(seed, counter) continues exactly where this one stops.
  uint64_t counter() const { return counter_; }

  // Four 32-bit words for block `counter` (exposed for tests against the published test vectors).
  static void philox4x32(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);

 private:
  double next_double();  // uniform in [0, 1)
  uint32_t next_uint32();
  uint64_t key_;
  uint64_t counter_ = 0;
  uint32_t block_[4] = {0, 0, 0, 0};
  int used_ = 4;
};

// A process-wide generator for quick use, e.g. hp::random::normal({784, 500}, 0.0, 0.1).
void seed(uint64_t seed);
Generator& default_generator();
Array uniform(const Shape& shape, double low = 0.0, double high = 1.0, DType dtype = DType::Float64);
Array normal(const Shape& shape, double mean = 0.0, double stddev = 1.0, DType dtype = DType::Float64);
Array binomial(const Shape& shape, int64_t n, double p, DType dtype = DType::Int64);

}  // namespace hypatia::random
