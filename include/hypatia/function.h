// Compiled functions: function(inputs, outputs, updates, givens).
#pragma once
#include <functional>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

using Updates = std::vector<std::pair<SharedVariable, Variable>>;
using Givens = std::vector<std::pair<Variable, Variable>>;

// What to do with an input no output or update depends on (Theano raises: it is usually a mistake).
enum class UnusedInput { Raise, Warn, Ignore };

// How much the graph is rewritten before it runs: FastRun (every pass, the default), FastCompile
// (merging and constant folding only), Unoptimized (the graph as built: the oracle for tests).
enum class Mode { FastRun, FastCompile, Unoptimized };

struct FunctionOptions {
  UnusedInput on_unused_input = UnusedInput::Raise;
  Mode mode = Mode::FastRun;
  // Where it runs, as Theano names devices ("cpu", "opencl0:0", "cuda0"); empty: config().device.
  std::string device;
  // Random states (and other shared variables with default updates) keep their values between calls.
  bool no_default_updates = false;
  // Time every node of every call; Function::profile_summary() prints the table (Theano's profile=True).
  bool profile = false;
  // Inputs (by position) whose buffers the caller hands over when it passes them by rvalue (JAX's
  // donate_argnums): a step may overwrite one when nothing else holds it. Loops donate their states.
  std::vector<size_t> donated_inputs;
  // Results stay in the device's memory (device arrays) rather than coming back to the host: for a
  // function whose results feed more work there (scan's step; Theano's GPU outputs).
  bool results_on_device = false;
  // Called before (after = false, no outputs yet) and after each step of each call with the step's index,
  // node and values (Theano's MonitorMode); the values are the program's own, to read, not to keep.
  std::function<void(size_t index, const Apply& node, std::span<const Array> inputs, std::span<const Array> outputs,
                     bool after)>
      node_monitor;
};

class Program;

class Function {
 public:
  Function() = default;
  // Runs the function. Updates are computed from the values before the call and applied after
  // every output is computed; if anything throws, no shared variable changes.
  std::vector<Array> operator()(const std::vector<Array>& inputs) const;
  // The same; the function holds the only references to the inputs (donated ones may be overwritten).
  std::vector<Array> operator()(std::vector<Array>&& inputs) const;
  // The compiled graph, Theano's debugprint style.
  std::string debugprint() const;
  // The compiled (rewritten) graph's results: the outputs, then the update values.
  std::vector<Variable> graph_outputs() const;
  // The per-node time table of a function built with FunctionOptions::profile (empty otherwise).
  std::string profile_summary() const;
  size_t num_inputs() const;
  size_t num_outputs() const;

 private:
  friend Function function(const std::vector<Variable>&, const std::vector<Variable>&, const Updates&,
                           const Givens&, const FunctionOptions&, std::source_location);
  std::shared_ptr<Program> program_;
};

Function function(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs,
                  const Updates& updates = {}, const Givens& givens = {}, const FunctionOptions& options = {},
                  std::source_location where = std::source_location::current());

// Returns once the optimized kernels of every function built so far have loaded. With tiered compilation
// (config's tiered_compilation) a new function's first calls run a quick build while the optimized one
// compiles in the background; results are the same, only speed differs: benchmarks call this before timing.
void finish_compiling();

// Evaluates `outputs` once, with `inputs` bound to the given arrays (Theano's Variable.eval).
std::vector<Array> eval(const std::vector<Variable>& outputs,
                        const std::vector<std::pair<Variable, Array>>& inputs = {});
Array eval(const Variable& output, const std::vector<std::pair<Variable, Array>>& inputs = {});

}  // namespace hypatia
