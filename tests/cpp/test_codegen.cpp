// Generated CPU kernels: every scalar op in every dtype it accepts and fused patterns, across layouts,
// against the reference backend; the module cache's reuse, repair and concurrency; the fallback when
// there is no compiler.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "backend/cpu/lowering.h"
#include "backend/cpu/module_cache.h"
#include "ops/elemwise.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;

namespace {

constexpr int kNumScalarOps = 0
#define HYPATIA_SCALAR_OP(name, arity, rule, ...) +1
#include "scalar/scalar_ops.def"
#undef HYPATIA_SCALAR_OP
    ;

// Equal where both are NaN; close by the dtype's precision otherwise (libmvec is within 4 ulp).
// `atol` covers results that cancel terms of size about one (the error is then the terms' rounding).
::testing::AssertionResult same_values(const Array& actual, const Array& expected, const std::string& what,
                                       double atol = 1e-30) {
  if (actual.shape() != expected.shape() || actual.dtype() != expected.dtype())
    return ::testing::AssertionFailure() << what << ": got " << actual.shape_dtype_str() << ", expected "
                                         << expected.shape_dtype_str();
  const double rtol = expected.dtype() == DType::Float32 ? 3e-6 : 1e-13;
  const Array a = actual.contiguous(), e = expected.contiguous();
  for (int64_t i = 0; i < a.size(); ++i) {
    const double x = a.get_as_double(i), y = e.get_as_double(i);
    if (x == y || (std::isnan(x) && std::isnan(y))) continue;
    if (std::fabs(x - y) <= rtol * std::fabs(y) + atol) continue;
    return ::testing::AssertionFailure() << what << ": element " << i << " is " << x << ", expected " << y;
  }
  return ::testing::AssertionSuccess();
}

// Values that exercise each dtype: negatives, zeros, and for floats fractions and large magnitudes.
Array sample(const hp::Shape& shape, DType dtype, uint64_t seed) {
  hp::random::Generator rng(seed);
  if (hp::is_float(dtype)) {
    Array values = rng.uniform(shape, -4.0, 4.0, DType::Float64);
    return values.astype(dtype);
  }
  if (hp::is_complex(dtype))  // re + i im, both drawn
    return hp::eval(hp::complex(hp::constant(rng.uniform(shape, -4.0, 4.0, DType::Float64)),
                                hp::constant(rng.uniform(shape, -4.0, 4.0, DType::Float64))))
        .astype(dtype);
  if (dtype == DType::Bool) return rng.uniform(shape, 0.0, 1.0).astype(DType::Float64).astype(DType::Bool);
  const double low = hp::is_unsigned(dtype) ? 0.0 : -6.0;
  return rng.uniform(shape, low, 7.0).astype(DType::Float64).astype(dtype);
}

struct Layout {
  const char* name;
  std::function<Array(DType, uint64_t)> make;  // a (4, 5) operand, or (0, 5) for empty
};

const std::vector<Layout>& layouts() {
  static const std::vector<Layout> all = {
      {"contiguous", [](DType t, uint64_t s) { return sample({4, 5}, t, s); }},
      {"transposed", [](DType t, uint64_t s) { return sample({5, 4}, t, s).transpose(); }},
      {"strided", [](DType t, uint64_t s) { return sample({8, 10}, t, s).slice({{0, 8, 2}, {0, 10, 2}}); }},
      {"negative strides", [](DType t, uint64_t s) { return sample({4, 5}, t, s).slice({{3, -5, -1}}); }},
      {"empty", [](DType t, uint64_t s) { return sample({0, 5}, t, s); }},
  };
  return all;
}

}  // namespace

