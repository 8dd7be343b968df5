#include "backend/cpu/cpu_backend.h"

#include <typeindex>
#include <unordered_map>

#include "backend/cpu/lowering.h"
#include "backend/cpu/onednn.h"
#include "ops/batch_norm.h"
#include "ops/conv.h"
#include "ops/pool.h"

namespace hypatia {
namespace {

// Library kernels by op type: a factory gives a node its kernel, or null to keep perform().
using LibraryKernelFactory = std::shared_ptr<const Kernel> (*)(const Apply&);
const std::unordered_map<std::type_index, LibraryKernelFactory>& library_kernels() {
  static const std::unordered_map<std::type_index, LibraryKernelFactory> table{
      {typeid(Convolution), &onednn_convolution_kernel},
      {typeid(Pooling), &onednn_pooling_kernel},
      {typeid(BatchNormalization), &onednn_batch_norm_kernel},
  };
  return table;
}

class GeneratedCpuKernel final : public Kernel {
 public:
  explicit GeneratedCpuKernel(CpuKernel kernel) : kernel_(kernel) {}
  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    run_cpu_kernel(kernel_, node, inputs, outputs);
  }
  bool writes_into_any_input() const override { return kernel_.kind == CpuKernel::Kind::Elemwise; }

 private:
  CpuKernel kernel_;
};

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device{}; }
  bool runs(const Apply&) const override { return true; }
  Array to_device(const Array& host) const override { return host; }
  Array to_host(const Array& value) const override { return value; }
  Array empty(const Shape& shape, DType dtype) const override { return Array::empty(shape, dtype); }
  void copy_into(const Array& destination, const Array& source) const override {
    Array view = destination;  // (shares the elements)
    view.copy_from(source);
  }
  std::vector<std::shared_ptr<const Kernel>> lower(const std::vector<std::shared_ptr<Apply>>& nodes) const override {
    std::vector<std::shared_ptr<const Kernel>> kernels(nodes.size());
    const std::vector<CpuKernel> generated = lower_to_cpu_kernels(nodes);
    const auto& library = library_kernels();
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (generated[i]) {
        kernels[i] = std::make_shared<GeneratedCpuKernel>(generated[i]);
      } else if (auto factory = library.find(typeid(nodes[i]->op())); factory != library.end()) {
        kernels[i] = factory->second(*nodes[i]);
      }
    }
    return kernels;
  }
};

}  // namespace

const Backend& cpu_backend() {
  static const CpuBackend backend;
  return backend;
}

}  // namespace hypatia
