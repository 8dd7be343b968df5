// The OpenCL runtime: the ICD loader's functions resolved at run time (dlopen), so the library loads and
// runs on machines without OpenCL; one context and in-order queue per device; device buffers; programs
// built once per source text and kept.
#pragma once
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "hypatia/array.h"

namespace hypatia::opencl {

#define HYPATIA_CL_FUNCTIONS(X)                                                                            \
  X(clGetPlatformIDs) X(clGetPlatformInfo) X(clGetDeviceIDs) X(clGetDeviceInfo) X(clCreateContext)         \
  X(clReleaseContext) X(clCreateCommandQueue) X(clReleaseCommandQueue) X(clCreateBuffer)                   \
  X(clReleaseMemObject) X(clEnqueueWriteBuffer) X(clEnqueueReadBuffer) X(clEnqueueCopyBuffer)              \
  X(clEnqueueFillBuffer) X(clCreateProgramWithSource) X(clBuildProgram) X(clGetProgramBuildInfo)           \
  X(clReleaseProgram) X(clCreateKernel) X(clReleaseKernel) X(clSetKernelArg) X(clEnqueueNDRangeKernel)     \
  X(clFinish) X(clCreateProgramWithBinary) X(clGetProgramInfo)

struct Api {
#define HYPATIA_CL_POINTER(name) decltype(&::name) name = nullptr;
  HYPATIA_CL_FUNCTIONS(HYPATIA_CL_POINTER)
#undef HYPATIA_CL_POINTER
};

// The loaded functions; null when no OpenCL ICD loader is installed.
const Api* api();

// Every OpenCL device of every platform, as opencl<platform>:<device>, with its name.
struct DeviceInfo {
  Device device;
  std::string name;
};
const std::vector<DeviceInfo>& devices();

// A device's context, queue and built programs (one per device, for the process).
class Context {
 public:
  Context(cl_platform_id platform, cl_device_id id, Device device, std::string name);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  const Device& device() const { return device_; }
  const std::string& name() const { return name_; }
  cl_context context() const { return context_; }
  cl_command_queue queue() const { return queue_; }
  bool has_double() const { return has_double_; }
  size_t max_alloc() const { return max_alloc_; }  // the largest buffer the device allows
  // The kernel `name` of the program built from `source` (built once per source, its binary kept under
  // compiledir/opencl/ for later processes; ValueError with the build log when it does not compile).
  cl_kernel kernel(const std::string& source, const std::string& name);

 private:
  Device device_;
  std::string name_;
  cl_device_id id_ = nullptr;
  cl_context context_ = nullptr;
  cl_command_queue queue_ = nullptr;
  bool has_double_ = false;
  std::string identity_;  // the device, its version and its driver's: part of a cached binary's key
  size_t max_alloc_ = SIZE_MAX;
  std::mutex mutex_;
  std::unordered_map<std::string, cl_program> programs_;
  std::unordered_map<std::string, cl_kernel> kernels_;

  // A program built from the cached binary of `source`, or null when there is none (or it does not load).
  cl_program from_cached_binary(const std::string& path);
  void cache_binary(cl_program program, const std::string& path);
};

// The context of `device`: ValueError naming the OpenCL devices present when it is not one of them.
Context& context_for(const Device& device);

// A buffer in a device's memory.
class Buffer final : public DeviceBuffer {
 public:
  Buffer(Context& context, size_t nbytes);
  ~Buffer() override;
  Device device() const override { return context_.device(); }
  cl_mem mem() const { return mem_; }
  Context& context() const { return context_; }

 private:
  Context& context_;
  cl_mem mem_ = nullptr;
};

// Device arrays (contiguous): a new one, a copy of a host array, and a host copy of a device array.
Array empty(Context& context, const Shape& shape, DType dtype);
Array to_device(Context& context, const Array& host);
Array to_host(const Array& value);
// The buffer and element offset of a device array.
const Buffer& buffer_of(const Array& value);

// Throws ValueError("[opencl] <what>: <error name>") unless status is CL_SUCCESS.
void check(cl_int status, const std::string& what);

}  // namespace hypatia::opencl
