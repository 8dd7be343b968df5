#include "backend/opencl/opencl_backend.h"

#include <mutex>

#include "backend/gpu/gpu_backend.h"
#include "backend/opencl/blas.h"
#include "backend/opencl/fft.h"
#include "backend/opencl/runtime.h"

namespace hypatia {
namespace {

// The GPU runtime interface over one OpenCL device's context and in-order queue.
class OpenCLRuntime final : public GpuRuntime {
 public:
  explicit OpenCLRuntime(opencl::Context& context) : context_(context) {}
  Device device() const override { return context_.device(); }
  GpuDialect dialect() const override { return GpuDialect::OpenCL; }
  bool has_double() const override { return context_.has_double(); }
  Array empty(const Shape& shape, DType dtype) override { return opencl::empty(context_, shape, dtype); }
  Array to_device(const Array& host) override { return opencl::to_device(context_, host); }
  Array to_host(const Array& value) override { return opencl::to_host(value); }

  // Work items in whole groups of 64. Arguments belong to the kernel object: one launch at a time.
  void launch(const std::string& source, const std::string& name, const std::vector<const Array*>& arrays,
              const std::vector<int64_t>& scalars, int64_t total) override {
    cl_kernel kernel = context_.kernel(source, name);
    std::lock_guard<std::mutex> lock(launch_mutex_);
    const opencl::Api& cl = *opencl::api();
    cl_uint arg = 0;
    for (const Array* array : arrays) {
      cl_mem mem = opencl::buffer_of(*array).mem();
      opencl::check(cl.clSetKernelArg(kernel, arg++, sizeof(cl_mem), &mem), "setting an argument of " + name);
    }
    for (int64_t scalar : scalars) {
      const cl_long value = scalar;
      opencl::check(cl.clSetKernelArg(kernel, arg++, sizeof(cl_long), &value), "setting an argument of " + name);
    }
    const size_t local = 64, global = (static_cast<size_t>(total) + local - 1) / local * local;
    opencl::check(cl.clEnqueueNDRangeKernel(context_.queue(), kernel, 1, nullptr, &global, &local, 0, nullptr, nullptr),
                  "running " + name + " on " + context_.device().str());
  }

  bool has_blas() const override { return opencl::clblast_available(); }
  void gemm(double alpha, const Array& a, const Array& b, double beta, Array& c) override {
    opencl::gemm(context_, alpha, a, b, beta, c);
  }
  bool has_fft() const override { return opencl::clfft_available(); }
  bool fft(const FftGeometry& g, Array& in, Array& out) override { return opencl::fft(context_, g, in, out); }

 private:
  opencl::Context& context_;
  std::mutex launch_mutex_;
};

}  // namespace

std::unique_ptr<GpuRuntime> opencl_runtime(const Device& device) {
  return std::make_unique<OpenCLRuntime>(opencl::context_for(device));
}

const Backend& opencl_backend(const Device& device) {
  return gpu_backend_for(device, [&] { return opencl_runtime(device); });
}

}  // namespace hypatia
