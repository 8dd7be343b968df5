// One init_<area> per binding file; module.cpp calls them in order.
#pragma once
#include <nanobind/nanobind.h>

#include "call_site.h"
#include "convert.h"

namespace hypatia::python {

// Graph-building functions record the user's Python line for their nodes and error messages.
inline constexpr auto kUserLine = nb::call_guard<PythonCallSite>();

void init_errors(nb::module_& m);
void init_graph(nb::module_& m);
void init_ops(nb::module_& m);
void init_function(nb::module_& m);
void init_grad(nb::module_& m);
void init_printing(nb::module_& m);
void init_random(nb::module_& m);
void init_control(nb::module_& m);
void init_search(nb::module_& m);
void init_conv(nb::module_& m);
void init_linalg(nb::module_& m);
void init_fft(nb::module_& m);
void init_sparse(nb::module_& m);

// Axis arguments: None (all), an int, or a sequence of ints.
Axes to_axes(nb::handle axis);
std::optional<int> to_optional_axis(nb::handle axis);

}  // namespace hypatia::python
