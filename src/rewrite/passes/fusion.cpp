// Elementwise fusion: a node computed elementwise, with its elementwise producers, becomes one
// FusedElemwise node, so the chain runs as one loop without intermediate arrays. A producer whose
// result is also read elsewhere (or is a result) joins as a further output of the loop, stored once
// and never read back by it, when every other reader comes after the group's root in the schedule:
// then each fused node reads only nodes before its root, and the graph stays acyclic. A producer
// whose result would be broadcast by its consumer stays apart (fusing it would compute it once per
// broadcast element).
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "ops/fused_elemwise.h"
#include "rewrite/passes/passes.h"

namespace hypatia {
namespace {

// Bounds a fused loop: the generated kernel stays quick to compile and its registers few.
constexpr size_t kMaxGroupNodes = 64;
constexpr size_t kMaxInputs = 32;

bool is_elementwise(const Apply& node) {
  return node.num_outputs() == 1 &&
         (dynamic_cast<const Elemwise*>(&node.op()) || dynamic_cast<const FusedElemwise*>(&node.op()));
}

// `producer`'s result has the consumer's broadcast pattern (it is not repeated along any axis).
bool same_extent(const Variable& produced, const Variable& consumed_into) {
  if (produced.ndim() != consumed_into.ndim()) return false;
  for (int axis = 0; axis < produced.ndim(); ++axis)
    if (produced.type().shape[axis] == 1 && consumed_into.type().shape[axis] != 1) return false;
  return true;
}

}  // namespace

int fuse_elementwise(FunctionGraph& graph) {
  const auto& nodes = graph.nodes();
  std::unordered_map<const Apply*, size_t> position;
  for (size_t i = 0; i < nodes.size(); ++i) position[nodes[i].get()] = i;

  // Groups first, from the outputs up: each root gathers the producers only it reads.
  std::unordered_set<const Apply*> absorbed;
  std::vector<std::vector<const Apply*>> groups;  // members in topological order, the root last
  std::unordered_set<const Apply*> read_outside;   // members whose result is also a further output
  for (size_t r = nodes.size(); r-- > 0;) {
    const Apply& root = *nodes[r];
    if (absorbed.count(&root) || !is_elementwise(root)) continue;
    const Variable result = root.output(0);
    std::vector<const Apply*> group{&root};
    std::unordered_set<const Apply*> in_group{&root};
    // A loop whose one reader is a reduction stays single-output, so reduction fusion takes it whole.
    const auto& root_clients = graph.clients(result);
    const bool feeds_reduction = root_clients.size() == 1 && root_clients[0].node &&
                                 dynamic_cast<const Reduce*>(&root_clients[0].node->op());
    size_t external_inputs = root.inputs().size();
    for (bool grew = true; grew && group.size() < kMaxGroupNodes;) {
      grew = false;
      for (size_t m = 0; m < group.size() && group.size() < kMaxGroupNodes; ++m) {
        for (const Variable& input : group[m]->inputs()) {
          std::shared_ptr<Apply> producer = input.owner();
          if (!producer || in_group.count(producer.get()) || absorbed.count(producer.get()) || !is_elementwise(*producer))
            continue;
          if (!same_extent(input, result)) continue;
          bool private_result = true, read_later = true;
          for (const Client& client : graph.clients(input)) {
            if (client.node && in_group.count(client.node)) continue;
            private_result = false;
            read_later = read_later && (!client.node || position.at(client.node) > r);
          }
          if (!read_later || (!private_result && feeds_reduction)) continue;
          if (external_inputs + producer->inputs().size() > kMaxInputs) continue;
          if (!private_result) read_outside.insert(producer.get());
          external_inputs += producer->inputs().size();
          group.push_back(producer.get());
          in_group.insert(producer.get());
          grew = true;
        }
      }
    }
    if (group.size() == 1 && dynamic_cast<const Elemwise*>(&root.op())) continue;  // nothing to fuse
    for (const Apply* member : group) absorbed.insert(member);
    std::sort(group.begin(), group.end(), [&](const Apply* a, const Apply* b) { return position[a] < position[b]; });
    groups.push_back(std::move(group));
  }

  // Then the fused nodes, producers before consumers, so a group reads the fused result of another.
  std::sort(groups.begin(), groups.end(), [&](const auto& a, const auto& b) { return position[a.back()] < position[b.back()]; });
  std::unordered_map<const VariableNode*, Variable> fused_result;
  std::vector<std::pair<Variable, Variable>> replacements;
  for (const std::vector<const Apply*>& group : groups) {
    const Apply& root = *group.back();
    std::unordered_set<const Apply*> in_group(group.begin(), group.end());
    Composite composite;
    std::vector<Variable> inputs;
    std::unordered_map<const VariableNode*, int> ref_of;
    // First the external inputs, in order of first use, so refs below num_inputs are inputs.
    for (const Apply* member : group)
      for (const Variable& input : member->inputs())
        if ((!input.owner() || !in_group.count(input.owner().get())) && !ref_of.count(input.node())) {
          ref_of[input.node()] = static_cast<int>(inputs.size());
          auto fused = fused_result.find(input.node());
          inputs.push_back(fused == fused_result.end() ? input : fused->second);
          composite.input_dtypes.push_back(input.dtype());
        }
    for (const Apply* member : group) {
      std::vector<int> args;
      for (const Variable& input : member->inputs()) args.push_back(ref_of.at(input.node()));
      if (const auto* elemwise = dynamic_cast<const Elemwise*>(&member->op())) {
        ref_of[member->output(0).node()] = composite.add(elemwise->scalar_op(), std::move(args), member->where());
      } else {
        const Composite& inner = static_cast<const FusedElemwise&>(member->op()).composite();
        std::vector<int> inner_refs = args;  // inner ref -> outer ref
        for (const Composite::Instruction& instruction : inner.code) {
          std::vector<int> mapped;
          for (int ref : instruction.args) mapped.push_back(inner_refs[ref]);
          inner_refs.push_back(composite.add(instruction.op, std::move(mapped), instruction.where));
        }
        ref_of[member->output(0).node()] = inner_refs[inner.outputs[0]];
      }
    }
    std::vector<Variable> results = {root.output(0)};
    for (const Apply* member : group)
      if (member != &root && read_outside.count(member)) results.push_back(member->output(0));
    for (const Variable& result : results) composite.outputs.push_back(ref_of.at(result.node()));
    std::vector<Variable> fused = apply_op(std::make_shared<FusedElemwise>(std::move(composite)), std::move(inputs), root.where());
    for (size_t k = 0; k < results.size(); ++k) {
      fused_result[results[k].node()] = fused[k];
      replacements.emplace_back(results[k], fused[k]);
    }
  }
  graph.replace_all(replacements);
  return static_cast<int>(replacements.size());
}

int fuse_reductions(FunctionGraph& graph) {
  std::vector<std::pair<Variable, Variable>> replacements;
  std::unordered_map<const VariableNode*, Variable> fused_result;
  std::unordered_set<const VariableNode*> outputs;
  for (const Variable& out : graph.outputs()) outputs.insert(out.node());
  for (const auto& node : graph.nodes()) {
    const auto* reduce = dynamic_cast<const Reduce*>(&node->op());
    if (!reduce || reduce->kind() == ReduceKind::Any || reduce->kind() == ReduceKind::All) continue;
    const Variable& mapped = node->input(0);
    std::shared_ptr<Apply> producer = mapped.owner();
    Composite composite;
    if (!producer || producer->num_outputs() != 1 || !composite_of(*producer, composite)) continue;
    const auto& clients = graph.clients(mapped);
    if (clients.size() != 1 || clients[0].node != node.get()) continue;  // the values are needed elsewhere too
    // Nodes come in topological order: an input that is a reduction fused this pass (sum(x ** 2) // n under
    // a mean) is read from its fused replacement, or the old reduction would stay alive beside it.
    std::vector<Variable> inputs = producer->inputs();
    for (Variable& input : inputs)
      if (auto it = fused_result.find(input.node()); it != fused_result.end()) input = it->second;
    Variable fused = apply_op1(std::make_shared<FusedReduce>(*reduce, std::move(composite)), inputs, node->where());
    fused_result[node->output(0).node()] = fused;
    replacements.emplace_back(node->output(0), fused);
  }
  graph.replace_all(replacements);
  return static_cast<int>(replacements.size());
}

}  // namespace hypatia
