// Human-readable views of a graph.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

// Indented tree, Theano style: one line per node with its op, id, dtype and shape; repeated
// subtrees are printed once and referred to by id afterwards.
std::string debugprint(const Variable& output);
std::string debugprint(const std::vector<Variable>& outputs);
// The same, with the inner graphs of loops as `mode` compiled them (a compiled function's debugprint).
std::string debugprint_compiled(const std::vector<Variable>& outputs, Mode mode);
// The graph in Graphviz dot syntax.
std::string to_dot(const std::vector<Variable>& outputs);
std::string to_dot(const Variable& output);
// One-line infix form, Theano's pprint: "tanh((dot(x, w) + b))" reads as "tanh(dot(x, w) + b)".
std::string pprint(const Variable& output);

std::ostream& operator<<(std::ostream& os, const Variable& v);  // pprint

}  // namespace hypatia
