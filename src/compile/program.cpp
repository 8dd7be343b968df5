#include "compile/program.h"

#include <algorithm>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

#include "compile/execution_mode.h"
#include "backend/cpu/cpu_backend.h"
#include "backend/placement.h"
#include "hypatia/config.h"
#include "hypatia/printing.h"
#include "ir/describe.h"
#include "ir/shared_state.h"
#include "ops/op_support.h"
#include "rewrite/pipeline.h"
#include "runtime/denormals.h"

namespace hypatia {
namespace {

std::string describe(const Variable& v) { return describe_variable(v) + " (built at " + format_location(v.where()) + ")"; }

// "x -> dot -> add -> tanh -> output 0": how `missing` reaches an output, for error messages.
std::string path_to_output(const FunctionGraph& graph, const Variable& missing) {
  std::string path = missing.str();
  Variable current = missing;
  for (int hops = 0; hops < 64; ++hops) {
    const auto& clients = graph.clients(current);
    if (clients.empty()) break;
    const Client& client = clients.front();
    if (!client.node) return path + " -> output " + std::to_string(client.input_index);
    path += " -> " + client.node->op().str();
    current = client.node->output(0);
  }
  return path;
}

// "add(dot(x, w), b) -> float32(?, 500)": a node and its inputs, for the profile table.
std::string describe_node(const Apply& node) {
  std::string text = node.op().str() + "(";
  for (size_t i = 0; i < node.inputs().size(); ++i) text += (i ? ", " : "") + node.input(i).str();
  text += ") -> ";
  for (size_t k = 0; k < node.num_outputs(); ++k) text += (k ? ", " : "") + node.output(k).type().str();
  return text;
}

thread_local Mode running_mode = Mode::FastRun;

bool can_convert_losslessly(DType from, DType to) {
  if (from == to) return true;
  if (is_float(from) && !is_float(to)) return false;
  return promote_types(from, to) == to;
}

}  // namespace

Mode current_mode() { return running_mode; }
ModeScope::ModeScope(Mode mode) : previous_(running_mode) { running_mode = mode; }
ModeScope::~ModeScope() { running_mode = previous_; }

Program::Program(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs, const Updates& updates,
                 const Givens& givens, const FunctionOptions& options, std::source_location where)
    : where_(where), mode_(options.mode), flush_denormals_(config().flush_denormals), inputs_(inputs), num_outputs_(outputs.size()), node_monitor_(options.node_monitor) {
  try {
    backend_ = &backend_for(Device::parse(options.device.empty() ? config().device : options.device));
  } catch (const Error& error) {
    fail(error.what());
  }
  donated_.assign(inputs.size(), false);
  for (size_t i : options.donated_inputs) donated_.at(i) = true;
  std::vector<Variable> results = check_signature(outputs, updates, givens);
  if (!options.no_default_updates) add_default_updates(results);
  graph_ = std::make_unique<FunctionGraph>(inputs, results, givens);
  check_roots(options);  // on the graph as the user built it: rewrites may drop what they make useless
  const auto rewrite_start = Profiler::Clock::now();
  {
    const DenormalScope folding_scope(flush_denormals_);  // constants fold as the calls would compute them
    optimize(*graph_, options.mode);
  }
  if (options.mode == Mode::FastRun)
    graph_ = place_on_device(std::move(graph_), *backend_, num_outputs_, updated_, options.results_on_device, shared_on_device_,
                             input_devices_, device_nodes_);
  input_devices_.resize(inputs.size());  // (the host, where placement did not run)
  plan();
  move_shared_values_home();
  plan_lazy_branches();
  const auto lowering_start = Profiler::Clock::now();
  // Inner graphs (scan's loop body) compile now, counted with the generated kernels.
  for (const Step& step : steps_)
    at_location(step.node->where(), [&] {
      step.node->op().prepare(options.mode, device_nodes_.count(step.node.get()) ? backend_->device() : Device{});
    });
  if (options.mode == Mode::FastRun) {
    // The device's nodes by its backend, the host's by the CPU's.
    for (const Backend* backend : {backend_, &cpu_backend()}) {
      std::vector<size_t> indices;
      std::vector<std::shared_ptr<Apply>> nodes;
      for (size_t i = 0; i < steps_.size(); ++i)
        if ((backend->device().is_cpu() ? 0 : 1) == device_nodes_.count(steps_[i].node.get())) {
          indices.push_back(i);
          nodes.push_back(steps_[i].node);
        }
      if (nodes.empty()) continue;
      std::vector<std::shared_ptr<const Kernel>> kernels = backend->lower(nodes);
      for (size_t k = 0; k < indices.size(); ++k) steps_[indices[k]].kernel = std::move(kernels[k]);
      if (backend == &cpu_backend()) break;  // (a CPU program: every node was lowered once)
    }
    plan_in_place_updates();
  }
  plan_releases();
  if (options.mode == Mode::FastRun) plan_in_place_intermediates();
  rewrite_seconds_ = std::chrono::duration<double>(lowering_start - rewrite_start).count();
  codegen_seconds_ = std::chrono::duration<double>(Profiler::Clock::now() - lowering_start).count();
  if (options.profile) {
    std::vector<Profiler::StepInfo> info;
    for (const Step& step : steps_) info.push_back({step.node->op().name(), describe_node(*step.node), step.destroy_input >= 0});
    profiler_ = std::make_unique<Profiler>(std::move(info));
  }
}

template <class ErrorType> void Program::fail(const std::string& message) const {
  throw ErrorType("[function] " + message + " (function built at " + format_location(where_) + ")");
}

std::vector<Variable> Program::check_signature(const std::vector<Variable>& outputs, const Updates& updates,
                                               const Givens& givens) {
  std::unordered_set<const VariableNode*> seen_inputs;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const Variable& input = inputs_[i];
    if (!input) fail("input " + std::to_string(i) + " is a null Variable");
    if (!input.is_root())
      fail("input " + std::to_string(i) + " " + describe(input) + " is computed by " + input.owner()->op().str() +
           "; inputs must be root variables");
    if (input.is_constant()) fail("input " + std::to_string(i) + " is a constant; constants cannot be inputs");
    if (input.is_shared())
      fail<TypeError>("input " + std::to_string(i) + " " + describe(input) +
                      " is a shared variable; shared variables cannot be explicit inputs (their value is implicit)");
    if (!seen_inputs.insert(input.node()).second) fail("input " + describe(input) + " is listed twice");
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!outputs[i]) fail("output " + std::to_string(i) + " is a null Variable (a disconnected gradient?)");
  for (const auto& [old_var, new_var] : givens) {
    if (!old_var || !new_var) fail("a givens entry holds a null Variable");
    if (old_var.dtype() != new_var.dtype() || old_var.ndim() != new_var.ndim())
      fail<TypeError>("givens replaces " + describe(old_var) + " by " + describe(new_var) + " of another type");
  }
  std::vector<Variable> results = outputs;
  for (const auto& [shared_var, value] : updates) {
    if (!shared_var || !shared_var.is_shared()) fail<TypeError>("an update target is not a shared variable");
    if (!value) fail("the update of " + describe(shared_var) + " is a null Variable");
    for (const SharedVariable& earlier : updated_)
      if (earlier.is(shared_var)) fail("shared variable " + describe(shared_var) + " is updated twice");
    if (value.dtype() != shared_var.dtype())
      fail<TypeError>("the update of " + describe(shared_var) + " has type " + value.type().str() + "; its dtype must be " +
           std::string(dtype_name(shared_var.dtype())) + " (use cast)");
    if (!shared_var.type().is_supertype_of(value.type()))
      fail<TypeError>("the update of " + describe(shared_var) + " has type " + value.type().str() + ", expected " +
           shared_var.type().str());
    results.push_back(value);
    updated_.push_back(shared_var);
  }
  return results;
}