TEST(Codegen, EveryScalarOpInEveryDTypeMatchesTheReference) {
#define HYPATIA_DTYPE_ENUMERATOR(name, ctype, str) DType::name,
  const DType dtypes[] = {HYPATIA_FOR_EACH_DTYPE(HYPATIA_DTYPE_ENUMERATOR)};
#undef HYPATIA_DTYPE_ENUMERATOR
  for (const Layout& layout : layouts()) {
    std::vector<hp::Variable> inputs, outputs;
    std::vector<Array> values;
    std::vector<std::string> names;
    for (DType dtype : dtypes) {
      // Three inputs per dtype; the third is a row that broadcasts over the others.
      std::vector<hp::Variable> args = {hp::matrix("a", dtype), hp::matrix("b", dtype), hp::row("c", dtype)};
      for (int i = 0; i < 3; ++i) inputs.push_back(args[i]);
      values.push_back(layout.make(dtype, 1));
      values.push_back(layout.make(dtype, 2));
      values.push_back(sample({1, 5}, dtype, 3));
      for (int id = 0; id < kNumScalarOps; ++id) {
        hp::ScalarOp op{static_cast<hp::ScalarOpId>(id), DType::Float32};
        const hp::ScalarOpInfo& info = hp::scalar_op_info(op.id);
        std::vector<hp::Variable> operands;
        for (int k = 0; k < info.arity; ++k) operands.push_back(args[(k + (k == 2)) % 3]);
        if (info.rule == hp::TypeRule::Where) operands[0] = hp::neq(args[0], 0);
        try {
          outputs.push_back(hp::apply_op1(std::make_shared<hp::Elemwise>(op), operands));
        } catch (const hp::TypeError&) {
          continue;  // the op refuses this dtype, as NumPy does
        }
        names.push_back(std::string(info.name) + " " + std::string(hp::dtype_name(dtype)) + " " + layout.name);
      }
    }
    const hp::FunctionOptions unused_ok{.on_unused_input = hp::UnusedInput::Ignore};
    auto generated = hp::function(inputs, outputs, {}, {}, unused_ok)(values);
    hp::FunctionOptions unoptimized = unused_ok;
    unoptimized.mode = hp::Mode::Unoptimized;
    auto reference = hp::function(inputs, outputs, {}, {}, unoptimized)(values);
    ASSERT_EQ(generated.size(), reference.size());
    for (size_t k = 0; k < generated.size(); ++k) EXPECT_TRUE(same_values(generated[k], reference[k], names[k]));
  }
}

TEST(Codegen, FusedPatternsMatchTheReference) {
  auto x = hp::matrix("x", DType::Float32), y = hp::matrix("y", DType::Float32), z = hp::matrix("z", DType::Float32);
  auto b = hp::row("b", DType::Float32), c = hp::col("c", DType::Float32);
  auto i = hp::matrix("i", DType::Int32);
  std::vector<hp::Variable> outputs = {
      x * y + z,
      hp::exp(-x * x / 2.0) * y + hp::tanh(z),
      x * x + y * y - 2.0 * x * y,
      hp::tanh(x + b) * c,                          // row and column broadcasts
      hp::sigmoid(x) * (1.0 - hp::sigmoid(x)) + hp::softplus(y),
      hp::where(x > y, hp::log1p(hp::abs(x)), hp::expm1(y)),
      hp::cast(i, DType::Float32) * x + hp::cast(x > 0.0, DType::Float32),  // mixed dtypes inside one loop
      hp::maximum(x, 0.0) + hp::minimum(y, z) + hp::clip(z, -1.0, 1.0),
  };
  std::vector<hp::Variable> inputs = {x, y, z, b, c, i};
  for (const Layout& layout : layouts()) {
    const int64_t rows = layout.make(DType::Float32, 1).shape()[0];
    std::vector<Array> values = {layout.make(DType::Float32, 1), layout.make(DType::Float32, 2),
                                 layout.make(DType::Float32, 3), sample({1, 5}, DType::Float32, 4),
                                 sample({rows, 1}, DType::Float32, 5), layout.make(DType::Int32, 6)};
    auto fast = hp::function(inputs, outputs);
    int fused = 0;
    for (const hp::Variable& out : fast.graph_outputs()) fused += out.owner() && out.owner()->op().name() == "fused";
    EXPECT_EQ(fused, static_cast<int>(outputs.size())) << fast.debugprint();
    auto generated = fast(values);
    auto reference = hp::function(inputs, outputs, {}, {}, {.mode = hp::Mode::Unoptimized})(values);
    for (size_t k = 0; k < outputs.size(); ++k)
      EXPECT_TRUE(same_values(generated[k], reference[k], "pattern " + std::to_string(k) + " " + layout.name));
  }
}

