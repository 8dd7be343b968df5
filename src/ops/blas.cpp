#include "ops/blas.h"

#include <cblas.h>

#include <cstring>
#include <mutex>
#include <optional>
#ifdef HYPATIA_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#include "hypatia/config.h"

#include "hypatia/blas.h"
#include "hypatia/sparse.h"
#include "hypatia/elemwise.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "ops/lapack.h"
#include "ops/op_support.h"
#include "runtime/denormals.h"
#include "scalar/scalar_math.h"
#include "ir/serialize.h"

extern "C" void openblas_set_num_threads(int threads);

namespace hypatia {

namespace {
// OpenBLAS runs on the thread that calls it, from the time libhypatia loads (see parallel_gemm): its setting
// is the process's, so other users of the same shared library see it too (NumPy's wheels bring their own).
const bool kOneBlasThread = (openblas_set_num_threads(1), true);

// LAPACK calls open on any thread; the first raises OpenBLAS's threads, the last lowers them.
std::mutex lapack_threads_mutex;
int lapack_calls_open = 0;
}  // namespace

LapackThreads::LapackThreads() : threads_(flushing_denormals() ? 1 : cpu_threads()) {
  // While flushing subnormals a call stays on its own thread: OpenBLAS's workers would not flush.
  if (threads_ <= 1) return;
  std::lock_guard<std::mutex> lock(lapack_threads_mutex);
  if (lapack_calls_open++ == 0) openblas_set_num_threads(threads_);
}

LapackThreads::~LapackThreads() {
  if (threads_ <= 1) return;
  std::lock_guard<std::mutex> lock(lapack_threads_mutex);
  if (--lapack_calls_open == 0) openblas_set_num_threads(1);
}

template <class T>
void parallel_gemm(bool trans_a, bool trans_b, int m, int n, int k, T alpha, const T* a, int lda, const T* b, int ldb,
                   T beta, T* c, int ldc) {
  const auto ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
  // Rows [row, row + rows) and columns [col, col + cols) of c.
  auto block = [&](int row, int rows, int col, int cols) {
    const T* pa = a + (trans_a ? row : int64_t{row} * lda);
    const T* pb = b + (trans_b ? int64_t{col} * ldb : col);
    T* pc = c + int64_t{row} * ldc + col;
    if constexpr (std::is_same_v<T, float>) cblas_sgemm(CblasRowMajor, ta, tb, rows, cols, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
    else cblas_dgemm(CblasRowMajor, ta, tb, rows, cols, k, alpha, pa, lda, pb, ldb, beta, pc, ldc);
  };
  const double work = static_cast<double>(m) * n * k;
  constexpr double kThreadedWork = 4e6;  // below it, a second thread did not pay on two cores
  const int threads = work < kThreadedWork ? 1 : cpu_threads();
#ifdef HYPATIA_HAVE_DNNL
  // float32 products of few rows (a recurrent step's batch: m <= 64) with outputs and depths of 64 or more
  // through oneDNN's sgemm, where it measured faster (bench/gemm_libraries.c, median us, one core): the LSTM
  // step's products 1.5-1.8x OpenBLAS, the RNN's 32x128x128 1.2x. Not the MLP's (1.07-1.1x): oneDNN compiles
  // its kernels on first use, 30 ms once per process, which the seed's step would pay in its time to first
  // result. Narrow or shallow products stay with OpenBLAS, whose calls cost less (32x128x32 0.9x,
  // 128x128x32 0.95x, 500x10x100 0.73x).
  if constexpr (std::is_same_v<T, float>) {
    if (m <= 64 && n >= 64 && k >= 64) {
      // oneDNN takes as many OpenMP threads as the caller's setting allows: Hypatia's, for this call (one for
      // small products, as below).
#ifdef _OPENMP
      const int caller_threads = omp_get_max_threads();
      omp_set_num_threads(threads);
#endif
      const dnnl_status_t status = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#ifdef _OPENMP
      omp_set_num_threads(caller_threads);
#endif
      if (status == dnnl_success) return;  // (else OpenBLAS computes it, below)
    }
  }
#endif
  // Split along the longer side of c, in blocks of 16 rows or columns.
  const bool by_rows = m >= n;
  const int length = by_rows ? m : n;
  const int parts = std::min(threads, std::max(1, length / 16));
  if (parts == 1) return block(0, m, 0, n);
#pragma omp parallel for num_threads(parts) schedule(static, 1)
  for (int part = 0; part < parts; ++part) {
    const int begin = static_cast<int>(int64_t{length} * part / parts / 16 * 16);
    const int end = part + 1 == parts ? length : static_cast<int>(int64_t{length} * (part + 1) / parts / 16 * 16);
    if (end <= begin) continue;
    if (by_rows) block(begin, end - begin, 0, n);
    else block(0, m, begin, end - begin);
  }
}

template void parallel_gemm<float>(bool, bool, int, int, int, float, const float*, int, const float*, int, float, float*, int);
template void parallel_gemm<double>(bool, bool, int, int, int, double, const double*, int, const double*, int, double, double*, int);

namespace {

std::string types_str(const Variable& x, const Variable& y) { return x.type().str() + " and " + y.type().str(); }

// How BLAS can read a 2-d array in place: transposed or not, with its leading dimension.
struct BlasView {
  CBLAS_TRANSPOSE trans;
  int ld;
};

std::optional<BlasView> blas_view(const Array& a) {
  const int64_t rows = a.shape()[0], cols = a.shape()[1];
  const int64_t s0 = a.strides()[0], s1 = a.strides()[1];
  if ((cols == 1 || s1 == 1) && (rows == 1 || s0 >= std::max<int64_t>(cols, 1)))
    return BlasView{CblasNoTrans, static_cast<int>(rows == 1 ? std::max<int64_t>(cols, 1) : s0)};
  if ((rows == 1 || s0 == 1) && (cols == 1 || s1 >= std::max<int64_t>(rows, 1)))
    return BlasView{CblasTrans, static_cast<int>(cols == 1 ? std::max<int64_t>(rows, 1) : s1)};
  return std::nullopt;
}

// A vector's step for BLAS: the stride along its only non-trivial axis (none when it runs backwards).
std::optional<int> vector_increment(const Array& v, int axis) {
  if (v.shape()[axis] == 1) return 1;
  const int64_t stride = v.strides()[axis];
  if (stride <= 0) return std::nullopt;  // BLAS reads a negative increment from the other end
  return static_cast<int>(stride);
}

// The products that are matrix-vector (one column or one row out) or outer (one deep, added to c)
// go to GEMV and GER, which do less work per element than a one-column GEMM.
template <class T>
bool gemv_or_ger(const Array& a, BlasView va, const Array& b, BlasView vb, Array& c, T alpha, T beta) {
  const int m = static_cast<int>(a.shape()[0]), k = static_cast<int>(a.shape()[1]), n = static_cast<int>(b.shape()[1]);
  auto gemv = [](CBLAS_TRANSPOSE trans, int rows, int cols, T alpha, const T* matrix, int ld, const T* x, int incx,
                 T beta, T* y, int incy) {
    if constexpr (std::is_same_v<T, float>) cblas_sgemv(CblasRowMajor, trans, rows, cols, alpha, matrix, ld, x, incx, beta, y, incy);
    else cblas_dgemv(CblasRowMajor, trans, rows, cols, alpha, matrix, ld, x, incx, beta, y, incy);
  };
  auto flip = [](CBLAS_TRANSPOSE t) { return t == CblasNoTrans ? CblasTrans : CblasNoTrans; };
  // c may be fresh memory: with beta = 0 some GEMV kernels still scale it, so NaN garbage would stay.
  if (beta == T(0) && (n == 1 || m == 1)) std::fill_n(c.data<T>(), c.size(), T(0));
  if (n == 1 && m > 1) {  // c = a @ b[:, 0]; a is stored m x k (NoTrans) or k x m (Trans)
    const auto inc = vector_increment(b, 0);
    if (!inc) return false;
    const bool plain = va.trans == CblasNoTrans;
    gemv(va.trans, plain ? m : k, plain ? k : m, alpha, a.data<T>(), va.ld, b.data<T>(), *inc, beta, c.data<T>(), 1);
    return true;
  }
  if (m == 1 && n > 1) {  // c[0, :] = b.T @ a[0, :]
    const auto inc = vector_increment(a, 1);
    if (!inc) return false;
    const bool plain = vb.trans == CblasNoTrans;
    gemv(flip(vb.trans), plain ? k : n, plain ? n : k, alpha, b.data<T>(), vb.ld, a.data<T>(), *inc, beta, c.data<T>(), 1);
    return true;
  }
  if (k == 1 && beta == T(1) && m > 1 && n > 1) {  // c += alpha * outer(a[:, 0], b[0, :])
    const auto inc_a = vector_increment(a, 0), inc_b = vector_increment(b, 1);
    if (!inc_a || !inc_b) return false;
    if constexpr (std::is_same_v<T, float>) cblas_sger(CblasRowMajor, m, n, alpha, a.data<T>(), *inc_a, b.data<T>(), *inc_b, c.data<T>(), n);
    else cblas_dger(CblasRowMajor, m, n, alpha, a.data<T>(), *inc_a, b.data<T>(), *inc_b, c.data<T>(), n);
    return true;
  }
  return false;
}

template <class T> void gemm(const Array& a, const Array& b, Array& c, T alpha = T(1), T beta = T(0)) {
  Array a_in = a, b_in = b;
  auto va = blas_view(a_in), vb = blas_view(b_in);
  if (!va) {
    a_in = a.copy();
    va = blas_view(a_in);
  }
  if (!vb) {
    b_in = b.copy();
    vb = blas_view(b_in);
  }
  const int m = static_cast<int>(a.shape()[0]), k = static_cast<int>(a.shape()[1]), n = static_cast<int>(b.shape()[1]);
  if constexpr (scalar_math::is_complex<T>) {  // CGEMM / ZGEMM take alpha and beta by address
    if constexpr (std::is_same_v<T, std::complex<float>>)
      cblas_cgemm(CblasRowMajor, va->trans, vb->trans, m, n, k, &alpha, a_in.data<T>(), va->ld, b_in.data<T>(), vb->ld, &beta,
                  c.data<T>(), std::max(n, 1));
    else
      cblas_zgemm(CblasRowMajor, va->trans, vb->trans, m, n, k, &alpha, a_in.data<T>(), va->ld, b_in.data<T>(), vb->ld, &beta,
                  c.data<T>(), std::max(n, 1));
    return;
  } else {
    if (gemv_or_ger<T>(a_in, *va, b_in, *vb, c, alpha, beta)) return;
    parallel_gemm<T>(va->trans == CblasTrans, vb->trans == CblasTrans, m, n, k, alpha, a_in.data<T>(), va->ld,
                     b_in.data<T>(), vb->ld, beta, c.data<T>(), std::max(n, 1));
  }
}

template <class T> void loop_product(const Array& a, const Array& b, Array& c) {
  const int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* pc = c.data<T>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      T acc = T(0);
      for (int64_t p = 0; p < k; ++p)
        acc = scalar_math::add(acc, scalar_math::mul(pa[i * a.strides()[0] + p * a.strides()[1]],
                                                     pb[p * b.strides()[0] + j * b.strides()[1]]));
      pc[i * n + j] = acc;
    }
}

// Views a vector as a 1 x n or n x 1 matrix without copying.
Array as_row(const Array& v) { return v.expand_dims(0); }
Array as_column(const Array& v) { return v.expand_dims(1); }

void check_aligned(const Array& x, const Array& y, int64_t kx, int64_t ky, const char* op) {
  if (kx != ky)
    throw ShapeError(std::string("[") + op + "] shapes " + shape_str(x.shape()) + " and " + shape_str(y.shape()) +
                     " not aligned: " + std::to_string(kx) + " (axis " + std::to_string(x.ndim() - 1) + ") != " +
                     std::to_string(ky) + " (axis " + std::to_string(std::max(y.ndim() - 2, 0)) + ")");
}

}  // namespace

void matrix_product(const Array& a, const Array& b, Array& c) {
  if (c.size() == 0) return;
  if (c.dtype() == DType::Float16) {  // computed in float32 (BLAS), stored as half, as Theano did
    Array wide = Array::empty(c.shape(), DType::Float32);
    matrix_product(a.astype(DType::Float32), b.astype(DType::Float32), wide);
    c.copy_from(wide);
    return;
  }
  if (a.shape()[1] == 0) {
    dispatch_dtype(c.dtype(), [&]<class T>() { std::fill_n(c.data<T>(), c.size(), T(0)); });
    return;
  }
  dispatch_dtype(c.dtype(), [&]<class T>() {
    if constexpr (std::is_floating_point_v<T> || scalar_math::is_complex<T>) gemm<T>(a, b, c);
    else loop_product<T>(a, b, c);
  });
}

// ---- Gemm ----

std::vector<TensorType> Gemm::output_types(const std::vector<Variable>& inputs) const {
  if (inputs.size() != 5) throw TypeError("[gemm] takes z, alpha, x, y, beta");
  const Variable &z = inputs[0], &alpha = inputs[1], &x = inputs[2], &y = inputs[3], &beta = inputs[4];
  const DType dtype = z.dtype();
  for (const Variable& v : inputs)
    if (v.dtype() != dtype || !is_float(dtype))
      throw TypeError("[gemm] needs operands of one float dtype, got " + z.type().str() + ", " + alpha.type().str() + ", " +
                      x.type().str() + ", " + y.type().str() + ", " + beta.type().str());
  if (z.ndim() != 2 || x.ndim() != 2 || y.ndim() != 2)
    throw TypeError("[gemm] z, x and y must be matrices, got " + z.type().str() + ", " + x.type().str() + ", " + y.type().str());
  for (const Variable* scalar : {&alpha, &beta})
    if (!scalar->type().has_one_element())
      throw TypeError("[gemm] alpha and beta must be scalars, got " + scalar->type().str());
  std::vector<int64_t> shape = {x.type().shape[0], y.type().shape[1]};
  for (int axis = 0; axis < 2; ++axis)
    if (shape[axis] == TensorType::kUnknown) shape[axis] = z.type().shape[axis];
  return {TensorType(dtype, shape)};
}

std::optional<Shape> Gemm::result_shape(const Apply&, std::span<const Array> inputs) const {
  return gemm_output_shape(inputs);
}

Shape gemm_output_shape(std::span<const Array> inputs) {
  const Array &z = inputs[0], &x = inputs[2], &y = inputs[3];
  check_aligned(x, y, x.shape()[1], y.shape()[0], "gemm");
  const Shape shape = {x.shape()[0], y.shape()[1]};
  if (z.shape() != shape)
    throw ShapeError("[gemm] z has shape " + shape_str(z.shape()) + ", the product " + shape_str(shape));
  return shape;
}

void Gemm::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  if (perform_float16_in_float32(*this, node, inputs, outputs)) return;
  const Array& z = inputs[0];
  const Shape shape = gemm_output_shape(inputs);
  const Array &x = inputs[2], &y = inputs[3];
  const double alpha = inputs[1].get_as_double(0), beta = inputs[4].get_as_double(0);
  // In place when the caller hands z's own buffer as the destination (an update of z); otherwise a
  // copy. beta = 0 ignores z, NaNs included, as BLAS does.
  const bool in_place = outputs[0].shares_storage_with(z) && outputs[0].shape() == shape && z.is_contiguous() &&
                        outputs[0].raw_data() == z.raw_data() && !x.shares_storage_with(z) && !y.shares_storage_with(z);
  Array out = in_place ? outputs[0] : beta == 0 ? Array::zeros(shape, z.dtype()) : z.copy();
  if (in_place && beta == 0) std::memset(out.raw_data(), 0, static_cast<size_t>(out.size()) * out.itemsize());
  dispatch_dtype(z.dtype(), [&]<class T>() {
    if constexpr (std::is_floating_point_v<T>) {
      if (out.size() == 0) return;
      if (x.shape()[1] == 0) {  // an empty sum: beta * z
        for (int64_t i = 0; i < out.size(); ++i) out.data<T>()[i] *= static_cast<T>(beta);
        return;
      }
      gemm<T>(x, y, out, static_cast<T>(alpha), static_cast<T>(beta));
    }
  });
  outputs[0] = std::move(out);
}

