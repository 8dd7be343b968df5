// Values crossing between Python and the C++ core: NumPy arrays, numbers and lists to Arrays and back,
// dtypes, and Python values as graph operands.
#pragma once
#include <nanobind/nanobind.h>

#include <optional>
#include <string>

#include "hypatia/hypatia.h"

namespace hypatia::python {
namespace nb = nanobind;

// Imports NumPy's C API; called once when the module loads.
void import_numpy();

// The dtype of a NumPy array, or nullopt for anything else.
std::optional<DType> ndarray_dtype(nb::handle value);
bool is_python_float(nb::handle value);

// A NumPy array, number or nested list as an Array. NumPy arrays whose dtype and layout Hypatia can
// use are wrapped without copying (the Array keeps the NumPy array alive); others are converted once. A SciPy
// sparse matrix becomes a sparse Array over its own arrays (csr and csc; other formats converted to csr).
// `what` names the value in error messages ("input 0 of the function").
Array to_array(nb::handle value, const char* what = "value");
// The same, cast to `dtype` the way NumPy's astype does.
Array to_array_as(nb::handle value, DType dtype, const char* what = "value");
// Whether the value is a SciPy sparse matrix or array (any format).
bool is_scipy_sparse(nb::handle value);
// A NumPy array viewing the Array's memory (which it keeps alive); read-only if that memory is. A sparse value
// becomes a scipy.sparse csr_matrix or csc_matrix over NumPy views of its arrays.
nb::object to_numpy(const Array& array);
// Releases NumPy arrays whose last Array died on a thread without the GIL; call it holding the GIL.
void release_pending_objects();

// A Python integer (or NumPy integer) as int64 / as an int in [INT_MIN, INT_MAX]; TypeError naming `what`
// for anything else, ValueError when it does not fit.
int64_t to_int64(nb::handle value, const char* what);
int to_int(nb::handle value, const char* what);
std::vector<int> to_ints(nb::handle values, const char* what);  // an int or a sequence of ints

// 'float32', numpy.float32, numpy.dtype('float32') or Python's float/int/bool as a DType.
DType to_dtype(nb::handle dtype_like);

// A Python value as a graph operand: Variables as they are, Python numbers as NumPy 2's weak scalars,
// NumPy arrays, NumPy scalars and lists as constants. TypeError for anything else.
Operand to_operand(nb::handle value);
// The same, or nullopt when the value cannot be an operand (for operators returning NotImplemented).
std::optional<Operand> try_operand(nb::handle value);
// Theano's as_tensor_variable: an operand as a Variable (a weak number takes its default dtype).
Variable to_variable(nb::handle value);

// Theano's TensorType.filter: `value` as an Array of `target`'s dtype (a function input or a shared
// variable); NumPy arrays of that dtype are wrapped, others converted when the conversion loses nothing
// or allow_downcast allows it. `what` starts messages, e.g. "[function] input 0".
// A value the target cannot hold exactly is refused unless allow_downcast is true; unset, Python floats
// still become floatX and Python numbers whose value survives the conversion are accepted.
Array filter_value(nb::handle value, const Variable& target, std::optional<bool> allow_downcast, DType floatx,
                   const std::string& what);
// " 'x' float32(?, ?) (built at train.py:3)" for messages about an input.
std::string describe_input(const Variable& v);

}  // namespace hypatia::python
