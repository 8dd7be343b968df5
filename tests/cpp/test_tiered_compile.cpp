// Tiered compilation: a function's first calls run a quick (-O0) build of its kernels, later calls the
// optimized (-O2) build of the same source. The two must agree bit for bit, on every kernel form (plain and
// block elementwise loops, each reduction layout), every dtype family, short and long rows, strided
// operands and special values.

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>

#include "backend/cpu/lowering.h"
#include "backend/cpu/module_cache.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;

namespace {

// Values in [-6, 6] with, for floats, special values spread through: NaN, infinities, zeros of both signs,
// subnormals and magnitudes where exp overflows.
Array values(const hp::Shape& shape, DType dtype, uint64_t seed) {
  hp::random::Generator rng(seed);
  Array drawn = rng.uniform(shape, -6.0, 6.0, DType::Float64);
  if (!hp::is_float(dtype) && !hp::is_complex(dtype)) return drawn.astype(dtype);
  const double specials[] = {std::numeric_limits<double>::quiet_NaN(), INFINITY, -INFINITY, 0.0, -0.0, 1e-310, 200.0, -200.0};
  double* data = drawn.data<double>();
  for (int64_t i = 0; i < drawn.size(); i += 13) data[i] = specials[(i / 13) % 8];
  return drawn.astype(dtype);
}

// The same bits, except that any NaN matches any NaN: the sign and payload of a NaN depend on the order of
// an addition's operands, which the compiler may swap (a + b is b + a in every other respect).
bool same_bits(const Array& a, const Array& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const Array x = a.contiguous(), y = b.contiguous();
  const auto* p = static_cast<const unsigned char*>(x.raw_data());
  const auto* q = static_cast<const unsigned char*>(y.raw_data());
  // Floats are compared part by part (a complex number has two); other dtypes bit for bit.
  const DType dtype = x.dtype();
  const size_t part = dtype == DType::Float16 ? 2 : dtype == DType::Float32 || dtype == DType::Complex64 ? 4
                      : dtype == DType::Float64 || dtype == DType::Complex128                         ? 8
                                                                                                      : 0;
  const size_t bytes = static_cast<size_t>(x.size()) * x.itemsize();
  if (part == 0) return std::memcmp(p, q, bytes) == 0;
  auto is_nan = [&](const unsigned char* v) {
    if (part == 2) {
      uint16_t h;
      std::memcpy(&h, v, 2);
      return (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
    }
    if (part == 4) {
      float f;
      std::memcpy(&f, v, 4);
      return std::isnan(f);
    }
    double d;
    std::memcpy(&d, v, 8);
    return std::isnan(d);
  };
  for (size_t at = 0; at < bytes; at += part)
    if (std::memcmp(p + at, q + at, part) != 0 && !(is_nan(p + at) && is_nan(q + at))) return false;
  return true;
}

// Compiles the kernels of `outputs`' optimized graph both ways and runs each kernel node both ways on the
// same inputs (looked up by name in `inputs`), expecting the same bits.
void expect_tiers_agree(const std::vector<hp::Variable>& inputs, const std::vector<hp::Variable>& outputs,
                        const std::vector<Array>& input_values, const std::string& what) {
  hp::testing::ScratchCompiledir scratch;  // (the quick and optimized builds are the test's own)
  auto f = hp::function(inputs, outputs, {}, {}, {.on_unused_input = hp::UnusedInput::Ignore});
  std::vector<std::shared_ptr<hp::Apply>> nodes;
  std::vector<std::string> definitions;
  std::vector<hp::CpuKernel::Kind> kinds;
  bool complex_numbers = false;
  for (const auto& node : hp::toposort(f.graph_outputs())) {
    bool from_inputs = true;
    for (const hp::Variable& input : node->inputs()) from_inputs = from_inputs && !input.owner();
    hp::ElemwiseKernelSpec elemwise;
    hp::ReduceKernelSpec reduce;
    const std::string symbol = "tier_kernel_" + std::to_string(nodes.size());
    if (!from_inputs) continue;
    if (hp::elemwise_kernel_spec(*node, elemwise)) {
      definitions.push_back(hp::render_elemwise_kernel(elemwise, symbol));
      kinds.push_back(hp::CpuKernel::Kind::Elemwise);
      complex_numbers = complex_numbers || hp::uses_complex_numbers(elemwise.composite);
    } else if (hp::reduce_kernel_spec(*node, reduce) && reduce.kind != hp::ReduceKind::Any && reduce.kind != hp::ReduceKind::All) {
      definitions.push_back(hp::render_reduce_kernel(reduce, symbol));
      kinds.push_back(hp::CpuKernel::Kind::Reduce);
      complex_numbers = complex_numbers || hp::uses_complex_numbers(reduce.composite);
    } else {
      continue;
    }
    nodes.push_back(node);
  }
  ASSERT_FALSE(nodes.empty()) << what << ": no generated kernels\n" << f.debugprint();
  hp::ModuleCache cache;
  const std::string source = hp::render_cpu_module(definitions);
  const hp::Module* quick = cache.load(source, complex_numbers, hp::Optimization::Quick);
  const hp::Module* full = cache.load(source, complex_numbers, hp::Optimization::Full);
  ASSERT_NE(quick, nullptr);
  ASSERT_NE(full, nullptr);
  ASSERT_NE(quick, full);
  for (size_t k = 0; k < nodes.size(); ++k) {
    const hp::Apply& node = *nodes[k];
    std::vector<Array> node_inputs;
    for (const hp::Variable& input : node.inputs()) {
      if (input.is_constant()) {
        node_inputs.push_back(input.constant_value());
        continue;
      }
      bool found = false;
      for (size_t i = 0; i < inputs.size() && !found; ++i)
        if (inputs[i].name() == input.name()) {
          node_inputs.push_back(input_values[i]);
          found = true;
        }
      ASSERT_TRUE(found) << what << ": input " << input.name();
    }
    const std::string symbol = "tier_kernel_" + std::to_string(k);
    hp::KernelSlot quick_slot, full_slot;
    quick_slot.publish(quick->symbol(symbol), hp::Optimization::Quick);
    full_slot.publish(full->symbol(symbol), hp::Optimization::Full);
    ASSERT_NE(quick_slot.address.load(), nullptr);
    std::vector<Array> quick_out(node.num_outputs()), full_out(node.num_outputs());
    hp::run_cpu_kernel({kinds[k], &quick_slot}, node, node_inputs, quick_out);
    hp::run_cpu_kernel({kinds[k], &full_slot}, node, node_inputs, full_out);
    for (size_t o = 0; o < node.num_outputs(); ++o)
      EXPECT_TRUE(same_bits(quick_out[o], full_out[o]))
          << what << ", node " << node.op().name() << " output " << o << ":\nquick " << quick_out[o].str() << "\nfull "
          << full_out[o].str();
  }
}

}  // namespace

TEST(TieredCompile, ElementwiseLoopsAgreeBitForBit) {
  for (DType dtype : {DType::Float32, DType::Float64, DType::Float16}) {
    auto x = hp::matrix("x", dtype), y = hp::matrix("y", dtype), z = hp::matrix("z", dtype), b = hp::row("b", dtype);
    const std::vector<hp::Variable> outputs = {
        hp::exp(-x * x / 2.0) * y + hp::tanh(z),
        hp::sigmoid(x) * (1.0 - hp::sigmoid(y)) + hp::softplus(z),
        hp::where(x > y, hp::log1p(hp::abs(x)), hp::expm1(y)) + hp::log(hp::abs(z) + 1e-3),
        hp::arctan2(hp::sinh(x * 0.25), hp::cosh(y)) * hp::erfc(z) - hp::erf(x + b),
        hp::pow(hp::abs(x), y) + hp::sin(z) * hp::cos(x) + hp::tan(y * 0.1),
        hp::arcsinh(x) + hp::arctan(y) + hp::log2(hp::abs(z) + 1.0) + hp::log10(hp::abs(x) + 2.0) + hp::exp2(y * 0.5),
        x * y + z - b,  // no vector math: the plain loop
        hp::cast(hp::cast(x, DType::Float64) * 1.0000001, DType::Float16),  // double to half: rounded once
        hp::cast(hp::exp(hp::cast(y, DType::Float64)), DType::Float16) + hp::cast(z > b, dtype),
    };
    for (const auto& [label, shape, strided] : {std::tuple{"rows of 37", hp::Shape{3, 37}, false},
                                                std::tuple{"long rows", hp::Shape{2, 1027}, false},
                                                std::tuple{"strided", hp::Shape{5, 29}, true}}) {
      auto make = [&](uint64_t seed) {
        if (!strided) return values(shape, dtype, seed);
        return values({shape[1], shape[0]}, dtype, seed).transpose();
      };
      expect_tiers_agree({x, y, z, b}, outputs, {make(1), make(2), make(3), values({1, shape[1]}, dtype, 4)},
                         std::string(hp::dtype_name(dtype)) + " " + label);
    }
  }
}

TEST(TieredCompile, ReductionsAgreeBitForBit) {
  for (DType dtype : {DType::Float32, DType::Float64, DType::Float16, DType::Int32, DType::Complex64}) {
    auto x = hp::matrix("x", dtype), y = hp::matrix("y", dtype);
    std::vector<hp::Variable> outputs;
    for (const std::vector<int>& axes : {std::vector<int>{0}, std::vector<int>{1}, std::vector<int>{0, 1}}) {
      outputs.push_back(hp::sum(x, axes));
      outputs.push_back(hp::prod(x * 0.5 + 1.0, axes));
      outputs.push_back(hp::sum(x * y + 1.0, axes));
      if (!hp::is_complex(dtype)) {
        outputs.push_back(hp::max(x, axes));
        outputs.push_back(hp::min(x - y, axes));
      }
      if (hp::is_float(dtype)) {
        outputs.push_back(hp::sum(hp::exp(x - 3.0), axes));  // logsumexp's reduction: vector math inside
        outputs.push_back(hp::max(hp::tanh(x) * y, axes));
      }
    }
    for (const auto& [label, shape] : {std::pair{"small", hp::Shape{3, 37}}, std::pair{"tall", hp::Shape{1029, 5}},
                                       std::pair{"wide", hp::Shape{4, 1030}}}) {
      expect_tiers_agree({x, y}, outputs, {values(shape, dtype, 5), values(shape, dtype, 6)},
                         std::string(hp::dtype_name(dtype)) + " " + label);
    }
  }
}

// Large enough that the optimized build runs on several threads (the quick one has no OpenMP).
TEST(TieredCompile, ThreadedLoopsAgreeWithTheQuickBuild) {
  auto x = hp::matrix("x", DType::Float32), y = hp::matrix("y", DType::Float32);
  const std::vector<hp::Variable> outputs = {hp::exp(-x * x / 2.0) * y + hp::tanh(x), hp::sum(hp::exp(x - 3.0), {1}),
                                             hp::sum(x * y, {0}), hp::max(hp::sigmoid(x), {0})};
  const int saved = hp::config().openmp_threads;
  hp::config().openmp_threads = 2;
  expect_tiers_agree({x, y}, outputs, {values({300, 4001}, DType::Float32, 9), values({300, 4001}, DType::Float32, 10)},
                     "two threads");
  hp::config().openmp_threads = saved;
}

// End to end: a new function's first call (on the quick build) and its calls after the optimized build
// landed give the same bits.
TEST(TieredCompile, FirstCallsAndLaterCallsGiveTheSameResults) {
  hp::testing::ScratchCompiledir scratch;  // (the quick and optimized builds are the test's own)
  const bool saved = hp::config().tiered_compilation;
  hp::config().tiered_compilation = true;
  auto x = hp::matrix("x", DType::Float32), y = hp::vector("y", DType::Float32);
  // (A composite no other test builds, so its kernels are this function's to compile.)
  auto out = hp::sum(hp::log1p(hp::exp(x * 0.731)) * hp::arctanh(hp::tanh(y * 0.1)), {1}) + hp::sum(hp::max(hp::erf(x), {0}), {0});
  const int compiled_before = hp::ModuleCache::instance().compiled();
  auto f = hp::function({x, y}, {out});
  const std::vector<Array> args = {values({9, 1001}, DType::Float32, 7), values({1001}, DType::Float32, 8)};
  const Array first = f(args)[0].copy();
  // (The optimized build may already have landed on a fast machine: at least the quick one has.)
  EXPECT_GE(hp::ModuleCache::instance().compiled(), compiled_before + 1);
  hp::finish_compiling();
  EXPECT_EQ(hp::ModuleCache::instance().compiled(), compiled_before + 2);  // the quick build, then the optimized one
  EXPECT_TRUE(same_bits(f(args)[0], first));
  hp::config().tiered_compilation = saved;
}
