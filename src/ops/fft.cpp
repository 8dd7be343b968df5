// The Fft op on FFTW: complex-to-complex, real-to-complex and complex-to-real transforms over an array's
// last `rank` axes (the builders move other axes there), with FFTW's plans made once per shape and kept.
//
// Gradients, for Theano's convention (dC/dRe z + i dC/dIm z for complex z): a complex-to-complex transform's
// is the opposite-direction transform with the same scaling (the DFT's adjoint is its conjugate); a real-to-
// complex one's is the complex-to-real inverse of the gradient with the doubly-counted frequencies halved;
// a complex-to-real one's is the real-to-complex forward transform with those frequencies doubled.
#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <map>
#include <mutex>
#include <tuple>

#include "hypatia/config.h"
#include "hypatia/elemwise.h"
#include "hypatia/fft.h"
#include "hypatia/shape_ops.h"
#include "hypatia/subtensor.h"
#include "ir/serialize.h"
#include "ops/fft.h"
#include "ops/op_support.h"

namespace hypatia {
namespace {

// FFTW's planner is not thread-safe (executing plans is): planning happens under this lock. Plans are kept
// for the life of the process, one per (precision, kind, direction, shape, batch, alignment, threads).
std::mutex& planner_mutex() {
  static std::mutex mutex;
  return mutex;
}

using PlanKey = std::tuple<bool, int, bool, std::vector<int>, int, bool, int>;
// Plans kept at most (a program transforming ever new shapes plans each call beyond this instead).
constexpr size_t kMaxPlans = 512;

// The elements of one transform's real side (n), and of its half spectrum (the last axis n / 2 + 1): the
// distances between consecutive transforms of a batch.
int points(int rank, const int* n) {
  int total = 1;
  for (int d = 0; d < rank; ++d) total *= n[d];
  return total;
}
int half_points(int rank, const int* n) { return points(rank - 1, n) * (n[rank - 1] / 2 + 1); }

template <class Real> struct Fftw;
template <> struct Fftw<double> {
  using Complex = fftw_complex;
  using Plan = fftw_plan;
  static void init_threads() { fftw_init_threads(); }
  static void threads(int n) { fftw_plan_with_nthreads(n); }
  static Plan c2c(int rank, const int* n, int howmany, Complex* in, Complex* out, int sign, unsigned flags) {
    return fftw_plan_many_dft(rank, n, howmany, in, nullptr, 1, points(rank, n), out, nullptr, 1, points(rank, n), sign, flags);
  }
  static Plan r2c(int rank, const int* n, int howmany, double* in, Complex* out, unsigned flags) {
    return fftw_plan_many_dft_r2c(rank, n, howmany, in, nullptr, 1, points(rank, n), out, nullptr, 1, half_points(rank, n), flags);
  }
  static Plan c2r(int rank, const int* n, int howmany, Complex* in, double* out, unsigned flags) {
    return fftw_plan_many_dft_c2r(rank, n, howmany, in, nullptr, 1, half_points(rank, n), out, nullptr, 1, points(rank, n), flags);
  }
  static void run_c2c(Plan p, Complex* in, Complex* out) { fftw_execute_dft(p, in, out); }
  static void destroy(Plan p) { fftw_destroy_plan(p); }
  static void run_r2c(Plan p, double* in, Complex* out) { fftw_execute_dft_r2c(p, in, out); }
  static void run_c2r(Plan p, Complex* in, double* out) { fftw_execute_dft_c2r(p, in, out); }
  static int alignment(const void* p) { return fftw_alignment_of(static_cast<double*>(const_cast<void*>(p))); }
};
template <> struct Fftw<float> {
  using Complex = fftwf_complex;
  using Plan = fftwf_plan;
  static void init_threads() { fftwf_init_threads(); }
  static void threads(int n) { fftwf_plan_with_nthreads(n); }
  static Plan c2c(int rank, const int* n, int howmany, Complex* in, Complex* out, int sign, unsigned flags) {
    return fftwf_plan_many_dft(rank, n, howmany, in, nullptr, 1, points(rank, n), out, nullptr, 1, points(rank, n), sign, flags);
  }
  static Plan r2c(int rank, const int* n, int howmany, float* in, Complex* out, unsigned flags) {
    return fftwf_plan_many_dft_r2c(rank, n, howmany, in, nullptr, 1, points(rank, n), out, nullptr, 1, half_points(rank, n), flags);
  }
  static Plan c2r(int rank, const int* n, int howmany, Complex* in, float* out, unsigned flags) {
    return fftwf_plan_many_dft_c2r(rank, n, howmany, in, nullptr, 1, half_points(rank, n), out, nullptr, 1, points(rank, n), flags);
  }
  static void run_c2c(Plan p, Complex* in, Complex* out) { fftwf_execute_dft(p, in, out); }
  static void destroy(Plan p) { fftwf_destroy_plan(p); }
  static void run_r2c(Plan p, float* in, Complex* out) { fftwf_execute_dft_r2c(p, in, out); }
  static void run_c2r(Plan p, Complex* in, float* out) { fftwf_execute_dft_c2r(p, in, out); }
  static int alignment(const void* p) { return fftwf_alignment_of(static_cast<float*>(const_cast<void*>(p))); }
};

// Runs one transform of `howmany` contiguous arrays of logical shape `n` from `in` to `out` (which may not
// alias; a complex-to-real input is overwritten, as FFTW does).
template <class Real>
void transform(FftKind kind, bool inverse, const std::vector<int>& n, int howmany, void* in, void* out) {
  using F = Fftw<Real>;
  int64_t points = 1;
  for (int d : n) points *= d;
  // Threads pay for themselves on large transforms only.
  const int threads = points * howmany >= (1 << 15) ? cpu_threads() : 1;
  const bool aligned = F::alignment(in) == 0 && F::alignment(out) == 0;
  const PlanKey key{std::is_same_v<Real, float>, static_cast<int>(kind), inverse, n, howmany, aligned, threads};
  typename F::Plan plan = nullptr;
  bool owned = false;  // a plan past the cache's size limit: made for this call, destroyed after it
  {
    std::lock_guard<std::mutex> lock(planner_mutex());
    static std::map<PlanKey, typename F::Plan>* plans = [] {
      F::init_threads();
      return new std::map<PlanKey, typename F::Plan>();  // (never freed: plans live as long as the process)
    }();
    auto it = plans->find(key);
    const bool keep = it != plans->end() || plans->size() < kMaxPlans;
    if (it == plans->end()) {
      F::threads(threads);
      // FFTW_ESTIMATE plans without running (and so without overwriting) the arrays; the plan is then run on
      // each call's own arrays, which FFTW_UNALIGNED allows at any alignment.
      const unsigned flags = FFTW_ESTIMATE | (aligned ? 0u : FFTW_UNALIGNED);
      const int rank = static_cast<int>(n.size());
      auto* cin = static_cast<typename F::Complex*>(in);
      auto* cout = static_cast<typename F::Complex*>(out);
      typename F::Plan made =
          kind == FftKind::ComplexToComplex ? F::c2c(rank, n.data(), howmany, cin, cout, inverse ? FFTW_BACKWARD : FFTW_FORWARD, flags)
          : kind == FftKind::RealToComplex  ? F::r2c(rank, n.data(), howmany, static_cast<Real*>(in), cout, flags)
                                            : F::c2r(rank, n.data(), howmany, cin, static_cast<Real*>(out), flags);
      if (!made) throw Error("[fft] FFTW could not plan " + std::to_string(howmany) + " transforms of " + std::to_string(points) + " points");
      if (!keep) {
        plan = made;
        owned = true;
      } else {
        it = plans->emplace(key, made).first;
      }
    }
    if (!owned) plan = it->second;
  }
  switch (kind) {
    case FftKind::ComplexToComplex:
      F::run_c2c(plan, static_cast<typename F::Complex*>(in), static_cast<typename F::Complex*>(out));
      break;
    case FftKind::RealToComplex: F::run_r2c(plan, static_cast<Real*>(in), static_cast<typename F::Complex*>(out)); break;
    case FftKind::ComplexToReal: F::run_c2r(plan, static_cast<typename F::Complex*>(in), static_cast<Real*>(out)); break;
  }
  if (owned) {
    std::lock_guard<std::mutex> lock(planner_mutex());
    F::destroy(plan);
  }
}

}  // namespace

std::string Fft::props() const {
  static const char* kinds[] = {"c2c", "r2c", "c2r"};
  static const char* scales[] = {"", ", scale=1/sqrt(n)", ", scale=1/n"};
  return std::string(kinds[static_cast<int>(kind_)]) + (inverse_ ? ", inverse" : "") + ", rank=" + std::to_string(rank_) +
         scales[static_cast<int>(scale_)];
}

std::vector<TensorType> Fft::output_types(const std::vector<Variable>& inputs) const {
  const size_t arity = kind_ == FftKind::ComplexToReal ? 2 : 1;
  if (inputs.size() != arity) throw TypeError("[fft] takes " + std::to_string(arity) + " inputs");
  if (arity == 2 && (inputs[1].ndim() != 0 || !is_integer(inputs[1].dtype())))
    throw TypeError("[fft] the output length must be an integer scalar, got " + inputs[1].type().str());
  const TensorType& x = inputs[0].type();
  if (x.ndim() < rank_) throw ValueError("[fft] a transform over " + std::to_string(rank_) + " axes of " + x.str());
  const bool wants_complex = kind_ != FftKind::RealToComplex;
  if (wants_complex ? !is_complex(x.dtype) : !(x.dtype == DType::Float32 || x.dtype == DType::Float64))
    throw TypeError(std::string("[fft] the ") + (wants_complex ? "complex" : "real float32 or float64") + " input of a " +
                    props() + " transform, got " + x.str());
  std::vector<int64_t> shape = x.shape;
  int64_t& last = shape.back();
  if (kind_ == FftKind::RealToComplex && last >= 0) last = last / 2 + 1;
  if (kind_ == FftKind::ComplexToReal) {
    last = TensorType::kUnknown;
    if (inputs[1].is_constant()) last = static_cast<int64_t>(inputs[1].constant_value().item());
  }
  const DType dtype = kind_ == FftKind::RealToComplex ? complex_dtype(x.dtype)
                      : kind_ == FftKind::ComplexToReal ? real_dtype(x.dtype)
                                                        : x.dtype;
  return {TensorType(dtype, shape)};
}

std::vector<std::vector<Variable>> Fft::infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const {
  std::vector<Variable> shape = shapes[0];
  Variable& last = shape.back();
  if (kind_ == FftKind::RealToComplex) last = int_div(last, 2) + 1;
  if (kind_ == FftKind::ComplexToReal) last = cast(node.input(1), DType::Int64);
  return {shape};
}

std::string Fft::save() const {
  OpWriter out("fft");
  out.integers({static_cast<int>(kind_), inverse_, rank_, static_cast<int>(scale_)});
  return out.bytes();
}

FftGeometry Fft::geometry(std::span<const Array> inputs) const {
  const Array& x = inputs[0];
  FftGeometry g{kind_, inverse_, {}, 1, x.shape(), 1.0};
  int64_t points = 1;
  for (int a = 0; a < x.ndim() - rank_; ++a) g.howmany *= x.shape()[a];
  if (kind_ == FftKind::RealToComplex) g.out_shape.back() = x.shape().back() / 2 + 1;
  if (kind_ == FftKind::ComplexToReal) {
    const int64_t length = static_cast<int64_t>(inputs[1].item());
    if (length < 1 || x.shape().back() != length / 2 + 1)
      throw ValueError("[fft] a complex-to-real transform to length " + std::to_string(length) + " takes " +
                       std::to_string(std::max<int64_t>(length, 0) / 2 + 1) + " frequencies on its last axis, got " +
                       x.shape_dtype_str());
    g.out_shape.back() = length;
  }
  const Shape& real_side = kind_ == FftKind::ComplexToReal ? g.out_shape : x.shape();
  for (int a = x.ndim() - rank_; a < x.ndim(); ++a) {
    if (real_side[a] > INT32_MAX) throw ValueError("[fft] an axis of " + std::to_string(real_side[a]) + " is beyond the FFT libraries' int sizes");
    g.n.push_back(static_cast<int>(real_side[a]));
    points *= real_side[a];
  }
  if (points > INT32_MAX) throw ValueError("[fft] a transform of " + std::to_string(points) + " points is beyond the FFT libraries' int sizes");
  if (points == 0) throw ValueError("[fft] invalid number of data points (0) in a transform of " + x.shape_dtype_str());
  if (g.howmany > INT32_MAX)
    throw ValueError("[fft] " + std::to_string(g.howmany) + " transforms at once are beyond the FFT libraries' int sizes");
  g.factor = scale_ == FftScale::N       ? 1.0 / static_cast<double>(points)
             : scale_ == FftScale::SqrtN ? 1.0 / std::sqrt(static_cast<double>(points))
                                         : 1.0;
  return g;
}

void Fft::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const FftGeometry g = geometry(inputs);
  const DType out_dtype = node.output(0).dtype();
  Array out = Array::empty(g.out_shape, out_dtype);
  if (g.howmany > 0) {
    // A complex-to-real transform overwrites its input: it gets a copy.
    Array in = kind_ == FftKind::ComplexToReal ? inputs[0].copy() : inputs[0].contiguous();
    const int64_t reals = out.size() * (is_complex(out_dtype) ? 2 : 1);
    auto run = [&]<class Real>() {
      transform<Real>(kind_, inverse_, g.n, static_cast<int>(g.howmany), in.raw_data(), out.raw_data());
      if (g.factor == 1.0) return;
      Real* v = static_cast<Real*>(out.raw_data());
      for (int64_t i = 0; i < reals; ++i) v[i] = static_cast<Real>(v[i] * g.factor);
    };
    if (real_dtype(out_dtype) == DType::Float32) run.template operator()<float>();
    else run.template operator()<double>();
  }
  outputs[0] = std::move(out);
}

