// Errors users can cause. Messages start with the component in brackets, e.g. "[dot] ...".
#pragma once
#include <cstdint>
#include <source_location>
#include <stdexcept>
#include <string>
#include <string_view>

namespace hypatia {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, bool located = false) : std::runtime_error(message), located_(located) {}
  // The message already says where the user built the failing node.
  bool located() const { return located_; }

 private:
  bool located_;
};
class ShapeError : public Error { using Error::Error; };
class TypeError : public Error { using Error::Error; };
class ValueError : public Error { using Error::Error; };
class IndexError : public Error { using Error::Error; };
class MemoryError : public Error { using Error::Error; };
// A case the library does not handle yet (Python's NotImplementedError).
class NotImplementedError : public Error { using Error::Error; };
// verify_grad: the symbolic gradient disagrees with finite differences.
class GradientError : public ValueError { using ValueError::ValueError; };
// A matrix a linear-algebra op cannot work with: singular, not positive definite, no convergence
// (NumPy's numpy.linalg.LinAlgError, a ValueError).
class LinAlgError : public ValueError { using ValueError::ValueError; };

// Where the user built something: the C++ call site, or, while a front end in another language (the
// Python package) builds nodes, its user's line. Converting a std::source_location inside such a call
// takes the front end's line, since every C++ call site there is the library's own.
struct CodeLocation {
  const char* file = "";  // static storage: C++ file names, or names the front end interned
  uint32_t line = 0;
  CodeLocation() = default;
  CodeLocation(const char* file, uint32_t line) : file(file), line(line) {}
  CodeLocation(const std::source_location& where);
};
// A file name that lives as long as the process, as CodeLocation::file needs (for names a front end or
// a loaded graph brings).
const char* intern_file_name(std::string_view file);

// While alive, C++ locations on this thread are replaced by `where` (nests; restores the previous).
class ForeignCallSite {
 public:
  explicit ForeignCallSite(CodeLocation where);
  ~ForeignCallSite();
  ForeignCallSite(const ForeignCallSite&) = delete;
  ForeignCallSite& operator=(const ForeignCallSite&) = delete;

 private:
  const CodeLocation* previous_;
  CodeLocation where_;
};

// "file.cpp:12" for messages that point at the user's code.
std::string format_location(const CodeLocation& where);

// Throws an error of `error`'s class with another message.
[[noreturn]] void rethrow_with_message(const Error& error, const std::string& message, bool located);
// Rethrows `error` with " (node built at file:line)" appended, keeping its class.
[[noreturn]] void rethrow_with_location(const Error& error, const CodeLocation& where);

// Runs `build`; an Error it throws that does not say where yet gets `where` appended.
template <class Fn> decltype(auto) at_location(const CodeLocation& where, Fn&& build) {
  try {
    return build();
  } catch (const Error& error) {
    if (error.located()) throw;
    rethrow_with_location(error, where);
  }
}

// Warnings about likely mistakes (an unused input, a disconnected gradient). They go to stderr unless a
// front end installs its own handler (the Python package raises Python warnings); null restores stderr.
using WarningHandler = void (*)(const std::string& message);
void set_warning_handler(WarningHandler handler);
void warn(const std::string& message);  // message starts with the component, e.g. "[grad] ..."

// A valid axis in [0, ndim) for a possibly negative `axis`; ValueError naming `op` otherwise.
int normalize_axis(int axis, int ndim, const char* op);

}  // namespace hypatia
