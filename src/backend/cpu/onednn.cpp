#include "backend/cpu/onednn.h"

#ifdef HYPATIA_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#endif

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <unordered_map>
#include <mutex>

#include "ops/batch_norm.h"
#include "ops/conv.h"
#include "ops/pool.h"

namespace hypatia {

#ifndef HYPATIA_HAVE_DNNL

bool have_onednn() { return false; }
std::shared_ptr<const Kernel> onednn_convolution_kernel(const Apply&) { return nullptr; }
std::shared_ptr<const Kernel> onednn_pooling_kernel(const Apply&) { return nullptr; }
std::shared_ptr<const Kernel> onednn_batch_norm_kernel(const Apply&) { return nullptr; }

#else

bool have_onednn() { return true; }

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// The plain (row-major) layout of a tensor of `ndim` dimensions, as oneDNN names it.
Tag plain_tag(size_t ndim) {
  switch (ndim) {
    case 1: return Tag::a;
    case 2: return Tag::ab;
    case 3: return Tag::abc;
    case 4: return Tag::abcd;
    case 5: return Tag::abcde;
    default: return Tag::abcdef;
  }
}

memory::desc plain(const memory::dims& dims) { return memory::desc(dims, memory::data_type::f32, plain_tag(dims.size())); }
memory::desc any(const memory::dims& dims) { return memory::desc(dims, memory::data_type::f32, Tag::any); }

// A user array as oneDNN memory (no copy), and the memory a primitive wants: the same when the layouts
// agree, else a reordered copy (`into`: whether data flows into the primitive's layout or back out).
struct Bound {
  memory user, used;
};

Bound bind(const memory::desc& wanted, const memory::dims& dims, void* data, dnnl::stream& stream, bool into) {
  memory user(plain(dims), cpu_engine(), data);
  if (wanted == user.get_desc()) return {user, user};
  memory used(wanted, cpu_engine());
  if (into) dnnl::reorder(user, used).execute(stream, user, used);
  return {user, used};
}

void copy_back(Bound bound, dnnl::stream& stream) {
  if (bound.used != bound.user) dnnl::reorder(bound.used, bound.user).execute(stream, bound.used, bound.user);
}

// Runs a kernel's library call; a primitive oneDNN cannot execute (its limits, memory) leaves the node to
// the reference instead of failing the call.
template <class Library>
void run_or_perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs, Library&& library) {
  try {
    library();
  } catch (const dnnl::error&) {
    for (Array& output : outputs) output = Array();
    node.op().perform(node, inputs, outputs);
  }
}

// A primitive per input shape, made on first use. Kernels may run on several threads at once.
template <class Entry>
class ShapeCache {
 public:
  template <class Make>
  std::shared_ptr<Entry> get(const std::vector<int64_t>& key, Make make) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = entries_.find(key);
    if (found == entries_.end()) found = entries_.emplace(key, make()).first;
    return found->second;
  }

 private:
  mutable std::mutex mutex_;
  mutable std::map<std::vector<int64_t>, std::shared_ptr<Entry>> entries_;
};

// The filters with their spatial axes reversed (Theano's filter_flip: oneDNN computes cross-correlations).
Array flipped(const Array& filters) {
  Array out = Array::empty(filters.shape(), filters.dtype());
  const int64_t taps = filters.shape()[2] * filters.shape()[3] * (filters.ndim() == 5 ? filters.shape()[4] : 1);
  const int64_t count = filters.size() / std::max<int64_t>(taps, 1);
  const float* in = filters.data<float>();
  float* result = out.data<float>();
  for (int64_t i = 0; i < count; ++i)
    for (int64_t t = 0; t < taps; ++t) result[i * taps + t] = in[i * taps + taps - 1 - t];
  return out;
}

// ---- Convolutions ----

// One way to run a convolution: its primitive and the layouts it wants its operands in.
struct ConvVariant {
  memory::desc image_md, filters_md, output_md;
  dnnl::primitive primitive;
};

