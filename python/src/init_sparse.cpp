// Sparse matrices (hypatia/sparse.h). The Python package (hypatia/sparse) gives them Theano's names and
// arguments; values cross as SciPy matrices (convert.cpp).
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "hypatia/sparse.h"

namespace hypatia::python {
namespace {

using X = nb::handle;
using namespace nb::literals;

SparseFormat format_named(const std::string& name) {
  if (name == "csr") return SparseFormat::Csr;
  if (name == "csc") return SparseFormat::Csc;
  throw ValueError("[sparse] unknown format '" + name + "': 'csr' or 'csc'");
}

std::optional<Operand> optional_operand(X value) {
  if (value.is_none()) return std::nullopt;
  return to_operand(value);
}

}  // namespace

void init_sparse(nb::module_& m) {
  nb::module_ s = m.def_submodule("sparse", "Sparse matrices: hypatia/sparse.h");
  s.def("matrix", [](const std::string& format, const std::string& name, X dtype) {
    return sparse::matrix(format_named(format), name, to_dtype(dtype));
  }, "format"_a, "name"_a, "dtype"_a, kUserLine);
  s.def("dense_from_sparse", [](X x, bool structured) { return sparse::dense_from_sparse(to_operand(x), structured); }, "x"_a,
        "structured"_a = true, kUserLine);
  s.def("from_dense", [](X x, const std::string& format) {
    return format_named(format) == SparseFormat::Csr ? sparse::csr_from_dense(to_operand(x)) : sparse::csc_from_dense(to_operand(x));
  }, kUserLine);
  s.def("as_format", [](X x, const std::string& format) { return sparse::as_format(to_operand(x), format_named(format)); }, kUserLine);
  s.def("csm", [](const std::string& format, X data, X indices, X indptr, X shape) {
    return format_named(format) == SparseFormat::Csr
               ? sparse::csr(to_operand(data), to_operand(indices), to_operand(indptr), to_operand(shape))
               : sparse::csc(to_operand(data), to_operand(indices), to_operand(indptr), to_operand(shape));
  }, kUserLine);
  s.def("csm_properties", [](X x) {
    const sparse::Properties p = sparse::csm_properties(to_operand(x));
    return std::vector<Variable>{p.data, p.indices, p.indptr, p.shape};
  }, kUserLine);
  s.def("with_data", [](X x, X data) { return sparse::with_data(to_operand(x), to_operand(data)); }, kUserLine);
  s.def("cast", [](X x, X dtype) { return sparse::cast(to_operand(x), to_dtype(dtype)); }, kUserLine);
  s.def("structured_dot", [](X x, X y) { return sparse::structured_dot(to_operand(x), to_operand(y)); }, kUserLine);
  s.def("dot", [](X x, X y) { return sparse::dot(to_operand(x), to_operand(y)); }, kUserLine);
  s.def("true_dot", [](X x, X y, bool grad_preserves_dense) {
    return sparse::true_dot(to_operand(x), to_operand(y), grad_preserves_dense);
  }, kUserLine);
  s.def("sampling_dot", [](X x, X y, X p) { return sparse::sampling_dot(to_operand(x), to_operand(y), to_operand(p)); }, kUserLine);
  s.def("add", [](X x, X y) { return sparse::add(to_operand(x), to_operand(y)); }, kUserLine);
  s.def("sub", [](X x, X y) { return sparse::sub(to_operand(x), to_operand(y)); }, kUserLine);
  s.def("mul", [](X x, X y) { return sparse::mul(to_operand(x), to_operand(y)); }, kUserLine);
  s.def("neg", [](X x) { return sparse::neg(to_operand(x)); }, kUserLine);
  s.def("transpose", [](X x) { return sparse::transpose(to_operand(x)); }, kUserLine);
  s.def("row_scale", [](X x, X scale) { return sparse::row_scale(to_operand(x), to_operand(scale)); }, kUserLine);
  s.def("col_scale", [](X x, X scale) { return sparse::col_scale(to_operand(x), to_operand(scale)); }, kUserLine);
  s.def("structured_sigmoid", [](X x) { return sparse::structured_sigmoid(to_operand(x)); }, kUserLine);
  s.def("structured_exp", [](X x) { return sparse::structured_exp(to_operand(x)); }, kUserLine);
  s.def("structured_log", [](X x) { return sparse::structured_log(to_operand(x)); }, kUserLine);
  s.def("structured_pow", [](X x, X y) { return sparse::structured_pow(to_operand(x), to_operand(y)); }, kUserLine);
  s.def("structured_minimum", [](X x, X y) { return sparse::structured_minimum(to_operand(x), to_operand(y)); }, kUserLine);
  s.def("structured_maximum", [](X x, X y) { return sparse::structured_maximum(to_operand(x), to_operand(y)); }, kUserLine);
  s.def("structured_add", [](X x, X y) { return sparse::structured_add(to_operand(x), to_operand(y)); }, kUserLine);
  s.def("sp_sum", [](X x, std::optional<int> axis, bool sparse_grad) { return sparse::sp_sum(to_operand(x), axis, sparse_grad); },
        "x"_a, "axis"_a.none() = nb::none(), "sparse_grad"_a = false, kUserLine);
  s.def("sp_ones_like", [](X x) { return sparse::sp_ones_like(to_operand(x)); }, kUserLine);
  s.def("sp_zeros_like", [](X x) { return sparse::sp_zeros_like(to_operand(x)); }, kUserLine);
  s.def("remove0", [](X x) { return sparse::remove0(to_operand(x)); }, kUserLine);
  s.def("ensure_sorted_indices", [](X x) { return sparse::ensure_sorted_indices(to_operand(x)); }, kUserLine);
  s.def("clean", [](X x) { return sparse::clean(to_operand(x)); }, kUserLine);
  s.def("stack", [](const std::vector<Variable>& blocks, int axis, std::optional<std::string> format, X dtype) {
    std::optional<SparseFormat> f;
    if (format) f = format_named(*format);
    std::optional<DType> d;
    if (!dtype.is_none()) d = to_dtype(dtype);
    return axis == 0 ? sparse::vstack(blocks, f, d) : sparse::hstack(blocks, f, d);
  }, "blocks"_a, "axis"_a, "format"_a.none(), "dtype"_a.none(), kUserLine);
  s.def("square_diagonal", [](X diag) { return sparse::square_diagonal(to_operand(diag)); }, kUserLine);
  s.def("diag", [](X x) { return sparse::diag(to_operand(x)); }, kUserLine);
  s.def("get_item_2d", [](X x, X row_start, X row_stop, X col_start, X col_stop) {
    return sparse::get_item_2d(to_operand(x), optional_operand(row_start), optional_operand(row_stop), optional_operand(col_start),
                               optional_operand(col_stop));
  }, kUserLine);
  s.def("take", [](X x, X indices, int axis) { return sparse::take(to_operand(x), to_operand(indices), axis); }, kUserLine);
  s.def("get_item_scalar", [](X x, X i, X j) { return sparse::get_item_scalar(to_operand(x), to_operand(i), to_operand(j)); },
        kUserLine);
}

}  // namespace hypatia::python
