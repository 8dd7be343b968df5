// ExtractDiagonal (a strided view) and IncDiagonal (its gradient, and diag of a vector).
#include "hypatia/elemwise.h"
#include "hypatia/extra_ops.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "ir/serialize.h"
#include "ops/op_support.h"

namespace hypatia {
namespace {

struct DiagonalSpec {
  int offset, axis1, axis2;
  std::string str() const {
    return "offset=" + std::to_string(offset) + ", axes=(" + std::to_string(axis1) + "," + std::to_string(axis2) + ")";
  }
  int64_t length(int64_t rows, int64_t cols) const {
    return std::max<int64_t>(0, offset >= 0 ? std::min(rows, cols - offset) : std::min(rows + offset, cols));
  }
  // The diagonal of x as a view: the two axes removed, a last axis stepping along both at once.
  Array view(const Array& x) const {
    const int64_t rows = x.shape()[axis1], cols = x.shape()[axis2], n = length(rows, cols);
    Shape shape;
    Strides strides;
    for (int a = 0; a < x.ndim(); ++a)
      if (a != axis1 && a != axis2) {
        shape.push_back(x.shape()[a]);
        strides.push_back(x.strides()[a]);
      }
    shape.push_back(n);
    strides.push_back(x.strides()[axis1] + x.strides()[axis2]);
    int64_t start = n == 0 ? 0 : offset >= 0 ? offset * x.strides()[axis2] : -offset * x.strides()[axis1];
    return x.view_as(shape, strides, x.offset() + start);
  }
  std::vector<int64_t> static_shape(const TensorType& x) const {
    std::vector<int64_t> shape;
    for (int a = 0; a < x.ndim(); ++a)
      if (a != axis1 && a != axis2) shape.push_back(x.shape[a]);
    int64_t rows = x.shape[axis1], cols = x.shape[axis2];
    shape.push_back(rows == TensorType::kUnknown || cols == TensorType::kUnknown ? TensorType::kUnknown : length(rows, cols));
    return shape;
  }
};

class ExtractDiagonal : public Op {
 public:
  const DiagonalSpec& spec() const { return spec_; }
  std::string save() const override {
    OpWriter out("extract_diagonal");
    out.integers({spec_.offset, spec_.axis1, spec_.axis2});
    return out.bytes();
  }
  explicit ExtractDiagonal(DiagonalSpec spec) : spec_(spec) {}
  std::string name() const override { return "diagonal"; }
  std::string props() const override { return spec_.str(); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    return {TensorType(inputs.at(0).dtype(), spec_.static_shape(inputs[0].type()))};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    outputs[0] = spec_.view(inputs[0]);
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override;
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const override {
    std::vector<Variable> dims;
    for (int a = 0; a < node.input(0).ndim(); ++a)
      if (a != spec_.axis1 && a != spec_.axis2) dims.push_back(shapes[0][a]);
    const Variable &rows = shapes[0][spec_.axis1], &cols = shapes[0][spec_.axis2];
    dims.push_back(maximum(spec_.offset >= 0 ? minimum(rows, cols - spec_.offset) : minimum(rows + spec_.offset, cols), 0));
    return {dims};
  }
  ViewMap view_map() const override { return {{0, 0}}; }

 private:
  DiagonalSpec spec_;
};

// x with `values` added along the diagonal (values shaped like diagonal(x)).
class IncDiagonal : public Op {
 public:
  std::string save() const override {
    OpWriter out("inc_diagonal");
    out.integers({spec_.offset, spec_.axis1, spec_.axis2});
    return out.bytes();
  }
  explicit IncDiagonal(DiagonalSpec spec) : spec_(spec) {}
  const DiagonalSpec& spec() const { return spec_; }
  std::string name() const override { return "inc_diagonal"; }
  std::string props() const override { return spec_.str(); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override { return {inputs.at(0).type()}; }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    Array out = inputs[0].copy();
    Array diagonal = spec_.view(out);
    const Array values = inputs[1].astype(out.dtype());
    if (values.shape() != diagonal.shape())
      throw ShapeError("[diag] values of shape " + shape_str(values.shape()) + " for a diagonal of shape " +
                       shape_str(diagonal.shape()));
    diagonal.add_from(values);  // diagonal is a view into out
    outputs[0] = std::move(out);
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override {
    const Variable& g = output_grads[0];
    return {is_inexact(node.input(0).dtype()) ? g : Variable(),
            is_inexact(node.input(1).dtype()) ? apply_op1(std::make_shared<ExtractDiagonal>(spec_), {g}) : Variable()};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }

 private:
  DiagonalSpec spec_;
};

std::vector<Variable> ExtractDiagonal::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable& x = node.input(0);
  if (!is_inexact(x.dtype())) return {Variable()};
  return {apply_op1(std::make_shared<IncDiagonal>(spec_), {zeros_like(x), output_grads[0]})};
}

}  // namespace

Variable diagonal_matrix_values(const Variable& v) {
  const auto* inc = produced_by<IncDiagonal>(v);
  if (!inc || v.ndim() < 2 || !is_known_zero(v.owner()->input(0))) return Variable();
  const DiagonalSpec& spec = inc->spec();
  return spec.offset == 0 && spec.axis1 == v.ndim() - 2 && spec.axis2 == v.ndim() - 1 ? v.owner()->input(1) : Variable();
}

bool is_main_diagonal_of(const Variable& d, const Variable& x) {
  const auto* extract = produced_by<ExtractDiagonal>(d);
  if (!extract || d.owner()->input(0).node() != x.node()) return false;
  const DiagonalSpec& spec = extract->spec();
  return spec.offset == 0 && spec.axis1 == x.ndim() - 2 && spec.axis2 == x.ndim() - 1;
}

Variable diagonal(const Operand& x, int offset, int axis1, int axis2) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    if (input.ndim() < 2) throw ValueError("[diagonal] needs at least 2 dimensions, got " + input.type().str());
    DiagonalSpec spec{offset, normalize_axis(axis1, input.ndim(), "diagonal"), normalize_axis(axis2, input.ndim(), "diagonal")};
    if (spec.axis1 == spec.axis2) throw ValueError("[diagonal] axis1 and axis2 are the same axis");
    return apply_op1(std::make_shared<ExtractDiagonal>(spec), {input}, x.where());
  });
}

Variable diag(const Operand& x, int k) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    if (input.ndim() == 2) return diagonal(x, k);
    if (input.ndim() != 1) throw ValueError("[diag] takes a vector or a matrix, got " + input.type().str());
    Variable size = shape_i(input, 0) + (k < 0 ? -k : k);
    Variable square = zeros({Operand(size, x.where()), Operand(size, x.where())}, input.dtype());
    return apply_op1(std::make_shared<IncDiagonal>(DiagonalSpec{k, 0, 1}), {square, input}, x.where());
  });
}

Variable trace(const Operand& x, int offset) {
  return sum(Operand(diagonal(x, offset), x.where()), -1);
}

void register_diagonal_loaders(OpLoaders& loaders) {
  auto spec = [](OpReader& in) {
    const std::vector<int> values = in.integers();
    if (values.size() != 3) in.damaged("a diagonal needs an offset and two axes");
    return DiagonalSpec{values[0], values[1], values[2]};
  };
  loaders["extract_diagonal"] = [spec](OpReader& in) -> OpPtr { return std::make_shared<ExtractDiagonal>(spec(in)); };
  loaders["inc_diagonal"] = [spec](OpReader& in) -> OpPtr { return std::make_shared<IncDiagonal>(spec(in)); };
}
}  // namespace hypatia
