// Specialize: general ops with particular arguments become cheaper ops that compute the same values.
#include "hypatia/elemwise.h"
#include "ops/elemwise.h"
#include "rewrite/passes/passes.h"
#include "rewrite/patterns.h"
#include "rewrite/rewriter.h"

namespace hypatia {
namespace {

// x ** c for c in {-1, 2, 3, 4}: reciprocal and square (the same values as pow), and products for cubes
// and fourth powers (exact for integers, within rounding for floats, as PyTensor does). x ** 0.5 stays:
// sqrt differs from pow at -0.0 and -inf.
class PowByConstant : public LocalRewriter {
 public:
  std::string name() const override { return "pow_by_constant"; }
  std::vector<std::string> tracks() const override { return {"pow"}; }
  std::vector<Variable> transform(const FunctionGraph&, const Apply& node) const override {
    const Variable &x = node.input(0), &exponent = node.input(1);
    double c = 0;
    for (double candidate : {2.0, 3.0, 4.0, -1.0})
      if (is_scalar_constant(exponent, candidate)) c = candidate;
    if (c == 0) return {};
    Variable result;
    if (c == 2) result = sqr(x);
    else if (c == 3) result = mul(sqr(x), x);
    else if (c == 4) result = sqr(sqr(x));
    else if (c == -1 && is_float(x.dtype())) result = reciprocal(x);
    if (!result || result.type() != node.output(0).type()) return {};
    return {result};
  }
};

}  // namespace

int specialize(FunctionGraph& graph) {
  return rewrite_to_equilibrium(graph, rewrite_set<PowByConstant>());
}

}  // namespace hypatia
