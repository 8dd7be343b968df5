// How error messages name a variable: "'x' float64(?, 3)", or "<unnamed> float64(?, 3)".
#pragma once
#include <string>

#include "hypatia/graph.h"

namespace hypatia {

inline std::string describe_variable(const Variable& v) {
  return (v.name().empty() ? std::string("<unnamed>") : "'" + v.name() + "'") + " " + v.type().str();
}

}  // namespace hypatia