void Program::add_default_updates(std::vector<Variable>& results) {
  std::unordered_set<const VariableNode*> updated;
  for (const SharedVariable& s : updated_) updated.insert(s.node());
  for (bool added = true; added;) {
    added = false;
    for (const auto& node : toposort(results))
      for (const Variable& input : node->inputs()) {
        if (!input.is_shared() || updated.count(input.node())) continue;
        SharedVariable state(input);
        if (Variable update = state.default_update()) {
          updated.insert(input.node());
          results.push_back(update);
          updated_.push_back(state);
          added = true;
        }
      }
  }
}

void Program::check_roots(const FunctionOptions& options) const {
  std::unordered_set<const VariableNode*> is_input, used;
  for (const Variable& input : inputs_) is_input.insert(input.node());
  for (const Variable& root : graph_->roots()) {
    used.insert(root.node());
    if (!is_input.count(root.node()) && !root.is_constant() && !root.is_shared())
      fail("the graph needs input " + describe(root) + ", which is not in the inputs list; path: " +
           path_to_output(*graph_, root));
  }
  for (size_t i = 0; i < inputs_.size(); ++i) {
    if (used.count(inputs_[i].node()) || options.on_unused_input == UnusedInput::Ignore) continue;
    std::string message = "input " + std::to_string(i) + " " + describe(inputs_[i]) + " is not used by any output or update";
    if (options.on_unused_input == UnusedInput::Raise)
      fail(message + "; if that is intended, set on_unused_input to ignore (or warn)");
    warn("[function] " + message + " (function built at " + format_location(where_) + ")");
  }
}

