// Sparse matrices in the graph: Theano's `sparse` module. A sparse variable has a TensorType with a format
// (csr or csc); its values are sparse Arrays (hypatia/sparse_array.h), SciPy matrices in Python.
//
// The arithmetic operators, dot, transpose, sum, cast and the elementwise functions that keep zeros (sin,
// sqrt, neg, ...) work on sparse variables as Theano's SparseVariable methods do: they call the functions
// below. Other dense ops refuse a sparse input with a TypeError naming these.
//
// Gradients follow Theano: a "structured" gradient with respect to a sparse matrix is itself sparse with the
// same stored positions (only the stored values are variables); the others are dense or full.
#pragma once
#include <optional>
#include <source_location>
#include <string>
#include <vector>

#include <functional>

#include "hypatia/grad.h"
#include "hypatia/graph.h"
#include "hypatia/sparse_array.h"

namespace hypatia::sparse {

// ---- Declaring sparse matrices ----
Variable csr_matrix(std::string name = "", DType dtype = DType::Float64, std::source_location where = std::source_location::current());
Variable csc_matrix(std::string name = "", DType dtype = DType::Float64, std::source_location where = std::source_location::current());
Variable matrix(SparseFormat format, std::string name = "", DType dtype = DType::Float64,
                std::source_location where = std::source_location::current());

// ---- Conversions ----
// The dense matrix; its gradient is structured (Theano's default) unless `structured` is false.
Variable dense_from_sparse(const Operand& x, bool structured = true);
Variable csr_from_dense(const Operand& x);
Variable csc_from_dense(const Operand& x);
Variable as_format(const Operand& x, SparseFormat format);  // tocsr / tocsc
// A matrix from its arrays, checked when it is made (Theano's CSR and CSC): data (nnz,), indices (nnz,) and
// indptr of an integer dtype, shape an integer vector of 2.
Variable csr(const Operand& data, const Operand& indices, const Operand& indptr, const Operand& shape);
Variable csc(const Operand& data, const Operand& indices, const Operand& indptr, const Operand& shape);
struct Properties {
  Variable data, indices, indptr, shape;
};
Properties csm_properties(const Operand& x);  // views of x's arrays; shape is int64 (2,)
Variable csm_data(const Operand& x);
Variable csm_indices(const Operand& x);
Variable csm_indptr(const Operand& x);
Variable csm_shape(const Operand& x);
// x's structure with other stored values (same length as x's): how the structured ops are composed.
Variable with_data(const Operand& x, const Operand& data);
Variable cast(const Operand& x, DType dtype);

// ---- Products ----
// Sparse x dense (or dense x sparse) with a gradient structured on the sparse operand; sparse x sparse gives a
// sparse result. x.dot(y) on a sparse variable.
Variable structured_dot(const Operand& x, const Operand& y);
// At least one operand sparse; the result is dense, and so is the gradient of a sparse operand.
Variable dot(const Operand& x, const Operand& y);
// x sparse: a sparse result in x's format, with the full (unstructured) gradient; grad_preserves_dense keeps
// a dense y's gradient dense.
Variable true_dot(const Operand& x, const Operand& y, bool grad_preserves_dense = true);
// p * (x @ y.T) at p's stored positions only, for dense x (m, k), y (n, k) and sparse p (m, n).
Variable sampling_dot(const Operand& x, const Operand& y, const Operand& p);

// ---- Elementwise ----
// sparse + sparse is sparse; sparse + dense is dense (gradient structured on the sparse operand).
Variable add(const Operand& x, const Operand& y);
Variable sub(const Operand& x, const Operand& y);
// sparse * sparse and sparse * dense are sparse (only positions stored in the sparse operand can be nonzero).
Variable mul(const Operand& x, const Operand& y);
Variable neg(const Operand& x);
Variable transpose(const Operand& x);  // no copy: a csr matrix read as csc
// x * s[i] on row i (s of x's rows) and x * s[j] on column j: sparse, x's structure.
Variable row_scale(const Operand& x, const Operand& s);
Variable col_scale(const Operand& x, const Operand& s);
// f applied to the stored values only (Theano's structured ops): exp(0) = 1 does not fill the matrix.
Variable structured_sigmoid(const Operand& x);
Variable structured_exp(const Operand& x);
Variable structured_log(const Operand& x);
Variable structured_pow(const Operand& x, const Operand& y);
Variable structured_minimum(const Operand& x, const Operand& y);
Variable structured_maximum(const Operand& x, const Operand& y);
Variable structured_add(const Operand& x, const Operand& y);

// ---- Reductions and structure ----
// Sum of every value (0-d), of each column (axis 0) or row (axis 1): dense. sparse_grad: structured gradient.
Variable sp_sum(const Operand& x, std::optional<int> axis = std::nullopt, bool sparse_grad = false);
Variable sp_ones_like(const Operand& x);   // ones at x's stored positions
Variable sp_zeros_like(const Operand& x);  // x's shape, nothing stored
Variable remove0(const Operand& x);        // drops stored zeros
Variable ensure_sorted_indices(const Operand& x);
Variable clean(const Operand& x);          // ensure_sorted_indices(remove0(x))
// The blocks side by side / one above another; format and dtype default to the first block's and the promoted.
Variable hstack(const std::vector<Variable>& blocks, std::optional<SparseFormat> format = std::nullopt,
                std::optional<DType> dtype = std::nullopt);
Variable vstack(const std::vector<Variable>& blocks, std::optional<SparseFormat> format = std::nullopt,
                std::optional<DType> dtype = std::nullopt);
// The square csc matrix with the vector `diag` on its diagonal.
Variable square_diagonal(const Operand& diag);
// The diagonal of a square sparse matrix, as a dense vector (its gradient: square_diagonal).
Variable diag(const Operand& x);

// ---- Indexing (SciPy's: a row or column index keeps its axis, of length 1) ----
// x[row_start:row_stop, col_start:col_stop] with Python's slice bounds (step 1; null operands: open ends).
Variable get_item_2d(const Operand& x, std::optional<Operand> row_start, std::optional<Operand> row_stop,
                     std::optional<Operand> col_start, std::optional<Operand> col_stop);
// The rows (axis 0) or columns (axis 1) an integer vector lists, in its order.
Variable take(const Operand& x, const Operand& indices, int axis = 0);
// x[i, j]: a dense 0-d value.
Variable get_item_scalar(const Operand& x, const Operand& i, const Operand& j);

// ---- Checking gradients (Theano's verify_grad_sparse) ----
// verify_grad for fn over sparse and dense points: a sparse point is varied through its stored values
// (structured) or through every entry of its dense form; a sparse output is compared as its dense form.
void verify_grad_sparse(const std::function<Variable(const std::vector<Variable>&)>& fn, const std::vector<Array>& point,
                        bool structured = false, const VerifyGradOptions& options = {});

}  // namespace hypatia::sparse
