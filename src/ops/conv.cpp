#include "ops/blas.h"
#include "ops/conv.h"

#include <cblas.h>

#include <cstring>

#include "hypatia/elemwise.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "hypatia/subtensor.h"
#include "ir/serialize.h"
#include "ops/op_support.h"
#include "scalar/scalar_math.h"

namespace hypatia {

namespace {

const char* border_name(BorderMode mode) {
  switch (mode) {
    case BorderMode::Full: return "full";
    case BorderMode::Half: return "half";
    default: return "explicit";
  }
}

// One entry per axis from a list of one or `spatial` values (empty: `fallback`), each at least `low`.
std::vector<int64_t> per_axis(const std::vector<int64_t>& values, int spatial, int64_t fallback, int64_t low,
                              const char* what, const char* op) {
  if (values.empty()) return std::vector<int64_t>(spatial, fallback);
  if (values.size() != 1 && static_cast<int>(values.size()) != spatial)
    throw ValueError(std::string("[") + op + "] " + what + " " + shape_str(values) + " needs 1 or " +
                     std::to_string(spatial) + " values");
  for (int64_t v : values)
    if (v < low)
      throw ValueError(std::string("[") + op + "] " + what + " " + shape_str(values) + " must be at least " +
                       std::to_string(low));
  return values.size() == 1 ? std::vector<int64_t>(spatial, values[0]) : values;
}

}  // namespace

ConvSettings ConvSettings::from(const ConvOptions& options, int spatial, const char* op) {
  ConvSettings settings;
  settings.spatial = spatial;
  settings.border_mode = options.border_mode;
  if (options.border_mode != BorderMode::Explicit && !options.padding.empty())
    throw ValueError(std::string("[") + op + "] padding " + shape_str(options.padding) + " goes with an explicit border mode, not '" +
                     border_name(options.border_mode) + "'");
  settings.padding = per_axis(options.padding, spatial, 0, 0, "padding", op);
  settings.subsample = per_axis(options.subsample, spatial, 1, 1, "subsample", op);
  settings.dilation = per_axis(options.filter_dilation, spatial, 1, 1, "filter_dilation", op);
  settings.filter_flip = options.filter_flip;
  if (options.num_groups < 1)
    throw ValueError(std::string("[") + op + "] num_groups must be at least 1, got " + std::to_string(options.num_groups));
  settings.groups = options.num_groups;
  return settings;
}

int64_t ConvSettings::pad(int axis, int64_t kernel) const {
  if (border_mode == BorderMode::Explicit) return padding[axis];
  if (kernel == TensorType::kUnknown) return TensorType::kUnknown;
  const int64_t span = dilated(axis, kernel);
  return border_mode == BorderMode::Full ? span - 1 : span / 2;
}

int64_t ConvSettings::output_size(int axis, int64_t image, int64_t kernel) const {
  const int64_t span = image + 2 * pad(axis, kernel) - dilated(axis, kernel);
  return span < 0 ? 0 : span / subsample[axis] + 1;
}

// ---- Convolution ----

std::string Convolution::name() const {
  const std::string base = settings_.spatial == 3 ? "conv3d" : "conv2d";
  switch (pass_) {
    case ConvPass::GradWeights: return base + "_grad_weights";
    case ConvPass::GradInputs: return base + "_grad_inputs";
    default: return base;
  }
}

std::string Convolution::props() const {
  std::string text = "border=";
  text += settings_.border_mode == BorderMode::Explicit ? shape_str(settings_.padding) : border_name(settings_.border_mode);
  bool ones = true;
  for (int64_t s : settings_.subsample) ones = ones && s == 1;
  if (!ones) text += ", subsample=" + shape_str(settings_.subsample);
  ones = true;
  for (int64_t d : settings_.dilation) ones = ones && d == 1;
  if (!ones) text += ", dilation=" + shape_str(settings_.dilation);
  if (!settings_.filter_flip) text += ", cross-correlation";
  if (settings_.groups != 1) text += ", groups=" + std::to_string(settings_.groups);
  if (epilogue_.bias) text += ", bias";
  constexpr const char* kActivations[] = {"", ", relu", ", tanh", ", sigmoid"};
  text += kActivations[static_cast<int>(epilogue_.activation)];
  return text;
}

namespace {

// What the checks need of the operands, whether known statically (kUnknown where not) or at run time.
struct ConvShapes {
  std::vector<int64_t> image, filters, output;  // full shapes; the pass's output is what it computes
};

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + (shape[i] == TensorType::kUnknown ? std::string("?") : std::to_string(shape[i]));
  return text + ")";
}

bool known(int64_t v) { return v != TensorType::kUnknown; }

}  // namespace

