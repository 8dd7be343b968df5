// hypatia._core: the C++ core for the `hypatia` Python package.
#include "bindings.h"

#include <nanobind/stl/string.h>

namespace nb = nanobind;
using namespace hypatia;
using namespace hypatia::python;

NB_MODULE(_core, m) {
  m.doc() = "The C++ core of Hypatia; use it through the hypatia package.";
  import_numpy();
  // The package adds Python methods to these classes, so some objects live until the interpreter's end.
  nb::set_leak_warnings(false);
  m.def("_set_library_directory", &set_library_directory,
        "Frames in files under this directory are the library's, not the user's.");
  // Warnings from the core (an unused input, a disconnected gradient) become Python warnings, so filters
  // and pytest.warns see them; a filter that turns them into errors raises.
  set_warning_handler([](const std::string& message) {
    nb::gil_scoped_acquire locked;
    CodeLocation where = user_code_location();  // the warning points at the user's line
    if (PyErr_WarnExplicit(PyExc_UserWarning, message.c_str(), where.file, static_cast<int>(where.line), nullptr,
                           nullptr) < 0)
      throw nb::python_error();
  });
  init_errors(m);
  init_graph(m);
  init_ops(m);
  init_function(m);
  init_grad(m);
  init_printing(m);
  init_random(m);
  init_control(m);
  init_search(m);
  init_conv(m);
  init_linalg(m);
  init_fft(m);
  init_sparse(m);
}