std::vector<Variable> Gemm::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable &gz = output_grads[0], &z = node.input(0), &alpha = node.input(1), &x = node.input(2),
                 &y = node.input(3), &beta = node.input(4);
  auto scalar_of = [](const Variable& v) { return reshape(v, std::vector<Operand>{}); };
  auto like = [](const Variable& g, const Variable& v) { return reshape(g, std::vector<Operand>(v.ndim(), Operand(1))); };
  return {gz * scalar_of(beta), like(sum(gz * dot(x, y)), alpha), dot(gz, y.T()) * scalar_of(alpha),
          dot(x.T(), gz) * scalar_of(alpha), like(sum(gz * z), beta)};
}

std::vector<std::vector<Variable>> Gemm::infer_shape(const Apply& node,
                                                     const std::vector<std::vector<Variable>>& input_shapes) const {
  return {{input_shapes[2][0], input_shapes[3][1]}};
}

// ---- Dot ----

std::vector<TensorType> Dot::output_types(const std::vector<Variable>& inputs) const {
  const Variable &x = inputs.at(0), &y = inputs.at(1);
  if (x.ndim() < 1 || x.ndim() > 2 || y.ndim() < 1 || y.ndim() > 2)
    throw TypeError("[dot] takes vectors and matrices, got " + types_str(x, y));
  const auto &xs = x.type().shape, &ys = y.type().shape;
  int64_t kx = xs.back(), ky = y.ndim() == 1 ? ys[0] : ys[0];
  if (kx != TensorType::kUnknown && ky != TensorType::kUnknown && kx != ky)
    throw ShapeError("[dot] shapes " + types_str(x, y) + " not aligned: " + std::to_string(kx) + " (axis " +
                     std::to_string(x.ndim() - 1) + ") != " + std::to_string(ky) + " (axis 0)");
  std::vector<int64_t> shape;
  if (x.ndim() == 2) shape.push_back(xs[0]);
  if (y.ndim() == 2) shape.push_back(ys[1]);
  return {TensorType(promote_types(x.dtype(), y.dtype()), shape)};
}