// The checks both build time and run time make: the channels match and the kernel fits. Unknown sizes
// (build time) skip the checks they take part in, and unknown results stay unknown.
static std::vector<int64_t> resolve_conv_shapes(const Convolution& op, ConvShapes shapes) {
  const ConvSettings& s = op.settings();
  const std::string name = "[" + op.name() + "] ";
  const int64_t groups = s.groups;
  auto& image = shapes.image;
  auto& filters = shapes.filters;
  auto& output = shapes.output;
  const std::string described = "image " + shape_text(image) + ", filters " + shape_text(filters) +
                                (op.pass() == ConvPass::Forward ? "" : ", output gradient " + shape_text(output));
  if (known(filters[0]) && filters[0] % groups != 0)
    throw ShapeError(name + "num_groups=" + std::to_string(groups) + " does not divide the " + std::to_string(filters[0]) +
                     " filters (" + described + ")");
  if (known(image[1]) && image[1] % groups != 0)
    throw ShapeError(name + "num_groups=" + std::to_string(groups) + " does not divide the image's " + std::to_string(image[1]) +
                     " channels (" + described + ")");
  if (known(image[1]) && known(filters[1]) && image[1] != filters[1] * groups)
    throw ShapeError(name + "the image has " + std::to_string(image[1]) + " channels but the filters take " +
                     std::to_string(filters[1]) + (groups > 1 ? " per group of " + std::to_string(groups) : "") + " (" + described + ")");
  for (int axis = 0; axis < s.spatial; ++axis) {
    const int64_t kernel = filters[2 + axis], size = image[2 + axis];
    if (known(kernel) && kernel < 1) throw ShapeError(name + "empty filters (" + described + ")");
    if (!known(kernel) || !known(size)) continue;
    const int64_t padded = size + 2 * s.pad(axis, kernel), span = s.dilated(axis, kernel);
    if (padded < span)
      throw ShapeError(name + "the filters span " + std::to_string(span) + " samples along spatial axis " + std::to_string(axis) +
                       " (" + std::to_string(kernel) + " taps, dilation " + std::to_string(s.dilation[axis]) + "), more than the " +
                       (padded == size ? "image's " : "padded image's ") + std::to_string(padded) + " (" + described + ")");
  }
  std::vector<int64_t> result;
  switch (op.pass()) {
    case ConvPass::Forward:
      result = {image[0], filters[0]};
      for (int axis = 0; axis < s.spatial; ++axis) {
        const int64_t kernel = filters[2 + axis], size = image[2 + axis];
        result.push_back(known(kernel) && known(size) ? s.output_size(axis, size, kernel) : TensorType::kUnknown);
      }
      return result;
    case ConvPass::GradWeights:
    case ConvPass::GradInputs: {
      // The output gradient must be the shape the forward pass gives.
      if (known(output[0]) && known(image[0]) && output[0] != image[0])
        throw ShapeError(name + "the output gradient has batch " + std::to_string(output[0]) + " but the image " +
                         std::to_string(image[0]) + " (" + described + ")");
      if (known(output[1]) && known(filters[0]) && output[1] != filters[0])
        throw ShapeError(name + "the output gradient has " + std::to_string(output[1]) + " channels for " +
                         std::to_string(filters[0]) + " filters (" + described + ")");
      for (int axis = 0; axis < s.spatial; ++axis) {
        const int64_t kernel = filters[2 + axis], size = image[2 + axis], out = output[2 + axis];
        if (known(kernel) && known(size) && known(out) && s.output_size(axis, size, kernel) != out)
          throw ShapeError(name + "an image of spatial size " + std::to_string(size) + " gives outputs of " +
                           std::to_string(s.output_size(axis, size, kernel)) + " along spatial axis " + std::to_string(axis) +
                           ", not " + std::to_string(out) + " (" + described + ")");
      }
      return op.pass() == ConvPass::GradWeights ? filters : image;
    }
  }
  return result;
}

