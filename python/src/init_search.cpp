// Searching, counting and index conversion (topk, bincount, searchsorted, unique, nonzero, ravel and
// unravel) and grad_clip. Keyword defaults and argument spellings live in the Python package.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"

namespace hypatia::python {
namespace {

using X = nb::handle;
using namespace nb::literals;

std::optional<Operand> to_optional_operand(X value) {
  if (value.is_none()) return std::nullopt;
  return to_operand(value);
}

IndexMode to_index_mode(const std::string& mode) {
  if (mode == "raise") return IndexMode::Raise;
  if (mode == "wrap") return IndexMode::Wrap;
  if (mode == "clip") return IndexMode::Clip;
  throw ValueError("[ravel_multi_index] mode must be 'raise', 'wrap' or 'clip', got '" + mode + "'");
}

}  // namespace

void init_search(nb::module_& m) {
  m.def("argtopk", [](X x, X kth, X axis, X idx_dtype) {
    return argtopk(to_operand(x), to_operand(kth), to_optional_axis(axis), to_dtype(idx_dtype));
  }, "x"_a, "kth"_a, "axis"_a.none(), "idx_dtype"_a, kUserLine);
  m.def("topk_and_argtopk", [](X x, X kth, X axis, X idx_dtype) {
    return topk_and_argtopk(to_operand(x), to_operand(kth), to_optional_axis(axis), to_dtype(idx_dtype));
  }, "x"_a, "kth"_a, "axis"_a.none(), "idx_dtype"_a, kUserLine);
  m.def("bincount", [](X x, X weights, int64_t minlength) {
    return bincount(to_operand(x), to_optional_operand(weights), minlength);
  }, "x"_a, "weights"_a.none(), "minlength"_a, kUserLine);
  m.def("searchsorted", [](X x, X v, bool right, X sorter) {
    return searchsorted(to_operand(x), to_operand(v), right, to_optional_operand(sorter));
  }, "x"_a, "v"_a, "right"_a, "sorter"_a.none(), kUserLine);
  m.def("unique", [](X ar, X axis) {
    UniqueResult parts = unique(to_operand(ar), to_optional_axis(axis));
    return std::tuple{parts.values, parts.index, parts.inverse, parts.counts};
  }, "ar"_a, "axis"_a.none(), kUserLine);
  m.def("nonzero_matrix", [](X a) { return nonzero_matrix(to_operand(a)); }, kUserLine);
  m.def("nonzero", [](X a) { return nonzero(to_operand(a)); }, kUserLine);
  m.def("flatnonzero", [](X a) { return flatnonzero(to_operand(a)); }, kUserLine);
  m.def("nonzero_values", [](X a) { return nonzero_values(to_operand(a)); }, kUserLine);
  m.def("unravel_index", [](X indices, X dims, bool fortran_order) {
    return unravel_index(to_operand(indices), to_operand(dims), fortran_order);
  }, kUserLine);
  m.def("ravel_multi_index", [](X multi_index, X dims, const std::vector<std::string>& modes, bool fortran_order) {
    std::vector<Operand> indices;
    for (X index : multi_index) indices.push_back(to_operand(index));
    std::vector<IndexMode> index_modes;
    for (const std::string& mode : modes) index_modes.push_back(to_index_mode(mode));
    return ravel_multi_index(indices, to_operand(dims), index_modes, fortran_order);
  }, kUserLine);
  m.def("grad_clip", [](X x, double lower, double upper) { return grad_clip(to_operand(x), lower, upper); }, kUserLine);
}

}  // namespace hypatia::python