namespace {

// 1 at frequency 0 (and n / 2 for even n), `weight` between: the frequencies a half spectrum counts twice.
Variable doubled_frequency_weights(const Variable& half_length, const Variable& full_length, double weight, DType dtype) {
  const Variable k = arange(half_length);
  const Variable twice = (k >= 1) & (k < int_div(full_length + 1, 2));
  return cast(where(twice, weight, 1.0), dtype);
}

}  // namespace

std::vector<Variable> Fft::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable& g = output_grads[0];
  const Variable& x = node.input(0);
  const int last = x.ndim() - 1;
  switch (kind_) {
    case FftKind::ComplexToComplex: return {apply_op1(std::make_shared<Fft>(kind_, !inverse_, rank_, scale_), {g})};
    case FftKind::RealToComplex: {
      // x_bar = Re(A^H g) over the full spectrum = C2R of g with the frequencies it counts twice halved.
      const Variable n = shape_i(x, last);
      const Variable halved = g * doubled_frequency_weights(shape_i(g, last), n, 0.5, real_dtype(g.dtype()));
      return {apply_op1(std::make_shared<Fft>(FftKind::ComplexToReal, !inverse_, rank_, scale_), {halved, n})};
    }
    case FftKind::ComplexToReal: {
      const Variable& n = node.input(1);
      const Variable spectrum = apply_op1(std::make_shared<Fft>(FftKind::RealToComplex, !inverse_, rank_, scale_), {g});
      return {spectrum * doubled_frequency_weights(shape_i(x, last), n, 2.0, real_dtype(x.dtype())), Variable()};
    }
  }
  return {Variable()};
}