namespace {

// The sizes a shape vector input declares: its constant values, or unknowns.
std::vector<int64_t> declared_sizes(const Variable& sizes, int count) {
  std::vector<int64_t> result(count, TensorType::kUnknown);
  if (!sizes.is_constant()) return result;
  const Array values = sizes.constant_value().astype(DType::Int64);
  for (int i = 0; i < count && i < values.size(); ++i) result[i] = values.data<int64_t>()[i];
  return result;
}

}  // namespace

std::vector<TensorType> Convolution::output_types(const std::vector<Variable>& inputs) const {
  const std::string op = "[" + name() + "] ";
  const int ndim = settings_.spatial + 2;
  const size_t arity = pass_ == ConvPass::Forward ? 2 + epilogue_.bias : 3;
  if (inputs.size() != arity) throw TypeError(op + "takes " + std::to_string(arity) + " inputs");
  if (epilogue_.bias) {
    const Variable& bias = inputs[2];
    const int64_t filters = inputs[1].type().shape[0], length = bias.ndim() == 1 ? bias.type().shape[0] : TensorType::kUnknown;
    if (bias.ndim() != 1 || bias.dtype() != inputs[0].dtype() || (known(filters) && known(length) && filters != length))
      throw TypeError(op + "the bias " + bias.type().str() + " must be a vector of one value per filter of " + inputs[1].type().str());
  }
  const char* roles[3][2] = {{"image", "filters"}, {"image", "output gradient"}, {"filters", "output gradient"}};
  const auto& role = roles[static_cast<int>(pass_)];
  for (int i = 0; i < 2; ++i) {
    if (inputs[i].ndim() != ndim)
      throw TypeError(op + "the " + role[i] + " must have " + std::to_string(ndim) + " dimensions (batch, channels, " +
                      (ndim == 5 ? "depth, " : "") + "rows, columns), got " + inputs[i].type().str());
    if (!is_float(inputs[i].dtype())) throw TypeError(op + "the " + role[i] + " must be float, got " + inputs[i].type().str());
  }
  if (inputs[0].dtype() != inputs[1].dtype())
    throw TypeError(op + "the " + role[0] + " " + inputs[0].type().str() + " and " + role[1] + " " + inputs[1].type().str() +
                    " must have one dtype");
  if (pass_ != ConvPass::Forward && (inputs[2].ndim() != 1 || !is_integer(inputs[2].dtype()) ||
                     (known(inputs[2].type().shape[0]) && inputs[2].type().shape[0] != settings_.spatial)))
    throw TypeError(op + "the spatial shape must be an integer vector of " + std::to_string(settings_.spatial) + " sizes, got " +
                    inputs[2].type().str());
  ConvShapes shapes;
  std::vector<int64_t> declared = arity == 3 ? declared_sizes(inputs[2], settings_.spatial) : std::vector<int64_t>();
  const auto& a = inputs[0].type().shape;
  const auto& b = inputs[1].type().shape;
  switch (pass_) {
    case ConvPass::Forward:
      shapes = {a, b, {}};
      break;
    case ConvPass::GradWeights:
      shapes = {a, {b[1], known(a[1]) ? a[1] / settings_.groups : TensorType::kUnknown}, b};
      shapes.filters.insert(shapes.filters.end(), declared.begin(), declared.end());
      break;
    case ConvPass::GradInputs:
      shapes = {{b[0], known(a[1]) ? a[1] * settings_.groups : TensorType::kUnknown}, a, b};
      shapes.image.insert(shapes.image.end(), declared.begin(), declared.end());
      break;
  }
  return {TensorType(inputs[0].dtype(), resolve_conv_shapes(*this, shapes))};
}