// A node's primitives for one shape: with the layouts oneDNN prefers (blocked channels, reorders around
// it) and with the arrays' own (no reorders; for few channels oneDNN then takes its GEMM kernels, which
// win there). The first run times both and keeps the faster.
struct ConvPrimitive {
  memory::dims image, filters, output;
  std::vector<ConvVariant> variants;  // empty: oneDNN refused these shapes, perform() runs them
  std::atomic<int> chosen{-1};
};

class OneDnnConvolution final : public Kernel {
 public:
  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    run_or_perform(node, inputs, outputs, [&] { run_library(node, inputs, outputs); });
  }

 private:
  void run_library(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
    const auto& op = static_cast<const Convolution&>(node.op());
    const ConvGeometry g = op.geometry(inputs);  // (checks the shapes, naming them)
    const Shape out_shape = op.output_shape(g);
    const std::shared_ptr<ConvPrimitive> p = cache_.get(key(g), [&] { return make(op, g); });
    // (Empty operands make empty sums: the reference gives their zeros.)
    if (p->variants.empty() || shape_size(out_shape) == 0 || inputs[0].size() == 0 || inputs[1].size() == 0) {
      op.perform(node, inputs, outputs);
      return;
    }
    Array a = inputs[0].is_contiguous() ? inputs[0] : inputs[0].copy();
    Array b = inputs[1].is_contiguous() ? inputs[1] : inputs[1].copy();
    // The filters reversed for Theano's filter_flip (oneDNN computes cross-correlations); their gradient is
    // reversed back below.
    if (g.flip && op.pass() == ConvPass::Forward) b = flipped(b);
    if (g.flip && op.pass() == ConvPass::GradInputs) a = flipped(a);
    const Array bias = op.epilogue().bias ? (inputs[2].is_contiguous() ? inputs[2] : inputs[2].copy()) : Array();
    Array out = Array::empty(out_shape, DType::Float32);
    dnnl::stream stream(cpu_engine());
    int chosen = p->chosen.load();
    if (chosen < 0) {
      // Each variant twice (the first run warms its code and caches), the faster kept.
      double best = INFINITY;
      for (size_t v = 0; v < p->variants.size(); ++v)
        for (int round = 0; round < 2; ++round) {
          const auto start = std::chrono::steady_clock::now();
          execute(op.pass(), *p, p->variants[v], a, b, bias, out, stream);
          const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          if (round == 1 && seconds < best) {
            best = seconds;
            chosen = static_cast<int>(v);
          }
        }
      p->chosen.store(chosen);
    } else {
      execute(op.pass(), *p, p->variants[chosen], a, b, bias, out, stream);
    }
    if (g.flip && op.pass() == ConvPass::GradWeights) out = flipped(out);
    outputs[0] = std::move(out);
  }
  static void execute(ConvPass pass, const ConvPrimitive& p, const ConvVariant& v, const Array& a, const Array& b,
                      const Array& bias, Array& out, dnnl::stream& stream) {
    switch (pass) {
      case ConvPass::Forward: {  // a: image, b: filters
        Bound image = bind(v.image_md, p.image, a.raw_data(), stream, true);
        Bound filters = bind(v.filters_md, p.filters, b.raw_data(), stream, true);
        Bound output = bind(v.output_md, p.output, out.raw_data(), stream, false);
        std::unordered_map<int, memory> arguments{{DNNL_ARG_SRC, image.used}, {DNNL_ARG_WEIGHTS, filters.used}, {DNNL_ARG_DST, output.used}};
        if (bias.storage()) arguments.emplace(DNNL_ARG_BIAS, memory(plain({bias.size()}), cpu_engine(), bias.raw_data()));
        v.primitive.execute(stream, arguments);
        copy_back(output, stream);
        break;
      }
      case ConvPass::GradWeights: {  // a: image, b: output gradient
        Bound image = bind(v.image_md, p.image, a.raw_data(), stream, true);
        Bound top = bind(v.output_md, p.output, b.raw_data(), stream, true);
        Bound filters = bind(v.filters_md, p.filters, out.raw_data(), stream, false);
        v.primitive.execute(stream, {{DNNL_ARG_SRC, image.used}, {DNNL_ARG_DIFF_DST, top.used}, {DNNL_ARG_DIFF_WEIGHTS, filters.used}});
        copy_back(filters, stream);
        break;
      }
      case ConvPass::GradInputs: {  // a: filters, b: output gradient
        Bound filters = bind(v.filters_md, p.filters, a.raw_data(), stream, true);
        Bound top = bind(v.output_md, p.output, b.raw_data(), stream, true);
        Bound image = bind(v.image_md, p.image, out.raw_data(), stream, false);
        v.primitive.execute(stream, {{DNNL_ARG_DIFF_DST, top.used}, {DNNL_ARG_WEIGHTS, filters.used}, {DNNL_ARG_DIFF_SRC, image.used}});
        copy_back(image, stream);
        break;
      }
    }
    stream.wait();
  }

  static std::vector<int64_t> key(const ConvGeometry& g) {
    std::vector<int64_t> k{g.batch, g.channels, g.filters};
    for (const auto* values : {&g.image, &g.kernel})
      k.insert(k.end(), values->begin(), values->end());
    return k;
  }

  static std::shared_ptr<ConvPrimitive> make(const Convolution& op, const ConvGeometry& g) {
    auto p = std::make_shared<ConvPrimitive>();
    const int spatial = op.settings().spatial, first = 3 - spatial;
    p->image = {g.batch, g.channels};
    p->output = {g.batch, g.filters};
    p->filters = g.groups > 1 ? memory::dims{g.groups, g.filters / g.groups, g.channels / g.groups}
                              : memory::dims{g.filters, g.channels};
    memory::dims strides, dilation, pad_l, pad_r;
    for (int axis = first; axis < 3; ++axis) {
      p->image.push_back(g.image[axis]);
      p->output.push_back(g.output[axis]);
      p->filters.push_back(g.kernel[axis]);
      strides.push_back(g.stride[axis]);
      dilation.push_back(g.dilation[axis] - 1);
      pad_l.push_back(g.pad[axis]);
      // The far side's padding that makes oneDNN's output size Theano's (floor division leaves the rest).
      const int64_t span = (g.kernel[axis] - 1) * g.dilation[axis] + 1;
      pad_r.push_back(std::max<int64_t>(0, (g.output[axis] - 1) * g.stride[axis] + span - g.image[axis] - g.pad[axis]));
    }
    for (bool blocked : {true, false}) {
      try {
        const auto algorithm = dnnl::algorithm::convolution_direct;
        const memory::desc image = blocked ? any(p->image) : plain(p->image), filters = any(p->filters),
                           output = blocked ? any(p->output) : plain(p->output);
        // The gradients' primitives take the forward pass's descriptor as a hint.
        const auto forward_hint = [&] {
          return dnnl::convolution_forward::primitive_desc(
              dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algorithm, image, filters, output, strides,
                                              dilation, pad_l, pad_r),
              cpu_engine());
        };
        ConvVariant v;
        switch (op.pass()) {
          case ConvPass::Forward: {
            // The epilogue: the bias as the primitive's bias, the activation as an eltwise post-op.
            const ConvEpilogue& epilogue = op.epilogue();
            dnnl::primitive_attr attributes;
            if (epilogue.activation != ConvActivation::None) {
              dnnl::post_ops post;
              post.append_eltwise(1.0f, epilogue.activation == ConvActivation::Relu   ? dnnl::algorithm::eltwise_relu
                                        : epilogue.activation == ConvActivation::Tanh ? dnnl::algorithm::eltwise_tanh
                                                                                      : dnnl::algorithm::eltwise_logistic,
                                  0.0f, 0.0f);
              attributes.set_post_ops(post);
            }
            const auto desc = epilogue.bias ? dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, algorithm, image,
                                                                               filters, plain({g.filters}), output, strides, dilation,
                                                                               pad_l, pad_r)
                                            : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, algorithm, image,
                                                                              filters, output, strides, dilation, pad_l, pad_r);
            const dnnl::convolution_forward::primitive_desc pd(desc, attributes, cpu_engine());
            v = {pd.src_desc(), pd.weights_desc(), pd.dst_desc(), dnnl::convolution_forward(pd)};
            break;
          }
          case ConvPass::GradWeights: {
            const dnnl::convolution_backward_weights::primitive_desc pd(
                dnnl::convolution_backward_weights::desc(algorithm, image, filters, output, strides, dilation, pad_l, pad_r),
                cpu_engine(), forward_hint());
            v = {pd.src_desc(), pd.diff_weights_desc(), pd.diff_dst_desc(), dnnl::convolution_backward_weights(pd)};
            break;
          }
          case ConvPass::GradInputs: {
            const dnnl::convolution_backward_data::primitive_desc pd(
                dnnl::convolution_backward_data::desc(algorithm, image, filters, output, strides, dilation, pad_l, pad_r),
                cpu_engine(), forward_hint());
            v = {pd.diff_src_desc(), pd.weights_desc(), pd.diff_dst_desc(), dnnl::convolution_backward_data(pd)};
            break;
          }
        }
        p->variants.push_back(std::move(v));
      } catch (const dnnl::error&) {
        // (this variant is not offered for these shapes)
      }
    }
    return p;
  }

  ShapeCache<ConvPrimitive> cache_;
};

