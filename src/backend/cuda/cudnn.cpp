#include "backend/cuda/cudnn.h"

#include <climits>
#include <map>
#include <mutex>
#include <unordered_map>

#include "backend/dynamic_library.h"
#include "hypatia/error.h"
#include "ops/conv.h"
#include "ops/pool.h"

namespace hypatia::cuda {
namespace {

// cuDNN's C API (cudnn_graph.h, cudnn_ops.h, cudnn_cnn.h), declared here: statuses are int enums (0:
// success), descriptors opaque pointers.
using Handle = struct cudnnContext*;
using TensorDesc = struct cudnnTensorStruct*;
using FilterDesc = struct cudnnFilterStruct*;
using ConvDesc = struct cudnnConvolutionStruct*;
using PoolDesc = struct cudnnPoolingStruct*;
using ActivationDesc = struct cudnnActivationStruct*;
// cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t share this layout.
struct AlgoPerf {
  int algo;
  int status;
  float time;
  size_t memory;
  int determinism;
  int math_type;
  int reserved[3];
};
constexpr int kTensorNchw = 0, kConvolution = 0, kCrossCorrelation = 1, kFmaMath = 3, kPropagateNan = 1;
constexpr int kActivationSigmoid = 0, kActivationRelu = 1, kActivationTanh = 2;
constexpr int kPoolMax = 0, kPoolAverageIncludePadding = 1, kPoolAverageExcludePadding = 2;

#define HYPATIA_CUDNN_FUNCTIONS(X)                                                                                     \
  X(get_version, "cudnnGetVersion", size_t())                                                                        \
  X(create, "cudnnCreate", int(Handle*))                                                                             \
  X(create_tensor, "cudnnCreateTensorDescriptor", int(TensorDesc*))                                                 \
  X(set_tensor, "cudnnSetTensorNdDescriptor", int(TensorDesc, int, int, const int*, const int*))                    \
  X(destroy_tensor, "cudnnDestroyTensorDescriptor", int(TensorDesc))                                                \
  X(create_filter, "cudnnCreateFilterDescriptor", int(FilterDesc*))                                                 \
  X(set_filter, "cudnnSetFilterNdDescriptor", int(FilterDesc, int, int, int, const int*))                           \
  X(destroy_filter, "cudnnDestroyFilterDescriptor", int(FilterDesc))                                                \
  X(create_conv, "cudnnCreateConvolutionDescriptor", int(ConvDesc*))                                                \
  X(set_conv, "cudnnSetConvolutionNdDescriptor", int(ConvDesc, int, const int*, const int*, const int*, int, int))  \
  X(set_groups, "cudnnSetConvolutionGroupCount", int(ConvDesc, int))                                                \
  X(set_math, "cudnnSetConvolutionMathType", int(ConvDesc, int))                                                    \
  X(destroy_conv, "cudnnDestroyConvolutionDescriptor", int(ConvDesc))                                               \
  X(conv_output, "cudnnGetConvolutionNdForwardOutputDim", int(ConvDesc, TensorDesc, FilterDesc, int, int*))         \
  X(forward_algorithms, "cudnnGetConvolutionForwardAlgorithm_v7",                                                  \
    int(Handle, TensorDesc, FilterDesc, ConvDesc, TensorDesc, int, int*, AlgoPerf*))                                 \
  X(backward_data_algorithms, "cudnnGetConvolutionBackwardDataAlgorithm_v7",                                       \
    int(Handle, FilterDesc, TensorDesc, ConvDesc, TensorDesc, int, int*, AlgoPerf*))                                 \
  X(backward_filter_algorithms, "cudnnGetConvolutionBackwardFilterAlgorithm_v7",                                   \
    int(Handle, TensorDesc, TensorDesc, ConvDesc, FilterDesc, int, int*, AlgoPerf*))                                 \
  X(forward_workspace, "cudnnGetConvolutionForwardWorkspaceSize",                                                  \
    int(Handle, TensorDesc, FilterDesc, ConvDesc, TensorDesc, int, size_t*))                                         \
  X(backward_data_workspace, "cudnnGetConvolutionBackwardDataWorkspaceSize",                                        \
    int(Handle, FilterDesc, TensorDesc, ConvDesc, TensorDesc, int, size_t*))                                         \
  X(backward_filter_workspace, "cudnnGetConvolutionBackwardFilterWorkspaceSize",                                    \
    int(Handle, TensorDesc, TensorDesc, ConvDesc, FilterDesc, int, size_t*))                                         \
  X(forward, "cudnnConvolutionForward",                                                                              \
    int(Handle, const void*, TensorDesc, const void*, FilterDesc, const void*, ConvDesc, int, void*, size_t, const void*, \
        TensorDesc, void*))                                                                                           \
  X(backward_data, "cudnnConvolutionBackwardData",                                                                   \
    int(Handle, const void*, FilterDesc, const void*, TensorDesc, const void*, ConvDesc, int, void*, size_t, const void*, \
        TensorDesc, void*))                                                                                           \
  X(backward_filter, "cudnnConvolutionBackwardFilter",                                                               \
    int(Handle, const void*, TensorDesc, const void*, TensorDesc, const void*, ConvDesc, int, void*, size_t, const void*, \
        FilterDesc, void*))                                                                                           \
  X(create_pool, "cudnnCreatePoolingDescriptor", int(PoolDesc*))                                                    \
  X(set_pool, "cudnnSetPoolingNdDescriptor", int(PoolDesc, int, int, int, const int*, const int*, const int*))      \
  X(destroy_pool, "cudnnDestroyPoolingDescriptor", int(PoolDesc))                                                   \
  X(pool_output, "cudnnGetPoolingNdForwardOutputDim", int(PoolDesc, TensorDesc, int, int*))                         \
  X(pool_forward, "cudnnPoolingForward",                                                                             \
    int(Handle, PoolDesc, const void*, TensorDesc, const void*, const void*, TensorDesc, void*))                     \
  X(add_tensor, "cudnnAddTensor", int(Handle, const void*, TensorDesc, const void*, const void*, TensorDesc, void*))       \
  X(create_activation, "cudnnCreateActivationDescriptor", int(ActivationDesc*))                                      \
  X(set_activation, "cudnnSetActivationDescriptor", int(ActivationDesc, int, int, double))                           \
  X(destroy_activation, "cudnnDestroyActivationDescriptor", int(ActivationDesc))                                     \
  X(activation_forward, "cudnnActivationForward",                                                                    \
    int(Handle, ActivationDesc, const void*, TensorDesc, const void*, const void*, TensorDesc, void*))               \
  X(pool_backward, "cudnnPoolingBackward",                                                                           \
    int(Handle, PoolDesc, const void*, TensorDesc, const void*, TensorDesc, const void*, TensorDesc, const void*,     \
        const void*, TensorDesc, void*))

struct Api {
  HYPATIA_CUDNN_FUNCTIONS(HYPATIA_API_POINTER)
};

const Api* api() {
  static const Api* loaded = HYPATIA_LOAD_API(Api, HYPATIA_CUDNN_FUNCTIONS, "libcudnn.so.9", "libcudnn.so", "/usr/local/cuda/lib64/libcudnn.so.9");
  return loaded;
}

void check(int status, const char* what) {
  if (status != 0) throw ValueError(std::string("[cuda] ") + what + " failed (cuDNN status " + std::to_string(status) + ")");
}

int dnn_dtype(DType dtype) {
  if (dtype == DType::Float32) return 0;
  if (dtype == DType::Float64) return 1;
  throw TypeError("[cuda] cuDNN takes float32 and float64 here, not " + std::string(dtype_name(dtype)));
}

int narrow(int64_t value, const char* what) {
  if (value > INT_MAX) throw ValueError(std::string("[cuda] ") + what + " " + std::to_string(value) + " is beyond cuDNN's int");
  return static_cast<int>(value);
}

// Descriptors, destroyed with their owner.
struct Tensor {
  TensorDesc desc = nullptr;
  Tensor(const std::vector<int64_t>& dims, int dtype) {
    check(api()->create_tensor(&desc), "cudnnCreateTensorDescriptor");
    std::vector<int> sizes, strides(dims.size());
    for (int64_t d : dims) sizes.push_back(narrow(d, "a size"));
    int64_t stride = 1;
    for (size_t i = dims.size(); i-- > 0;) {
      strides[i] = narrow(stride, "a stride");
      stride *= std::max<int64_t>(dims[i], 1);
    }
    check(api()->set_tensor(desc, dtype, static_cast<int>(sizes.size()), sizes.data(), strides.data()), "cudnnSetTensorNdDescriptor");
  }
  ~Tensor() { api()->destroy_tensor(desc); }
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;
};

struct Filter {
  FilterDesc desc = nullptr;
  Filter() { check(api()->create_filter(&desc), "cudnnCreateFilterDescriptor"); }
  ~Filter() { api()->destroy_filter(desc); }
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;
};

struct Conv {
  ConvDesc desc = nullptr;
  Conv() { check(api()->create_conv(&desc), "cudnnCreateConvolutionDescriptor"); }
  ~Conv() { api()->destroy_conv(desc); }
  Conv(const Conv&) = delete;
  Conv& operator=(const Conv&) = delete;
};

// A convolution's descriptors: image, filters, the convolution and its output (each destroyed with it, also
// when setting a later one fails).
struct ConvDescriptors {
  std::unique_ptr<Tensor> image, output;
  Filter filter_holder;
  Conv conv_holder;
  FilterDesc filters = filter_holder.desc;
  ConvDesc conv = conv_holder.desc;
  int spatial;

