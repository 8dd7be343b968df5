// Human-readable views of a graph.
#pragma once
#include <string>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

// Indented tree, Theano style: one line per node with its op, id, dtype and shape; repeated
// subtrees are printed once and referred to by id afterwards.
std::string debugprint(const Variable& output);
std::string debugprint(const std::vector<Variable>& outputs);
// The graph in Graphviz dot syntax.
std::string to_dot(const std::vector<Variable>& outputs);

}  // namespace hypatia