ConvGeometry Convolution::geometry(std::span<const Array> inputs) const {
  const int ndim = settings_.spatial + 2;
  for (int i = 0; i < 2; ++i)
    if (inputs[i].ndim() != ndim)
      throw ShapeError("[" + name() + "] expects " + std::to_string(ndim) + "-d operands, got " + shape_str(inputs[i].shape()));
  ConvShapes shapes;
  const Shape &a = inputs[0].shape(), &b = inputs[1].shape();
  std::vector<int64_t> declared;
  if (pass_ != ConvPass::Forward) {
    const Array sizes = inputs[2].astype(DType::Int64);
    if (sizes.ndim() != 1 || sizes.size() != settings_.spatial)
      throw ShapeError("[" + name() + "] the spatial shape " + shape_str(sizes.shape()) + " must hold " +
                       std::to_string(settings_.spatial) + " sizes");
    for (int64_t i = 0; i < sizes.size(); ++i) {
      declared.push_back(sizes.data<int64_t>()[i]);
      if (declared.back() < 1) throw ShapeError("[" + name() + "] spatial sizes must be positive, got " + shape_str(declared));
    }
  }
  switch (pass_) {
    case ConvPass::Forward:
      shapes = {a, b, {}};
      break;
    case ConvPass::GradWeights:
      if (a[1] % settings_.groups != 0)
        throw ShapeError("[" + name() + "] num_groups=" + std::to_string(settings_.groups) + " does not divide the image's " +
                         std::to_string(a[1]) + " channels (image " + shape_str(a) + ")");
      shapes = {a, {b[1], a[1] / settings_.groups}, b};
      shapes.filters.insert(shapes.filters.end(), declared.begin(), declared.end());
      break;
    case ConvPass::GradInputs:
      shapes = {{b[0], a[1] * settings_.groups}, a, b};
      shapes.image.insert(shapes.image.end(), declared.begin(), declared.end());
      break;
  }
  resolve_conv_shapes(*this, shapes);
  if (pass_ == ConvPass::Forward && epilogue_.bias && (inputs[2].ndim() != 1 || inputs[2].size() != b[0]))
    throw ShapeError("[" + name() + "] the bias " + shape_str(inputs[2].shape()) + " must hold one value for each of the " +
                     std::to_string(b[0]) + " filters " + shape_str(b));
  ConvGeometry g;
  g.batch = shapes.image[0];
  g.channels = shapes.image[1];
  g.filters = shapes.filters[0];
  g.groups = settings_.groups;
  g.flip = settings_.filter_flip;
  const int offset = 3 - settings_.spatial;
  for (int axis = 0; axis < settings_.spatial; ++axis) {
    const int64_t kernel = shapes.filters[2 + axis], size = shapes.image[2 + axis];
    g.image[offset + axis] = size;
    g.kernel[offset + axis] = kernel;
    g.pad[offset + axis] = settings_.pad(axis, kernel);
    g.stride[offset + axis] = settings_.subsample[axis];
    g.dilation[offset + axis] = settings_.dilation[axis];
    g.output[offset + axis] = settings_.output_size(axis, size, kernel);
  }
  return g;
}

Shape Convolution::output_shape(const ConvGeometry& g) const {
  const int offset = 3 - settings_.spatial;
  Shape shape;
  switch (pass_) {
    case ConvPass::Forward: shape = {g.batch, g.filters}; break;
    case ConvPass::GradWeights: shape = {g.filters, g.channels / g.groups}; break;
    case ConvPass::GradInputs: shape = {g.batch, g.channels}; break;
  }
  const auto& spatial = pass_ == ConvPass::Forward ? g.output : pass_ == ConvPass::GradWeights ? g.kernel : g.image;
  for (int axis = offset; axis < 3; ++axis) shape.push_back(spatial[axis]);
  return shape;
}

std::optional<Shape> Convolution::result_shape(const Apply&, std::span<const Array> inputs) const {
  return output_shape(geometry(inputs));
}

// ---- The reference: im2col + GEMM ----

namespace {

// The lines of one image group's columns: row (c, kd, kh, kw), columns (od, oh, ow) hold the image sample
// under that kernel tap at that output position (0 in the padding). For each row and (od, oh), `line` gets
// the row, the line's first column, the offset of the image row the line reads (-1 when it lies in the
// padding) and the tap along the width. With flip, row k reads tap K-1-k, so the filters multiply their
// rows as stored.
template <class Line>
void for_each_column_line(const ConvGeometry& g, int64_t channels, Line&& line) {
  int64_t row = 0;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t kd = 0; kd < g.kernel[0]; ++kd)
      for (int64_t kh = 0; kh < g.kernel[1]; ++kh)
        for (int64_t kw = 0; kw < g.kernel[2]; ++kw, ++row) {
          const int64_t td = g.flip ? g.kernel[0] - 1 - kd : kd, th = g.flip ? g.kernel[1] - 1 - kh : kh,
                        tw = g.flip ? g.kernel[2] - 1 - kw : kw;
          for (int64_t od = 0; od < g.output[0]; ++od) {
            const int64_t id = od * g.stride[0] - g.pad[0] + td * g.dilation[0];
            for (int64_t oh = 0; oh < g.output[1]; ++oh) {
              const int64_t ih = oh * g.stride[1] - g.pad[1] + th * g.dilation[1];
              const bool inside = id >= 0 && id < g.image[0] && ih >= 0 && ih < g.image[1];
              line(row, (od * g.output[1] + oh) * g.output[2], inside ? c * g.image_size() + (id * g.image[1] + ih) * g.image[2] : -1, tw);
            }
          }
        }
}