void Dot::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const DType dtype = node.output(0).dtype();
  const Array x = inputs[0].dtype() == dtype ? inputs[0] : inputs[0].astype(dtype);
  const Array y = inputs[1].dtype() == dtype ? inputs[1] : inputs[1].astype(dtype);
  check_aligned(x, y, x.shape().back(), y.shape()[0], "dot");
  const Array a = x.ndim() == 2 ? x : as_row(x);
  const Array b = y.ndim() == 2 ? y : as_column(y);
  Array c = Array::empty({a.shape()[0], b.shape()[1]}, dtype);
  matrix_product(a, b, c);
  Shape shape;
  if (x.ndim() == 2) shape.push_back(a.shape()[0]);
  if (y.ndim() == 2) shape.push_back(b.shape()[1]);
  outputs[0] = c.reshape(shape);
}

std::vector<Variable> Dot::r_op(const Apply& node, const std::vector<Variable>& eval_points) const {
  Variable tangent;
  if (eval_points[0]) tangent = dot(eval_points[0], node.input(1));
  if (eval_points[1]) tangent = tangent ? tangent + dot(node.input(0), eval_points[1]) : dot(node.input(0), eval_points[1]);
  return {tangent};
}

std::vector<Variable> Dot::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable &x = node.input(0), &y = node.input(1);
  return holomorphic_pullback(node, output_grads[0], [&](const Variable& gz) -> std::vector<Variable> {
  Variable gx, gy;
  if (x.ndim() == 2 && y.ndim() == 2) {
    gx = dot(gz, y.T());
    gy = dot(x.T(), gz);
  } else if (x.ndim() == 2) {  // matrix · vector
    gx = outer(gz, y);
    gy = dot(x.T(), gz);
  } else if (y.ndim() == 2) {  // vector · matrix
    gx = dot(y, gz);
    gy = outer(x, gz);
  } else {
    gx = gz * y;
    gy = gz * x;
  }
  return {is_inexact(x.dtype()) ? gx : Variable(), is_inexact(y.dtype()) ? gy : Variable()};
  });
}

