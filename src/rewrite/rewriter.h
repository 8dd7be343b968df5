// The rewriter framework: local rewriters that look at one node and may replace its outputs, indexed
// by the op they match, and a driver that applies them until none applies.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ir/function_graph.h"

namespace hypatia {

class LocalRewriter {
 public:
  virtual ~LocalRewriter() = default;
  virtual std::string name() const = 0;
  // Names of the ops whose nodes this rewriter looks at; empty for every node.
  virtual std::vector<std::string> tracks() const { return {}; }
  // Replacements for the node's outputs (same types; a null entry keeps that output), or an empty
  // vector when the rewrite does not apply. Nodes built meanwhile carry node.where() (the driver sets it).
  virtual std::vector<Variable> transform(const FunctionGraph& graph, const Apply& node) const = 0;
};

// Rewriters looked up by op name.
class RewriteSet {
 public:
  void add(std::unique_ptr<LocalRewriter> rewriter);
  // The rewriters that may apply to `node`, in the order they were added.
  std::vector<const LocalRewriter*> for_node(const Apply& node) const;
  bool empty() const { return all_.empty(); }

 private:
  std::vector<std::unique_ptr<LocalRewriter>> all_;
  std::unordered_map<std::string, std::vector<const LocalRewriter*>> by_op_;
  std::vector<const LocalRewriter*> any_op_;
};

// The set of one instance of each Rewriters type, built once (a pass's list of rewriters).
template <class... Rewriters> const RewriteSet& rewrite_set() {
  static const RewriteSet* set = [] {
    auto* rewrites = new RewriteSet();  // never destroyed: passes may run until exit
    (rewrites->add(std::make_unique<Rewriters>()), ...);
    return rewrites;
  }();
  return *set;
}

// Applies the set to every node, in topological order, sweep after sweep until one changes nothing
// (or `max_sweeps` sweeps ran); each sweep's edits land together. Returns how many nodes were rewritten.
int rewrite_to_equilibrium(FunctionGraph& graph, const RewriteSet& rewrites, int max_sweeps = 50);

}  // namespace hypatia
