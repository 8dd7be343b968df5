// The CUDA driver API, loaded at run time (dlopen of libcuda.so.1, which only a machine with an NVIDIA
// driver has), so the library builds, loads and passes its tests where there is no GPU. Types are
// declared here, not taken from cuda.h, so building needs no CUDA headers either.
#pragma once
#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "hypatia/device.h"

namespace hypatia::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUstream = struct CUstream_st*;

#define HYPATIA_CUDA_FUNCTIONS(X)                                                                                 \
  X(cuInit, "cuInit", CUresult(unsigned))                                                                     \
  X(cuDriverGetVersion, "cuDriverGetVersion", CUresult(int*))                                                 \
  X(cuGetErrorName, "cuGetErrorName", CUresult(CUresult, const char**))                                      \
  X(cuDeviceGetCount, "cuDeviceGetCount", CUresult(int*))                                                     \
  X(cuDeviceGet, "cuDeviceGet", CUresult(CUdevice*, int))                                                     \
  X(cuDeviceGetName, "cuDeviceGetName", CUresult(char*, int, CUdevice))                                       \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute", CUresult(int*, int, CUdevice))                              \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", CUresult(CUcontext*, CUdevice))                     \
  X(cuCtxSetCurrent, "cuCtxSetCurrent", CUresult(CUcontext))                                                  \
  X(cuCtxSynchronize, "cuCtxSynchronize", CUresult())                                                         \
  X(cuMemAlloc, "cuMemAlloc_v2", CUresult(CUdeviceptr*, size_t))                                              \
  X(cuMemFree, "cuMemFree_v2", CUresult(CUdeviceptr))                                                         \
  X(cuMemcpyHtoD, "cuMemcpyHtoD_v2", CUresult(CUdeviceptr, const void*, size_t))                              \
  X(cuMemcpyDtoH, "cuMemcpyDtoH_v2", CUresult(void*, CUdeviceptr, size_t))                                    \
  X(cuModuleLoadData, "cuModuleLoadData", CUresult(CUmodule*, const void*))                                   \
  X(cuModuleGetFunction, "cuModuleGetFunction", CUresult(CUfunction*, CUmodule, const char*))                 \
  X(cuLaunchKernel, "cuLaunchKernel",                                                                             \
    CUresult(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream, void**, \
             void**))

struct DriverApi {
#define HYPATIA_CUDA_POINTER(member, symbol, signature) std::add_pointer_t<signature> member = nullptr;
  HYPATIA_CUDA_FUNCTIONS(HYPATIA_CUDA_POINTER)
#undef HYPATIA_CUDA_POINTER
};

// What loading a driver library found: every function resolved (else `missing` names the first absent
// symbol), and cuInit's result ("" when it succeeded, else the error's name and what it means here).
struct DriverProbe {
  bool loaded = false;
  std::string missing, init_error;
  int version = 0;  // cuDriverGetVersion: 13000 for 13.0
};
// Loads `library` on its own (a test checks the toolkit's stub libcuda.so resolves every symbol).
DriverProbe probe_driver(const std::string& library);

// The process's driver (libcuda.so.1, or the file HYPATIA_CUDA_DRIVER names), initialized; null when
// there is none or cuInit failed; unavailable_reason() then says why.
const DriverApi* driver();
std::string unavailable_reason();
// The process's driver version as "13.0" (cuDriverGetVersion, read once when it was loaded).
std::string driver_version();

// "cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY".
std::string error_text(CUresult status, const std::string& what);

struct DeviceInfo {
  Device device;
  CUdevice handle = 0;
  std::string name;
  int major = 0, minor = 0;  // compute capability
};
// Device memory a library works in (cuDNN's, cuSOLVER's, cuFFT's workspaces), one per context, grown to
// the largest size asked: the old buffer is freed first (cuMemFree waits for the work queued on the legacy
// default stream, where every library call runs). Callers serialize their use.
struct Scratch {
  CUdeviceptr pointer = 0;
  size_t bytes = 0;
  // At least `bytes` of it, in the current context; MemoryError naming `what` when there is no room.
  CUdeviceptr at_least(size_t wanted, const char* what);
};

// The CUDA devices present (none without a driver or GPU).
const std::vector<DeviceInfo>& devices();

}  // namespace hypatia::cuda
