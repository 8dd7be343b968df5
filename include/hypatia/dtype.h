// Element types and NumPy's promotion rules.
#pragma once
#include <cstddef>
#include <complex>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace hypatia {

// Each dtype once: enumerator, C++ type, NumPy name.
#define HYPATIA_FOR_EACH_DTYPE(X) \
  X(Bool, bool, "bool")           \
  X(Int8, int8_t, "int8")         \
  X(Int16, int16_t, "int16")      \
  X(Int32, int32_t, "int32")      \
  X(Int64, int64_t, "int64")      \
  X(UInt8, uint8_t, "uint8")      \
  X(UInt16, uint16_t, "uint16")   \
  X(UInt32, uint32_t, "uint32")   \
  X(UInt64, uint64_t, "uint64")   \
  X(Float16, _Float16, "float16") \
  X(Float32, float, "float32")    \
  X(Float64, double, "float64")    \
  X(Complex64, std::complex<float>, "complex64") \
  X(Complex128, std::complex<double>, "complex128")

enum class DType : uint8_t {
#define HYPATIA_DTYPE_ENUM(name, ctype, str) name,
  HYPATIA_FOR_EACH_DTYPE(HYPATIA_DTYPE_ENUM)
#undef HYPATIA_DTYPE_ENUM
};

#define HYPATIA_DTYPE_COUNT(name, ctype, str) +1
inline constexpr int kNumDTypes = 0 HYPATIA_FOR_EACH_DTYPE(HYPATIA_DTYPE_COUNT);
#undef HYPATIA_DTYPE_COUNT

std::string_view dtype_name(DType dtype);
DType dtype_from_name(std::string_view name);  // throws TypeError for unknown names
std::string known_dtype_names();  // "bool, int8, ..., float64", for error messages
size_t dtype_size(DType dtype);
bool is_float(DType dtype);  // real floats: float16, float32, float64
bool is_complex(DType dtype);  // complex64, complex128
bool is_inexact(DType dtype);  // float or complex: the dtypes gradients flow through
bool is_integer(DType dtype);  // signed or unsigned, not bool
bool is_signed(DType dtype);  // real floats and signed integers
bool is_unsigned(DType dtype);  // uint8 ... uint64
bool is_bool(DType dtype);

// NumPy's promotion of two array dtypes (np.result_type), e.g. int8+uint8 -> int16, int64+float32 -> float64,
// uint64+int64 -> float64 (no integer holds both).
DType promote_types(DType a, DType b);
// The float type an integer op result is computed in (PyTensor's upgrade_to_float):
// bool, int8, uint8, int16, uint16 -> float32; int32, uint32, int64, uint64 -> float64; floats unchanged.
DType upgrade_to_float(DType dtype);
// complex64 <-> float32, complex128 <-> float64; other dtypes unchanged.
DType real_dtype(DType dtype);
DType complex_dtype(DType float_dtype);  // the complex type of upgrade_to_float(dtype)

// float16 is stored as half and computed in float32, as Theano did on the CPU (scalar_typing).
template <class T> inline constexpr bool is_float_v = std::is_floating_point_v<T> || std::is_same_v<T, _Float16>;
template <class T> inline constexpr bool is_complex_v = false;
template <class T> inline constexpr bool is_complex_v<std::complex<T>> = true;

template <class T> struct dtype_of;
#define HYPATIA_DTYPE_OF(name, ctype, str) \
  template <> struct dtype_of<ctype> { static constexpr DType value = DType::name; };
HYPATIA_FOR_EACH_DTYPE(HYPATIA_DTYPE_OF)
#undef HYPATIA_DTYPE_OF
template <class T> inline constexpr DType dtype_v = dtype_of<T>::value;

// Calls fn.template operator()<T>() with T the C++ type of `dtype`.
template <class Fn> decltype(auto) dispatch_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
#define HYPATIA_DTYPE_CASE(name, ctype, str) \
  case DType::name: return fn.template operator()<ctype>();
    HYPATIA_FOR_EACH_DTYPE(HYPATIA_DTYPE_CASE)
#undef HYPATIA_DTYPE_CASE
  }
  __builtin_unreachable();
}

// As dispatch_dtype, for code defined on real numbers only (ordering, sorting, integer indices): a complex
// dtype is refused with a TypeError naming `op`.
[[noreturn]] void refuse_complex(std::string_view op, DType dtype);
template <class Fn> decltype(auto) dispatch_real_dtype(DType dtype, std::string_view op, Fn&& fn) {
  switch (dtype) {
#define HYPATIA_REAL_DTYPE_CASE(name, ctype, str)                  \
  case DType::name:                                                \
    if constexpr (is_complex_v<ctype>) refuse_complex(op, dtype); \
    else return fn.template operator()<ctype>();
      HYPATIA_FOR_EACH_DTYPE(HYPATIA_REAL_DTYPE_CASE)
#undef HYPATIA_REAL_DTYPE_CASE
  }
  __builtin_unreachable();
}

}  // namespace hypatia
