// The linear-algebra ops on LAPACK: types, shapes and perform (gradients: linalg_grad.cpp).
//
// LAPACK is column-major and our arrays row-major. A row-major matrix read as column-major is its
// transpose, which several ops use to avoid copies: inv(A^T) = inv(A)^T, det(A^T) = det(A), a row-major
// triangle is LAPACK's opposite one, and solves apply LAPACK's factors with row-major trsm; the others copy
// into column-major buffers (O(n^2) beside O(n^3) work; the SVD does, to give NumPy's signs).
#include "ops/linalg.h"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <complex>
#include <limits>
#include <optional>

#include "hypatia/elemwise.h"
#include "hypatia/shape_ops.h"
#include "ir/serialize.h"
#include "ops/blas.h"
#include "ops/lapack.h"
#include "ops/op_support.h"

namespace hypatia {

void check_lu_pivots(const std::string& op, const int32_t* pivots, int64_t count, int64_t n) {
  for (int64_t i = 0; i < count; ++i)
    if (pivots[i] < 1 || pivots[i] > n)
      throw ValueError("[" + op + "] a pivot " + std::to_string(pivots[i]) + " outside 1.." + std::to_string(n));
}

std::string batch_entry_note(const Shape& batch, int64_t entry) {
  if (batch.empty()) return "";
  std::string text = " (batch entry (";
  std::vector<int64_t> index(batch.size());
  for (int a = static_cast<int>(batch.size()) - 1; a >= 0; --a) {
    index[a] = entry % batch[a];
    entry /= batch[a];
  }
  for (size_t a = 0; a < index.size(); ++a) text += (a ? ", " : "") + std::to_string(index[a]);
  return text + (index.size() == 1 ? ",))" : "))");
}
namespace {

// LAPACK takes int sizes.
int lapack_int(int64_t size, const std::string& op) {
  if (size > INT_MAX) throw ValueError("[" + op + "] a dimension of " + std::to_string(size) + " is beyond LAPACK's int sizes");
  return static_cast<int>(size);
}

// The matrices of each input, one after another in one contiguous array (of the compute dtype for the inputs
// that hold values), and where each batch entry finds its own.
struct Batches {
  std::string inputs;  // the inputs' shapes and dtypes, for errors
  Shape shape;  // the broadcast batch shape
  int64_t count = 1;
  std::vector<Array> arrays;                  // per input: contiguous
  std::vector<int64_t> core_size;             // per input: elements per matrix
  std::vector<std::vector<int64_t>> matrix;   // [input][entry]: which of the input's matrices
  template <class T> const T* at(size_t input, int64_t entry) const {
    return arrays[input].data<T>() + matrix[input][entry] * core_size[input];
  }
  // The LU pivots (input 1 of a factored op) of one entry's n x n matrix, checked to be LAPACK's (a saved
  // graph may hold anything).
  void pivots(int64_t entry, int64_t n, std::vector<int>& out, const std::string& op) const {
    if (core_size[1] != n) throw ValueError("[" + op + "] pivots " + arrays[1].shape_dtype_str() + " for " + std::to_string(n) + " rows");
    const int32_t* p = at<int32_t>(1, entry);
    check_lu_pivots(op, p, n, n);
    std::copy_n(p, n, out.begin());
  }
  // " (batch entry (1, 2))" for errors about one matrix of a batch; empty without batch axes.
  std::string entry_note(int64_t entry) const { return batch_entry_note(shape, entry); }
};

// Batch axes broadcast where an input's static type has size 1 (as matmul's and Elemwise's); the others
// must agree.
Batches batches(const LinalgOp& linalg, const Apply& node, std::span<const Array> inputs, DType dtype) {
  const std::string op = linalg.name();
  std::vector<int> core_ranks;
  for (size_t i = 0; i < inputs.size(); ++i) core_ranks.push_back(linalg.core_rank(static_cast<int>(i)));
  Batches b;
  b.inputs = shapes_str(inputs);
  const int batch_rank = inputs[0].ndim() - core_ranks[0];
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].ndim() - core_ranks[i] != batch_rank || inputs[i].ndim() < core_ranks[i])
      throw ShapeError("[" + op + "] the inputs " + b.inputs + " do not have batch axes of one rank");
  for (int a = 0; a < batch_rank; ++a) {
    int64_t size = -1;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (node.input(i).type().shape[a] == 1) continue;
      if (size >= 0 && inputs[i].shape()[a] != size)
        throw ShapeError("[" + op + "] the batch axes of " + b.inputs + " differ on axis " + std::to_string(a) +
                         " (only axes of static size 1 broadcast)");
      size = inputs[i].shape()[a];
    }
    if (size < 0) size = 1;
    b.shape.push_back(size);
    b.count *= size;
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    b.arrays.push_back(linalg.holds_values(static_cast<int>(i)) ? inputs[i].astype(dtype).contiguous() : inputs[i].contiguous());
    int64_t core = 1;
    for (int a = batch_rank; a < inputs[i].ndim(); ++a) core *= inputs[i].shape()[a];
    b.core_size.push_back(core);
    std::vector<int64_t> which(b.count);
    for (int64_t entry = 0; entry < b.count; ++entry) {
      int64_t rest = entry, position = 0, stride = 1;
      for (int a = batch_rank - 1; a >= 0; --a) {
        const int64_t index = rest % b.shape[a];
        rest /= b.shape[a];
        if (node.input(i).type().shape[a] != 1) position += index * stride;
        stride *= inputs[i].shape()[a];
      }
      which[entry] = position;
    }
    b.matrix.push_back(std::move(which));
  }
  return b;
}

Shape with_core(const Shape& batch, std::initializer_list<int64_t> core) {
  Shape shape = batch;
  shape.insert(shape.end(), core.begin(), core.end());
  return shape;
}

// Calls fn.template operator()<T>() with T float or double.
template <class Fn> void dispatch_real(DType dtype, Fn&& fn) {
  if (dtype == DType::Float32) fn.template operator()<float>();
  else fn.template operator()<double>();
}

template <class T> void to_column_major(const T* in, int64_t rows, int64_t cols, T* out) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) out[i + j * rows] = in[i * cols + j];
}
template <class T> void from_column_major(const T* in, int64_t rows, int64_t cols, T* out) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) out[i * cols + j] = in[i + j * rows];
}

// The row-major square matrix at `m` with the triangle above (lower) or below the diagonal zeroed.
template <class T> void keep_triangle(T* m, int64_t n, bool lower) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      if (lower ? j > i : j < i) m[i * n + j] = T(0);
}

template <class T> bool all_finite(const T* values, int64_t count) {
  for (int64_t k = 0; k < count; ++k)
    if (!std::isfinite(values[k])) return false;
  return true;
}

[[noreturn]] void fail(const std::string& op, const std::string& why, const Batches& b, int64_t entry) {
  throw LinAlgError("[" + op + "] " + why + " in " + b.inputs + b.entry_note(entry));
}

// The workspace size a LAPACK query (lwork = -1) reported in work[0], rounded up: a float32 report of a
// size above 2^24 may have been rounded down.
template <class T> int workspace(T reported) {
  return std::max(1, static_cast<int>(std::ceil(static_cast<double>(reported) * (1 + 1e-6))));
}

// LAPACK's info < 0 means an argument it refused: a bug here, not the user's, said as such.
int checked(int info, const char* routine) {
  if (info < 0) throw Error(std::string("[linalg] internal error: LAPACK's ") + routine + " refused argument " + std::to_string(-info));
  return info;
}

void check_square(const std::string& op, std::span<const Array> inputs, int input) {
  const Array& x = inputs[input];
  if (x.shape(-1) != x.shape(-2))
    throw LinAlgError("[" + op + "] the last two dimensions must be square, got " + x.shape_dtype_str());
}

bool known(int64_t size) { return size != TensorType::kUnknown; }
int64_t known_min(int64_t a, int64_t b) {
  if (a == 0 || b == 0) return 0;
  return known(a) && known(b) ? std::min(a, b) : TensorType::kUnknown;
}

}  // namespace

// ---- LinalgOp ----

DType LinalgOp::compute_dtype(const std::vector<Variable>& inputs) const {
  // SciPy's rule: the inputs' promoted dtype, computed in single precision when that is float16 or float32.
  std::optional<DType> promoted;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const DType dtype = inputs[i].dtype();
    if (!holds_values(static_cast<int>(i))) continue;  // (scalar parameters, pivots)
    if (is_complex(dtype))
      throw TypeError("[" + name() + "] takes real matrices (complex ones are not supported yet), got " + shapes_str(inputs));
    promoted = promoted ? promote_types(*promoted, dtype) : dtype;
  }
  return promoted && (*promoted == DType::Float16 || *promoted == DType::Float32) ? DType::Float32 : DType::Float64;
}

