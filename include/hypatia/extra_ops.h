// Cumulative ops, sorting, gathering along an axis, and diagonals.
#pragma once
#include <optional>
#include <utility>
#include <vector>

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

// ---- Searching, counting and index conversion (src/ops/search_ops.cpp) ----
// Without an axis these work on the flattened tensor, as NumPy does.

// Positions of the |kth| largest (kth > 0) or smallest (kth < 0) entries along `axis`, largest (smallest)
// first, ties by position, NaN counting as the largest (Theano's argtopk; its sorted flag changes nothing).
Variable argtopk(const Operand& x, const Operand& kth, std::optional<int> axis = -1, DType idx_dtype = DType::Int64);
// Those entries themselves (differentiable: the gradient goes back to the chosen entries), and both.
Variable topk(const Operand& x, const Operand& kth, std::optional<int> axis = -1);
std::pair<Variable, Variable> topk_and_argtopk(const Operand& x, const Operand& kth, std::optional<int> axis = -1,
                                               DType idx_dtype = DType::Int64);

// out[i] counts the entries of the non-negative integer vector x equal to i (or sums their weights, in the
// weights' dtype); its length is max(x) + 1, at least minlength.
Variable bincount(const Operand& x, std::optional<Operand> weights = std::nullopt, int64_t minlength = 0);

// For each entry of v, where to insert it into the ascending vector x (x[sorter] when given) to keep it
// sorted: before equal entries (left) or after them (right); int64, shaped like v.
Variable searchsorted(const Operand& x, const Operand& v, bool right = false,
                      std::optional<Operand> sorter = std::nullopt);

// np.unique: the sorted distinct values (slices along axis), the position of each one's first occurrence,
// each input entry's (slice's) number among them, and how often each occurs. NaNs count as equal.
struct UniqueResult {
  Variable values, index, inverse, counts;
};
UniqueResult unique(const Operand& ar, std::optional<int> axis = std::nullopt);

// The coordinates of a's nonzero entries in C order: a (ndim, count) int64 matrix, or its rows.
Variable nonzero_matrix(const Operand& a);
std::vector<Variable> nonzero(const Operand& a);
// Positions of the nonzero entries of the flattened a, and those entries.
Variable flatnonzero(const Operand& a);
Variable nonzero_values(const Operand& a);

// np.unravel_index: the coordinates (one int64 tensor per entry of dims, each shaped like indices) of
// flat indices into an array of shape dims, in C or Fortran order. dims has a known length.
std::vector<Variable> unravel_index(const Operand& indices, const Operand& dims, bool fortran_order = false);
// np.ravel_multi_index: the flat index of each coordinate tuple (the arrays broadcast together).
// Out-of-range coordinates raise, wrap around or clip; one mode for all dimensions or one per dimension.
enum class IndexMode { Raise, Wrap, Clip };
Variable ravel_multi_index(const std::vector<Operand>& multi_index, const Operand& dims,
                           std::vector<IndexMode> modes = {IndexMode::Raise}, bool fortran_order = false);

// x in the forward pass; the gradient flowing back through it is clipped elementwise to
// [lower_bound, upper_bound] (Theano's gradient.grad_clip).
Variable grad_clip(const Operand& x, double lower_bound, double upper_bound);

}  // namespace hypatia
