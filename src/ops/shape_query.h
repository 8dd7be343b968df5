// What rewrites ask of the shape ops (the ops themselves are private to shape_query.cpp).
#pragma once
#include "hypatia/graph.h"

namespace hypatia {

// The axis a shape_i op reads, or -1 for any other op.
int shape_i_axis(const Op& op);

}  // namespace hypatia
