// What the dense front ends call when an operand is a sparse matrix (ops/sparse.cpp), and helpers the sparse
// op files share.
#pragma once
#include <string>
#include <vector>

#include "hypatia/sparse.h"
#include "hypatia/subtensor.h"
#include "scalar/scalar_table.h"

namespace hypatia {

// x + y, x * y, -x, sin(x), cast(x), ... with a sparse operand (Theano's SparseVariable operators): the sparse
// ops where the result keeps zeros; a TypeError naming the structured ops otherwise.
Variable sparse_elemwise(const ScalarOp& op, const std::vector<const Operand*>& operands, std::source_location where);
// x[...] on a sparse matrix, with SciPy's rules: an integer keeps its axis (length 1), except x[i, j], which is
// a dense 0-d value; slices take step 1; an integer vector picks rows or columns.
Variable sparse_subtensor(const Variable& x, const IndexList& indices);

// Whether `node` is a structured product of a sparse matrix and a dense one (a dense matrix result): what usmm
// takes (rewrite/passes/specialize.cpp turns z + alpha * product into one).
bool is_sparse_dense_product(const Apply& node);
// z + alpha * a @ b for dense z and b and sparse a (Theano's Usmm): written into z's buffer where the program
// hands it over (an update w - lr * x.T @ g touches only the rows x stores).
Variable usmm(const Variable& z, const Variable& alpha, const Variable& a, const Variable& b, CodeLocation where);
bool is_usmm(const Apply& node);

namespace sparse_ops {

inline SparseFormat format_of(const Variable& v) { return *v.type().format; }

// The operand as a Variable, which must be a sparse matrix (`role` names it in the TypeError).
Variable sparse_input(const Operand& x, const char* op, const char* role = "its operand");
// The operand as a Variable, which must be dense.
Variable dense_input(const Operand& x, const char* op, const char* role = "its operand");
// A gradient for a sparse input of `format`: sparse gradients converted to it, dense ones as they are.
Variable in_format(const Variable& g, SparseFormat format);
// Two operands as Variables; a number beside a variable takes its dtype (NumPy's weak scalars), on either side.
std::pair<Variable, Variable> operand_pair(const Operand& x, const Operand& y);
inline Array sparse_value(SparseArray matrix) { return Array::from_sparse(std::move(matrix)); }
// SciPy has no float16 sparse matrices, and neither does Hypatia.
void check_sparse_dtype(DType dtype, const std::string& op);

}  // namespace sparse_ops
}  // namespace hypatia