template <class T>
void image_to_columns(const ConvGeometry& g, const T* image, int64_t channels, T* columns) {
  const int64_t positions = g.output_size();
  for_each_column_line(g, channels, [&](int64_t row, int64_t first, int64_t source, int64_t tw) {
    T* out = columns + row * positions + first;
    for (int64_t ow = 0; ow < g.output[2]; ++ow) {
      const int64_t iw = ow * g.stride[2] - g.pad[2] + tw * g.dilation[2];
      out[ow] = source >= 0 && iw >= 0 && iw < g.image[2] ? image[source + iw] : T(0);
    }
  });
}

// The adjoint: each column entry added back onto the image sample it came from.
template <class T>
void columns_to_image(const ConvGeometry& g, const T* columns, int64_t channels, T* image) {
  const int64_t positions = g.output_size();
  for_each_column_line(g, channels, [&](int64_t row, int64_t first, int64_t target, int64_t tw) {
    if (target < 0) return;
    const T* in = columns + row * positions + first;
    for (int64_t ow = 0; ow < g.output[2]; ++ow) {
      const int64_t iw = ow * g.stride[2] - g.pad[2] + tw * g.dilation[2];
      if (iw >= 0 && iw < g.image[2]) image[target + iw] += in[ow];
    }
  });
}

template <class T>
void reference_convolution(ConvPass pass, const ConvGeometry& g, const T* a, const T* b, T* out) {
  const int64_t group_channels = g.channels / g.groups, group_filters = g.filters / g.groups;
  const int64_t rows = group_channels * g.kernel_size(), positions = g.output_size();
  // An empty sum (no channels, filters, batch or positions) leaves the zeros `out` starts as; BLAS would
  // refuse its leading dimensions of 0.
  const int64_t summed = pass == ConvPass::Forward ? rows : pass == ConvPass::GradWeights ? g.batch * positions : group_filters;
  if (summed == 0 || rows == 0 || positions == 0) return;
  std::vector<T> columns(static_cast<size_t>(rows * positions));
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t group = 0; group < g.groups; ++group) {
      const int64_t image_offset = (n * g.channels + group * group_channels) * g.image_size();
      const int64_t output_offset = (n * g.filters + group * group_filters) * positions;
      const int64_t filter_offset = group * group_filters * rows;
      switch (pass) {
        case ConvPass::Forward:  // out[o, p] = filters[o, r] columns[r, p]
          image_to_columns(g, a + image_offset, group_channels, columns.data());
          gemm_row_major<T>(false, false, group_filters, positions, rows, T(1), b + filter_offset, columns.data(), T(0), out + output_offset);
          break;
        case ConvPass::GradWeights:  // dfilters[o, r] += top[o, p] columns[r, p]
          image_to_columns(g, a + image_offset, group_channels, columns.data());
          gemm_row_major<T>(false, true, group_filters, rows, positions, T(1), b + output_offset, columns.data(), T(n == 0 ? 0 : 1),
                  out + filter_offset);
          break;
        case ConvPass::GradInputs:  // columns[r, p] = filters[o, r] top[o, p]; then back onto the image
          gemm_row_major<T>(true, false, rows, positions, group_filters, T(1), a + filter_offset, b + output_offset, T(0), columns.data());
          columns_to_image(g, columns.data(), group_channels, out + image_offset);
          break;
      }
    }
}

