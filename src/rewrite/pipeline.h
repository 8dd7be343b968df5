// The compile-time rewrite pipeline (pipeline.cpp lists the passes in order).
#pragma once
#include "hypatia/function.h"
#include "ir/function_graph.h"

namespace hypatia {

// Rewrites `graph` for `mode`. HYPATIA_DEBUGPRINT_AFTER=pass[,pass...] (or "all") prints the graph to
// stderr after those passes.
void optimize(FunctionGraph& graph, Mode mode);

}  // namespace hypatia
