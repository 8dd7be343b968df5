#include "backend/cuda/cuda_backend.h"

#include <mutex>
#include <unordered_map>

#include "backend/cuda/cublas.h"
#include "backend/cuda/cudnn.h"
#include "backend/cuda/cufft.h"
#include "backend/cuda/cusolver.h"
#include "backend/cuda/cusparse.h"
#include "hypatia/sparse_array.h"
#include "backend/cuda/driver.h"
#include "backend/cuda/kernel_cache.h"
#include "backend/cuda/nvrtc.h"
#include "backend/gpu/gpu_backend.h"
#include "ops/conv.h"
#include "ops/pool.h"

namespace hypatia {
namespace {

using namespace cuda;

void check(CUresult status, const std::string& what) {
  if (status != 0) throw ValueError("[cuda] " + error_text(status, what));
}

// Memory from cuMemAlloc in one device's primary context.
class Buffer final : public DeviceBuffer {
 public:
  Buffer(Device device, CUcontext context, size_t nbytes) : device_(device), context_(context) {
    driver()->cuCtxSetCurrent(context_);
    if (CUresult status = driver()->cuMemAlloc(&pointer_, nbytes == 0 ? 1 : nbytes); status != 0)
      throw MemoryError("[cuda] cannot allocate " + std::to_string(nbytes) + " bytes on " + device.str() + " (" +
                        error_text(status, "cuMemAlloc") + ")");
  }
  ~Buffer() override {
    driver()->cuCtxSetCurrent(context_);
    driver()->cuMemFree(pointer_);
  }
  Device device() const override { return device_; }
  CUdeviceptr pointer() const { return pointer_; }

 private:
  Device device_;
  CUcontext context_;
  CUdeviceptr pointer_ = 0;
};

// The buffer of a value in `device`'s memory (a value on another device would be an illegal address).
CUdeviceptr pointer_of(const Array& value, const Device& device) {
  const auto* buffer = value.storage() ? dynamic_cast<const Buffer*>(value.storage()->device_buffer()) : nullptr;
  if (!buffer || buffer->device() != device)
    throw ValueError("[cuda] a " + value.shape_dtype_str() + " value in " + value.device().str() + " is not in " + device.str() +
                     "'s memory");
  return buffer->pointer();
}

// One device: its primary context, the legacy default stream (so the synchronous copies order with the
// kernels), and the kernels loaded so far.
class CudaRuntime final : public GpuRuntime {
 public:
  explicit CudaRuntime(const DeviceInfo& info) : info_(info) {
    check(driver()->cuDevicePrimaryCtxRetain(&context_, info.handle), "cuDevicePrimaryCtxRetain");
    architecture_ = "sm_" + std::to_string(info.major * 10 + info.minor);
  }
  Device device() const override { return info_.device; }
  GpuDialect dialect() const override { return GpuDialect::Cuda; }
  bool has_double() const override { return true; }

  Array empty(const Shape& shape, DType dtype) override {
    const size_t nbytes = static_cast<size_t>(shape_size(shape)) * dtype_size(dtype);
    auto storage = std::make_shared<Storage>(std::make_shared<Buffer>(info_.device, context_, nbytes), nbytes);
    return Array(dtype, shape, std::move(storage), contiguous_strides(shape), 0);
  }

  Array to_device(const Array& host) override {
    const Array contiguous = host.contiguous();
    Array result = empty(contiguous.shape(), contiguous.dtype());
    const size_t nbytes = static_cast<size_t>(contiguous.size()) * contiguous.itemsize();
    current();
    if (nbytes) check(driver()->cuMemcpyHtoD(pointer_of(result, info_.device), contiguous.raw_data(), nbytes), "cuMemcpyHtoD");
    return result;
  }

