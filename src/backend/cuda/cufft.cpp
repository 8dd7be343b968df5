#include "backend/cuda/cufft.h"

#include <algorithm>
#include <climits>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>
#include <vector>

#include "backend/dynamic_library.h"
#include "hypatia/error.h"

namespace hypatia::cuda {
namespace {

// cuFFT's C API (cufft.h), declared here: results are int enums (0: success), plans int handles.
using Plan = int;
constexpr int kR2C = 0x2a, kC2R = 0x2c, kC2C = 0x29, kD2Z = 0x6a, kZ2D = 0x6c, kZ2Z = 0x69;
constexpr int kForward = -1, kInverse = 1;

#define HYPATIA_CUFFT_FUNCTIONS(X)                                                                             \
  X(get_version, "cufftGetVersion", int(int*))                                                                \
  X(create, "cufftCreate", int(Plan*))                                                                        \
  X(make_plan_many, "cufftMakePlanMany", int(Plan, int, int*, int*, int, int, int*, int, int, int, int, size_t*)) \
  X(destroy, "cufftDestroy", int(Plan))                                                                       \
  X(set_auto_allocation, "cufftSetAutoAllocation", int(Plan, int))                                            \
  X(set_work_area, "cufftSetWorkArea", int(Plan, void*))                                                      \
  X(exec_c2c, "cufftExecC2C", int(Plan, void*, void*, int))                                                   \
  X(exec_r2c, "cufftExecR2C", int(Plan, void*, void*))                                                        \
  X(exec_c2r, "cufftExecC2R", int(Plan, void*, void*))                                                        \
  X(exec_z2z, "cufftExecZ2Z", int(Plan, void*, void*, int))                                                   \
  X(exec_d2z, "cufftExecD2Z", int(Plan, void*, void*))                                                        \
  X(exec_z2d, "cufftExecZ2D", int(Plan, void*, void*))

struct Api {
  HYPATIA_CUFFT_FUNCTIONS(HYPATIA_API_POINTER)
};

const Api* api() {
  static const Api* loaded = HYPATIA_LOAD_API(Api, HYPATIA_CUFFT_FUNCTIONS, "libcufft.so.12", "libcufft.so.11", "libcufft.so.10",
                                              "libcufft.so", "/usr/local/cuda/lib64/libcufft.so");
  return loaded;
}

void check(int status, const std::string& what) {
  if (status != 0) throw ValueError("[cuda] " + what + " failed (cuFFT status " + std::to_string(status) + ")");
}

// A plan per (context, precision, kind, lengths, batch), kept (the direction is chosen when executing), or
// nullopt where cuFFT refuses the geometry (remembered too); plans past the limit are made for their call.
// Plans share one work area per context, grown to the largest a plan asks for.
using PlanKey = std::tuple<CUcontext, bool, int, std::vector<int>, int64_t>;
constexpr size_t kMaxPlans = 512;

struct MadePlan {
  Plan plan = 0;
  size_t workspace = 0;  // bytes of work area it needs
};

int plan_type(FftKind kind, bool single) {
  switch (kind) {
    case FftKind::ComplexToComplex: return single ? kC2C : kZ2Z;
    case FftKind::RealToComplex: return single ? kR2C : kD2Z;
    case FftKind::ComplexToReal: return single ? kC2R : kZ2D;
  }
  return kC2C;
}

std::optional<MadePlan> make_plan(const FftGeometry& g, bool single) {
  // cuFFT plans 1 to 3 axes, a batch and distances within int.
  if (g.n.empty() || g.n.size() > 3 || g.howmany > INT_MAX || std::max(g.input_distance(), g.output_distance()) * g.howmany > INT_MAX)
    return std::nullopt;
  MadePlan made;
  check(api()->create(&made.plan), "cufftCreate");
  std::vector<int> n = g.n;
  // (Null embeddings: the batch's arrays are contiguous and tight, as FftGeometry's distances say.)
  int status = api()->set_auto_allocation(made.plan, 0);
  if (status == 0)
    status = api()->make_plan_many(made.plan, static_cast<int>(n.size()), n.data(), nullptr, 1, static_cast<int>(g.input_distance()),
                                   nullptr, 1, static_cast<int>(g.output_distance()), plan_type(g.kind, single),
                                   static_cast<int>(g.howmany), &made.workspace);
  if (status != 0) {
    api()->destroy(made.plan);
    return std::nullopt;  // (an invalid size, or one this cuFFT does not take: the host runs it)
  }
  return made;
}

// The context's work area, grown to `bytes` (the caller holds the plans' mutex).
void* work_area(CUcontext context, size_t bytes) {
  static auto* areas = new std::map<CUcontext, Scratch>();  // (used until exit)
  return reinterpret_cast<void*>((*areas)[context].at_least(bytes, "a cuFFT work area"));
}

}  // namespace

bool cufft_available() { return api() != nullptr; }

int cufft_version() {
  int version = 0;
  if (api()) api()->get_version(&version);
  return version;
}

bool fft(CUcontext context, const FftGeometry& g, const Array& in, CUdeviceptr in_base, Array& out, CUdeviceptr out_base) {
  const bool single = real_dtype(out.dtype()) == DType::Float32;
  static std::mutex mutex;
  static auto* plans = new std::map<PlanKey, std::optional<MadePlan>>();  // (kept until exit, as the library is)
  std::lock_guard<std::mutex> lock(mutex);  // (one transform at a time: the plans share their work area)
  const PlanKey key{context, single, static_cast<int>(g.kind), g.n, g.howmany};
  auto it = plans->find(key);
  if (it == plans->end() && plans->size() < kMaxPlans) it = plans->emplace(key, make_plan(g, single)).first;
  const bool owned = it == plans->end();  // a plan past the limit: made for this call, destroyed after it
  const std::optional<MadePlan> made = owned ? make_plan(g, single) : it->second;
  if (!made) return false;
  const Plan plan = made->plan;
  check(api()->set_work_area(plan, work_area(context, made->workspace)), "cufftSetWorkArea");
  auto* source = reinterpret_cast<void*>(in_base + static_cast<CUdeviceptr>(in.offset()) * in.itemsize());
  auto* target = reinterpret_cast<void*>(out_base + static_cast<CUdeviceptr>(out.offset()) * out.itemsize());
  const int direction = g.inverse ? kInverse : kForward;
  int status = 0;
  switch (g.kind) {
    case FftKind::ComplexToComplex:
      status = single ? api()->exec_c2c(plan, source, target, direction) : api()->exec_z2z(plan, source, target, direction);
      break;
    case FftKind::RealToComplex: status = single ? api()->exec_r2c(plan, source, target) : api()->exec_d2z(plan, source, target); break;
    case FftKind::ComplexToReal: status = single ? api()->exec_c2r(plan, source, target) : api()->exec_z2d(plan, source, target); break;
  }
  if (owned) api()->destroy(plan);
  check(status, "the transform of " + in.shape_dtype_str());
  return true;
}

}  // namespace hypatia::cuda