std::vector<int64_t> LinalgOp::batch_shape(const std::vector<Variable>& inputs) const {
  const int rank = inputs[0].ndim() - core_rank(0);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const int core = core_rank(static_cast<int>(i));
    if (inputs[i].ndim() < core)
      throw ValueError("[" + name() + "] input " + std::to_string(i) + " needs at least " + std::to_string(core) +
                       " dimensions, got " + shapes_str(inputs));
    if (inputs[i].ndim() - core != rank)
      throw ValueError("[" + name() + "] the inputs " + shapes_str(inputs) + " have batch axes of different ranks");
  }
  std::vector<int64_t> shape;
  for (int a = 0; a < rank; ++a) {
    int64_t size = 1;
    bool unknown = false;
    for (const Variable& x : inputs) {
      const int64_t s = x.type().shape[a];
      if (s == 1) continue;
      if (!known(s)) { unknown = true; continue; }
      if (size != 1 && s != size)
        throw ShapeError("[" + name() + "] the batch axes of " + shapes_str(inputs) + " do not broadcast (axis " +
                         std::to_string(a) + ")");
      size = s;
    }
    shape.push_back(unknown && size == 1 ? TensorType::kUnknown : size);
  }
  return shape;
}

std::vector<TensorType> LinalgOp::typed_outputs(const std::vector<Variable>& inputs, const std::vector<DType>& dtypes) const {
  const std::vector<int64_t> batch = batch_shape(inputs);
  const std::vector<std::vector<int64_t>> cores = core_output_shapes(inputs);
  std::vector<TensorType> types;
  for (size_t k = 0; k < cores.size(); ++k) {
    std::vector<int64_t> shape = batch;
    shape.insert(shape.end(), cores[k].begin(), cores[k].end());
    types.emplace_back(dtypes[k], shape);
  }
  return types;
}

std::vector<std::vector<Variable>> LinalgOp::infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const {
  const int rank = node.input(0).ndim() - core_rank(0);
  std::vector<Variable> batch;
  for (int a = 0; a < rank; ++a) {
    // The size of the first input not statically 1 there (the call checks that the others agree).
    Variable size = shapes[0][a];
    for (size_t i = 0; i < shapes.size(); ++i)
      if (node.input(i).type().shape[a] != 1) {
        size = shapes[i][a];
        break;
      }
    batch.push_back(size);
  }
  std::vector<std::vector<Variable>> cores;
  for (size_t i = 0; i < shapes.size(); ++i)
    cores.emplace_back(shapes[i].begin() + (node.input(i).ndim() - core_rank(static_cast<int>(i))), shapes[i].end());
  std::vector<std::vector<Variable>> result = core_output_shapes(node, cores);
  for (std::vector<Variable>& shape : result) shape.insert(shape.begin(), batch.begin(), batch.end());
  return result;
}

namespace {

// A square core: ValueError when both sizes are known and differ.
void check_static_square(const std::string& op, const Variable& x) {
  const int64_t r = x.type().shape[x.ndim() - 2], c = x.type().shape[x.ndim() - 1];
  if (known(r) && known(c) && r != c)
    throw ValueError("[" + op + "] needs square matrices (the last two dimensions), got " + x.type().str());
}

std::vector<int64_t> square_core(const Variable& x) {
  const int64_t r = x.type().shape[x.ndim() - 2], c = x.type().shape[x.ndim() - 1];
  return {known(r) ? r : c, known(r) ? r : c};
}

}  // namespace

std::vector<std::vector<int64_t>> LinalgOp::core_output_shapes(const std::vector<Variable>& inputs) const {
  return {square_core(inputs[0])};
}
std::vector<std::vector<Variable>> LinalgOp::core_output_shapes(const Apply&, const std::vector<std::vector<Variable>>& cores) const {
  return {cores[0]};
}

std::vector<TensorType> LinalgOp::matrix_types(const std::vector<Variable>& inputs, size_t arity,
                                               const std::vector<DType>& dtypes, bool square) const {
  if (inputs.size() != arity)
    throw TypeError("[" + name() + "] takes " + std::to_string(arity) + (arity == 1 ? " input" : " inputs") + ", got " +
                    shapes_str(inputs));
  std::vector<TensorType> types = typed_outputs(inputs, dtypes);  // (checks the ranks first)
  if (square) check_static_square(name(), inputs[0]);
  return types;
}

// ---- LU factors ----

namespace {

// Whether LAPACK's LU factors (row-major: U^T on and below the diagonal) have a zero pivot.
template <class T> bool lu_singular(const T* lu, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (lu[i * n + i] == T(0)) return true;
  return false;
}

// det = sign * exp(log_abs) = product, from the factors and pivots of getrf (det(A^T) = det(A)).
struct DeterminantParts {
  double sign = 1, log_abs = 0, product = 1;
};
template <class T> DeterminantParts lu_determinant(const T* lu, const int* pivots, int64_t n) {
  // Products in double: a float32 determinant of a large matrix under- or overflows less this way.
  DeterminantParts d;
  for (int64_t i = 0; i < n; ++i) {
    const double v = lu[i * n + i];
    if (pivots[i] != i + 1) {
      d.sign = -d.sign;
      d.product = -d.product;
    }
    d.sign *= v > 0 ? 1 : v < 0 ? -1 : v == 0 ? 0 : 1;  // (NaN leaves the sign, as NumPy: log|det| is NaN)
    d.log_abs += std::log(std::fabs(v));
    d.product *= v;
  }
  return d;
}

}  // namespace

std::vector<TensorType> LuFactor::output_types(const std::vector<Variable>& inputs) const {
  return matrix_types(inputs, 1, {compute_dtype(inputs), DType::Int32}, true);
}
std::vector<std::vector<int64_t>> LuFactor::core_output_shapes(const std::vector<Variable>& inputs) const {
  const std::vector<int64_t> square = square_core(inputs[0]);
  return {square, {square[0]}};
}
std::vector<std::vector<Variable>> LuFactor::core_output_shapes(const Apply&, const std::vector<std::vector<Variable>>& cores) const {
  return {cores[0], {cores[0][0]}};
}

void LuFactor::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  check_square(name(), inputs, 0);
  const Batches b = batches(*this, node, inputs, node.output(0).dtype());
  const int64_t n = inputs[0].shape(-1);
  const int ni = lapack_int(n, name()), ld = std::max(1, ni);
  Array lu = Array::empty(with_core(b.shape, {n, n}), node.output(0).dtype());
  Array pivots = Array::empty(with_core(b.shape, {n}), DType::Int32);
  dispatch_real(lu.dtype(), [&]<class T>() {
    for (int64_t entry = 0; entry < b.count; ++entry) {
      T* m = lu.data<T>() + entry * n * n;
      std::copy_n(b.at<T>(0, entry), n * n, m);
      lapack::getrf(ni, ni, m, ld, pivots.data<int32_t>() + entry * n);
    }
  });
  outputs[0] = std::move(lu);
  outputs[1] = std::move(pivots);
}

std::vector<Variable> LuFactor::grad(const Apply& node, const std::vector<Variable>&) const {
  throw NotImplementedError("[lu_factor] has no gradient: the linear_algebra rewrite makes it after gradients are taken (" +
                            node.input(0).type().str() + ")");
}

std::string LuFactor::save() const { return OpWriter("lu_factor").bytes(); }

// ---- MatrixInverse ----

std::vector<TensorType> MatrixInverse::output_types(const std::vector<Variable>& inputs) const {
  return matrix_types(inputs, factored_ ? 2 : 1, {compute_dtype(inputs)}, true);
}

void MatrixInverse::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  check_square(name(), inputs, 0);
  const Batches b = batches(*this, node, inputs, node.output(0).dtype());
  const int64_t n = inputs[0].shape(-1);
  const int ni = lapack_int(n, name()), ld = std::max(1, ni);
  Array out = Array::empty(with_core(b.shape, {n, n}), node.output(0).dtype());
  dispatch_real(out.dtype(), [&]<class T>() {
    std::vector<int> pivots(std::max<int64_t>(1, n));
    T query;
    lapack::getri(ni, nullptr, ld, pivots.data(), &query, -1);
    std::vector<T> work(workspace(query));
    for (int64_t entry = 0; entry < b.count; ++entry) {
      T* m = out.data<T>() + entry * n * n;
      std::copy_n(b.at<T>(0, entry), n * n, m);
      // (The row-major matrix is A^T to LAPACK, and inv(A^T) read back row-major is inv(A).)
      if (factored_) {
        b.pivots(entry, n, pivots, name());
        if (lu_singular(m, n)) fail(name(), "singular matrix", b, entry);
      } else if (lapack::getrf(ni, ni, m, ld, pivots.data()) > 0) {
        fail(name(), "singular matrix", b, entry);
      }
      checked(lapack::getri(ni, m, ld, pivots.data(), work.data(), static_cast<int>(work.size())), "getri");
    }
  });
  outputs[0] = std::move(out);
}

