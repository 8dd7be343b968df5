// The gradient of scan: backpropagation through time, itself a scan (so it can be differentiated again)
// that walks the steps backwards, pulling each step's output cotangents back through the inner graph.
//
// Cotangents of a fed-back output r reach position i + L + t from the step i that read it at tap t.
// The backward loop carries a window of L accumulated cotangents: before it handles step i, row j holds
// what the later steps sent to position i + L - j. Row 0 is then complete (it is the output of step i),
// and the window slides by one row.
#include <unordered_map>

#include "hypatia/elemwise.h"
#include "hypatia/grad.h"
#include "hypatia/shape_ops.h"
#include "hypatia/subtensor.h"
#include "ops/scan.h"
#include "ops/scan_builder.h"

namespace hypatia {
namespace {

Variable reversed(const Variable& x) { return x[{slice(std::nullopt, std::nullopt, -1)}]; }

Variable rows(const Variable& x, const Variable& start, const Variable& stop) { return x[{slice(start, stop)}]; }

}  // namespace

std::vector<Variable> Scan::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const ScanLayout& layout = layout_;
  const int S = layout.num_sequences(), R = layout.num_recurrent(), P = layout.num_plain, N = layout.num_non_sequences;
  std::vector<Variable> result(node.inputs().size());
  // The whole trajectory: a loop that kept only its last rows runs again keeping every row.
  bool kept_all = true;
  for (int64_t k : layout.keep) kept_all = kept_all && k == 0;
  std::vector<Variable> forward = node.outputs();
  if (!kept_all) forward = apply_op(with_keep(std::vector<int64_t>(R, 0)), node.inputs(), node.where());
  // A loop with an until condition ran as many steps as its outputs have rows (Theano's as_while grad):
  // the backward loop walks those, and the rows of the sequences it never reached get zero cotangents.
  Variable steps;
  if (!layout.until) steps = scan_steps(node);
  else if (P > 0) steps = shape_i(forward[R], 0);
  else if (R > 0) steps = shape_i(forward[0], 0) - static_cast<int64_t>(layout.lag(0));
  else return result;
  const Variable zero = constant(0.0, DType::Int64);

  // Cotangents of every row of the full buffers.
  std::vector<Variable> buffer_grads(R);
  for (int r = 0; r < R; ++r) {
    const Variable& g = output_grads[r];
    if (!g || !is_inexact(forward[r].dtype())) continue;
    if (layout.keep[r] == 0) {
      buffer_grads[r] = g;
    } else {
      const Variable total = shape_i(forward[r], 0);
      buffer_grads[r] = inc_subtensor(zeros_like(forward[r])[{slice(total - shape_i(g, 0), std::nullopt)}], g);
    }
  }

  // The backward loop runs the last `backward_steps` steps (all of them unless truncated).
  Variable backward_steps = steps;
  if (layout.truncate_gradient >= 0) backward_steps = minimum(steps, static_cast<int64_t>(layout.truncate_gradient));

  // Its sequences, each read at tap 0 and reversed: the forward values every step read, then the
  // cotangents of each step's outputs.
  std::vector<Sequence> sequences;
  for (int s = 0; s < S; ++s)
    for (int tap : layout.sequence_taps[s]) {
      const Variable start = zero + static_cast<int64_t>(tap - layout.min_tap(s));
      sequences.emplace_back(reversed(rows(node.input(1 + s), start, start + steps)));
    }
  for (int r = 0; r < R; ++r)
    for (int tap : layout.recurrent_taps[r]) {
      const Variable start = zero + static_cast<int64_t>(layout.lag(r) + tap);
      sequences.emplace_back(reversed(rows(forward[r], start, start + steps)));
    }
  // Each step's outputs, so the backward step reads them instead of computing them again.
  std::vector<int> output_value_arg(R + P, -1);
  int next_arg = static_cast<int>(sequences.size());
  for (int r = 0; r < R; ++r) {
    const Variable start = zero + static_cast<int64_t>(layout.lag(r));
    sequences.emplace_back(reversed(rows(forward[r], start, start + steps)));
    output_value_arg[r] = next_arg++;
  }
  for (int p = 0; p < P; ++p) {
    sequences.emplace_back(reversed(forward[R + p]));
    output_value_arg[R + p] = next_arg++;
  }
  std::vector<int> recurrent_grad_arg(R, -1), plain_grad_arg(P, -1);
  for (int r = 0; r < R; ++r)
    if (buffer_grads[r]) {
      const Variable start = zero + static_cast<int64_t>(layout.lag(r));
      sequences.emplace_back(reversed(rows(buffer_grads[r], start, start + steps)));
      recurrent_grad_arg[r] = next_arg++;
    }
  for (int p = 0; p < P; ++p)
    if (output_grads[R + p] && is_inexact(forward[R + p].dtype())) {
      sequences.emplace_back(reversed(output_grads[R + p]));
      plain_grad_arg[p] = next_arg++;
    }