// ---- Pooling ----

struct PoolPrimitive {
  bool usable = false;
  memory::dims input, output;
  memory::desc input_md, output_md;
  dnnl::primitive primitive;
};

class OneDnnPooling final : public Kernel {
 public:
  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    run_or_perform(node, inputs, outputs, [&] { run_library(node, inputs, outputs); });
  }

 private:
  void run_library(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
    const auto& op = static_cast<const Pooling&>(node.op());
    const std::optional<Shape> out_shape = op.result_shape(node, inputs);  // (checks the shapes)
    const PoolGeometry g = op.geometry(inputs[0].shape());
    const PoolPrimitive& p = *cache_.get(key(inputs[0].shape()), [&] { return make(op, g, inputs[0].shape()); });
    if (!p.usable || shape_size(*out_shape) == 0) {
      op.perform(node, inputs, outputs);
      return;
    }
    const Array in = inputs.back().is_contiguous() ? inputs.back() : inputs.back().copy();  // x, or the output gradient
    Array out = Array::empty(*out_shape, DType::Float32);
    dnnl::stream stream(cpu_engine());
    if (op.pass() == PoolPass::Forward) {
      Bound source = bind(p.input_md, p.input, in.raw_data(), stream, true);
      Bound result = bind(p.output_md, p.output, out.raw_data(), stream, false);
      p.primitive.execute(stream, {{DNNL_ARG_SRC, source.used}, {DNNL_ARG_DST, result.used}});
      copy_back(result, stream);
    } else {
      Bound top = bind(p.output_md, p.output, in.raw_data(), stream, true);
      Bound result = bind(p.input_md, p.input, out.raw_data(), stream, false);
      p.primitive.execute(stream, {{DNNL_ARG_DIFF_DST, top.used}, {DNNL_ARG_DIFF_SRC, result.used}});
      copy_back(result, stream);
    }
    stream.wait();
    outputs[0] = std::move(out);
  }

  static std::vector<int64_t> key(const Shape& x) { return std::vector<int64_t>(x.begin(), x.end()); }

  static std::shared_ptr<PoolPrimitive> make(const Pooling& op, const PoolGeometry& g, const Shape& x) {
    auto made = std::make_shared<PoolPrimitive>();
    PoolPrimitive& p = *made;
    const PoolSettings& s = op.settings();
    const int first = 3 - s.spatial;
    p.input = {g.batch, g.channels};
    p.output = p.input;
    memory::dims strides, kernel, pad_l, pad_r;
    for (int axis = first; axis < 3; ++axis) {
      p.input.push_back(g.input[axis]);
      p.output.push_back(g.output[axis]);
      strides.push_back(g.stride[axis]);
      kernel.push_back(g.window[axis]);
      pad_l.push_back(g.pad[axis]);
      pad_r.push_back(std::max<int64_t>(0, (g.output[axis] - 1) * g.stride[axis] + g.window[axis] - g.input[axis] - g.pad[axis]));
    }
    // (oneDNN's pooling takes the layouts it is given, not `any`.)
    // Windows reaching past the far border exist only without ignore_border, where Theano's averages
    // count the samples inside (its padding needs ignore_border): oneDNN's exclude-padding average.
    dnnl::algorithm algorithm = dnnl::algorithm::pooling_max;
    if (s.mode == PoolMode::AverageExcPad || (s.mode == PoolMode::AverageIncPad && !s.ignore_border))
      algorithm = dnnl::algorithm::pooling_avg_exclude_padding;
    else if (s.mode == PoolMode::AverageIncPad)
      algorithm = dnnl::algorithm::pooling_avg_include_padding;
    try {
      const dnnl::pooling_forward::desc forward_desc(
          op.pass() == PoolPass::Forward ? dnnl::prop_kind::forward_inference : dnnl::prop_kind::forward_training, algorithm,
          plain(p.input), plain(p.output), strides, kernel, pad_l, pad_r);
      const dnnl::pooling_forward::primitive_desc forward(forward_desc, cpu_engine());
      if (op.pass() == PoolPass::Forward) {
        p.input_md = forward.src_desc();
        p.output_md = forward.dst_desc();
        p.primitive = dnnl::pooling_forward(forward);
      } else {
        const dnnl::pooling_backward::primitive_desc pd(
            dnnl::pooling_backward::desc(algorithm, plain(p.input), plain(p.output), strides, kernel, pad_l, pad_r), cpu_engine(),
            forward);
        p.input_md = pd.diff_src_desc();
        p.output_md = pd.diff_dst_desc();
        p.primitive = dnnl::pooling_backward(pd);
      }
      p.usable = true;
    } catch (const dnnl::error&) {
      p.usable = false;
    }
    return made;
  }

  ShapeCache<PoolPrimitive> cache_;
};