std::string MatrixInverse::save() const {
  OpWriter out("matrix_inverse");
  out.flag(factored_);
  return out.bytes();
}

// ---- Determinant ----

std::vector<TensorType> Determinant::output_types(const std::vector<Variable>& inputs) const {
  return matrix_types(inputs, factored_ ? 2 : 1, std::vector<DType>(logarithm_ ? 2 : 1, compute_dtype(inputs)), true);
}
std::vector<std::vector<int64_t>> Determinant::core_output_shapes(const std::vector<Variable>&) const {
  return std::vector<std::vector<int64_t>>(logarithm_ ? 2 : 1);
}
std::vector<std::vector<Variable>> Determinant::core_output_shapes(const Apply&, const std::vector<std::vector<Variable>>&) const {
  return std::vector<std::vector<Variable>>(logarithm_ ? 2 : 1);
}

void Determinant::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  check_square(name(), inputs, 0);
  const Batches b = batches(*this, node, inputs, node.output(0).dtype());
  const int64_t n = inputs[0].shape(-1);
  const int ni = lapack_int(n, name()), ld = std::max(1, ni);
  const DType dtype = node.output(0).dtype();
  Array first = Array::empty(b.shape, dtype), second = logarithm_ ? Array::empty(b.shape, dtype) : Array();
  dispatch_real(dtype, [&]<class T>() {
    std::vector<int> pivots(std::max<int64_t>(1, n));
    std::vector<T> lu(factored_ ? 0 : n * n);
    for (int64_t entry = 0; entry < b.count; ++entry) {
      const T* factors = b.at<T>(0, entry);
      const int* p = pivots.data();
      if (factored_) {
        b.pivots(entry, n, pivots, name());
      } else {
        std::copy_n(factors, n * n, lu.data());
        lapack::getrf(ni, ni, lu.data(), ld, pivots.data());  // (det(A^T) = det(A); a zero pivot gives 0)
        factors = lu.data();
      }
      const DeterminantParts d = lu_determinant(factors, p, n);
      if (logarithm_) {
        first.data<T>()[entry] = static_cast<T>(d.sign);
        second.data<T>()[entry] = static_cast<T>(d.sign == 0 ? -std::numeric_limits<double>::infinity() : d.log_abs);
      } else {
        first.data<T>()[entry] = static_cast<T>(d.product);
      }
    }
  });
  outputs[0] = std::move(first);
  if (logarithm_) outputs[1] = std::move(second);
}

std::string Determinant::save() const {
  OpWriter out("determinant");
  out.flag(logarithm_);
  out.flag(factored_);
  return out.bytes();
}

// ---- Cholesky ----

std::vector<TensorType> Cholesky::output_types(const std::vector<Variable>& inputs) const {
  return matrix_types(inputs, 1, {compute_dtype(inputs)}, true);
}

void Cholesky::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  check_square(name(), inputs, 0);
  const Batches b = batches(*this, node, inputs, node.output(0).dtype());
  const int64_t n = inputs[0].shape(-1);
  const int ni = lapack_int(n, name()), ld = std::max(1, ni);
  Array out = Array::empty(with_core(b.shape, {n, n}), node.output(0).dtype());
  dispatch_real(out.dtype(), [&]<class T>() {
    for (int64_t entry = 0; entry < b.count; ++entry) {
      T* m = out.data<T>() + entry * n * n;
      std::copy_n(b.at<T>(0, entry), n * n, m);
      // A's lower triangle is LAPACK's upper one of A^T; its U^T read back row-major is L (and vice versa).
      const int info = lapack::potrf(lower_ ? 'U' : 'L', ni, m, ld);
      if (info > 0 && nan_on_error_) {
        std::fill_n(m, n * n, std::numeric_limits<T>::quiet_NaN());
        continue;
      }
      if (info > 0)
        fail(name(), "the matrix is not positive definite (the leading minor of order " + std::to_string(info) +
                         " is not positive)", b, entry);
      keep_triangle(m, n, lower_);
    }
  });
  outputs[0] = std::move(out);
}

std::string Cholesky::save() const {
  OpWriter out("cholesky");
  out.flag(lower_);
  out.flag(nan_on_error_);
  return out.bytes();
}

// ---- CholeskyInverse, FactorProductGrad ----

std::vector<TensorType> CholeskyInverse::output_types(const std::vector<Variable>& inputs) const {
  return matrix_types(inputs, 2, {compute_dtype(inputs)}, true);
}

void CholeskyInverse::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  check_square(name(), inputs, 0);
  const int64_t n = inputs[0].shape(-1);
  if (inputs[1].shape(-1) != n)
    throw ShapeError("[" + name() + "] " + std::to_string(inputs[1].shape(-1)) + " weights for " + inputs[0].shape_dtype_str());
  const Batches b = batches(*this, node, inputs, node.output(0).dtype());
  const int ni = lapack_int(n, name()), ld = std::max(1, ni);
  Array out = Array::empty(with_core(b.shape, {n, n}), node.output(0).dtype());
  dispatch_real(out.dtype(), [&]<class T>() {
    std::vector<T> scaled(n * n);
    for (int64_t entry = 0; entry < b.count; ++entry) {
      T* s = out.data<T>() + entry * n * n;
      const T *l = b.at<T>(0, entry), *w = b.at<T>(1, entry);
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) s[i * n + j] = j <= i ? l[i * n + j] : T(0);
      // The row-major lower L is LAPACK's upper U = L^T, and L L^T = U^T U.
      const bool equal = std::all_of(w, w + n, [&](T x) { return x == w[0]; });
      const int info = equal ? lapack::potri('U', ni, s, ld) : lapack::trtri('U', ni, s, ld);
      if (info > 0) {  // (a zero on L's diagonal: no inverse)
        std::fill_n(s, n * n, std::numeric_limits<T>::quiet_NaN());
        continue;
      }
      if (equal) {
        // LAPACK's upper triangle of (U^T U)^-1 is the row-major lower one: mirrored and scaled.
        for (int64_t i = 0; i < n; ++i)
          for (int64_t j = 0; j <= i; ++j) s[i * n + j] = s[j * n + i] = s[i * n + j] * w[0];
        continue;
      }
      // U^-1 read row-major is L^-1 (lower): the result is L^-T (diag(w) L^-1).
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) scaled[i * n + j] = w[i] * s[i * n + j];
      const LapackThreads threads;
      if constexpr (std::is_same_v<T, float>)
        cblas_strmm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, ni, ni, 1.0f, s, ld, scaled.data(), ld);
      else
        cblas_dtrmm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit, ni, ni, 1.0, s, ld, scaled.data(), ld);
      std::copy(scaled.begin(), scaled.end(), s);
    }
  });
  outputs[0] = std::move(out);
}

std::string CholeskyInverse::save() const { return OpWriter("cholesky_inverse").bytes(); }

std::vector<TensorType> FactorProductGrad::output_types(const std::vector<Variable>& inputs) const {
  return matrix_types(inputs, 3, {compute_dtype(inputs)}, true);
}

void FactorProductGrad::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  check_square(name(), inputs, 0);
  const int64_t n = inputs[0].shape(-1), k = vector_rhs_ ? 1 : inputs[1].shape(-1);
  for (int i : {1, 2})
    if (inputs[i].shape(vector_rhs_ ? -1 : -2) != n || (!vector_rhs_ && inputs[i].shape(-1) != k))
      throw ShapeError("[" + name() + "] the inputs " + shapes_str(inputs) + " do not fit");
  const Batches b = batches(*this, node, inputs, node.output(0).dtype());
  lapack_int(n, name());  // (within BLAS's int sizes, or a ValueError)
  lapack_int(k, name());
  Array out = Array::empty(with_core(b.shape, {n, n}), node.output(0).dtype());
  dispatch_real(out.dtype(), [&]<class T>() {
    std::vector<T> c(n * n), p(n * k), q(n * k);
    for (int64_t entry = 0; entry < b.count; ++entry) {
      T* r = out.data<T>() + entry * n * n;
      if (k == 0) {  // (no right-hand sides: no product, and BLAS wants leading dimensions of at least 1)
        std::fill_n(r, n * n, T(0));
        continue;
      }
      const T *u = b.at<T>(1, entry), *v = b.at<T>(2, entry);
      std::copy_n(b.at<T>(0, entry), n * n, c.data());
      keep_triangle(c.data(), n, lower_);
      if (lower_) {  // -(u (c^T v)^T + v (c^T u)^T)
        gemm_row_major<T>(true, false, n, k, n, 1, c.data(), v, 0, p.data());
        gemm_row_major<T>(true, false, n, k, n, 1, c.data(), u, 0, q.data());
        gemm_row_major<T>(false, true, n, n, k, -1, u, p.data(), 0, r);
        gemm_row_major<T>(false, true, n, n, k, -1, v, q.data(), 1, r);
      } else {  // -((c u) v^T + (c v) u^T)
        gemm_row_major<T>(false, false, n, k, n, 1, c.data(), u, 0, p.data());
        gemm_row_major<T>(false, false, n, k, n, 1, c.data(), v, 0, q.data());
        gemm_row_major<T>(false, true, n, n, k, -1, p.data(), v, 0, r);
        gemm_row_major<T>(false, true, n, n, k, -1, q.data(), u, 1, r);
      }
      keep_triangle(r, n, lower_);
    }
  });
  outputs[0] = std::move(out);
}

