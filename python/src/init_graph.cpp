// Variables, their operators and indexing, Apply nodes, and the roots users declare.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"

namespace hypatia::python {
namespace {

// Shared variables come back to Python as SharedVariable, whatever handle held them.
nb::object py_variable(const Variable& v) {
  if (v.is_shared()) return nb::cast(SharedVariable(v));
  return nb::cast(v);
}

nb::list py_variables(const std::vector<Variable>& vs) {
  nb::list out;
  for (const Variable& v : vs) out.append(py_variable(v));
  return out;
}

std::optional<Operand> slice_bound(nb::handle bound) {
  if (bound.is_none()) return std::nullopt;
  return to_operand(bound);
}

Index to_index(nb::handle item) {
  if (item.is_none()) return Index(newaxis);
  if (item.ptr() == Py_Ellipsis) return Index(ellipsis);
  if (PySlice_Check(item.ptr()))
    return Index(slice(slice_bound(item.attr("start")), slice_bound(item.attr("stop")), slice_bound(item.attr("step"))));
  if (nb::isinstance<Variable>(item)) return Index(nb::cast<const Variable&>(item));
  // A Python bool is refused, as in Theano (NumPy reads it as a 0-d mask); boolean arrays are masks.
  if (PyBool_Check(item.ptr()))
    throw TypeError("[subtensor] a Python bool is not an index; use a boolean array (a mask) or an integer");
  if (PyLong_Check(item.ptr()) || (!ndarray_dtype(item) && PyIndex_Check(item.ptr()))) {
    const int64_t i = to_int64(item, "[subtensor] an index");
    return Index(static_cast<long>(i));
  }
  if ((PyList_Check(item.ptr()) || PyTuple_Check(item.ptr())) && nb::len(item) == 0)
    return Index(constant(Array::empty({0}, DType::Int64)));  // x[[]]: NumPy's empty index is intp
  if (auto operand = try_operand(item)) return Index(operand->as_variable());
  throw IndexError("[subtensor] cannot index with a " + nb::cast<std::string>(nb::str(item.type().attr("__name__"))) +
                   " (" + nb::cast<std::string>(nb::repr(item)) + ")");
}

IndexList to_index_list(nb::handle key) {
  std::vector<Index> indices;
  if (PyTuple_Check(key.ptr()))
    for (nb::handle item : nb::borrow<nb::tuple>(key)) indices.push_back(to_index(item));
  else indices.push_back(to_index(key));
  return IndexList(std::move(indices));
}

nb::object static_shape(const Variable& v) {
  nb::list shape;
  for (int64_t dim : v.type().shape) shape.append(dim == TensorType::kUnknown ? nb::none() : nb::cast(dim));
  return nb::tuple(shape);
}

std::vector<int64_t> to_static_shape(nb::handle shape) {
  std::vector<int64_t> dims;
  for (nb::handle dim : shape) dims.push_back(dim.is_none() ? TensorType::kUnknown : to_int64(dim, "[tensor] a dimension"));
  return dims;
}

// Binary operators take numbers, arrays and Variables on either side; anything else is NotImplemented.
template <class Fn> auto binary(Fn fn, bool reflected) {
  return [fn, reflected](const Variable& self, nb::handle other) -> nb::object {
    std::optional<Operand> operand = try_operand(other);
    if (!operand) return nb::borrow(Py_NotImplemented);
    return reflected ? nb::cast(fn(*operand, Operand(self))) : nb::cast(fn(Operand(self), *operand));
  };
}

template <class Class, class Fn> void def_binary(Class& cls, const char* name, const char* reflected_name, Fn fn) {
  cls.def(name, binary(fn, false), nb::arg("other").none(), kUserLine);
  if (reflected_name) cls.def(reflected_name, binary(fn, true), nb::arg("other").none(), kUserLine);
}

}  // namespace

Axes to_axes(nb::handle axis) {
  if (axis.is_none()) return Axes();
  if (PyIndex_Check(axis.ptr())) return Axes(to_int(axis, "axis"));
  return Axes(to_ints(axis, "axis"));
}

std::optional<int> to_optional_axis(nb::handle axis) {
  if (axis.is_none()) return std::nullopt;
  return to_int(axis, "axis");
}

void init_graph(nb::module_& m) {
  nb::class_<Op>(m, "Op", "An operation: its name and parameters.")
      .def_prop_ro("name", &Op::name)
      .def_prop_ro("props", &Op::props)
      .def_prop_ro("is_elementwise", [](const Op& op) { return is_elementwise(op); })
      .def("__str__", &Op::str)
      .def("__repr__", &Op::str)
      .def("__eq__", [](const Op& a, const Op& b) { return a.equals(b); })
      .def("__hash__", &Op::hash);

  nb::class_<Apply>(m, "Apply", "A node of the graph: an Op applied to input Variables.")
      .def_prop_ro("op", [](const Apply& node) { return std::const_pointer_cast<Op>(node.op_ptr()); })
      .def_prop_ro("inputs", [](const Apply& node) { return py_variables(node.inputs()); })
      .def_prop_ro("outputs", [](const Apply& node) { return py_variables(node.outputs()); })
      .def_prop_ro("nout", &Apply::num_outputs)
      .def("__repr__", [](const Apply& node) { return node.op().str(); });

  auto variable = nb::class_<Variable>(m, "Variable", "A symbolic tensor: an input, a constant, or an op's output.",
                                      nb::dynamic_attr());
  variable
      .def_prop_rw(
          "name", [](const Variable& v) -> nb::object { return v.name().empty() ? nb::none() : nb::cast(v.name()); },
          [](Variable& v, nb::handle name) { v.set_name(name.is_none() ? "" : nb::cast<std::string>(nb::str(name))); },
          nb::arg("name").none())
      .def_prop_ro("dtype", [](const Variable& v) { return std::string(dtype_name(v.dtype())); })
      .def_prop_ro("ndim", &Variable::ndim)
      .def_prop_ro("_static_shape", &static_shape)
      .def_prop_ro("_format", [](const Variable& v) -> nb::object {
        return v.is_sparse() ? nb::cast(std::string(sparse_format_name(*v.type().format))) : nb::none();
      })
      .def_prop_ro("owner", &Variable::owner)
      .def_prop_ro("index", &Variable::index)
      .def_prop_ro("_is_constant", &Variable::is_constant)
      .def_prop_ro("_is_shared", &Variable::is_shared)
      .def_prop_ro("_constant_value", [](const Variable& v) { return to_numpy(v.constant_value().copy()); })
      .def_prop_ro("_where", [](const Variable& v) { return format_location(v.where()); })
      .def("__eq__", [](const Variable& a, nb::handle b) {
        return nb::isinstance<Variable>(b) && a.is(nb::cast<const Variable&>(b));
      }, nb::arg("other").none())
      .def("__ne__", [](const Variable& a, nb::handle b) {
        return !(nb::isinstance<Variable>(b) && a.is(nb::cast<const Variable&>(b)));
      }, nb::arg("other").none())
      .def("__hash__", [](const Variable& v) { return VariableHash()(v); })
      .def("__bool__", [](const Variable& v) -> bool {
        throw nb::type_error(("the truth value of the symbolic variable " + v.str() +
                              " is unknown until the graph runs; use switch() or ifelse() in the graph")
                                 .c_str());
      })
      .def("__str__", &Variable::str)
      .def("__repr__", &Variable::str)
      .def("__getitem__", [](const Variable& x, nb::handle key) { return subtensor(x, to_index_list(key)); },
           nb::arg("key").none(), kUserLine)
      .def_prop_ro("T", [](const Variable& x) {
        PythonCallSite site;
        return x.T();
      })
      .def("__neg__", [](const Variable& x) { return -Operand(x); }, kUserLine)
      .def("__pos__", [](const Variable& x) { return x; })
      .def("__abs__", [](const Variable& x) { return hypatia::abs(x); }, kUserLine)
      .def("__invert__", [](const Variable& x) { return ~Operand(x); }, kUserLine);
  def_binary(variable, "__add__", "__radd__", [](const Operand& a, const Operand& b) { return a + b; });
  def_binary(variable, "__sub__", "__rsub__", [](const Operand& a, const Operand& b) { return a - b; });
  def_binary(variable, "__mul__", "__rmul__", [](const Operand& a, const Operand& b) { return a * b; });
  def_binary(variable, "__truediv__", "__rtruediv__", [](const Operand& a, const Operand& b) { return a / b; });
  def_binary(variable, "__floordiv__", "__rfloordiv__", [](const Operand& a, const Operand& b) { return int_div(a, b); });
  def_binary(variable, "__mod__", "__rmod__", [](const Operand& a, const Operand& b) { return a % b; });
  def_binary(variable, "__pow__", "__rpow__", [](const Operand& a, const Operand& b) { return pow(a, b); });
  def_binary(variable, "__matmul__", "__rmatmul__", [](const Operand& a, const Operand& b) { return matmul(a, b); });
  def_binary(variable, "__lt__", nullptr, [](const Operand& a, const Operand& b) { return a < b; });
  def_binary(variable, "__le__", nullptr, [](const Operand& a, const Operand& b) { return a <= b; });
  def_binary(variable, "__gt__", nullptr, [](const Operand& a, const Operand& b) { return a > b; });
  def_binary(variable, "__ge__", nullptr, [](const Operand& a, const Operand& b) { return a >= b; });
  def_binary(variable, "__and__", "__rand__", [](const Operand& a, const Operand& b) { return a & b; });
  def_binary(variable, "__or__", "__ror__", [](const Operand& a, const Operand& b) { return a | b; });
  def_binary(variable, "__xor__", "__rxor__", [](const Operand& a, const Operand& b) { return a ^ b; });

  nb::class_<SharedVariable, Variable>(m, "SharedVariable", "A variable whose value persists between calls.",
                                       nb::dynamic_attr())
      .def("_get_value", [](const SharedVariable& s, bool borrow) { return to_numpy(to_host(s.get_value(borrow))); },
           nb::arg("borrow") = false)
      .def("_set_value", [](SharedVariable& s, nb::handle value, bool borrow, std::optional<bool> allow_downcast,
                            nb::handle floatx) {
        s.set_value(filter_value(value, s, allow_downcast, to_dtype(floatx), "[shared] set_value of"), borrow);
      }, nb::arg("value"), nb::arg("borrow"), nb::arg("allow_downcast").none(), nb::arg("floatX"))
      .def_prop_rw("default_update", [](const SharedVariable& s) -> nb::object {
        Variable update = s.default_update();
        return update ? nb::cast(update) : nb::none();
      }, [](SharedVariable& s, nb::handle update) {
        s.set_default_update(update.is_none() ? Variable() : to_variable(update));
      }, nb::arg("update").none());

  m.def("tensor", [](nb::handle dtype, nb::handle shape, const std::string& name) {
    return tensor(to_dtype(dtype), to_static_shape(shape), name);
  }, nb::arg("dtype"), nb::arg("shape"), nb::arg("name") = "", kUserLine);
  m.def("constant", [](nb::handle value, const std::string& name, nb::handle dtype) {
    Array array = dtype.is_none() ? to_array(value, "the constant") : to_array_as(value, to_dtype(dtype), "the constant");
    return constant(array, name);
  }, nb::arg("value"), nb::arg("name") = "", nb::arg("dtype").none() = nb::none(), kUserLine);
  m.def("shared", [](nb::handle value, const std::string& name, bool borrow, nb::handle shape) {
    Array array = to_array(value, "the shared value");
    if (shape.is_none()) return shared(array, name, borrow);
    return shared(array, name, borrow, to_static_shape(shape));
  }, nb::arg("value"), nb::arg("name") = "", nb::arg("borrow") = false, nb::arg("shape").none() = nb::none(), kUserLine);
  m.def("dtype_name", [](nb::handle dtype) { return std::string(dtype_name(to_dtype(dtype))); });
  m.def("upgrade_to_float",
        [](nb::handle dtype) { return std::string(dtype_name(upgrade_to_float(to_dtype(dtype)))); });
  m.def("as_variable", [](nb::handle value) { return to_variable(value); }, kUserLine);
  m.def("toposort", [](const std::vector<Variable>& outputs) { return toposort(outputs); },
        "The Apply nodes computing `outputs`, each after those it reads.");
  // Pickling (python/hypatia/_pickling.py) saves each node's op in Hypatia's format and applies it again.
  m.def("save_op", [](const Op& op) {
    const std::string bytes = save_op(op);
    return nb::bytes(bytes.data(), bytes.size());
  });
  m.def("load_op", [](nb::bytes data) { return std::const_pointer_cast<Op>(load_op(std::string(data.c_str(), data.size()))); });
  m.def("apply_op", [](std::shared_ptr<Op> op, const std::vector<Variable>& inputs, const std::string& file, uint32_t line) {
    return apply_op(std::move(op), inputs, CodeLocation(intern_file_name(file), line));
  });
  m.def("location", [](const Variable& v) { return std::make_pair(std::string(v.where().file), v.where().line); });
  m.def("node_location", [](const Apply& node) { return std::make_pair(std::string(node.where().file), node.where().line); });
  m.def("clone_replace", [](const std::vector<Variable>& outputs,
                            const std::vector<std::pair<Variable, Variable>>& replace) {
    return clone_replace(outputs, replace);
  }, kUserLine);
}

}  // namespace hypatia::python