std::vector<std::vector<Variable>> Dot::infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const {
  std::vector<Variable> dims;
  if (node.input(0).ndim() == 2) dims.push_back(shapes[0][0]);
  if (node.input(1).ndim() == 2) dims.push_back(shapes[1][1]);
  return {dims};
}

// ---- BatchedMatmul ----

std::vector<TensorType> BatchedMatmul::output_types(const std::vector<Variable>& inputs) const {
  const Variable &x = inputs.at(0), &y = inputs.at(1);
  if (x.ndim() != y.ndim() || x.ndim() < 2)
    throw TypeError("[matmul] internal: inputs must have equal rank >= 2, got " + types_str(x, y));
  const int nd = x.ndim();
  const auto &xs = x.type().shape, &ys = y.type().shape;
  int64_t kx = xs[nd - 1], ky = ys[nd - 2];
  if (kx != TensorType::kUnknown && ky != TensorType::kUnknown && kx != ky)
    throw ShapeError("[matmul] shapes " + types_str(x, y) + " not aligned: " + std::to_string(kx) + " (axis " +
                     std::to_string(nd - 1) + ") != " + std::to_string(ky) + " (axis " + std::to_string(nd - 2) + ")");
  std::vector<int64_t> shape;
  for (int axis = 0; axis < nd - 2; ++axis) {
    int64_t a = xs[axis], b = ys[axis];
    if (a == 1) shape.push_back(b);
    else if (b == 1) shape.push_back(a);
    else if (a != TensorType::kUnknown && b != TensorType::kUnknown && a != b)
      throw ShapeError("[matmul] batch dimensions of " + types_str(x, y) + " cannot broadcast (axis " +
                       std::to_string(axis) + ")");
    else shape.push_back(a != TensorType::kUnknown ? a : b);
  }
  shape.push_back(xs[nd - 2]);
  shape.push_back(ys[nd - 1]);
  return {TensorType(promote_types(x.dtype(), y.dtype()), shape)};
}