// ---- Batch normalization ----

struct BatchNormPrimitive {
  memory::desc data, channels;
  dnnl::primitive primitive;
  bool usable = false;
};

class OneDnnBatchNorm final : public Kernel {
 public:
  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    run_or_perform(node, inputs, outputs, [&] { run_library(node, inputs, outputs); });
  }

 private:
  void run_library(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
    const auto& op = static_cast<const BatchNormalization&>(node.op());
    std::vector<Array> in;
    for (const Array& input : inputs) in.push_back(input.is_contiguous() ? input : input.copy());
    const BatchNormalization::Layout l = op.checked_layout(in);  // (groups: the channels)
    const Shape& shape = in[0].shape();
    const std::shared_ptr<BatchNormPrimitive> p = cache_.get(std::vector<int64_t>(shape.begin(), shape.end()), [&] { return make(op, shape); });
    if (!p->usable || shape_size(shape) == 0) {
      op.perform(node, inputs, outputs);
      return;
    }
    auto vector_memory = [&](const Array& a) { return memory(p->channels, cpu_engine(), a.raw_data()); };
    // (The statistics and the parameters' gradients take gamma's form: a vector, or size 1 off the channels.)
    const Shape& form = in[op.pass() == BatchNormPass::Train ? 1 : 2].shape();
    Array out = Array::empty(shape, DType::Float32), first = Array::empty(form, DType::Float32),
          second = Array::empty(form, DType::Float32), variance = Array::empty({l.groups}, DType::Float32);
    const float epsilon = static_cast<float>(op.epsilon());
    dnnl::stream stream(cpu_engine());
    if (op.pass() == BatchNormPass::Train) {  // (x, gamma, beta) -> (out, mean, invstd)
      p->primitive.execute(stream, {{DNNL_ARG_SRC, memory(p->data, cpu_engine(), in[0].raw_data())},
                                    {DNNL_ARG_DST, memory(p->data, cpu_engine(), out.raw_data())},
                                    {DNNL_ARG_SCALE, vector_memory(in[1])}, {DNNL_ARG_SHIFT, vector_memory(in[2])},
                                    {DNNL_ARG_MEAN, vector_memory(first)}, {DNNL_ARG_VARIANCE, vector_memory(variance)}});
      stream.wait();
      for (int64_t c = 0; c < l.groups; ++c)
        second.data<float>()[c] = 1.0f / std::sqrt(variance.data<float>()[c] + epsilon);
    } else {  // (x, dy, gamma, mean, invstd) -> (dx, dgamma, dbeta); oneDNN takes the variance (and a shift it
              // does not read)
      const Array unused_shift = Array::zeros({l.groups}, DType::Float32);
      for (int64_t c = 0; c < l.groups; ++c) {
        const float invstd = in[4].data<float>()[c];
        variance.data<float>()[c] = 1.0f / (invstd * invstd) - epsilon;
      }
      p->primitive.execute(stream, {{DNNL_ARG_SRC, memory(p->data, cpu_engine(), in[0].raw_data())},
                                    {DNNL_ARG_DIFF_DST, memory(p->data, cpu_engine(), in[1].raw_data())},
                                    {DNNL_ARG_SCALE, vector_memory(in[2])}, {DNNL_ARG_SHIFT, vector_memory(unused_shift)},
                                    {DNNL_ARG_MEAN, vector_memory(in[3])},
                                    {DNNL_ARG_VARIANCE, vector_memory(variance)},
                                    {DNNL_ARG_DIFF_SRC, memory(p->data, cpu_engine(), out.raw_data())},
                                    {DNNL_ARG_DIFF_SCALE, vector_memory(first)}, {DNNL_ARG_DIFF_SHIFT, vector_memory(second)}});
      stream.wait();
    }
    outputs[0] = std::move(out);
    outputs[1] = std::move(first);
    outputs[2] = std::move(second);
  }

  static std::shared_ptr<BatchNormPrimitive> make(const BatchNormalization& op, const Shape& shape) {
    auto p = std::make_shared<BatchNormPrimitive>();
    p->data = plain(memory::dims(shape.begin(), shape.end()));
    p->channels = plain({shape[1]});
    const auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    const float epsilon = static_cast<float>(op.epsilon());
    try {
      const dnnl::batch_normalization_forward::primitive_desc forward(
          dnnl::batch_normalization_forward::desc(dnnl::prop_kind::forward_training, p->data, epsilon, flags), cpu_engine());
      if (op.pass() == BatchNormPass::Train) {
        p->primitive = dnnl::batch_normalization_forward(forward);
      } else {
        const dnnl::batch_normalization_backward::primitive_desc backward(
            dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, p->data, p->data, epsilon, flags), cpu_engine(), forward);
        p->primitive = dnnl::batch_normalization_backward(backward);
      }
      p->usable = true;
    } catch (const dnnl::error&) {
      p->usable = false;
    }
    return p;
  }

  ShapeCache<BatchNormPrimitive> cache_;
};

}  // namespace