void Program::plan() {
  std::unordered_map<const VariableNode*, int> slot_of;
  auto slot = [&](const Variable& v) {
    auto [it, inserted] = slot_of.try_emplace(v.node(), num_slots_);
    if (inserted) ++num_slots_;
    return it->second;
  };
  std::unordered_set<const VariableNode*> is_input;
  for (const Variable& input : inputs_) {
    input_slots_.push_back(slot(input));
    is_input.insert(input.node());
  }
  for (const Variable& root : graph_->roots()) {
    if (is_input.count(root.node())) continue;
    if (root.is_constant()) constant_slots_.emplace_back(slot(root), root.constant_value());
    else if (root.is_shared())
      shared_slots_.push_back({slot(root), root.node()->shared,
                               shared_on_device_.count(root.node()) ? backend_->device() : Device{}});
  }
  std::unordered_map<int, Array> constant_of;  // (Array handles: the values are shared, not copied)
  for (const auto& [s, value] : constant_slots_) constant_of[s] = value;
  for (const auto& node : graph_->nodes()) {
    Step step{node, {}, {}, {}};
    for (const Variable& input : node->inputs()) step.input_slots.push_back(slot(input));
    for (const Variable& output : node->outputs()) step.output_slots.push_back(slot(output));
    if (std::optional<std::vector<Array>> values = compute_once(step, constant_of)) {
      for (size_t k = 0; k < values->size(); ++k) {
        constant_of[step.output_slots[k]] = (*values)[k];
        constant_slots_.emplace_back(step.output_slots[k], std::move((*values)[k]));
      }
      continue;
    }
    steps_.push_back(std::move(step));
  }
  for (const Variable& result : graph_->outputs()) result_slots_.push_back(slot(result));
  first_destroy_step_ = steps_.size();
}

std::optional<std::vector<Array>> Program::compute_once(const Step& step, const std::unordered_map<int, Array>& constant_of) const {
  // Rewrites folded what depends on constants alone; what placement added since (a constant's transfer
  // to the device) is computed here, once.
  if (mode_ != Mode::FastRun || !step.node->op().constant_foldable()) return std::nullopt;
  std::vector<Array> inputs;
  for (int s : step.input_slots) {
    auto it = constant_of.find(s);
    if (it == constant_of.end()) return std::nullopt;
    inputs.push_back(it->second);
  }
  return perform_at_compile_time(*step.node, inputs);
}

void Program::move_shared_values_home() {
  if (shared_on_device_.empty()) return;
  std::lock_guard<std::recursive_mutex> lock(shared_state_mutex());
  std::vector<std::shared_ptr<SharedState>> states;
  for (const SharedSlot& shared : shared_slots_)
    if (!shared.device.is_cpu()) states.push_back(shared.state);
  for (const SharedVariable& target : updated_)
    if (shared_on_device_.count(target.node())) states.push_back(target.node()->shared);
  for (const auto& state : states)
    if (state->value.device() != backend_->device()) state->value = to_device(state->value, backend_->device());
}