// Adds each channel's bias and applies the activation, in place (the scalar table's functions).
template <class T>
void apply_epilogue(const ConvEpilogue& epilogue, const T* bias, int64_t batch, int64_t channels, int64_t positions, T* out) {
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t c = 0; c < channels; ++c) {
      T* values = out + (n * channels + c) * positions;
      const T shift = bias ? bias[c] : T(0);
      for (int64_t p = 0; p < positions; ++p) {
        const T v = values[p] + shift;
        switch (epilogue.activation) {
          case ConvActivation::Relu: values[p] = v != v ? v : std::max(v, T(0)); break;
          case ConvActivation::Tanh: values[p] = scalar_math::tanh(v); break;
          case ConvActivation::Sigmoid: values[p] = scalar_math::sigmoid(v); break;
          default: values[p] = v;
        }
      }
    }
}

}  // namespace

void Convolution::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  if (perform_float16_in_float32(*this, node, inputs, outputs)) return;
  const ConvGeometry g = geometry(inputs);
  const Array a = inputs[0].is_contiguous() ? inputs[0] : inputs[0].copy();
  const Array b = inputs[1].is_contiguous() ? inputs[1] : inputs[1].copy();
  Array out = Array::zeros(output_shape(g), a.dtype());
  if (out.size() > 0)
    dispatch_dtype(a.dtype(), [&]<class T>() {
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        reference_convolution<T>(pass_, g, a.data<T>(), b.data<T>(), out.data<T>());
        if (epilogue_) {
          const Array bias = epilogue_.bias ? inputs[2].astype(a.dtype()).copy() : Array();
          apply_epilogue<T>(epilogue_, bias.storage() ? bias.data<T>() : nullptr, g.batch, g.filters, g.output_size(), out.data<T>());
        }
      }
    });
  outputs[0] = std::move(out);
}



// ---- Gradients ----

std::vector<Variable> Convolution::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable& g = output_grads[0];
  const Variable &a = node.input(0), &b = node.input(1);
  const CodeLocation& where = node.where();
  switch (pass_) {
    case ConvPass::Forward: {  // a = image, b = filters
      // Through the epilogue first: the activation's slope (from the output) and the bias's channel sums.
      Variable pre = g;
      if (epilogue_.activation != ConvActivation::None) pre = g * conv_activation_slope(epilogue_.activation, node.output(0));
      std::vector<Variable> grads{convolution(ConvPass::GradInputs, settings_, b, pre, spatial_shape(a), where),
                                  convolution(ConvPass::GradWeights, settings_, a, pre, spatial_shape(b), where)};
      if (epilogue_.bias) {
        std::vector<int> axes{0};
        for (int axis = 2; axis < a.ndim(); ++axis) axes.push_back(axis);
        grads.push_back(sum(pre, axes));
      }
      return grads;
    }
    case ConvPass::GradWeights:  // a = image, b = output gradient; g is shaped like the filters
      return {convolution(ConvPass::GradInputs, settings_, g, b, spatial_shape(a), where),
              convolution(ConvPass::Forward, settings_, a, g, Variable(), where), Variable()};
    case ConvPass::GradInputs:  // a = filters, b = output gradient; g is shaped like the image
      return {convolution(ConvPass::GradWeights, settings_, g, b, spatial_shape(a), where),
              convolution(ConvPass::Forward, settings_, g, a, Variable(), where), Variable()};
  }
  return {};
}

std::vector<std::vector<Variable>> Convolution::infer_shape(const Apply& node,
                                                            const std::vector<std::vector<Variable>>& shapes) const {
  std::vector<Variable> result;
  const TensorType& type = node.output(0).type();
  auto size = [&](int axis, const Variable& symbolic) {
    return known(type.shape[axis]) ? constant(static_cast<double>(type.shape[axis]), DType::Int64) : symbolic;
  };
  switch (pass_) {
    case ConvPass::Forward: {
      result = {size(0, shapes[0][0]), size(1, shapes[1][0])};
      for (int axis = 0; axis < settings_.spatial; ++axis) {
        if (known(type.shape[2 + axis])) {
          result.push_back(size(2 + axis, Variable()));
          continue;
        }
        const Variable kernel = shapes[1][2 + axis];
        const Variable span = (kernel - 1) * settings_.dilation[axis] + 1;
        Variable pad = constant(static_cast<double>(settings_.padding[axis]), DType::Int64);
        if (settings_.border_mode == BorderMode::Full) pad = span - 1;
        if (settings_.border_mode == BorderMode::Half) pad = int_div(span, 2);
        result.push_back(int_div(shapes[0][2 + axis] + pad * 2 - span, settings_.subsample[axis]) + 1);
      }
      break;
    }
    case ConvPass::GradWeights:
      result = {size(0, shapes[1][1]), size(1, int_div(shapes[0][1], settings_.groups))};
      for (int axis = 0; axis < settings_.spatial; ++axis)
        result.push_back(size(2 + axis, size_at(node.input(2), axis)));
      break;
    case ConvPass::GradInputs:
      result = {size(0, shapes[1][0]), size(1, shapes[0][1] * settings_.groups)};
      for (int axis = 0; axis < settings_.spatial; ++axis)
        result.push_back(size(2 + axis, size_at(node.input(2), axis)));
      break;
  }
  return {result};
}

