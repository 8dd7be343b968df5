// Products backed by BLAS.
#pragma once
#include "hypatia/graph.h"

namespace hypatia {

// NumPy's dot for vectors and matrices: vector·vector -> scalar, matrix·vector, vector·matrix,
// matrix·matrix. Scalars multiply elementwise.
Variable dot(const Operand& x, const Operand& y);
// NumPy's matmul: batch dimensions broadcast; vectors are promoted and the added axis removed.
Variable matmul(const Operand& x, const Operand& y);
Variable outer(const Operand& x, const Operand& y);

}  // namespace hypatia
