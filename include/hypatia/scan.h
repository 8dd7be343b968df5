// Loops inside the graph (Theano's scan): fn is called once, on symbolic per-step values, and the
// resulting inner graph is compiled and run for every step in C++.
//
// fn receives, in order: for each sequence, its slices at each tap; for each output fed back, its
// values at each tap (earliest first as given); then the non-sequences. It returns the per-step
// outputs (one per outputs_info entry) and, optionally, updates of shared variables.
#pragma once
#include <functional>
#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include "hypatia/function.h"
#include "hypatia/graph.h"

namespace hypatia {

// A sequence scan walks along its first axis. Tap t at step i reads input[i + t - m], m the earliest tap
// or 0 if later (Theano's rule: taps {-1, 0, 1} start at input[0], input[1], input[2]; taps {-1} read
// input[0..n-2]; taps {2} read input[2..n-1]).
struct Sequence {
  Variable input;
  std::vector<int> taps{0};
  Sequence(const Variable& input) : input(input) {}
  Sequence(const SharedVariable& input) : input(input) {}
  Sequence(const Variable& input, std::vector<int> taps) : input(input), taps(std::move(taps)) {}
};

// An output of fn. With an initial value it is fed back: tap -k gives fn its value k steps earlier.
// With taps {-1} `initial` is the state itself; with earlier taps its first axis holds the L states
// before the first step (L = the largest lag), oldest first. Without an initial value (Theano's None)
// the output is only collected.
struct OutputInfo {
  Variable initial;
  std::vector<int> taps;
  OutputInfo() = default;
  OutputInfo(const Variable& initial) : initial(initial), taps{-1} {}
  OutputInfo(const SharedVariable& initial) : initial(initial), taps{-1} {}
  OutputInfo(const Variable& initial, std::vector<int> taps) : initial(initial), taps(std::move(taps)) {}
};

struct ScanOptions {
  // Steps to run: with sequences, at most their length (the shortest wins when absent).
  std::optional<Operand> n_steps;
  // Backpropagation through time stops after this many steps from the end (-1: all the way).
  int truncate_gradient = -1;
  // Walks the sequences from their end; outputs stay in the order they were computed.
  bool go_backwards = false;
  // fn may only use what it is given: any other variable it reads is an error instead of being passed in.
  bool strict = false;
  std::string name = "scan";
};

// What fn returns for one step. `until` (Theano's scan_module.until): a scalar condition; the loop stops
// after the first step where it holds (its outputs then have one row per step run).
struct ScanStep {
  std::vector<Variable> outputs;
  Updates updates;
  Variable until;
  ScanStep(const Variable& output) : outputs{output} {}
  ScanStep(std::vector<Variable> outputs, Updates updates = {}, Variable until = Variable())
      : outputs(std::move(outputs)), updates(std::move(updates)), until(std::move(until)) {}
  ScanStep(std::initializer_list<Variable> outputs) : outputs(outputs) {}
};

// The outputs over all steps (first axis: the step) and the updates to pass to function(); random
// streams drawn from inside fn advance through these updates.
struct ScanResult {
  std::vector<Variable> outputs;
  Updates updates;
  const Variable& operator[](size_t k) const { return outputs.at(k); }
};

using ScanFunction = std::function<ScanStep(const std::vector<Variable>& args)>;

ScanResult scan(const ScanFunction& fn, const std::vector<Sequence>& sequences,
                const std::vector<OutputInfo>& outputs_info, const std::vector<Variable>& non_sequences = {},
                const ScanOptions& options = {}, std::source_location where = std::source_location::current());

// fn applied to each element of the sequences (no state).
ScanResult map(const ScanFunction& fn, const std::vector<Sequence>& sequences,
               const std::vector<Variable>& non_sequences = {}, const ScanOptions& options = {},
               std::source_location where = std::source_location::current());
// The fed-back outputs after the last step only (only that step's memory is kept).
ScanResult reduce(const ScanFunction& fn, const std::vector<Sequence>& sequences,
                  const std::vector<OutputInfo>& outputs_info, const std::vector<Variable>& non_sequences = {},
                  const ScanOptions& options = {}, std::source_location where = std::source_location::current());
ScanResult foldl(const ScanFunction& fn, const std::vector<Sequence>& sequences,
                 const std::vector<OutputInfo>& outputs_info, const std::vector<Variable>& non_sequences = {},
                 const ScanOptions& options = {}, std::source_location where = std::source_location::current());
ScanResult foldr(const ScanFunction& fn, const std::vector<Sequence>& sequences,
                 const std::vector<OutputInfo>& outputs_info, const std::vector<Variable>& non_sequences = {},
                 const ScanOptions& options = {}, std::source_location where = std::source_location::current());

}  // namespace hypatia
