#include "ops/pool.h"

#include <bit>
#include <cmath>

#include "hypatia/config.h"
#include "hypatia/conv.h"
#include "hypatia/elemwise.h"
#include "hypatia/shape_ops.h"
#include "ir/serialize.h"
#include "ops/op_support.h"

namespace hypatia {

namespace {

const char* mode_name(PoolMode mode) {
  switch (mode) {
    case PoolMode::Sum: return "sum";
    case PoolMode::AverageIncPad: return "average_inc_pad";
    case PoolMode::AverageExcPad: return "average_exc_pad";
    default: return "max";
  }
}

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

bool known(int64_t v) { return v != TensorType::kUnknown; }

}  // namespace

PoolSettings PoolSettings::from(const std::vector<int64_t>& ws, const PoolOptions& options, int spatial, const char* op) {
  const std::string name = std::string("[") + op + "] ";
  auto sizes = [&](const std::vector<int64_t>& values, const char* what, int64_t fallback, int64_t low) {
    if (values.empty()) return std::vector<int64_t>(spatial, fallback);
    if (static_cast<int>(values.size()) != spatial)
      throw ValueError(name + what + " " + shape_str(values) + " needs " + std::to_string(spatial) + " values");
    for (int64_t v : values)
      if (v < low) throw ValueError(name + what + " " + shape_str(values) + " must be at least " + std::to_string(low));
    return values;
  };
  PoolSettings s;
  s.spatial = spatial;
  if (ws.empty()) throw ValueError(name + "needs a window size ws");
  s.window = sizes(ws, "ws", 1, 1);
  s.stride = options.stride.empty() ? s.window : sizes(options.stride, "stride", 1, 1);
  s.pad = sizes(options.pad, "pad", 0, 0);
  s.ignore_border = options.ignore_border;
  s.mode = options.mode;
  for (int axis = 0; axis < spatial; ++axis) {
    if (s.pad[axis] != 0 && !s.ignore_border)
      throw ValueError(name + "pad " + shape_str(s.pad) + " works only with ignore_border=True");
    if (s.pad[axis] >= s.window[axis])
      throw ValueError(name + "pad " + shape_str(s.pad) + " must be smaller than the window ws " + shape_str(s.window));
  }
  return s;
}

int64_t PoolSettings::output_size(int axis, int64_t size) const {
  const int64_t padded = size + 2 * pad[axis], ws = window[axis], st = stride[axis];
  if (ignore_border) return std::max<int64_t>(0, floor_div(padded - ws, st) + 1);
  if (st >= ws) return floor_div(padded - 1, st) + 1;
  return std::max<int64_t>(0, floor_div(padded - 1 - ws, st) + 1) + 1;
}

std::string Pooling::name() const {
  const std::string base = settings_.spatial == 3 ? "pool_3d" : "pool_2d";
  switch (pass_) {
    case PoolPass::Grad: return base + "_grad";
    case PoolPass::GradGrad: return base + "_grad_grad";
    default: return base;
  }
}

std::string Pooling::props() const {
  std::string text = std::string("mode=") + mode_name(settings_.mode) + ", ws=" + shape_str(settings_.window);
  if (settings_.stride != settings_.window) text += ", stride=" + shape_str(settings_.stride);
  bool padded = false;
  for (int64_t p : settings_.pad) padded = padded || p != 0;
  if (padded) text += ", pad=" + shape_str(settings_.pad);
  text += settings_.ignore_border ? ", ignore_border" : "";
  return text;
}

Shape Pooling::pooled_shape(const Shape& x) const {
  Shape shape = x;
  const int first = static_cast<int>(x.size()) - settings_.spatial;
  for (int axis = 0; axis < settings_.spatial; ++axis)
    shape[first + axis] = known(x[first + axis]) ? settings_.output_size(axis, x[first + axis]) : TensorType::kUnknown;
  return shape;
}

std::vector<TensorType> Pooling::output_types(const std::vector<Variable>& inputs) const {
  const std::string op = "[" + name() + "] ";
  const bool max = settings_.mode == PoolMode::Max;
  if (pass_ == PoolPass::GradGrad && !max) throw TypeError(op + "is defined for max pooling only");
  const size_t arity = pass_ == PoolPass::Forward ? 1 : (max ? 3 : 2);
  if (inputs.size() != arity) throw TypeError(op + "takes " + std::to_string(arity) + " inputs");
  const Variable& x = inputs[0];
  if (x.ndim() < settings_.spatial)
    throw TypeError(op + "pools the last " + std::to_string(settings_.spatial) + " axes; the input " + x.type().str() +
                    " has fewer");
  if (!is_float(x.dtype())) throw TypeError(op + "needs a float input, got " + x.type().str());
  for (size_t i = 1; i < inputs.size(); ++i)
    if (inputs[i].dtype() != x.dtype() || inputs[i].ndim() != x.ndim())
      throw TypeError(op + "inputs " + x.type().str() + " and " + inputs[i].type().str() + " must have one dtype and ndim");
  const Shape pooled = pooled_shape(x.type().shape);
  auto check_like = [&](const Variable& v, const Shape& expected, const char* what) {
    for (int axis = 0; axis < v.ndim(); ++axis)
      if (known(v.type().shape[axis]) && known(expected[axis]) && v.type().shape[axis] != expected[axis])
        throw ShapeError(op + "the " + what + " " + v.type().str() + " does not have the pooled shape " + shape_str(expected) +
                         " of the input " + x.type().str());
  };
  switch (pass_) {
    case PoolPass::Forward:
      return {TensorType(x.dtype(), pooled)};
    case PoolPass::Grad:
      for (size_t i = 1; i < inputs.size(); ++i) check_like(inputs[i], pooled, i + 1 == inputs.size() ? "output gradient" : "pooled output");
      return {x.type()};
    case PoolPass::GradGrad:
      check_like(inputs[1], pooled, "pooled output");
      check_like(inputs[2], x.type().shape, "input-shaped gradient");
      return {TensorType(x.dtype(), pooled)};
  }
  return {};
}

PoolGeometry Pooling::geometry(const Shape& x) const {
  PoolGeometry g;
  const int first = static_cast<int>(x.size()) - settings_.spatial;
  if (first < 0)
    throw ShapeError("[" + name() + "] pools the last " + std::to_string(settings_.spatial) + " axes of " + shape_str(x));
  g.planes = 1;
  for (int axis = 0; axis < first; ++axis) g.planes *= x[axis];
  g.batch = first == 2 ? x[0] : g.planes;
  g.channels = first == 2 ? x[1] : 1;
  const int offset = 3 - settings_.spatial;
  for (int axis = 0; axis < settings_.spatial; ++axis) {
    g.input[offset + axis] = x[first + axis];
    g.output[offset + axis] = settings_.output_size(axis, x[first + axis]);
    g.window[offset + axis] = settings_.window[axis];
    g.stride[offset + axis] = settings_.stride[axis];
    g.pad[offset + axis] = settings_.pad[axis];
  }
  return g;
}

std::optional<Shape> Pooling::result_shape(const Apply&, std::span<const Array> inputs) const {
  const Shape& x = inputs[0].shape();
  geometry(x);
  const Shape pooled = pooled_shape(x);
  for (size_t i = 1; i < inputs.size(); ++i) {
    const bool input_shaped = pass_ == PoolPass::GradGrad && i == 2;  // the others are pooled-shaped
    const Shape& expected = input_shaped ? x : pooled;
    if (inputs[i].shape() != expected)
      throw ShapeError("[" + name() + "] input " + std::to_string(i) + " has shape " + shape_str(inputs[i].shape()) + ", not " +
                       shape_str(expected) + " (the input " + shape_str(x) + (input_shaped ? ")" : " pooled)"));
  }
  return pass_ == PoolPass::Grad ? x : pooled;
}

namespace {

// A window along one axis: the samples [first, last) it covers inside the input, and how many samples an
// average counts (with the padding for average_inc_pad).
struct Span {
  int64_t first, last, count;
};

std::vector<Span> spans(const PoolGeometry& g, int axis, PoolMode mode) {
  std::vector<Span> result;
  for (int64_t o = 0; o < g.output[axis]; ++o) {
    const int64_t start = o * g.stride[axis] - g.pad[axis];
    const int64_t end = std::min(start + g.window[axis], g.input[axis] + g.pad[axis]);
    const int64_t first = std::max<int64_t>(start, 0), last = std::min(end, g.input[axis]);
    result.push_back({first, last, mode == PoolMode::AverageIncPad ? end - start : last - first});
  }
  return result;
}

// One plane (an image of one channel): x, the pooled values (max's gradients) and the incoming values
// (the gradients) are its own, offsets counted from its start, so planes run in parallel.
template <class T>
void pool_plane(PoolPass pass, PoolMode mode, const PoolGeometry& g, const std::vector<Span> (&along)[3], const T* x,
                const T* pooled, const T* incoming, T* result) {
  for (int64_t od = 0; od < g.output[0]; ++od)
    for (int64_t oh = 0; oh < g.output[1]; ++oh)
      for (int64_t ow = 0; ow < g.output[2]; ++ow) {
        const Span &d = along[0][od], &h = along[1][oh], &w = along[2][ow];
        const int64_t o = (od * g.output[1] + oh) * g.output[2] + ow;
        // Visits the window's samples inside the input by their offset.
        auto each = [&](auto&& visit) {
          for (int64_t id = d.first; id < d.last; ++id)
            for (int64_t ih = h.first; ih < h.last; ++ih) {
              const int64_t row = (id * g.input[1] + ih) * g.input[2];
              for (int64_t iw = w.first; iw < w.last; ++iw) visit(row + iw);
            }
        };
        const double count = static_cast<double>(d.count * h.count * w.count);
        if (pass == PoolPass::Forward) {
          if (mode == PoolMode::Max) {
            T best = -std::numeric_limits<T>::infinity();
            each([&](int64_t i) {
              if (best == best && (x[i] > best || x[i] != x[i])) best = x[i];  // NaN wins, as in np.max
            });
            result[o] = best;
          } else {
            double total = 0;
            each([&](int64_t i) { total += static_cast<double>(x[i]); });
            result[o] = static_cast<T>(mode == PoolMode::Sum ? total : total / count);
          }
        } else if (pass == PoolPass::Grad) {
          const T gz = incoming[o];
          if (mode == PoolMode::Max) {
            const T top = pooled[o];
            each([&](int64_t i) { result[i] += x[i] == top ? gz : T(0); });
          } else {
            const T share = mode == PoolMode::Sum ? gz : static_cast<T>(static_cast<double>(gz) / count);
            each([&](int64_t i) { result[i] += share; });
          }
        } else {  // GradGrad: the incoming gradient at the window's maximum (the last one among ties)
          each([&](int64_t i) {
            if (x[i] == pooled[o]) result[o] = incoming[i];
          });
        }
      }
}

// Max-pooling's gradient for windows that tile the input (stride = window, no padding): each sample is in
// at most one window, so each is written once, branch-free (samples past the last window get 0).
template <class T>
void tiled_max_grad_plane(const PoolGeometry& g, const T* x, const T* pooled, const T* incoming, T* result) {
  // (The last window may be partial without ignore_border: it covers the samples up to the width.)
  const int64_t width = g.input[2], ws = g.window[2], windows = g.output[2], covered = std::min(windows * ws, width);
  // Each row of maxima and gradients spread over the samples they cover, so the select below runs over
  // contiguous samples (and vectorizes).
  std::vector<T> spread_max(static_cast<size_t>(covered)), spread_grad(static_cast<size_t>(covered));
  using Bits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;
  for (int64_t id = 0; id < g.input[0]; ++id)
    for (int64_t ih = 0; ih < g.input[1]; ++ih) {
      const int64_t od = id / g.window[0], oh = ih / g.window[1], row = (id * g.input[1] + ih) * width;
      T* out = result + row;
      if (od >= g.output[0] || oh >= g.output[1]) {
        std::fill(out, out + width, T(0));
        continue;
      }
      if (ih % g.window[1] == 0 || ih == 0) {
        const T* top = pooled + (od * g.output[1] + oh) * windows;
        const T* gz = incoming + (od * g.output[1] + oh) * windows;
        for (int64_t ow = 0; ow < windows; ++ow)
          for (int64_t k = 0; k < ws && ow * ws + k < covered; ++k) {
            spread_max[ow * ws + k] = top[ow];
            spread_grad[ow * ws + k] = gz[ow];
          }
      }
      const T* in = x + row;
      // The gradient's bits kept where the sample is its window's maximum: a select without branches.
      for (int64_t w = 0; w < covered; ++w)
        out[w] = std::bit_cast<T>(std::bit_cast<Bits>(spread_grad[w]) & (Bits(0) - Bits(in[w] == spread_max[w])));
      std::fill(out + covered, out + width, T(0));
    }
}

bool tiled_max_grad(PoolPass pass, PoolMode mode, const PoolGeometry& g) {
  bool tiled = pass == PoolPass::Grad && mode == PoolMode::Max;
  for (int axis = 0; axis < 3; ++axis) tiled = tiled && g.stride[axis] == g.window[axis] && g.pad[axis] == 0;
  return tiled;
}

template <class T>
void reference_pooling(PoolPass pass, PoolMode mode, const PoolGeometry& g, std::span<const Array> inputs, Array& out) {
  const T* x = inputs[0].data<T>();
  const T* pooled = mode == PoolMode::Max && pass != PoolPass::Forward ? inputs[1].data<T>() : nullptr;
  const T* incoming = pass == PoolPass::Forward ? nullptr : inputs.back().data<T>();
  T* result = out.data<T>();
  const int64_t in_size = g.input_size(), out_size = g.output_size();
  // Per plane: where each operand starts (the gradient is input-shaped, GradGrad's incoming values too).
  const int64_t result_size = pass == PoolPass::Grad ? in_size : out_size;
  const int64_t incoming_size = pass == PoolPass::GradGrad ? in_size : out_size;
  const int64_t work = g.planes * std::max(in_size, out_size);
  if (tiled_max_grad(pass, mode, g)) {
#pragma omp parallel for num_threads(cpu_threads()) if (work > 32768) schedule(static)
    for (int64_t plane = 0; plane < g.planes; ++plane)
      tiled_max_grad_plane<T>(g, x + plane * in_size, pooled + plane * out_size, incoming + plane * out_size, result + plane * in_size);
    return;
  }
  const std::vector<Span> along[3] = {spans(g, 0, mode), spans(g, 1, mode), spans(g, 2, mode)};
#pragma omp parallel for num_threads(cpu_threads()) if (work > 32768) schedule(static)
  for (int64_t plane = 0; plane < g.planes; ++plane)
    pool_plane<T>(pass, mode, g, along, x + plane * in_size, pooled ? pooled + plane * out_size : nullptr,
                  incoming ? incoming + plane * incoming_size : nullptr, result + plane * result_size);
}

}  // namespace

void Pooling::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  if (perform_float16_in_float32(*this, node, inputs, outputs)) return;
  const Shape shape = *result_shape(node, inputs);
  std::vector<Array> contiguous;
  for (const Array& input : inputs) contiguous.push_back(input.is_contiguous() ? input : input.copy());
  const PoolGeometry g = geometry(inputs[0].shape());
  // (The tiled max-pooling gradient writes every sample; the other loops add into zeros.)
  Array out = tiled_max_grad(pass_, settings_.mode, g) ? Array::empty(shape, inputs[0].dtype()) : Array::zeros(shape, inputs[0].dtype());
  if (out.size() > 0)
    dispatch_dtype(out.dtype(), [&]<class T>() {
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>)
        reference_pooling<T>(pass_, settings_.mode, g, contiguous, out);
    });
  outputs[0] = std::move(out);
}

