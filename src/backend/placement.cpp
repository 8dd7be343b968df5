#include "backend/placement.h"

#include <mutex>
#include <set>
#include <unordered_map>

#include "ops/transfer.h"
#include "ops/type_assertions.h"

namespace hypatia {
namespace {

// Says once per process and (device, op) that an op computed on the host reads values from the device.
void note_host_fallback(const Device& device, const Op& op) {
  static std::mutex mutex;
  static std::set<std::string> said;
  std::lock_guard<std::mutex> lock(mutex);
  if (!said.insert(device.str() + " " + op.name()).second) return;
  warn("[" + device.str() + "] " + op.name() + " has no kernel on this device: it runs on the host, with its operands " +
       "transferred (the profile shows the transfers)");
}

}  // namespace

std::unique_ptr<FunctionGraph> place_on_device(std::unique_ptr<FunctionGraph> graph, const Backend& backend,
                                               size_t num_results, const std::vector<SharedVariable>& updated,
                                               bool results_on_device,
                                               std::unordered_set<const VariableNode*>& shared_on_device,
                                               std::vector<Device>& input_devices,
                                               std::unordered_set<const Apply*>& device_nodes) {
  const Device device = backend.device();
  input_devices.assign(graph->inputs().size(), Device{});
  if (device.is_cpu()) return graph;
  // Asked once per node: a device backend renders a node's kernel to answer. Arithmetic of scalars not
  // computed on the device (shapes, sizes, hyperparameters) stays on the host: a launch and a transfer
  // would cost more than it. So does an op that runs on any device (a view, a join) of values host nodes
  // computed: it follows its data (function inputs, constants and shared values go where they are read).
  std::unordered_map<const Apply*, bool> runs_here;
  // (An output the backend leaves on the host, a random draw's state, is not the device's.)
  auto computed_here = [&](const Variable& v) {
    const auto owner = v.owner();
    return owner && runs_here.count(owner.get()) && runs_here.at(owner.get()) && !backend.output_on_host(*owner, v.index());
  };
  bool any = false;
  for (const auto& node : graph->nodes()) {
    bool scalar_on_host = true;
    for (size_t k = 0; k < node->num_outputs(); ++k) scalar_on_host = scalar_on_host && node->output(k).ndim() == 0;
    for (const Variable& input : node->inputs()) scalar_on_host = scalar_on_host && input.ndim() == 0 && !computed_here(input);
    bool follows_host_data = node->op().runs_on_any_device();
    for (size_t i = 0; i < node->inputs().size(); ++i)
      if (!backend.reads_on_host(*node, static_cast<int>(i)))
        follows_host_data = follows_host_data && node->input(i).owner() && !computed_here(node->input(i));
    any = (runs_here[node.get()] = !scalar_on_host && !follows_host_data && backend.runs(*node)) || any;
  }
  if (!any && !results_on_device) return graph;
  // Each value, once computed where its node runs, and (made on first need) on the other side.
  std::unordered_map<const VariableNode*, Variable> on_host, on_device;
  std::unordered_set<const VariableNode*> read_on_host, read_on_device;
  std::unordered_set<const Apply*> placed_on_device;
  auto host_value = [&](const Variable& v) -> Variable {
    read_on_host.insert(v.node());
    if (auto it = on_host.find(v.node()); it != on_host.end()) return it->second;
    Variable moved = transfer(on_device.at(v.node()), Device{});
    on_host.emplace(v.node(), moved);
    return moved;
  };
  auto device_value = [&](const Variable& v) -> Variable {
    read_on_device.insert(v.node());
    if (auto it = on_device.find(v.node()); it != on_device.end()) return it->second;
    Variable moved = transfer(on_host.at(v.node()), device);
    on_device.emplace(v.node(), moved);
    return moved;
  };
  // Shared variables read on the device, or updated by a node there, live in its memory.
  for (const auto& node : graph->nodes())
    for (size_t i = 0; i < node->inputs().size(); ++i)
      if (node->input(i).is_shared() && runs_here.at(node.get()) && !backend.reads_on_host(*node, static_cast<int>(i)))
        shared_on_device.insert(node->input(i).node());
  for (size_t u = 0; u < updated.size(); ++u) {
    const Variable& value = graph->outputs()[num_results + u];
    const auto owner = value.owner();
    if (owner && runs_here.at(owner.get()) && !backend.output_on_host(*owner, value.index()))
      shared_on_device.insert(updated[u].node());
  }
  for (const Variable& root : graph->roots())
    (shared_on_device.count(root.node()) ? on_device : on_host).emplace(root.node(), root);
  for (const Variable& input : graph->inputs()) on_host.emplace(input.node(), input);
  for (const auto& node : graph->nodes()) {
    const bool here = runs_here.at(node.get());
    std::vector<Variable> inputs;
    for (size_t i = 0; i < node->inputs().size(); ++i) {
      const Variable& input = node->input(i);
      const bool on_device_here = here && !backend.reads_on_host(*node, static_cast<int>(i));
      // (An op that reads only the shape takes a device value as it is.)
      if (!here && on_device.count(input.node()) && node->op().reads_only_shape(static_cast<int>(i))) {
        inputs.push_back(on_device.at(input.node()));
        continue;
      }
      if (!here && !on_host.count(input.node())) note_host_fallback(device, node->op());
      inputs.push_back(on_device_here ? device_value(input) : host_value(input));
    }
    std::vector<Variable> outputs = apply_op(node->op_ptr(), inputs, node->where());
    if (here && !outputs.empty()) placed_on_device.insert(outputs[0].owner().get());
    for (size_t k = 0; k < outputs.size(); ++k) {
      // Rewrites may have given the original a broadcast pattern its op would not infer again (a size
      // known to be 1); its readers' types rely on it.
      outputs[k] = rebroadcast_like(outputs[k], node->output(k));
      const bool stays_here = here && !backend.output_on_host(*node, static_cast<int>(k));
      (stays_here ? on_device : on_host).emplace(node->output(k).node(), outputs[k]);
    }
  }
  std::vector<Variable> results;
  for (size_t k = 0; k < graph->outputs().size(); ++k) {
    const Variable& out = graph->outputs()[k];
    const bool stays = !out.is_sparse() && (k < num_results ? results_on_device : shared_on_device.count(updated[k - num_results].node()) > 0);
    results.push_back(stays ? device_value(out) : host_value(out));
  }
  for (size_t i = 0; i < graph->inputs().size(); ++i)
    if (read_on_device.count(graph->inputs()[i].node()) && !read_on_host.count(graph->inputs()[i].node())) input_devices[i] = device;
  auto placed = std::make_unique<FunctionGraph>(graph->inputs(), results);
  // The graph owns a copy of what was built here, ordered as the same walk orders the original.
  const std::vector<std::shared_ptr<Apply>> built = toposort(results);
  if (built.size() != placed->nodes().size()) throw ValueError("[placement] the placed graph lost nodes");
  for (size_t i = 0; i < built.size(); ++i)
    if (placed_on_device.count(built[i].get())) device_nodes.insert(placed->nodes()[i].get());
  return placed;
}

}  // namespace hypatia