  // Carried: a cotangent window per float fed-back output, an accumulator per float non-sequence.
  std::vector<OutputInfo> outputs_info;
  std::vector<int> window_of(R, -1), accumulator_of(N, -1);
  for (int r = 0; r < R; ++r)
    if (is_inexact(forward[r].dtype())) {
      window_of[r] = static_cast<int>(outputs_info.size());
      outputs_info.emplace_back(layout.lag(r) == 1 ? zeros_like(forward[r][{0}])
                                                   : zeros_like(rows(forward[r], zero, zero + static_cast<int64_t>(layout.lag(r)))),
                                std::vector<int>{-1});
    }
  for (int n = 0; n < N; ++n)
    if (is_inexact(node.input(1 + S + R + n).dtype())) {
      accumulator_of[n] = static_cast<int>(outputs_info.size());
      outputs_info.emplace_back(zeros_like(node.input(1 + S + R + n)));
    }
  const int carried = static_cast<int>(outputs_info.size());
  std::vector<int> sequence_grad_output;  // per sequence tap: its output index, or -1
  for (int s = 0; s < S; ++s)
    for (size_t t = 0; t < layout.sequence_taps[s].size(); ++t) {
      const bool differentiable = is_inexact(node.input(1 + s).dtype());
      sequence_grad_output.push_back(differentiable ? static_cast<int>(outputs_info.size()) : -1);
      if (differentiable) outputs_info.emplace_back();
    }
  if (outputs_info.empty()) return result;  // nothing differentiable
  std::vector<Variable> non_sequences(node.inputs().begin() + 1 + S + R, node.inputs().end());

