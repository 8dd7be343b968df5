#include "backend/cuda/cusolver.h"

#include <algorithm>
#include <mutex>
#include <type_traits>
#include <unordered_map>

#include "backend/dynamic_library.h"
#include "hypatia/error.h"

namespace hypatia::cuda {
namespace {

// cuSOLVER's dense C API (cusolverDn.h), declared here: statuses are int enums (0: success); fill modes
// lower 0 and upper 1 (cuBLAS's), eigen modes without vectors 0 and with them 1.
using Handle = struct cusolverDnContext*;

#define HYPATIA_CUSOLVER_FUNCTIONS(X)                                                                             \
  X(get_version, "cusolverGetVersion", int(int*))                                                                 \
  X(create, "cusolverDnCreate", int(Handle*))                                                                     \
  X(spotrf_size, "cusolverDnSpotrf_bufferSize", int(Handle, int, int, float*, int, int*))                         \
  X(dpotrf_size, "cusolverDnDpotrf_bufferSize", int(Handle, int, int, double*, int, int*))                        \
  X(spotrf, "cusolverDnSpotrf", int(Handle, int, int, float*, int, float*, int, int*))                            \
  X(dpotrf, "cusolverDnDpotrf", int(Handle, int, int, double*, int, double*, int, int*))                          \
  X(sgetrf_size, "cusolverDnSgetrf_bufferSize", int(Handle, int, int, float*, int, int*))                         \
  X(dgetrf_size, "cusolverDnDgetrf_bufferSize", int(Handle, int, int, double*, int, int*))                        \
  X(sgetrf, "cusolverDnSgetrf", int(Handle, int, int, float*, int, float*, int*, int*))                           \
  X(dgetrf, "cusolverDnDgetrf", int(Handle, int, int, double*, int, double*, int*, int*))                         \
  X(ssyevd_size, "cusolverDnSsyevd_bufferSize", int(Handle, int, int, int, const float*, int, const float*, int*)) \
  X(dsyevd_size, "cusolverDnDsyevd_bufferSize", int(Handle, int, int, int, const double*, int, const double*, int*)) \
  X(ssyevd, "cusolverDnSsyevd", int(Handle, int, int, int, float*, int, float*, float*, int, int*))               \
  X(dsyevd, "cusolverDnDsyevd", int(Handle, int, int, int, double*, int, double*, double*, int, int*))

struct Api {
  HYPATIA_CUSOLVER_FUNCTIONS(HYPATIA_API_POINTER)
};

const Api* api() {
  static const Api* loaded = HYPATIA_LOAD_API(Api, HYPATIA_CUSOLVER_FUNCTIONS, "libcusolver.so.12", "libcusolver.so.11", "libcusolver.so",
                                              "/usr/local/cuda/lib64/libcusolver.so");
  return loaded;
}

void check(int status, const char* what) {
  if (status != 0) throw ValueError(std::string("[cuda] ") + what + " failed (cuSOLVER status " + std::to_string(status) + ")");
}

// Per context: its handle and a workspace grown to the largest size asked so far (used until exit).
struct PerContext {
  Handle handle = nullptr;
  Scratch workspace;
};

std::mutex& calls_mutex() {
  static std::mutex mutex;
  return mutex;
}

// The context, made current, with its handle (the caller holds calls_mutex()).
PerContext& prepared(CUcontext context) {
  static auto* contexts = new std::unordered_map<CUcontext, PerContext>();
  PerContext& state = (*contexts)[context];
  driver()->cuCtxSetCurrent(context);
  if (!state.handle) check(api()->create(&state.handle), "cusolverDnCreate");
  return state;
}

// A workspace of `elements` values of T.
template <class T> T* workspace(PerContext& state, int elements) {
  return reinterpret_cast<T*>(state.workspace.at_least(static_cast<size_t>(elements) * sizeof(T), "a cuSOLVER workspace"));
}

template <class T> T* as(CUdeviceptr address) { return reinterpret_cast<T*>(address); }

}  // namespace

bool cusolver_available() { return api() != nullptr; }

int cusolver_version() {
  int version = 0;
  if (api()) api()->get_version(&version);
  return version;
}

void potrf(CUcontext context, DType dtype, bool upper, int n, CUdeviceptr a, CUdeviceptr info) {
  std::lock_guard<std::mutex> lock(calls_mutex());
  const int uplo = upper ? 1 : 0, ld = std::max(1, n);
  int size = 0;
  PerContext& state = prepared(context);
  if (dtype == DType::Float32) {
    check(api()->spotrf_size(state.handle, uplo, n, as<float>(a), ld, &size), "cusolverDnSpotrf_bufferSize");
    check(api()->spotrf(state.handle, uplo, n, as<float>(a), ld, workspace<float>(state, size), size, as<int>(info)), "cusolverDnSpotrf");
  } else {
    check(api()->dpotrf_size(state.handle, uplo, n, as<double>(a), ld, &size), "cusolverDnDpotrf_bufferSize");
    check(api()->dpotrf(state.handle, uplo, n, as<double>(a), ld, workspace<double>(state, size), size, as<int>(info)), "cusolverDnDpotrf");
  }
}

void getrf(CUcontext context, DType dtype, int n, CUdeviceptr a, CUdeviceptr pivots, CUdeviceptr info) {
  std::lock_guard<std::mutex> lock(calls_mutex());
  const int ld = std::max(1, n);
  int size = 0;
  PerContext& state = prepared(context);
  if (dtype == DType::Float32) {
    check(api()->sgetrf_size(state.handle, n, n, as<float>(a), ld, &size), "cusolverDnSgetrf_bufferSize");
    check(api()->sgetrf(state.handle, n, n, as<float>(a), ld, workspace<float>(state, size), as<int>(pivots), as<int>(info)),
          "cusolverDnSgetrf");
  } else {
    check(api()->dgetrf_size(state.handle, n, n, as<double>(a), ld, &size), "cusolverDnDgetrf_bufferSize");
    check(api()->dgetrf(state.handle, n, n, as<double>(a), ld, workspace<double>(state, size), as<int>(pivots), as<int>(info)),
          "cusolverDnDgetrf");
  }
}

void syevd(CUcontext context, DType dtype, bool upper, bool vectors, int n, CUdeviceptr a, CUdeviceptr w, CUdeviceptr info) {
  std::lock_guard<std::mutex> lock(calls_mutex());
  const int uplo = upper ? 1 : 0, job = vectors ? 1 : 0, ld = std::max(1, n);
  int size = 0;
  PerContext& state = prepared(context);
  if (dtype == DType::Float32) {
    check(api()->ssyevd_size(state.handle, job, uplo, n, as<float>(a), ld, as<float>(w), &size), "cusolverDnSsyevd_bufferSize");
    check(api()->ssyevd(state.handle, job, uplo, n, as<float>(a), ld, as<float>(w), workspace<float>(state, size), size, as<int>(info)),
          "cusolverDnSsyevd");
  } else {
    check(api()->dsyevd_size(state.handle, job, uplo, n, as<double>(a), ld, as<double>(w), &size), "cusolverDnDsyevd_bufferSize");
    check(api()->dsyevd(state.handle, job, uplo, n, as<double>(a), ld, as<double>(w), workspace<double>(state, size), size, as<int>(info)),
          "cusolverDnDsyevd");
  }
}

}  // namespace hypatia::cuda