std::vector<Variable> Pooling::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable& g = output_grads[0];
  const Variable& x = node.input(0);
  const CodeLocation& where = node.where();
  const bool max = settings_.mode == PoolMode::Max;
  switch (pass_) {
    case PoolPass::Forward:
      if (max) return {pooling(PoolPass::Grad, settings_, {x, node.output(0), g}, where)};
      return {pooling(PoolPass::Grad, settings_, {x, g}, where)};
    case PoolPass::Grad:
      // Piecewise constant in x (and the maximum); linear in the output gradient, whose adjoint this is.
      if (max) return {zeros_like(x), zeros_like(node.input(1)), pooling(PoolPass::GradGrad, settings_, {x, node.input(1), g}, where)};
      return {zeros_like(x), pooling(PoolPass::Forward, settings_, {g}, where)};
    case PoolPass::GradGrad:
      return {zeros_like(x), zeros_like(node.input(1)), pooling(PoolPass::Grad, settings_, {x, node.input(1), g}, where)};
  }
  return {};
}

std::vector<std::vector<Variable>> Pooling::infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const {
  if (pass_ == PoolPass::Grad) return {shapes[0]};
  std::vector<Variable> result = shapes[0];
  const int first = node.input(0).ndim() - settings_.spatial;
  const TensorType& type = node.output(0).type();
  for (int axis = 0; axis < settings_.spatial; ++axis) {
    Variable& size = result[first + axis];
    if (known(type.shape[first + axis])) {
      size = constant(static_cast<double>(type.shape[first + axis]), DType::Int64);
      continue;
    }
    const int64_t ws = settings_.window[axis], st = settings_.stride[axis];
    const Variable padded = size + 2 * settings_.pad[axis];
    if (settings_.ignore_border) size = maximum(int_div(padded - ws, st) + 1, 0);
    else if (st >= ws) size = int_div(padded - 1, st) + 1;
    else size = maximum(int_div(padded - 1 - ws, st) + 1, 0) + 1;
  }
  return {result};
}