// A member read outside its loop too is one more output of the loop (computed once, stored once);
// one whose other reader comes before the loop's root (a dot the root reads) stays apart.
TEST(Codegen, MembersReadElsewhereAreFurtherOutputsOfTheLoop) {
  auto x = hp::matrix("x"), y = hp::matrix("y"), w = hp::matrix("w");
  auto t = hp::exp(x) * y;                 // read by the loop below, by a sum and as a result
  auto shifted = t + 1.0;
  auto total = hp::sum(t, {1});
  auto p = hp::tanh(x);
  auto cyclic = p + hp::dot(p, w);         // fusing p into the add would make the dot read its own result
  const std::vector<hp::Variable> outputs = {shifted, total, t, cyclic};
  auto fast = hp::function({x, y, w}, outputs);
  int loops = 0;
  size_t widest = 0;
  for (const auto& node : hp::toposort(fast.graph_outputs()))
    if (node->op().name() == "fused") {
      ++loops;
      widest = std::max(widest, node->num_outputs());
    }
  EXPECT_EQ(widest, 2u) << fast.debugprint();  // t and t + 1 from one loop
  EXPECT_EQ(loops, 1) << fast.debugprint();    // tanh and p + dot stay single ops
  const Array xv = sample({5, 5}, DType::Float64, 1), yv = sample({5, 5}, DType::Float64, 2),
              wv = sample({5, 5}, DType::Float64, 3);
  auto got = fast({xv, yv, wv});
  auto expected = hp::function({x, y, w}, outputs, {}, {}, {.mode = hp::Mode::Unoptimized})({xv, yv, wv});
  for (size_t k = 0; k < outputs.size(); ++k)
    EXPECT_TRUE(same_values(got[k], expected[k], "output " + std::to_string(k), 1e-12));
}

TEST(Codegen, LargeArraysRunOnSeveralThreadsWithTheSameResult) {
  auto x = hp::vector("x", DType::Float32), y = hp::vector("y", DType::Float32);
  auto f = hp::function({x, y}, {hp::exp(-x * x / 2.0) * y + hp::tanh(x)});
  auto reference = hp::function({x, y}, {hp::exp(-x * x / 2.0) * y + hp::tanh(x)}, {}, {}, {.mode = hp::Mode::Unoptimized});
  const Array a = sample({300001}, DType::Float32, 7), b = sample({300001}, DType::Float32, 8);
  EXPECT_TRUE(same_values(f({a, b})[0], reference({a, b})[0], "threaded", 1e-6));
  const int saved = hp::config().openmp_threads;
  hp::config().openmp_threads = 1;
  EXPECT_TRUE(same_values(f({a, b})[0], reference({a, b})[0], "one thread", 1e-6));
  hp::config().openmp_threads = saved;
}

namespace {

using ScratchCache = hp::testing::ScratchCompiledir;

std::string kernel_source(const std::string& symbol) {
  hp::ElemwiseKernelSpec spec;
  spec.composite.input_dtypes = {DType::Float64};
  spec.composite.outputs.push_back(spec.composite.add({hp::ScalarOpId::exp}, {0}));
  spec.scalar_inputs = {false};
  spec.invariant_inner = {false};
  return hp::render_cpu_module({hp::render_elemwise_kernel(spec, symbol)});
}

// Calls the exp kernel `symbol` of `module` on three values.
void expect_exp_kernel_works(const hp::Module* module, const std::string& symbol) {
  ASSERT_NE(module, nullptr);
  auto kernel = reinterpret_cast<hp::ElemwiseKernelFn>(module->symbol(symbol));
  ASSERT_NE(kernel, nullptr);
  double in[3] = {0.0, 1.0, -1.0}, out[3] = {};
  char* data[2] = {reinterpret_cast<char*>(out), reinterpret_cast<char*>(in)};
  const int64_t shape[1] = {3}, strides[2] = {1, 1};
  kernel(1, shape, data, strides, 1);
  EXPECT_DOUBLE_EQ(out[1], std::exp(1.0));
  EXPECT_DOUBLE_EQ(out[2], std::exp(-1.0));
}

}  // namespace

TEST(ModuleCache, CompilesOnceThenLoadsFromDisk) {
  ScratchCache scratch;
  const std::string source = kernel_source("cache_reuse_kernel");
  hp::ModuleCache first;
  expect_exp_kernel_works(first.load(source), "cache_reuse_kernel");
  EXPECT_EQ(first.compiled(), 1);
  EXPECT_EQ(first.load(source), first.load(source));  // in memory: the same module
  EXPECT_EQ(first.compiled(), 1);
  hp::ModuleCache later;  // a new process would start like this
  expect_exp_kernel_works(later.load(source), "cache_reuse_kernel");
  EXPECT_EQ(later.compiled(), 0);
  EXPECT_EQ(later.loaded_from_disk(), 1);
  EXPECT_TRUE(std::filesystem::exists(later.object_path(later.key(source))));
  // The source sits beside the object, for whoever wants to read what was compiled.
  std::string cpp = later.object_path(later.key(source));
  cpp.replace(cpp.size() - 3, 3, ".cpp");
  EXPECT_TRUE(std::filesystem::exists(cpp));
}

