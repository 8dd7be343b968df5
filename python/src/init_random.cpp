// Symbolic random streams (Theano's RandomStreams).
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"

namespace hypatia::python {
namespace {

std::vector<Operand> to_shape(nb::handle size) {
  std::vector<Operand> shape;
  if (nb::isinstance<Variable>(size)) {
    const Variable& vector = nb::cast<const Variable&>(size);
    if (vector.ndim() != 1 || vector.type().shape[0] == TensorType::kUnknown)
      throw ValueError("[random] a symbolic size must be a vector of known length, got " + vector.type().str());
    for (int64_t i = 0; i < vector.type().shape[0]; ++i) shape.emplace_back(vector[static_cast<long>(i)]);
    return shape;
  }
  if (PyLong_Check(size.ptr())) return {to_operand(size)};
  for (nb::handle dim : size) shape.push_back(to_operand(dim));
  return shape;
}

}  // namespace

void init_random(nb::module_& m) {
  m.def("initial_random_state", [](uint64_t seed, size_t index) { return to_numpy(initial_random_state(seed, index)); },
        nb::arg("seed"), nb::arg("index") = 0);
  nb::class_<RandomStream>(m, "RandomStream")
      .def(nb::init<uint64_t>(), nb::arg("seed") = 0)
      .def("uniform", [](RandomStream& r, nb::handle size, nb::handle low, nb::handle high, nb::handle dtype) {
        return r.uniform(to_shape(size), to_operand(low), to_operand(high), to_dtype(dtype));
      }, kUserLine)
      .def("normal", [](RandomStream& r, nb::handle size, nb::handle mean, nb::handle std, nb::handle dtype) {
        return r.normal(to_shape(size), to_operand(mean), to_operand(std), to_dtype(dtype));
      }, kUserLine)
      .def("binomial", [](RandomStream& r, nb::handle size, nb::handle n, nb::handle p, nb::handle dtype) {
        return r.binomial(to_shape(size), to_operand(n), to_operand(p), to_dtype(dtype));
      }, kUserLine)
      .def("poisson", [](RandomStream& r, nb::handle size, nb::handle lam, nb::handle dtype) {
        return r.poisson(to_shape(size), to_operand(lam), to_dtype(dtype));
      }, kUserLine)
      .def("gamma", [](RandomStream& r, nb::handle size, nb::handle k, nb::handle scale, nb::handle dtype) {
        return r.gamma(to_shape(size), to_operand(k), to_operand(scale), to_dtype(dtype));
      }, kUserLine)
      .def("beta", [](RandomStream& r, nb::handle size, nb::handle a, nb::handle b, nb::handle dtype) {
        return r.beta(to_shape(size), to_operand(a), to_operand(b), to_dtype(dtype));
      }, kUserLine)
      .def("seed", [](RandomStream& r, uint64_t seed) { r.seed(seed); })
      .def_prop_ro("states", [](const RandomStream& r) { return r.states(); });
}

}  // namespace hypatia::python