// ---- Builders ----

Variable size_at(const Variable& sizes, int i) { return cast(sizes[i], DType::Int64); }

Variable conv_activation(ConvActivation activation, const Variable& x) {
  switch (activation) {
    case ConvActivation::Relu: return maximum(x, 0);
    case ConvActivation::Tanh: return tanh(x);
    case ConvActivation::Sigmoid: return sigmoid(x);
    default: return x;
  }
}

Variable conv_activation_slope(ConvActivation activation, const Variable& y) {
  switch (activation) {
    case ConvActivation::Relu: return cast(y > 0, y.dtype());
    case ConvActivation::Tanh: return 1.0 - sqr(y);
    case ConvActivation::Sigmoid: return y * (1.0 - y);
    default: return ones_like(y);
  }
}

Variable spatial_shape(const Variable& x) {
  std::vector<Operand> sizes;
  bool all_known = true;
  for (int axis = 2; axis < x.ndim(); ++axis) all_known = all_known && known(x.type().shape[axis]);
  if (all_known) {
    std::vector<int64_t> values(x.type().shape.begin() + 2, x.type().shape.end());
    return constant(Array::from_vector(values));
  }
  for (int axis = 2; axis < x.ndim(); ++axis)
    sizes.push_back(known(x.type().shape[axis]) ? Operand(constant(static_cast<double>(x.type().shape[axis]), DType::Int64))
                                                : Operand(shape_i(x, axis)));
  return make_vector(sizes);
}

Variable convolution(ConvPass pass, const ConvSettings& settings, const Variable& a, const Variable& b,
                     const Variable& spatial_shape, CodeLocation where) {
  std::vector<Variable> inputs{a, b};
  if (pass != ConvPass::Forward) inputs.push_back(spatial_shape);
  return apply_op1(std::make_shared<Convolution>(pass, settings), inputs, where);
}

namespace {

// The operands in one float dtype: `leading`'s, as Theano's abstract convolutions give their output the
// image's dtype (the filters' for the input gradient); integers promote to a float.
std::pair<Variable, Variable> in_dtype_of(const Operand& leading, const Operand& other) {
  Variable a = leading.as_variable(), b = other.as_variable();
  DType dtype = a.dtype();
  if (!is_float(dtype)) dtype = is_float(b.dtype()) ? b.dtype() : DType::Float64;
  if (a.dtype() != dtype) a = cast(a, dtype);
  if (b.dtype() != dtype) b = cast(b, dtype);
  return {a, b};
}

// 2 or 3: the spatial axes of an operand of 4 or 5 dimensions (TypeError otherwise).
int spatial_axes_of(const Variable& x, const char* op) {
  if (x.ndim() != 4 && x.ndim() != 5)
    throw TypeError(std::string("[") + op + "] convolves 4-d (2 spatial axes) or 5-d (3 spatial axes) operands, got " + x.type().str());
  return x.ndim() - 2;
}

Variable spatial_vector(const std::vector<Operand>& sizes, int spatial, const char* op) {
  if (static_cast<int>(sizes.size()) != spatial && static_cast<int>(sizes.size()) != spatial + 2)
    throw ValueError(std::string("[") + op + "] the shape needs " + std::to_string(spatial) + " spatial sizes (or the " +
                     std::to_string(spatial + 2) + "-d shape), got " + std::to_string(sizes.size()));
  std::vector<Operand> spatial_sizes(sizes.end() - spatial, sizes.end());
  // Sizes given as numbers make a constant, so the output's static shape has them.
  std::vector<int64_t> numbers;
  for (const Operand& size : spatial_sizes) {
    const Variable v = size.as_variable(DType::Int64);
    if (!v.is_constant() || v.ndim() != 0 || !is_integer(v.dtype())) break;
    numbers.push_back(static_cast<int64_t>(v.constant_value().item()));
  }
  if (static_cast<int>(numbers.size()) == spatial) return constant(Array::from_vector(numbers));
  return make_vector(spatial_sizes);
}

Variable forward(const Operand& input, const Operand& filters, const ConvOptions& options, int spatial) {
  const char* op = spatial == 3 ? "conv3d" : "conv2d";
  return at_location(input.where(), [&] {
    auto [image, kernels] = in_dtype_of(input, filters);
    return convolution(ConvPass::Forward, ConvSettings::from(options, spatial, op), image, kernels, Variable(), input.where());
  });
}

}  // namespace

