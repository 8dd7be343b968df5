// Lookup into the scalar op table (scalar_ops.def): ids, names, arities, typing and gradients.
#pragma once
#include <cstdint>
#include <string_view>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

enum class ScalarOpId : uint8_t {
#define HYPATIA_SCALAR_OP(name, arity, rule, ...) name,
#include "scalar/scalar_ops.def"
#undef HYPATIA_SCALAR_OP
};

enum class TypeRule : uint8_t {
  Upcast, UpcastNumeric, Float, Compare, Logical, Predicate, Where, Second, Cast, Bitwise, RealOf, RealFloat, MakeComplex
};

using ScalarGradFn = std::vector<Variable> (*)(const std::vector<Variable>& x, const Variable& out, const Variable& gz);

struct ScalarOpInfo {
  const char* name;
  int arity;
  TypeRule rule;
  ScalarGradFn grad;
  bool accepts_complex;  // whether scalar_math defines it on complex numbers (derived, not listed)
};

// A scalar op: a table row, plus the target dtype for casts.
struct ScalarOp {
  ScalarOpId id;
  DType cast_to = DType::Float64;  // used by the Cast rule only
  bool operator==(const ScalarOp&) const = default;
};

struct ScalarTyping {
  DType compute;  // inputs are converted to this before the reference function is applied
  DType out;      // float16 where compute is float32 and the result is stored as half
};

const ScalarOpInfo& scalar_op_info(ScalarOpId id);
// Output and compute dtypes for the given input dtypes; throws TypeError naming the op and dtypes.
ScalarTyping scalar_typing(const ScalarOp& op, const std::vector<DType>& inputs);

}  // namespace hypatia
