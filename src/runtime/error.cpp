#include "hypatia/error.h"

#include <atomic>
#include <iostream>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace hypatia {

namespace {
thread_local const CodeLocation* foreign_call_site = nullptr;
}  // namespace

CodeLocation::CodeLocation(const std::source_location& where)
    : file(foreign_call_site ? foreign_call_site->file : where.file_name()),
      line(foreign_call_site ? foreign_call_site->line : where.line()) {}

ForeignCallSite::ForeignCallSite(CodeLocation where) : previous_(foreign_call_site), where_(where) {
  foreign_call_site = &where_;
}
ForeignCallSite::~ForeignCallSite() { foreign_call_site = previous_; }

std::string format_location(const CodeLocation& where) {
  // The file's name is enough to find it and keeps messages short.
  std::string_view file = where.file;
  size_t slash = file.find_last_of('/');
  if (slash != std::string_view::npos) file = file.substr(slash + 1);
  return std::string(file) + ":" + std::to_string(where.line);
}

void rethrow_with_message(const Error& error, const std::string& message, bool located) {
  if (dynamic_cast<const ShapeError*>(&error)) throw ShapeError(message, located);
  if (dynamic_cast<const TypeError*>(&error)) throw TypeError(message, located);
  if (dynamic_cast<const IndexError*>(&error)) throw IndexError(message, located);
  if (dynamic_cast<const MemoryError*>(&error)) throw MemoryError(message, located);
  if (dynamic_cast<const NotImplementedError*>(&error)) throw NotImplementedError(message, located);
  if (dynamic_cast<const GradientError*>(&error)) throw GradientError(message, located);
  if (dynamic_cast<const LinAlgError*>(&error)) throw LinAlgError(message, located);
  if (dynamic_cast<const ValueError*>(&error)) throw ValueError(message, located);
  throw Error(message, located);
}

void rethrow_with_location(const Error& error, const CodeLocation& where) {
  rethrow_with_message(error, std::string(error.what()) + " (node built at " + format_location(where) + ")", true);
}

namespace {
std::atomic<WarningHandler> warning_handler{nullptr};
}  // namespace

void set_warning_handler(WarningHandler handler) { warning_handler = handler; }

void warn(const std::string& message) {
  if (WarningHandler handler = warning_handler.load()) return handler(message);
  std::cerr << "hypatia: warning: " << message << "\n";
}

int normalize_axis(int axis, int ndim, const char* op) {
  int resolved = axis < 0 ? axis + ndim : axis;
  if (resolved < 0 || resolved >= ndim)
    throw ValueError(std::string("[") + op + "] axis " + std::to_string(axis) + " is out of range for " +
                     std::to_string(ndim) + " dimensions");
  return resolved;
}

const char* intern_file_name(std::string_view file) {
  static std::mutex mutex;
  static auto* names = new std::unordered_set<std::string>();  // never freed: nodes point at them for good
  std::lock_guard<std::mutex> lock(mutex);
  return names->emplace(file).first->c_str();
}

}  // namespace hypatia