void Program::plan_lazy_branches() {
  if (std::none_of(steps_.begin(), steps_.end(), [](const Step& step) { return step.node->op().branch_outputs() > 0; }))
    return;
  std::unordered_map<const VariableNode*, std::vector<std::pair<const Apply*, int>>> readers;  // (node, input index)
  for (const Step& step : steps_)
    for (size_t i = 0; i < step.node->inputs().size(); ++i) readers[step.node->input(i).node()].emplace_back(step.node.get(), i);
  std::unordered_set<const VariableNode*> results;
  for (const Variable& v : graph_->outputs()) results.insert(v.node());
  // Later ifelse nodes first: an inner ifelse's branch steps then already sit in the outer's block.
  for (size_t at = steps_.size(); at-- > 0;) {
    const int n = steps_[at].node->op().branch_outputs();
    if (n == 0) continue;
    const Apply* branch_node = steps_[at].node.get();
    // exclusive[step] = which branch alone reads it (through steps exclusive to that branch).
    std::unordered_map<const Apply*, bool> exclusive;
    for (size_t j = at; j-- > 0;) {
      const Apply* candidate = steps_[j].node.get();
      std::optional<bool> branch;
      bool only_one = true;
      for (const Variable& out : candidate->outputs()) {
        if (results.count(out.node())) only_one = false;
        for (const auto& [reader, index] : readers[out.node()]) {
          std::optional<bool> side;
          if (reader == branch_node && index >= 1) side = index <= n;
          else if (auto it = exclusive.find(reader); it != exclusive.end()) side = it->second;
          if (!side || (branch && *branch != *side)) only_one = false;
          branch = side;
        }
      }
      if (only_one && branch) exclusive[candidate] = *branch;
    }
    if (exclusive.empty()) continue;
    const int condition_slot = steps_[at].input_slots[0];
    std::vector<Step> before, moved;
    for (size_t j = 0; j < at; ++j) {
      auto it = exclusive.find(steps_[j].node.get());
      if (it == exclusive.end()) {
        before.push_back(std::move(steps_[j]));
        continue;
      }
      steps_[j].guards.emplace_back(condition_slot, it->second);
      moved.push_back(std::move(steps_[j]));
    }
    for (size_t j = 0; j < moved.size(); ++j) steps_[j + before.size()] = std::move(moved[j]);
    for (size_t j = 0; j < before.size(); ++j) steps_[j] = std::move(before[j]);
  }
}

void Program::plan_releases() {
  // Each value is released after the last step that reads it, unless it is a result.
  std::unordered_map<int, size_t> last_reader;
  for (size_t i = 0; i < steps_.size(); ++i) {
    steps_[i].release_slots.clear();
    for (int s : steps_[i].input_slots) last_reader[s] = i;
  }
  std::unordered_set<int> kept(result_slots_.begin(), result_slots_.end());
  for (const auto& [s, step_index] : last_reader)
    if (!kept.count(s)) steps_[step_index].release_slots.push_back(s);
}

void Program::plan_in_place_updates() {
  std::unordered_map<const Apply*, Step*> step_of;
  for (Step& step : steps_) step_of[step.node.get()] = &step;
  std::unordered_map<const Apply*, int> updates_computed;  // per node
  for (size_t u = 0; u < updated_.size(); ++u)
    if (auto owner = graph_->outputs()[num_outputs_ + u].owner()) ++updates_computed[owner.get()];
  size_t destroyers = 0;
  for (size_t u = 0; u < updated_.size(); ++u) {
    const Variable target = updated_[u], value = graph_->outputs()[num_outputs_ + u];
    std::shared_ptr<Apply> node = value.owner();
    // A node computing two updates overwrites neither.
    if (!node || node->num_outputs() != 1 || updates_computed[node.get()] > 1) continue;
    Step& step = *step_of.at(node.get());
    const int destination = node->op().destination_input();
    if (destination < 0 && !(step.kernel && step.kernel->writes_into_any_input())) continue;
    int input = -1;
    for (size_t k = 0; k < node->inputs().size() && input < 0; ++k)
      if (node->input(k).is(target) && (destination < 0 || static_cast<int>(k) == destination)) input = static_cast<int>(k);
    if (input < 0 || value.dtype() != target.dtype()) continue;
    // The old value is itself a result (f returns w and updates it): it must survive the update.
    bool is_result = false;
    for (const Variable& result : graph_->outputs()) is_result = is_result || result.is(target);
    if (is_result) continue;
    // Nothing but the caller reads the new value, so the step can run last.
    bool only_a_result = true;
    for (const Client& client : graph_->clients(value)) only_a_result = only_a_result && !client.node;
    if (!only_a_result) continue;
    // Another update step that reads the variable would see the new value: leave both alone.
    bool read_by_another_update = false;
    for (const Client& client : graph_->clients(target))
      read_by_another_update = read_by_another_update ||
                               (client.node && client.node != node.get() && updates_computed.count(client.node));
    if (read_by_another_update) continue;
    step.destroy_input = input;
    step.destroy_holders = 3;  // the shared variable, its slot and the step's operand
    ++destroyers;
  }
  // The marked steps go last, in their order; every other reader of their targets is then before them.
  std::stable_partition(steps_.begin(), steps_.end(), [](const Step& step) { return step.destroy_input < 0; });
  first_destroy_step_ = steps_.size() - destroyers;
}

