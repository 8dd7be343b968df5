// Small helpers shared by the op families.
#pragma once
#include <optional>

#include "hypatia/graph.h"

namespace hypatia {

// The value of a size-1 constant as an integer, or nullopt when it is only known at run time.
inline std::optional<int64_t> constant_int(const Variable& v) {
  if (v.is_constant() && v.constant_value().size() == 1) return static_cast<int64_t>(v.constant_value().item());
  return std::nullopt;
}

}  // namespace hypatia
