// The reference meaning of every scalar op: one function per row of scalar_ops.def, with NumPy's
// semantics (wrapping integer arithmetic, floor division, Python's modulo sign, NaN-propagating
// maximum). Header-only and dependency-free so generated kernels can include the same definitions.
#pragma once
#include <cstdint>
#include <limits>
#include <type_traits>

// A generated module without complex numbers is "lean": it skips <cmath> and <complex>, whose parsing
// (0.6 s) cost more than compiling a function's kernels at -O0. Its real functions are the compiler's
// builtins, which call the same libm as <cmath>'s overloads do.
#if defined(HYPATIA_GENERATED_MODULE) && !defined(HYPATIA_MODULE_COMPLEX)
#define HYPATIA_LEAN_MODULE 1
#else
#include <cmath>
#include <complex>
#endif

namespace hypatia::scalar_math {

// The C math functions every definition below calls, as libm::name.
namespace libm {
#ifdef HYPATIA_LEAN_MODULE
#define HYPATIA_LIBM_1(name) \
  inline float name(float a) { return __builtin_##name##f(a); } \
  inline double name(double a) { return __builtin_##name(a); }
#define HYPATIA_LIBM_2(name) \
  inline float name(float a, float b) { return __builtin_##name##f(a, b); } \
  inline double name(double a, double b) { return __builtin_##name(a, b); }
HYPATIA_LIBM_1(exp) HYPATIA_LIBM_1(exp2) HYPATIA_LIBM_1(expm1) HYPATIA_LIBM_1(log) HYPATIA_LIBM_1(log2)
HYPATIA_LIBM_1(log10) HYPATIA_LIBM_1(log1p) HYPATIA_LIBM_1(sqrt) HYPATIA_LIBM_1(fabs) HYPATIA_LIBM_1(floor)
HYPATIA_LIBM_1(ceil) HYPATIA_LIBM_1(trunc) HYPATIA_LIBM_1(nearbyint) HYPATIA_LIBM_1(sin) HYPATIA_LIBM_1(cos)
HYPATIA_LIBM_1(tan) HYPATIA_LIBM_1(asin) HYPATIA_LIBM_1(acos) HYPATIA_LIBM_1(atan) HYPATIA_LIBM_1(sinh)
HYPATIA_LIBM_1(cosh) HYPATIA_LIBM_1(tanh) HYPATIA_LIBM_1(asinh) HYPATIA_LIBM_1(acosh) HYPATIA_LIBM_1(atanh)
HYPATIA_LIBM_1(erf) HYPATIA_LIBM_1(erfc) HYPATIA_LIBM_2(pow) HYPATIA_LIBM_2(atan2) HYPATIA_LIBM_2(fmod)
HYPATIA_LIBM_2(copysign)
#undef HYPATIA_LIBM_1
#undef HYPATIA_LIBM_2
template <class T> inline bool isnan(T a) { return __builtin_isnan(a); }
template <class T> inline bool isinf(T a) { return __builtin_isinf(a); }
// Named only in branches for complex numbers, which a lean module never instantiates.
template <class T> T conj(T a);
template <class T> T arg(T a);
template <class T> T abs(T a);
#else
using std::abs, std::acos, std::acosh, std::arg, std::asin, std::asinh, std::atan, std::atan2, std::atanh, std::ceil,
    std::conj, std::copysign, std::cos, std::cosh, std::erf, std::erfc, std::exp, std::exp2, std::expm1, std::fabs,
    std::floor, std::fmod, std::isinf, std::isnan, std::log, std::log10, std::log1p, std::log2, std::nearbyint,
    std::pow, std::sin, std::sinh, std::sqrt, std::tan, std::tanh, std::trunc;
#endif
}  // namespace libm

template <class T> inline constexpr bool is_signed_int = std::is_integral_v<T> && std::is_signed_v<T>;
template <class T> inline constexpr bool is_any_int = std::is_integral_v<T> && !std::is_same_v<T, bool>;
template <class T> inline constexpr bool is_complex = false;
#ifndef HYPATIA_LEAN_MODULE
template <class T> inline constexpr bool is_complex<std::complex<T>> = true;
#endif
template <class T> inline constexpr bool is_real = !is_complex<T>;
// float16 (_Float16) is a float too, though std::is_floating_point says not; it is only stored and
// converted here, never computed (scalar_typing computes it in float32).
template <class T> inline constexpr bool is_floating = std::is_floating_point_v<T> || std::is_same_v<T, _Float16>;

// C++ conversion with NumPy's results where C++ leaves it undefined (NaN or out-of-range to int); a
// complex number converts to a real type through its real part, as NumPy's astype does.
template <class To, class From> inline To convert(From value) {
  if constexpr (std::is_same_v<To, bool>) return value != From(0);
  else if constexpr (is_complex<From> && is_complex<To>) return static_cast<To>(value);
  else if constexpr (is_complex<From>) return convert<To>(value.real());
  else if constexpr (is_complex<To>) return To(static_cast<typename To::value_type>(value));
  else if constexpr (std::is_integral_v<To> && is_floating<From>) {
    if (!(value == value)) return std::numeric_limits<To>::min();
    if (value <= static_cast<From>(std::numeric_limits<To>::min())) return std::numeric_limits<To>::min();
    if (value >= static_cast<From>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(value);
  } else return static_cast<To>(value);
}

// Integer + - * wrap around like NumPy's instead of being undefined behaviour.
template <class T> inline T add(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) return a || b;
  else if constexpr (is_any_int<T>) return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) + static_cast<std::make_unsigned_t<T>>(b));
  else return a + b;
}
template <class T> inline T sub(T a, T b) {
  if constexpr (is_any_int<T>) return static_cast<T>(static_cast<std::make_unsigned_t<T>>(a) - static_cast<std::make_unsigned_t<T>>(b));
  else return a - b;
}
template <class T> inline T mul(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) return a && b;
  else if constexpr (is_any_int<T>) {
    using U = std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;
    return static_cast<T>(static_cast<U>(static_cast<std::make_unsigned_t<T>>(a)) * static_cast<U>(static_cast<std::make_unsigned_t<T>>(b)));
  } else return a * b;
}
template <class T> inline T neg(T a) { return sub(T(0), a); }
template <class T> inline auto abs(T a) {
  if constexpr (is_complex<T>) return libm::abs(a);
  else if constexpr (is_signed_int<T>) return a < 0 ? neg(a) : a;
  else if constexpr (std::is_integral_v<T>) return a;
  else return libm::fabs(a);
}
template <class T> requires is_real<T> inline T sign(T a) {
  if constexpr (std::is_floating_point_v<T>) { if (a != a) return a; }
  return static_cast<T>((T(0) < a) - (a < T(0)));
}
template <class T> inline T sqr(T a) { return mul(a, a); }
template <class T> inline T true_div(T a, T b) { return a / b; }

// Floor division; integer division by zero gives 0, as NumPy does (with a warning there). Floats use
// NumPy's divmod: the quotient is consistent with fmod, so 1.0 // 0.1 is 9 and inf // 1 is NaN.
template <class T> requires is_real<T> inline T int_div(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (b == 0) return a / b;
    T r = libm::fmod(a, b);
    T q = (a - r) / b;
    if (r != 0 && ((b < 0) != (r < 0))) q -= T(1);
    if (q == 0) return libm::copysign(T(0), a / b);
    T floored = libm::floor(q);
    return q - floored > T(0.5) ? floored + T(1) : floored;
  }
  else if constexpr (std::is_same_v<T, bool>) return b ? a : false;
  else {
    if (b == 0) return 0;
    if constexpr (is_signed_int<T>) {
      if (b == -1) return neg(a);  // avoids INT_MIN / -1 overflow
      T q = static_cast<T>(a / b);
      if ((a % b != 0) && ((a < 0) != (b < 0))) q = static_cast<T>(q - 1);
      return q;
    } else return static_cast<T>(a / b);
  }
}
// Python's modulo: the result has the divisor's sign.
template <class T> requires is_real<T> inline T mod(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    T r = libm::fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    else if (r == 0) r = libm::copysign(T(0), b);  // a zero takes the divisor's sign too, as in NumPy
    return r;
  } else if constexpr (std::is_same_v<T, bool>) return b ? false : false;
  else {
    if (b == 0) return 0;
    if constexpr (is_signed_int<T>) {
      if (b == -1) return 0;
      T r = static_cast<T>(a % b);
      if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
      return r;
    } else return static_cast<T>(a % b);
  }
}
template <class T> inline T pow(T a, T b) {
  if constexpr (std::is_floating_point_v<T> || is_complex<T>) return libm::pow(a, b);
  else if constexpr (std::is_same_v<T, bool>) return a || !b;
  else {
    if constexpr (is_signed_int<T>) {
      // NumPy refuses negative integer powers; the only exact results are for bases 1 and -1.
      if (b < 0) return a == 1 ? T(1) : a == -1 ? ((b % 2) ? T(-1) : T(1)) : T(0);
    }
    T result = 1, base = a;
    for (auto e = b; e > 0; e = static_cast<T>(e >> 1)) {
      if (e & 1) result = mul(result, base);
      base = mul(base, base);
    }
    return result;
  }
}
template <class T> requires is_real<T> inline T maximum(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) { if (a != a) return a; if (b != b) return b; }
  return a < b ? b : a;
}
template <class T> requires is_real<T> inline T minimum(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) { if (a != a) return a; if (b != b) return b; }
  return b < a ? b : a;
}
// maximum and minimum as the running value of a reduction over a row's lanes: one select, which those loops
// vectorize (the forms above, with their early returns, ran max(axis=1) at half the speed of sum). A NaN
// still wins; when both are NaN the later is kept, so a NaN's sign and payload may differ from maximum's.
template <class T> requires is_real<T> inline T running_maximum(T acc, T v) { return v != v ? v : acc < v ? v : acc; }
template <class T> requires is_real<T> inline T running_minimum(T acc, T v) { return v != v ? v : v < acc ? v : acc; }
// Theano's clip: low below low, else high above high, else x. Where low > high this differs from
// np.clip (which gives high everywhere); Theano's rule is kept (README: deliberate differences).
template <class T> requires is_real<T> inline T clip(T x, T low, T high) { return x < low ? low : (x > high ? high : x); }

