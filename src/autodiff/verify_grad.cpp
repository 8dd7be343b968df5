// verify_grad: symbolic gradients against central finite differences in float64.
#include <cmath>
#include <sstream>

#include "hypatia/elemwise.h"
#include "hypatia/function.h"
#include "hypatia/grad.h"
#include "hypatia/random.h"
#include "hypatia/reduce.h"

namespace hypatia {

void verify_grad(const std::function<Variable(const std::vector<Variable>&)>& fn, const std::vector<Array>& point,
                 const VerifyGradOptions& options) {
  std::vector<Variable> inputs;
  std::vector<Array> values;
  for (size_t i = 0; i < point.size(); ++i) {
    if (!is_float(point[i].dtype()))
      throw TypeError("[verify_grad] point " + std::to_string(i) + " has dtype " + std::string(dtype_name(point[i].dtype())) +
                      "; gradients are checked at float points");
    inputs.push_back(tensor(DType::Float64, point[i].shape(), "input" + std::to_string(i)));
    values.push_back(point[i].astype(DType::Float64));
  }
  Variable out = fn(inputs);
  if (!out) throw ValueError("[verify_grad] fn returned a null Variable");
  if (out.dtype() != DType::Float64) out = cast(out, DType::Float64);
  // A random projection turns any output into a scalar cost that mixes every element.
  const FunctionOptions lenient{.on_unused_input = UnusedInput::Ignore};  // fn may ignore some inputs
  Array out_value = function(inputs, {out}, {}, {}, lenient)(values)[0];
  random::Generator generator(options.seed);
  Array projection = generator.uniform(out_value.shape(), 0.5, 1.5);
  Variable cost = out.ndim() == 0 ? out : sum(out * constant(projection));
  GradOptions grad_options;
  grad_options.disconnected_inputs = Disconnected::Ignore;
  std::vector<Variable> grads = grad(cost, inputs, grad_options);
  std::vector<Variable> outputs = {cost};
  outputs.insert(outputs.end(), grads.begin(), grads.end());
  Function f = function(inputs, outputs, {}, {}, lenient);
  std::vector<Array> analytic = f(values);
  Function cost_fn = function(inputs, {cost}, {}, {}, lenient);

  for (size_t i = 0; i < values.size(); ++i) {
    Array& x = values[i];
    const Array& g = analytic[i + 1];
    for (int64_t k = 0; k < x.size(); ++k) {
      const double original = x.get_as_double(k);
      x.set_from_double(k, original + options.eps);
      double plus = cost_fn(values)[0].item();
      x.set_from_double(k, original - options.eps);
      double minus = cost_fn(values)[0].item();
      x.set_from_double(k, original);
      double numeric = (plus - minus) / (2 * options.eps);
      double symbolic = g.get_as_double(k);
      if (!(std::fabs(numeric - symbolic) <= options.atol + options.rtol * std::fabs(numeric))) {
        std::ostringstream message;
        message << "[verify_grad] gradient mismatch for input " << i << " " << shape_str(x.shape()) << " at flat index "
                << k << ": symbolic " << symbolic << ", finite differences " << numeric
                << " (eps " << options.eps << ", rtol " << options.rtol << ", atol " << options.atol << ")";
        throw GradientError(message.str());
      }
    }
  }
}

}  // namespace hypatia