Variable pooling(PoolPass pass, const PoolSettings& settings, std::vector<Variable> inputs, CodeLocation where) {
  return apply_op1(std::make_shared<Pooling>(pass, settings), std::move(inputs), where);
}

// ---- Builders ----

namespace {

Variable pool(const Operand& x, const std::vector<int64_t>& ws, const PoolOptions& options, int spatial) {
  return at_location(x.where(), [&] {
    const PoolSettings settings = PoolSettings::from(ws, options, spatial, spatial == 3 ? "pool_3d" : "pool_2d");
    return pooling(PoolPass::Forward, settings, {x.as_variable()}, x.where());
  });
}

}  // namespace

Variable pool_2d(const Operand& x, const std::vector<int64_t>& ws, const PoolOptions& options) { return pool(x, ws, options, 2); }
Variable pool_3d(const Operand& x, const std::vector<int64_t>& ws, const PoolOptions& options) { return pool(x, ws, options, 3); }

Variable max_pool_2d_same_size(const Operand& x, const std::vector<int64_t>& patch_size) {
  // Theano's composition: the max-pooling gradient of the pooled values themselves puts each maximum
  // back in its place.
  return at_location(x.where(), [&] {
    PoolOptions options;
    options.ignore_border = true;
    const PoolSettings settings = PoolSettings::from(patch_size, options, 2, "max_pool_2d_same_size");
    const Variable input = x.as_variable();
    const Variable pooled = pooling(PoolPass::Forward, settings, {input}, x.where());
    return pooling(PoolPass::Grad, settings, {input, pooled, pooled}, x.where());
  });
}

