// Program: a compiled function's flat schedule over value slots. Its steps run the kernels the chosen
// backend gives them (backend/backend.h), or their ops' perform().
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "backend/backend.h"
#include "compile/profiler.h"
#include "hypatia/function.h"
#include "ir/function_graph.h"

namespace hypatia {

class Program {
 public:
  Program(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs, const Updates& updates,
          const Givens& givens, const FunctionOptions& options, std::source_location where);
  std::vector<Array> run(std::vector<Array> inputs) const;
  std::string debugprint() const;
  std::string profile_summary() const;
  const std::vector<Variable>& graph_outputs() const { return graph_->outputs(); }
  size_t num_inputs() const { return inputs_.size(); }
  size_t num_outputs() const { return num_outputs_; }

 private:
  struct Step {
    std::shared_ptr<Apply> node;
    std::vector<int> input_slots, output_slots;
    std::vector<int> release_slots;  // values whose last reader is this step
    std::shared_ptr<const Kernel> kernel;  // the backend's code for the node; null: the op's perform()
    // Which input's buffer the result may overwrite (-1: none): an update's old value (such steps run
    // last) or an intermediate this step reads last. Each call checks the buffer is ours alone: held
    // by `destroy_holders` references (the value slots and this step's operand list) and nothing else.
    int destroy_input = -1;
    long destroy_holders = 0;
    // Runs only when each (condition slot, branch) holds: the step computes something only that branch
    // of an ifelse reads. Outer branches come first, so an inner condition is read only once computed.
    std::vector<std::pair<int, bool>> guards;
  };
  // Construction, in order: check what the user passed and collect the update values; add the
  // default updates (random states) of shared variables the graph reads; check that every input is
  // given and used; rewrite the graph (src/rewrite/pipeline.cpp); assign value slots; in FAST_RUN,
  // give the steps the backend's kernels.
  std::vector<Variable> check_signature(const std::vector<Variable>& outputs, const Updates& updates,
                                        const Givens& givens);
  void add_default_updates(std::vector<Variable>& results);
  void check_roots(const FunctionOptions& options) const;
  void plan();
  // Steps that only one branch of an ifelse reads move to just before it and run only when that branch
  // is taken (after the condition is known).
  // The values of a step whose inputs are all constants, computed now; nullopt where it runs per call.
  std::optional<std::vector<Array>> compute_once(const Step& step, const std::unordered_map<int, Array>& constant_of) const;
  // Moves the shared variables that live on the device there (once, at compile time).
  void move_shared_values_home();
  void plan_lazy_branches();
  // Updates w - lr * g, gemm(w, ...) and inc_subtensor(w[idx], v) (ops with a destination input, kernels
  // that write into any input) can write into w's buffer: marks those steps and moves them to the end of
  // the schedule, after every other reader of the variables they overwrite.
  void plan_in_place_updates();
  void plan_releases();
  // Elementwise kernels, GEMM and indexed increments write into an intermediate (or a donated input)
  // they read last when it has the result's dtype (and, checked per call, its shape): a chain of steps
  // then runs in one buffer.
  void plan_in_place_intermediates();
  // The destroy steps' shape checks, all before the first of them writes (a failed call changes no
  // shared variable), then whether each may write in place this call.
  std::vector<bool> check_in_place_steps(const std::vector<Array>& values) const;
  // Throws ErrorType with the message and where the function was built (type mismatches are TypeErrors).
  template <class ErrorType = ValueError> [[noreturn]] void fail(const std::string& message) const;

  CodeLocation where_;
  Mode mode_;
  bool flush_denormals_;  // config().flush_denormals when the function was built
  const Backend* backend_ = nullptr;

  std::vector<Variable> inputs_;
  std::unique_ptr<FunctionGraph> graph_;  // outputs, then update values
  size_t num_outputs_ = 0;
  std::vector<SharedVariable> updated_;   // shared variable per update value
  int num_slots_ = 0;
  std::vector<int> input_slots_;
  std::vector<bool> donated_;  // per input: its buffer may be overwritten (FunctionOptions::donated_inputs)
  std::vector<std::pair<int, Array>> constant_slots_;
  struct SharedSlot {
    int slot;
    std::shared_ptr<SharedState> state;
    Device device;  // where the steps read it (its home: a value elsewhere is moved for the call)
  };
  std::vector<SharedSlot> shared_slots_;
  std::unordered_set<const VariableNode*> shared_on_device_;  // from placement
  std::vector<Device> input_devices_;                          // where each input is read (placement)
  std::unordered_set<const Apply*> device_nodes_;              // the nodes placement put on the device
  std::vector<Step> steps_;
  size_t first_destroy_step_ = 0;  // steps from here on are in-place update steps
  std::vector<int> result_slots_;  // outputs, then update values
  std::unique_ptr<Profiler> profiler_;  // only when profiling
  decltype(FunctionOptions::node_monitor) node_monitor_;
  double rewrite_seconds_ = 0, codegen_seconds_ = 0;  // how long building took, for the profile
};

}  // namespace hypatia
