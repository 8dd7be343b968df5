#include "rewrite/rewriter.h"

#include "ops/type_assertions.h"

namespace hypatia {

void RewriteSet::add(std::unique_ptr<LocalRewriter> rewriter) {
  const LocalRewriter* raw = rewriter.get();
  std::vector<std::string> ops = raw->tracks();
  if (ops.empty()) any_op_.push_back(raw);
  for (const std::string& op : ops) by_op_[op].push_back(raw);
  all_.push_back(std::move(rewriter));
}

std::vector<const LocalRewriter*> RewriteSet::for_node(const Apply& node) const {
  std::vector<const LocalRewriter*> result;
  auto it = by_op_.find(node.op().name());
  if (it != by_op_.end()) result = it->second;
  result.insert(result.end(), any_op_.begin(), any_op_.end());
  return result;
}

namespace {

// The first rewriter's replacements for the node's outputs, or nothing.
std::vector<std::pair<Variable, Variable>> rewrite_node(const FunctionGraph& graph, const RewriteSet& rewrites,
                                                        const Apply& node) {
  // Nodes a rewriter builds are attributed to the line that built the node they replace.
  ForeignCallSite site(node.where());
  for (const LocalRewriter* rewriter : rewrites.for_node(node)) {
    std::vector<Variable> replacements = rewriter->transform(graph, node);
    if (replacements.empty()) continue;
    if (replacements.size() != node.num_outputs())
      throw Error("[rewrite] internal error: " + rewriter->name() + " returned " + std::to_string(replacements.size()) +
                  " replacements for " + node.op().str() + " with " + std::to_string(node.num_outputs()) + " outputs");
    std::vector<std::pair<Variable, Variable>> pairs;
    bool fits = true;
    for (size_t k = 0; k < replacements.size(); ++k) {
      if (!replacements[k] || replacements[k].is(node.output(k))) continue;
      // A replacement may know an axis has size 1 where the variable it replaces did not (reshape(x,
      // shape(x)) -> x): kernels broadcast by static type, so it keeps the old broadcast pattern.
      Variable replacement = replacements[k];
      if (replacement.ndim() == node.output(k).ndim()) replacement = rebroadcast_like(replacement, node.output(k));
      // One that would forget a size the old type promised is not used.
      fits = fits && node.output(k).type().is_supertype_of(replacement.type());
      pairs.emplace_back(node.output(k), replacement);
    }
    if (!pairs.empty() && fits) return pairs;
  }
  return {};
}

}  // namespace

int rewrite_to_equilibrium(FunctionGraph& graph, const RewriteSet& rewrites, int max_sweeps) {
  if (rewrites.empty()) return 0;
  int applied = 0;
  for (int sweep = 0; sweep < max_sweeps; ++sweep) {
    // One sweep sees the graph as it was when the sweep began (later nodes may look through nodes
    // rewritten in the same sweep, which is still correct); its edits land together at the end.
    std::vector<std::pair<Variable, Variable>> replacements;
    int rewritten = 0;
    for (const auto& node : graph.nodes()) {
      auto pairs = rewrite_node(graph, rewrites, *node);
      if (pairs.empty()) continue;
      ++rewritten;
      replacements.insert(replacements.end(), pairs.begin(), pairs.end());
    }
    if (rewritten == 0) break;
    graph.replace_all(replacements);
    applied += rewritten;
  }
  return applied;
}

}  // namespace hypatia
