// Errors users can cause. Messages start with the component in brackets, e.g. "[dot] ...".
#pragma once
#include <source_location>
#include <stdexcept>
#include <string>

namespace hypatia {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};
class ShapeError : public Error { using Error::Error; };
class TypeError : public Error { using Error::Error; };
class ValueError : public Error { using Error::Error; };
class IndexError : public Error { using Error::Error; };

// "file.cpp:12" for messages that point at the user's code.
std::string format_location(const std::source_location& where);

// Rethrows `error` with " (node built at file:line)" appended, keeping its class.
[[noreturn]] void rethrow_with_location(const Error& error, const std::source_location& where);

}  // namespace hypatia
