// Cumulative ops, sorting, gathering along an axis, and diagonals.
#pragma once
#include <optional>

#include "hypatia/graph.h"

namespace hypatia {

// Running sum / product along an axis (over the flattened tensor when no axis is given).
Variable cumsum(const Operand& x, std::optional<int> axis = std::nullopt);
Variable cumprod(const Operand& x, std::optional<int> axis = std::nullopt);

// Ascending order along an axis, NaN last (NumPy's order); argsort is stable.
Variable sort(const Operand& x, int axis = -1);
Variable argsort(const Operand& x, int axis = -1);
// np.take_along_axis: out[..., i, ...] = x[..., indices[..., i, ...], ...]; indices has x's rank.
Variable take_along_axis(const Operand& x, const Operand& indices, int axis);

// The diagonal `offset` of the planes (axis1, axis2), as a view whose last axis runs along it.
Variable diagonal(const Operand& x, int offset = 0, int axis1 = 0, int axis2 = 1);
// A vector to a square matrix with it on diagonal k, or a matrix's diagonal k (np.diag).
Variable diag(const Operand& x, int k = 0);
Variable trace(const Operand& x, int offset = 0);

}  // namespace hypatia
