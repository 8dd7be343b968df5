// Reference loops for Elemwise: one typed loop per (scalar op, compute dtype), instantiated from the
// scalar op table. Inputs arrive converted to the compute dtype and broadcast (zero strides).
#include <array>

#include "ops/elemwise.h"
#include "scalar/scalar_math.h"

namespace hypatia {
namespace {

template <class Tout, class T, size_t N, class Fn>
void elemwise_loop(const std::vector<Array>& inputs, Array& out, Fn fn) {
  Tout* out_data = out.data<Tout>();
  std::array<const T*, N> data;
  for (size_t i = 0; i < N; ++i) data[i] = inputs[i].data<T>();
  const int64_t size = out.size();
  if (size == 0) return;
  bool all_contiguous = true;
  for (size_t i = 0; i < N; ++i) all_contiguous = all_contiguous && inputs[i].is_contiguous();
  if (all_contiguous) {
    for (int64_t j = 0; j < size; ++j)
      out_data[j] = [&]<size_t... I>(std::index_sequence<I...>) { return fn(data[I][j]...); }(std::make_index_sequence<N>());
    return;
  }
  // Strided: walk the outer axes with an index, run the last axis as a plain loop.
  const int ndim = out.ndim();
  const int64_t inner = out.shape()[ndim - 1];
  std::array<int64_t, N> inner_stride;
  for (size_t i = 0; i < N; ++i) inner_stride[i] = inputs[i].strides()[ndim - 1];
  Shape outer_shape(out.shape().begin(), out.shape().end() - 1);
  IndexIterator it(outer_shape);
  int64_t out_position = 0;
  do {
    std::array<const T*, N> base;
    for (size_t i = 0; i < N; ++i) {
      int64_t offset = 0;
      for (int axis = 0; axis < ndim - 1; ++axis) offset += it.index()[axis] * inputs[i].strides()[axis];
      base[i] = data[i] + offset;
    }
    for (int64_t j = 0; j < inner; ++j)
      out_data[out_position + j] = [&]<size_t... I>(std::index_sequence<I...>) {
        return fn(base[I][j * inner_stride[I]]...);
      }(std::make_index_sequence<N>());
    out_position += inner;
  } while (it.next());
}

// The C++ type the loop stores, from the rule and the compute type T.
template <TypeRule rule, class T> struct loop_output { using type = T; };
template <class T> struct loop_output<TypeRule::Compare, T> { using type = bool; };
template <class T> struct loop_output<TypeRule::Predicate, T> { using type = bool; };
template <class T> struct loop_output<TypeRule::Logical, T> { using type = bool; };
template <class T> struct loop_output<TypeRule::RealOf, T> { using type = decltype(scalar_math::real(T())); };
template <class T> struct loop_output<TypeRule::RealFloat, T> { using type = decltype(scalar_math::real(T())); };
template <class T> struct loop_output<TypeRule::MakeComplex, T> { using type = std::complex<T>; };

template <TypeRule rule, class T>
constexpr bool compute_type_allowed = std::is_same_v<T, _Float16> ? rule == TypeRule::Cast  // else computed in float32
                                      : rule == TypeRule::Float || rule == TypeRule::RealFloat
                                          ? std::is_floating_point_v<T> || scalar_math::is_complex<T>
                                      : rule == TypeRule::MakeComplex ? std::is_floating_point_v<T>
                                      : rule == TypeRule::Logical     ? std::is_same_v<T, bool>
                                      : rule == TypeRule::Bitwise     ? std::is_integral_v<T>
                                                                      : true;

template <TypeRule rule, size_t N, class Fn>
void run_rule(const ScalarTyping& typing, const std::vector<Array>& inputs, Array& out, Fn fn) {
  dispatch_dtype(typing.compute, [&]<class T>() {
    // Rows not defined on complex numbers are refused by scalar_typing before they get here.
    constexpr bool callable = [] {
      if constexpr (!compute_type_allowed<rule, T>) return false;  // not even asked: float16 has no std:: math
      else if constexpr (N == 1) return std::is_invocable_v<Fn, T>;
      else if constexpr (N == 2) return std::is_invocable_v<Fn, T, T>;
      else return std::is_invocable_v<Fn, T, T, T>;
    }();
    if constexpr (callable) {
      using Tout = typename loop_output<rule, T>::type;
      elemwise_loop<Tout, T, N>(inputs, out, [&](auto... a) { return static_cast<Tout>(fn(a...)); });
    } else {
      throw TypeError("[elemwise] internal: compute dtype " + std::string(dtype_name(typing.compute)) + " not allowed");
    }
  });
}

}  // namespace

void run_scalar_kernel(const ScalarOp& op, const ScalarTyping& typing, const std::vector<Array>& inputs, Array& out) {
  if (out.dtype() == DType::Float16 && typing.compute != DType::Float16) {
    // Computed in float32, stored as half (scalar_typing).
    Array wide = Array::empty(out.shape(), DType::Float32);
    run_scalar_kernel(op, {typing.compute, DType::Float32}, inputs, wide);
    out.copy_from(wide);
    return;
  }
  switch (op.id) {
#define HYPATIA_SCALAR_OP(name, arity, rule, ...)                                                \
  case ScalarOpId::name:                                                                         \
    return run_rule<TypeRule::rule, arity>(typing, inputs, out,                                  \
                                           [](auto... a) -> decltype(scalar_math::name(a...)) { return scalar_math::name(a...); });
#include "scalar/scalar_ops.def"
#undef HYPATIA_SCALAR_OP
  }
}

}  // namespace hypatia
