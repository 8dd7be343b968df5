// Scan: a loop over an inner graph (include/hypatia/scan.h builds it).
//
// Outer inputs:  n_steps (int64 scalar, -1 when the sequences decide), the sequences, one buffer of
//                initial states per fed-back output (first axis: its L states, oldest first), then
//                the non-sequences (everything else the inner graph reads).
// With layout.until, the inner outputs end with the stop condition (a scalar), which is not an outer output.
// Outer outputs: per fed-back output, its buffer (the L initial states then one row per step, or only
//                the last `keep` rows), then the outputs not fed back (one row per step).
// Inner inputs:  each sequence's slice at each of its taps, each fed-back output's value at each of its
//                taps, the non-sequences. Inner outputs: the fed-back outputs, then the others.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "hypatia/function.h"
#include "hypatia/graph.h"

namespace hypatia {

struct ScanLayout {
  std::vector<std::vector<int>> sequence_taps;   // per sequence
  std::vector<std::vector<int>> recurrent_taps;  // per fed-back output, each negative
  // Per fed-back output: 0 keeps every row of its buffer; k > 0 only the last k (at least its lag).
  std::vector<int64_t> keep;
  int num_plain = 0;  // outputs not fed back
  int num_non_sequences = 0;
  int truncate_gradient = -1;
  // Theano's until: the inner graph's last output is a condition; the loop stops after the first step
  // where it holds (n_steps, or the sequences, then bound the steps).
  bool until = false;
  std::string name = "scan";

  int num_sequences() const { return static_cast<int>(sequence_taps.size()); }
  int num_recurrent() const { return static_cast<int>(recurrent_taps.size()); }
  int lag(int r) const;          // L: how many states before the first step output r reads
  int min_tap(int s) const;      // a sequence's earliest tap, or 0 when every tap is later
  int tap_span(int s) const;     // latest minus earliest tap of a sequence, counting tap 0 among them
  int num_sequence_taps() const;
  int num_recurrent_taps() const;
  bool operator==(const ScanLayout&) const = default;
};

class Scan : public Op {
 public:
  Scan(std::vector<Variable> inner_inputs, std::vector<Variable> inner_outputs, ScanLayout layout);
  const ScanLayout& layout() const { return layout_; }
  const std::vector<Variable>& inner_inputs() const { return inner_inputs_; }
  // The same loop keeping `keep` rows of each buffer.
  std::shared_ptr<const Scan> with_keep(std::vector<int64_t> keep) const;

  std::string name() const override { return "scan"; }
  std::string props() const override;
  bool equals(const Op& other) const override;
  size_t hash() const override;
  void prepare(Mode mode, const Device& device) const override;
  std::vector<Variable> inner_outputs(const Mode* compiled, const Device* device = nullptr) const override;
  // An output depends on an outer input when its step reads it, directly or through a state that does
  // (so a loop whose step never reads an initial state is not connected to it, as in Theano). A buffer's
  // first rows are its initial states, but scan() hands out only the rows after them.
  std::vector<std::vector<bool>> connection_pattern(const Apply& node) const override;
  std::string save() const override;  // the layout and the inner graph
  HYPATIA_OP_METHODS
  // The loop runs where its values live: its buffers in the backend's memory, its step compiled for the
  // backend's device (results left there), n_steps and an until condition read on the host.
  bool runs_on_any_device() const override { return true; }
  bool reads_on_host(int input) const override { return input == 0; }
  void perform_on(const Backend& backend, const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override;

 private:
  const Function& inner_function(Mode mode, const Device& device) const;
  // The steps this node runs for these outer inputs (checks the sequences are long enough).
  int64_t count_steps(const Apply& node, std::span<const Array> inputs) const;
  // The shape one step of an output that is not fed back would have, when no step runs: the inner
  // graph's shapes on zero-filled step values (the shapes only, rewritten not to need the values).
  Shape step_shape_without_steps(int plain, std::span<const Array> inputs) const;

  std::vector<Variable> inner_inputs_, inner_outputs_;
  ScanLayout layout_;
  mutable std::mutex compile_mutex_;
  // One per mode and device, compiled on first use.
  mutable std::map<std::pair<Mode, std::string>, std::shared_ptr<Function>> compiled_;
  mutable std::shared_ptr<Function> plain_shapes_;  // compiled when a loop first runs no step
  mutable std::vector<std::vector<bool>> connections_;  // connection_pattern, found once (under compile_mutex_)
};

// The number of steps a scan node runs, as an int64 scalar graph of its inputs.
Variable scan_steps(const Apply& node);

}  // namespace hypatia