void BatchedMatmul::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const DType dtype = node.output(0).dtype();
  const Array x = inputs[0].dtype() == dtype ? inputs[0] : inputs[0].astype(dtype);
  const Array y = inputs[1].dtype() == dtype ? inputs[1] : inputs[1].astype(dtype);
  const int nd = x.ndim();
  check_aligned(x, y, x.shape()[nd - 1], y.shape()[nd - 2], "matmul");
  Shape batch;
  for (int axis = 0; axis < nd - 2; ++axis) {
    int64_t a = x.shape()[axis], b = y.shape()[axis];
    bool a_broadcasts = node.input(0).type().shape[axis] == 1, b_broadcasts = node.input(1).type().shape[axis] == 1;
    if (a != b && !a_broadcasts && !b_broadcasts)
      throw ShapeError("[matmul] batch dimensions of shapes " + shape_str(x.shape()) + " and " + shape_str(y.shape()) +
                       " differ on axis " + std::to_string(axis));
    batch.push_back(a_broadcasts ? b : a);
  }
  Shape out_shape = batch;
  out_shape.push_back(x.shape()[nd - 2]);
  out_shape.push_back(y.shape()[nd - 1]);
  Array out = Array::empty(out_shape, dtype);
  Shape x_target = batch, y_target = batch;
  x_target.insert(x_target.end(), x.shape().end() - 2, x.shape().end());
  y_target.insert(y_target.end(), y.shape().end() - 2, y.shape().end());
  const Array xb = x.broadcast_to(x_target), yb = y.broadcast_to(y_target);
  if (shape_size(batch) > 0) {
    IndexIterator it(batch);
    do {
      Array a = xb, b = yb, c = out;
      for (size_t axis = 0; axis < batch.size(); ++axis) {
        a = a.index(0, it.index()[axis]);
        b = b.index(0, it.index()[axis]);
        c = c.index(0, it.index()[axis]);
      }
      matrix_product(a, b, c);
    } while (it.next());
  }
  outputs[0] = std::move(out);
}

