// RandomVariable: standard uniform and normal, binomial, Poisson, standard gamma and beta draws from a
// Philox state.
//
// Inputs: the state (int64 [key, counter]), one int scalar per output dimension, then the
// distribution's parameters (binomial: n and p; poisson: lam; gamma: the shape; beta: a and b), which
// broadcast to the sample. Outputs: the advanced state and the sample. The builders shift and scale
// standard draws with elementwise ops, so gradients reach the parameters.
#include <cmath>

#include "hypatia/elemwise.h"
#include "hypatia/random.h"
#include "hypatia/random_stream.h"
#include "ops/op_support.h"
#include "ops/random_op.h"
#include "ir/serialize.h"

namespace hypatia {
namespace {

enum class Distribution { Uniform, Normal, Binomial, Poisson, Gamma, Beta };

const char* distribution_name(Distribution d) {
  switch (d) {
    case Distribution::Uniform: return "uniform";
    case Distribution::Normal: return "normal";
    case Distribution::Binomial: return "binomial";
    case Distribution::Poisson: return "poisson";
    case Distribution::Gamma: return "gamma";
    case Distribution::Beta: return "beta";
  }
  return "?";
}

class RandomVariable : public Op {
 public:
  std::string save() const override {
    OpWriter out("random");
    out.integer(static_cast<int64_t>(distribution_));
    out.dtype(dtype_);
    out.integer(ndim_);
    return out.bytes();
  }
  RandomVariable(Distribution distribution, DType dtype, int ndim) : distribution_(distribution), dtype_(dtype), ndim_(ndim) {}
  std::string name() const override { return distribution_name(distribution_); }
  Distribution distribution() const { return distribution_; }
  DType dtype() const { return dtype_; }
  int ndim() const { return ndim_; }
  std::string props() const override { return std::string(dtype_name(dtype_)); }
  // The state and the sizes (a draw on a device writes only its sample there).
  bool reads_on_host(int) const override { return true; }

  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable& state = inputs.at(0);
    if (state.dtype() != DType::Int64 || state.ndim() != 1)
      throw TypeError("[" + name() + "] the state must be an int64 vector, got " + state.type().str());
    std::vector<int64_t> shape;
    for (int axis = 0; axis < ndim_; ++axis) {
      const Variable& dim = inputs.at(1 + axis);
      if (dim.ndim() != 0 || !is_integer(dim.dtype()))
        throw TypeError("[" + name() + "] dimensions must be integer scalars, got " + dim.type().str());
      auto value = constant_int(dim);
      if (value && *value < 0) throw ValueError("[" + name() + "] negative dimension " + std::to_string(*value));
      shape.push_back(value.value_or(TensorType::kUnknown));
    }
    for (size_t k = 1 + ndim_; k < inputs.size(); ++k)
      if (inputs[k].ndim() > ndim_)
        throw ShapeError("[" + name() + "] parameter " + inputs[k].type().str() + " has more dimensions than the sample");
    return {state.type(), TensorType(dtype_, shape)};
  }

  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array state = inputs[0];
    if (state.size() != 2) throw ValueError("[" + name() + "] the state must hold [key, counter], got " + shape_str(state.shape()));
    Shape shape;
    for (int axis = 0; axis < ndim_; ++axis) {
      int64_t d = static_cast<int64_t>(inputs[1 + axis].item());
      if (d < 0) throw ValueError("[" + name() + "] negative dimension " + std::to_string(d));
      shape.push_back(d);
    }
    random::Generator generator(static_cast<uint64_t>(state.at<int64_t>({0})), static_cast<uint64_t>(state.at<int64_t>({1})));
    Array sample;
    if (distribution_ == Distribution::Uniform) sample = generator.uniform(shape, 0.0, 1.0, dtype_);
    else if (distribution_ == Distribution::Normal) sample = generator.normal(shape, 0.0, 1.0, dtype_);
    else sample = draw_parameterized(node, generator, shape, inputs.subspan(1 + ndim_));
    Array next = Array::from_vector<int64_t>({state.at<int64_t>({0}), static_cast<int64_t>(generator.counter())});
    outputs[0] = std::move(next);
    outputs[1] = std::move(sample);
  }

  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>&) const override {
    return std::vector<Variable>(node.inputs().size());
  }

  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const override {
    std::vector<Variable> dims;
    for (int axis = 0; axis < ndim_; ++axis) dims.push_back(cast(node.input(1 + axis), DType::Int64));
    return {shapes[0], dims};
  }

 private:
  // One draw per element from the parameters broadcast to the sample, each checked.
  Array draw_parameterized(const Apply& node, random::Generator& generator, const Shape& shape,
                           std::span<const Array> parameters) const {
    std::vector<Array> values;
    for (size_t k = 0; k < parameters.size(); ++k) {
      // Only statically size-1 axes stretch, as everywhere else.
      const Array& a = parameters[k];
      const TensorType& type = node.input(1 + ndim_ + k).type();
      const int lead = static_cast<int>(shape.size()) - a.ndim();
      for (int axis = 0; axis < a.ndim(); ++axis)
        if (a.shape()[axis] != shape[lead + axis] && type.shape[axis] != 1)
          throw ShapeError("[" + name() + "] parameter of shape " + shape_str(a.shape()) + " does not match the sample shape " +
                           shape_str(shape));
      values.push_back(a.astype(DType::Float64).broadcast_to(shape).copy());
    }
    const bool counts = distribution_ == Distribution::Binomial || distribution_ == Distribution::Poisson;
    Array out = Array::empty(shape, counts ? DType::Int64 : DType::Float64);
    auto parameter = [&](size_t k, int64_t i) { return values[k].data<double>()[i]; };
    auto refuse = [&](const std::string& what, double value) {
      throw ValueError("[" + name() + "] " + what + ", got " + std::to_string(value));
    };
    for (int64_t i = 0; i < out.size(); ++i) {
      switch (distribution_) {
        case Distribution::Binomial: {
          const double n = parameter(0, i), p = parameter(1, i);
          if (!(p >= 0 && p <= 1)) refuse("p must be in [0, 1]", p);
          if (!(n >= 0) || n != std::floor(n)) refuse("n must be a non-negative integer", n);
          out.data<int64_t>()[i] = generator.draw_binomial(static_cast<int64_t>(n), p);
          break;
        }
        case Distribution::Poisson: {
          const double lam = parameter(0, i);
          if (!(lam >= 0 && lam < 1e15)) refuse("lam must be finite and >= 0", lam);
          out.data<int64_t>()[i] = generator.draw_poisson(lam);
          break;
        }
        case Distribution::Gamma: {
          const double k = parameter(0, i);
          if (!(k > 0) || std::isinf(k)) refuse("the shape must be finite and > 0", k);
          out.data<double>()[i] = generator.draw_standard_gamma(k);
          break;
        }
        case Distribution::Beta: {
          const double a = parameter(0, i), b = parameter(1, i);
          if (!(a > 0) || std::isinf(a)) refuse("a must be finite and > 0", a);
          if (!(b > 0) || std::isinf(b)) refuse("b must be finite and > 0", b);
          const double x = generator.draw_standard_gamma(a), y = generator.draw_standard_gamma(b);
          out.data<double>()[i] = x / (x + y);
          break;
        }
        default: break;
      }
    }
    return out.astype(dtype_);
  }

  Distribution distribution_;
  DType dtype_;
  int ndim_;
};

