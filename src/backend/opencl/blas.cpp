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
};

const Functions* functions() {
  static const Functions* loaded = []() -> const Functions* {
    void* library = dlopen("libclblast.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) return nullptr;
    auto* found = new Functions();  // kept for the process, as the library is
    found->sgemm = reinterpret_cast<decltype(&CLBlastSgemm)>(dlsym(library, "CLBlastSgemm"));
    found->dgemm = reinterpret_cast<decltype(&CLBlastDgemm)>(dlsym(library, "CLBlastDgemm"));
    if (!found->sgemm || !found->dgemm) return nullptr;
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
  CLBlastStatusCode status;
  if (c.dtype() == DType::Float32)
    status = functions()->sgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, static_cast<float>(alpha), buffer_of(a).mem(),
                                static_cast<size_t>(a.offset()), static_cast<size_t>(layout_a->ld), buffer_of(b).mem(), static_cast<size_t>(b.offset()),
                                static_cast<size_t>(layout_b->ld), static_cast<float>(beta), buffer_of(c).mem(), static_cast<size_t>(c.offset()), ldc,
                                &queue, nullptr);
  else
    status = functions()->dgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, alpha, buffer_of(a).mem(), static_cast<size_t>(a.offset()),
                                static_cast<size_t>(layout_a->ld), buffer_of(b).mem(), static_cast<size_t>(b.offset()), static_cast<size_t>(layout_b->ld), beta,
                                buffer_of(c).mem(), static_cast<size_t>(c.offset()), ldc, &queue, nullptr);
  if (status != CLBlastSuccess)
    throw ValueError("[opencl] CLBlast GEMM (" + std::to_string(m) + "x" + std::to_string(k) + " @ " + std::to_string(k) + "x" +
                     std::to_string(n) + ", " + std::string(dtype_name(c.dtype())) + ") failed with status " +
                     std::to_string(static_cast<int>(status)));
}

}  // namespace hypatia::opencl