template <class T> inline T exp(T a) { return libm::exp(a); }
template <class T> inline T exp2(T a) {
  if constexpr (is_complex<T>) return libm::exp(a * typename T::value_type(0.69314718055994530942));
  else return libm::exp2(a);
}
template <class T> inline T log(T a) { return libm::log(a); }
template <class T> inline T log2(T a) {
  if constexpr (is_complex<T>) return libm::log(a) / typename T::value_type(0.69314718055994530942);
  else return libm::log2(a);
}
template <class T> inline T log10(T a) { return libm::log10(a); }
template <class T> requires is_real<T> inline T log1p(T a) { return libm::log1p(a); }
template <class T> requires is_real<T> inline T expm1(T a) { return libm::expm1(a); }
template <class T> inline T sqrt(T a) { return libm::sqrt(a); }
template <class T> inline T reciprocal(T a) { return T(1) / a; }
template <class T> inline T tanh(T a) { return libm::tanh(a); }
// Stable for large |a|: never evaluates exp of a large positive number. Branch-free (both sides are
// computed and one selected) so that generated loops vectorize.
template <class T> requires is_real<T> inline T sigmoid(T a) {
  const T e = libm::exp(-libm::fabs(a));
  const T r = T(1) / (T(1) + e);
  return a >= 0 ? r : e * r;
}
template <class T> requires is_real<T> inline T softplus(T a) { return (a > 0 ? a : T(0)) + libm::log1p(libm::exp(-libm::fabs(a))); }
template <class T> inline T sin(T a) { return libm::sin(a); }
template <class T> inline T cos(T a) { return libm::cos(a); }
template <class T> inline T tan(T a) { return libm::tan(a); }
template <class T> inline T arcsin(T a) { return libm::asin(a); }
template <class T> inline T arccos(T a) { return libm::acos(a); }
template <class T> inline T arctan(T a) { return libm::atan(a); }
template <class T> inline T arcsinh(T a) { return libm::asinh(a); }
template <class T> inline T arccosh(T a) { return libm::acosh(a); }
template <class T> inline T arctanh(T a) { return libm::atanh(a); }
template <class T> requires is_real<T> inline T arctan2(T a, T b) { return libm::atan2(a, b); }
template <class T> inline T sinh(T a) { return libm::sinh(a); }
template <class T> inline T cosh(T a) { return libm::cosh(a); }
template <class T> requires is_real<T> inline T erf(T a) { return libm::erf(a); }
template <class T> requires is_real<T> inline T erfc(T a) { return libm::erfc(a); }
template <class T> requires is_real<T> inline T floor(T a) { if constexpr (std::is_floating_point_v<T>) return libm::floor(a); else return a; }
template <class T> requires is_real<T> inline T ceil(T a) { if constexpr (std::is_floating_point_v<T>) return libm::ceil(a); else return a; }
template <class T> requires is_real<T> inline T trunc(T a) { if constexpr (std::is_floating_point_v<T>) return libm::trunc(a); else return a; }
// Half to even, like NumPy.
template <class T> requires is_real<T> inline T round(T a) { if constexpr (std::is_floating_point_v<T>) return libm::nearbyint(a); else return a; }

