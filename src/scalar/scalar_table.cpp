#include "scalar/scalar_table.h"

#include "hypatia/elemwise.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "scalar/scalar_math.h"

namespace hypatia {
namespace {

constexpr double kLn2 = 0.69314718055994530942;
constexpr double kLn10 = 2.30258509299404568402;
constexpr double kTwoOverSqrtPi = 1.12837916709551257390;
constexpr double kSqrtPiOverTwo = 0.88622692545275801365;

// Theano's grad_not_implemented: zeros that raise when they are computed, so a gradient that needs them
// fails at the call, naming the function and the parameter, and one that does not is unaffected.
Variable not_implemented_gradient(const Variable& x, const char* function, const char* parameter) {
  return assert_op(zeros_like(x), {Operand(false)},
                   std::string("[grad] the gradient of ") + function + " with respect to " + parameter +
                       " is not implemented (as in Theano)");
}

// Each row's gradient body becomes a function.
#define HYPATIA_SCALAR_OP(name, arity, rule, ...)                                                 \
  std::vector<Variable> grad_##name([[maybe_unused]] const std::vector<Variable>& x,              \
                                    [[maybe_unused]] const Variable& out,                         \
                                    [[maybe_unused]] const Variable& gz) {                        \
    __VA_ARGS__                                                                                   \
  }
#include "scalar/scalar_ops.def"
#undef HYPATIA_SCALAR_OP

// Whether scalar_math::name can be called with `arity` complex arguments.
template <int arity, class Fn> constexpr bool callable_on_complex(Fn) {
  using Z = std::complex<double>;
  if constexpr (arity == 1) return std::is_invocable_v<Fn, Z>;
  else if constexpr (arity == 2) return std::is_invocable_v<Fn, Z, Z>;
  else return std::is_invocable_v<Fn, Z, Z, Z>;
}

const ScalarOpInfo kTable[] = {
#define HYPATIA_SCALAR_OP(name, arity, rule, ...)                                                        \
  {#name, arity, TypeRule::rule, &grad_##name,                                                          \
   callable_on_complex<arity>([](auto... a) -> decltype(scalar_math::name(a...)) { return scalar_math::name(a...); })},
#include "scalar/scalar_ops.def"
#undef HYPATIA_SCALAR_OP
};

std::string dtype_list(const std::vector<DType>& dtypes) {
  std::string result;
  for (size_t i = 0; i < dtypes.size(); ++i) result += (i ? ", " : "") + std::string(dtype_name(dtypes[i]));
  return result;
}

}  // namespace

const ScalarOpInfo& scalar_op_info(ScalarOpId id) { return kTable[static_cast<int>(id)]; }

namespace {

ScalarTyping scalar_typing_by_rule(const ScalarOp& op, const ScalarOpInfo& info, const std::vector<DType>& inputs) {
  auto promoted = [&](size_t first) {
    DType result = inputs.at(first);
    for (size_t i = first + 1; i < inputs.size(); ++i) result = promote_types(result, inputs[i]);
    return result;
  };
  switch (info.rule) {
    case TypeRule::Upcast: {
      DType t = promoted(0);
      return {t, t};
    }
    case TypeRule::UpcastNumeric: {
      DType t = promoted(0);
      if (is_bool(t))
        throw TypeError(std::string("[") + info.name + "] is not defined for bool inputs (" + dtype_list(inputs) +
                        "); cast them to an integer type first");
      return {t, t};
    }
    case TypeRule::Float: {
      DType t = upgrade_to_float(promoted(0));
      return {t, t};
    }
    case TypeRule::Compare: return {promoted(0), DType::Bool};
    case TypeRule::Logical: return {DType::Bool, DType::Bool};
    case TypeRule::Predicate: return {inputs.at(0), DType::Bool};
    case TypeRule::Where: {
      DType t = promoted(1);
      return {t, t};
    }
    case TypeRule::Second: return {inputs.at(1), inputs.at(1)};
    case TypeRule::Cast:
      // Theano's rule: which real number a complex one stands for is the user's choice.
      if (is_complex(inputs.at(0)) && !is_complex(op.cast_to))
        throw TypeError("[cast] from " + std::string(dtype_name(inputs[0])) + " to " + std::string(dtype_name(op.cast_to)) +
                        " is ambiguous: take real(), imag(), abs() or angle() first");
      return {op.cast_to, op.cast_to};
    case TypeRule::RealOf: {
      DType t = promoted(0);
      return {t, real_dtype(t)};
    }
    case TypeRule::RealFloat: {
      DType t = upgrade_to_float(promoted(0));
      return {t, real_dtype(t)};
    }
    case TypeRule::MakeComplex: {
      DType t = upgrade_to_float(promoted(0));
      if (is_complex(t)) throw TypeError(std::string("[") + info.name + "] takes real parts, got " + dtype_list(inputs));
      return {t, complex_dtype(t)};
    }
    case TypeRule::Bitwise: {
      DType t = promoted(0);
      if (is_inexact(t))
        throw TypeError(std::string("[") + info.name + "] is defined for integers and bools, not " + dtype_list(inputs));
      return {t, t};
    }
  }
  __builtin_unreachable();
}

}  // namespace

ScalarTyping scalar_typing(const ScalarOp& op, const std::vector<DType>& inputs) {
  const ScalarOpInfo& info = scalar_op_info(op.id);
  ScalarTyping typing = scalar_typing_by_rule(op, info, inputs);
  // float16 is stored as half and computed in float32, as Theano did on the CPU. (A cast to it converts
  // straight to half, as NumPy's astype does.)
  if (typing.compute == DType::Float16 && info.rule != TypeRule::Cast) typing.compute = DType::Float32;
  if (is_complex(typing.compute) && !info.accepts_complex)
    throw TypeError(std::string("[") + info.name + "] is not defined for complex numbers (" + dtype_list(inputs) + ")");
  return typing;
}

}  // namespace hypatia