Variable unbroadcast_batch(const Variable& g, const Variable& input, int core) {
  std::vector<int> axes;
  for (int axis = 0; axis < input.ndim() - core; ++axis)
    if (input.type().shape[axis] == 1 && g.type().shape[axis] != 1) axes.push_back(axis);
  return axes.empty() ? g : sum(g, axes, /*keepdims=*/true);
}
Variable swap_last_two(const Variable& v) {
  std::vector<int> perm;
  for (int axis = 0; axis < v.ndim(); ++axis) perm.push_back(axis);
  std::swap(perm[v.ndim() - 1], perm[v.ndim() - 2]);
  return transpose(v, perm);
}

std::vector<Variable> BatchedMatmul::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable &x = node.input(0), &y = node.input(1);
  return holomorphic_pullback(node, output_grads[0], [&](const Variable& gz) -> std::vector<Variable> {
    auto product = std::make_shared<BatchedMatmul>();
    Variable gx = unbroadcast_batch(apply_op1(product, {gz, swap_last_two(y)}), x);
    Variable gy = unbroadcast_batch(apply_op1(product, {swap_last_two(x), gz}), y);
    return {is_inexact(x.dtype()) ? gx : Variable(), is_inexact(y.dtype()) ? gy : Variable()};
  });
}

std::vector<std::vector<Variable>> BatchedMatmul::infer_shape(const Apply& node,
                                                              const std::vector<std::vector<Variable>>& shapes) const {
  const int nd = node.input(0).ndim();
  std::vector<Variable> dims;
  for (int axis = 0; axis < nd - 2; ++axis)
    dims.push_back(node.input(0).type().shape[axis] == 1 ? shapes[1][axis] : shapes[0][axis]);
  dims.push_back(shapes[0][nd - 2]);
  dims.push_back(shapes[1][nd - 1]);
  return {dims};
}