TEST(ModuleCache, CorruptOrForeignEntriesAreRebuilt) {
  ScratchCache scratch;
  const std::string source = kernel_source("cache_corrupt_kernel");
  hp::ModuleCache probe;
  const std::string path = probe.object_path(probe.key(source));
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  {
    std::ofstream garbage(path, std::ios::binary);
    garbage << "not a shared object";
  }
  hp::ModuleCache repairing;
  expect_exp_kernel_works(repairing.load(source), "cache_corrupt_kernel");
  EXPECT_EQ(repairing.compiled(), 1);

  // A loadable module under another key's name (a stale or misplaced file) is not trusted either.
  const std::string other = kernel_source("cache_other_kernel");
  const std::string other_path = probe.object_path(probe.key(other));
  std::filesystem::copy_file(path, other_path, std::filesystem::copy_options::overwrite_existing);
  hp::ModuleCache checking;
  expect_exp_kernel_works(checking.load(other), "cache_other_kernel");
  EXPECT_EQ(checking.compiled(), 1);
}

// A module cut short (a full disk, a killed writer) would be mapped by dlopen and kill the process with
// SIGBUS at its first missing page; it is found damaged before loading and rebuilt.
TEST(ModuleCache, TruncatedEntryIsDetectedAndRebuilt) {
  ScratchCache scratch;
  const std::string source = kernel_source("cache_truncated_kernel");
  hp::ModuleCache first;
  expect_exp_kernel_works(first.load(source), "cache_truncated_kernel");
  const std::string path = first.object_path(first.key(source));
  std::string whole;
  {
    std::ifstream in(path, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // Damaged copies replace the entry by rename: the module this process mapped stays intact.
  auto replace_entry = [&](const std::string& bytes) {
    {
      std::ofstream out(path + ".damaged", std::ios::binary);
      out << bytes;
    }
    std::filesystem::rename(path + ".damaged", path);
  };
  std::string flipped = whole;
  flipped[whole.size() / 3] ^= 0x5a;  // one byte inside the image: caught by the hash
  for (const std::string& damaged : {whole.substr(0, whole.size() / 2), whole.substr(0, whole.size() - 1), flipped}) {
    replace_entry(damaged);
    hp::ModuleCache repairing;
    expect_exp_kernel_works(repairing.load(source), "cache_truncated_kernel");
    EXPECT_EQ(repairing.rebuilt_damaged(), 1);
    EXPECT_EQ(repairing.compiled(), 1);
    EXPECT_EQ(std::filesystem::file_size(path), whole.size());
  }
}

TEST(ModuleCache, ConcurrentWritersOfOneEntryAllSucceed) {
  ScratchCache scratch;
  const std::string source = kernel_source("cache_race_kernel");
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<hp::ModuleCache>> caches;
  std::vector<const hp::Module*> modules(4, nullptr);
  for (int t = 0; t < 4; ++t) caches.push_back(std::make_unique<hp::ModuleCache>());
  for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] { modules[t] = caches[t]->load(source); });
  for (std::thread& thread : threads) thread.join();
  for (const hp::Module* module : modules) expect_exp_kernel_works(module, "cache_race_kernel");
  // No temporary files are left behind.
  for (const auto& entry : std::filesystem::directory_iterator(scratch.dir + "/cpu"))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
}

namespace {
std::vector<std::string> captured_warnings;
void capture_warning(const std::string& message) { captured_warnings.push_back(message); }
}  // namespace

TEST(ModuleCache, WithoutACompilerFunctionsRunOnPrecompiledKernels) {
  ScratchCache scratch;
  const std::string saved = hp::config().cxx;
  captured_warnings.clear();
  hp::set_warning_handler(capture_warning);
  hp::ModuleCache none;
  hp::config().cxx = "";
  EXPECT_EQ(none.load(kernel_source("no_compiler_kernel")), nullptr);
  EXPECT_EQ(none.load(kernel_source("no_compiler_kernel_2")), nullptr);
  ASSERT_EQ(captured_warnings.size(), 1u);  // said once
  EXPECT_THAT(captured_warnings[0], ::testing::HasSubstr("no C++ compiler"));
  // A compiler that fails: the warning names the generated source.
  hp::config().cxx = "false";
  EXPECT_EQ(none.load(kernel_source("failing_compiler_kernel")), nullptr);
  ASSERT_EQ(captured_warnings.size(), 2u);
  EXPECT_THAT(captured_warnings[1], ::testing::HasSubstr(".cpp"));
  // Whole functions still compute the right values (the process's cache has no such kernel yet).
  hp::config().cxx = "";
  auto x = hp::vector("x");
  auto f = hp::function({x}, {hp::exp(x) * 3.0 + hp::log1p(x) * 0.25 - 1.5});
  EXPECT_TRUE(hp::testing::arrays_close(f({Array::from({0.0, 1.0})})[0],
                                        Array::from({1.5, std::exp(1.0) * 3.0 + std::log1p(1.0) * 0.25 - 1.5})));
  hp::config().cxx = saved;
  hp::set_warning_handler(nullptr);
}