template <class T> inline bool eq(T a, T b) { return a == b; }
template <class T> inline bool neq(T a, T b) { return a != b; }
template <class T> requires is_real<T> inline bool lt(T a, T b) { return a < b; }
template <class T> requires is_real<T> inline bool le(T a, T b) { return a <= b; }
template <class T> requires is_real<T> inline bool gt(T a, T b) { return a > b; }
template <class T> requires is_real<T> inline bool ge(T a, T b) { return a >= b; }
inline bool logical_and(bool a, bool b) { return a && b; }
inline bool logical_or(bool a, bool b) { return a || b; }
inline bool logical_xor(bool a, bool b) { return a != b; }
inline bool logical_not(bool a) { return !a; }
// On bools these are the logical operations, as in NumPy.
template <class T> inline T bitwise_and(T a, T b) { return static_cast<T>(a & b); }
template <class T> inline T bitwise_or(T a, T b) { return static_cast<T>(a | b); }
template <class T> inline T bitwise_xor(T a, T b) { return static_cast<T>(a ^ b); }
template <class T> inline T invert(T a) {
  if constexpr (std::is_same_v<T, bool>) return !a;
  else return static_cast<T>(~a);
}
template <class T> inline bool isnan(T a) {
  if constexpr (is_complex<T>) return libm::isnan(a.real()) || libm::isnan(a.imag());
  else if constexpr (std::is_floating_point_v<T>) return libm::isnan(a);
  else return false;
}
template <class T> inline bool isinf(T a) {
  if constexpr (is_complex<T>) return libm::isinf(a.real()) || libm::isinf(a.imag());
  else if constexpr (std::is_floating_point_v<T>) return libm::isinf(a);
  else return false;
}

