#include "rewrite/patterns.h"

#include <cmath>

#include "ops/elemwise.h"

namespace hypatia {

std::shared_ptr<Apply> elemwise_producer(const Variable& v, ScalarOpId id) {
  auto node = v.owner();
  const auto* op = node ? dynamic_cast<const Elemwise*>(&node->op()) : nullptr;
  return op && op->scalar_op().id == id ? node : nullptr;
}

bool is_scalar_constant(const Variable& v, double value) {
  if (!v.is_constant() || v.constant_value().size() != 1) return false;
  for (int64_t dim : v.type().shape)
    if (dim != 1) return false;  // a declared (?,) could be any size when the graph was checked
  const double held = v.constant_value().item();
  return held == value && std::signbit(held) == std::signbit(value);
}

bool only_reader_is(const FunctionGraph& graph, const Variable& v, const Apply& reader) {
  const auto& clients = graph.clients(v);
  return clients.size() == 1 && clients[0].node == &reader;
}

}  // namespace hypatia
