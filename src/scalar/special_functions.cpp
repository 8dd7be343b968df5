// The special functions of the scalar table (scalar_math.h), on Boost.Math. Errors become values, as in
// SciPy: NaN outside a function's domain, inf at its poles and where it overflows.
#include <cmath>
#include <limits>

#include <boost/math/special_functions/bessel.hpp>
#include <boost/math/special_functions/digamma.hpp>
#include <boost/math/special_functions/erf.hpp>
#include <boost/math/special_functions/gamma.hpp>
#include <boost/math/special_functions/polygamma.hpp>

#include "scalar/scalar_math.h"

namespace hypatia::scalar_math {
namespace {

namespace policies = boost::math::policies;
using Quiet = policies::policy<policies::domain_error<policies::ignore_error>, policies::pole_error<policies::ignore_error>,
                               policies::overflow_error<policies::ignore_error>, policies::underflow_error<policies::ignore_error>,
                               policies::evaluation_error<policies::ignore_error>, policies::promote_double<false>>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

double gamma_of(double x) {
  // At 0 and the negative integers Gamma has poles; SciPy gives inf at +-0 and NaN at the negative integers.
  if (x == 0) return std::copysign(kInf, x);
  if (x < 0 && x == std::floor(x)) return kNaN;
  return boost::math::tgamma(x, Quiet());
}
double gammaln_of(double x) {
  if (x <= 0 && x == std::floor(x)) return kInf;
  return boost::math::lgamma(x, Quiet());
}
double psi_of(double x) {
  if (x == 0) return std::copysign(kInf, -x);  // SciPy: psi(+0) = -inf
  if (x < 0 && x == std::floor(x)) return kNaN;
  return boost::math::digamma(x, Quiet());
}
double polygamma_of(double n, double x) {
  if (!(n >= 0) || n != std::floor(n) || n > 1e6) return kNaN;
  if (n == 0) return psi_of(x);
  if (x <= 0 && x == std::floor(x)) return kInf;
  return boost::math::polygamma(static_cast<int>(n), x, Quiet());
}
// The incomplete gamma functions take a > 0 and x >= 0 (SciPy's domain); a = 0 is the limit 1 or 0.
double gammainc_of(double a, double x) {
  if (std::isnan(a) || std::isnan(x) || a < 0 || x < 0) return kNaN;
  if (a == 0) return x > 0 ? 1.0 : kNaN;
  if (std::isinf(x)) return 1.0;
  return boost::math::gamma_p(a, x, Quiet());
}
double gammaincc_of(double a, double x) {
  if (std::isnan(a) || std::isnan(x) || a < 0 || x < 0) return kNaN;
  if (a == 0) return x > 0 ? 0.0 : kNaN;
  if (std::isinf(x)) return 0.0;
  return boost::math::gamma_q(a, x, Quiet());
}
double gammau_of(double a, double x) {
  if (std::isnan(a) || std::isnan(x) || a <= 0 || x < 0) return kNaN;
  return boost::math::tgamma(a, x, Quiet());
}
double gammal_of(double a, double x) {
  if (std::isnan(a) || std::isnan(x) || a <= 0 || x < 0) return kNaN;
  return boost::math::tgamma_lower(a, x, Quiet());
}
double erfinv_of(double x) {
  if (x == 1) return kInf;
  if (x == -1) return -kInf;
  if (!(x > -1 && x < 1)) return kNaN;
  return boost::math::erf_inv(x, Quiet());
}
double erfcinv_of(double x) {
  if (x == 0) return kInf;
  if (x == 2) return -kInf;
  if (!(x > 0 && x < 2)) return kNaN;
  return boost::math::erfc_inv(x, Quiet());
}
// exp(x^2) erfc(x), which Boost lacks: directly where exp(x^2) does not lose the result (x < 3), else
// erfc's continued fraction, exp(-x^2) / sqrt(pi) / (x + 1/2 / (x + 1 / (x + 3/2 / (x + ...)))), whose
// exp(-x^2) cancels (evaluated backwards; 60 terms reach double precision from x = 3 on).
double erfcx_of(double x) {
  if (std::isnan(x)) return x;
  if (x < 3) {
    if (x < -26.7) return kInf;
    return std::exp(x * x) * std::erfc(x);
  }
  if (std::isinf(x)) return 0.0;
  double tail = x;
  for (int k = 60; k >= 1; --k) tail = x + (k / 2.0) / tail;
  return 1.0 / (tail * 1.7724538509055160273);
}
// Bessel functions of the first kind, modified and not, of real order v; an integer order takes negative x.
double iv_of(double v, double x) {
  if (std::isnan(v) || std::isnan(x)) return kNaN;
  if (x < 0 && v != std::floor(v)) return kNaN;
  return boost::math::cyl_bessel_i(v, x, Quiet());
}
double jv_of(double v, double x) {
  if (std::isnan(v) || std::isnan(x)) return kNaN;
  if (x < 0 && v != std::floor(v)) return kNaN;
  if (std::isinf(x)) return 0.0;
  return boost::math::cyl_bessel_j(v, x, Quiet());
}

const SpecialFunctions kSpecialFunctions{gamma_of,     gammaln_of, psi_of,   polygamma_of, gammainc_of,
                                         gammaincc_of, gammau_of,  gammal_of, erfinv_of,   erfcinv_of,
                                         erfcx_of,     iv_of,      jv_of};

}  // namespace

const SpecialFunctions& special() { return kSpecialFunctions; }

}  // namespace hypatia::scalar_math