// ---- Saving ----

std::string Pooling::save() const {
  OpWriter out("pooling");
  out.integer(static_cast<int>(pass_));
  out.integer(settings_.spatial);
  for (const auto* values : {&settings_.window, &settings_.stride, &settings_.pad})
    for (int64_t v : *values) out.integer(v);
  out.flag(settings_.ignore_border);
  out.integer(static_cast<int>(settings_.mode));
  return out.bytes();
}

void register_pool_loaders(OpLoaders& loaders) {
  loaders["pooling"] = [](OpReader& in) -> OpPtr {
    const auto pass = static_cast<PoolPass>(in.integer_in(0, 2, "a pooling pass"));
    PoolSettings settings;
    settings.spatial = static_cast<int>(in.integer_in(2, 3, "a number of spatial axes"));
    for (auto* values : {&settings.window, &settings.stride, &settings.pad})
      for (int axis = 0; axis < settings.spatial; ++axis)
        values->push_back(in.integer_in(values == &settings.pad ? 0 : 1, INT32_MAX, "a pooling size"));
    settings.ignore_border = in.flag();
    settings.mode = static_cast<PoolMode>(in.integer_in(0, 3, "a pooling mode"));
    return std::make_shared<Pooling>(pass, std::move(settings));
  };
}

}  // namespace hypatia
