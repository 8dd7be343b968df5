// Errors users can cause. Messages start with the component in brackets, e.g. "[dot] ...".
#pragma once
#include <source_location>
#include <stdexcept>
#include <string>

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

// "file.cpp:12" for messages that point at the user's code.
std::string format_location(const std::source_location& where);

// Rethrows `error` with " (node built at file:line)" appended, keeping its class.
[[noreturn]] void rethrow_with_location(const Error& error, const std::source_location& where);

// Runs `build`; an Error it throws that does not say where yet gets `where` appended.
template <class Fn> decltype(auto) at_location(const std::source_location& where, Fn&& build) {
  try {
    return build();
  } catch (const Error& error) {
    if (error.located()) throw;
    rethrow_with_location(error, where);
  }
}

// A valid axis in [0, ndim) for a possibly negative `axis`; ValueError naming `op` otherwise.
int normalize_axis(int axis, int ndim, const char* op);

}  // namespace hypatia
