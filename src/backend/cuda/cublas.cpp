#include "backend/cuda/cublas.h"

#include <climits>
#include <complex>
#include <mutex>
#include <type_traits>
#include <unordered_map>

#include "backend/dynamic_library.h"
#include "hypatia/error.h"

namespace hypatia::cuda {
namespace {

// cuBLAS's C API (cublas_v2.h), declared here: statuses are int enums (0: success); operations N=0, T=1.
using Handle = struct cublasContext*;
using Complex64 = std::complex<float>;  // (cuComplex and cuDoubleComplex are laid out as std::complex)
using Complex128 = std::complex<double>;
#define HYPATIA_CUBLAS_FUNCTIONS(X)                                                                               \
  X(create, "cublasCreate_v2", int(Handle*))                                                                      \
  X(sgemm, "cublasSgemm_v2",                                                                                      \
    int(Handle, int, int, int, int, int, const float*, const float*, int, const float*, int, const float*, float*, int)) \
  X(dgemm, "cublasDgemm_v2",                                                                                      \
    int(Handle, int, int, int, int, int, const double*, const double*, int, const double*, int, const double*, double*, int)) \
  X(cgemm, "cublasCgemm_v2",                                                                                      \
    int(Handle, int, int, int, int, int, const Complex64*, const Complex64*, int, const Complex64*, int, const Complex64*,   \
        Complex64*, int))                                                                                         \
  X(zgemm, "cublasZgemm_v2",                                                                                      \
    int(Handle, int, int, int, int, int, const Complex128*, const Complex128*, int, const Complex128*, int,        \
        const Complex128*, Complex128*, int))                                                                     \
  X(strsm, "cublasStrsm_v2", int(Handle, int, int, int, int, int, int, const float*, const float*, int, float*, int)) \
  X(dtrsm, "cublasDtrsm_v2", int(Handle, int, int, int, int, int, int, const double*, const double*, int, double*, int))

struct Api {
  HYPATIA_CUBLAS_FUNCTIONS(HYPATIA_API_POINTER)
};

const Api* api() {
  static const Api* loaded = HYPATIA_LOAD_API(Api, HYPATIA_CUBLAS_FUNCTIONS, "libcublas.so.13", "libcublas.so.12", "libcublas.so",
                                              "/usr/local/cuda/lib64/libcublas.so");
  return loaded;
}

// One handle per context, made on first use (never destroyed: used until exit).
Handle handle_for(CUcontext context) {
  static std::mutex mutex;
  static auto* handles = new std::unordered_map<CUcontext, Handle>();
  std::lock_guard<std::mutex> lock(mutex);
  Handle& handle = (*handles)[context];
  if (!handle)
    if (int status = api()->create(&handle); status != 0)
      throw ValueError("[cuda] cublasCreate failed (cuBLAS status " + std::to_string(status) + ")");
  return handle;
}

}  // namespace

bool cublas_available() { return api() != nullptr; }

void gemm(CUcontext context, double alpha, const Array& a, CUdeviceptr a_base, const Array& b, CUdeviceptr b_base, double beta,
          Array& c, CUdeviceptr c_base) {
  const auto layout_a = blas_operand(a), layout_b = blas_operand(b);
  if (!layout_a || !layout_b || !c.is_contiguous()) throw ValueError("[cuda] gemm: an operand BLAS cannot read as it is");
  for (int64_t size : {a.shape()[0], a.shape()[1], b.shape()[1], layout_a->ld, layout_b->ld})
    if (size > INT_MAX)
      throw ValueError("[cuda] gemm: " + a.shape_dtype_str() + " @ " + b.shape_dtype_str() + " has a size beyond cuBLAS's int");
  const int m = static_cast<int>(a.shape()[0]), k = static_cast<int>(a.shape()[1]), n = static_cast<int>(b.shape()[1]);
  if (m == 0 || n == 0) return;
  // Row-major c = a b is column-major c^T = b^T a^T: a row-major operand read column-major is its
  // transpose (op N), a transposed one is itself (op T).
  const int op_b = layout_b->transposed ? 1 : 0, op_a = layout_a->transposed ? 1 : 0;
  const int ldb = static_cast<int>(layout_b->ld), lda = static_cast<int>(layout_a->ld), ldc = std::max(n, 1);
  const size_t item = c.itemsize();
  auto at = [&](CUdeviceptr base, const Array& x) { return base + static_cast<CUdeviceptr>(x.offset()) * item; };
  Handle handle = handle_for(context);
  int status;
  // Each dtype's call, the pointers in device memory read as T.
  auto call = [&](auto function, auto scale_a, auto scale_b) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(&scale_a)>>;
    return function(handle, op_b, op_a, n, m, k, &scale_a, reinterpret_cast<const T*>(at(b_base, b)), ldb,
                    reinterpret_cast<const T*>(at(a_base, a)), lda, &scale_b, reinterpret_cast<T*>(at(c_base, c)), ldc);
  };
  if (c.dtype() == DType::Complex64) {
    status = call(api()->cgemm, std::complex<float>(static_cast<float>(alpha)), std::complex<float>(static_cast<float>(beta)));
  } else if (c.dtype() == DType::Complex128) {
    status = call(api()->zgemm, std::complex<double>(alpha), std::complex<double>(beta));
  } else if (c.dtype() == DType::Float32) {
    const float fa = static_cast<float>(alpha), fb = static_cast<float>(beta);
    status = api()->sgemm(handle, op_b, op_a, n, m, k, &fa, reinterpret_cast<const float*>(at(b_base, b)), ldb,
                          reinterpret_cast<const float*>(at(a_base, a)), lda, &fb, reinterpret_cast<float*>(at(c_base, c)), ldc);
  } else {
    status = api()->dgemm(handle, op_b, op_a, n, m, k, &alpha, reinterpret_cast<const double*>(at(b_base, b)), ldb,
                          reinterpret_cast<const double*>(at(a_base, a)), lda, &beta, reinterpret_cast<double*>(at(c_base, c)), ldc);
  }
  if (status != 0) throw ValueError("[cuda] cuBLAS gemm failed (status " + std::to_string(status) + ")");
}

void trsm(CUcontext context, DType dtype, bool lower, bool transpose, bool unit_diagonal, int n, int k, CUdeviceptr t, CUdeviceptr b) {
  if (n == 0 || k == 0) return;
  // Row-major b (n x k) is column-major b^T (k x n) and row-major t column-major t^T: b <- op(t)^-1 b is
  // b^T <- b^T op(t)^-T, a solve from the right by t^T (op N) or t (op T), whose triangle is t's other one.
  const int side_right = 1, uplo = lower ? 1 : 0, op = transpose ? 1 : 0, diag = unit_diagonal ? 1 : 0;
  Handle handle = handle_for(context);
  int status;
  if (dtype == DType::Float32) {
    const float one = 1.0f;
    status = api()->strsm(handle, side_right, uplo, op, diag, k, n, &one, reinterpret_cast<const float*>(t), n, reinterpret_cast<float*>(b), k);
  } else {
    const double one = 1.0;
    status = api()->dtrsm(handle, side_right, uplo, op, diag, k, n, &one, reinterpret_cast<const double*>(t), n, reinterpret_cast<double*>(b), k);
  }
  if (status != 0) throw ValueError("[cuda] cuBLAS trsm failed (status " + std::to_string(status) + ")");
}

}  // namespace hypatia::cuda