Variable conv2d(const Operand& input, const Operand& filters, const ConvOptions& options) {
  return forward(input, filters, options, 2);
}
Variable conv3d(const Operand& input, const Operand& filters, const ConvOptions& options) {
  return forward(input, filters, options, 3);
}

Variable conv_transpose(const Operand& input, const Operand& filters, const std::vector<Operand>& image_shape,
                        const ConvOptions& options) {
  return at_location(input.where(), [&] {
    auto [kernels, top] = in_dtype_of(filters, input);
    const int spatial = spatial_axes_of(kernels, "conv_transpose");
    const char* op = spatial == 3 ? "conv3d_grad_inputs" : "conv2d_grad_inputs";
    return convolution(ConvPass::GradInputs, ConvSettings::from(options, spatial, op), kernels, top,
                       spatial_vector(image_shape, spatial, op), input.where());
  });
}

Variable conv_grad_weights(const Operand& input, const Operand& output_grad, const std::vector<Operand>& filter_shape,
                           const ConvOptions& options) {
  return at_location(input.where(), [&] {
    auto [image, top] = in_dtype_of(input, output_grad);
    const int spatial = spatial_axes_of(image, "conv_grad_weights");
    const char* op = spatial == 3 ? "conv3d_grad_weights" : "conv2d_grad_weights";
    return convolution(ConvPass::GradWeights, ConvSettings::from(options, spatial, op), image, top,
                       spatial_vector(filter_shape, spatial, op), input.where());
  });
}

// ---- Saving ----

std::string Convolution::save() const {
  OpWriter out("convolution");
  out.integer(static_cast<int>(pass_));
  out.integer(settings_.spatial);
  out.integer(static_cast<int>(settings_.border_mode));
  for (const auto* values : {&settings_.padding, &settings_.subsample, &settings_.dilation})
    for (int64_t v : *values) out.integer(v);
  out.flag(settings_.filter_flip);
  out.integer(settings_.groups);
  out.flag(epilogue_.bias);
  out.integer(static_cast<int>(epilogue_.activation));
  return out.bytes();
}

void register_conv_loaders(OpLoaders& loaders) {
  loaders["convolution"] = [](OpReader& in) -> OpPtr {
    const auto pass = static_cast<ConvPass>(in.integer_in(0, 2, "a convolution pass"));
    ConvSettings settings;
    settings.spatial = static_cast<int>(in.integer_in(2, 3, "a number of spatial axes"));
    settings.border_mode = static_cast<BorderMode>(in.integer_in(0, 2, "a border mode"));
    for (auto* values : {&settings.padding, &settings.subsample, &settings.dilation})
      for (int axis = 0; axis < settings.spatial; ++axis)
        values->push_back(in.integer_in(values == &settings.padding ? 0 : 1, INT32_MAX, "a convolution size"));
    settings.filter_flip = in.flag();
    settings.groups = in.integer_in(1, INT32_MAX, "a number of groups");
    ConvEpilogue epilogue;
    epilogue.bias = in.flag();
    epilogue.activation = static_cast<ConvActivation>(in.integer_in(0, 3, "a convolution activation"));
    if (epilogue && pass != ConvPass::Forward) in.damaged("only a forward convolution has an epilogue");
    return std::make_shared<Convolution>(pass, std::move(settings), epilogue);
  };
}

}  // namespace hypatia