  const int value_args = layout.num_sequence_taps() + layout.num_recurrent_taps();
  const int num_sequence_args = next_arg;
  auto step = [&](const std::vector<Variable>& args) -> ScanStep {
    // The forward step on this step's values.
    std::vector<std::pair<Variable, Variable>> replacements;
    for (int a = 0; a < value_args; ++a) replacements.emplace_back(inner_inputs_[a], args[a]);
    for (int n = 0; n < N; ++n) replacements.emplace_back(inner_inputs_[value_args + n], args[num_sequence_args + carried + n]);
    std::vector<Variable> outputs = clone_replace(inner_outputs_, replacements);
    if (layout.until) outputs.pop_back();  // the stop condition carries no cotangent

    std::vector<Variable> cotangents(outputs.size());
    for (int r = 0; r < R; ++r) {
      if (window_of[r] < 0) continue;
      const Variable& window = args[num_sequence_args + window_of[r]];
      Variable g = layout.lag(r) == 1 ? window : window[{0}];
      if (recurrent_grad_arg[r] >= 0) g = g + args[recurrent_grad_arg[r]];
      cotangents[r] = g;
    }
    for (int p = 0; p < P; ++p)
      if (plain_grad_arg[p] >= 0) cotangents[R + p] = args[plain_grad_arg[p]];
    std::vector<Variable> wrt;
    for (int a = 0; a < value_args; ++a) wrt.push_back(args[a]);
    for (int n = 0; n < N; ++n) wrt.push_back(args[num_sequence_args + carried + n]);
    std::vector<Variable> pulled = Lop(outputs, wrt, cotangents, Disconnected::Ignore);
    // The pullbacks read the step's outputs (tanh's derivative reads tanh): the forward loop kept them.
    std::vector<std::pair<Variable, Variable>> known_values;
    for (size_t k = 0; k < outputs.size(); ++k)
      if (!outputs[k].is_root()) known_values.emplace_back(outputs[k], args[output_value_arg[k]]);
    std::vector<Variable> present;
    for (const Variable& g : pulled)
      if (g) present.push_back(g);
    present = clone_replace(present, known_values);
    for (size_t k = 0, j = 0; k < pulled.size(); ++k)
      if (pulled[k]) pulled[k] = present[j++];

    std::vector<Variable> next(outputs_info.size());
    int a = layout.num_sequence_taps();
    for (int r = 0; r < R; ++r) {
      std::unordered_map<int, Variable> by_lag;  // cotangent sent back `lag` positions
      for (int tap : layout.recurrent_taps[r]) by_lag[-tap] = pulled[a++];
      if (window_of[r] < 0) continue;
      const Variable& window = args[num_sequence_args + window_of[r]];
      const int lag = layout.lag(r);
      if (lag == 1) {
        next[window_of[r]] = by_lag.count(1) && by_lag[1] ? by_lag[1] : zeros_like(window);
        continue;
      }
      std::vector<Variable> slid;
      for (int j = 0; j < lag; ++j) {
        Variable row = j + 1 < lag ? window[{j + 1}] : zeros_like(window[{0}]);
        if (by_lag.count(j + 1) && by_lag[j + 1]) row = row + by_lag[j + 1];
        slid.push_back(row);
      }
      next[window_of[r]] = stack(slid);
    }
    for (int n = 0; n < N; ++n)
      if (accumulator_of[n] >= 0) {
        const Variable& pulled_n = pulled[value_args + n];
        const Variable& sum = args[num_sequence_args + accumulator_of[n]];
        next[accumulator_of[n]] = pulled_n ? sum + pulled_n : sum;
      }
    int tap_index = 0;
    for (int s = 0; s < S; ++s)
      for (size_t t = 0; t < layout.sequence_taps[s].size(); ++t, ++tap_index)
        if (sequence_grad_output[tap_index] >= 0) {
          const Variable& g = pulled[tap_index];
          next[sequence_grad_output[tap_index]] = g ? g : zeros_like(args[tap_index]);
        }
    return ScanStep(next);
  };

  ScanOptions options;
  options.n_steps = Operand(backward_steps);
  options.name = layout.name + "_grad";
  std::vector<bool> last_only(carried, true);
  const ScanResult backward = build_scan(step, sequences, outputs_info, non_sequences, options, last_only, node.where());

  // Sequences: step i's cotangent for tap t belongs at row i + t - min_tap.
  int tap_index = 0;
  for (int s = 0; s < S; ++s) {
    const Variable& input = node.input(1 + s);
    Variable g;
    for (int tap : layout.sequence_taps[s]) {
      const int k = sequence_grad_output[tap_index++];
      if (k < 0) continue;
      if (!g) g = zeros_like(input);
      const Variable stop = steps + static_cast<int64_t>(tap - layout.min_tap(s));
      const Variable region = g[{slice(stop - backward_steps, stop)}];
      // (Reshaped: after no step the pulled-back rows may not know their other dimensions.)
      g = inc_subtensor(region, reshape(reversed(backward.outputs[k]), shape(region), region.ndim()));
    }
    result[1 + s] = g;
  }
  // Initial states: the window after the first step holds positions L-1 .. 0.
  for (int r = 0; r < R; ++r) {
    if (window_of[r] < 0) continue;
    const Variable& window = backward.outputs[window_of[r]];
    Variable g = layout.lag(r) == 1 ? expand_dims(window, 0) : reversed(window);
    if (layout.truncate_gradient >= 0)  // a truncated loop sends nothing back to the initial states
      g = g * cast(steps <= static_cast<int64_t>(layout.truncate_gradient), g.dtype());
    if (buffer_grads[r]) g = g + rows(buffer_grads[r], zero, zero + static_cast<int64_t>(layout.lag(r)));
    result[1 + S + r] = g;
  }
  for (int n = 0; n < N; ++n)
    if (accumulator_of[n] >= 0) result[1 + S + R + n] = backward.outputs[accumulator_of[n]];
  return result;
}

}  // namespace hypatia
