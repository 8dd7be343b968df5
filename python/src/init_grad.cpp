// Gradients and their finite-difference check.
#include <nanobind/stl/function.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"

namespace hypatia::python {
namespace {

Disconnected to_disconnected(const std::string& value, const std::string& component) {
  if (value == "raise") return Disconnected::Raise;
  if (value == "warn") return Disconnected::Warn;
  if (value == "ignore") return Disconnected::Ignore;
  throw ValueError("[" + component + "] disconnected_inputs must be 'raise', 'warn' or 'ignore', got '" + value + "'");
}

}  // namespace

void init_grad(nb::module_& m) {
  m.def("grad", [](nb::handle cost, const std::vector<Variable>& wrt,
                   const std::vector<std::pair<Variable, Variable>>& known_grads,
                   const std::vector<Variable>& consider_constant, const std::string& disconnected_inputs) {
    GradOptions options;
    options.known_grads = known_grads;
    options.consider_constant = consider_constant;
    options.disconnected_inputs = to_disconnected(disconnected_inputs, "grad");
    return grad(cost.is_none() ? Variable() : to_variable(cost), wrt, options);
  }, nb::arg("cost").none(), nb::arg("wrt"), nb::arg("known_grads"), nb::arg("consider_constant"),
     nb::arg("disconnected_inputs"), kUserLine);
  m.def("Rop", [](const std::vector<Variable>& f, const std::vector<Variable>& wrt, const std::vector<Variable>& eval_points) {
    return Rop(f, wrt, eval_points);
  }, nb::arg("f"), nb::arg("wrt"), nb::arg("eval_points"), kUserLine);
  m.def("Lop", [](const std::vector<Variable>& f, const std::vector<Variable>& wrt,
                  const std::vector<std::optional<Variable>>& eval_points, const std::string& disconnected_inputs) {
    std::vector<Variable> points;
    for (const auto& p : eval_points) points.push_back(p ? *p : Variable());
    return Lop(f, wrt, points, to_disconnected(disconnected_inputs, "Lop"));
  }, nb::arg("f"), nb::arg("wrt"), nb::arg("eval_points"), nb::arg("disconnected_inputs"), kUserLine);
  m.def("jacobian", [](const Variable& expression, const std::vector<Variable>& wrt, const std::string& disconnected_inputs) {
    return jacobian(expression, wrt, to_disconnected(disconnected_inputs, "jacobian"));
  }, nb::arg("expression"), nb::arg("wrt"), nb::arg("disconnected_inputs"), kUserLine);
  m.def("hessian", [](const Variable& cost, const std::vector<Variable>& wrt, const std::string& disconnected_inputs) {
    return hessian(cost, wrt, to_disconnected(disconnected_inputs, "hessian"));
  }, nb::arg("cost"), nb::arg("wrt"), nb::arg("disconnected_inputs"), kUserLine);
  m.def("hessian_vector_product", [](const Variable& cost, const std::vector<Variable>& wrt, const std::vector<Variable>& vectors) {
    return hessian_vector_product(cost, wrt, vectors);
  }, nb::arg("cost"), nb::arg("wrt"), nb::arg("vectors"), kUserLine);
  m.def("disconnected_grad", [](nb::handle x) { return disconnected_grad(to_operand(x)); }, kUserLine);
  m.def("zero_grad", [](nb::handle x) { return zero_grad(to_operand(x)); }, kUserLine);
  m.def("undefined_grad", [](nb::handle x) { return undefined_grad(to_operand(x)); }, kUserLine);
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
