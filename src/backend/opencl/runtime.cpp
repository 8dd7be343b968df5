#include "backend/opencl/runtime.h"

#include <dlfcn.h>

#include <cstring>

#include <filesystem>
#include <fstream>

#include "backend/checked_file.h"
#include "codegen/cpu_source.h"
#include "hypatia/config.h"
#include "hypatia/error.h"

namespace hypatia::opencl {

void check(cl_int status, const std::string& what) {
  if (status == CL_SUCCESS) return;
  if (status == CL_MEM_OBJECT_ALLOCATION_FAILURE || status == CL_OUT_OF_RESOURCES || status == CL_OUT_OF_HOST_MEMORY)
    throw MemoryError("[opencl] " + what + ": out of memory (OpenCL error " + std::to_string(status) + ")");
  throw ValueError("[opencl] " + what + ": OpenCL error " + std::to_string(status));
}

const Api* api() {
  static const Api* loaded = []() -> const Api* {
    void* library = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!library) library = dlopen("libOpenCL.so", RTLD_NOW | RTLD_LOCAL);
    if (!library) return nullptr;
    auto* functions = new Api();  // kept for the process, as the library is
#define HYPATIA_CL_RESOLVE(name)                                                   \
  functions->name = reinterpret_cast<decltype(&::name)>(dlsym(library, #name));   \
  if (!functions->name) return nullptr;
    HYPATIA_CL_FUNCTIONS(HYPATIA_CL_RESOLVE)
#undef HYPATIA_CL_RESOLVE
    return functions;
  }();
  return loaded;
}

namespace {

std::string device_string(cl_device_id id, cl_device_info what) {
  size_t size = 0;
  if (api()->clGetDeviceInfo(id, what, 0, nullptr, &size) != CL_SUCCESS || size == 0) return "";
  std::string text(size, '\0');
  api()->clGetDeviceInfo(id, what, size, text.data(), nullptr);
  while (!text.empty() && text.back() == '\0') text.pop_back();
  return text;
}

struct Found {
  DeviceInfo info;
  cl_platform_id platform;
  cl_device_id id;
};

const std::vector<Found>& found() {
  static const std::vector<Found> all = [] {
    std::vector<Found> result;
    if (!api()) return result;
    cl_uint num_platforms = 0;
    if (api()->clGetPlatformIDs(0, nullptr, &num_platforms) != CL_SUCCESS || num_platforms == 0) return result;
    std::vector<cl_platform_id> platforms(num_platforms);
    api()->clGetPlatformIDs(num_platforms, platforms.data(), nullptr);
    for (cl_uint p = 0; p < num_platforms; ++p) {
      cl_uint num_devices = 0;
      if (api()->clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, nullptr, &num_devices) != CL_SUCCESS) continue;
      std::vector<cl_device_id> ids(num_devices);
      api()->clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, num_devices, ids.data(), nullptr);
      for (cl_uint d = 0; d < num_devices; ++d) {
        Device device{Device::Kind::OpenCL, static_cast<int>(p), static_cast<int>(d)};
        result.push_back({{device, device_string(ids[d], CL_DEVICE_NAME)}, platforms[p], ids[d]});
      }
    }
    return result;
  }();
  return all;
}

}  // namespace

const std::vector<DeviceInfo>& devices() {
  static const std::vector<DeviceInfo> infos = [] {
    std::vector<DeviceInfo> result;
    for (const Found& f : found()) result.push_back(f.info);
    return result;
  }();
  return infos;
}

Context::Context(cl_platform_id platform, cl_device_id id, Device device, std::string name)
    : device_(device), name_(std::move(name)), id_(id) {
  const cl_context_properties properties[] = {CL_CONTEXT_PLATFORM, reinterpret_cast<cl_context_properties>(platform), 0};
  cl_int status = CL_SUCCESS;
  context_ = api()->clCreateContext(properties, 1, &id_, nullptr, nullptr, &status);
  check(status, "creating a context on " + device_.str());
  queue_ = api()->clCreateCommandQueue(context_, id_, 0, &status);
  check(status, "creating a queue on " + device_.str());
  has_double_ = device_string(id_, CL_DEVICE_EXTENSIONS).find("cl_khr_fp64") != std::string::npos;
  identity_ = name_ + "|" + device_string(id_, CL_DEVICE_VERSION) + "|" + device_string(id_, CL_DRIVER_VERSION);
  cl_ulong max_alloc = 0;
  if (api()->clGetDeviceInfo(id_, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, nullptr) == CL_SUCCESS)
    max_alloc_ = max_alloc;
}