TEST(Codegen, ReductionsMatchTheReference) {
  // Every kind, over each axis set of a 3-d operand (adjacent or not, or none), plain and fused with
  // their elementwise producers, in several dtypes and layouts.
  const std::vector<std::vector<int>> axis_sets = {{}, {0}, {1}, {2}, {0, 1}, {1, 2}, {0, 2}, {0, 1, 2}};
  for (DType dtype : {DType::Float32, DType::Float64, DType::Int32, DType::UInt8, DType::UInt16, DType::UInt64,
                      DType::Bool}) {
    auto x = hp::tensor3("x", dtype), y = hp::tensor3("y", dtype);
    std::vector<hp::Variable> outputs;
    std::vector<std::string> names;
    for (size_t set = 0; set < axis_sets.size(); ++set) {
      const std::vector<int>& axes = axis_sets[set];
      const double k = static_cast<double>(set + 1);  // distinct producers (not 0: y * 0 folds), each fused into its reduction
      const std::string where = std::string(hp::dtype_name(dtype)) + " axes " + std::to_string(axes.size()) +
                                (axes.empty() ? "" : " from " + std::to_string(axes[0]));
      outputs.push_back(hp::sum(x, axes));
      names.push_back("sum " + where);
      outputs.push_back(hp::max(x, axes));
      names.push_back("max " + where);
      outputs.push_back(hp::min(x, axes));
      names.push_back("min " + where);
      if (dtype != DType::Bool) {
        outputs.push_back(hp::prod(x, axes));
        names.push_back("prod " + where);
        outputs.push_back(hp::sum(x * y + k, axes));  // fused: x * y + k is never stored
        names.push_back("sum(x * y + k) " + where);
        outputs.push_back(hp::max(x - y * k, axes));
        names.push_back("max(x - y * k) " + where);
      }
    }
    auto fast = hp::function({x, y}, outputs, {}, {}, {.on_unused_input = hp::UnusedInput::Ignore});
    int fused = 0;
    for (const auto& node : hp::toposort(fast.graph_outputs())) fused += node->op().name().rfind("fused_", 0) == 0;
    if (dtype != DType::Bool) EXPECT_GE(fused, 2 * static_cast<int>(axis_sets.size())) << fast.debugprint();
    auto reference = hp::function({x, y}, outputs, {}, {},
                                  {.on_unused_input = hp::UnusedInput::Ignore, .mode = hp::Mode::Unoptimized});
    const std::vector<std::pair<const char*, std::function<Array(uint64_t)>>> layouts3 = {
        {"contiguous", [&](uint64_t s) { return sample({3, 4, 5}, dtype, s); }},
        {"transposed", [&](uint64_t s) { return sample({5, 4, 3}, dtype, s).transpose(); }},
        {"strided", [&](uint64_t s) { return sample({6, 4, 10}, dtype, s).slice({{0, 6, 2}, {0, 4, 1}, {1, 10, 2}}); }},
        {"long rows", [&](uint64_t s) { return sample({3, 2, 700}, dtype, s); }},
        {"many rows", [&](uint64_t s) { return sample({19, 3, 37}, dtype, s); }},  // rows in passes, and the rest
    };
    for (const auto& [layout, make] : layouts3) {
      const std::vector<Array> values = {make(1), make(2)};
      auto got = fast(values);
      auto expected = reference(values);
      for (size_t k = 0; k < outputs.size(); ++k) EXPECT_TRUE(same_values(got[k], expected[k], names[k] + " " + layout));
    }
  }
}

