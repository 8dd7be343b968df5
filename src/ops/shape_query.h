// What rewrites ask of the shape ops (the ops themselves are private to shape_query.cpp).
#pragma once
#include "hypatia/graph.h"

namespace hypatia {

// The axis a shape_i op reads, or -1 for any other op.
int shape_i_axis(const Op& op);
// Whether op is shape (the whole shape as an int64 vector).
bool is_shape(const Op& op);
// Whether op is alloc (a value broadcast to a shape given as scalars).
bool is_alloc(const Op& op);
// Whether op is reshape (its first input's elements in a new shape).
bool is_reshape(const Op& op);

}  // namespace hypatia
