// hypatia::SparseArray: a sparse matrix in compressed rows (CSR) or compressed columns (CSC), in SciPy's
// layout: `data` holds the stored values, `indices` their columns (CSR) or rows (CSC), and `indptr` where
// each row's (column's) entries start in both. The three arrays are kept as given (the caller's memory, not
// copied), and what they hold is checked once, when the matrix is made.
// Duplicates and unsorted indices are allowed, as in SciPy; canonical() removes them.
#pragma once
#include <cstdint>
#include <string>

#include "hypatia/array.h"

namespace hypatia {

class SparseArray {
 public:
  // A (rows, cols) matrix from its arrays: 1-d, data and indices of one length, int32 or int64 indices and
  // indptr, indptr of major + 1 non-decreasing entries from 0 to nnz (major: rows for CSR, columns for
  // CSC), every index in 0..minor - 1. ValueError naming what does not fit otherwise.
  SparseArray(SparseFormat format, int64_t rows, int64_t cols, Array data, Array indices, Array indptr);
  // The same without the checks, for arrays valid by construction (the sparse ops' kernels).
  static SparseArray unchecked(SparseFormat format, int64_t rows, int64_t cols, Array data, Array indices, Array indptr);
  // The nonzeros of a 2-d dense array, in order along each row (column), with int32 indices (int64 when int32
  // cannot hold them).
  static SparseArray from_dense(const Array& dense, SparseFormat format);

  SparseFormat format() const { return format_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  Shape shape() const { return {rows_, cols_}; }
  int64_t major() const { return format_ == SparseFormat::Csr ? rows_ : cols_; }  // lines compressed
  int64_t minor() const { return format_ == SparseFormat::Csr ? cols_ : rows_; }
  int64_t nnz() const { return data_.size(); }  // stored entries (explicit zeros and duplicates count)
  DType dtype() const { return data_.dtype(); }
  const Array& data() const { return data_; }
  const Array& indices() const { return indices_; }
  const Array& indptr() const { return indptr_; }

  // The dense matrix (duplicates summed, as SciPy's toarray).
  Array to_dense() const;
  // The same arrays read in the other format: a (m, n) CSR matrix is its (n, m) transpose in CSC (no copy).
  SparseArray transpose() const;
  // The matrix in `format` (a copy when it differs): each new line's entries in increasing index order,
  // duplicates kept, as SciPy's tocsr / tocsc.
  SparseArray as_format(SparseFormat format) const;
  // Whether each line's indices are non-decreasing, and strictly increasing (no duplicates).
  bool has_sorted_indices() const;
  bool has_canonical_format() const;
  // Sorted indices and duplicates summed (explicit zeros kept), as SciPy's sum_duplicates; the matrix itself
  // (its arrays, not copies) when it already is.
  SparseArray canonical() const;

  std::string shape_dtype_str() const;  // "csr float64(3, 4), 5 stored"

 private:
  bool indices_increase(bool strictly) const;  // within each line
  struct Unchecked {};
  SparseArray(Unchecked, SparseFormat format, int64_t rows, int64_t cols, Array data, Array indices, Array indptr)
      : format_(format), rows_(rows), cols_(cols), data_(std::move(data)), indices_(std::move(indices)), indptr_(std::move(indptr)) {}
  SparseFormat format_;
  int64_t rows_, cols_;
  Array data_, indices_, indptr_;
};

// a @ b for a sparse (m, k) matrix and a dense (k, n) matrix or (k,) vector: a dense (m, n) or (m,) result
// in the operands' promoted dtype. ShapeError when k differs.
Array sparse_dot(const SparseArray& a, const Array& b);

}  // namespace hypatia