void Program::plan_in_place_intermediates() {
  std::unordered_set<int> not_ours(result_slots_.begin(), result_slots_.end());
  for (size_t i = 0; i < input_slots_.size(); ++i)
    if (!donated_[i]) not_ours.insert(input_slots_[i]);
  for (const auto& [s, value] : constant_slots_) not_ours.insert(s);
  for (const SharedSlot& shared : shared_slots_) not_ours.insert(shared.slot);
  for (size_t i = 0; i < first_destroy_step_; ++i) {
    Step& step = steps_[i];
    const Apply& node = *step.node;
    const int destination = node.op().destination_input();
    // (A fused loop with several outputs may write its first into an input: every element's inputs
    // are read before any of its outputs is written.)
    if (step.destroy_input >= 0 || (destination < 0 && !(step.kernel && step.kernel->writes_into_any_input())))
      continue;
    const TensorType& result = node.output(0).type();
    for (size_t k = destination < 0 ? 0 : destination; k < (destination < 0 ? node.inputs().size() : destination + 1) &&
                                                         step.destroy_input < 0;
         ++k) {
      const int s = step.input_slots[k];
      const TensorType& type = node.input(k).type();
      const bool last_read_here = std::find(step.release_slots.begin(), step.release_slots.end(), s) != step.release_slots.end();
      if (!last_read_here || not_ours.count(s) || type.dtype != result.dtype || type.ndim() != result.ndim()) continue;
      step.destroy_input = static_cast<int>(k);
      step.destroy_holders = 1 + std::count(step.input_slots.begin(), step.input_slots.end(), s);
    }
  }
}

namespace {

// Whether a buffer is Hypatia's alone: `holders` references to it, no borrowed NumPy memory, writable
// and contiguous (the kernel then reads and writes each element at one address).
bool held_only_by(const Array& value, long holders) {
  const auto& storage = value.storage();
  return storage && !storage->foreign() && storage->writable() && storage.use_count() == holders && value.is_contiguous();
}

}  // namespace

std::vector<bool> Program::check_in_place_steps(const std::vector<Array>& values) const {
  std::vector<bool> in_place(steps_.size() - first_destroy_step_, false);
  for (size_t i = first_destroy_step_; i < steps_.size(); ++i) {
    const Step& step = steps_[i];
    std::vector<Array> inputs;
    for (int s : step.input_slots) inputs.push_back(values[s]);
    std::optional<Shape> shape;
    try {
      shape = step.node->op().result_shape(*step.node, inputs);
    } catch (const Error& error) {
      if (error.located()) throw;
      rethrow_with_location(error, step.node->where());
    }
    // Our buffer alone: held by the shared variable, its slot and the copy above, and nothing else
    // (no other function's call, no borrowed view in the caller's hands, not NumPy's memory).
    const Array& target = inputs[step.destroy_input];
    in_place[i - first_destroy_step_] = shape && held_only_by(target, step.destroy_holders) && target.shape() == *shape;
  }
  return in_place;
}

