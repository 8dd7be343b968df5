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
  // may_write_in_place: the step may write its result into an input's buffer (the table then says
  // in how many calls it did).
  struct StepInfo {
    std::string op;
    std::string node;
    bool may_write_in_place = false;
  };
  explicit Profiler(std::vector<StepInfo> steps)
      : steps_(std::move(steps)), step_seconds_(steps_.size(), 0.0), in_place_calls_(steps_.size(), 0) {}

  // A call's per-step durations and which steps wrote in place, recorded under a lock so concurrent
  // calls may profile too.
  void record_call(const std::vector<double>& step_seconds, const std::vector<bool>& wrote_in_place, double call_seconds);
  std::string summary(const std::string& title) const;
  void reset();

 private:
  std::vector<StepInfo> steps_;
  mutable std::mutex mutex_;
  std::vector<double> step_seconds_;
  std::vector<long> in_place_calls_;
  long calls_ = 0;
  double call_seconds_ = 0;
};

}  // namespace hypatia