namespace {

FftScale forward_scale(FftNorm norm) {
  return norm == FftNorm::Backward ? FftScale::None : norm == FftNorm::Ortho ? FftScale::SqrtN : FftScale::N;
}
FftScale inverse_scale(FftNorm norm) {
  return norm == FftNorm::Backward ? FftScale::N : norm == FftNorm::Ortho ? FftScale::SqrtN : FftScale::None;
}

// `axes` of x (distinct, normalized) moved last in their order, the transform applied there, and moved back.
template <class Transform>
Variable over_axes(const Variable& x, const std::vector<int>& axes, const char* op, Transform transform) {
  if (axes.empty()) throw ValueError(std::string("[") + op + "] needs at least one axis");
  std::vector<int> chosen;
  for (int axis : axes) {
    const int a = normalize_axis(axis, x.ndim(), op);
    if (std::find(chosen.begin(), chosen.end(), a) != chosen.end())
      throw ValueError(std::string("[") + op + "] repeats axis " + std::to_string(axis));
    chosen.push_back(a);
  }
  const std::vector<int> order = axes_moved_last(chosen, x.ndim());
  bool identity = true;
  for (size_t k = 0; k < order.size(); ++k) identity = identity && order[k] == static_cast<int>(k);
  const Variable moved = identity ? x : transpose(x, order);
  const Variable result = transform(moved, static_cast<int>(chosen.size()));
  return identity ? result : transpose(result, inverse_permutation(order));
}

Variable complex_input(const Variable& x) {
  if (is_complex(x.dtype())) return x;
  return cast(x, complex_dtype(x.dtype() == DType::Float32 || x.dtype() == DType::Float16 ? DType::Float32 : DType::Float64));
}

Variable real_input(const Variable& x, const char* op) {
  if (is_complex(x.dtype()))
    throw TypeError(std::string("[") + op + "] takes a real input, got " + x.type().str() + " (take real() or use fftn)");
  if (x.dtype() == DType::Float32 || x.dtype() == DType::Float64) return x;
  return cast(x, x.dtype() == DType::Float16 ? DType::Float32 : DType::Float64);
}

Variable complex_transform(const Operand& x, const std::vector<int>& axes, bool inverse, FftNorm norm, const char* op) {
  return at_location(x.where(), [&] {
    return over_axes(complex_input(x.as_variable()), axes, op, [&](const Variable& v, int rank) {
      return apply_op1(std::make_shared<Fft>(FftKind::ComplexToComplex, inverse, rank, inverse ? inverse_scale(norm) : forward_scale(norm)),
                       {v}, x.where());
    });
  });
}

// x's last axis cut or zero-padded to `length` entries.
Variable fit_last_axis(const Variable& x, const Variable& length) {
  const int last = x.ndim() - 1;
  const Variable kept = x[IndexList({ellipsis, slice(std::nullopt, Operand(length))})];
  std::vector<Operand> pad_shape;
  for (int a = 0; a < last; ++a) pad_shape.emplace_back(shape_i(x, a));
  pad_shape.emplace_back(maximum(length - shape_i(x, last), 0));
  return concatenate({kept, zeros(pad_shape, x.dtype())}, last);
}

}  // namespace

