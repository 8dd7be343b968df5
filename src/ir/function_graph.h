// FunctionGraph: a private copy of the graph between a function's inputs and outputs, with each
// variable's clients. Compiling works on it, so rewrites never touch the user's graph.
#pragma once
#include <memory>
#include <unordered_map>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

struct Client {
  Apply* node;  // null for "is a graph output"
  int input_index;
};

class FunctionGraph {
 public:
  FunctionGraph(std::vector<Variable> inputs, std::vector<Variable> outputs,
                const std::vector<std::pair<Variable, Variable>>& replacements = {});
  const std::vector<Variable>& inputs() const { return inputs_; }
  const std::vector<Variable>& outputs() const { return outputs_; }
  const std::vector<std::shared_ptr<Apply>>& nodes() const { return nodes_; }  // topological order
  const std::vector<Client>& clients(const Variable& v) const;
  // Every root the outputs depend on, in first-use order (inputs, constants, shared variables).
  std::vector<Variable> roots() const;
  // Makes every client of `old_var` (nodes and outputs) read `new_var` instead: the rewriters' one
  // edit. `new_var`'s type must fit `old_var`'s (same dtype and rank, sizes known to the old one kept,
  // the same dimensions broadcasting).
  void replace(const Variable& old_var, const Variable& new_var);
  // Many replacements at once, with one rebuild (a pass that makes thousands stays linear). A new
  // variable that is itself replaced resolves to its own replacement.
  void replace_all(const std::vector<std::pair<Variable, Variable>>& replacements);

 private:
  void rebuild();  // nodes in topological order and clients, after a change
  std::vector<Variable> inputs_, outputs_;
  std::vector<std::shared_ptr<Apply>> nodes_;
  std::unordered_map<const VariableNode*, std::vector<Client>> clients_;
};

}  // namespace hypatia