std::shared_ptr<const Kernel> onednn_batch_norm_kernel(const Apply& node) {
  const auto& op = static_cast<const BatchNormalization&>(node.op());
  if (node.output(0).dtype() != DType::Float32 || !op.per_channel(node.input(0).ndim())) return nullptr;  // (oneDNN's are per channel)
  return std::make_shared<OneDnnBatchNorm>();
}

std::shared_ptr<const Kernel> onednn_convolution_kernel(const Apply& node) {
  if (node.output(0).dtype() != DType::Float32) return nullptr;
  return std::make_shared<OneDnnConvolution>();
}

std::shared_ptr<const Kernel> onednn_pooling_kernel(const Apply& node) {
  const auto& op = static_cast<const Pooling&>(node.op());
  if (node.output(0).dtype() != DType::Float32) return nullptr;
  // Sums, and max-pooling's gradients (Theano sends the gradient to every tied maximum; oneDNN to one), run
  // the reference.
  if (op.settings().mode == PoolMode::Sum) return nullptr;
  if (op.settings().mode == PoolMode::Max && op.pass() != PoolPass::Forward) return nullptr;
  if (op.pass() == PoolPass::GradGrad) return nullptr;
  return std::make_shared<OneDnnPooling>();
}

#endif

}  // namespace hypatia
