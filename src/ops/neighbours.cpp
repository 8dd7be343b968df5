// Theano's images2neibs (tensor.nnet.neighbours): the patches of each image of a 4-d tensor as the rows of
// a matrix, and its adjoint (each patch added back where it came from), which is the gradient and, for
// patches that do not overlap, neibs2images.
#include <array>
#include <cstring>

#include "hypatia/conv.h"
#include "hypatia/elemwise.h"
#include "hypatia/shape_ops.h"
#include "ir/serialize.h"
#include "ops/conv.h"
#include "ops/op_support.h"

namespace hypatia {

namespace {

enum class NeibMode : uint8_t { Valid, IgnoreBorders, WrapCentered, Half, Full };
constexpr const char* kNeibModes[] = {"valid", "ignore_borders", "wrap_centered", "half", "full"};

NeibMode neib_mode(const std::string& name, const char* op) {
  for (int i = 0; i < 5; ++i)
    if (name == kNeibModes[i]) return static_cast<NeibMode>(i);
  throw ValueError(std::string("[") + op + "] mode '" + name +
                   "' is not one of 'valid', 'ignore_borders', 'wrap_centered', 'half', 'full'");
}

// Where the patches of one image axis start and how many there are.
struct NeibAxis {
  int64_t count, pad;
  bool wrap;
};

class Neighbours : public Op {
 public:
  // adjoint: inputs (patches, 4-d image shape) -> images with each patch added back.
  Neighbours(bool adjoint, std::array<int64_t, 2> patch, std::array<int64_t, 2> step, NeibMode mode)
      : adjoint_(adjoint), patch_(patch), step_(step), mode_(mode) {}
  std::string name() const override { return adjoint_ ? "neibs2images_add" : "images2neibs"; }
  std::string props() const override {
    return "patch=(" + std::to_string(patch_[0]) + ", " + std::to_string(patch_[1]) + "), step=(" + std::to_string(step_[0]) +
           ", " + std::to_string(step_[1]) + "), mode=" + kNeibModes[static_cast<int>(mode_)];
  }
  HYPATIA_OP_METHODS
  std::string save() const override {
    OpWriter out("neighbours");
    out.flag(adjoint_);
    for (int64_t v : {patch_[0], patch_[1], step_[0], step_[1]}) out.integer(v);
    out.integer(static_cast<int>(mode_));
    return out.bytes();
  }
  bool reads_on_host(int input) const override { return adjoint_ && input == 1; }

  std::string prefix() const {
    std::string text = "[";  // (appended: GCC 12 warns wrongly about "[" + name())
    return text.append(name()).append("] ");
  }
  // (Theano raises TypeError for images its patches do not tile, and its tests check that: so does this.)
  NeibAxis axis(int a, int64_t size) const {
    const int64_t c = patch_[a], d = step_[a];
    const std::string along = " along axis " + std::to_string(a + 2);
    switch (mode_) {
      case NeibMode::Valid:
      case NeibMode::IgnoreBorders:
      case NeibMode::Half:
      case NeibMode::Full: {
        // 'half' and 'full' are 'valid' on the image padded with c // 2 or c - 1 zeros on each side.
        const int64_t pad = mode_ == NeibMode::Half ? c / 2 : mode_ == NeibMode::Full ? c - 1 : 0, padded = size + 2 * pad;
        const char* mode = kNeibModes[static_cast<int>(mode_)];
        if (size < c)  // (Theano's rule, padding or not)
          throw TypeError(prefix() + "patches of " + std::to_string(c) + " do not fit images of " + std::to_string(size) + along);
        if (mode_ != NeibMode::IgnoreBorders && (padded - c) % d != 0)
          throw TypeError(prefix() + "with mode '" + mode + "', patches of " + std::to_string(c) + " stepping by " + std::to_string(d) +
                          " must tile " + (pad ? "padded " : "") + "images of " + std::to_string(padded) + along +
                          " exactly (mode='ignore_borders' drops what is left)");
        return {(padded - c) / d + 1, pad, false};
      }
      case NeibMode::WrapCentered:
        if (size < c)
          throw TypeError(prefix() + "with mode 'wrap_centered', patches of " + std::to_string(c) + " must not exceed images of " +
                          std::to_string(size) + along);
        return {(size + d - 1) / d, c / 2, true};
    }
    return {};
  }

