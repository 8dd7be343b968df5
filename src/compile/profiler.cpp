#include "compile/profiler.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace hypatia {

void Profiler::record_call(const std::vector<double>& step_seconds, const std::vector<bool>& wrote_in_place,
                           double call_seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < step_seconds_.size() && i < step_seconds.size(); ++i) step_seconds_[i] += step_seconds[i];
  for (size_t i = 0; i < in_place_calls_.size() && i < wrote_in_place.size(); ++i) in_place_calls_[i] += wrote_in_place[i];
  ++calls_;
  call_seconds_ += call_seconds;
}

void Profiler::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::fill(step_seconds_.begin(), step_seconds_.end(), 0.0);
  std::fill(in_place_calls_.begin(), in_place_calls_.end(), 0);
  calls_ = 0;
  call_seconds_ = 0;
}

std::string Profiler::summary(const std::string& title) const {
  std::lock_guard<std::mutex> lock(mutex_);
  double in_nodes = 0;
  for (double s : step_seconds_) in_nodes += s;
  char line[512];
  std::string out = "Function profile: " + title + "\n";
  std::snprintf(line, sizeof line, "  %ld calls, %.6f s in calls (%.3f ms per call), %.6f s in nodes (%.1f%%)\n", calls_,
                call_seconds_, calls_ ? 1e3 * call_seconds_ / calls_ : 0.0, in_nodes,
                call_seconds_ > 0 ? 100 * in_nodes / call_seconds_ : 0.0);
  out += line;
  auto share = [&](double s) { return in_nodes > 0 ? 100 * s / in_nodes : 0.0; };

  // By op: the total over the steps that run it.
  std::map<std::string, std::pair<double, int>> by_op;
  for (size_t i = 0; i < steps_.size(); ++i) {
    by_op[steps_[i].op].first += step_seconds_[i];
    by_op[steps_[i].op].second += 1;
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> ops(by_op.begin(), by_op.end());
  std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  out += "\n  By op:\n  <% time> <cum %> <total s> <us/call> <nodes> <op>\n";
  double cumulative = 0;
  for (const auto& [op, stats] : ops) {
    cumulative += share(stats.first);
    std::snprintf(line, sizeof line, "  %7.1f%% %6.1f%% %9.6f %9.2f %7d  %s\n", share(stats.first), cumulative,
                  stats.first, calls_ ? 1e6 * stats.first / calls_ : 0.0, stats.second, op.c_str());
    out += line;
  }

  std::vector<size_t> order(steps_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return step_seconds_[a] > step_seconds_[b]; });
  out += "\n  By node (step index in the schedule):\n  <% time> <cum %> <total s> <us/call> <step> <node>\n";
  cumulative = 0;
  for (size_t i : order) {
    cumulative += share(step_seconds_[i]);
    std::snprintf(line, sizeof line, "  %7.1f%% %6.1f%% %9.6f %9.2f %6zu  ", share(step_seconds_[i]), cumulative,
                  step_seconds_[i], calls_ ? 1e6 * step_seconds_[i] / calls_ : 0.0, i);
    out += line + steps_[i].node;
    if (steps_[i].may_write_in_place) out += "  [in place in " + std::to_string(in_place_calls_[i]) + " of " + std::to_string(calls_) + " calls]";
    out += "\n";
  }
  return out;
}

}  // namespace hypatia