std::vector<Array> Program::run(std::vector<Array> inputs) const {
  if (inputs.size() != inputs_.size())
    throw ValueError("[function] expected " + std::to_string(inputs_.size()) + " inputs, got " + std::to_string(inputs.size()));
  std::vector<Array> values(num_slots_);
  std::vector<const Storage*> caller_memory;  // others may still use these: results must not alias them
  for (size_t i = 0; i < inputs.size(); ++i) {
    const TensorType& type = inputs_[i].type();
    Array value = std::move(inputs[i]);
    if (value.dtype() != type.dtype && can_convert_losslessly(value.dtype(), type.dtype)) value = to_host(value).astype(type.dtype);
    // Where the program reads it (a device array read on the host comes back; a host array read only on
    // the device goes there now).
    if ((value.storage() || value.is_sparse()) && value.device() != input_devices_[i]) value = to_device(value, input_devices_[i]);
    if (!type.accepts(value))
      throw TypeError("[function] input " + std::to_string(i) + " (" + describe(inputs_[i]) + "): expected " + type.str() +
                      ", got " + value.shape_dtype_str());
    // A donated buffer is ours only when the caller let go of it (no one else holds it now).
    if (!donated_[i] || !value.storage() || value.storage().use_count() != 1)
      for (const Storage* storage : value.storages()) caller_memory.push_back(storage);
    values[input_slots_[i]] = std::move(value);
  }
  inputs.clear();
  auto is_caller_memory = [&](const Array& value) {
    for (const Storage* storage : value.storages())
      if (std::find(caller_memory.begin(), caller_memory.end(), storage) != caller_memory.end()) return true;
    return false;
  };
  for (const auto& [s, value] : constant_slots_) values[s] = value;
  // A function with updates holds the lock through its run (its read-modify-write is one step); one
  // without holds it while it reads the values.
  std::unique_lock<std::recursive_mutex> shared_lock(shared_state_mutex());
  for (const SharedSlot& shared : shared_slots_) values[shared.slot] = shared.state->value;
  if (updated_.empty()) shared_lock.unlock();
  // A value another function or set_value left elsewhere is moved for this call.
  for (const SharedSlot& shared : shared_slots_)
    if (values[shared.slot].device() != shared.device) values[shared.slot] = to_device(values[shared.slot], shared.device);

  const ModeScope mode_scope(mode_);
  const DenormalScope denormal_scope(flush_denormals_);
  std::vector<Array> step_inputs, step_outputs;
  std::vector<double> step_seconds(profiler_ ? steps_.size() : 0);
  std::vector<bool> wrote_in_place(profiler_ ? steps_.size() : 0);
  const Profiler::Clock::time_point call_start = profiler_ ? Profiler::Clock::now() : Profiler::Clock::time_point();
  std::vector<bool> in_place;
  for (size_t index = 0; index < steps_.size(); ++index) {
    const Step& step = steps_[index];
    if (index == first_destroy_step_) in_place = check_in_place_steps(values);
    bool skipped = false;
    for (const auto& [condition, branch] : step.guards)
      if (skipped = (values[condition].item() != 0) != branch; skipped) break;
    if (skipped) {  // the branch that reads it is not taken
      for (int s : step.release_slots) values[s] = Array();
      continue;
    }
    step_inputs.clear();
    for (int s : step.input_slots) step_inputs.push_back(values[s]);
    step_outputs.assign(step.output_slots.size(), Array());
    // An in-place step finds its destination among its outputs: the buffer it may overwrite. (An
    // intermediate of another shape is left alone by the kernel, which then allocates.)
    if (step.destroy_input >= 0 && (index >= first_destroy_step_ ? in_place[index - first_destroy_step_]
                                                                 : held_only_by(step_inputs[step.destroy_input], step.destroy_holders)))
      step_outputs[0] = step_inputs[step.destroy_input];
    // (Compared by storage: a device array has no host address.)
    const Storage* destination = step_outputs.empty() ? nullptr : step_outputs[0].storage().get();
    if (node_monitor_) node_monitor_(index, *step.node, step_inputs, {}, false);
    try {
      const auto start = profiler_ ? Profiler::Clock::now() : Profiler::Clock::time_point();
      if (step.kernel) step.kernel->run(*step.node, step_inputs, step_outputs);
      else step.node->op().perform(*step.node, step_inputs, step_outputs);
      if (profiler_) {
        step_seconds[index] = std::chrono::duration<double>(Profiler::Clock::now() - start).count();
        wrote_in_place[index] = destination && step_outputs[0].storage().get() == destination;
      }
    } catch (const Error& error) {
      if (error.located()) throw;  // a fused node's error already names the member that failed
      rethrow_with_location(error, step.node->where());
    }
    if (node_monitor_) node_monitor_(index, *step.node, step_inputs, step_outputs, true);
    for (size_t k = 0; k < step.output_slots.size(); ++k) {
      const TensorType& type = step.node->output(k).type();
      if (!type.accepts(step_outputs[k]))
        throw Error("[function] internal error: " + step.node->op().str() + " produced " +
                    step_outputs[k].shape_dtype_str() + " for an output of type " + type.str());
      values[step.output_slots[k]] = std::move(step_outputs[k]);
    }
    for (int s : step.release_slots) values[s] = Array();
  }

  std::vector<Array> outputs;
  for (size_t k = 0; k < num_outputs_; ++k) {
    Array value = values[result_slots_[k]];
    // Never hand out memory the caller could use to change an input, a constant or a shared value.
    bool aliases = is_caller_memory(value);
    for (const auto& [s, constant_value] : constant_slots_) aliases = aliases || value.shares_storage_with(constant_value);
    for (const SharedSlot& shared : shared_slots_) aliases = aliases || value.shares_storage_with(shared.state->value);
    for (const Array& earlier : outputs) aliases = aliases || value.shares_storage_with(earlier);
    for (size_t u = 0; u < updated_.size(); ++u)
      aliases = aliases || value.shares_storage_with(values[result_slots_[num_outputs_ + u]]);
    outputs.push_back(aliases ? copy_where_it_is(value) : std::move(value));
  }
  // Every output is computed: now the updates take effect, all at once. A new value must not be the
  // caller's input memory (or a constant's), which the caller may change after the call.
  for (size_t u = 0; u < updated_.size(); ++u) {
    Array& value = values[result_slots_[num_outputs_ + u]];
    if (value.ndim() != updated_[u].ndim())
      throw TypeError("[function] update of " + describe(updated_[u]) + " produced " + value.shape_dtype_str());
    bool aliases = is_caller_memory(value);
    for (const auto& [s, constant_value] : constant_slots_) aliases = aliases || value.shares_storage_with(constant_value);
    if (aliases) value = copy_where_it_is(value);
  }
  for (size_t u = 0; u < updated_.size(); ++u) updated_[u].node()->shared->value = values[result_slots_[num_outputs_ + u]];
  if (profiler_)
    profiler_->record_call(step_seconds, wrote_in_place, std::chrono::duration<double>(Profiler::Clock::now() - call_start).count());
  return outputs;
}

