// Linear algebra (hypatia/linalg.h). The Python package (tensor/nlinalg.py, slinalg.py, linalg.py) turns
// Theano's and NumPy's arguments (assume_a, A_structure, UPLO, 'inf' strings) into these.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"
#include "hypatia/linalg.h"

namespace hypatia::python {
namespace {

using X = nb::handle;
using namespace nb::literals;

MatrixStructure structure_named(const std::string& name) {
  if (name == "general") return MatrixStructure::General;
  if (name == "symmetric") return MatrixStructure::Symmetric;
  if (name == "positive_definite") return MatrixStructure::PositiveDefinite;
  if (name == "lower_triangular") return MatrixStructure::LowerTriangular;
  if (name == "upper_triangular") return MatrixStructure::UpperTriangular;
  if (name == "cholesky_factor") return MatrixStructure::CholeskyFactor;
  throw ValueError("[solve] unknown matrix structure '" + name + "'");
}

QrMode qr_mode(const std::string& mode) {
  if (mode == "reduced") return QrMode::Reduced;
  if (mode == "complete") return QrMode::Complete;
  if (mode == "r") return QrMode::R;
  if (mode == "raw") return QrMode::Raw;
  throw ValueError("[qr] unrecognized mode '" + mode + "': 'reduced', 'complete', 'r' or 'raw'");
}

nb::tuple as_tuple(const std::vector<Variable>& values) {
  nb::list items;
  for (const Variable& v : values) items.append(nb::cast(v));
  return nb::tuple(items);
}

}  // namespace

void init_linalg(nb::module_& m) {
  m.def("matrix_inverse", [](X x) { return matrix_inverse(to_operand(x)); }, kUserLine);
  m.def("det", [](X x) { return det(to_operand(x)); }, kUserLine);
  m.def("slogdet", [](X x) {
    SignLogDet r = slogdet(to_operand(x));
    return as_tuple({r.sign, r.logabsdet});
  }, kUserLine);
  m.def("cholesky", [](X x, bool lower, bool nan_on_error) { return cholesky(to_operand(x), lower, nan_on_error); }, kUserLine);
  m.def("solve", [](X a, X b, const std::string& structure, bool lower, bool transposed, bool unit_diagonal) {
    SolveOptions options;
    options.structure = structure_named(structure);
    options.lower = lower;
    options.transposed = transposed;
    options.unit_diagonal = unit_diagonal;
    return solve(to_operand(a), to_operand(b), options);
  }, kUserLine);
  m.def("eig", [](X x) {
    Eigen r = eig(to_operand(x));
    return as_tuple({r.values, r.vectors});
  }, kUserLine);
  m.def("eigh", [](X x, bool lower) {
    Eigen r = eigh(to_operand(x), lower);
    return as_tuple({r.values, r.vectors});
  }, kUserLine);
  m.def("eigvalsh", [](X a, X b, bool lower) {
    return b.is_none() ? eigvalsh(to_operand(a), lower) : eigvalsh(to_operand(a), to_operand(b), lower);
  }, "a"_a, "b"_a.none(), "lower"_a, kUserLine);
  m.def("svd", [](X x, bool full_matrices, bool compute_uv) -> nb::object {
    if (!compute_uv) return nb::cast(singular_values(to_operand(x)));
    SvdResult r = svd(to_operand(x), full_matrices);
    return as_tuple({r.u, r.s, r.vt});
  }, kUserLine);
  m.def("qr", [](X x, const std::string& mode) { return as_tuple(qr(to_operand(x), qr_mode(mode))); }, kUserLine);
  m.def("pinv", [](X x, double rcond) { return pinv(to_operand(x), rcond); }, kUserLine);
  m.def("lstsq", [](X a, X b, X rcond) {
    LeastSquares r = lstsq(to_operand(a), to_operand(b), to_operand(rcond));
    return as_tuple({r.x, r.residuals, r.rank, r.s});
  }, kUserLine);
  m.def("matrix_power", [](X x, int64_t n) { return matrix_power(to_operand(x), n); }, kUserLine);
  m.def("expm", [](X x) { return expm(to_operand(x)); }, kUserLine);
  m.def("kron", [](X a, X b) { return kron(to_operand(a), to_operand(b)); }, kUserLine);
  m.def("tensorinv", [](X a, int ind) { return tensorinv(to_operand(a), ind); }, kUserLine);
  m.def("tensorsolve", [](X a, X b, X axes) {
    std::optional<std::vector<int>> order;
    if (!axes.is_none()) order = to_ints(axes, "[tensorsolve] axes");
    return tensorsolve(to_operand(a), to_operand(b), order);
  }, "a"_a, "b"_a, "axes"_a.none(), kUserLine);
  m.def("tril", [](X x, int k) { return tril(to_operand(x), k); }, kUserLine);
  m.def("triu", [](X x, int k) { return triu(to_operand(x), k); }, kUserLine);
  // ord: None, a number, 'fro' or 'nuc' (the package turns Theano's 'inf' strings into numbers).
  m.def("norm", [](X x, X ord, X axes, bool keepdims) {
    NormOrder order;
    if (nb::isinstance<nb::str>(ord)) {
      const std::string name = nb::cast<std::string>(ord);
      if (name == "fro") order = NormOrder::frobenius();
      else if (name == "nuc") order = NormOrder::nuclear();
      else throw ValueError("[norm] invalid norm order '" + name + "'");
    } else if (!ord.is_none()) {
      order = NormOrder(nb::cast<double>(ord));
    }
    std::optional<std::vector<int>> over;
    if (!axes.is_none()) over = to_ints(axes, "[norm] axis");
    return norm(to_operand(x), order, over, keepdims);
  }, "x"_a, "ord"_a.none(), "axes"_a.none(), "keepdims"_a, kUserLine);
}

}  // namespace hypatia::python