// ---- Builders ----

Variable dot(const Operand& x, const Operand& y) {
  Variable a = x.as_variable(), b = y.as_variable();
  if (a.is_sparse() || b.is_sparse()) return sparse::structured_dot(x, y);  // Theano's SparseVariable.__dot__
  if (a.ndim() == 0 || b.ndim() == 0) return mul(x, y);
  // np.dot (and Theano's dot) above two dimensions: the last axis of x against the second-to-last of y.
  if (a.ndim() > 2 || b.ndim() > 2) return tensordot(x, y, {a.ndim() - 1}, {std::max(0, b.ndim() - 2)});
  return apply_op1(std::make_shared<Dot>(), {a, b}, x.where());
}

Variable matmul(const Operand& x, const Operand& y) {
  Variable a = x.as_variable(), b = y.as_variable();
  if (a.ndim() == 0 || b.ndim() == 0)
    rethrow_with_location(TypeError("[matmul] does not take scalars (use mul), got " + types_str(a, b)), x.where());
  if (a.ndim() <= 2 && b.ndim() <= 2) return apply_op1(std::make_shared<Dot>(), {a, b}, x.where());
  // NumPy's rules: a vector gains an axis that is removed again; batch axes are padded on the left.
  const bool a_vector = a.ndim() == 1, b_vector = b.ndim() == 1;
  if (a_vector) a = expand_dims(Operand(a, x.where()), 0);
  if (b_vector) b = expand_dims(Operand(b, x.where()), 1);
  const int nd = std::max(a.ndim(), b.ndim());
  auto pad = [&](const Variable& v) {
    std::vector<int> pattern(nd - v.ndim(), kNewAxis);
    for (int axis = 0; axis < v.ndim(); ++axis) pattern.push_back(axis);
    return dimshuffle(Operand(v, x.where()), pattern);
  };
  Variable out = apply_op1(std::make_shared<BatchedMatmul>(), {pad(a), pad(b)}, x.where());
  if (a_vector) out = squeeze(Operand(out, x.where()), {nd - 2});
  if (b_vector) out = squeeze(Operand(out, x.where()), {-1});
  return out;
}

Variable outer(const Operand& x, const Operand& y) {
  Variable a = x.as_variable(), b = y.as_variable();
  if (a.ndim() != 1 || b.ndim() != 1)
    rethrow_with_location(TypeError("[outer] takes two vectors, got " + types_str(a, b)), x.where());
  return mul(dimshuffle(Operand(a, x.where()), {0, kNewAxis}), dimshuffle(Operand(b, x.where()), {kNewAxis, 0}));
}