std::string FactorProductGrad::save() const {
  OpWriter out("factor_product_grad");
  out.flag(lower_);
  out.flag(vector_rhs_);
  return out.bytes();
}

// ---- Solve ----

std::string Solve::props() const {
  static const char* names[] = {"general", "symmetric", "positive_definite", "lower_triangular", "upper_triangular",
                                "cholesky_factor"};
  std::string text = names[static_cast<int>(options_.structure)];
  const MatrixStructure s = options_.structure;
  if (s == MatrixStructure::Symmetric || s == MatrixStructure::PositiveDefinite || s == MatrixStructure::CholeskyFactor)
    text += options_.lower ? ", lower" : ", upper";
  if (options_.transposed) text += ", transposed";
  if (options_.unit_diagonal) text += ", unit_diagonal";
  return text;
}

std::vector<TensorType> Solve::output_types(const std::vector<Variable>& inputs) const {
  std::vector<TensorType> types = matrix_types(inputs, factored_ ? 3 : 2, {compute_dtype(inputs)}, true);
  const Variable& rhs = inputs.back();
  const int64_t n = square_core(inputs[0])[0], rows = rhs.type().shape[rhs.ndim() - (vector_rhs_ ? 1 : 2)];
  if (known(n) && known(rows) && n != rows)
    throw ShapeError("[solve] a " + inputs[0].type().str() + " and b " + rhs.type().str() +
                     " do not fit: a has " + std::to_string(n) + " rows, b " + std::to_string(rows));
  return types;
}
std::vector<std::vector<int64_t>> Solve::core_output_shapes(const std::vector<Variable>& inputs) const {
  const std::vector<int64_t>& b = inputs.back().type().shape;
  const int64_t n = square_core(inputs[0])[0];
  if (vector_rhs_) return {{known(n) ? n : b.back()}};
  return {{known(n) ? n : b[b.size() - 2], b.back()}};
}
std::vector<std::vector<Variable>> Solve::core_output_shapes(const Apply&, const std::vector<std::vector<Variable>>& cores) const {
  return {cores.back()};
}

namespace {

// b (n x k, row-major) <- op(t)^-1 b for the triangle of the row-major n x n matrix t (BLAS's trsm, which
// takes row-major operands: no transposed copies).
template <class T> void triangular_solve(const T* t, int n, int k, T* b, bool lower, bool transpose, bool unit) {
  if (n == 0 || k == 0) return;
  const CBLAS_UPLO uplo = lower ? CblasLower : CblasUpper;
  const CBLAS_TRANSPOSE trans = transpose ? CblasTrans : CblasNoTrans;
  const CBLAS_DIAG diag = unit ? CblasUnit : CblasNonUnit;
  const LapackThreads threads;
  if constexpr (std::is_same_v<T, float>) cblas_strsm(CblasRowMajor, CblasLeft, uplo, trans, diag, n, k, 1.0f, t, n, b, k);
  else cblas_dtrsm(CblasRowMajor, CblasLeft, uplo, trans, diag, n, k, 1.0, t, n, b, k);
}

// Row i of the row-major b (k columns) exchanged with row pivots[i] - 1, for i ascending or descending.
template <class T> void swap_rows(T* b, int64_t k, const std::vector<int>& pivots, int n, bool ascending) {
  for (int step = 0; step < n; ++step) {
    const int i = ascending ? step : n - 1 - step, j = pivots[i] - 1;
    if (j != i) std::swap_ranges(b + i * k, b + (i + 1) * k, b + j * k);
  }
}

}  // namespace

void Solve::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  check_square(name(), inputs, 0);
  const Array &a = inputs[0], &rhs = inputs.back();
  const int64_t n = a.shape(-1), rows = rhs.shape(vector_rhs_ ? -1 : -2), k = vector_rhs_ ? 1 : rhs.shape(-1);
  if (rows != n)
    throw ShapeError("[solve] a " + a.shape_dtype_str() + " and b " + rhs.shape_dtype_str() + " do not fit: a has " +
                     std::to_string(n) + " rows, b " + std::to_string(rows));
  const size_t rhs_input = inputs.size() - 1;
  const Batches b = batches(*this, node, inputs, node.output(0).dtype());
  const int ni = lapack_int(n, name()), ki = lapack_int(k, name()), ld = std::max(1, ni);
  Array out = Array::empty(vector_rhs_ ? with_core(b.shape, {n}) : with_core(b.shape, {n, k}), node.output(0).dtype());
  const MatrixStructure structure = options_.structure;
  const bool lower = options_.lower, transposed = options_.transposed;
  // Row-major a is a^T to LAPACK: its lower triangle is LAPACK's upper one. The right-hand sides stay
  // row-major: the factors are applied with row-major trsm.
  const char triangle = lower ? 'U' : 'L';
  dispatch_real(out.dtype(), [&]<class T>() {
    std::vector<T> factor(structure == MatrixStructure::LowerTriangular || structure == MatrixStructure::UpperTriangular ||
                                  structure == MatrixStructure::CholeskyFactor || factored_
                              ? 0
                              : n * n);
    std::vector<T> column_major(structure == MatrixStructure::Symmetric ? n * k : 0);
    std::vector<int> pivots(std::max<int64_t>(1, n));
    std::vector<T> work(1);
    if (structure == MatrixStructure::Symmetric) {
      T query;
      lapack::sysv(triangle, ni, ki, nullptr, ld, nullptr, nullptr, ld, &query, -1);
      work.resize(workspace(query));
    }
    for (int64_t entry = 0; entry < b.count; ++entry) {
      const T* matrix = b.at<T>(0, entry);
      T* x = out.data<T>() + entry * n * k;
      std::copy_n(b.at<T>(rhs_input, entry), n * k, x);
      if (!factor.empty()) std::copy_n(matrix, n * n, factor.data());
      switch (structure) {
        case MatrixStructure::General: {
          // LAPACK factors a^T = P L U; row-major, its array holds U^T below the diagonal and L^T above.
          const T* lu = factored_ ? matrix : factor.data();
          if (factored_) {
            b.pivots(entry, n, pivots, name());
            if (lu_singular(lu, n)) fail(name(), "singular matrix", b, entry);
          } else if (lapack::getrf(ni, ni, factor.data(), ld, pivots.data()) > 0) {
            fail(name(), "singular matrix", b, entry);
          }
          if (!transposed) {  // a = U^T L^T P^T
            triangular_solve(lu, ni, ki, x, true, false, false);
            triangular_solve(lu, ni, ki, x, false, false, true);
            swap_rows(x, k, pivots, ni, false);
          } else {  // a^T = P L U
            swap_rows(x, k, pivots, ni, true);
            triangular_solve(lu, ni, ki, x, false, true, true);
            triangular_solve(lu, ni, ki, x, true, true, false);
          }
          break;
        }
        case MatrixStructure::Symmetric: {
          to_column_major(x, n, k, column_major.data());
          const int info = lapack::sysv(triangle, ni, ki, factor.data(), ld, pivots.data(), column_major.data(), ld,
                                        work.data(), static_cast<int>(work.size()));
          if (info > 0) fail(name(), "singular matrix", b, entry);
          from_column_major(column_major.data(), n, k, x);
          break;
        }
        case MatrixStructure::PositiveDefinite:
          // Row-major, the factor is L with a = L L^T (lower) or U with a = U^T U (upper).
          if (lapack::potrf(triangle, ni, factor.data(), ld) > 0) fail(name(), "the matrix is not positive definite", b, entry);
          triangular_solve(factor.data(), ni, ki, x, lower, !lower, false);
          triangular_solve(factor.data(), ni, ki, x, lower, lower, false);
          break;
        case MatrixStructure::CholeskyFactor:
          triangular_solve(matrix, ni, ki, x, lower, !lower, false);
          triangular_solve(matrix, ni, ki, x, lower, lower, false);
          break;
        case MatrixStructure::LowerTriangular:
        case MatrixStructure::UpperTriangular: {
          const bool is_lower = structure == MatrixStructure::LowerTriangular;
          if (!options_.unit_diagonal)
            for (int64_t i = 0; i < n; ++i)
              if (matrix[i * n + i] == T(0))
                fail(name(), "singular matrix: a zero on the diagonal at " + std::to_string(i), b, entry);
          triangular_solve(matrix, ni, ki, x, is_lower, transposed, options_.unit_diagonal);
          break;
        }
      }
    }
  });
  outputs[0] = std::move(out);
}