TEST(Codegen, ReductionsKeepTheReferenceEdgeCases) {
  auto x = hp::matrix("x"), i = hp::matrix("i", DType::Int64);
  auto f = hp::function({x}, {hp::max(x, {1}), hp::sum(x, {1}), hp::min(x, {0})});
  const double nan = std::nan("");
  auto out = f({Array::from({{1.0, nan, 3.0}, {-1.0, 2.0, 0.5}})});
  EXPECT_TRUE(std::isnan(out[0].get_as_double(0)));  // NaN propagates through max
  EXPECT_EQ(out[0].get_as_double(1), 2.0);
  EXPECT_TRUE(std::isnan(out[1].get_as_double(0)));
  EXPECT_TRUE(std::isnan(out[2].get_as_double(1)));
  // Empty reductions: sums are zero; max has no identity and says so.
  auto total = hp::function({x}, {hp::sum(x, {1})});
  EXPECT_TRUE(hp::testing::arrays_close(total({Array::zeros({2, 0})})[0], Array::zeros({2})));
  auto g = hp::function({x}, {hp::max(x, {1})});
  EXPECT_TRUE(hp::testing::throws_with<hp::ValueError>([&] { g({Array::zeros({2, 0})}); }, {"zero-size reduction"}));
  // Integer sums wrap like NumPy's int64.
  auto s = hp::function({i}, {hp::sum(i * 4, {1})});
  const int64_t big = int64_t{1} << 61;
  EXPECT_EQ(s({Array::from_vector<int64_t>({big, big}, {1, 2})})[0].at<int64_t>({0}), int64_t{0});
}

TEST(Codegen, FusedNodesReportTheMemberThatFails) {
  auto x = hp::matrix("x"), y = hp::matrix("y");
  auto total = x + y;  // the line the error must name
  const int line = __LINE__ - 1;
  auto f = hp::function({x, y}, {hp::exp(total) * 2.0, hp::sum(hp::sqr(total) + 1.0, {1})});
  EXPECT_TRUE(hp::testing::throws_with<hp::ShapeError>(
      [&] { f({Array::zeros({2, 3}), Array::zeros({4, 3})}); },
      {"[add] shape mismatch", "float64(2, 3), float64(4, 3)", "test_codegen.cpp:" + std::to_string(line)}));
}

namespace {
const void* buffer_of(const hp::SharedVariable& v) { return v.get_value(/*borrow=*/true).raw_data(); }
}  // namespace

TEST(Codegen, UpdatesWriteIntoTheSharedBufferWhenNothingElseHoldsIt) {
  auto x = hp::matrix("x"), c = hp::vector("c");
  auto w = hp::shared(hp::random::uniform({4, 4}, -1, 1), "w");
  auto b = hp::shared(hp::random::uniform({3}, -1, 1), "b");
  auto new_w = w - 0.1 * hp::dot(x.T(), x);  // a GEMM on w
  auto new_b = b - 0.5 * c;                  // a fused loop on b
  auto step = hp::function({x, c}, {hp::sum(hp::dot(x, w))}, {{w, new_w}, {b, new_b}});
  auto reference = hp::function({x, c}, {new_w, new_b}, {}, {}, {.mode = hp::Mode::Unoptimized});
  const Array xv = hp::random::uniform({3, 4}, -1, 1), cv = hp::random::uniform({3}, -1, 1);
  const void* w_buffer = buffer_of(w);
  const void* b_buffer = buffer_of(b);
  auto expected = reference({xv, cv});
  step({xv, cv});
  EXPECT_TRUE(hp::testing::arrays_close(w.get_value(), expected[0], 1e-12, 1e-12));
  EXPECT_TRUE(hp::testing::arrays_close(b.get_value(), expected[1], 1e-12, 1e-12));
  EXPECT_EQ(buffer_of(w), w_buffer);  // written in place
  EXPECT_EQ(buffer_of(b), b_buffer);

  // A value the caller still holds (a borrowed view) is never overwritten: the update gets a new buffer.
  const Array held = w.get_value(/*borrow=*/true);
  const Array before = held.copy();
  step({xv, cv});
  EXPECT_TRUE(hp::testing::arrays_close(held, before, 0, 0));
  EXPECT_NE(buffer_of(w), held.raw_data());

  // A call that fails in the update phase changes neither variable, in place or not.
  const Array w_now = w.get_value(), b_now = b.get_value();
  EXPECT_TRUE(hp::testing::throws_with<hp::ShapeError>([&] { step({xv, Array::zeros({5})}); }, {"[sub]"}));
  EXPECT_TRUE(hp::testing::arrays_close(w.get_value(), w_now, 0, 0));
  EXPECT_TRUE(hp::testing::arrays_close(b.get_value(), b_now, 0, 0));
}

