#include "test_util.h"

namespace hypatia::testing {

Array evaluate_on(const std::function<Variable(const Variable&)>& f, const Array& value) {
  auto x = tensor(value.dtype(), std::vector<int64_t>(value.ndim(), TensorType::kUnknown), "x");
  return eval(f(x), {{x, value}});
}

void expect_infer_shape_ok(const std::vector<Variable>& inputs, const Variable& out, const std::vector<Array>& values) {
  auto owner = out.owner();
  ASSERT_TRUE(owner) << "output has no owner";
  std::vector<std::vector<Variable>> input_shapes;
  for (const Variable& input : owner->inputs()) {
    std::vector<Variable> dims;
    for (int axis = 0; axis < input.ndim(); ++axis) dims.push_back(shape_i(input, axis));
    input_shapes.push_back(dims);
  }
  auto shapes = owner->op().infer_shape(*owner, input_shapes);
  std::vector<Variable> dims = shapes.at(out.index());
  ASSERT_EQ(static_cast<int>(dims.size()), out.ndim());
  std::vector<Variable> outputs = {out};
  for (const Variable& d : dims) outputs.push_back(cast(d, DType::Int64));
  auto results = function(inputs, outputs)(values);
  for (int axis = 0; axis < out.ndim(); ++axis)
    EXPECT_EQ(static_cast<int64_t>(results[1 + axis].item()), results[0].shape()[axis]) << "axis " << axis;
}

}  // namespace hypatia::testing