  ConvDescriptors(const Convolution& op, const ConvGeometry& g, DType dtype) : spatial(op.settings().spatial) {
    const int type = dnn_dtype(dtype), first = 3 - spatial;
    std::vector<int64_t> image_dims{g.batch, g.channels}, output_dims{g.batch, g.filters};
    std::vector<int> filter_dims{narrow(g.filters, "a filter count"), narrow(g.channels / g.groups, "a channel count")};
    std::vector<int> pads, strides, dilations;
    for (int axis = first; axis < 3; ++axis) {
      image_dims.push_back(g.image[axis]);
      output_dims.push_back(g.output[axis]);
      filter_dims.push_back(narrow(g.kernel[axis], "a filter size"));
      pads.push_back(narrow(g.pad[axis], "a padding"));
      strides.push_back(narrow(g.stride[axis], "a stride"));
      dilations.push_back(narrow(g.dilation[axis], "a dilation"));
    }
    image = std::make_unique<Tensor>(image_dims, type);
    output = std::make_unique<Tensor>(output_dims, type);
    check(api()->set_filter(filters, type, kTensorNchw, static_cast<int>(filter_dims.size()), filter_dims.data()),
          "cudnnSetFilterNdDescriptor");
    // Theano's filter_flip is a true convolution: cuDNN's CUDNN_CONVOLUTION mode flips the filters.
    check(api()->set_conv(conv, spatial, pads.data(), strides.data(), dilations.data(), g.flip ? kConvolution : kCrossCorrelation,
                          type),
          "cudnnSetConvolutionNdDescriptor");
    check(api()->set_groups(conv, narrow(g.groups, "a group count")), "cudnnSetConvolutionGroupCount");
    // Plain float arithmetic, as on the CPU (no TF32 tensor cores for float32).
    check(api()->set_math(conv, kFmaMath), "cudnnSetConvolutionMathType");
  }
};

struct PoolDescriptors {
  std::unique_ptr<Tensor> input, output;
  PoolDesc pool = nullptr;
  int spatial;