  // The image's shape for a run (from the input or the shape input).
  Shape image_shape(std::span<const Array> inputs) const {
    if (!adjoint_) return inputs[0].shape();
    const Array sizes = inputs[1].astype(DType::Int64);
    if (sizes.size() != 4) throw ShapeError("[" + name() + "] the image shape must hold 4 sizes, got " + shape_str(sizes.shape()));
    Shape shape(sizes.data<int64_t>(), sizes.data<int64_t>() + 4);
    for (int64_t s : shape)
      if (s < 0) throw ShapeError("[" + name() + "] the image shape " + shape_str(shape) + " has a negative size");
    return shape;
  }

 private:
  bool adjoint_;
  std::array<int64_t, 2> patch_, step_;
  NeibMode mode_;
};

}  // namespace

std::vector<TensorType> Neighbours::output_types(const std::vector<Variable>& inputs) const {
  const std::string op = prefix();
  const Variable& x = inputs.at(0);
  if (!adjoint_) {
    if (inputs.size() != 1 || x.ndim() != 4) throw TypeError(op + "needs a 4-d tensor of images, got " + x.type().str());
    const auto& s = x.type().shape;
    std::vector<int64_t> rows{TensorType::kUnknown, patch_[0] * patch_[1]};
    if (s[0] >= 0 && s[1] >= 0 && s[2] >= 0 && s[3] >= 0) rows[0] = s[0] * s[1] * axis(0, s[2]).count * axis(1, s[3]).count;
    return {TensorType(x.dtype(), rows)};
  }
  if (inputs.size() != 2 || x.ndim() != 2) throw TypeError(op + "needs a matrix of patches, got " + x.type().str());
  if (x.type().shape[1] >= 0 && x.type().shape[1] != patch_[0] * patch_[1])
    throw ShapeError(op + "patches of (" + std::to_string(patch_[0]) + ", " + std::to_string(patch_[1]) + ") need " +
                     std::to_string(patch_[0] * patch_[1]) + " columns, got " + x.type().str());
  if (inputs[1].ndim() != 1 || !is_integer(inputs[1].dtype()))
    throw TypeError(op + "the image shape must be an integer vector, got " + inputs[1].type().str());
  std::vector<int64_t> shape(4, TensorType::kUnknown);
  if (inputs[1].is_constant()) {
    const Array sizes = inputs[1].constant_value().astype(DType::Int64);
    for (int i = 0; i < 4 && i < sizes.size(); ++i) shape[i] = sizes.data<int64_t>()[i];
  }
  return {TensorType(x.dtype(), shape)};
}

void Neighbours::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const Shape image = image_shape(inputs);
  const NeibAxis rows = axis(0, image[2]), cols = axis(1, image[3]);
  const int64_t patches = image[0] * image[1] * rows.count * cols.count, width = patch_[0] * patch_[1];
  const Array source = inputs[0].is_contiguous() ? inputs[0] : inputs[0].copy();
  if (adjoint_ && (source.shape() != Shape{patches, width}))
    throw ShapeError("[" + name() + "] images of shape " + shape_str(image) + " have " + std::to_string(patches) + " patches of " +
                     std::to_string(width) + ", got " + shape_str(source.shape()));
  Array out = Array::zeros(adjoint_ ? image : Shape{patches, width}, source.dtype());
  auto position = [](const NeibAxis& a, int64_t grid, int64_t tap, int64_t step, int64_t size) -> int64_t {
    int64_t at = grid * step + tap - a.pad;
    if (a.wrap) at = ((at % size) + size) % size;
    return at >= 0 && at < size ? at : -1;
  };
  // Each (image sample, patch entry) pair a patch reads (samples in the padding read nothing).
  auto each_pair = [&](auto&& visit) {
    int64_t row = 0;
    for (int64_t plane = 0; plane < image[0] * image[1]; ++plane)
      for (int64_t gi = 0; gi < rows.count; ++gi)
        for (int64_t gj = 0; gj < cols.count; ++gj, ++row)
          for (int64_t i = 0; i < patch_[0]; ++i) {
            const int64_t r = position(rows, gi, i, step_[0], image[2]);
            for (int64_t j = 0; j < patch_[1]; ++j) {
              const int64_t c = position(cols, gj, j, step_[1], image[3]);
              if (r >= 0 && c >= 0) visit((plane * image[2] + r) * image[3] + c, row * width + i * patch_[1] + j);
            }
          }
  };
  const size_t item = source.itemsize();
  const char* in = static_cast<const char*>(source.raw_data());
  char* result = static_cast<char*>(out.raw_data());
  if (!adjoint_) {
    each_pair([&](int64_t pixel, int64_t entry) { std::memcpy(result + entry * item, in + pixel * item, item); });
  } else {
    dispatch_dtype(out.dtype(), [&]<class T>() {
      if constexpr (!std::is_same_v<T, bool>)
        each_pair([&](int64_t pixel, int64_t entry) { reinterpret_cast<T*>(result)[pixel] += reinterpret_cast<const T*>(in)[entry]; });
    });
  }
  outputs[0] = std::move(out);
}