// A step that reads an intermediate last writes its result into that buffer, unless something else
// still sees it (a result, a view another step reads later) or it has another shape.
TEST(Codegen, IntermediatesAreOverwrittenByTheStepThatReadsThemLast) {
  auto x = hp::matrix("x");
  auto e = hp::exp(x);  // read by the sum and the division: its own step
  auto normalized = e / hp::sum(e, {1}, /*keepdims=*/true);
  const Array xv = hp::random::uniform({6, 5}, -2, 2);
  auto f = hp::function({x}, {normalized}, {}, {}, {.profile = true});
  auto reference = hp::function({x}, {normalized}, {}, {}, {.mode = hp::Mode::Unoptimized});
  for (int call = 0; call < 2; ++call)
    EXPECT_TRUE(hp::testing::arrays_close(f({xv})[0], reference({xv})[0], 1e-14, 1e-14));
  EXPECT_NE(f.profile_summary().find("[in place in 2 of 2 calls]"), std::string::npos) << f.profile_summary();

  const std::vector<std::pair<const char*, std::vector<hp::Variable>>> kept = {
      {"the intermediate is a result too", {e, normalized}},
      {"a view of it is read later", {normalized, hp::dot(hp::transpose(e), x)}},
      {"a view of it is a result", {e.T(), normalized}},
      {"it broadcasts against the result", {hp::exp(hp::sum(x, {1}, true)) + x}},
      {"it is read twice by its last reader", {e * e + hp::sum(e)}},
  };
  for (const auto& [name, outputs] : kept) {
    auto fast = hp::function({x}, outputs);
    auto slow = hp::function({x}, outputs, {}, {}, {.mode = hp::Mode::Unoptimized});
    const auto got = fast({xv}), expected = slow({xv});
    for (size_t k = 0; k < got.size(); ++k) EXPECT_TRUE(hp::testing::arrays_close(got[k], expected[k], 1e-13, 1e-13)) << name;
  }
}

// Cases a review found: each compiled and ran wrong (or not at all) before.
TEST(Codegen, ReviewedEdgeCases) {
  // One node computing the updates of two variables: neither is overwritten in place.
  auto a = hp::shared(Array::from({1.0, 2.0}), "a"), b = hp::shared(Array::from({10.0, 20.0}), "b");
  auto s = a + b;
  auto both = hp::function({}, {}, {{a, s}, {b, s}});
  both({});
  EXPECT_TRUE(hp::testing::arrays_close(a.get_value(), Array::from({11.0, 22.0})));
  EXPECT_TRUE(hp::testing::arrays_close(b.get_value(), Array::from({11.0, 22.0})));
  // A product that broadcasts (a one-row x) against z stays a dot plus an add.
  auto z = hp::tensor(DType::Float64, {-1, 3}, "z"), x = hp::tensor(DType::Float64, {1, 2}, "x"), y = hp::matrix("y");
  auto g = hp::function({z, x, y}, {z + hp::dot(x, y)});
  EXPECT_TRUE(hp::testing::arrays_close(g({Array::ones({2, 3}), Array::from({{1.0, 2.0}}), Array::ones({2, 3})})[0],
                                        Array::full({2, 3}, 4.0)));
  // softmax over an empty axis is empty, as the op itself gives.
  auto m = hp::matrix("m");
  EXPECT_EQ(hp::function({m}, {hp::softmax(m)})({Array::zeros({3, 0})})[0].shape(), (hp::Shape{3, 0}));
  EXPECT_EQ(hp::function({m}, {hp::log_softmax(m, 0)})({Array::zeros({0, 2})})[0].shape(), (hp::Shape{0, 2}));
  // An exponent shifted by the max of something else is still stabilized.
  auto u = hp::vector("u"), v = hp::vector("v");
  auto lse = hp::function({u, v}, {hp::log(hp::sum(hp::exp(u - hp::max(v))))});
  EXPECT_NEAR(lse({Array::from({1000.0, 1000.0}), Array::from({0.0})})[0].item(), 1000.0 + std::log(2.0), 1e-9);
}

// Without a compiler a fused loop runs on the precompiled loops in blocks of rows: same values as
// the graph as built, also across block boundaries and with broadcasting operands.
TEST(ModuleCache, WithoutACompilerFusedLoopsRunInBlocks) {
  ScratchCache scratch;
  const std::string saved = hp::config().cxx;
  hp::set_warning_handler(capture_warning);
  hp::config().cxx = "";
  auto x = hp::tensor3("x", DType::Float32), y = hp::tensor(DType::Float32, {1, -1, 1}, "y");
  auto out = hp::arctan2(hp::sinh(x * 0.25), hp::cosh(y)) * hp::erfc(x) - y;
  auto fast = hp::function({x, y}, {out});
  int fused = 0;
  for (const auto& node : hp::toposort(fast.graph_outputs())) fused += node->op().name() == "fused";
  EXPECT_EQ(fused, 1);
  auto reference = hp::function({x, y}, {out}, {}, {}, {.mode = hp::Mode::Unoptimized});
  const Array xv = sample({3001, 7, 3}, DType::Float32, 11), yv = sample({1, 7, 1}, DType::Float32, 12);
  EXPECT_TRUE(same_values(fast({xv, yv})[0], reference({xv, yv})[0], "blocks"));
  const Array xt = sample({3, 7, 5000}, DType::Float32, 13).transpose({2, 1, 0});  // rows of 21, strided
  const Array yt = sample({1, 7, 1}, DType::Float32, 14);
  EXPECT_TRUE(same_values(fast({xt, yt})[0], reference({xt, yt})[0], "strided blocks"));
  hp::config().cxx = saved;
  hp::set_warning_handler(nullptr);
}

