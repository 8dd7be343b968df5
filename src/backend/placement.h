// Placement: which nodes of a compiled graph run on the backend's device and which on the host, with a
// Transfer wherever a value crosses (src/ops/transfer.h). Function inputs, constants and shared values
// start on the host, and every result ends there (unless asked to stay); a shared variable that a node on the device reads, or
// whose update is computed there, lives in the device's memory (as Theano's GPU shared variables), its
// update staying there too. A no-op for the CPU backend.
#pragma once
#include <memory>
#include <unordered_set>

#include "backend/backend.h"
#include "ir/function_graph.h"

namespace hypatia {

// The graph with each node on the backend's device where Backend::runs says so, transfers inserted;
// `graph` itself when nothing moves. The graph's outputs from `num_results` on are the new values of
// `updated`; the results before them stay on the device with `results_on_device`. `shared_on_device`
// receives the shared variables that live on the device, `input_devices` where each input is read (the
// device where only nodes there read it: the program then moves it there itself, and a device array
// passed in is used as it is), `device_nodes` the nodes of the new graph that run on the device (the
// program lowers the others with the CPU backend).
std::unique_ptr<FunctionGraph> place_on_device(std::unique_ptr<FunctionGraph> graph, const Backend& backend,
                                               size_t num_results, const std::vector<SharedVariable>& updated,
                                               bool results_on_device,
                                               std::unordered_set<const VariableNode*>& shared_on_device,
                                               std::vector<Device>& input_devices,
                                               std::unordered_set<const Apply*>& device_nodes);

}  // namespace hypatia
