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
std::string debugprint_compiled(const std::vector<Variable>& outputs, Mode mode, const Device& device = Device{});
// The graph in Graphviz dot syntax.
std::string to_dot(const std::vector<Variable>& outputs);
std::string to_dot(const Variable& output);
// One-line infix form, Theano's pprint: "tanh((dot(x, w) + b))" reads as "tanh(dot(x, w) + b)".
std::string pprint(const Variable& output);

std::ostream& operator<<(std::ostream& os, const Variable& v);  // pprint

// Theano's printing.Print: x itself, and whenever the graph computes it, prints `message` and, for each
// of `attrs`, that property of the value ("__str__", "shape", "min", "max", "sum", "mean", "dtype", as NumPy
// names them). Each call makes a distinct node: merging never folds two prints into one, and a print of a
// constant runs with the graph, not when it is compiled.
Variable print(const Operand& x, std::string message = "", std::vector<std::string> attrs = {"__str__"});
// Where printed values go: stdout unless a front end installs its own (Python prints through sys.stdout
// with NumPy's formatting); null restores stdout.
using PrintHandler = void (*)(const std::string& message, const std::vector<std::string>& attrs, const Array& value);
void set_print_handler(PrintHandler handler);

}  // namespace hypatia
