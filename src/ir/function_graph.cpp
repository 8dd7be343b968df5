#include "ir/function_graph.h"

#include <unordered_set>

namespace hypatia {

std::vector<std::shared_ptr<Apply>> toposort(const std::vector<Variable>& outputs) {
  std::vector<std::shared_ptr<Apply>> order;
  std::unordered_set<const Apply*> done;
  // Iterative DFS: graphs from long loops would overflow the stack recursively.
  struct Frame { std::shared_ptr<Apply> node; size_t next_input; };
  std::vector<Frame> stack;
  auto visit = [&](const Variable& v) {
    auto owner = v.owner();
    if (owner && !done.count(owner.get())) {
      done.insert(owner.get());
      stack.push_back({owner, 0});
    }
  };
  for (const Variable& out : outputs) {
    visit(out);
    while (!stack.empty()) {
      Frame& frame = stack.back();
      if (frame.next_input < frame.node->inputs().size()) {
        const Variable& input = frame.node->input(frame.next_input++);
        visit(input);
      } else {
        order.push_back(frame.node);
        stack.pop_back();
      }
    }
  }
  return order;
}

std::vector<Variable> clone_replace(const std::vector<Variable>& outputs,
                                    const std::vector<std::pair<Variable, Variable>>& replacements) {
  std::unordered_map<const VariableNode*, Variable> mapped;
  std::vector<Variable> seeds = outputs;
  for (const auto& [old_var, new_var] : replacements) seeds.push_back(new_var);
  // Replacement values are cloned too, in case they share nodes with the outputs' graph.
  std::unordered_map<const VariableNode*, Variable> substitute;
  for (const auto& [old_var, new_var] : replacements) substitute[old_var.node()] = new_var;

  auto lookup = [&](const Variable& v) -> Variable {
    auto sub = substitute.find(v.node());
    const Variable& target = sub != substitute.end() ? sub->second : v;
    auto it = mapped.find(target.node());
    return it != mapped.end() ? it->second : target;
  };

  std::vector<Variable> roots_needed = outputs;
  for (const auto& [old_var, new_var] : replacements) roots_needed.push_back(new_var);
  // Sorting the outputs and the replacement graphs together puts each node after its (substituted) inputs,
  // except that a replaced variable's consumers must come after the replacement's producers: toposort
  // of everything reachable, then repeat until nothing changes, handles that ordering simply.
  auto order = toposort(roots_needed);
  bool changed = true;
  std::unordered_set<const Apply*> cloned;
  while (changed) {
    changed = false;
    for (const auto& node : order) {
      if (cloned.count(node.get())) continue;
      bool ready = true;
      std::vector<Variable> inputs;
      for (const Variable& input : node->inputs()) {
        auto sub = substitute.find(input.node());
        const Variable& target = sub != substitute.end() ? sub->second : input;
        if (target.owner() && !mapped.count(target.node()) && !cloned.count(target.owner().get())) {
          ready = false;
          break;
        }
        inputs.push_back(lookup(input));
      }
      if (!ready) continue;
      auto outs = apply_op(node->op_ptr(), std::move(inputs), node->where());
      for (size_t i = 0; i < outs.size(); ++i) {
        outs[i].set_name(node->output(i).name());
        mapped[node->output(i).node()] = outs[i];
      }
      cloned.insert(node.get());
      changed = true;
    }
  }
  std::vector<Variable> result;
  for (const Variable& out : outputs) result.push_back(lookup(out));
  return result;
}

FunctionGraph::FunctionGraph(std::vector<Variable> inputs, std::vector<Variable> outputs,
                             const std::vector<std::pair<Variable, Variable>>& replacements)
    : inputs_(std::move(inputs)), outputs_(clone_replace(outputs, replacements)) {
  nodes_ = toposort(outputs_);
  for (const auto& node : nodes_)
    for (size_t i = 0; i < node->inputs().size(); ++i)
      clients_[node->input(i).node()].push_back({node.get(), static_cast<int>(i)});
  for (size_t i = 0; i < outputs_.size(); ++i) clients_[outputs_[i].node()].push_back({nullptr, static_cast<int>(i)});
}

const std::vector<Client>& FunctionGraph::clients(const Variable& v) const {
  static const std::vector<Client> none;
  auto it = clients_.find(v.node());
  return it == clients_.end() ? none : it->second;
}

std::vector<Variable> FunctionGraph::roots() const {
  std::vector<Variable> result;
  std::unordered_set<const VariableNode*> seen;
  auto add = [&](const Variable& v) {
    if (v.is_root() && seen.insert(v.node()).second) result.push_back(v);
  };
  for (const auto& node : nodes_)
    for (const Variable& input : node->inputs()) add(input);
  for (const Variable& out : outputs_) add(out);
  return result;
}

}  // namespace hypatia
