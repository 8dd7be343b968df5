// What the rewrite passes look for in a graph, in one place.
#pragma once
#include <memory>

#include "hypatia/graph.h"
#include "ir/function_graph.h"
#include "ops/op_support.h"  // (produced_by)
#include "scalar/scalar_table.h"

namespace hypatia {

// The Elemwise node of scalar op `id` that computes `v`, or null.
std::shared_ptr<Apply> elemwise_producer(const Variable& v, ScalarOpId id);

// A constant whose static type has one element (so it cannot widen a shape) and whose value is `value`.
// Sign matters for zeros: is_scalar_constant(v, -0.0) is false for +0.0.
bool is_scalar_constant(const Variable& v, double value);

// Whether a and b compute the same value by the same ops from the same inputs (equal constants count as
// one; the operands of add and mul in either order: merge leaves add(n, 1) and add(1, n) apart). A few
// levels deep, enough for the shape arithmetic of gradients.
bool computes_the_same(const Variable& a, const Variable& b, int depth = 4);

// Whether `reader` is the only node that reads `v` (and no output is v): a rewrite may then absorb
// v's computation into its reader.
bool only_reader_is(const FunctionGraph& graph, const Variable& v, const Apply& reader);

// The size of `node`'s output `k` along `axis` as its op's infer_shape gives it from its inputs' shapes
// (shape_i of each input), as an int64 scalar; null when the op cannot say or its rule reads the output
// itself. Rewrites use it so a value is not computed only for its shape.
Variable inferred_dimension(const Apply& node, size_t k, int axis);

}  // namespace hypatia