// splitmix64: decorrelates the keys of consecutive draws of one seed.
uint64_t mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

std::optional<StandardDraw> standard_draw_of(const Op& op) {
  const auto* draw = dynamic_cast<const RandomVariable*>(&op);
  if (!draw || (draw->distribution() != Distribution::Uniform && draw->distribution() != Distribution::Normal)) return std::nullopt;
  return StandardDraw{draw->distribution() == Distribution::Normal, draw->dtype(), draw->ndim()};
}

Array initial_random_state(uint64_t seed, size_t index) {
  return Array::from_vector<int64_t>({static_cast<int64_t>(mix(seed ^ mix(index))), 0});
}

SharedVariable RandomStream::new_state(std::source_location where) {
  SharedVariable state = shared(initial_random_state(seed_, states_.size()), "random_state", false, where);
  states_.push_back(state);
  return state;
}

namespace {
Variable draw(Distribution distribution, SharedVariable state, const std::vector<Operand>& shape,
              std::vector<Variable> parameters, DType dtype, std::source_location where) {
  std::vector<Variable> inputs = {state};
  for (const Operand& d : shape) inputs.push_back(d.as_variable());
  inputs.insert(inputs.end(), parameters.begin(), parameters.end());
  auto outputs = apply_op(std::make_shared<RandomVariable>(distribution, dtype, static_cast<int>(shape.size())), inputs, where);
  state.set_default_update(outputs[0]);
  return outputs[1];
}
std::source_location first_location(const std::vector<Operand>& shape, const Operand& fallback) {
  return shape.empty() ? fallback.where() : shape[0].where();
}
}  // namespace

