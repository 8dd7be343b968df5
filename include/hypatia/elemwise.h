// Elementwise ops with NumPy broadcasting (only dimensions statically known to be 1 broadcast,
// as in Theano). Each is one row of the scalar op table (src/scalar/scalar_ops.def).
#pragma once
#include "hypatia/graph.h"

namespace hypatia {

// The scalar op list: enumerator, arity. The full rows live in src/scalar/scalar_ops.def.
#define HYPATIA_FOR_EACH_ELEMWISE_FUNCTION(X)                                                    \
  X(neg, 1) X(abs, 1) X(sign, 1) X(exp, 1) X(exp2, 1) X(log, 1) X(log2, 1) X(log10, 1)         \
  X(log1p, 1) X(expm1, 1) X(sqrt, 1) X(sqr, 1) X(reciprocal, 1) X(tanh, 1) X(sigmoid, 1)       \
  X(softplus, 1) X(sin, 1) X(cos, 1) X(tan, 1) X(arcsin, 1) X(arccos, 1) X(arctan, 1)          \
  X(sinh, 1) X(cosh, 1) X(arcsinh, 1) X(arccosh, 1) X(arctanh, 1) X(erf, 1) X(erfc, 1)          \
  X(floor, 1) X(ceil, 1) X(trunc, 1) X(round, 1)                                                \
  X(logical_not, 1) X(isnan, 1) X(isinf, 1)                                                   \
  X(add, 2) X(sub, 2) X(mul, 2) X(true_div, 2) X(int_div, 2) X(mod, 2) X(pow, 2)                \
  X(arctan2, 2) X(maximum, 2) X(minimum, 2) X(eq, 2) X(neq, 2) X(lt, 2) X(le, 2) X(gt, 2)      \
  X(ge, 2) X(logical_and, 2) X(logical_or, 2) X(logical_xor, 2) X(bitwise_and, 2) X(bitwise_or, 2)      \
  X(bitwise_xor, 2) X(invert, 1) X(real, 1) X(imag, 1) X(conj, 1) X(angle, 1) X(complex, 2)           \
  X(gamma, 1) X(gammaln, 1) X(psi, 1) X(tri_gamma, 1) X(polygamma, 2) X(gammainc, 2) X(gammaincc, 2)     \
  X(gammau, 2) X(gammal, 2) X(chi2sf, 2) X(erfinv, 1) X(erfcinv, 1) X(erfcx, 1) X(i0, 1) X(i1, 1)       \
  X(iv, 2) X(j0, 1) X(j1, 1) X(jv, 2) X(log1mexp, 1)

#define HYPATIA_DECLARE_UNARY(name, arity_) HYPATIA_DECLARE_##arity_(name)
#define HYPATIA_DECLARE_1(name) Variable name(const Operand& x);
#define HYPATIA_DECLARE_2(name) Variable name(const Operand& x, const Operand& y);
HYPATIA_FOR_EACH_ELEMWISE_FUNCTION(HYPATIA_DECLARE_UNARY)
#undef HYPATIA_DECLARE_UNARY
#undef HYPATIA_DECLARE_1
#undef HYPATIA_DECLARE_2

Variable clip(const Operand& x, const Operand& low, const Operand& high);
// Whether `op` works elementwise: one scalar op of the table broadcast over tensors, or a fused loop of them.
bool is_elementwise(const Op& op);
// where(cond, a, b): a where cond is true, else b. `switch_` is Theano's name for it.
Variable where(const Operand& condition, const Operand& if_true, const Operand& if_false);
inline Variable switch_(const Operand& c, const Operand& a, const Operand& b) { return where(c, a, b); }
Variable cast(const Operand& x, DType dtype);
// Takes the shape of `like` and the values of `value` (Theano's `second`); used by gradients.
Variable second(const Operand& like, const Operand& value);
Variable true_divide(const Operand& x, const Operand& y);  // alias of true_div
// |x - y| <= atol + rtol * |y| elementwise (equal infinities are close, NaN never), as np.isclose.
Variable isclose(const Operand& x, const Operand& y, double rtol = 1e-5, double atol = 1e-8);
Variable allclose(const Operand& x, const Operand& y, double rtol = 1e-5, double atol = 1e-8);

Variable operator+(const Operand& x, const Operand& y);
Variable operator-(const Operand& x, const Operand& y);
Variable operator*(const Operand& x, const Operand& y);
Variable operator/(const Operand& x, const Operand& y);  // true division
Variable operator%(const Operand& x, const Operand& y);
Variable operator-(const Operand& x);
Variable operator<(const Operand& x, const Operand& y);
Variable operator<=(const Operand& x, const Operand& y);
Variable operator>(const Operand& x, const Operand& y);
Variable operator>=(const Operand& x, const Operand& y);
// Bitwise on integers and logical on bools, as NumPy's & | ^ ~.
Variable operator&(const Operand& x, const Operand& y);
Variable operator|(const Operand& x, const Operand& y);
Variable operator^(const Operand& x, const Operand& y);
Variable operator~(const Operand& x);

}  // namespace hypatia