Context::~Context() {
  for (auto& [key, kernel] : kernels_) api()->clReleaseKernel(kernel);
  for (auto& [key, program] : programs_) api()->clReleaseProgram(program);
  if (queue_) api()->clReleaseCommandQueue(queue_);
  if (context_) api()->clReleaseContext(context_);
}

cl_kernel Context::kernel(const std::string& source, const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string key = name + '\n' + source;
  if (auto it = kernels_.find(key); it != kernels_.end()) return it->second;
  cl_program& program = programs_[source];
  const std::string binary_path = config().compiledir + "/opencl/" + hex64(stable_hash(source + "|" + identity_)) + ".bin";
  if (!program) program = from_cached_binary(binary_path);
  if (!program) {
    const char* text = source.c_str();
    const size_t length = source.size();
    cl_int status = CL_SUCCESS;
    program = api()->clCreateProgramWithSource(context_, 1, &text, &length, &status);
    check(status, "creating a program");
    if (api()->clBuildProgram(program, 1, &id_, "-cl-std=CL1.2", nullptr, nullptr) != CL_SUCCESS) {
      size_t size = 0;
      api()->clGetProgramBuildInfo(program, id_, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size);
      std::string log(size, '\0');
      api()->clGetProgramBuildInfo(program, id_, CL_PROGRAM_BUILD_LOG, size, log.data(), nullptr);
      while (!log.empty() && log.back() == '\0') log.pop_back();
      api()->clReleaseProgram(program);
      programs_.erase(source);
      // The source is kept where the CPU modules are, so the message can name a file to open.
      std::string path = config().compiledir + "/opencl/" + name + ".cl";
      std::error_code ignored;
      std::filesystem::create_directories(config().compiledir + "/opencl", ignored);
      if (std::ofstream file(path); file) file << source;
      else path = "(not written)";
      throw ValueError("[opencl] the generated kernel " + name + " does not compile on " + device_.str() + " (source: " + path +
                       "):\n" + log);
    }
    cache_binary(program, binary_path);
  }
  cl_int status = CL_SUCCESS;
  cl_kernel kernel = api()->clCreateKernel(program, name.c_str(), &status);
  check(status, "creating kernel " + name);
  kernels_[key] = kernel;
  return kernel;
}

cl_program Context::from_cached_binary(const std::string& path) {
  const std::string binary = read_checked_file(path);
  if (binary.empty()) return nullptr;
  const auto* bytes = reinterpret_cast<const unsigned char*>(binary.data());
  const size_t size = binary.size();
  cl_int binary_status = CL_SUCCESS, status = CL_SUCCESS;
  cl_program program = api()->clCreateProgramWithBinary(context_, 1, &id_, &size, &bytes, &binary_status, &status);
  if (status != CL_SUCCESS || binary_status != CL_SUCCESS) {
    if (program) api()->clReleaseProgram(program);
    return nullptr;
  }
  // (A binary still needs building; one the driver no longer takes is compiled from source again.)
  if (api()->clBuildProgram(program, 1, &id_, "-cl-std=CL1.2", nullptr, nullptr) != CL_SUCCESS) {
    api()->clReleaseProgram(program);
    return nullptr;
  }
  return program;
}

void Context::cache_binary(cl_program program, const std::string& path) {
  size_t size = 0;
  if (api()->clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, nullptr) != CL_SUCCESS || size == 0) return;
  std::string binary(size, '\0');
  unsigned char* bytes = reinterpret_cast<unsigned char*>(binary.data());
  if (api()->clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof bytes, &bytes, nullptr) != CL_SUCCESS) return;
  write_checked_file(path, binary);
}

