#include "backend/cuda/nvrtc.h"

#include <dlfcn.h>

#include <vector>

#include "hypatia/error.h"

namespace hypatia::cuda {
namespace {

// NVRTC's C API, declared here so building needs no CUDA headers (nvrtcResult is an int enum, 0 success).
using Program = struct _nvrtcProgram*;
struct Api {
  int (*version)(int*, int*) = nullptr;
  const char* (*error_string)(int) = nullptr;
  int (*create)(Program*, const char*, const char*, int, const char* const*, const char* const*) = nullptr;
  int (*destroy)(Program*) = nullptr;
  int (*compile)(Program, int, const char* const*) = nullptr;
  int (*ptx_size)(Program, size_t*) = nullptr;
  int (*ptx)(Program, char*) = nullptr;
  int (*cubin_size)(Program, size_t*) = nullptr;
  int (*cubin)(Program, char*) = nullptr;
  int (*log_size)(Program, size_t*) = nullptr;
  int (*log)(Program, char*) = nullptr;
  int (*num_archs)(int*) = nullptr;
  int (*archs)(int*) = nullptr;
};

const Api* api() {
  static const Api* loaded = []() -> const Api* {
    void* library = nullptr;
    for (const char* name : {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "/usr/local/cuda/lib64/libnvrtc.so"})
      if ((library = dlopen(name, RTLD_NOW | RTLD_LOCAL))) break;
    if (!library) return nullptr;
    auto* found = new Api();  // kept for the process, as the library is
    auto resolve = [&](auto& pointer, const char* symbol) {
      pointer = reinterpret_cast<std::remove_reference_t<decltype(pointer)>>(dlsym(library, symbol));
      return pointer != nullptr;
    };
    const bool all = resolve(found->version, "nvrtcVersion") && resolve(found->error_string, "nvrtcGetErrorString") &&
                     resolve(found->create, "nvrtcCreateProgram") && resolve(found->destroy, "nvrtcDestroyProgram") &&
                     resolve(found->compile, "nvrtcCompileProgram") && resolve(found->ptx_size, "nvrtcGetPTXSize") &&
                     resolve(found->ptx, "nvrtcGetPTX") && resolve(found->cubin_size, "nvrtcGetCUBINSize") &&
                     resolve(found->cubin, "nvrtcGetCUBIN") && resolve(found->log_size, "nvrtcGetProgramLogSize") &&
                     resolve(found->log, "nvrtcGetProgramLog") && resolve(found->num_archs, "nvrtcGetNumSupportedArchs") &&
                     resolve(found->archs, "nvrtcGetSupportedArchs");
    return all ? found : nullptr;
  }();
  return loaded;
}

}  // namespace

bool nvrtc_available() { return api() != nullptr; }

std::string nvrtc_version() {
  int major = 0, minor = 0;
  if (!api() || api()->version(&major, &minor) != 0) return "";
  return std::to_string(major) + "." + std::to_string(minor);
}

std::vector<int> supported_architectures() {
  int count = 0;
  if (!api() || api()->num_archs(&count) != 0 || count <= 0) return {};
  std::vector<int> archs(count);
  if (api()->archs(archs.data()) != 0) return {};
  return archs;
}

Compiled compile(const std::string& source, const std::string& architecture, const std::string& name) {
  if (!api()) throw ValueError("[cuda] NVRTC (libnvrtc.so, from the CUDA toolkit) is not installed");
  Program program = nullptr;
  if (int status = api()->create(&program, source.c_str(), name.c_str(), 0, nullptr, nullptr); status != 0)
    throw ValueError(std::string("[cuda] nvrtcCreateProgram: ") + api()->error_string(status));
  const std::string arch = "--gpu-architecture=" + architecture;
  // No fused multiply-adds: the CPU kernels (built with -ffp-contract=off) and the reference round each
  // product, and device results are compared with theirs.
  const char* options[] = {arch.c_str(), "--std=c++17", "-default-device", "--fmad=false"};
  Compiled result;
  result.ok = api()->compile(program, 4, options) == 0;
  size_t size = 0;
  if (api()->log_size(program, &size) == 0 && size > 1) {
    result.log.resize(size);
    api()->log(program, result.log.data());
    while (!result.log.empty() && result.log.back() == '\0') result.log.pop_back();
  }
  if (result.ok) {
    if (api()->ptx_size(program, &size) == 0 && size) {
      result.ptx.resize(size);
      api()->ptx(program, result.ptx.data());
    }
    if (architecture.rfind("sm_", 0) == 0 && api()->cubin_size(program, &size) == 0 && size) {
      result.cubin.resize(size);
      api()->cubin(program, result.cubin.data());
    }
  }
  api()->destroy(&program);
  return result;
}

}  // namespace hypatia::cuda
