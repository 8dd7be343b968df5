// Printing graphs: debugprint's tree, pprint's infix line, Graphviz dot.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"

namespace hypatia::python {

void init_printing(nb::module_& m) {
  m.def("debugprint", [](const std::vector<Variable>& outputs) { return debugprint(outputs); });
  m.def("pprint", [](const Variable& output) { return pprint(output); });
  m.def("to_dot", [](const std::vector<Variable>& outputs) { return to_dot(outputs); });
}

}  // namespace hypatia::python