  Array to_host(const Array& value) override {
    const CUdeviceptr pointer = pointer_of(value, info_.device);
    current();
    if (!value.is_contiguous()) {
      // A view (a transpose made on the device): its whole buffer comes over, then the view is copied.
      const size_t whole = value.storage()->nbytes();
      auto storage = std::make_shared<Storage>(whole);
      if (whole) check(driver()->cuMemcpyDtoH(storage->data(), pointer, whole), "cuMemcpyDtoH");
      return Array(value.dtype(), value.shape(), std::move(storage), value.strides(), value.offset()).copy();
    }
    Array result = Array::empty(value.shape(), value.dtype());
    const size_t nbytes = static_cast<size_t>(value.size()) * value.itemsize();
    if (nbytes)
      check(driver()->cuMemcpyDtoH(result.raw_data(), pointer + static_cast<CUdeviceptr>(value.offset()) * value.itemsize(), nbytes),
            "cuMemcpyDtoH");
    return result;
  }

  // Blocks of 256 threads; arguments are passed by address, as cuLaunchKernel takes them.
  void launch(const std::string& source, const std::string& name, const std::vector<const Array*>& arrays,
              const std::vector<int64_t>& scalars, int64_t total) override {
    CUfunction function = kernel(source, name);
    std::vector<CUdeviceptr> pointers;
    for (const Array* array : arrays) pointers.push_back(pointer_of(*array, info_.device));
    std::vector<long long> values(scalars.begin(), scalars.end());
    std::vector<void*> arguments;
    for (CUdeviceptr& pointer : pointers) arguments.push_back(&pointer);
    for (long long& value : values) arguments.push_back(&value);
    constexpr unsigned kBlock = 256;
    const auto blocks = static_cast<unsigned>((total + kBlock - 1) / kBlock);
    current();
    check(driver()->cuLaunchKernel(function, blocks, 1, 1, kBlock, 1, 1, 0, nullptr, arguments.data(), nullptr),
          "cuLaunchKernel(" + name + ")");
  }

  bool has_blas() const override { return cublas_available(); }
  void gemm(double alpha, const Array& a, const Array& b, double beta, Array& c) override {
    current();
    cuda::gemm(context_, alpha, a, pointer_of(a, info_.device), b, pointer_of(b, info_.device), beta, c, pointer_of(c, info_.device));
  }
  // cuDNN: convolutions of float32 and float64; pooling likewise where its sizes are Theano's (cuDNN pads
  // both sides alike, so ignore_border). Sums run on the host, and max-pooling's gradients: cuDNN's sends
  // the gradient to one of tied maxima, Theano's (and the host's) to each, and ties are common after relu.
  bool dnn_runs(const Apply& node) const override {
    const DType dtype = node.output(0).dtype();
    if ((dtype != DType::Float32 && dtype != DType::Float64) || !cudnn_available()) return false;
    if (dynamic_cast<const Convolution*>(&node.op())) return true;
    const auto* pool = dynamic_cast<const Pooling*>(&node.op());
    return pool && pool->settings().ignore_border && pool->settings().mode != PoolMode::Sum &&
           (pool->settings().mode != PoolMode::Max || pool->pass() == PoolPass::Forward);
  }
  void convolution(const Convolution& op, const ConvGeometry& g, const Array& a, const Array& b, const Array* bias,
                   Array& out) override {
    cuda::convolution(context_, op, g, a, pointer_of(a, info_.device), b, pointer_of(b, info_.device), bias,
                      bias ? pointer_of(*bias, info_.device) : 0, out, pointer_of(out, info_.device));
  }
  bool has_fft() const override { return cufft_available(); }
  bool fft(const FftGeometry& g, Array& in, Array& out) override {
    current();
    return cuda::fft(context_, g, in, pointer_of(in, info_.device), out, pointer_of(out, info_.device));
  }
  bool sparse_product(const SparseArray& a, const Array& b, double alpha, double beta, Array& out) override {
    // cuSPARSE takes one index type for both arrays; an empty matrix goes to the generated kernel.
    if (!cusparse_available() || a.nnz() == 0 || a.indices().dtype() != a.indptr().dtype() || b.size() == 0) return false;
    current();
    const cuda::SparseOperand operand{a.format() == SparseFormat::Csr, a.rows(), a.cols(), a.nnz(), address(a.data()),
                                      address(a.indices()), address(a.indptr()), a.indices().dtype()};
    return cuda::spmm(context_, out.dtype(), operand, b.shape()[1], address(b), address(out), alpha, beta);
  }
  bool has_solver() const override { return cusolver_available() && cublas_available(); }
  void potrf(bool upper, const Array& a, const Array& info) override {
    cuda::potrf(context_, a.dtype(), upper, matrix_size(a), address(a), address(info));
  }
  void getrf(const Array& a, const Array& pivots, const Array& info) override {
    cuda::getrf(context_, a.dtype(), matrix_size(a), address(a), address(pivots), address(info));
  }
  void syevd(bool upper, bool vectors, const Array& a, const Array& w, const Array& info) override {
    cuda::syevd(context_, a.dtype(), upper, vectors, matrix_size(a), address(a), address(w), address(info));
  }
  void trsm(bool lower, bool transpose, bool unit_diagonal, const Array& t, const Array& b) override {
    current();
    cuda::trsm(context_, t.dtype(), lower, transpose, unit_diagonal, matrix_size(t), static_cast<int>(b.shape().back()), address(t),
               address(b));
  }
  void pooling(const Pooling& op, const PoolGeometry& g, std::span<const Array> inputs, Array& out) override {
    std::vector<CUdeviceptr> bases;
    for (const Array& input : inputs) bases.push_back(pointer_of(input, info_.device));
    cuda::pooling(context_, op, g, inputs, bases, out, pointer_of(out, info_.device));
  }