Variable fftn(const Operand& x, const std::vector<int>& axes, FftNorm norm) { return complex_transform(x, axes, false, norm, "fftn"); }
Variable ifftn(const Operand& x, const std::vector<int>& axes, FftNorm norm) { return complex_transform(x, axes, true, norm, "ifftn"); }

Variable rfftn(const Operand& x, const std::vector<int>& axes, FftNorm norm) {
  return at_location(x.where(), [&] {
    return over_axes(real_input(x.as_variable(), "rfftn"), axes, "rfftn", [&](const Variable& v, int rank) {
      return apply_op1(std::make_shared<Fft>(FftKind::RealToComplex, false, rank, forward_scale(norm)), {v}, x.where());
    });
  });
}

Variable irfftn(const Operand& x, const std::vector<int>& axes, std::optional<Operand> last_size, FftNorm norm) {
  return at_location(x.where(), [&] {
    return over_axes(complex_input(x.as_variable()), axes, "irfftn", [&](const Variable& v, int rank) {
      const Variable m = shape_i(v, v.ndim() - 1);
      Variable input = v, length;
      if (last_size) {
        length = cast(last_size->as_variable(DType::Int64), DType::Int64);
        const std::optional<int64_t> known = constant_int(length);
        if (known && *known < 1) throw ValueError("[irfftn] the output length must be at least 1, got " + std::to_string(*known));
        if (!known || v.type().shape.back() != *known / 2 + 1) input = fit_last_axis(v, int_div(length, 2) + 1);
      } else {
        length = (m - 1) * 2;
      }
      return apply_op1(std::make_shared<Fft>(FftKind::ComplexToReal, true, rank, inverse_scale(norm)), {input, length}, x.where());
    });
  });
}

