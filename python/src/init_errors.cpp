// C++ errors become Python exceptions: ShapeError is a ValueError, the rest map to the builtins.
#include "bindings.h"

namespace hypatia::python {

namespace {

// NumPy's numpy.linalg.LinAlgError (a ValueError), so `except np.linalg.LinAlgError` catches Hypatia's.
PyObject* linalg_error() {
  static PyObject* error = [] {
    nb::gil_scoped_acquire gil;
    return nb::module_::import_("numpy.linalg").attr("LinAlgError").inc_ref().ptr();
  }();
  return error;
}

}  // namespace

void init_errors(nb::module_& m) {
  static PyObject* shape_error = PyErr_NewExceptionWithDoc(
      "hypatia.ShapeError", "Shapes that do not fit together (a ValueError).", PyExc_ValueError, nullptr);
  static PyObject* gradient_error = PyErr_NewExceptionWithDoc(
      "hypatia.GradientError", "verify_grad: the symbolic gradient disagrees with finite differences.",
      PyExc_ValueError, nullptr);
  m.attr("ShapeError") = nb::borrow(shape_error);
  m.attr("GradientError") = nb::borrow(gradient_error);
  nb::register_exception_translator([](const std::exception_ptr& error, void*) {
    try {
      std::rethrow_exception(error);
    } catch (const ShapeError& e) {
      PyErr_SetString(shape_error, e.what());
    } catch (const GradientError& e) {
      PyErr_SetString(gradient_error, e.what());
    } catch (const LinAlgError& e) {
      PyErr_SetString(linalg_error(), e.what());
    } catch (const TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const MemoryError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const NotImplementedError& e) {
      PyErr_SetString(PyExc_NotImplementedError, e.what());
    } catch (const ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    } catch (const nb::cast_error&) {
      // An argument nanobind could not convert past the signature check: a wrong type, said plainly.
      PyErr_SetString(PyExc_TypeError, "[hypatia] an argument has a type this function cannot take");
    }
  });
}

}  // namespace hypatia::python
