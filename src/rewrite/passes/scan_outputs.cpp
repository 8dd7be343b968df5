// Scan outputs: a loop computes only what is read. Outputs not fed back that nothing reads leave the
// loop; a fed-back output read only at its last steps (x[-j], or x[L:][-j] as scan returns it) keeps
// only those rows instead of one per step (Theano's scan_save_mem). x[L:][-j] keeps L + j rows and reads
// kept[L:][-j], so a loop of fewer than j steps still fails as before rather than read an initial state.
#include <algorithm>

#include "ops/op_support.h"
#include "ops/scan.h"
#include "hypatia/subtensor.h"
#include "ops/subtensor.h"
#include "rewrite/passes/passes.h"

namespace hypatia {
namespace {

// j when `reader` is x[-j] for a constant j >= 1.
std::optional<int64_t> last_row_read(const Apply& reader) {
  const auto* subtensor = dynamic_cast<const Subtensor*>(&reader.op());
  if (!subtensor || subtensor->entries().size() != 1 || !subtensor->entries()[0].is_integer) return std::nullopt;
  const auto index = constant_int(reader.input(1));
  if (!index || *index >= 0) return std::nullopt;
  return -*index;
}

// True when `reader` is x[L:] (the rows after the initial states).
bool drops_initial_states(const Apply& reader, int64_t lag) {
  const auto* subtensor = dynamic_cast<const Subtensor*>(&reader.op());
  if (!subtensor || subtensor->entries().size() != 1) return false;
  const BasicIndex& entry = subtensor->entries()[0];
  if (entry.is_integer || !entry.has_start || entry.has_stop || entry.has_step) return false;
  return constant_int(reader.input(1)) == lag;
}

}  // namespace

int trim_scan_outputs(FunctionGraph& graph) {
  std::vector<std::pair<Variable, Variable>> replacements;
  for (const auto& node : graph.nodes()) {
    const auto* scan = dynamic_cast<const Scan*>(&node->op());
    if (!scan) continue;
    const ScanLayout& layout = scan->layout();
    const int R = layout.num_recurrent(), P = layout.num_plain;

    std::vector<int> read_plain;
    for (int p = 0; p < P; ++p)
      if (!graph.clients(node->output(R + p)).empty()) read_plain.push_back(p);

    // Per fed-back output kept whole: the last-row reads (the variable read, j, whether it reads x[L:])
    // if those are all its reads.
    struct LastRead {
      Variable read;
      int64_t j;
      bool after_initial;
    };
    std::vector<int64_t> keep = layout.keep;
    std::vector<std::vector<LastRead>> last_reads(R);
    for (int r = 0; r < R; ++r) {
      if (keep[r] != 0) continue;
      bool only_last_rows = true;
      const int64_t lag = layout.lag(r);
      int64_t rows = lag;
      auto note = [&](const Apply& reader, bool after_initial) {
        const auto j = last_row_read(reader);
        if (!j) return false;
        last_reads[r].push_back({reader.output(0), *j, after_initial});
        rows = std::max(rows, after_initial ? lag + *j : *j);
        return true;
      };
      for (const Client& client : graph.clients(node->output(r))) {
        if (!client.node) {
          only_last_rows = false;
        } else if (drops_initial_states(*client.node, lag)) {
          for (const Client& inner : graph.clients(client.node->output(0)))
            only_last_rows = only_last_rows && inner.node && note(*inner.node, true);
        } else {
          only_last_rows = only_last_rows && note(*client.node, false);
        }
      }
      if (only_last_rows && !last_reads[r].empty()) keep[r] = rows;
      else last_reads[r].clear();
    }
    if (static_cast<int>(read_plain.size()) == P && keep == layout.keep) continue;

    const std::vector<Variable> inner_outputs = scan->inner_outputs(nullptr);
    std::vector<Variable> kept_outputs(inner_outputs.begin(), inner_outputs.begin() + R);
    for (int p : read_plain) kept_outputs.push_back(inner_outputs[R + p]);
    if (layout.until) kept_outputs.push_back(inner_outputs.back());
    ScanLayout trimmed = layout;
    trimmed.keep = keep;
    trimmed.num_plain = static_cast<int>(read_plain.size());
    const std::vector<Variable> outputs =
        apply_op(std::make_shared<Scan>(scan->inner_inputs(), kept_outputs, trimmed), node->inputs(), node->where());
    for (int r = 0; r < R; ++r) {
      if (last_reads[r].empty()) {
        replacements.emplace_back(node->output(r), outputs[r]);
        continue;
      }
      // Each read of a last row reads the same row of the kept rows.
      for (const LastRead& last : last_reads[r]) {
        const Variable rows_read = last.after_initial ? outputs[r][{slice(layout.lag(r), std::nullopt)}] : outputs[r];
        replacements.emplace_back(last.read, rows_read[{static_cast<long>(-last.j)}]);
      }
    }
    for (size_t k = 0; k < read_plain.size(); ++k) replacements.emplace_back(node->output(R + read_plain[k]), outputs[R + k]);
  }
  if (!replacements.empty()) graph.replace_all(replacements);
  return static_cast<int>(replacements.size());
}

}  // namespace hypatia