  PoolDescriptors(const Pooling& op, const PoolGeometry& g, DType dtype) : spatial(op.settings().spatial) {
    const PoolSettings& s = op.settings();
    const int type = dnn_dtype(dtype), first = 3 - spatial;
    std::vector<int64_t> input_dims{g.batch, g.channels}, output_dims{g.batch, g.channels};
    std::vector<int> window, pads, strides;
    for (int axis = first; axis < 3; ++axis) {
      input_dims.push_back(g.input[axis]);
      output_dims.push_back(g.output[axis]);
      window.push_back(narrow(g.window[axis], "a window"));
      pads.push_back(narrow(g.pad[axis], "a padding"));
      strides.push_back(narrow(g.stride[axis], "a stride"));
    }
    input = std::make_unique<Tensor>(input_dims, type);
    output = std::make_unique<Tensor>(output_dims, type);
    const int mode = s.mode == PoolMode::Max             ? kPoolMax
                     : s.mode == PoolMode::AverageIncPad ? kPoolAverageIncludePadding
                                                         : kPoolAverageExcludePadding;
    check(api()->create_pool(&pool), "cudnnCreatePoolingDescriptor");
    if (int status = api()->set_pool(pool, mode, kPropagateNan, spatial, window.data(), pads.data(), strides.data()); status != 0) {
      api()->destroy_pool(pool);
      check(status, "cudnnSetPoolingNdDescriptor");
    }
  }
  ~PoolDescriptors() { api()->destroy_pool(pool); }
};

// Per context: cuDNN's handle, a workspace that grows as needed, and each convolution's algorithm.
struct ContextState {
  Handle handle = nullptr;
  Scratch workspace;
  std::map<std::vector<int64_t>, std::pair<int, size_t>> algorithms;  // key -> (algorithm, workspace bytes)
};

ContextState& state_for(CUcontext context) {
  static auto* states = new std::unordered_map<CUcontext, ContextState>();  // used until exit
  ContextState& state = (*states)[context];
  if (!state.handle) check(api()->create(&state.handle), "cudnnCreate");
  return state;
}

std::mutex& cudnn_mutex() {
  static std::mutex mutex;
  return mutex;
}

// The fastest algorithm cuDNN's heuristics offer that succeeds, chosen once per pass and shape.
std::pair<int, size_t> algorithm_for(ContextState& state, const Convolution& op, const ConvGeometry& g, DType dtype,
                                     const ConvDescriptors& d) {
  std::vector<int64_t> key{static_cast<int64_t>(op.pass()), static_cast<int64_t>(dtype), g.batch, g.channels, g.filters, g.groups,
                           g.flip};
  for (const auto* values : {&g.image, &g.kernel, &g.pad, &g.stride, &g.dilation}) key.insert(key.end(), values->begin(), values->end());
  if (auto found = state.algorithms.find(key); found != state.algorithms.end()) return found->second;
  AlgoPerf perf[16];
  int count = 0;
  switch (op.pass()) {
    case ConvPass::Forward:
      check(api()->forward_algorithms(state.handle, d.image->desc, d.filters, d.conv, d.output->desc, 16, &count, perf),
            "cudnnGetConvolutionForwardAlgorithm_v7");
      break;
    case ConvPass::GradInputs:
      check(api()->backward_data_algorithms(state.handle, d.filters, d.output->desc, d.conv, d.image->desc, 16, &count, perf),
            "cudnnGetConvolutionBackwardDataAlgorithm_v7");
      break;
    case ConvPass::GradWeights:
      check(api()->backward_filter_algorithms(state.handle, d.image->desc, d.output->desc, d.conv, d.filters, 16, &count, perf),
            "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
      break;
  }
  // The first (fastest by the heuristics) that cuDNN says it can run here, with the workspace it asks for.
  for (int i = 0; i < count; ++i) {
    if (perf[i].status != 0) continue;
    size_t bytes = 0;
    int status = 0;
    switch (op.pass()) {
      case ConvPass::Forward:
        status = api()->forward_workspace(state.handle, d.image->desc, d.filters, d.conv, d.output->desc, perf[i].algo, &bytes);
        break;
      case ConvPass::GradInputs:
        status = api()->backward_data_workspace(state.handle, d.filters, d.output->desc, d.conv, d.image->desc, perf[i].algo, &bytes);
        break;
      case ConvPass::GradWeights:
        status = api()->backward_filter_workspace(state.handle, d.image->desc, d.output->desc, d.conv, d.filters, perf[i].algo, &bytes);
        break;
    }
    if (status == 0) return state.algorithms[key] = {perf[i].algo, bytes};
  }
  throw ValueError("[cuda] cuDNN has no algorithm for " + op.str());
}

}  // namespace

bool cudnn_available() { return api() != nullptr; }
size_t cudnn_version() { return api() ? api()->get_version() : 0; }

std::vector<int> cudnn_convolution_output(const Convolution& op, const ConvGeometry& g, DType dtype) {
  if (!api()) throw ValueError("[cuda] cuDNN is not available");
  const ConvDescriptors d(op, g, dtype);
  std::vector<int> dims(d.spatial + 2);
  check(api()->conv_output(d.conv, d.image->desc, d.filters, d.spatial + 2, dims.data()), "cudnnGetConvolutionNdForwardOutputDim");
  return dims;
}

std::vector<int> cudnn_pooling_output(const Pooling& op, const PoolGeometry& g, DType dtype) {
  if (!api()) throw ValueError("[cuda] cuDNN is not available");
  const PoolDescriptors d(op, g, dtype);
  std::vector<int> dims(d.spatial + 2);
  check(api()->pool_output(d.pool, d.input->desc, d.spatial + 2, dims.data()), "cudnnGetPoolingNdForwardOutputDim");
  return dims;
}

void convolution(CUcontext context, const Convolution& op, const ConvGeometry& g, const Array& a, CUdeviceptr a_base,
                 const Array& b, CUdeviceptr b_base, const Array* bias, CUdeviceptr bias_base, Array& out, CUdeviceptr out_base) {
  std::lock_guard<std::mutex> lock(cudnn_mutex());
  driver()->cuCtxSetCurrent(context);
  ContextState& state = state_for(context);
  const ConvDescriptors d(op, g, out.dtype());
  const auto [algorithm, bytes] = algorithm_for(state, op, g, out.dtype(), d);
  void* space = reinterpret_cast<void*>(state.workspace.at_least(bytes, "cuDNN's workspace"));
  const size_t item = out.itemsize();
  auto at = [&](CUdeviceptr base, const Array& x) { return reinterpret_cast<void*>(base + static_cast<CUdeviceptr>(x.offset()) * item); };
  const double one64 = 1, zero64 = 0;
  const float one32 = 1, zero32 = 0;
  const void* one = out.dtype() == DType::Float64 ? static_cast<const void*>(&one64) : &one32;
  const void* zero = out.dtype() == DType::Float64 ? static_cast<const void*>(&zero64) : &zero32;
  switch (op.pass()) {
    case ConvPass::Forward:  // a: image, b: filters
      check(api()->forward(state.handle, one, d.image->desc, at(a_base, a), d.filters, at(b_base, b), d.conv, algorithm, space, bytes,
                           zero, d.output->desc, at(out_base, out)),
            "cudnnConvolutionForward");
      break;
    case ConvPass::GradWeights:  // a: image, b: output gradient
      check(api()->backward_filter(state.handle, one, d.image->desc, at(a_base, a), d.output->desc, at(b_base, b), d.conv, algorithm,
                                   space, bytes, zero, d.filters, at(out_base, out)),
            "cudnnConvolutionBackwardFilter");
      break;
    case ConvPass::GradInputs:  // a: filters, b: output gradient
      check(api()->backward_data(state.handle, one, d.filters, at(a_base, a), d.output->desc, at(b_base, b), d.conv, algorithm,
                                 space, bytes, zero, d.image->desc, at(out_base, out)),
            "cudnnConvolutionBackwardData");
      break;
  }
  // The epilogue, in place on the result: the bias broadcast over a (1, filters, 1, 1) tensor, then the activation.
  const ConvEpilogue& epilogue = op.epilogue();
  if (epilogue.bias) {
    std::vector<int64_t> dims(d.spatial + 2, 1);
    dims[1] = g.filters;
    const Tensor bias_desc(dims, dnn_dtype(out.dtype()));
    check(api()->add_tensor(state.handle, one, bias_desc.desc, at(bias_base, *bias), one, d.output->desc, at(out_base, out)),
          "cudnnAddTensor");
  }
  if (epilogue.activation != ConvActivation::None) {
    ActivationDesc activation = nullptr;
    check(api()->create_activation(&activation), "cudnnCreateActivationDescriptor");
    const int mode = epilogue.activation == ConvActivation::Relu   ? kActivationRelu
                     : epilogue.activation == ConvActivation::Tanh ? kActivationTanh
                                                                   : kActivationSigmoid;
    int status = api()->set_activation(activation, mode, kPropagateNan, 0.0);
    if (status == 0)
      status = api()->activation_forward(state.handle, activation, one, d.output->desc, at(out_base, out), zero, d.output->desc,
                                         at(out_base, out));
    api()->destroy_activation(activation);
    check(status, "cudnnActivationForward");
  }
}

void pooling(CUcontext context, const Pooling& op, const PoolGeometry& g, std::span<const Array> inputs,
             std::span<const CUdeviceptr> bases, Array& out, CUdeviceptr out_base) {
  std::lock_guard<std::mutex> lock(cudnn_mutex());
  driver()->cuCtxSetCurrent(context);
  ContextState& state = state_for(context);
  const PoolDescriptors d(op, g, out.dtype());
  const size_t item = out.itemsize();
  auto at = [&](size_t i) { return reinterpret_cast<void*>(bases[i] + static_cast<CUdeviceptr>(inputs[i].offset()) * item); };
  void* result = reinterpret_cast<void*>(out_base + static_cast<CUdeviceptr>(out.offset()) * item);
  const double one64 = 1, zero64 = 0;
  const float one32 = 1, zero32 = 0;
  const void* one = out.dtype() == DType::Float64 ? static_cast<const void*>(&one64) : &one32;
  const void* zero = out.dtype() == DType::Float64 ? static_cast<const void*>(&zero64) : &zero32;
  if (op.pass() == PoolPass::Forward) {
    check(api()->pool_forward(state.handle, d.pool, one, d.input->desc, at(0), zero, d.output->desc, result), "cudnnPoolingForward");
    return;
  }
  // The gradient: max reads x and the pooled values; the averages read neither (the output gradient
  // stands in for the pooled values).
  const bool max = op.settings().mode == PoolMode::Max;
  const size_t top = inputs.size() - 1;
  check(api()->pool_backward(state.handle, d.pool, one, d.output->desc, at(max ? 1 : top), d.output->desc, at(top), d.input->desc, at(0),
                             zero, d.input->desc, result),
        "cudnnPoolingBackward");
}

}  // namespace hypatia::cuda
