#include "backend/cuda/driver.h"

#include <dlfcn.h>

#include <cstdlib>

#include "hypatia/error.h"

namespace hypatia::cuda {
namespace {

// CUdevice_attribute values (cuda.h).
constexpr int kComputeCapabilityMajor = 75, kComputeCapabilityMinor = 76;

// A status's name from the driver, or for the statuses a machine without a working driver gives (when
// even cuGetErrorName fails, as in the stub library) from this table.
std::string status_name(const DriverApi& api, CUresult status) {
  const char* name = nullptr;
  if (api.cuGetErrorName && api.cuGetErrorName(status, &name) == 0 && name) return name;
  switch (status) {
    case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
    case 3: return "CUDA_ERROR_NOT_INITIALIZED";
    case 34: return "CUDA_ERROR_STUB_LIBRARY";
    case 35: return "CUDA_ERROR_INSUFFICIENT_DRIVER";
    case 100: return "CUDA_ERROR_NO_DEVICE";
    default: return "CUDA error " + std::to_string(status);
  }
}

struct Loaded {
  DriverApi api;
  DriverProbe probe;
};

// Loads and initializes `library` (kept for the process, as drivers expect).
Loaded load(const std::string& library) {
  Loaded result;
  void* handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    result.probe.init_error = "no CUDA driver (" + library + ") is installed";
    return result;
  }
  auto resolve = [&](auto& pointer, const char* symbol) {
    if (!result.probe.missing.empty()) return;
    pointer = reinterpret_cast<std::remove_reference_t<decltype(pointer)>>(dlsym(handle, symbol));
    if (!pointer) result.probe.missing = symbol;
  };
#define HYPATIA_CUDA_RESOLVE(member, symbol, type) resolve(result.api.member, symbol);
  HYPATIA_CUDA_FUNCTIONS(HYPATIA_CUDA_RESOLVE)
#undef HYPATIA_CUDA_RESOLVE
  if (!result.probe.missing.empty()) {
    result.probe.init_error = library + " lacks " + result.probe.missing + " (a driver older than this build expects)";
    return result;
  }
  result.probe.loaded = true;
  result.api.cuDriverGetVersion(&result.probe.version);
  if (CUresult status = result.api.cuInit(0); status != 0) {
    result.probe.init_error = "cuInit: " + status_name(result.api, status) +
                              (status == 100 ? " (no CUDA GPU on this machine)"
                               : status == 34 ? " (the toolkit's stub library, not a driver)"
                                              : "");
  }
  return result;
}

const Loaded& process_driver() {
  static const Loaded* loaded = [] {
    const char* chosen = std::getenv("HYPATIA_CUDA_DRIVER");
    return new Loaded(load(chosen && *chosen ? chosen : "libcuda.so.1"));
  }();
  return *loaded;
}

}  // namespace

DriverProbe probe_driver(const std::string& library) { return load(library).probe; }

const DriverApi* driver() {
  const Loaded& loaded = process_driver();
  return loaded.probe.loaded && loaded.probe.init_error.empty() ? &loaded.api : nullptr;
}

std::string unavailable_reason() { return process_driver().probe.init_error; }

std::string driver_version() {
  const int version = process_driver().probe.version;
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

CUdeviceptr Scratch::at_least(size_t wanted, const char* what) {
  if (wanted <= bytes) return pointer;
  if (pointer) driver()->cuMemFree(pointer);
  pointer = 0;
  bytes = 0;
  if (CUresult status = driver()->cuMemAlloc(&pointer, wanted); status != 0)
    throw MemoryError(std::string("[cuda] cannot allocate ") + what + " of " + std::to_string(wanted) + " bytes (" +
                      error_text(status, "cuMemAlloc") + ")");
  bytes = wanted;
  return pointer;
}

std::string error_text(CUresult status, const std::string& what) {
  return what + ": " + status_name(process_driver().api, status);
}

const std::vector<DeviceInfo>& devices() {
  static const std::vector<DeviceInfo>* found = [] {
    auto* list = new std::vector<DeviceInfo>();
    const DriverApi* cu = driver();
    int count = 0;
    if (!cu || cu->cuDeviceGetCount(&count) != 0) return list;
    for (int i = 0; i < count; ++i) {
      DeviceInfo info;
      info.device = Device{Device::Kind::Cuda, 0, i};
      if (cu->cuDeviceGet(&info.handle, i) != 0) continue;
      char name[256] = {};
      cu->cuDeviceGetName(name, sizeof name - 1, info.handle);
      info.name = name;
      cu->cuDeviceGetAttribute(&info.major, kComputeCapabilityMajor, info.handle);
      cu->cuDeviceGetAttribute(&info.minor, kComputeCapabilityMinor, info.handle);
      list->push_back(info);
    }
    return list;
  }();
  return *found;
}

}  // namespace hypatia::cuda
