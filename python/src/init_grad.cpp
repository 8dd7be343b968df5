// Gradients and their finite-difference check.
#include <nanobind/stl/function.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"

namespace hypatia::python {

void init_grad(nb::module_& m) {
  m.def("grad", [](nb::handle cost, const std::vector<Variable>& wrt,
                   const std::vector<std::pair<Variable, Variable>>& known_grads,
                   const std::vector<Variable>& consider_constant, const std::string& disconnected_inputs) {
    GradOptions options;
    options.known_grads = known_grads;
    options.consider_constant = consider_constant;
    if (disconnected_inputs == "raise") options.disconnected_inputs = Disconnected::Raise;
    else if (disconnected_inputs == "warn") options.disconnected_inputs = Disconnected::Warn;
    else if (disconnected_inputs == "ignore") options.disconnected_inputs = Disconnected::Ignore;
    else throw ValueError("[grad] disconnected_inputs must be 'raise', 'warn' or 'ignore', got '" + disconnected_inputs + "'");
    return grad(cost.is_none() ? Variable() : to_variable(cost), wrt, options);
  }, nb::arg("cost").none(), nb::arg("wrt"), nb::arg("known_grads"), nb::arg("consider_constant"),
     nb::arg("disconnected_inputs"), kUserLine);
  m.def("disconnected_grad", [](nb::handle x) { return disconnected_grad(to_operand(x)); }, kUserLine);
  m.def("zero_grad", [](nb::handle x) { return zero_grad(to_operand(x)); }, kUserLine);
  m.def("verify_grad", [](nb::callable fn, nb::handle point, double eps, double rtol, double atol, uint64_t seed) {
    std::vector<Array> values;
    for (nb::handle p : point) values.push_back(to_array(p, "a point of verify_grad"));
    auto build = [&fn](const std::vector<Variable>& inputs) {
      nb::list args;
      for (const Variable& v : inputs) args.append(nb::cast(v));
      return to_variable(fn(*args));
    };
    verify_grad(build, values, {.eps = eps, .rtol = rtol, .atol = atol, .seed = seed});
  }, nb::arg("fn"), nb::arg("point"), nb::arg("eps"), nb::arg("rtol"), nb::arg("atol"), nb::arg("seed"), kUserLine);
}

}  // namespace hypatia::python