namespace {

Variable shifted(const Operand& x, const std::vector<int>& axes, bool inverse) {
  return at_location(x.where(), [&] {
    Variable result = x.as_variable();
    std::vector<int> over = axes;
    if (over.empty())
      for (int a = 0; a < result.ndim(); ++a) over.push_back(a);
    for (int axis : over) {
      const int a = normalize_axis(axis, result.ndim(), inverse ? "ifftshift" : "fftshift");
      const Variable half = int_div(shape_i(result, a), 2);
      result = roll(result, inverse ? -half : half, a);
    }
    return result;
  });
}

}  // namespace

Variable fftshift(const Operand& x, const std::vector<int>& axes) { return shifted(x, axes, false); }
Variable ifftshift(const Operand& x, const std::vector<int>& axes) { return shifted(x, axes, true); }

void register_fft_loaders(OpLoaders& loaders) {
  loaders["fft"] = [](OpReader& in) -> OpPtr {
    const std::vector<int> v = in.integers();
    if (v.size() != 4 || v[0] < 0 || v[0] > 2 || v[2] < 1 || v[3] < 0 || v[3] > 2) in.damaged("fft's parameters");
    return std::make_shared<Fft>(static_cast<FftKind>(v[0]), v[1] != 0, v[2], static_cast<FftScale>(v[3]));
  };
}

}  // namespace hypatia
