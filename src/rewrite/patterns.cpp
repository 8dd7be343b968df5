#include "rewrite/patterns.h"

#include <cmath>
#include <cstring>

#include "hypatia/elemwise.h"
#include "hypatia/shape_ops.h"
#include "ops/elemwise.h"

namespace hypatia {

std::shared_ptr<Apply> elemwise_producer(const Variable& v, ScalarOpId id) {
  auto node = v.owner();
  const auto* op = node ? dynamic_cast<const Elemwise*>(&node->op()) : nullptr;
  return op && op->scalar_op().id == id ? node : nullptr;
}

bool is_scalar_constant(const Variable& v, double value) {
  if (!v.is_constant() || v.is_sparse() || v.constant_value().size() != 1) return false;
  for (int64_t dim : v.type().shape)
    if (dim != 1) return false;  // a declared (?,) could be any size when the graph was checked
  const Array& constant = v.constant_value();
  if (is_complex(constant.dtype()) && constant.astype(DType::Complex128).data<std::complex<double>>()->imag() != 0) return false;
  const double held = constant.item();
  return held == value && std::signbit(held) == std::signbit(value);
}

bool computes_the_same(const Variable& a, const Variable& b, int depth) {
  if (a.is(b)) return true;
  if (a.type() != b.type()) return false;
  if (a.is_constant() && b.is_constant()) {  // (one element each, the same bytes: the same value and dtype)
    const Array& x = a.constant_value();
    const Array& y = b.constant_value();
    if (x.is_sparse() || y.is_sparse() || x.size() != 1 || y.size() != 1 || x.dtype() != y.dtype()) return false;
    const size_t bytes = dtype_size(x.dtype());
    auto first = [&](const Array& c) { return static_cast<const char*>(c.storage()->data()) + c.offset() * static_cast<int64_t>(bytes); };
    return std::memcmp(first(x), first(y), bytes) == 0;
  }
  const std::shared_ptr<Apply> p = a.owner(), q = b.owner();
  if (depth == 0 || !p || !q || p->inputs().size() != q->inputs().size() || p->num_outputs() != 1 || q->num_outputs() != 1 ||
      !p->op().equals(q->op()))
    return false;
  auto pairwise = [&](bool swapped) {
    for (size_t i = 0; i < p->inputs().size(); ++i)
      if (!computes_the_same(p->input(i), q->input(swapped ? p->inputs().size() - 1 - i : i), depth - 1)) return false;
    return true;
  };
  if (pairwise(false)) return true;
  const auto* elemwise = dynamic_cast<const Elemwise*>(&p->op());
  const bool commutes = elemwise && p->inputs().size() == 2 &&
                        (elemwise->scalar_op().id == ScalarOpId::add || elemwise->scalar_op().id == ScalarOpId::mul);
  return commutes && pairwise(true);
}

bool only_reader_is(const FunctionGraph& graph, const Variable& v, const Apply& reader) {
  const auto& clients = graph.clients(v);
  return clients.size() == 1 && clients[0].node == &reader;
}

Variable inferred_dimension(const Apply& node, size_t k, int axis) {
  std::vector<std::vector<Variable>> input_shapes;
  for (const Variable& input : node.inputs()) {
    std::vector<Variable> dims;
    for (int a = 0; a < input.ndim(); ++a) dims.push_back(shape_i(input, a));
    input_shapes.push_back(std::move(dims));
  }
  std::vector<std::vector<Variable>> shapes;
  try {
    shapes = node.op().infer_shape(node, input_shapes);
  } catch (const Error&) {
    return Variable();
  }
  if (k >= shapes.size() || axis >= static_cast<int>(shapes[k].size())) return Variable();
  Variable dim = shapes[k][axis];
  if (!dim || dim.ndim() != 0 || !is_integer(dim.dtype())) return Variable();
  for (const auto& step : toposort({dim}))
    for (const Variable& input : step->inputs())
      if (input.is(node.output(k))) return Variable();
  return dim.dtype() == DType::Int64 ? dim : cast(dim, DType::Int64);
}

}  // namespace hypatia