std::string Solve::save() const {
  OpWriter out("solve");
  out.integers({static_cast<int>(options_.structure), options_.lower, options_.transposed, options_.unit_diagonal, vector_rhs_,
                factored_});
  return out.bytes();
}

// ---- Eigh ----

std::vector<TensorType> Eigh::output_types(const std::vector<Variable>& inputs) const {
  if (inputs.empty() || inputs.size() > 2) throw TypeError("[" + name() + "] takes a matrix, or a pencil (a, b)");
  std::vector<TensorType> types =
      matrix_types(inputs, inputs.size(), std::vector<DType>(vectors_ ? 2 : 1, compute_dtype(inputs)), true);
  if (inputs.size() == 2) check_static_square(name(), inputs[1]);
  return types;
}
std::vector<std::vector<int64_t>> Eigh::core_output_shapes(const std::vector<Variable>& inputs) const {
  const int64_t n = square_core(inputs[0])[0];
  if (!vectors_) return {{n}};
  return {{n}, {n, n}};
}
std::vector<std::vector<Variable>> Eigh::core_output_shapes(const Apply&, const std::vector<std::vector<Variable>>& cores) const {
  if (!vectors_) return {{cores[0][0]}};
  return {{cores[0][0]}, cores[0]};
}

void Eigh::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  for (int i = 0; i < static_cast<int>(inputs.size()); ++i) check_square(name(), inputs, i);
  const bool pencil = inputs.size() == 2;
  const int64_t n = inputs[0].shape(-1);
  if (pencil && inputs[1].shape(-1) != n)
    throw ShapeError("[" + name() + "] a " + inputs[0].shape_dtype_str() + " and b " + inputs[1].shape_dtype_str() +
                     " differ in size");
  const Batches b = batches(*this, node, inputs, node.output(0).dtype());
  const int ni = lapack_int(n, name()), ld = std::max(1, ni);
  const DType dtype = node.output(0).dtype();
  Array values = Array::empty(with_core(b.shape, {n}), dtype);
  Array vectors = vectors_ ? Array::empty(with_core(b.shape, {n, n}), dtype) : Array();
  const char job = vectors_ ? 'V' : 'N', triangle = lower_ ? 'U' : 'L';  // (row-major lower = LAPACK's upper)
  dispatch_real(dtype, [&]<class T>() {
    std::vector<T> m(n * n), pencil_b(pencil ? n * n : 0);
    T query;
    int iquery;
    if (pencil) lapack::sygvd(1, job, triangle, ni, nullptr, ld, nullptr, ld, nullptr, &query, -1, &iquery, -1);
    else lapack::syevd(job, triangle, ni, nullptr, ld, nullptr, &query, -1, &iquery, -1);
    std::vector<T> work(workspace(query));
    std::vector<int> iwork(std::max(1, iquery));
    for (int64_t entry = 0; entry < b.count; ++entry) {
      std::copy_n(b.at<T>(0, entry), n * n, m.data());
      if (!all_finite(m.data(), n * n)) fail(name(), "the matrix holds NaN or inf", b, entry);
      T* w = values.data<T>() + entry * n;
      int info;
      if (pencil) {
        std::copy_n(b.at<T>(1, entry), n * n, pencil_b.data());
        // The pencil's b reads the same triangle as a.
        info = checked(lapack::sygvd(1, job, triangle, ni, m.data(), ld, pencil_b.data(), ld, w, work.data(),
                                     static_cast<int>(work.size()), iwork.data(), static_cast<int>(iwork.size())), "sygvd");
        if (info > ni) fail(name(), "b is not positive definite", b, entry);
      } else {
        info = checked(lapack::syevd(job, triangle, ni, m.data(), ld, w, work.data(), static_cast<int>(work.size()),
                                     iwork.data(), static_cast<int>(iwork.size())), "syevd");
      }
      if (info > 0) fail(name(), "the eigenvalues did not converge", b, entry);
      // LAPACK's eigenvectors are its columns, so m read row-major holds them as rows.
      if (vectors_) from_column_major(m.data(), n, n, vectors.data<T>() + entry * n * n);
    }
  });
  outputs[0] = std::move(values);
  if (vectors_) outputs[1] = std::move(vectors);
}

std::string Eigh::save() const {
  OpWriter out("eigh");
  out.flag(lower_);
  out.flag(vectors_);
  return out.bytes();
}

// ---- Eig ----

std::vector<TensorType> Eig::output_types(const std::vector<Variable>& inputs) const {
  const DType dtype = complex_dtype(compute_dtype(inputs));
  return matrix_types(inputs, 1, {dtype, dtype}, true);
}
std::vector<std::vector<int64_t>> Eig::core_output_shapes(const std::vector<Variable>& inputs) const {
  const int64_t n = square_core(inputs[0])[0];
  return {{n}, {n, n}};
}
std::vector<std::vector<Variable>> Eig::core_output_shapes(const Apply&, const std::vector<std::vector<Variable>>& cores) const {
  return {{cores[0][0]}, cores[0]};
}

void Eig::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  check_square(name(), inputs, 0);
  const DType dtype = real_dtype(node.output(0).dtype());
  const Batches b = batches(*this, node, inputs, dtype);
  const int64_t n = inputs[0].shape(-1);
  const int ni = lapack_int(n, name()), ld = std::max(1, ni);
  Array values = Array::empty(with_core(b.shape, {n}), node.output(0).dtype());
  Array vectors = Array::empty(with_core(b.shape, {n, n}), node.output(0).dtype());
  dispatch_real(dtype, [&]<class T>() {
    std::vector<T> m(n * n), wr(n), wi(n), vr(n * n);
    T query;
    lapack::geev('N', 'V', ni, nullptr, ld, nullptr, nullptr, nullptr, 1, nullptr, ld, &query, -1);
    std::vector<T> work(workspace(query));
    for (int64_t entry = 0; entry < b.count; ++entry) {
      to_column_major(b.at<T>(0, entry), n, n, m.data());
      if (!all_finite(m.data(), n * n)) fail(name(), "the matrix holds NaN or inf", b, entry);
      if (lapack::geev('N', 'V', ni, m.data(), ld, wr.data(), wi.data(), nullptr, 1, vr.data(), ld, work.data(),
                       static_cast<int>(work.size())) > 0)
        fail(name(), "the eigenvalues did not converge", b, entry);
      std::complex<T>* w = values.data<std::complex<T>>() + entry * n;
      std::complex<T>* v = vectors.data<std::complex<T>>() + entry * n * n;
      for (int64_t j = 0; j < n; ++j) {
        w[j] = {wr[j], wi[j]};
        // A complex pair's vectors are columns j (real part) and j + 1 (imaginary part), conjugates.
        // (LAPACK lists each pair's eigenvalue with the positive imaginary part first.)
        const bool pair_first = wi[j] > 0 && j + 1 < n;
        for (int64_t i = 0; i < n; ++i) {
          if (wi[j] == 0) v[i * n + j] = {vr[i + j * n], 0};
          else if (pair_first) v[i * n + j] = {vr[i + j * n], vr[i + (j + 1) * n]};
          else v[i * n + j] = {vr[i + (j - 1) * n], -vr[i + j * n]};
        }
      }
    }
  });
  outputs[0] = std::move(values);
  outputs[1] = std::move(vectors);
}

std::vector<Variable> Eig::grad(const Apply& node, const std::vector<Variable>&) const {
  throw NotImplementedError("[eig] has no gradient (as in Theano); eigh has one for symmetric matrices, input " +
                            node.input(0).type().str());
}

std::string Eig::save() const { return OpWriter("eig").bytes(); }

// ---- Svd ----

std::string Svd::props() const {
  return std::string(full_matrices_ ? "full_matrices" : "reduced") + (uv_ ? ", compute_uv" : "");
}

std::vector<TensorType> Svd::output_types(const std::vector<Variable>& inputs) const {
  const DType dtype = compute_dtype(inputs);
  return matrix_types(inputs, 1, std::vector<DType>(uv_ ? 3 : 1, dtype), false);
}
std::vector<std::vector<int64_t>> Svd::core_output_shapes(const std::vector<Variable>& inputs) const {
  const std::vector<int64_t>& s = inputs[0].type().shape;
  const int64_t m = s[s.size() - 2], n = s.back(), k = known_min(m, n);
  if (!uv_) return {{k}};
  return {{m, full_matrices_ ? m : k}, {k}, {full_matrices_ ? n : k, n}};
}
std::vector<std::vector<Variable>> Svd::core_output_shapes(const Apply&, const std::vector<std::vector<Variable>>& cores) const {
  const Variable &m = cores[0][0], &n = cores[0][1], k = minimum(m, n);
  if (!uv_) return {{k}};
  return {{m, full_matrices_ ? m : k}, {k}, {full_matrices_ ? n : k, n}};
}

