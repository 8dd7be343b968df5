#include "backend/cuda/cusparse.h"

#include <mutex>
#include <unordered_map>

#include "backend/dynamic_library.h"
#include "hypatia/error.h"

namespace hypatia::cuda {
namespace {

// cuSPARSE's generic C API (cusparse.h), declared here: statuses are int enums (0: success); index types
// 32-bit 2 and 64-bit 3, index base zero 0, operations non-transposed 0 and transposed 1, row-major order 2,
// SpMM's default algorithm 0; value types (library_types.h) float 0 and double 1.
using Handle = struct cusparseContext*;
using SpMat = struct cusparseSpMatDescr*;
using DnMat = struct cusparseDnMatDescr*;

#define HYPATIA_CUSPARSE_FUNCTIONS(X)                                                                                      \
  X(create, "cusparseCreate", int(Handle*))                                                                                \
  X(create_csr, "cusparseCreateCsr", int(SpMat*, int64_t, int64_t, int64_t, void*, void*, void*, int, int, int, int))      \
  X(destroy_sp, "cusparseDestroySpMat", int(SpMat))                                                                        \
  X(create_dn, "cusparseCreateDnMat", int(DnMat*, int64_t, int64_t, int64_t, void*, int, int))                             \
  X(destroy_dn, "cusparseDestroyDnMat", int(DnMat))                                                                        \
  X(spmm_size, "cusparseSpMM_bufferSize", int(Handle, int, int, const void*, SpMat, DnMat, const void*, DnMat, int, int, size_t*)) \
  X(spmm, "cusparseSpMM", int(Handle, int, int, const void*, SpMat, DnMat, const void*, DnMat, int, int, void*))

struct Api {
  HYPATIA_CUSPARSE_FUNCTIONS(HYPATIA_API_POINTER)
};

const Api* api() {
  static const Api* loaded = HYPATIA_LOAD_API(Api, HYPATIA_CUSPARSE_FUNCTIONS, "libcusparse.so.12", "libcusparse.so.11", "libcusparse.so",
                                              "/usr/local/cuda/lib64/libcusparse.so");
  return loaded;
}

constexpr int kIndex32 = 2, kIndex64 = 3, kBaseZero = 0, kNonTransposed = 0, kTransposed = 1, kRowMajor = 2, kDefaultAlgorithm = 0;
constexpr int kFloat = 0, kDouble = 1;

// Per context: its handle and a workspace grown to the largest size asked so far (used until exit).
struct PerContext {
  Handle handle = nullptr;
  Scratch workspace;
};

std::mutex& calls_mutex() {
  static std::mutex mutex;
  return mutex;
}

// The context, made current, with its handle (the caller holds calls_mutex()); null if cuSPARSE cannot start.
PerContext* prepared(CUcontext context) {
  static auto* contexts = new std::unordered_map<CUcontext, PerContext>();
  PerContext& state = (*contexts)[context];
  driver()->cuCtxSetCurrent(context);
  if (!state.handle && api()->create(&state.handle) != 0) return nullptr;
  return &state;
}

void* as_pointer(CUdeviceptr address) { return reinterpret_cast<void*>(address); }

}  // namespace

bool cusparse_available() { return api() != nullptr; }

bool spmm(CUcontext context, DType dtype, const SparseOperand& a, int64_t n, CUdeviceptr b, CUdeviceptr c, double alpha, double beta) {
  if (!api() || (dtype != DType::Float32 && dtype != DType::Float64)) return false;
  std::lock_guard<std::mutex> lock(calls_mutex());
  PerContext* state = prepared(context);
  if (!state) return false;
  const int value_type = dtype == DType::Float32 ? kFloat : kDouble, index_type = a.index_dtype == DType::Int32 ? kIndex32 : kIndex64;
  // A csc matrix's arrays are the csr arrays of its transpose: SpMM then reads it transposed.
  const int64_t csr_rows = a.by_rows ? a.rows : a.cols, csr_cols = a.by_rows ? a.cols : a.rows;
  const int operation = a.by_rows ? kNonTransposed : kTransposed;
  SpMat matrix = nullptr;
  DnMat dense_b = nullptr, dense_c = nullptr;
  bool done = false;
  if (api()->create_csr(&matrix, csr_rows, csr_cols, a.nnz, as_pointer(a.indptr), as_pointer(a.indices), as_pointer(a.values), index_type,
                        index_type, kBaseZero, value_type) == 0 &&
      api()->create_dn(&dense_b, a.cols, n, n, as_pointer(b), value_type, kRowMajor) == 0 &&
      api()->create_dn(&dense_c, a.rows, n, n, as_pointer(c), value_type, kRowMajor) == 0) {
    const float alpha32 = static_cast<float>(alpha), beta32 = static_cast<float>(beta);
    const void* alpha_at = dtype == DType::Float32 ? static_cast<const void*>(&alpha32) : static_cast<const void*>(&alpha);
    const void* beta_at = dtype == DType::Float32 ? static_cast<const void*>(&beta32) : static_cast<const void*>(&beta);
    size_t size = 0;
    if (api()->spmm_size(state->handle, operation, kNonTransposed, alpha_at, matrix, dense_b, beta_at, dense_c, value_type,
                         kDefaultAlgorithm, &size) == 0) {
      void* buffer = nullptr;
      try {
        if (size) buffer = as_pointer(state->workspace.at_least(size, "a cuSPARSE workspace"));
      } catch (const Error&) {
        size = SIZE_MAX;  // no room for the workspace: the generated kernel runs instead
      }
      done = size != SIZE_MAX && api()->spmm(state->handle, operation, kNonTransposed, alpha_at, matrix, dense_b, beta_at, dense_c, value_type,
                         kDefaultAlgorithm, buffer) == 0;
    }
  }
  if (dense_c) api()->destroy_dn(dense_c);
  if (dense_b) api()->destroy_dn(dense_b);
  if (matrix) api()->destroy_sp(matrix);
  return done;
}

}  // namespace hypatia::cuda
