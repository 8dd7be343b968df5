#include "backend/opencl/blas.h"

#include <clblast_c.h>
#include <dlfcn.h>

#include <algorithm>

#include "hypatia/error.h"

namespace hypatia::opencl {
namespace {

struct Functions {
  decltype(&CLBlastSgemm) sgemm = nullptr;
  decltype(&CLBlastDgemm) dgemm = nullptr;
  decltype(&CLBlastCgemm) cgemm = nullptr;
  decltype(&CLBlastZgemm) zgemm = nullptr;
};

const Functions* functions() {
  static const Functions* loaded = []() -> const Functions* {
    void* library = dlopen("libclblast.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) return nullptr;
    auto* found = new Functions();  // kept for the process, as the library is
    found->sgemm = reinterpret_cast<decltype(&CLBlastSgemm)>(dlsym(library, "CLBlastSgemm"));
    found->dgemm = reinterpret_cast<decltype(&CLBlastDgemm)>(dlsym(library, "CLBlastDgemm"));
    found->cgemm = reinterpret_cast<decltype(&CLBlastCgemm)>(dlsym(library, "CLBlastCgemm"));
    found->zgemm = reinterpret_cast<decltype(&CLBlastZgemm)>(dlsym(library, "CLBlastZgemm"));
    if (!found->sgemm || !found->dgemm || !found->cgemm || !found->zgemm) return nullptr;
    return found;
  }();
  return loaded;
}

}  // namespace

bool clblast_available() { return api() && functions(); }

void gemm(Context& context, double alpha, const Array& a, const Array& b, double beta, Array& c) {
  const size_t m = static_cast<size_t>(a.shape()[0]), k = static_cast<size_t>(a.shape()[1]), n = static_cast<size_t>(b.shape()[1]);
  if (m == 0 || n == 0) return;
  const auto layout_a = blas_operand(a), layout_b = blas_operand(b);
  if (!layout_a || !layout_b || !c.is_contiguous()) throw ValueError("[opencl] gemm: an operand BLAS cannot read as it is");
  cl_command_queue queue = context.queue();
  const auto ta = layout_a->transposed ? CLBlastTransposeYes : CLBlastTransposeNo;
  const auto tb = layout_b->transposed ? CLBlastTransposeYes : CLBlastTransposeNo;
  const size_t ldc = std::max<size_t>(n, 1);
  const size_t a_offset = static_cast<size_t>(a.offset()), b_offset = static_cast<size_t>(b.offset());
  const size_t c_offset = static_cast<size_t>(c.offset()), lda = static_cast<size_t>(layout_a->ld), ldb = static_cast<size_t>(layout_b->ld);
  cl_mem a_mem = buffer_of(a).mem(), b_mem = buffer_of(b).mem(), c_mem = buffer_of(c).mem();
  CLBlastStatusCode status;
  switch (c.dtype()) {
    case DType::Float32:
      status = functions()->sgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, static_cast<float>(alpha), a_mem, a_offset, lda, b_mem, b_offset,
                                  ldb, static_cast<float>(beta), c_mem, c_offset, ldc, &queue, nullptr);
      break;
    case DType::Complex64: {  // (real scalings: the real and imaginary parts of alpha and beta)
      cl_float2 ca, cb;
      ca.s[0] = static_cast<float>(alpha), ca.s[1] = 0, cb.s[0] = static_cast<float>(beta), cb.s[1] = 0;
      status = functions()->cgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, ca, a_mem, a_offset, lda, b_mem, b_offset, ldb, cb, c_mem,
                                  c_offset, ldc, &queue, nullptr);
      break;
    }
    case DType::Complex128: {
      cl_double2 ca, cb;
      ca.s[0] = alpha, ca.s[1] = 0, cb.s[0] = beta, cb.s[1] = 0;
      status = functions()->zgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, ca, a_mem, a_offset, lda, b_mem, b_offset, ldb, cb, c_mem,
                                  c_offset, ldc, &queue, nullptr);
      break;
    }
    default:
      status = functions()->dgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, alpha, a_mem, a_offset, lda, b_mem, b_offset, ldb, beta, c_mem,
                                  c_offset, ldc, &queue, nullptr);
  }
  if (status != CLBlastSuccess)
    throw ValueError("[opencl] CLBlast GEMM (" + std::to_string(m) + "x" + std::to_string(k) + " @ " + std::to_string(k) + "x" +
                     std::to_string(n) + ", " + std::string(dtype_name(c.dtype())) + ") failed with status " +
                     std::to_string(static_cast<int>(status)));
}

}  // namespace hypatia::opencl
