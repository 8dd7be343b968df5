// Fourier transforms (hypatia/fft.h). hypatia.fft (NumPy's names) and hypatia.tensor.fft (Theano's rfft and
// irfft layout) are written over these in Python.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "hypatia/fft.h"

namespace hypatia::python {
namespace {

using X = nb::handle;
using namespace nb::literals;

FftNorm norm_named(X norm) {
  if (norm.is_none()) return FftNorm::Backward;
  const std::string name = nb::cast<std::string>(norm);
  if (name == "backward") return FftNorm::Backward;
  if (name == "ortho") return FftNorm::Ortho;
  if (name == "forward") return FftNorm::Forward;
  throw ValueError("[fft] invalid norm '" + name + "': None, 'backward', 'ortho' or 'forward'");
}

}  // namespace

void init_fft(nb::module_& m) {
  m.def("fftn", [](X x, X axes, X norm) { return fftn(to_operand(x), to_ints(axes, "[fftn] axes"), norm_named(norm)); },
        "x"_a, "axes"_a, "norm"_a.none(), kUserLine);
  m.def("ifftn", [](X x, X axes, X norm) { return ifftn(to_operand(x), to_ints(axes, "[ifftn] axes"), norm_named(norm)); },
        "x"_a, "axes"_a, "norm"_a.none(), kUserLine);
  m.def("rfftn", [](X x, X axes, X norm) { return rfftn(to_operand(x), to_ints(axes, "[rfftn] axes"), norm_named(norm)); },
        "x"_a, "axes"_a, "norm"_a.none(), kUserLine);
  m.def("irfftn", [](X x, X axes, X n, X norm) {
    std::optional<Operand> length;
    if (!n.is_none()) length = to_operand(n);
    return irfftn(to_operand(x), to_ints(axes, "[irfftn] axes"), length, norm_named(norm));
  }, "x"_a, "axes"_a, "n"_a.none(), "norm"_a.none(), kUserLine);
  m.def("fftshift", [](X x, X axes) { return fftshift(to_operand(x), axes.is_none() ? std::vector<int>{} : to_ints(axes, "[fftshift] axes")); },
        "x"_a, "axes"_a.none(), kUserLine);
  m.def("ifftshift", [](X x, X axes) {
    return ifftshift(to_operand(x), axes.is_none() ? std::vector<int>{} : to_ints(axes, "[ifftshift] axes"));
  }, "x"_a, "axes"_a.none(), kUserLine);
}

}  // namespace hypatia::python
