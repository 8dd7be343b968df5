#include "backend/opencl/fft.h"

#include <clFFT.h>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include "backend/dynamic_library.h"
#include "hypatia/error.h"

namespace hypatia::opencl {
namespace {

#define HYPATIA_CLFFT_FUNCTIONS(X)                                        \
  X(setup, "clfftSetup", decltype(clfftSetup))                              \
  X(create_plan, "clfftCreateDefaultPlan", decltype(clfftCreateDefaultPlan)) \
  X(destroy_plan, "clfftDestroyPlan", decltype(clfftDestroyPlan))           \
  X(set_precision, "clfftSetPlanPrecision", decltype(clfftSetPlanPrecision)) \
  X(set_layout, "clfftSetLayout", decltype(clfftSetLayout))                 \
  X(set_location, "clfftSetResultLocation", decltype(clfftSetResultLocation)) \
  X(set_batch, "clfftSetPlanBatchSize", decltype(clfftSetPlanBatchSize))    \
  X(set_in_strides, "clfftSetPlanInStride", decltype(clfftSetPlanInStride)) \
  X(set_out_strides, "clfftSetPlanOutStride", decltype(clfftSetPlanOutStride)) \
  X(set_distance, "clfftSetPlanDistance", decltype(clfftSetPlanDistance))   \
  X(set_scale, "clfftSetPlanScale", decltype(clfftSetPlanScale))            \
  X(bake, "clfftBakePlan", decltype(clfftBakePlan))                         \
  X(enqueue, "clfftEnqueueTransform", decltype(clfftEnqueueTransform))      \
  X(teardown, "clfftTeardown", decltype(clfftTeardown))

struct Functions {
  HYPATIA_CLFFT_FUNCTIONS(HYPATIA_API_POINTER)
};

const Functions* functions() {
  static const Functions* loaded = []() -> const Functions* {
    const Functions* found = HYPATIA_LOAD_API(Functions, HYPATIA_CLFFT_FUNCTIONS, "libclFFT.so.2");
    if (!found) return nullptr;
    clfftSetupData setup;
    clfftInitSetupData(&setup);
    if (found->setup(&setup) != CLFFT_SUCCESS) return nullptr;
    // Released before the library's own destructor runs (which otherwise warns on stderr at exit).
    std::atexit([] { functions()->teardown(); });
    return found;
  }();
  return loaded;
}

// A plan per (context, precision, kind, direction, lengths, batch), baked once and kept (null: clFFT
// cannot plan it, remembered too); plans past the limit are made for their call.
using PlanKey = std::tuple<cl_context, bool, int, bool, std::vector<int>, int64_t>;
constexpr size_t kMaxPlans = 512;

// A baked plan for `g` on the context's queue, or nullopt where clFFT refuses it.
std::optional<clfftPlanHandle> make_plan(Context& context, const FftGeometry& g, bool single) {
  const Functions& f = *functions();
  // clFFT's first dimension is the fastest varying: the row-major lengths reversed, with tight strides.
  std::vector<size_t> lengths(g.n.rbegin(), g.n.rend()), in_strides, out_strides;
  const size_t half = static_cast<size_t>(g.n.back() / 2 + 1);
  size_t in_stride = 1, out_stride = 1;
  for (size_t d = 0; d < lengths.size(); ++d) {
    in_strides.push_back(in_stride);
    out_strides.push_back(out_stride);
    in_stride *= d == 0 && g.kind == FftKind::ComplexToReal ? half : lengths[d];
    out_stride *= d == 0 && g.kind == FftKind::RealToComplex ? half : lengths[d];
  }
  clfftPlanHandle plan = 0;
  const auto dim = static_cast<clfftDim>(lengths.size());
  if (f.create_plan(&plan, context.context(), dim, lengths.data()) != CLFFT_SUCCESS) return std::nullopt;
  const clfftLayout in_layout = g.kind == FftKind::RealToComplex   ? CLFFT_REAL
                                : g.kind == FftKind::ComplexToReal ? CLFFT_HERMITIAN_INTERLEAVED
                                                                   : CLFFT_COMPLEX_INTERLEAVED;
  const clfftLayout out_layout = g.kind == FftKind::RealToComplex   ? CLFFT_HERMITIAN_INTERLEAVED
                                 : g.kind == FftKind::ComplexToReal ? CLFFT_REAL
                                                                    : CLFFT_COMPLEX_INTERLEAVED;
  cl_command_queue queue = context.queue();
  const bool made = f.set_precision(plan, single ? CLFFT_SINGLE : CLFFT_DOUBLE) == CLFFT_SUCCESS &&
                    f.set_layout(plan, in_layout, out_layout) == CLFFT_SUCCESS &&
                    f.set_location(plan, CLFFT_OUTOFPLACE) == CLFFT_SUCCESS &&
                    f.set_batch(plan, static_cast<size_t>(g.howmany)) == CLFFT_SUCCESS &&
                    f.set_in_strides(plan, dim, in_strides.data()) == CLFFT_SUCCESS &&
                    f.set_out_strides(plan, dim, out_strides.data()) == CLFFT_SUCCESS &&
                    f.set_distance(plan, static_cast<size_t>(g.input_distance()), static_cast<size_t>(g.output_distance())) ==
                        CLFFT_SUCCESS &&
                    // (clFFT scales backward transforms by 1/n unless told otherwise: the caller scales.)
                    f.set_scale(plan, CLFFT_FORWARD, 1.0f) == CLFFT_SUCCESS && f.set_scale(plan, CLFFT_BACKWARD, 1.0f) == CLFFT_SUCCESS &&
                    f.bake(plan, 1, &queue, nullptr, nullptr) == CLFFT_SUCCESS;
  if (!made) {
    f.destroy_plan(&plan);
    return std::nullopt;
  }
  return plan;
}

}  // namespace

bool clfft_available() { return api() && functions(); }

bool fft(Context& context, const FftGeometry& g, const Array& in, Array& out) {
  if (!clfft_available() || g.n.size() > 3 || in.offset() != 0 || out.offset() != 0) return false;
  const bool single = real_dtype(out.dtype()) == DType::Float32;
  static std::mutex mutex;
  static auto* plans = new std::map<PlanKey, std::optional<clfftPlanHandle>>();  // (kept until exit, as clFFT's state)
  std::lock_guard<std::mutex> lock(mutex);  // (one transform at a time: a plan holds its queue's arguments)
  const PlanKey key{context.context(), single, static_cast<int>(g.kind), g.inverse, g.n, g.howmany};
  auto it = plans->find(key);
  if (it == plans->end() && plans->size() < kMaxPlans) it = plans->emplace(key, make_plan(context, g, single)).first;
  const bool owned = it == plans->end();  // a plan past the limit: made for this call, destroyed after it
  std::optional<clfftPlanHandle> plan = owned ? make_plan(context, g, single) : it->second;
  if (!plan) return false;
  cl_command_queue queue = context.queue();
  cl_mem in_mem = buffer_of(in).mem(), out_mem = buffer_of(out).mem();
  const clfftStatus status = functions()->enqueue(*plan, g.inverse ? CLFFT_BACKWARD : CLFFT_FORWARD, 1, &queue, 0, nullptr, nullptr,
                                                  &in_mem, &out_mem, nullptr);
  if (owned) functions()->destroy_plan(&*plan);
  if (status != CLFFT_SUCCESS)
    throw ValueError("[opencl] clFFT transform of " + in.shape_dtype_str() + " failed with status " + std::to_string(static_cast<int>(status)));
  return true;
}

}  // namespace hypatia::opencl
