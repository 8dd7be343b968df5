// The op library under its NumPy/Theano names. Keyword defaults live in the Python package; these
// take every argument, already normalized where Python is more convenient.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"

namespace hypatia::python {
namespace {

std::vector<Operand> to_operands(nb::handle sequence) {
  std::vector<Operand> operands;
  for (nb::handle item : sequence) operands.push_back(to_operand(item));
  return operands;
}

std::vector<Variable> to_variables(nb::handle sequence) {
  std::vector<Variable> variables;
  for (nb::handle item : sequence) variables.push_back(to_variable(item));
  return variables;
}

std::optional<DType> to_optional_dtype(nb::handle dtype) {
  if (dtype.is_none()) return std::nullopt;
  return to_dtype(dtype);
}

using X = nb::handle;
using namespace nb::literals;

}  // namespace

void init_ops(nb::module_& m) {
  // Elementwise: one binding per row of the scalar op table.
#define HYPATIA_BIND_1(name) m.def(#name, [](X x) { return hypatia::name(to_operand(x)); }, kUserLine);
#define HYPATIA_BIND_2(name) \
  m.def(#name, [](X x, X y) { return hypatia::name(to_operand(x), to_operand(y)); }, kUserLine);
#define HYPATIA_BIND_ELEMWISE(name, arity) HYPATIA_BIND_##arity(name)
  HYPATIA_FOR_EACH_ELEMWISE_FUNCTION(HYPATIA_BIND_ELEMWISE)
#undef HYPATIA_BIND_ELEMWISE
#undef HYPATIA_BIND_1
#undef HYPATIA_BIND_2
  m.def("clip", [](X x, X low, X high) { return clip(to_operand(x), to_operand(low), to_operand(high)); }, kUserLine);
  m.def("where", [](X c, X a, X b) { return where(to_operand(c), to_operand(a), to_operand(b)); }, kUserLine);
  m.def("cast", [](X x, X dtype) { return cast(to_operand(x), to_dtype(dtype)); }, kUserLine);
  m.def("second", [](X like, X value) { return second(to_operand(like), to_operand(value)); }, kUserLine);
  m.def("isclose", [](X x, X y, double rtol, double atol) { return isclose(to_operand(x), to_operand(y), rtol, atol); },
        kUserLine);
  m.def("allclose", [](X x, X y, double rtol, double atol) { return allclose(to_operand(x), to_operand(y), rtol, atol); },
        kUserLine);

  // Reductions.
#define HYPATIA_BIND_REDUCE(name) \
  m.def(#name, [](X x, X axis, bool keepdims) { return hypatia::name(to_operand(x), to_axes(axis), keepdims); }, \
        "x"_a, "axis"_a.none(), "keepdims"_a, kUserLine);
  HYPATIA_BIND_REDUCE(sum) HYPATIA_BIND_REDUCE(prod) HYPATIA_BIND_REDUCE(max) HYPATIA_BIND_REDUCE(min)
  HYPATIA_BIND_REDUCE(any) HYPATIA_BIND_REDUCE(all) HYPATIA_BIND_REDUCE(mean)
#undef HYPATIA_BIND_REDUCE
  m.def("var", [](X x, X axis, bool keepdims, int ddof) { return var(to_operand(x), to_axes(axis), keepdims, ddof); },
        "x"_a, "axis"_a.none(), "keepdims"_a, "ddof"_a, kUserLine);
  m.def("std", [](X x, X axis, bool keepdims, int ddof) { return hypatia::std(to_operand(x), to_axes(axis), keepdims, ddof); },
        "x"_a, "axis"_a.none(), "keepdims"_a, "ddof"_a, kUserLine);
  m.def("argmax", [](X x, X axis, bool keepdims) { return argmax(to_operand(x), to_optional_axis(axis), keepdims); },
        "x"_a, "axis"_a.none(), "keepdims"_a, kUserLine);
  m.def("argmin", [](X x, X axis, bool keepdims) { return argmin(to_operand(x), to_optional_axis(axis), keepdims); },
        "x"_a, "axis"_a.none(), "keepdims"_a, kUserLine);

  // Shapes.
  m.def("dimshuffle", [](X x, const std::vector<int>& pattern) { return dimshuffle(to_operand(x), pattern); }, kUserLine);
  m.def("transpose", [](X x, X axes) {
    if (axes.is_none()) return transpose(to_operand(x));
    return transpose(to_operand(x), to_ints(axes, "[transpose] axes"));
  }, "x"_a, "axes"_a.none(), kUserLine);
  m.def("reshape", [](X x, X shape, X ndim) {
    if (nb::isinstance<Variable>(shape)) {
      const Variable& vector = nb::cast<const Variable&>(shape);
      int length = ndim.is_none() ? -1 : to_int(ndim, "[reshape] ndim");
      if (length < 0 && vector.ndim() == 1 && vector.type().shape[0] != TensorType::kUnknown)
        length = static_cast<int>(vector.type().shape[0]);
      if (length < 0)
        throw ValueError("[reshape] the length of the symbolic shape " + vector.str() + " is unknown; pass ndim");
      return reshape(to_operand(x), vector, length);
    }
    return reshape(to_operand(x), to_operands(shape));
  }, "x"_a, "shape"_a, "ndim"_a.none(), kUserLine);
  m.def("flatten", [](X x, int ndim) { return flatten(to_operand(x), ndim); }, kUserLine);
  m.def("expand_dims", [](X x, int axis) { return expand_dims(to_operand(x), axis); }, kUserLine);
  m.def("squeeze", [](X x, X axis) {
    Variable input = to_variable(x);
    if (axis.is_none()) return squeeze(input);
    return squeeze(input, to_axes(axis).resolve(input.ndim(), "squeeze"));
  }, "x"_a, "axis"_a.none(), kUserLine);
  m.def("concatenate", [](X xs, int axis) { return concatenate(to_variables(xs), axis); }, kUserLine);
  m.def("stack", [](X xs, int axis) { return stack(to_variables(xs), axis); }, kUserLine);
  m.def("split", [](X x, const std::vector<int64_t>& sizes, int axis) { return split(to_operand(x), sizes, axis); },
        kUserLine);
  m.def("shape", [](X x) { return shape(to_operand(x)); }, kUserLine);
  m.def("shape_i", [](X x, int axis) { return shape_i(to_operand(x), axis); }, kUserLine);
  m.def("addbroadcast", [](X x, const std::vector<int>& axes) { return addbroadcast(to_operand(x), axes); }, kUserLine);
  m.def("unbroadcast", [](X x, const std::vector<int>& axes) { return unbroadcast(to_operand(x), axes); }, kUserLine);
  m.def("patternbroadcast", [](X x, const std::vector<bool>& pattern) { return patternbroadcast(to_operand(x), pattern); },
        kUserLine);
  m.def("specify_shape", [](X x, X shape) { return specify_shape(to_operand(x), to_operands(shape)); }, kUserLine);
  m.def("assert_op", [](X x, X conditions, const std::string& message) {
    return assert_op(to_operand(x), to_operands(conditions), message);
  }, kUserLine);
  m.def("alloc", [](X value, X shape) { return alloc(to_operand(value), to_operands(shape)); }, kUserLine);
  m.def("zeros", [](X shape, X dtype) { return zeros(to_operands(shape), to_dtype(dtype)); }, kUserLine);
  m.def("ones", [](X shape, X dtype) { return ones(to_operands(shape), to_dtype(dtype)); }, kUserLine);
  m.def("full", [](X shape, X value, X dtype) { return full(to_operands(shape), to_operand(value), to_dtype(dtype)); },
        kUserLine);
  m.def("zeros_like", [](X x) { return zeros_like(to_operand(x)); }, kUserLine);
  m.def("ones_like", [](X x) { return ones_like(to_operand(x)); }, kUserLine);
  m.def("full_like", [](X x, X value) { return full_like(to_operand(x), to_operand(value)); }, kUserLine);
  m.def("arange", [](X start, X stop, X step, X dtype) {
    return arange(to_operand(start), to_operand(stop), to_operand(step), to_optional_dtype(dtype));
  }, "start"_a, "stop"_a, "step"_a, "dtype"_a.none(), kUserLine);
  m.def("eye", [](X n, X m_, int k, X dtype) {
    std::optional<Operand> columns;
    if (!m_.is_none()) columns = to_operand(m_);
    return eye(to_operand(n), columns, k, to_dtype(dtype));
  }, "n"_a, "m"_a.none(), "k"_a, "dtype"_a, kUserLine);
  m.def("make_vector", [](X elements, X dtype) { return make_vector(to_operands(elements), to_dtype(dtype)); }, kUserLine);
  m.def("swapaxes", [](X x, int a, int b) { return swapaxes(to_operand(x), a, b); }, kUserLine);
  m.def("flip", [](X x, const std::vector<int>& axes) { return flip(to_operand(x), axes); }, kUserLine);
  m.def("roll", [](X x, X shift, X axis) { return roll(to_operand(x), to_operand(shift), to_optional_axis(axis)); },
        "x"_a, "shift"_a, "axis"_a.none(), kUserLine);
  m.def("tile", [](X x, const std::vector<int64_t>& reps) { return tile(to_operand(x), reps); }, kUserLine);
  m.def("repeat", [](X x, int64_t repeats, X axis) { return repeat(to_operand(x), repeats, to_optional_axis(axis)); },
        "x"_a, "repeats"_a, "axis"_a.none(), kUserLine);

  // Indexing.
  m.def("set_subtensor", [](const Variable& indexed, X value) { return set_subtensor(indexed, to_operand(value)); },
        kUserLine);
  m.def("inc_subtensor", [](const Variable& indexed, X value) { return inc_subtensor(indexed, to_operand(value)); },
        kUserLine);
  m.def("take", [](X x, X indices, int axis) { return take(to_operand(x), to_operand(indices), axis); }, kUserLine);

  // Products.
  m.def("dot", [](X x, X y) { return dot(to_operand(x), to_operand(y)); }, kUserLine);
  m.def("matmul", [](X x, X y) { return matmul(to_operand(x), to_operand(y)); }, kUserLine);
  m.def("outer", [](X x, X y) { return outer(to_operand(x), to_operand(y)); }, kUserLine);
  m.def("tensordot", [](X x, X y, X axes) {
    if (PyIndex_Check(axes.ptr())) return tensordot(to_operand(x), to_operand(y), to_int(axes, "[tensordot] axes"));
    nb::sequence pair = nb::borrow<nb::sequence>(axes);
    if (nb::len(pair) != 2) throw ValueError("[tensordot] axes must be an int or a pair of axis lists");
    auto as_list = [](nb::handle a) { return to_ints(a, "[tensordot] axes"); };
    return tensordot(to_operand(x), to_operand(y), as_list(pair[0]), as_list(pair[1]));
  }, kUserLine);

  // Neural networks.
  m.def("softmax", [](X x, int axis) { return softmax(to_operand(x), axis); }, kUserLine);
  m.def("log_softmax", [](X x, int axis) { return log_softmax(to_operand(x), axis); }, kUserLine);
  m.def("logsumexp", [](X x, X axis, bool keepdims) { return logsumexp(to_operand(x), to_axes(axis), keepdims); },
        "x"_a, "axis"_a.none(), "keepdims"_a, kUserLine);
  m.def("relu", [](X x, double alpha) { return relu(to_operand(x), alpha); }, kUserLine);
  m.def("elu", [](X x, double alpha) { return elu(to_operand(x), alpha); }, kUserLine);
  m.def("softsign", [](X x) { return softsign(to_operand(x)); }, kUserLine);
  m.def("hard_sigmoid", [](X x) { return hard_sigmoid(to_operand(x)); }, kUserLine);
  m.def("log_sigmoid", [](X x) { return log_sigmoid(to_operand(x)); }, kUserLine);
  m.def("categorical_crossentropy", [](X p, X t) { return categorical_crossentropy(to_operand(p), to_operand(t)); },
        kUserLine);
  m.def("binary_crossentropy", [](X p, X t) { return binary_crossentropy(to_operand(p), to_operand(t)); }, kUserLine);

  // Cumulative ops, sorting, diagonals.
  m.def("cumsum", [](X x, X axis) { return cumsum(to_operand(x), to_optional_axis(axis)); }, "x"_a, "axis"_a.none(),
        kUserLine);
  m.def("cumprod", [](X x, X axis) { return cumprod(to_operand(x), to_optional_axis(axis)); }, "x"_a, "axis"_a.none(),
        kUserLine);
  m.def("sort", [](X x, int axis) { return sort(to_operand(x), axis); }, kUserLine);
  m.def("argsort", [](X x, int axis) { return argsort(to_operand(x), axis); }, kUserLine);
  m.def("take_along_axis", [](X x, X indices, int axis) {
    return take_along_axis(to_operand(x), to_operand(indices), axis);
  }, kUserLine);
  m.def("diagonal", [](X x, int offset, int axis1, int axis2) { return diagonal(to_operand(x), offset, axis1, axis2); },
        kUserLine);
  m.def("diag", [](X x, int k) { return diag(to_operand(x), k); }, kUserLine);
  m.def("trace", [](X x, int offset) { return trace(to_operand(x), offset); }, kUserLine);
}

}  // namespace hypatia::python
