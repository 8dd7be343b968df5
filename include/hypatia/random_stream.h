// Symbolic random numbers (Theano's RandomStreams): each draw is a graph node whose Philox state is
// a shared variable; every compiled function that draws advances it, so calls get fresh numbers and
// a stream with the same seed replays the same sequence.
#pragma once
#include <cstdint>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

// The Philox state ([key, counter], int64) the index-th draw of a stream seeded with `seed` starts from.
Array initial_random_state(uint64_t seed, size_t index = 0);

class RandomStream {
 public:
  explicit RandomStream(uint64_t seed = 0) : seed_(seed) {}

  // low + (high - low) * U[0, 1): the bounds may be tensors that broadcast to `shape`.
  Variable uniform(const std::vector<Operand>& shape, const Operand& low = 0.0, const Operand& high = 1.0,
                   DType dtype = DType::Float64);
  // mean + stddev * N(0, 1): differentiable in mean and stddev (the reparameterization).
  Variable normal(const std::vector<Operand>& shape, const Operand& mean = 0.0, const Operand& stddev = 1.0,
                  DType dtype = DType::Float64);
  // Successes in n trials of probability p per element; n and p may be tensors that broadcast to `shape`.
  Variable binomial(const std::vector<Operand>& shape, const Operand& n, const Operand& p, DType dtype = DType::Int64);
  // Poisson counts of mean lam (a tensor that broadcasts to `shape`).
  Variable poisson(const std::vector<Operand>& shape, const Operand& lam, DType dtype = DType::Int64);
  // scale * Gamma(k): shape k and scale may be tensors that broadcast to `shape`.
  Variable gamma(const std::vector<Operand>& shape, const Operand& k, const Operand& scale = 1.0,
                 DType dtype = DType::Float64);
  // Beta(a, b) draws in [0, 1].
  Variable beta(const std::vector<Operand>& shape, const Operand& a, const Operand& b, DType dtype = DType::Float64);

  // Restarts every state this stream created, as if it had been built with `seed`.
  void seed(uint64_t seed);
  const std::vector<SharedVariable>& states() const { return states_; }

 private:
  SharedVariable new_state(std::source_location where);
  uint64_t seed_;
  std::vector<SharedVariable> states_;
};

}  // namespace hypatia