Variable tensordot(const Operand& x, const Operand& y, const std::vector<int>& axes_x, const std::vector<int>& axes_y) {
  return at_location(x.where(), [&] {
    Variable a = x.as_variable(), b = y.as_variable();
    if (axes_x.size() != axes_y.size())
      throw ValueError("[tensordot] " + std::to_string(axes_x.size()) + " axes of x against " + std::to_string(axes_y.size()) +
                       " axes of y");
    std::vector<bool> summed_a(a.ndim(), false), summed_b(b.ndim(), false);
    std::vector<int> contracted_a, contracted_b;
    for (size_t k = 0; k < axes_x.size(); ++k) {
      int i = normalize_axis(axes_x[k], a.ndim(), "tensordot"), j = normalize_axis(axes_y[k], b.ndim(), "tensordot");
      if (summed_a[i] || summed_b[j]) throw ValueError("[tensordot] an axis is repeated");
      int64_t da = a.type().shape[i], db = b.type().shape[j];
      if (da != TensorType::kUnknown && db != TensorType::kUnknown && da != db)
        throw ShapeError("[tensordot] axis " + std::to_string(i) + " of " + a.type().str() + " and axis " + std::to_string(j) +
                         " of " + b.type().str() + " differ");
      summed_a[i] = summed_b[j] = true;
      contracted_a.push_back(i);
      contracted_b.push_back(j);
    }
    // As a matrix product: x to (free, summed), y to (summed, free).
    std::vector<int> perm_a, perm_b = contracted_b;
    std::vector<Operand> out_shape;
    Variable free_a = constant(1.0, DType::Int64), free_b = constant(1.0, DType::Int64), inner = constant(1.0, DType::Int64);
    for (int i = 0; i < a.ndim(); ++i)
      if (!summed_a[i]) {
        perm_a.push_back(i);
        free_a = free_a * shape_i(a, i);
        out_shape.emplace_back(shape_i(a, i), x.where());
      }
    for (int i : contracted_a) {
      perm_a.push_back(i);
      inner = inner * shape_i(a, i);
    }
    for (int j = 0; j < b.ndim(); ++j)
      if (!summed_b[j]) {
        perm_b.push_back(j);
        free_b = free_b * shape_i(b, j);
        out_shape.emplace_back(shape_i(b, j), x.where());
      }
    Variable matrix_a = reshape(Operand(transpose(Operand(a, x.where()), perm_a), x.where()), {Operand(free_a, x.where()), Operand(inner, x.where())});
    Variable matrix_b = reshape(Operand(transpose(Operand(b, x.where()), perm_b), x.where()), {Operand(inner, x.where()), Operand(free_b, x.where())});
    return reshape(Operand(dot(Operand(matrix_a, x.where()), matrix_b), x.where()), out_shape);
  });
}

Variable tensordot(const Operand& x, const Operand& y, int n) {
  Variable a = x.as_variable(), b = y.as_variable();
  if (n < 0 || n > a.ndim() || n > b.ndim())
    rethrow_with_location(ValueError("[tensordot] cannot sum " + std::to_string(n) + " axes of " + a.type().str() + " and " +
                                     b.type().str()),
                          x.where());
  std::vector<int> axes_x, axes_y;
  for (int k = 0; k < n; ++k) {
    axes_x.push_back(a.ndim() - n + k);
    axes_y.push_back(k);
  }
  return tensordot(x, y, axes_x, axes_y);
}

std::string Dot::save() const { return OpWriter("dot").bytes(); }
std::string BatchedMatmul::save() const { return OpWriter("matmul").bytes(); }
std::string Gemm::save() const { return OpWriter("gemm").bytes(); }

void register_blas_loaders(OpLoaders& loaders) {
  loaders["dot"] = [](OpReader&) -> OpPtr { return std::make_shared<Dot>(); };
  loaders["matmul"] = [](OpReader&) -> OpPtr { return std::make_shared<BatchedMatmul>(); };
  loaders["gemm"] = [](OpReader&) -> OpPtr { return std::make_shared<Gemm>(); };
}
}  // namespace hypatia
