// The host algorithms of the sparse ops (ops/sparse*.cpp): products, elementwise sums and products, reductions,
// restructuring. Each reads the matrices' arrays in place where they are contiguous and of one index dtype, and
// builds its result with SparseArray's unchecked constructor (valid by construction). Long loops run across rows
// with OpenMP; small work stays on one thread.
#pragma once
#include <optional>
#include <vector>

#include "hypatia/sparse_array.h"

namespace hypatia::sparse_kernels {

// Calls fn.template operator()<I>() with I the C++ type of an index dtype (int32 or int64).
template <class Fn> decltype(auto) dispatch_index(DType dtype, Fn&& fn) {
  if (dtype == DType::Int32) return fn.template operator()<int32_t>();
  return fn.template operator()<int64_t>();
}

// A matrix's arrays ready for a kernel: contiguous, data of `dtype`, indices and indptr of one dtype.
struct Compressed {
  SparseFormat format;
  int64_t rows, cols, major, minor;
  Array data, indices, indptr;
  DType index_dtype() const { return indices.dtype(); }
};
Compressed prepare(const SparseArray& x, DType dtype);
// int32 when every index and count up to `largest` fits, as SciPy chooses; else int64.
DType index_dtype_for(int64_t largest);
// The matrix with these arrays (unchecked: the kernels make them valid).
SparseArray assemble(SparseFormat format, int64_t rows, int64_t cols, Array data, Array indices, Array indptr);

// a @ b: a sparse (m, k), b dense (k, n) or (k,): dense (m, n) or (m,) of `dtype`.
Array sparse_dense_product(const SparseArray& a, const Array& b, DType dtype);
// out += alpha * a @ b, into a contiguous `out` of a @ b's shape and its own dtype (Theano's usmm).
void add_product(Array& out, double alpha, const SparseArray& a, const Array& b);
// a @ b: a dense (m, k), b sparse (k, n): dense (m, n) of `dtype`.
Array dense_sparse_product(const Array& a, const SparseArray& b, DType dtype);
// a @ b for two sparse matrices (Gustavson's row-by-row algorithm): canonical, in `format`.
SparseArray sparse_product(const SparseArray& a, const SparseArray& b, SparseFormat format, DType dtype);
// (x @ y.T) at p's stored positions, for dense x (m, k) and y (n, k) and p (m, n): p's values' layout.
Array sampled_product(const Array& x, const Array& y, const SparseArray& p, DType dtype);

// g's values at p's stored positions, in p's order: g dense (0-d, or 2-d whose dimensions are p's or 1,
// broadcast), or sparse of p's shape (its duplicates summed, 0 where it stores nothing).
Array values_at(const Array& g, const SparseArray& p, DType dtype);

// x + y and x * y (entries stored in both) for sparse matrices of one shape: canonical, in x's format.
SparseArray add(const SparseArray& x, const SparseArray& y, DType dtype);
SparseArray multiply(const SparseArray& x, const SparseArray& y, DType dtype);
// y + x for a dense y of x's shape: dense, `dtype`.
Array add_to_dense(const SparseArray& x, const Array& y, DType dtype);

// Sum of every stored value (0-d), of each column (axis 0) or of each row (axis 1).
Array sum(const SparseArray& x, std::optional<int> axis, DType dtype);
// The entries whose value is not zero.
SparseArray remove_zeros(const SparseArray& x);
// Each line's entries in increasing index order, duplicates kept (SciPy's sort_indices).
SparseArray sort_indices(const SparseArray& x);
// The blocks side by side (axis 1, hstack) or one above another (axis 0, vstack), in `format`.
SparseArray stack(const std::vector<SparseArray>& blocks, int axis, SparseFormat format, DType dtype);
// The rows (axis 0) or columns (axis 1) listed, in that order (repeats allowed), in x's format.
SparseArray take(const SparseArray& x, const std::vector<int64_t>& lines, int axis);
// Rows start..stop-1 and columns start..stop-1 (non-negative, in range), in x's format.
SparseArray window(const SparseArray& x, int64_t row_start, int64_t row_stop, int64_t col_start, int64_t col_stop);

}  // namespace hypatia::sparse_kernels
