#include "hypatia/dtype.h"

#include <type_traits>

#include "hypatia/error.h"

namespace hypatia {

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
#define HYPATIA_DTYPE_NAME(name, ctype, str) \
  case DType::name: return str;
    HYPATIA_FOR_EACH_DTYPE(HYPATIA_DTYPE_NAME)
#undef HYPATIA_DTYPE_NAME
  }
  return "?";
}

std::string known_dtype_names() {
  std::string names;
#define HYPATIA_DTYPE_LIST_NAME(enumerator, ctype, str) names += (names.empty() ? "" : ", ") + std::string(str);
  HYPATIA_FOR_EACH_DTYPE(HYPATIA_DTYPE_LIST_NAME)
#undef HYPATIA_DTYPE_LIST_NAME
  return names;
}

DType dtype_from_name(std::string_view name) {
#define HYPATIA_DTYPE_FROM_NAME(enumerator, ctype, str) \
  if (name == str) return DType::enumerator;
  HYPATIA_FOR_EACH_DTYPE(HYPATIA_DTYPE_FROM_NAME)
#undef HYPATIA_DTYPE_FROM_NAME
  throw TypeError("[dtype] unknown dtype '" + std::string(name) + "' (known: " + known_dtype_names() + ")");
}

size_t dtype_size(DType dtype) {
  return dispatch_dtype(dtype, []<class T>() { return sizeof(T); });
}

bool is_float(DType dtype) { return dtype == DType::Float16 || dtype == DType::Float32 || dtype == DType::Float64; }
bool is_complex(DType dtype) { return dtype == DType::Complex64 || dtype == DType::Complex128; }
bool is_inexact(DType dtype) { return is_float(dtype) || is_complex(dtype); }
bool is_bool(DType dtype) { return dtype == DType::Bool; }
bool is_integer(DType dtype) { return !is_inexact(dtype) && !is_bool(dtype); }
bool is_unsigned(DType dtype) {
  return dispatch_dtype(dtype, []<class T>() { return std::is_unsigned_v<T> && !std::is_same_v<T, bool>; });
}
bool is_signed(DType dtype) { return !is_bool(dtype) && !is_unsigned(dtype); }

namespace {

DType signed_integer_of_size(size_t bytes) {
  switch (bytes) {
    case 1: return DType::Int8;
    case 2: return DType::Int16;
    case 4: return DType::Int32;
    default: return DType::Int64;
  }
}

}  // namespace

// NumPy's rules, computed rather than tabulated so a new dtype cannot miss a pair: the smallest type
// that holds every value of both, where a float holds an integer narrower than itself exactly.
DType promote_types(DType a, DType b) {
  if (a == b || is_bool(b)) return a;
  if (is_bool(a)) return b;
  const auto wider = [](DType x, DType y) { return dtype_size(x) >= dtype_size(y) ? x : y; };
  if (is_complex(a) || is_complex(b)) {
    // The complex type whose real part holds both real parts: complex64 + float64 -> complex128.
    const DType real = promote_types(real_dtype(a), real_dtype(b));
    return complex_dtype(real);
  }
  if (is_float(a) && is_float(b)) return wider(a, b);
  if (is_float(a) || is_float(b)) {
    const DType floating = is_float(a) ? a : b, integer = is_float(a) ? b : a;
    if (dtype_size(floating) > dtype_size(integer)) return floating;
    // The narrowest float holding every value of the integer: float32 for 16 bits, float64 above.
    return dtype_size(integer) <= 2 ? DType::Float32 : DType::Float64;
  }
  if (is_unsigned(a) == is_unsigned(b)) return wider(a, b);
  const DType signed_one = is_unsigned(a) ? b : a, unsigned_one = is_unsigned(a) ? a : b;
  if (dtype_size(signed_one) > dtype_size(unsigned_one)) return signed_one;
  // A signed type twice the unsigned one's width; uint64 has none, and NumPy gives float64.
  return dtype_size(unsigned_one) == 8 ? DType::Float64 : signed_integer_of_size(2 * dtype_size(unsigned_one));
}

DType upgrade_to_float(DType dtype) {
  if (is_inexact(dtype)) return dtype;
  // Theano's rule: float32 holds every bool, 8- and 16-bit integer exactly; wider ones need float64.
  return dtype_size(dtype) <= 2 ? DType::Float32 : DType::Float64;
}

DType real_dtype(DType dtype) {
  if (dtype == DType::Complex64) return DType::Float32;
  if (dtype == DType::Complex128) return DType::Float64;
  return dtype;
}

DType complex_dtype(DType dtype) {
  if (is_complex(dtype)) return dtype;
  return upgrade_to_float(dtype) == DType::Float64 ? DType::Complex128 : DType::Complex64;
}

void refuse_complex(std::string_view op, DType dtype) {
  throw TypeError("[" + std::string(op) + "] is defined for real numbers, not " + std::string(dtype_name(dtype)) +
                  " (take real(), imag(), abs() or angle() first)");
}

}  // namespace hypatia