namespace {

// The SVD of a row-major (m, n) matrix into row-major u (m, ucols) and vt (vrows, n). It goes through
// column-major copies rather than LAPACK's transposed view (A^T = V S U^T), whose singular vectors may
// differ from NumPy's in sign.
template <class T>
int row_major_svd(const T* a, int m, int n, T* s, T* u, int ucols, T* vt, int vrows, char job, std::vector<T>& work,
                  std::vector<int>& iwork) {
  if (m == 0 || n == 0) {
    // No singular values; NumPy's full factors are then identities.
    if (job == 'A') {
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < m; ++j) u[i * m + j] = T(i == j);
      for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) vt[i * n + j] = T(i == j);
    }
    return 0;
  }
  std::vector<T> column_major(static_cast<size_t>(m) * n), uc(job == 'N' ? 1 : static_cast<size_t>(m) * ucols),
      vc(job == 'N' ? 1 : static_cast<size_t>(vrows) * n);
  to_column_major(a, m, n, column_major.data());
  T query;
  const int lda = std::max(1, m), ldu = std::max(1, m), ldvt = std::max(1, vrows);
  lapack::gesdd(job, m, n, column_major.data(), lda, s, uc.data(), ldu, vc.data(), ldvt, &query, -1, iwork.data());
  if (static_cast<int>(work.size()) < workspace(query)) work.resize(workspace(query));
  const int info = checked(lapack::gesdd(job, m, n, column_major.data(), lda, s, uc.data(), ldu, vc.data(), ldvt, work.data(),
                                         static_cast<int>(work.size()), iwork.data()), "gesdd");
  if (job != 'N') {
    from_column_major(uc.data(), m, ucols, u);
    from_column_major(vc.data(), vrows, n, vt);
  }
  return info;
}

}  // namespace

void Svd::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const DType dtype = node.output(0).dtype();
  const Batches b = batches(*this, node, inputs, dtype);
  const int64_t m = inputs[0].shape(-2), n = inputs[0].shape(-1), k = std::min(m, n);
  const int mi = lapack_int(m, name()), ni = lapack_int(n, name());
  const int64_t ucols = full_matrices_ ? m : k, vrows = full_matrices_ ? n : k;
  Array u = uv_ ? Array::empty(with_core(b.shape, {m, ucols}), dtype) : Array();
  Array s = Array::empty(with_core(b.shape, {k}), dtype);
  Array vt = uv_ ? Array::empty(with_core(b.shape, {vrows, n}), dtype) : Array();
  const char job = !uv_ ? 'N' : full_matrices_ ? 'A' : 'S';
  dispatch_real(dtype, [&]<class T>() {
    std::vector<T> a(m * n), work;
    std::vector<int> iwork(std::max<int64_t>(1, 8 * k));
    T dummy[1];
    for (int64_t entry = 0; entry < b.count; ++entry) {
      std::copy_n(b.at<T>(0, entry), m * n, a.data());
      if (!all_finite(a.data(), m * n)) fail(name(), "SVD did not converge: the matrix holds NaN or inf", b, entry);
      T* uu = uv_ ? u.data<T>() + entry * m * ucols : dummy;
      T* vv = uv_ ? vt.data<T>() + entry * vrows * n : dummy;
      if (row_major_svd(a.data(), mi, ni, s.data<T>() + entry * k, uu, static_cast<int>(ucols), vv, static_cast<int>(vrows), job,
                        work, iwork) > 0)
        fail(name(), "SVD did not converge", b, entry);
    }
  });
  if (uv_) {
    outputs[0] = std::move(u);
    outputs[1] = std::move(s);
    outputs[2] = std::move(vt);
  } else {
    outputs[0] = std::move(s);
  }
}

std::string Svd::save() const {
  OpWriter out("svd");
  out.flag(full_matrices_);
  out.flag(uv_);
  return out.bytes();
}

// ---- Qr ----

std::string Qr::props() const {
  static const char* names[] = {"reduced", "complete", "r", "raw"};
  return std::string("mode=") + names[static_cast<int>(mode_)];
}

std::vector<TensorType> Qr::output_types(const std::vector<Variable>& inputs) const {
  const DType dtype = compute_dtype(inputs);
  return matrix_types(inputs, 1, std::vector<DType>(mode_ == QrMode::R ? 1 : 2, dtype), false);
}
std::vector<std::vector<int64_t>> Qr::core_output_shapes(const std::vector<Variable>& inputs) const {
  const std::vector<int64_t>& s = inputs[0].type().shape;
  const int64_t m = s[s.size() - 2], n = s.back(), k = known_min(m, n);
  switch (mode_) {
    case QrMode::Reduced: return {{m, k}, {k, n}};
    case QrMode::Complete: return {{m, m}, {m, n}};
    case QrMode::R: return {{k, n}};
    case QrMode::Raw: return {{n, m}, {k}};
  }
  return {};
}
std::vector<std::vector<Variable>> Qr::core_output_shapes(const Apply&, const std::vector<std::vector<Variable>>& cores) const {
  const Variable &m = cores[0][0], &n = cores[0][1], k = minimum(m, n);
  switch (mode_) {
    case QrMode::Reduced: return {{m, k}, {k, n}};
    case QrMode::Complete: return {{m, m}, {m, n}};
    case QrMode::R: return {{k, n}};
    case QrMode::Raw: return {{n, m}, {k}};
  }
  return {};
}

void Qr::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const DType dtype = node.output(0).dtype();
  const Batches b = batches(*this, node, inputs, dtype);
  const int64_t m = inputs[0].shape(-2), n = inputs[0].shape(-1), k = std::min(m, n);
  const int mi = lapack_int(m, name()), ni = lapack_int(n, name()), ki = static_cast<int>(k), ld = std::max(1, mi);
  const int64_t q_cols = mode_ == QrMode::Complete ? m : k, r_rows = mode_ == QrMode::Complete ? m : k;
  Array q, r, h, tau;
  if (mode_ == QrMode::Raw) {
    h = Array::empty(with_core(b.shape, {n, m}), dtype);
    tau = Array::empty(with_core(b.shape, {k}), dtype);
  } else {
    if (mode_ != QrMode::R) q = Array::empty(with_core(b.shape, {m, q_cols}), dtype);
    r = Array::empty(with_core(b.shape, {r_rows, n}), dtype);
  }
  dispatch_real(dtype, [&]<class T>() {
    // Column-major, with room for complete's m columns of q.
    std::vector<T> a(m * std::max(n, q_cols)), reflectors(std::max<int64_t>(1, k));
    T query;
    lapack::geqrf(mi, ni, nullptr, ld, nullptr, &query, -1);
    int size = workspace(query);
    if (mode_ == QrMode::Reduced || mode_ == QrMode::Complete) {
      lapack::orgqr(mi, static_cast<int>(q_cols), ki, nullptr, ld, nullptr, &query, -1);
      size = std::max(size, workspace(query));
    }
    std::vector<T> work(size);
    for (int64_t entry = 0; entry < b.count; ++entry) {
      to_column_major(b.at<T>(0, entry), m, n, a.data());
      T* t = mode_ == QrMode::Raw ? tau.data<T>() + entry * k : reflectors.data();
      checked(lapack::geqrf(mi, ni, a.data(), ld, t, work.data(), static_cast<int>(work.size())), "geqrf");
      if (mode_ == QrMode::Raw) {
        std::copy_n(a.data(), m * n, h.data<T>() + entry * n * m);  // (NumPy's h: LAPACK's array read row-major)
        continue;
      }
      T* rr = r.data<T>() + entry * r_rows * n;
      for (int64_t i = 0; i < r_rows; ++i)
        for (int64_t j = 0; j < n; ++j) rr[i * n + j] = j >= i ? a[i + j * m] : T(0);
      if (mode_ == QrMode::R) continue;
      checked(lapack::orgqr(mi, static_cast<int>(q_cols), ki, a.data(), ld, t, work.data(), static_cast<int>(work.size())), "orgqr");
      from_column_major(a.data(), m, q_cols, q.data<T>() + entry * m * q_cols);
    }
  });
  switch (mode_) {
    case QrMode::Reduced:
    case QrMode::Complete:
      outputs[0] = std::move(q);
      outputs[1] = std::move(r);
      break;
    case QrMode::R: outputs[0] = std::move(r); break;
    case QrMode::Raw:
      outputs[0] = std::move(h);
      outputs[1] = std::move(tau);
      break;
  }
}

std::string Qr::save() const {
  OpWriter out("qr");
  out.integer(static_cast<int>(mode_));
  return out.bytes();
}