 private:
  // A view's own address in device memory (its buffer's start plus its offset).
  CUdeviceptr address(const Array& view) const {
    return pointer_of(view, info_.device) + static_cast<CUdeviceptr>(view.offset()) * view.itemsize();
  }
  static int matrix_size(const Array& square) { return static_cast<int>(square.shape()[0]); }

  // The driver's calls act on the calling thread's current context.
  void current() const { driver()->cuCtxSetCurrent(context_); }

  // The kernel `name` of `source`: loaded once per source, from the disk cache or NVRTC.
  CUfunction kernel(const std::string& source, const std::string& name) {
    std::lock_guard<std::mutex> lock(mutex_);
    const std::string key = name + "\n" + source;
    if (auto it = functions_.find(key); it != functions_.end()) return it->second;
    const CachedBinary binary = binary_for(source, name, architecture_);
    current();
    CUmodule module = nullptr;
    if (CUresult status = driver()->cuModuleLoadData(&module, binary.image.data()); status != 0)
      throw ValueError("[cuda] " + error_text(status, "cuModuleLoadData(" + binary.path + ")") + " (driver " + driver_version() +
                       ", NVRTC " + nvrtc_version() + ": a driver older than the toolkit cannot load its kernels)");
    CUfunction function = nullptr;
    check(driver()->cuModuleGetFunction(&function, module, name.c_str()), "cuModuleGetFunction(" + name + ")");
    return functions_[key] = function;
  }

  DeviceInfo info_;
  CUcontext context_ = nullptr;
  std::string architecture_;
  std::mutex mutex_;
  std::unordered_map<std::string, CUfunction> functions_;
};

}  // namespace

const Backend& cuda_backend(const Device& device) {
  return gpu_backend_for(device, [&]() -> std::unique_ptr<GpuRuntime> {
    for (const DeviceInfo& info : cuda::devices())
      if (info.device == device) {
        if (!nvrtc_available())
          throw ValueError("[device] " + device.str() + " needs NVRTC (libnvrtc.so, from the CUDA toolkit) to compile its kernels");
        return std::make_unique<CudaRuntime>(info);
      }
    std::string have;
    for (const Device& d : available_devices()) have += (have.empty() ? "" : ", ") + d.str();
    const std::string why = cuda::devices().empty() ? unavailable_reason() : "";
    throw ValueError("[device] " + device.str() + " is not a CUDA device here" + (why.empty() ? "" : " (" + why + ")") +
                     "; devices here: " + have);
  });
}

}  // namespace hypatia
