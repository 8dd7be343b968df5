// Printing graphs: debugprint's tree, pprint's infix line, Graphviz dot.
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"

namespace hypatia::python {

void init_printing(nb::module_& m) {
  m.def("debugprint", [](const std::vector<Variable>& outputs) { return debugprint(outputs); });
  m.def("pprint", [](const Variable& output) { return pprint(output); });
  m.def("to_dot", [](const std::vector<Variable>& outputs) { return to_dot(outputs); });
  m.def("print_op", [](nb::handle x, const std::string& message, const std::vector<std::string>& attrs) {
    return print(to_operand(x), message, attrs);
  }, kUserLine);
  // Printed values go through hypatia.printing._print_value (NumPy's formatting, sys.stdout).
  set_print_handler([](const std::string& message, const std::vector<std::string>& attrs, const Array& value) {
    nb::gil_scoped_acquire locked;
    nb::module_::import_("hypatia.printing").attr("_print_value")(message, attrs, to_numpy(value));
  });
}

}  // namespace hypatia::python
