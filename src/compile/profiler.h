// Per-node profiling of a compiled function (Theano's ProfileStats): calls and time of every step,
// printed as a table sorted by time, with a summary by op. Off by default; the run loop only reads
// the clock when a function was built with FunctionOptions::profile.
#pragma once
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

namespace hypatia {

class Profiler {
 public:
  using Clock = std::chrono::steady_clock;
  // One entry per step of the schedule: how the step prints ("dot", "fused{add,tanh}") and its outputs.
  struct StepInfo {
    std::string op;
    std::string node;
  };
  explicit Profiler(std::vector<StepInfo> steps) : steps_(std::move(steps)), step_seconds_(steps_.size(), 0.0) {}

  // A call's per-step durations, recorded under a lock so concurrent calls may profile too.
  void record_call(const std::vector<double>& step_seconds, double call_seconds);
  std::string summary(const std::string& title) const;
  void reset();

 private:
  std::vector<StepInfo> steps_;
  mutable std::mutex mutex_;
  std::vector<double> step_seconds_;
  long calls_ = 0;
  double call_seconds_ = 0;
};

}  // namespace hypatia