std::vector<Variable> Neighbours::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const auto forward = std::make_shared<Neighbours>(false, patch_, step_, mode_);
  const auto adjoint = std::make_shared<Neighbours>(true, patch_, step_, mode_);
  if (!adjoint_) return {apply_op1(adjoint, {output_grads[0], shape(node.input(0))}, node.where())};
  return {apply_op1(forward, {output_grads[0]}, node.where()), Variable()};
}

std::vector<std::vector<Variable>> Neighbours::infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const {
  if (adjoint_) {
    std::vector<Variable> dims;
    for (int i = 0; i < 4; ++i) dims.push_back(size_at(node.input(1), i));
    return {dims};
  }
  auto count = [&](int a, const Variable& size) -> Variable {
    const int64_t c = patch_[a], d = step_[a];
    switch (mode_) {
      case NeibMode::Valid:
      case NeibMode::IgnoreBorders: return int_div(size - c, d) + 1;
      case NeibMode::Half: return int_div(size + 2 * (c / 2) - c, d) + 1;
      case NeibMode::Full: return int_div(size + 2 * (c - 1) - c, d) + 1;
      case NeibMode::WrapCentered: return int_div(size + (d - 1), d);
    }
    return Variable();
  };
  const auto& s = shapes[0];
  return {{s[0] * s[1] * count(0, s[2]) * count(1, s[3]), constant(static_cast<double>(patch_[0] * patch_[1]), DType::Int64)}};
}

namespace {

std::array<int64_t, 2> pair_of(const std::vector<int64_t>& values, const char* what, const char* op) {
  if (values.size() != 2 || values[0] < 1 || values[1] < 1)
    throw ValueError(std::string("[") + op + "] " + what + " must be two positive sizes");
  return {values[0], values[1]};
}

}  // namespace

Variable images2neibs(const Operand& images, const std::vector<int64_t>& patch, const std::vector<int64_t>& step,
                      const std::string& mode) {
  return at_location(images.where(), [&] {
    const char* op = "images2neibs";
    const NeibMode m = neib_mode(mode, op);
    const auto p = pair_of(patch, "neib_shape", op);
    const auto s = step.empty() ? p : pair_of(step, "neib_step", op);
    if (m == NeibMode::WrapCentered && (p[0] % 2 == 0 || p[1] % 2 == 0))
      throw ValueError(std::string("[") + op + "] mode 'wrap_centered' needs odd patch sizes");
    return apply_op1(std::make_shared<Neighbours>(false, p, s, m), {images.as_variable()}, images.where());
  });
}

Variable neibs2images(const Operand& neibs, const std::vector<int64_t>& patch, const std::vector<Operand>& original_shape,
                      const std::string& mode) {
  return at_location(neibs.where(), [&] {
    const char* op = "neibs2images";
    const NeibMode m = neib_mode(mode, op);
    if (m != NeibMode::Valid && m != NeibMode::IgnoreBorders)
      throw ValueError(std::string("[") + op + "] mode '" + mode + "' is not invertible; Theano's neibs2images takes 'valid' and 'ignore_borders'");
    if (original_shape.size() != 4) throw ValueError(std::string("[") + op + "] the original shape must hold 4 sizes");
    const auto p = pair_of(patch, "neib_shape", op);
    return apply_op1(std::make_shared<Neighbours>(true, p, p, m), {neibs.as_variable(), make_vector(original_shape)}, neibs.where());
  });
}

void register_neighbours_loaders(OpLoaders& loaders) {
  loaders["neighbours"] = [](OpReader& in) -> OpPtr {
    const bool adjoint = in.flag();
    std::array<int64_t, 2> patch, step;
    for (int64_t* v : {&patch[0], &patch[1], &step[0], &step[1]}) *v = in.integer_in(1, INT32_MAX, "a patch size");
    const auto mode = static_cast<NeibMode>(in.integer_in(0, 4, "a neighbours mode"));
    return std::make_shared<Neighbours>(adjoint, patch, step, mode);
  };
}

}  // namespace hypatia
