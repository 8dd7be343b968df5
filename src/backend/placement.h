// Placement: which nodes of a compiled graph run on the backend's device and which on the host, with a
// Transfer wherever a value crosses (src/ops/transfer.h). Function inputs, constants and shared values
// start on the host, and every result ends there. A no-op for the CPU backend.
#pragma once
#include <memory>

#include "backend/backend.h"
#include "ir/function_graph.h"

namespace hypatia {

// The graph with each node on the backend's device where Backend::runs says so, transfers inserted;
// `graph` itself when nothing moves.
std::unique_ptr<FunctionGraph> place_on_device(std::unique_ptr<FunctionGraph> graph, const Backend& backend);

}  // namespace hypatia
