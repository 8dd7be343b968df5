// The linear-algebra builders (hypatia/linalg.h): the ops of linalg.h, and what composes from them and
// from the graph's other ops (matrix_power, norm, kron, tensorinv, tensorsolve, tril, triu).
#include <cmath>
#include <limits>

#include "hypatia/blas.h"
#include "hypatia/elemwise.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "ops/linalg.h"
#include "ops/op_support.h"

namespace hypatia {
namespace {

Variable matrix_operand(const Operand& x, const char* op) {
  Variable v = x.as_variable();
  if (v.ndim() < 2) throw ValueError(std::string("[") + op + "] needs a matrix (at least 2 dimensions), got " + v.type().str());
  return v;
}

// v with leading broadcastable axes until it has `batch_rank` axes before its `core` ones.
Variable with_batch_rank(Variable v, int core, int batch_rank) {
  while (v.ndim() - core < batch_rank) v = expand_dims(v, 0);
  return v;
}

Variable apply_unary(const Operand& x, OpPtr op, const char* name) {
  return at_location(x.where(), [&] { return apply_op1(std::move(op), {matrix_operand(x, name)}, x.where()); });
}

}  // namespace

Variable matrix_inverse(const Operand& x) { return apply_unary(x, std::make_shared<MatrixInverse>(), "matrix_inverse"); }
Variable det(const Operand& x) { return apply_unary(x, std::make_shared<Determinant>(false), "det"); }
Variable cholesky(const Operand& x, bool lower, bool nan_on_error) {
  return apply_unary(x, std::make_shared<Cholesky>(lower, nan_on_error), "cholesky");
}
Variable expm(const Operand& x) { return apply_unary(x, std::make_shared<Expm>(), "expm"); }
Variable pinv(const Operand& x, double rcond) { return apply_unary(x, std::make_shared<Pinv>(rcond), "pinv"); }
Variable eigvalsh(const Operand& x, bool lower) { return apply_unary(x, std::make_shared<Eigh>(lower, false), "eigvalsh"); }
Variable singular_values(const Operand& x) { return apply_unary(x, std::make_shared<Svd>(false, false), "svd"); }

SignLogDet slogdet(const Operand& x) {
  return at_location(x.where(), [&] {
    std::vector<Variable> outputs = apply_op(std::make_shared<Determinant>(true), {matrix_operand(x, "slogdet")}, x.where());
    return SignLogDet{outputs[0], outputs[1]};
  });
}

Eigen eig(const Operand& x) {
  return at_location(x.where(), [&] {
    std::vector<Variable> outputs = apply_op(std::make_shared<Eig>(), {matrix_operand(x, "eig")}, x.where());
    return Eigen{outputs[0], outputs[1]};
  });
}

Eigen eigh(const Operand& x, bool lower) {
  return at_location(x.where(), [&] {
    std::vector<Variable> outputs = apply_op(std::make_shared<Eigh>(lower, true), {matrix_operand(x, "eigh")}, x.where());
    return Eigen{outputs[0], outputs[1]};
  });
}

Variable eigvalsh(const Operand& a, const Operand& b, bool lower) {
  return at_location(a.where(), [&] {
    Variable x = matrix_operand(a, "eigvalsh"), y = matrix_operand(b, "eigvalsh");
    const int rank = std::max(x.ndim(), y.ndim()) - 2;
    return apply_op1(std::make_shared<Eigh>(lower, false), {with_batch_rank(x, 2, rank), with_batch_rank(y, 2, rank)},
                     a.where());
  });
}

SvdResult svd(const Operand& x, bool full_matrices) {
  return at_location(x.where(), [&] {
    std::vector<Variable> outputs = apply_op(std::make_shared<Svd>(full_matrices, true), {matrix_operand(x, "svd")}, x.where());
    return SvdResult{outputs[0], outputs[1], outputs[2]};
  });
}

std::vector<Variable> qr(const Operand& x, QrMode mode) {
  return at_location(x.where(), [&] { return apply_op(std::make_shared<Qr>(mode), {matrix_operand(x, "qr")}, x.where()); });
}

Variable solve(const Operand& a, const Operand& b, const SolveOptions& options) {
  return at_location(a.where(), [&] {
    Variable matrix = matrix_operand(a, "solve"), rhs = b.as_variable(matrix);
    if (rhs.ndim() < 1) throw ValueError("[solve] b must be a vector or a matrix, got " + rhs.type().str());
    // b is a stack of vectors when it has one axis fewer than a (NumPy 1's rule; Theano's for 2-d a).
    const bool vector_rhs = rhs.ndim() == matrix.ndim() - 1;
    const int core = vector_rhs ? 1 : 2;
    const int rank = std::max(matrix.ndim() - 2, rhs.ndim() - core);
    return apply_op1(std::make_shared<Solve>(options, vector_rhs),
                     {with_batch_rank(matrix, 2, rank), with_batch_rank(rhs, core, rank)}, a.where());
  });
}

Variable solve_triangular(const Operand& a, const Operand& b, bool lower, bool transposed, bool unit_diagonal) {
  SolveOptions options;
  options.structure = lower ? MatrixStructure::LowerTriangular : MatrixStructure::UpperTriangular;
  options.lower = lower;
  options.transposed = transposed;
  options.unit_diagonal = unit_diagonal;
  return solve(a, b, options);
}

Variable cho_solve(const Operand& c, const Operand& b, bool lower) {
  SolveOptions options;
  options.structure = MatrixStructure::CholeskyFactor;
  options.lower = lower;
  return solve(c, b, options);
}

LeastSquares lstsq(const Operand& a, const Operand& b, const Operand& rcond) {
  return at_location(a.where(), [&] {
    Variable matrix = a.as_variable(), rhs = b.as_variable(matrix), cutoff = rcond.as_variable(DType::Float64);
    std::vector<Variable> outputs =
        apply_op(std::make_shared<Lstsq>(rhs.ndim() == 1), {matrix, rhs, cutoff}, a.where());
    return LeastSquares{outputs[0], outputs[1], outputs[2], outputs[3]};
  });
}

Variable tril(const Operand& x, int k) {
  return at_location(x.where(), [&] {
    Variable m = matrix_operand(x, "tril");
    const Variable rows = expand_dims(arange(shape_i(m, m.ndim() - 2)), 1), cols = expand_dims(arange(shape_i(m, m.ndim() - 1)), 0);
    return where(rows + k >= cols, m, zeros_like(m));
  });
}

Variable triu(const Operand& x, int k) {
  return at_location(x.where(), [&] {
    Variable m = matrix_operand(x, "triu");
    const Variable rows = expand_dims(arange(shape_i(m, m.ndim() - 2)), 1), cols = expand_dims(arange(shape_i(m, m.ndim() - 1)), 0);
    return where(rows + k <= cols, m, zeros_like(m));
  });
}

Variable matrix_power(const Operand& x, int64_t n) {
  return at_location(x.where(), [&] {
    Variable base = matrix_operand(x, "matrix_power");
    const int64_t rows = base.type().shape[base.ndim() - 2], cols = base.type().shape[base.ndim() - 1];
    if (rows >= 0 && cols >= 0 && rows != cols)
      throw ValueError("[matrix_power] needs square matrices, got " + base.type().str());
    if (n == 0) return zeros_like(base) + eye(shape_i(base, base.ndim() - 1), std::nullopt, 0, base.dtype());
    if (n < 0) {
      base = matrix_inverse(base);
      n = -n;
    }
    // Binary powering: about log2(n) products.
    Variable result;
    while (true) {
      if (n & 1) result = result ? matmul(result, base) : base;
      n >>= 1;
      if (n == 0) break;
      base = matmul(base, base);
    }
    return result;
  });
}

Variable kron(const Operand& a, const Operand& b) {
  return at_location(a.where(), [&] {
    Variable x = a.as_variable(), y = b.as_variable();
    const int nd = std::max(x.ndim(), y.ndim());
    while (x.ndim() < nd) x = expand_dims(x, 0);
    while (y.ndim() < nd) y = expand_dims(y, 0);
    if (nd == 0) return x * y;
    // x's axes interleaved with y's: (a0, b0, a1, b1, ...), then each pair merged.
    std::vector<int> px, py;
    std::vector<Operand> shape;
    for (int k = 0; k < nd; ++k) {
      px.insert(px.end(), {k, kNewAxis});
      py.insert(py.end(), {kNewAxis, k});
      shape.emplace_back(shape_i(x, k) * shape_i(y, k));
    }
    return reshape(dimshuffle(x, px) * dimshuffle(y, py), shape);
  });
}

Variable tensorinv(const Operand& a, int ind) {
  return at_location(a.where(), [&] {
    Variable x = a.as_variable();
    if (ind <= 0 || ind >= x.ndim())
      throw ValueError("[tensorinv] ind must be a positive number of leading axes of " + x.type().str() + ", got " +
                       std::to_string(ind));
    Variable rows = shape_i(x, 0);
    for (int k = 1; k < ind; ++k) rows = rows * shape_i(x, k);
    std::vector<Operand> inverse_shape;
    for (int k = ind; k < x.ndim(); ++k) inverse_shape.emplace_back(shape_i(x, k));
    for (int k = 0; k < ind; ++k) inverse_shape.emplace_back(shape_i(x, k));
    return reshape(matrix_inverse(reshape(x, {Operand(rows), Operand(-1)})), inverse_shape);
  });
}

Variable tensorsolve(const Operand& a, const Operand& b, std::optional<std::vector<int>> axes) {
  return at_location(a.where(), [&] {
    Variable x = a.as_variable(), y = b.as_variable(x);
    const int nd = x.ndim();
    if (axes) {
      // The given axes moved to the end, in their order (NumPy's).
      std::vector<int> moved;
      for (int axis : *axes) moved.push_back(normalize_axis(axis, nd, "tensorsolve"));
      x = transpose(x, axes_moved_last(moved, nd));
    }
    if (y.ndim() > nd)
      throw ValueError("[tensorsolve] b " + y.type().str() + " has more dimensions than a " + x.type().str());
    std::vector<Operand> solution_shape;
    Variable size = Operand(1L).as_variable(DType::Int64);
    for (int k = y.ndim(); k < nd; ++k) {
      solution_shape.emplace_back(shape_i(x, k));
      size = size * shape_i(x, k);
    }
    const Variable matrix = reshape(x, {Operand(-1), Operand(size)});
    return reshape(solve(matrix, flatten(y, 1)), solution_shape);
  });
}

namespace {

Variable vector_norm(const Variable& x, const NormOrder& ord, int axis) {
  const Axes over{axis};
  if (ord.kind == NormOrder::Frobenius || ord.kind == NormOrder::Nuclear)
    throw ValueError(std::string("[norm] invalid norm order '") + (ord.kind == NormOrder::Frobenius ? "fro" : "nuc") +
                     "' for vectors");
  if (ord.kind == NormOrder::Default || ord.p == 2) return sqrt(sum(sqr(abs(x)), over));
  if (std::isinf(ord.p)) return ord.p > 0 ? max(abs(x), over) : min(abs(x), over);
  if (ord.p == 0) return sum(cast(neq(x, 0), x.dtype()), over);
  if (ord.p == 1) return sum(abs(x), over);
  return pow(sum(pow(abs(x), ord.p), over), 1.0 / ord.p);
}

Variable matrix_norm(const Variable& x, const NormOrder& ord, int row_axis, int col_axis) {
  auto singular = [&] { return singular_values(transpose(x, axes_moved_last({row_axis, col_axis}, x.ndim()))); };
  if (ord.kind == NormOrder::Default || ord.kind == NormOrder::Frobenius) return sqrt(sum(sqr(abs(x)), Axes{row_axis, col_axis}));
  if (ord.kind == NormOrder::Nuclear) {
    const Variable s = singular();
    return sum(s, Axes{s.ndim() - 1});
  }
  const double p = ord.p;
  if (p == 2 || p == -2) {
    const Variable s = singular();
    return p > 0 ? max(s, Axes{s.ndim() - 1}) : min(s, Axes{s.ndim() - 1});
  }
  // 1 and inf: the largest column or row sum of |x|; -1 and -inf the smallest.
  const bool columns = p == 1 || p == -1;
  if (!columns && !std::isinf(p)) throw ValueError("[norm] invalid norm order " + std::to_string(p) + " for matrices");
  const int summed = columns ? row_axis : col_axis, kept = columns ? col_axis : row_axis;
  const Variable sums = sum(abs(x), Axes{summed});
  const int kept_after = kept > summed ? kept - 1 : kept;
  return p > 0 ? max(sums, Axes{kept_after}) : min(sums, Axes{kept_after});
}

}  // namespace

Variable norm(const Operand& x, NormOrder ord, std::optional<std::vector<int>> axes, bool keepdims) {
  return at_location(x.where(), [&] {
    Variable v = x.as_variable();
    if (!is_inexact(v.dtype())) v = cast(v, DType::Float64);
    std::vector<int> over;
    if (axes) {
      for (int axis : *axes) over.push_back(normalize_axis(axis, v.ndim(), "norm"));
      if (over.size() == 2 && over[0] == over[1]) throw ValueError("[norm] the two axes are the same");
    } else if (ord.kind == NormOrder::Default) {
      Variable total = sqrt(sum(sqr(abs(v))));
      if (keepdims) {
        std::vector<Operand> ones(v.ndim(), Operand(1));
        total = reshape(total, ones);
      }
      return total;
    } else if (v.ndim() == 1 || v.ndim() == 2) {
      for (int k = 0; k < v.ndim(); ++k) over.push_back(k);
    } else {
      throw ValueError("[norm] an order needs a vector or a matrix, or axes, got " + v.type().str());
    }
    Variable result;
    if (over.size() == 1) result = vector_norm(v, ord, over[0]);
    else if (over.size() == 2) result = matrix_norm(v, ord, over[0], over[1]);
    else throw ValueError("[norm] takes one or two axes, got " + std::to_string(over.size()));
    if (keepdims) {
      std::sort(over.begin(), over.end());
      for (int axis : over) result = expand_dims(result, axis);
    }
    return result;
  });
}

}  // namespace hypatia