std::string Program::profile_summary() const {
  if (!profiler_) return "";
  char compile[160];
  std::snprintf(compile, sizeof compile, "; compiled in %.1f ms (rewrites %.2f ms, generated kernels %.1f ms)",
                1e3 * (rewrite_seconds_ + codegen_seconds_), 1e3 * rewrite_seconds_, 1e3 * codegen_seconds_);
  return profiler_->summary("built at " + format_location(where_) + compile);
}

std::string Program::debugprint() const { return debugprint_compiled(graph_->outputs(), mode_, backend_ ? backend_->device() : Device{}); }

// ---- Function ----

std::vector<Array> Function::operator()(const std::vector<Array>& inputs) const {
  if (!program_) throw ValueError("[function] calling an empty Function");
  return program_->run(inputs);
}
std::vector<Array> Function::operator()(std::vector<Array>&& inputs) const {
  if (!program_) throw ValueError("[function] calling an empty Function");
  return program_->run(std::move(inputs));
}
std::string Function::debugprint() const { return program_ ? program_->debugprint() : ""; }
std::string Function::profile_summary() const { return program_ ? program_->profile_summary() : ""; }
std::vector<Variable> Function::graph_outputs() const { return program_ ? program_->graph_outputs() : std::vector<Variable>(); }
size_t Function::num_inputs() const { return program_ ? program_->num_inputs() : 0; }
size_t Function::num_outputs() const { return program_ ? program_->num_outputs() : 0; }

Function function(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs, const Updates& updates,
                  const Givens& givens, const FunctionOptions& options, std::source_location where) {
  Function f;
  f.program_ = std::make_shared<Program>(inputs, outputs, updates, givens, options, where);
  return f;
}

std::vector<Array> eval(const std::vector<Variable>& outputs, const std::vector<std::pair<Variable, Array>>& inputs) {
  std::vector<Variable> variables;
  std::vector<Array> values;
  for (const auto& [v, a] : inputs) {
    variables.push_back(v);
    values.push_back(a);
  }
  // Bindings the outputs do not need are fine here, as with Theano's eval.
  return function(variables, outputs, {}, {}, {.on_unused_input = UnusedInput::Ignore})(values);
}

Array eval(const Variable& output, const std::vector<std::pair<Variable, Array>>& inputs) {
  return eval(std::vector<Variable>{output}, inputs).at(0);
}

}  // namespace hypatia
