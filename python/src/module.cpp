// hypatia._core: the C++ core for the `hypatia` Python package.
#include "bindings.h"

#include <nanobind/stl/string.h>

namespace nb = nanobind;
using namespace hypatia::python;

NB_MODULE(_core, m) {
  m.doc() = "The C++ core of Hypatia; use it through the hypatia package.";
  import_numpy();
  // The package adds Python methods to these classes, so some objects live until the interpreter's end.
  nb::set_leak_warnings(false);
  m.def("_set_library_directory", &set_library_directory,
        "Frames in files under this directory are the library's, not the user's.");
  init_errors(m);
  init_graph(m);
  init_ops(m);
  init_function(m);
  init_grad(m);
  init_printing(m);
  init_random(m);
}