Context& context_for(const Device& device) {
  // Never destroyed: buffers and kernels may be released until the process exits, after static destructors.
  static std::mutex mutex;
  static auto* contexts = new std::unordered_map<std::string, std::unique_ptr<Context>>();
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = contexts->find(device.str()); it != contexts->end()) return *it->second;
  for (const Found& f : found())
    if (f.info.device == device)
      return *((*contexts)[device.str()] = std::make_unique<Context>(f.platform, f.id, device, f.info.name));
  std::string have;
  for (const Found& f : found()) have += (have.empty() ? "" : ", ") + f.info.device.str() + " (" + f.info.name + ")";
  std::string all;
  for (const Device& d : available_devices()) all += (all.empty() ? "" : ", ") + d.str();
  throw ValueError("[device] " + device.str() + " is not an OpenCL device here" +
                   (api() ? " (OpenCL devices: " + (have.empty() ? std::string("none") : have) + ")"
                          : std::string(" (no OpenCL ICD loader, libOpenCL.so.1, is installed)")) +
                   "; devices here: " + all);
}

Buffer::Buffer(Context& context, size_t nbytes) : context_(context) {
  // (Some implementations, PoCL among them, accept larger requests and fail only when the memory is used.)
  if (nbytes > context.max_alloc())
    throw MemoryError("[opencl] cannot allocate " + std::to_string(nbytes) + " bytes on " + context.device().str() +
                      " (its largest buffer is " + std::to_string(context.max_alloc()) + " bytes)");
  cl_int status = CL_SUCCESS;
  mem_ = api()->clCreateBuffer(context.context(), CL_MEM_READ_WRITE, nbytes == 0 ? 1 : nbytes, nullptr, &status);
  if (status != CL_SUCCESS)
    throw MemoryError("[opencl] cannot allocate " + std::to_string(nbytes) + " bytes on " + context.device().str() +
                      " (OpenCL error " + std::to_string(status) + ")");
}

Buffer::~Buffer() {
  if (mem_) api()->clReleaseMemObject(mem_);
}

Array empty(Context& context, const Shape& shape, DType dtype) {
  const size_t nbytes = static_cast<size_t>(shape_size(shape)) * dtype_size(dtype);
  auto storage = std::make_shared<Storage>(std::make_shared<Buffer>(context, nbytes), nbytes);
  return Array(dtype, shape, std::move(storage), contiguous_strides(shape), 0);
}

const Buffer& buffer_of(const Array& value) {
  const auto* buffer = value.storage() ? dynamic_cast<const Buffer*>(value.storage()->device_buffer()) : nullptr;
  if (!buffer) throw ValueError("[opencl] a " + value.shape_dtype_str() + " value in " + value.device().str() + " is not in OpenCL memory");
  return *buffer;
}

Array to_device(Context& context, const Array& host) {
  const Array contiguous = host.contiguous();
  Array result = empty(context, contiguous.shape(), contiguous.dtype());
  const size_t nbytes = static_cast<size_t>(contiguous.size()) * contiguous.itemsize();
  if (nbytes)
    check(api()->clEnqueueWriteBuffer(context.queue(), buffer_of(result).mem(), CL_TRUE, 0, nbytes, contiguous.raw_data(), 0,
                                      nullptr, nullptr),
          "copying " + std::to_string(nbytes) + " bytes to " + context.device().str());
  return result;
}

Array to_host(const Array& value) {
  const Buffer& buffer = buffer_of(value);
  if (!value.is_contiguous()) {
    // A view (a transpose made on the device): its whole buffer comes over, then the view is copied.
    const size_t whole = value.storage()->nbytes();
    auto storage = std::make_shared<Storage>(whole);
    if (whole)
      check(api()->clEnqueueReadBuffer(buffer.context().queue(), buffer.mem(), CL_TRUE, 0, whole, storage->data(), 0, nullptr,
                                       nullptr),
            "copying " + std::to_string(whole) + " bytes from " + value.device().str());
    return Array(value.dtype(), value.shape(), std::move(storage), value.strides(), value.offset()).copy();
  }
  Array result = Array::empty(value.shape(), value.dtype());
  const size_t nbytes = static_cast<size_t>(value.size()) * value.itemsize();
  if (nbytes)
    check(api()->clEnqueueReadBuffer(buffer.context().queue(), buffer.mem(), CL_TRUE,
                                     static_cast<size_t>(value.offset()) * value.itemsize(), nbytes, result.raw_data(), 0,
                                     nullptr, nullptr),
          "copying " + std::to_string(nbytes) + " bytes from " + value.device().str());
  return result;
}

}  // namespace hypatia::opencl