namespace hypatia {
namespace {

TEST(Codegen, IndexedIncrementsWriteIntoTheirInputWhenItIsTheirsAlone) {
  Variable x = matrix("x"), v = vector("v");
  SharedVariable table = shared(Array::zeros({4, 2}), "table");
  Variable e = exp(x);
  Variable bumped = inc_subtensor(e[{slice(1, std::nullopt)}], v);           // e is read last here
  Variable overlapping = inc_subtensor(e[{slice(1, std::nullopt)}], e[{slice(0, 3)}]);  // reads e too
  Variable rows = constant(Array::from({0, 2, 0}, DType::Int64));
  Function f = function({x, v}, {bumped * 2.0}, {{table, inc_subtensor(table[{rows}], x[{slice(0, 3)}])}}, {},
                        {.profile = true});
  Function g = function({x}, {overlapping});
  const Array xv = Array::from({{0, 1}, {1, 0}, {2, 2}, {0, 0}}), vv = Array::from({1, -1});
  Array expected = xv.copy();
  for (int64_t k = 0; k < xv.size(); ++k) expected.set_from_double(k, 2 * std::exp(xv.get_as_double(k)) + (k >= 2 ? 2 * vv.get_as_double(k % 2) : 0));
  for (int call = 1; call <= 2; ++call) {
    EXPECT_TRUE(testing::arrays_close(f({xv, vv})[0], expected, 1e-12));
    // Rows 0, 1, 2 of x added at rows 0, 2, 0 of the table (repeated rows accumulate), on each call.
    EXPECT_TRUE(testing::arrays_close(table.get_value(), Array::from({{2.0 * call, 3.0 * call}, {0, 0}, {1.0 * call, 0}, {0, 0}})));
  }
  EXPECT_NE(f.profile_summary().find("inc_subtensor{s:}"), std::string::npos);
  EXPECT_NE(f.profile_summary().find("[in place in 2 of 2 calls]"), std::string::npos) << f.profile_summary();
  Array got = g({xv})[0];
  Array reference = function({x}, {overlapping}, {}, {}, {.mode = Mode::Unoptimized})({xv})[0];
  EXPECT_TRUE(testing::arrays_close(got, reference, 1e-14));
}

TEST(Codegen, DonatedInputsAreOverwrittenOnlyWhenHandedOver) {
  Variable x = vector("x");
  FunctionOptions donating;
  donating.donated_inputs = {0};
  Function f = function({x}, {exp(x) * 2.0}, {}, {}, donating);
  const Array expected = Array::from({2.0, 2.0 * std::exp(1.0)});
  // The caller keeps its array: it is never written.
  Array kept = Array::from({0, 1});
  EXPECT_TRUE(testing::arrays_close(f({kept})[0], expected));
  EXPECT_TRUE(testing::arrays_close(kept, Array::from({0, 1})));
  // Handed over, its buffer holds the result.
  std::vector<Array> handed{Array::from({0, 1})};
  const void* buffer = handed[0].raw_data();
  Array result = f(std::move(handed))[0];
  EXPECT_EQ(result.raw_data(), buffer);
  EXPECT_TRUE(testing::arrays_close(result, expected));
  // A result that views a donated input the caller still holds is a copy.
  FunctionOptions donating_view = donating;
  Function view = function({x}, {x[{slice(std::nullopt, std::nullopt, -1)}]}, {}, {}, donating_view);
  Array held = Array::from({1, 2});
  Array reversed = view({held})[0];
  EXPECT_FALSE(reversed.shares_storage_with(held));
  // Without donation, a handed-over input is still only read.
  Function g = function({x}, {exp(x) * 2.0});
  std::vector<Array> not_donated{Array::from({0, 1})};
  buffer = not_donated[0].raw_data();
  EXPECT_NE(g(std::move(not_donated))[0].raw_data(), buffer);
}

}  // namespace
}  // namespace hypatia