// The condition arrives converted to the branches' type.
template <class T> inline T where(T condition, T a, T b) { return condition != T(0) ? a : b; }
template <class T> inline T second(T, T b) { return b; }
template <class T> inline T cast(T a) { return a; }  // inputs arrive converted already

// Complex parts. On real numbers they are NumPy's: real(x) = x, imag(x) = 0, conj(x) = x, angle(x) = 0 or pi.
template <class T> inline auto real(T a) {
  if constexpr (is_complex<T>) return a.real();
  else return a;
}
template <class T> inline auto imag(T a) {
  if constexpr (is_complex<T>) return a.imag();
  else return T(0);
}
template <class T> inline T conj(T a) {
  if constexpr (is_complex<T>) return libm::conj(a);
  else return a;
}
template <class T> inline auto angle(T a) {
  if constexpr (is_complex<T>) return libm::arg(a);
  else return libm::atan2(T(0), a);
}
#ifndef HYPATIA_LEAN_MODULE
// complex(re, im): inputs arrive as the real float type of the result.
template <class T> requires is_real<T> inline std::complex<T> complex(T re, T im) { return {re, im}; }
#endif

// ---- Special functions ----
// Boost.Math computes them in double inside libhypatia (src/scalar/special_functions.cpp), NaN outside
// their domains and inf at poles, as SciPy. Generated modules cannot link against the library that loads
// them, so they call the same functions through this table, which the module cache sets when it loads one.
struct SpecialFunctions {
  double (*gamma)(double);
  double (*gammaln)(double);
  double (*psi)(double);
  double (*polygamma)(double, double);
  double (*gammainc)(double, double);
  double (*gammaincc)(double, double);
  double (*gammau)(double, double);
  double (*gammal)(double, double);
  double (*erfinv)(double);
  double (*erfcinv)(double);
  double (*erfcx)(double);
  double (*iv)(double, double);
  double (*jv)(double, double);
};
}  // namespace hypatia::scalar_math
#ifdef HYPATIA_GENERATED_MODULE
extern "C" {
HYPATIA_EXPORT const hypatia::scalar_math::SpecialFunctions* hypatia_special_functions = nullptr;
}
namespace hypatia::scalar_math {
inline const SpecialFunctions& special() { return *hypatia_special_functions; }
#else
namespace hypatia::scalar_math {
const SpecialFunctions& special();
#endif

#define HYPATIA_SPECIAL_1(name, function) \
  template <class T> requires is_real<T> inline T name(T a) { return static_cast<T>(special().function(static_cast<double>(a))); }
#define HYPATIA_SPECIAL_2(name, function)                                                              \
  template <class T> requires is_real<T> inline T name(T a, T b) {                                     \
    return static_cast<T>(special().function(static_cast<double>(a), static_cast<double>(b)));          \
  }
HYPATIA_SPECIAL_1(gamma, gamma)
HYPATIA_SPECIAL_1(gammaln, gammaln)
HYPATIA_SPECIAL_1(psi, psi)
HYPATIA_SPECIAL_2(polygamma, polygamma)
HYPATIA_SPECIAL_2(gammainc, gammainc)
HYPATIA_SPECIAL_2(gammaincc, gammaincc)
HYPATIA_SPECIAL_2(gammau, gammau)
HYPATIA_SPECIAL_2(gammal, gammal)
HYPATIA_SPECIAL_1(erfinv, erfinv)
HYPATIA_SPECIAL_1(erfcinv, erfcinv)
HYPATIA_SPECIAL_1(erfcx, erfcx)
HYPATIA_SPECIAL_2(iv, iv)
HYPATIA_SPECIAL_2(jv, jv)
#undef HYPATIA_SPECIAL_1
#undef HYPATIA_SPECIAL_2
template <class T> requires is_real<T> inline T tri_gamma(T a) { return polygamma(T(1), a); }
template <class T> requires is_real<T> inline T i0(T a) { return iv(T(0), a); }
template <class T> requires is_real<T> inline T i1(T a) { return iv(T(1), a); }
template <class T> requires is_real<T> inline T j0(T a) { return jv(T(0), a); }
template <class T> requires is_real<T> inline T j1(T a) { return jv(T(1), a); }
// The chi-squared distribution's survival function at x with k degrees of freedom (Theano's chi2sf).
template <class T> requires is_real<T> inline T chi2sf(T x, T k) { return gammaincc(k / T(2), x / T(2)); }
// log(1 - exp(a)) for a <= 0, accurate at both ends (Maechler, "Accurately computing log(1 - exp(-|a|))").
template <class T> requires is_real<T> inline T log1mexp(T a) {
  return a > T(-0.6931471805599453) ? libm::log(-libm::expm1(a)) : libm::log1p(-libm::exp(a));
}

}  // namespace hypatia::scalar_math