// ---- Pinv ----

std::string Pinv::props() const {
  char text[40];
  std::snprintf(text, sizeof text, "rcond=%g", rcond_);
  return text;
}

std::vector<TensorType> Pinv::output_types(const std::vector<Variable>& inputs) const {
  const DType dtype = compute_dtype(inputs);
  return matrix_types(inputs, 1, {dtype}, false);
}
std::vector<std::vector<int64_t>> Pinv::core_output_shapes(const std::vector<Variable>& inputs) const {
  const std::vector<int64_t>& s = inputs[0].type().shape;
  return {{s.back(), s[s.size() - 2]}};
}
std::vector<std::vector<Variable>> Pinv::core_output_shapes(const Apply&, const std::vector<std::vector<Variable>>& cores) const {
  return {{cores[0][1], cores[0][0]}};
}

void Pinv::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const DType dtype = node.output(0).dtype();
  const Batches b = batches(*this, node, inputs, dtype);
  const int64_t m = inputs[0].shape(-2), n = inputs[0].shape(-1), k = std::min(m, n);
  const int mi = lapack_int(m, name()), ni = lapack_int(n, name());
  Array out = Array::zeros(with_core(b.shape, {n, m}), dtype);
  dispatch_real(dtype, [&]<class T>() {
    std::vector<T> a(m * n), s(std::max<int64_t>(1, k)), work;
    std::vector<int> iwork(std::max<int64_t>(1, 8 * k));
    Array u = Array::empty({m, k}, dtype), vt = Array::empty({k, n}, dtype);
    for (int64_t entry = 0; entry < b.count; ++entry) {
      if (k == 0) continue;
      std::copy_n(b.at<T>(0, entry), m * n, a.data());
      if (!all_finite(a.data(), m * n)) fail(name(), "SVD did not converge: the matrix holds NaN or inf", b, entry);
      if (row_major_svd(a.data(), mi, ni, s.data(), u.data<T>(), static_cast<int>(k), vt.data<T>(), static_cast<int>(k), 'S',
                        work, iwork) > 0)
        fail(name(), "SVD did not converge", b, entry);
      // pinv = V diag(1/s) U^T over the singular values above rcond * max(s) (NumPy's cutoff).
      const T cutoff = static_cast<T>(rcond_) * s[0];
      T* scaled = vt.data<T>();
      for (int64_t l = 0; l < k; ++l) {
        const T factor = s[l] > cutoff ? T(1) / s[l] : T(0);
        for (int64_t j = 0; j < n; ++j) scaled[l * n + j] *= factor;
      }
      Array target = Array::empty({n, m}, dtype);
      matrix_product(vt.transpose(), u.transpose(), target);
      std::copy_n(target.data<T>(), n * m, out.data<T>() + entry * n * m);
    }
  });
  outputs[0] = std::move(out);
}

std::string Pinv::save() const {
  OpWriter out("pinv");
  out.real(rcond_);
  return out.bytes();
}

// ---- Lstsq ----

std::vector<TensorType> Lstsq::output_types(const std::vector<Variable>& inputs) const {
  if (inputs.size() != 3) throw TypeError("[lstsq] takes a, b and rcond");
  const Variable &a = inputs[0], &rhs = inputs[1], &rcond = inputs[2];
  if (a.ndim() != 2 || rhs.ndim() != (vector_rhs_ ? 1 : 2) || rcond.ndim() != 0)
    throw ValueError("[lstsq] takes a matrix a, a vector or matrix b and a scalar rcond, got " + shapes_str(inputs));
  if (!is_float(rcond.dtype()) && !is_integer(rcond.dtype()))
    throw TypeError("[lstsq] rcond must be a real number, got " + rcond.type().str());
  const DType dtype = compute_dtype(inputs);
  const int64_t m = a.type().shape[0], n = a.type().shape[1], rows = rhs.type().shape[0];
  if (known(m) && known(rows) && m != rows)
    throw ShapeError("[lstsq] a " + a.type().str() + " and b " + rhs.type().str() + " do not fit: " + std::to_string(m) +
                     " rows against " + std::to_string(rows));
  std::vector<int64_t> x_shape{n};
  if (!vector_rhs_) x_shape.push_back(rhs.type().shape[1]);
  return {TensorType(dtype, x_shape), TensorType(dtype, {TensorType::kUnknown}), TensorType(DType::Int64, {}),
          TensorType(dtype, {known_min(m, n)})};
}
std::vector<std::vector<int64_t>> Lstsq::core_output_shapes(const std::vector<Variable>&) const { return {}; }
std::vector<std::vector<Variable>> Lstsq::core_output_shapes(const Apply&, const std::vector<std::vector<Variable>>&) const {
  return {};
}
std::vector<std::vector<Variable>> Lstsq::infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const {
  // The residuals' length depends on the rank: not known before the call.
  std::vector<Variable> x{shapes[0][1]};
  if (!vector_rhs_) x.push_back(shapes[1][1]);
  return {x, {shape_i(node.output(1), 0)}, {}, {minimum(shapes[0][0], shapes[0][1])}};
}

void Lstsq::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const DType dtype = node.output(0).dtype();
  const Array a = inputs[0].astype(dtype).contiguous(), rhs = inputs[1].astype(dtype).contiguous();
  const int64_t m = a.shape(0), n = a.shape(1), k = vector_rhs_ ? 1 : rhs.shape(1), rank_limit = std::min(m, n);
  if (rhs.shape(0) != m)
    throw ShapeError("[lstsq] a " + a.shape_dtype_str() + " and b " + rhs.shape_dtype_str() + " do not fit");
  const int mi = lapack_int(m, name()), ni = lapack_int(n, name()), ki = lapack_int(k, name());
  const int64_t ldb = std::max<int64_t>({1, m, n});
  Array x = Array::empty(vector_rhs_ ? Shape{n} : Shape{n, k}, dtype), s = Array::empty({rank_limit}, dtype), residuals;
  int rank = 0;
  dispatch_real(dtype, [&]<class T>() {
    std::vector<T> am(m * n), bm(ldb * std::max<int64_t>(k, 1), T(0));  // (no right-hand side: one of zeros, for rank and s)
    to_column_major(a.data<T>(), m, n, am.data());
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < k; ++j) bm[i + j * ldb] = rhs.data<T>()[i * k + j];
    if (!all_finite(am.data(), m * n) || !all_finite(bm.data(), ldb * k))
      throw LinAlgError("[lstsq] SVD did not converge: a or b holds NaN or inf (" + a.shape_dtype_str() + ", " +
                        rhs.shape_dtype_str() + ")");
    const T rcond = static_cast<T>(inputs[2].item());
    std::vector<T> singular(std::max<int64_t>(1, rank_limit));
    T query;
    int iquery = 1;
    const int columns = std::max(ki, 1);
    lapack::gelsd(mi, ni, columns, nullptr, std::max(1, mi), nullptr, static_cast<int>(ldb), nullptr, rcond, &rank, &query, -1, &iquery);
    std::vector<T> work(workspace(query));
    std::vector<int> iwork(std::max(1, iquery));
    if (m > 0 && n > 0 &&
        checked(lapack::gelsd(mi, ni, columns, am.data(), std::max(1, mi), bm.data(), static_cast<int>(ldb), singular.data(), rcond,
                              &rank, work.data(), static_cast<int>(work.size()), iwork.data()), "gelsd") > 0)
      throw LinAlgError("[lstsq] SVD did not converge (" + a.shape_dtype_str() + ", " + rhs.shape_dtype_str() + ")");
    if (m == 0 || n == 0) std::fill(bm.begin(), bm.end(), T(0));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < k; ++j) x.data<T>()[i * k + j] = bm[i + j * ldb];
    std::copy_n(singular.data(), rank_limit, s.data<T>());
    // NumPy: the residuals' squared norms when a has full column rank and more rows than columns.
    if (rank == n && m > n) {
      residuals = Array::empty({k}, dtype);
      for (int64_t j = 0; j < k; ++j) {
        T total = 0;
        for (int64_t i = n; i < m; ++i) total += bm[i + j * ldb] * bm[i + j * ldb];
        residuals.data<T>()[j] = total;
      }
    } else {
      residuals = Array::empty({0}, dtype);
    }
  });
  outputs[0] = std::move(x);
  outputs[1] = std::move(residuals);
  outputs[2] = Array::scalar(rank, DType::Int64);
  outputs[3] = std::move(s);
}

std::string Lstsq::save() const {
  OpWriter out("lstsq");
  out.flag(vector_rhs_);
  return out.bytes();
}

// ---- Expm ----

std::vector<TensorType> Expm::output_types(const std::vector<Variable>& inputs) const {
  return matrix_types(inputs, 1, {compute_dtype(inputs)}, true);
}

