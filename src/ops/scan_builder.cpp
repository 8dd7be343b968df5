// scan(), map(), reduce(), foldl(), foldr(): call fn once on per-step placeholders, lift what it reads
// from outside into non-sequences, carry the shared variables it updates as states, build the Scan node.
#include <algorithm>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "hypatia/elemwise.h"
#include "hypatia/scan.h"
#include "hypatia/shape_ops.h"
#include "hypatia/subtensor.h"
#include "ir/describe.h"
#include "ops/scan.h"
#include "ops/scan_builder.h"

namespace hypatia {
namespace {

std::string tap_name(const Variable& outer, const char* fallback, int index, int tap) {
  std::string base = outer.name().empty() ? fallback + std::to_string(index) : outer.name();
  return base + "[t" + (tap > 0 ? "+" + std::to_string(tap) : tap < 0 ? std::to_string(tap) : "") + "]";
}

Variable placeholder(const TensorType& type, std::string name) { return tensor(type.dtype, type.shape, std::move(name)); }

TensorType without_first_axis(const TensorType& type) {
  return TensorType(type.dtype, std::vector<int64_t>(type.shape.begin() + 1, type.shape.end()));
}

void check_taps(const std::vector<int>& taps, const std::string& what, const std::string& name) {
  if (taps.empty()) throw ValueError("[scan] '" + name + "': " + what + " has no taps");
  std::set<int> unique(taps.begin(), taps.end());
  if (unique.size() != taps.size()) throw ValueError("[scan] '" + name + "': " + what + " repeats a tap");
}

}  // namespace

ScanResult build_scan(const ScanFunction& fn, const std::vector<Sequence>& sequences,
                      const std::vector<OutputInfo>& outputs_info, const std::vector<Variable>& non_sequences,
                      const ScanOptions& options, const std::vector<bool>& last_only, CodeLocation where) {
  const std::string& name = options.name;
  auto fail = [&](const std::string& message) -> void {
    throw ValueError("[scan] '" + name + "': " + message + " (scan called at " + format_location(where) + ")");
  };
  ScanLayout layout;
  layout.name = name;
  layout.truncate_gradient = options.truncate_gradient;

  // n_steps: -1 lets the sequences decide.
  Variable n_steps;
  if (options.n_steps) {
    n_steps = options.n_steps->as_variable(DType::Int64);
    if (n_steps.ndim() != 0 || !is_integer(n_steps.dtype()))
      throw TypeError("[scan] '" + name + "': n_steps must be an integer scalar, got " + n_steps.type().str());
    if (n_steps.dtype() != DType::Int64) n_steps = cast(n_steps, DType::Int64);
    if (auto known = n_steps.is_constant() ? std::optional<double>(n_steps.constant_value().item()) : std::nullopt;
        known && *known < 0)
      fail("n_steps must be at least 0, got " + std::to_string(static_cast<int64_t>(*known)));
  } else {
    if (sequences.empty()) fail("without sequences, n_steps must be given");
    n_steps = constant(-1.0, DType::Int64);
  }

  // Per-step placeholders, in fn's argument order.
  std::vector<Variable> outer_sequences, args, sequence_args, recurrent_args;
  for (size_t s = 0; s < sequences.size(); ++s) {
    Variable input = sequences[s].input;
    if (!input) fail("sequence " + std::to_string(s) + " is a null Variable");
    if (input.ndim() < 1) fail("sequence " + std::to_string(s) + " (" + describe_variable(input) + ") has no axis to walk along");
    check_taps(sequences[s].taps, "sequence " + std::to_string(s), name);
    if (options.go_backwards) input = input[{slice(std::nullopt, std::nullopt, -1)}];
    outer_sequences.push_back(input);
    layout.sequence_taps.push_back(sequences[s].taps);
    for (int tap : sequences[s].taps)
      sequence_args.push_back(placeholder(without_first_axis(input.type()), tap_name(sequences[s].input, "sequence", s, tap)));
  }
  std::vector<int> recurrent_of_output;  // per fn output: its recurrent index, or -1
  std::vector<Variable> initial_buffers;
  std::vector<TensorType> state_types;
  for (size_t k = 0; k < outputs_info.size(); ++k) {
    const OutputInfo& info = outputs_info[k];
    if (!info.initial) {
      if (!info.taps.empty()) fail("output " + std::to_string(k) + " has taps but no initial value");
      recurrent_of_output.push_back(-1);
      continue;
    }
    check_taps(info.taps, "output " + std::to_string(k), name);
    int lag = 0;
    for (int tap : info.taps) {
      if (tap >= 0) fail("output " + std::to_string(k) + " has tap " + std::to_string(tap) + "; taps of outputs must be negative");
      lag = std::max(lag, -tap);
    }
    const Variable& initial = info.initial;
    TensorType state = initial.type();
    Variable buffer;
    if (lag == 1) {
      buffer = expand_dims(initial, 0);
    } else {
      if (initial.ndim() < 1)
        fail("output " + std::to_string(k) + " has taps reaching back " + std::to_string(lag) +
             " steps, so its initial value needs a first axis holding them; got " + describe_variable(initial));
      state = without_first_axis(initial.type());
      buffer = initial[{slice(std::nullopt, lag)}];
    }
    recurrent_of_output.push_back(static_cast<int>(layout.recurrent_taps.size()));
    layout.recurrent_taps.push_back(info.taps);
    initial_buffers.push_back(buffer);
    state_types.push_back(state);
    for (int tap : info.taps) recurrent_args.push_back(placeholder(state, tap_name(initial, "output", k, tap)));
  }
  args = sequence_args;
  args.insert(args.end(), recurrent_args.begin(), recurrent_args.end());
  args.insert(args.end(), non_sequences.begin(), non_sequences.end());
  for (size_t n = 0; n < non_sequences.size(); ++n)
    if (!non_sequences[n]) fail("non-sequence " + std::to_string(n) + " is a null Variable");

  ScanStep step = fn(args);
  if (outputs_info.empty()) {
    recurrent_of_output.assign(step.outputs.size(), -1);
  } else if (step.outputs.size() != outputs_info.size()) {
    fail("fn returned " + std::to_string(step.outputs.size()) + " outputs but outputs_info describes " +
         std::to_string(outputs_info.size()));
  }
  for (size_t k = 0; k < step.outputs.size(); ++k) {
    const Variable& out = step.outputs[k];
    if (!out) fail("output " + std::to_string(k) + " of fn is a null Variable");
    const int r = recurrent_of_output[k];
    if (r < 0) continue;
    const TensorType& state = state_types[r];
    if (out.dtype() != state.dtype || out.ndim() != state.ndim())
      throw TypeError("[scan] '" + name + "': output " + std::to_string(k) + " of fn is " + describe_variable(out) +
                      " but its initial value (outputs_info[" + std::to_string(k) + "]) gives states of type " +
                      state.str() + "; they must have the same dtype and number of dimensions (cast one of them)");
    for (int axis = 0; axis < state.ndim(); ++axis)
      if (state.shape[axis] >= 0 && out.type().shape[axis] >= 0 && state.shape[axis] != out.type().shape[axis])
        throw ShapeError("[scan] '" + name + "': output " + std::to_string(k) + " of fn is " + describe_variable(out) +
                         " but its state has shape " + state.str());
  }

  // Shared variables fn updates (explicitly, or by their default updates, like random streams) are
  // states carried from step to step; the loop returns their last value as an update. As in Theano, a
  // random draw fn reads is drawn anew at every step, even one built before the loop, unless it was
  // passed as a non-sequence (which freezes it for the whole loop).
  Updates updates = step.updates;
  {
    std::unordered_set<const VariableNode*> frozen;
    for (const Variable& v : non_sequences) frozen.insert(v.node());
    std::vector<Variable> reached = step.outputs;
    for (const auto& [shared, value] : updates) reached.push_back(value);
    if (step.until) reached.push_back(step.until);  // a condition on a draw redraws it each step too
    std::unordered_set<const VariableNode*> updated, seen;
    for (const auto& [shared, value] : updates) updated.insert(shared.node());
    while (!reached.empty()) {  // default updates may read further states
      const Variable v = reached.back();
      reached.pop_back();
      if (frozen.count(v.node()) || !seen.insert(v.node()).second) continue;
      if (v.is_shared() && !updated.count(v.node())) {
        SharedVariable shared(v);
        if (Variable update = shared.default_update()) {
          updated.insert(v.node());
          updates.emplace_back(shared, update);
          reached.push_back(update);
        }
      }
      if (v.owner())
        for (const Variable& input : v.owner()->inputs()) reached.push_back(input);
    }
  }
  std::vector<Variable> state_args;
  for (const auto& [shared, value] : updates) {
    if (!shared || !value) fail("an update of fn holds a null Variable");
    if (value.dtype() != shared.dtype() || value.ndim() != shared.ndim())
      throw TypeError("[scan] '" + name + "': fn updates " + describe_variable(shared) + " with " + describe_variable(value));
    layout.recurrent_taps.push_back({-1});
    initial_buffers.push_back(expand_dims(shared, 0));
    state_args.push_back(placeholder(shared.type(), shared.name()));
  }

  // Everything fn read from outside the step becomes a non-sequence (computed once, before the loop).
  std::unordered_set<const VariableNode*> inner;
  for (const Variable& v : sequence_args) inner.insert(v.node());
  for (const Variable& v : recurrent_args) inner.insert(v.node());
  for (const auto& [shared, value] : updates) inner.insert(shared.node());
  std::vector<Variable> results = step.outputs;
  for (const auto& [shared, value] : updates) results.push_back(value);
  if (step.until) {
    if (step.until.ndim() != 0)
      throw TypeError("[scan] '" + name + "': the until condition must be a scalar, got " + describe_variable(step.until));
    results.push_back(step.until);  // last: the loop's stop condition
  }
  std::vector<Variable> lifted = non_sequences;
  std::unordered_set<const VariableNode*> is_lifted;
  for (const Variable& v : non_sequences) is_lifted.insert(v.node());
  // Expressions of constants alone stay inside, where constant folding sees them.
  std::unordered_set<const VariableNode*> constant_valued;
  auto lift = [&](const Variable& v) {
    if (inner.count(v.node()) || v.is_constant() || constant_valued.count(v.node()) || is_lifted.count(v.node())) return;
    is_lifted.insert(v.node());
    lifted.push_back(v);
  };
  for (const auto& node : toposort(results)) {
    bool all_constant = true;
    for (const Variable& input : node->inputs())
      all_constant = all_constant && (input.is_constant() || constant_valued.count(input.node()));
    if (all_constant)
      for (const Variable& output : node->outputs()) constant_valued.insert(output.node());
    bool reads_inner = false;
    for (const Variable& input : node->inputs()) reads_inner = reads_inner || inner.count(input.node());
    if (!reads_inner) continue;
    for (const Variable& input : node->inputs()) lift(input);
    for (const Variable& output : node->outputs()) inner.insert(output.node());
  }
  for (const Variable& v : results) lift(v);
  if (options.strict) {
    std::unordered_set<const VariableNode*> given;
    for (const Variable& v : non_sequences) given.insert(v.node());
    // The roots a lifted expression reads, stopping at what was given.
    std::vector<Variable> pending(lifted.begin() + static_cast<long>(non_sequences.size()), lifted.end());
    std::unordered_set<const VariableNode*> seen;
    while (!pending.empty()) {
      const Variable v = pending.back();
      pending.pop_back();
      if (given.count(v.node()) || !seen.insert(v.node()).second || v.is_constant()) continue;
      if (v.is_root())
        fail("strict: fn reads " + describe_variable(v) + " (built at " + format_location(v.where()) +
             "), which is not among the non_sequences");
      for (const Variable& input : v.owner()->inputs()) pending.push_back(input);
    }
  }

  std::vector<std::pair<Variable, Variable>> replacements;
  std::vector<Variable> lifted_args;
  for (const Variable& v : lifted) {
    lifted_args.push_back(placeholder(v.type(), v.name()));
    replacements.emplace_back(v, lifted_args.back());
  }
  for (size_t u = 0; u < updates.size(); ++u) replacements.emplace_back(updates[u].first, state_args[u]);
  const std::vector<Variable> cloned = clone_replace(results, replacements);

  // Inner outputs: fed-back outputs of fn, the carried states, then the outputs that are not fed back.
  std::vector<Variable> inner_outputs;
  for (size_t k = 0; k < step.outputs.size(); ++k)
    if (recurrent_of_output[k] >= 0) inner_outputs.push_back(cloned[k]);
  for (size_t u = 0; u < updates.size(); ++u) inner_outputs.push_back(cloned[step.outputs.size() + u]);
  for (size_t k = 0; k < step.outputs.size(); ++k)
    if (recurrent_of_output[k] < 0) inner_outputs.push_back(cloned[k]);
  layout.until = static_cast<bool>(step.until);
  if (layout.until) inner_outputs.push_back(cloned.back());
  std::vector<Variable> inner_inputs = sequence_args;
  inner_inputs.insert(inner_inputs.end(), recurrent_args.begin(), recurrent_args.end());
  inner_inputs.insert(inner_inputs.end(), state_args.begin(), state_args.end());
  inner_inputs.insert(inner_inputs.end(), lifted_args.begin(), lifted_args.end());

  const int user_recurrent = static_cast<int>(state_types.size());
  layout.num_plain = static_cast<int>(inner_outputs.size()) - layout.num_recurrent() - (layout.until ? 1 : 0);
  layout.num_non_sequences = static_cast<int>(lifted.size());
  layout.keep.assign(layout.num_recurrent(), 0);
  for (int r = 0; r < layout.num_recurrent(); ++r)
    if (r >= user_recurrent || (r < static_cast<int>(last_only.size()) && last_only[r])) layout.keep[r] = layout.lag(r);

  std::vector<Variable> outer_inputs{n_steps};
  outer_inputs.insert(outer_inputs.end(), outer_sequences.begin(), outer_sequences.end());
  outer_inputs.insert(outer_inputs.end(), initial_buffers.begin(), initial_buffers.end());
  outer_inputs.insert(outer_inputs.end(), lifted.begin(), lifted.end());
  const int R = layout.num_recurrent();
  std::vector<Variable> outer =
      apply_op(std::make_shared<Scan>(inner_inputs, inner_outputs, layout), outer_inputs, where);

  ScanResult result;
  int plain = 0;
  for (size_t k = 0; k < step.outputs.size(); ++k) {
    const int r = recurrent_of_output[k];
    Variable out;
    if (r < 0) out = outer[R + plain++];
    else if (layout.keep[r] > 0) out = outer[r][{-1}];
    else out = outer[r][{slice(layout.lag(r), std::nullopt)}];
    result.outputs.push_back(out);
  }
  for (size_t u = 0; u < updates.size(); ++u) result.updates.emplace_back(updates[u].first, outer[user_recurrent + u][{-1}]);
  return result;
}

namespace {

// The options with the loop's name defaulting to its kind ("map", "reduce", ...).
ScanOptions named(ScanOptions options, const char* kind) {
  if (options.name == "scan") options.name = kind;
  return options;
}

}  // namespace

ScanResult scan(const ScanFunction& fn, const std::vector<Sequence>& sequences, const std::vector<OutputInfo>& outputs_info,
                const std::vector<Variable>& non_sequences, const ScanOptions& options, std::source_location where) {
  return build_scan(fn, sequences, outputs_info, non_sequences, options, {}, where);
}

ScanResult map(const ScanFunction& fn, const std::vector<Sequence>& sequences, const std::vector<Variable>& non_sequences,
               const ScanOptions& options, std::source_location where) {
  return build_scan(fn, sequences, {}, non_sequences, named(options, "map"), {}, where);
}

ScanResult reduce(const ScanFunction& fn, const std::vector<Sequence>& sequences, const std::vector<OutputInfo>& outputs_info,
                  const std::vector<Variable>& non_sequences, const ScanOptions& options, std::source_location where) {
  ScanResult result = build_scan(fn, sequences, outputs_info, non_sequences, named(options, "reduce"),
                                 std::vector<bool>(outputs_info.size(), true), where);
  for (size_t k = 0; k < result.outputs.size(); ++k)
    if (k >= outputs_info.size() || !outputs_info[k].initial) result.outputs[k] = result.outputs[k][{-1}];
  return result;
}

ScanResult foldl(const ScanFunction& fn, const std::vector<Sequence>& sequences, const std::vector<OutputInfo>& outputs_info,
                 const std::vector<Variable>& non_sequences, const ScanOptions& options, std::source_location where) {
  ScanOptions forwards = named(options, "foldl");
  forwards.go_backwards = false;
  return reduce(fn, sequences, outputs_info, non_sequences, forwards, where);
}

ScanResult foldr(const ScanFunction& fn, const std::vector<Sequence>& sequences, const std::vector<OutputInfo>& outputs_info,
                 const std::vector<Variable>& non_sequences, const ScanOptions& options, std::source_location where) {
  ScanOptions backwards = named(options, "foldr");
  backwards.go_backwards = true;
  return reduce(fn, sequences, outputs_info, non_sequences, backwards, where);
}

}  // namespace hypatia