Variable RandomStream::uniform(const std::vector<Operand>& shape, const Operand& low, const Operand& high, DType dtype) {
  std::source_location where = first_location(shape, low);
  if (!is_float(dtype)) rethrow_with_location(TypeError("[uniform] draws floats, not " + std::string(dtype_name(dtype))), where);
  Variable u = draw(Distribution::Uniform, new_state(where), shape, {}, dtype, where);
  Variable lo = low.as_weak_variable(dtype), hi = high.as_weak_variable(dtype);
  return cast(Operand(lo, where) + (Operand(hi, where) - Operand(lo, where)) * Operand(u, where), dtype);
}

Variable RandomStream::normal(const std::vector<Operand>& shape, const Operand& mean, const Operand& stddev, DType dtype) {
  std::source_location where = first_location(shape, mean);
  if (!is_float(dtype)) rethrow_with_location(TypeError("[normal] draws floats, not " + std::string(dtype_name(dtype))), where);
  Variable z = draw(Distribution::Normal, new_state(where), shape, {}, dtype, where);
  Variable m = mean.as_weak_variable(dtype), s = stddev.as_weak_variable(dtype);
  return cast(Operand(m, where) + Operand(s, where) * Operand(z, where), dtype);
}

Variable RandomStream::binomial(const std::vector<Operand>& shape, const Operand& n, const Operand& p, DType dtype) {
  std::source_location where = first_location(shape, n);
  return draw(Distribution::Binomial, new_state(where), shape, {n.as_variable(DType::Int64), p.as_variable(DType::Float64)},
              dtype, where);
}

Variable RandomStream::poisson(const std::vector<Operand>& shape, const Operand& lam, DType dtype) {
  std::source_location where = first_location(shape, lam);
  if (!is_integer(dtype)) rethrow_with_location(TypeError("[poisson] draws integers, not " + std::string(dtype_name(dtype))), where);
  return draw(Distribution::Poisson, new_state(where), shape, {lam.as_variable(DType::Float64)}, dtype, where);
}

Variable RandomStream::gamma(const std::vector<Operand>& shape, const Operand& k, const Operand& scale, DType dtype) {
  std::source_location where = first_location(shape, k);
  if (!is_float(dtype)) rethrow_with_location(TypeError("[gamma] draws floats, not " + std::string(dtype_name(dtype))), where);
  Variable g = draw(Distribution::Gamma, new_state(where), shape, {k.as_variable(DType::Float64)}, dtype, where);
  return cast(Operand(scale.as_weak_variable(dtype), where) * Operand(g, where), dtype);
}

Variable RandomStream::beta(const std::vector<Operand>& shape, const Operand& a, const Operand& b, DType dtype) {
  std::source_location where = first_location(shape, a);
  if (!is_float(dtype)) rethrow_with_location(TypeError("[beta] draws floats, not " + std::string(dtype_name(dtype))), where);
  return draw(Distribution::Beta, new_state(where), shape, {a.as_variable(DType::Float64), b.as_variable(DType::Float64)},
              dtype, where);
}

void RandomStream::seed(uint64_t seed) {
  seed_ = seed;
  for (size_t i = 0; i < states_.size(); ++i) states_[i].set_value(initial_random_state(seed, i));
}

void register_random_loaders(OpLoaders& loaders) {
  loaders["random"] = [](OpReader& in) -> OpPtr {
    const auto distribution = static_cast<Distribution>(in.integer_in(0, static_cast<int64_t>(Distribution::Beta), "a distribution"));
    const DType dtype = in.dtype();
    return std::make_shared<RandomVariable>(distribution, dtype, static_cast<int>(in.integer_in(0, 64, "a number of dimensions")));
  };
}
}  // namespace hypatia
