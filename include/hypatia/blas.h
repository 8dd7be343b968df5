// Products backed by BLAS.
#pragma once
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

// NumPy's dot: vector·vector -> scalar, matrix·vector, vector·matrix, matrix·matrix; scalars multiply
// elementwise; above two dimensions, the last axis of x against the second-to-last of y (np.dot, as
// Theano's dot; matmul broadcasts batches instead).
Variable dot(const Operand& x, const Operand& y);
// NumPy's matmul: batch dimensions broadcast; vectors are promoted and the added axis removed.
Variable matmul(const Operand& x, const Operand& y);
Variable outer(const Operand& x, const Operand& y);
// Sums products over x's axes_x paired with y's axes_y; the result has x's other axes, then y's.
Variable tensordot(const Operand& x, const Operand& y, const std::vector<int>& axes_x, const std::vector<int>& axes_y);
// The last n axes of x against the first n of y (np.tensordot(x, y, axes=n)).
Variable tensordot(const Operand& x, const Operand& y, int n = 2);

}  // namespace hypatia
