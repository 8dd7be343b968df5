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
  // Replacement values are used as given (Theano's semantics): replacing x by x * 2 keeps the inner x.
  std::unordered_map<const VariableNode*, Variable> mapped;
  for (const auto& [old_var, new_var] : replacements) mapped[old_var.node()] = new_var;
  auto lookup = [&](const Variable& v) {
    auto it = mapped.find(v.node());
    return it != mapped.end() ? it->second : v;
  };
  for (const auto& node : toposort(outputs)) {
    bool all_replaced = true;
    for (const Variable& output : node->outputs()) all_replaced = all_replaced && mapped.count(output.node());
    if (all_replaced) continue;  // nothing it computes is needed
    std::vector<Variable> inputs;
    for (const Variable& input : node->inputs()) inputs.push_back(lookup(input));
    auto outs = apply_op(node->op_ptr(), std::move(inputs), node->where());
    for (size_t i = 0; i < outs.size(); ++i) {
      outs[i].set_name(node->output(i).name());
      mapped.emplace(node->output(i).node(), outs[i]);
    }
  }
  std::vector<Variable> result;
  for (const Variable& out : outputs) result.push_back(lookup(out));
  return result;
}

FunctionGraph::FunctionGraph(std::vector<Variable> inputs, std::vector<Variable> outputs,
                             const std::vector<std::pair<Variable, Variable>>& replacements)
    : inputs_(std::move(inputs)) {
  // The replacement values are copied too: the graph must own every node it may later edit.
  std::vector<Variable> values;
  for (const auto& [old_var, new_var] : replacements) values.push_back(new_var);
  values = clone_replace(values);
  std::vector<std::pair<Variable, Variable>> owned;
  for (size_t k = 0; k < replacements.size(); ++k) owned.emplace_back(replacements[k].first, values[k]);
  outputs_ = clone_replace(outputs, owned);
  rebuild();
}

void FunctionGraph::rebuild() {
  nodes_ = toposort(outputs_);
  clients_.clear();
  for (const auto& node : nodes_)
    for (size_t i = 0; i < node->inputs().size(); ++i)
      clients_[node->input(i).node()].push_back({node.get(), static_cast<int>(i)});
  for (size_t i = 0; i < outputs_.size(); ++i) clients_[outputs_[i].node()].push_back({nullptr, static_cast<int>(i)});
}

void FunctionGraph::replace(const Variable& old_var, const Variable& new_var) { replace_all({{old_var, new_var}}); }

void FunctionGraph::replace_all(const std::vector<std::pair<Variable, Variable>>& replacements) {
  auto broadcast_pattern = [](const TensorType& t) {
    std::vector<bool> pattern;
    for (int64_t d : t.shape) pattern.push_back(d == 1);
    return pattern;
  };
  std::unordered_map<const VariableNode*, Variable> mapped;
  for (const auto& [old_var, new_var] : replacements) {
    // The new variable may know more (a size) but never promise what the old one did not.
    if (!new_var || !old_var.type().is_supertype_of(new_var.type()) ||
        broadcast_pattern(new_var.type()) != broadcast_pattern(old_var.type()))
      throw TypeError("[function_graph] cannot replace " + old_var.type().str() + " by " +
                      (new_var ? new_var.type().str() : std::string("a null Variable")));
    mapped[old_var.node()] = new_var;
  }
  // Follows replacements of replacements; each chain is walked once (the result is remembered).
  auto resolve = [&](const Variable& start) {
    std::vector<const VariableNode*> path;
    Variable v = start;
    for (size_t hops = 0;; ++hops) {
      if (hops > mapped.size()) throw Error("[function_graph] internal error: replacements form a cycle");
      auto it = mapped.find(v.node());
      if (it == mapped.end() || it->second.is(v)) break;
      path.push_back(v.node());
      v = it->second;
    }
    for (const VariableNode* node : path) mapped[node] = v;
    return v;
  };
  bool changed = false;
  for (const auto& [old_var, new_var] : replacements) {
    auto it = clients_.find(old_var.node());
    if (it == clients_.end()) continue;
    const Variable target = resolve(new_var);
    for (const Client& client : it->second) {
      if (client.node) client.node->replace_input(client.input_index, target);
      else outputs_[client.input_index] = target;
    }
    changed = true;
  }
  if (changed) rebuild();
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