namespace {

// exp(A) for one row-major n x n float64 matrix: Higham's scaling and squaring with the Pade approximant of
// the lowest degree (3, 5, 7, 9 or 13) his bounds on the 1-norm allow (SIAM J. Matrix Anal. Appl. 26, 2005).
Array matrix_exponential(const Array& a) {
  const int64_t n = a.shape(0);
  const int ni = static_cast<int>(n);
  auto product = [&](const Array& x, const Array& y) {
    Array z = Array::empty({n, n}, DType::Float64);
    matrix_product(x, y, z);
    return z;
  };
  auto combine = [&](std::initializer_list<std::pair<double, const Array*>> terms, double identity) {
    Array z = Array::zeros({n, n}, DType::Float64);
    double* out = z.data<double>();
    for (const auto& [c, x] : terms)
      for (int64_t e = 0; e < n * n; ++e) out[e] += c * x->data<double>()[e];
    for (int64_t i = 0; i < n; ++i) out[i * n + i] += identity;
    return z;
  };
  double norm1 = 0;  // the largest column sum of |A|
  for (int64_t j = 0; j < n; ++j) {
    double column = 0;
    for (int64_t i = 0; i < n; ++i) column += std::fabs(a.data<double>()[i * n + j]);
    norm1 = std::max(norm1, column);
  }
  static const double theta[] = {1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1, 2.097847961257068e0,
                                 5.371920351148152e0};
  static const double b3[] = {120., 60., 12., 1.}, b5[] = {30240., 15120., 3360., 420., 30., 1.},
                      b7[] = {17297280., 8648640., 1995840., 277200., 25200., 1512., 56., 1.},
                      b9[] = {17643225600., 8821612800., 2075673600., 302702400., 30270240., 2162160., 110880., 3960., 90., 1.};
  static const double b13[] = {64764752532480000., 32382376266240000., 7771770303897600., 1187353796428800.,
                               129060195264000.,   10559470521600.,    670442572800.,    33522128640.,
                               1323241920.,        40840800.,          960960.,          16380.,
                               182.,               1.};
  Array x = a.copy();
  int squarings = 0;
  Array u, v;
  if (norm1 <= theta[3]) {
    const Array a2 = product(x, x);
    // Degrees 3..9: U = A (sum of odd terms), V = sum of even terms, in powers of A^2.
    const double* bs[] = {b3, b5, b7, b9};
    int degree = 0;
    while (norm1 > theta[degree]) ++degree;
    const double* c = bs[degree];
    const int top = 2 * degree + 3;  // 3, 5, 7, 9
    std::vector<Array> powers{a2};   // A^2, A^4, ...
    for (int p = 4; p < top; p += 2) powers.push_back(product(powers.back(), a2));
    Array odd = Array::zeros({n, n}, DType::Float64), even = Array::zeros({n, n}, DType::Float64);
    for (int64_t i = 0; i < n; ++i) {
      odd.data<double>()[i * n + i] = c[1];
      even.data<double>()[i * n + i] = c[0];
    }
    for (size_t p = 0; p < powers.size(); ++p) {
      const double* power = powers[p].data<double>();
      for (int64_t e = 0; e < n * n; ++e) {
        odd.data<double>()[e] += c[2 * p + 3] * power[e];
        even.data<double>()[e] += c[2 * p + 2] * power[e];
      }
    }
    u = product(x, odd);
    v = std::move(even);
  } else {
    squarings = std::max(0, static_cast<int>(std::ceil(std::log2(norm1 / theta[4]))));
    if (squarings > 0) {
      const double scale = std::ldexp(1.0, -squarings);
      for (int64_t e = 0; e < n * n; ++e) x.data<double>()[e] *= scale;
    }
    const Array s2 = product(x, x), s4 = product(s2, s2), s6 = product(s4, s2);
    const Array inner_u = combine({{b13[13], &s6}, {b13[11], &s4}, {b13[9], &s2}}, 0);
    const Array u_sum = product(s6, inner_u);
    u = product(x, combine({{1, &u_sum}, {b13[7], &s6}, {b13[5], &s4}, {b13[3], &s2}}, b13[1]));
    const Array inner_v = combine({{b13[12], &s6}, {b13[10], &s4}, {b13[8], &s2}}, 0);
    const Array v_sum = product(s6, inner_v);
    v = combine({{1, &v_sum}, {b13[6], &s6}, {b13[4], &s4}, {b13[2], &s2}}, b13[0]);
  }
  // r = (V - U)^-1 (V + U); the two commute, so LAPACK's transposed view solves it as well (see the top).
  Array p = combine({{1, &v}, {-1, &u}}, 0), q = combine({{1, &v}, {1, &u}}, 0);
  std::vector<int> pivots(std::max<int64_t>(1, n));
  const int ld = std::max(1, ni);
  if (lapack::getrf(ni, ni, p.data<double>(), ld, pivots.data()) > 0)
    throw LinAlgError("[expm] the Pade denominator is singular (the matrix has NaN, inf or huge entries)");
  lapack::getrs('N', ni, ni, p.data<double>(), ld, pivots.data(), q.data<double>(), ld);
  for (int k = 0; k < squarings; ++k) q = product(q, q);
  return q;
}

}  // namespace

void Expm::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  check_square(name(), inputs, 0);
  const Batches b = batches(*this, node, inputs, DType::Float64);
  const int64_t n = inputs[0].shape(-1);
  (void)lapack_int(n, name());
  Array out = Array::empty(with_core(b.shape, {n, n}), DType::Float64);
  for (int64_t entry = 0; entry < b.count; ++entry) {
    Array one = Array::empty({n, n}, DType::Float64);
    std::copy_n(b.at<double>(0, entry), n * n, one.data<double>());
    if (!all_finite(one.data<double>(), n * n)) fail(name(), "the matrix holds NaN or inf", b, entry);
    Array result = one;
    try {
      if (n > 0) result = matrix_exponential(one);
    } catch (const LinAlgError&) {
      fail(name(), "the Pade denominator is singular (huge entries)", b, entry);
    }
    std::copy_n(result.data<double>(), n * n, out.data<double>() + entry * n * n);
  }
  outputs[0] = node.output(0).dtype() == DType::Float64 ? std::move(out) : out.astype(node.output(0).dtype());
}

std::string Expm::save() const { return OpWriter("expm").bytes(); }

void register_linalg_loaders(OpLoaders& loaders) {
  loaders["lu_factor"] = [](OpReader&) -> OpPtr { return std::make_shared<LuFactor>(); };
  loaders["matrix_inverse"] = [](OpReader& in) -> OpPtr { return std::make_shared<MatrixInverse>(in.flag()); };
  loaders["determinant"] = [](OpReader& in) -> OpPtr {
    const bool logarithm = in.flag();
    return std::make_shared<Determinant>(logarithm, in.flag());
  };
  loaders["cholesky"] = [](OpReader& in) -> OpPtr {
    const bool lower = in.flag();
    return std::make_shared<Cholesky>(lower, in.flag());
  };
  loaders["cholesky_inverse"] = [](OpReader&) -> OpPtr { return std::make_shared<CholeskyInverse>(); };
  loaders["factor_product_grad"] = [](OpReader& in) -> OpPtr {
    const bool lower = in.flag();
    return std::make_shared<FactorProductGrad>(lower, in.flag());
  };
  loaders["solve"] = [](OpReader& in) -> OpPtr {
    const std::vector<int> v = in.integers();
    if (v.size() != 6 || v[0] < 0 || v[0] > static_cast<int>(MatrixStructure::CholeskyFactor)) in.damaged("solve's options");
    SolveOptions options;
    options.structure = static_cast<MatrixStructure>(v[0]);
    options.lower = v[1] != 0;
    options.transposed = v[2] != 0;
    options.unit_diagonal = v[3] != 0;
    return std::make_shared<Solve>(options, v[4] != 0, v[5] != 0);
  };
  loaders["eigh"] = [](OpReader& in) -> OpPtr {
    const bool lower = in.flag();
    return std::make_shared<Eigh>(lower, in.flag());
  };
  loaders["eig"] = [](OpReader&) -> OpPtr { return std::make_shared<Eig>(); };
  loaders["svd"] = [](OpReader& in) -> OpPtr {
    const bool full = in.flag();
    return std::make_shared<Svd>(full, in.flag());
  };
  loaders["qr"] = [](OpReader& in) -> OpPtr { return std::make_shared<Qr>(static_cast<QrMode>(in.integer_in(0, 3, "qr mode"))); };
  loaders["pinv"] = [](OpReader& in) -> OpPtr { return std::make_shared<Pinv>(in.real()); };
  loaders["lstsq"] = [](OpReader& in) -> OpPtr { return std::make_shared<Lstsq>(in.flag()); };
  loaders["expm"] = [](OpReader&) -> OpPtr { return std::make_shared<Expm>(); };
}

}  // namespace hypatia
