// Errors and build locations name the Python line that built a node, not the binding's C++ line.
#pragma once
#include <string>

#include "hypatia/error.h"

namespace hypatia::python {

// The innermost Python frame outside the hypatia package: where the user's code called us.
CodeLocation user_code_location();
// Frames in files under `directory` belong to the library and are skipped.
void set_library_directory(std::string directory);

// A nanobind call guard: while a bound graph-building function runs, C++ locations name the user's line.
struct PythonCallSite {
  PythonCallSite() : site(user_code_location()) {}
  ForeignCallSite site;
};

}  // namespace hypatia::python
