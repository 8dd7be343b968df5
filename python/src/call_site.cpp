#include "call_site.h"

#include <Python.h>
#include <frameobject.h>

#include <string_view>

namespace hypatia::python {
namespace {

std::string& library_directory() {
  static std::string* directory = new std::string();
  return *directory;
}

}  // namespace

void set_library_directory(std::string directory) { library_directory() = std::move(directory); }

CodeLocation user_code_location() {
  PyFrameObject* frame = PyEval_GetFrame();  // borrowed
  Py_XINCREF(frame);
  const std::string& library = library_directory();
  while (frame) {
    PyCodeObject* code = PyFrame_GetCode(frame);
    Py_ssize_t length = 0;
    const char* file = PyUnicode_AsUTF8AndSize(code->co_filename, &length);
    Py_DECREF(code);
    if (!file) {
      PyErr_Clear();
      file = "<unknown>";
      length = 9;
    }
    std::string_view name(file, static_cast<size_t>(length));
    if (library.empty() || !name.starts_with(library)) {
      CodeLocation where(intern_file_name(name), static_cast<uint32_t>(PyFrame_GetLineNumber(frame)));
      Py_DECREF(frame);
      return where;
    }
    PyFrameObject* back = PyFrame_GetBack(frame);
    Py_DECREF(frame);
    frame = back;
  }
  return CodeLocation("<python>", 0);
}

}  // namespace hypatia::python
