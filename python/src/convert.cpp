#include "convert.h"

#define NPY_NO_DEPRECATED_API NPY_2_0_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL hypatia_numpy_api
#include <numpy/arrayobject.h>

#include <nanobind/stl/string.h>

#include <climits>
#include <cmath>
#include <mutex>
#include <string>
#include <vector>

namespace hypatia::python {
using namespace nb::literals;
namespace {

int numpy_type_number(DType dtype) {
  switch (dtype) {
    case DType::Bool: return NPY_BOOL;
    case DType::Int8: return NPY_INT8;
    case DType::Int16: return NPY_INT16;
    case DType::Int32: return NPY_INT32;
    case DType::Int64: return NPY_INT64;
    case DType::UInt8: return NPY_UINT8;
    case DType::UInt16: return NPY_UINT16;
    case DType::UInt32: return NPY_UINT32;
    case DType::UInt64: return NPY_UINT64;
    case DType::Float16: return NPY_FLOAT16;
    case DType::Float32: return NPY_FLOAT32;
    case DType::Float64: return NPY_FLOAT64;
    case DType::Complex64: return NPY_COMPLEX64;
    case DType::Complex128: return NPY_COMPLEX128;
  }
  return NPY_NOTYPE;
}

// By kind and size, so int64 is found whether NumPy calls it long or longlong.
std::optional<DType> dtype_of_descr(PyArray_Descr* descr) {
  const npy_intp size = PyDataType_ELSIZE(descr);
  switch (descr->kind) {
    case 'b': return DType::Bool;
    case 'i':
      if (size == 1) return DType::Int8;
      if (size == 2) return DType::Int16;
      if (size == 4) return DType::Int32;
      if (size == 8) return DType::Int64;
      break;
    case 'u':
      if (size == 1) return DType::UInt8;
      if (size == 2) return DType::UInt16;
      if (size == 4) return DType::UInt32;
      if (size == 8) return DType::UInt64;
      break;
    case 'f':
      if (size == 2) return DType::Float16;
      if (size == 4) return DType::Float32;
      if (size == 8) return DType::Float64;
      break;
    case 'c':
      if (size == 8) return DType::Complex64;
      if (size == 16) return DType::Complex128;
      break;
  }
  return std::nullopt;
}

std::string descr_name(PyArray_Descr* descr) {
  nb::object name = nb::borrow(reinterpret_cast<PyObject*>(descr)).attr("name");
  return nb::cast<std::string>(name);
}

[[noreturn]] void unsupported_dtype(PyArray_Descr* descr, const char* what) {
  throw TypeError(std::string(what[0] == '[' ? "" : "[array] ") + what + " has dtype " + descr_name(descr) +
                  ", which Hypatia does not support (it has " + known_dtype_names() +
                  "); convert it with .astype() first");
}

// NumPy arrays whose last Array died on a thread without the GIL (inside a compiled function, which
// runs unlocked). Taking the GIL there could deadlock with a thread that holds it and waits for the
// shared-state lock, so they are released at the next call that holds the GIL.
std::mutex pending_mutex;
std::vector<PyObject*>* pending_releases = new std::vector<PyObject*>();  // never destroyed

void release_python_object(void* object) {
  if (!Py_IsInitialized()) return;  // the interpreter is gone and took the object with it
  if (PyGILState_Check()) {
    Py_DECREF(static_cast<PyObject*>(object));
    return;
  }
  std::lock_guard<std::mutex> lock(pending_mutex);
  pending_releases->push_back(static_cast<PyObject*>(object));
}

// Wraps a NumPy array (a reference the caller gives up) whose dtype is supported.
Array wrap_ndarray(PyArrayObject* array, DType dtype) {
  nb::object guard = nb::steal(reinterpret_cast<PyObject*>(array));
  const int ndim = PyArray_NDIM(array);
  const npy_intp itemsize = PyArray_ITEMSIZE(array);
  bool usable = PyArray_ISALIGNED(array) && !PyArray_ISBYTESWAPPED(array);
  for (int axis = 0; axis < ndim; ++axis) usable = usable && PyArray_STRIDES(array)[axis] % itemsize == 0;
  if (!usable) {
    // A native, aligned, contiguous copy.
    PyObject* copy = PyArray_FromAny(reinterpret_cast<PyObject*>(array), PyArray_DescrFromType(numpy_type_number(dtype)),
                                     0, 0, NPY_ARRAY_CARRAY_RO | NPY_ARRAY_ENSURECOPY, nullptr);
    if (!copy) throw nb::python_error();
    return wrap_ndarray(reinterpret_cast<PyArrayObject*>(copy), dtype);
  }
  Shape shape(PyArray_SHAPE(array), PyArray_SHAPE(array) + ndim);
  if (PyArray_SIZE(array) == 0) return Array::empty(shape, dtype);
  char* first = static_cast<char*>(PyArray_DATA(array));
  char *low = first, *high = first + itemsize;
  Strides strides(ndim);
  for (int axis = 0; axis < ndim; ++axis) {
    const npy_intp stride = PyArray_STRIDES(array)[axis];
    strides[axis] = stride / itemsize;
    if (stride < 0) low += (shape[axis] - 1) * stride;
    else high += (shape[axis] - 1) * stride;
  }
  const bool writable = PyArray_ISWRITEABLE(array);
  std::shared_ptr<void> owner(guard.release().ptr(), release_python_object);
  auto storage = std::make_shared<Storage>(low, static_cast<size_t>(high - low), std::move(owner), writable);
  return Array(dtype, std::move(shape), std::move(storage), std::move(strides), (first - low) / itemsize);
}

PyArrayObject* as_ndarray(nb::handle value, PyArray_Descr* descr, int flags) {
  PyObject* array = PyArray_FromAny(value.ptr(), descr, 0, 0, flags, nullptr);
  if (!array) throw nb::python_error();
  return reinterpret_cast<PyArrayObject*>(array);
}

void destroy_storage_capsule(PyObject* capsule) {
  delete static_cast<std::shared_ptr<Storage>*>(PyCapsule_GetPointer(capsule, "hypatia.storage"));
}

}  // namespace

int64_t to_int64(nb::handle value, const char* what) {
  // A 0-d integer array is a number (np.int64(1) is too), as Theano read axis arguments.
  if (PyArray_Check(value.ptr()) && PyArray_NDIM(reinterpret_cast<PyArrayObject*>(value.ptr())) == 0 &&
      PyArray_ISINTEGER(reinterpret_cast<PyArrayObject*>(value.ptr())))
    return to_int64(nb::steal(PyArray_GETITEM(reinterpret_cast<PyArrayObject*>(value.ptr()),
                                              static_cast<const char*>(PyArray_DATA(reinterpret_cast<PyArrayObject*>(value.ptr()))))),
                    what);
  if (PyBool_Check(value.ptr()) || !PyIndex_Check(value.ptr()) || PyArray_Check(value.ptr()))
    throw TypeError(std::string(what) + " must be an integer, got " + nb::cast<std::string>(nb::repr(value)));
  nb::object number = nb::steal(PyNumber_Index(value.ptr()));
  if (!number) throw nb::python_error();
  int overflow = 0;
  long long result = PyLong_AsLongLongAndOverflow(number.ptr(), &overflow);
  if (overflow) throw ValueError(std::string(what) + " " + nb::cast<std::string>(nb::str(value)) + " does not fit in int64");
  return result;
}

int to_int(nb::handle value, const char* what) {
  int64_t result = to_int64(value, what);
  if (result < INT_MIN || result > INT_MAX) throw ValueError(std::string(what) + " " + std::to_string(result) + " is out of range");
  return static_cast<int>(result);
}

std::vector<int> to_ints(nb::handle values, const char* what) {
  if (PyIndex_Check(values.ptr()) && !PyArray_Check(values.ptr())) return {to_int(values, what)};
  if (!PySequence_Check(values.ptr()))
    throw TypeError(std::string(what) + " must be an integer or a sequence of integers, got " +
                    nb::cast<std::string>(nb::repr(values)));
  std::vector<int> result;
  for (nb::handle value : values) result.push_back(to_int(value, what));
  return result;
}

void release_pending_objects() {
  std::vector<PyObject*> objects;
  {
    std::lock_guard<std::mutex> lock(pending_mutex);
    if (pending_releases->empty()) return;
    objects.swap(*pending_releases);
  }
  for (PyObject* object : objects) Py_DECREF(object);
}

void import_numpy() {
  if (_import_array() < 0) throw nb::python_error();
}

std::optional<DType> ndarray_dtype(nb::handle value) {
  if (!PyArray_Check(value.ptr())) return std::nullopt;
  return dtype_of_descr(PyArray_DESCR(reinterpret_cast<PyArrayObject*>(value.ptr())));
}

// Exactly a Python float: NumPy's float64 scalar subclasses float but keeps its own dtype's rules.
bool is_python_float(nb::handle value) { return PyFloat_CheckExact(value.ptr()); }

bool is_scipy_sparse(nb::handle value) {
  // SciPy's matrices and arrays (csr, csc, coo, ...) all have tocsr; NumPy arrays are ruled out first (cheap).
  return !PyArray_Check(value.ptr()) && PyObject_HasAttrString(value.ptr(), "tocsr") && PyObject_HasAttrString(value.ptr(), "format");
}

namespace {

// A SciPy sparse matrix as a sparse Array whose data, indices and indptr are its own NumPy arrays (not copied);
// formats other than csr and csc are converted to csr first.
Array sparse_from_scipy(nb::handle value, const char* what) {
  nb::object matrix = nb::borrow(value);
  std::string format = nb::cast<std::string>(matrix.attr("format"));
  if (format != "csr" && format != "csc") {
    matrix = matrix.attr("tocsr")();
    format = "csr";
  }
  nb::object shape = matrix.attr("shape");
  const int64_t rows = to_int64(shape[0], what), cols = to_int64(shape[1], what);
  return Array::from_sparse(SparseArray(format == "csr" ? SparseFormat::Csr : SparseFormat::Csc, rows, cols,
                                        to_array(matrix.attr("data"), what), to_array(matrix.attr("indices"), what),
                                        to_array(matrix.attr("indptr"), what)));
}

// scipy.sparse.csr_matrix and csc_matrix, imported once (kept until exit: values may be converted at any time).
PyObject* scipy_matrix_class(SparseFormat format) {
  static PyObject* classes[2] = {nullptr, nullptr};
  PyObject*& cls = classes[format == SparseFormat::Csr ? 0 : 1];
  if (!cls) {
    nb::object module = nb::module_::import_("scipy.sparse");
    nb::object found = module.attr(format == SparseFormat::Csr ? "csr_matrix" : "csc_matrix");
    cls = found.release().ptr();
  }
  return cls;
}

}  // namespace

Array to_array(nb::handle value, const char* what) {
  if (is_scipy_sparse(value)) return sparse_from_scipy(value, what);
  PyArrayObject* array = PyArray_Check(value.ptr()) ? reinterpret_cast<PyArrayObject*>(Py_NewRef(value.ptr()))
                                                    : as_ndarray(value, nullptr, 0);
  auto dtype = dtype_of_descr(PyArray_DESCR(array));
  if (!dtype) {
    nb::object guard = nb::steal(reinterpret_cast<PyObject*>(array));
    unsupported_dtype(PyArray_DESCR(array), what);
  }
  return wrap_ndarray(array, *dtype);
}

Array to_array_as(nb::handle value, DType dtype, const char* what) {
  if (PyArray_Check(value.ptr()) && ndarray_dtype(value) == dtype) return to_array(value, what);
  PyArrayObject* array = as_ndarray(value, PyArray_DescrFromType(numpy_type_number(dtype)), NPY_ARRAY_FORCECAST);
  return wrap_ndarray(array, dtype);
}

nb::object to_numpy(const Array& array) {
  if (array.is_sparse()) {  // a SciPy matrix over NumPy views of the arrays, as Theano returned
    const SparseArray& m = array.sparse();
    nb::handle cls(scipy_matrix_class(m.format()));
    // Contiguous arrays: SciPy's in-place methods (sort_indices, sum_duplicates) expect them.
    return cls(nb::make_tuple(to_numpy(m.data().contiguous()), to_numpy(m.indices().contiguous()), to_numpy(m.indptr().contiguous())),
               "shape"_a = nb::make_tuple(m.rows(), m.cols()), "copy"_a = false);
  }
  const int ndim = array.ndim();
  const npy_intp itemsize = static_cast<npy_intp>(array.itemsize());
  std::vector<npy_intp> dims(array.shape().begin(), array.shape().end()), strides(ndim);
  for (int axis = 0; axis < ndim; ++axis) strides[axis] = array.strides()[axis] * itemsize;
  PyArray_Descr* descr = PyArray_DescrFromType(numpy_type_number(array.dtype()));
  if (array.size() == 0 || !array.storage()) {
    PyObject* empty = PyArray_Empty(ndim, dims.data(), descr, 0);
    if (!empty) throw nb::python_error();
    return nb::steal(empty);
  }
  // Memory that came read-only from NumPy stays read-only.
  PyObject* out = PyArray_NewFromDescr(&PyArray_Type, descr, ndim, dims.data(), strides.data(), array.raw_data(),
                                       array.storage()->writable() ? NPY_ARRAY_WRITEABLE : 0, nullptr);
  if (!out) throw nb::python_error();
  nb::object result = nb::steal(out);
  PyObject* capsule = PyCapsule_New(new std::shared_ptr<Storage>(array.storage()), "hypatia.storage",
                                    destroy_storage_capsule);
  if (!capsule) throw nb::python_error();
  if (PyArray_SetBaseObject(reinterpret_cast<PyArrayObject*>(out), capsule) < 0) throw nb::python_error();
  return result;
}

DType to_dtype(nb::handle dtype_like) {
  if (nb::isinstance<nb::str>(dtype_like)) {
    std::string name = nb::cast<std::string>(dtype_like);
    if (name == "floatX") name = nb::cast<std::string>(nb::module_::import_("hypatia").attr("config").attr("floatX"));
    try {
      return dtype_from_name(name);
    } catch (const TypeError&) {
      // Not one of our names ('f4', 'double', ...): NumPy reads it below.
    }
  }
  PyArray_Descr* descr = nullptr;
  if (!PyArray_DescrConverter2(dtype_like.ptr(), &descr) || !descr) {
    PyErr_Clear();
    throw TypeError("[dtype] " + nb::cast<std::string>(nb::repr(dtype_like)) + " is not a dtype");
  }
  nb::object guard = nb::steal(reinterpret_cast<PyObject*>(descr));
  auto dtype = dtype_of_descr(descr);
  if (!dtype) unsupported_dtype(descr, "the requested type");
  return *dtype;
}

std::optional<Operand> try_operand(nb::handle value) {
  if (nb::isinstance<Variable>(value)) return Operand(nb::cast<const Variable&>(value));
  // NumPy scalars keep their dtype (NumPy 2): np.float64 subclasses float but is not a weak number.
  if (PyArray_IsScalar(value.ptr(), Generic)) return Operand(constant(to_array(value, "a constant")));
  if (PyBool_Check(value.ptr())) return Operand(value.ptr() == Py_True);
  if (PyLong_Check(value.ptr())) {
    int overflow = 0;
    long number = PyLong_AsLongAndOverflow(value.ptr(), &overflow);
    if (overflow) throw ValueError("[variable] the Python integer " + nb::cast<std::string>(nb::str(value)) +
                                   " does not fit in int64");
    return Operand(number);
  }
  if (PyFloat_Check(value.ptr())) return Operand(PyFloat_AS_DOUBLE(value.ptr()));
  // A Python complex is a complex128 constant, as in Theano (NumPy 2 would let float32 * 1j be complex64).
  if (PyComplex_Check(value.ptr())) return Operand(constant(to_array(value, "a constant")));
  if (PyArray_Check(value.ptr()) || PyList_Check(value.ptr()) || PyTuple_Check(value.ptr()) || is_scipy_sparse(value))
    return Operand(constant(to_array(value, "a constant")));
  return std::nullopt;
}

Operand to_operand(nb::handle value) {
  if (auto operand = try_operand(value)) return *operand;
  throw TypeError("[variable] cannot use a " + nb::cast<std::string>(nb::str(value.type().attr("__name__"))) +
                  " (" + nb::cast<std::string>(nb::repr(value)) + ") in a symbolic expression");
}

Variable to_variable(nb::handle value) { return to_operand(value).as_variable(); }

std::string describe_input(const Variable& v) {
  std::string name = v.name().empty() ? "" : " '" + v.name() + "'";
  return name + " " + v.type().str() + " (built at " + format_location(v.where()) + ")";
}

namespace {

// Every element survives the conversion (NaN counts as equal to NaN, as Theano's values_eq).
bool same_values(const Array& converted, const Array& original) {
  if (is_complex(original.dtype()) && !is_complex(converted.dtype())) return false;  // an imaginary part would be lost
  for (int64_t k = 0; k < original.size(); ++k) {
    const double before = original.get_as_double(k), after = converted.get_as_double(k);
    if (before != after && !(std::isnan(before) && std::isnan(after))) return false;
  }
  return true;
}

}  // namespace

Array filter_value(nb::handle value, const Variable& target, std::optional<bool> allow_downcast, DType floatx,
                   const std::string& what) {
  const DType want = target.dtype();
  std::optional<DType> have = ndarray_dtype(value);
  if (target.is_sparse() != is_scipy_sparse(value) && !nb::isinstance<Variable>(value)) {
    if (target.is_sparse())
      throw TypeError(what + describe_input(target) + " takes a SciPy sparse matrix, got " + nb::cast<std::string>(nb::repr(value.type())) +
                      " (convert it with scipy.sparse." + sparse_format_name(*target.type().format) + "_matrix)");
    throw TypeError(what + describe_input(target) + " takes a dense array, got a SciPy sparse matrix (pass its .toarray())");
  }
  if (target.is_sparse()) {
    Array natural = to_array(value, what.c_str());
    if (natural.format() != target.type().format) natural = Array::from_sparse(natural.sparse().as_format(*target.type().format));
    if (natural.dtype() == want) return natural;
    if (is_complex(natural.dtype()) && !is_complex(want))  // as for dense values: never drop an imaginary part
      throw TypeError(what + describe_input(target) + " is real and cannot take a " + natural.shape_dtype_str() + " value");
    if (promote_types(natural.dtype(), want) == want || allow_downcast.value_or(false)) return natural.astype(want);
    throw TypeError(what + describe_input(target) + " cannot take a " + natural.shape_dtype_str() +
                    " value without risking loss of precision; convert it with .astype('" + std::string(dtype_name(want)) + "')");
  }
  if (have == want) return to_array(value, what.c_str());
  if (nb::isinstance<Variable>(value))
    throw TypeError(what + " is the symbolic variable " + nb::cast<const Variable&>(value).str() +
                    "; it takes values (NumPy arrays or numbers)");
  Array natural = to_array(value, what.c_str());
  if (natural.dtype() == want) return natural;
  // Not even allow_input_downcast drops an imaginary part silently.
  if (is_complex(natural.dtype()) && !is_complex(want))
    throw TypeError(what + describe_input(target) + " is real and cannot take a " + natural.shape_dtype_str() +
                    " value; pass its .real (or abs()) instead");
  if (promote_types(natural.dtype(), want) == want || allow_downcast.value_or(false)) return natural.astype(want);
  if (!have) {
    // Python numbers and lists: a float becomes floatX unless downcasting is refused outright; other
    // values are taken when they survive the conversion exactly.
    if (!allow_downcast.has_value() && is_python_float(value) && want == floatx) return natural.astype(want);
    Array converted = natural.astype(want);
    if (same_values(converted, natural)) return converted;
  }
  const bool function_input = what.starts_with("[function]");
  throw TypeError(what + describe_input(target) + " cannot take a " + natural.shape_dtype_str() +
                  " value without risking loss of precision; convert it with .astype('" + std::string(dtype_name(want)) +
                  "')" + (function_input ? " or pass allow_input_downcast=True to function()" : ""));
}

}  // namespace hypatia::python
