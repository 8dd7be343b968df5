// The device backends, run for real on the machine's first device of each kind: OpenCL (PoCL in `make
// test`) and CUDA (where a GPU is present; the tests skip with the reason otherwise). Each compares the
// device's results with the reference backend: elementwise loops, reductions, products, indexing,
// shared variables in device memory, transfers at the edges, host fallbacks, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstring>
#include <filesystem>
#include <functional>

#include "backend/backend.h"
#include "backend/cuda/cublas.h"
#include "backend/cuda/driver.h"
#include "backend/opencl/blas.h"
#include "backend/opencl/runtime.h"
#include "hypatia/hypatia.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::throws_with;

namespace {

bool has_blas(const std::string& kind) { return kind == "opencl" ? hp::opencl::clblast_available() : hp::cuda::cublas_available(); }

class DeviceBackend : public ::testing::TestWithParam<std::string> {};

#define REQUIRE_DEVICE()                                                                                        \
  std::string why;                                                                                              \
  const std::string device =                                                                                    \
      hp::testing::first_device(GetParam() == "opencl" ? hp::Device::Kind::OpenCL : hp::Device::Kind::Cuda, why); \
  if (device.empty()) GTEST_SKIP() << why

// outputs computed on the device against the reference backend (perform() on the host).
void expect_device_matches_reference(const std::vector<hp::Variable>& inputs, const std::vector<hp::Variable>& outputs,
                                     const std::vector<Array>& values, const std::string& device, double tolerance = 1e-12) {
  auto on_device = hp::function(inputs, outputs, {}, {}, {.device = device});
  auto reference = hp::function(inputs, outputs, {}, {}, {.mode = hp::Mode::Unoptimized});
  const auto got = on_device(values), want = reference(values);
  for (size_t k = 0; k < outputs.size(); ++k) {
    EXPECT_EQ(got[k].dtype(), want[k].dtype()) << k;
    EXPECT_EQ(got[k].device(), hp::Device{}) << k;  // results come back to the host
    EXPECT_TRUE(arrays_close(got[k], want[k], tolerance, tolerance)) << "output " << k << "\n" << got[k] << "\n" << want[k];
  }
}

}  // namespace

TEST_P(DeviceBackend, DevicesAreListedAndNamedAsTheanos) {
  REQUIRE_DEVICE();
  const auto available = hp::available_devices();
  EXPECT_EQ(available.front(), hp::Device{});
  EXPECT_NE(std::find(available.begin(), available.end(), hp::Device::parse(device)), available.end());
  auto x = hp::vector("x");
  if (GetParam() == "opencl") {
    EXPECT_FALSE(hp::opencl::devices().front().name.empty());
    EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::function({x}, {x * 2.0}, {}, {}, {.device = "opencl9:0"}); },
                                            {"[function]", "opencl9:0", "OpenCL devices", device}));
  } else {
    EXPECT_FALSE(hp::cuda::devices().front().name.empty());
    EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::function({x}, {x * 2.0}, {}, {}, {.device = "cuda99"}); },
                                            {"[function]", "cuda99", "devices here", device}));
  }
}

TEST_P(DeviceBackend, FusedElementwiseLoopsMatchTheReference) {
  REQUIRE_DEVICE();
  auto x = hp::matrix("x"), y = hp::vector("y");
  const Array xv = hp::random::uniform({3, 4}, -2, 2), yv = hp::random::uniform({4}, 0.5, 2);
  expect_device_matches_reference(
      {x, y},
      {hp::tanh(x * 2.0 + y) - hp::exp(y), hp::sigmoid(x) * hp::log(y), hp::maximum(x, 0.5) / hp::sqrt(y),
       hp::softplus(x) + hp::abs(x) * hp::sqr(y), hp::switch_(hp::gt(x, 0.0), x, -x * 0.5), hp::pow(y, x),
       hp::floor(x) + hp::clip(x, -1.0, 1.0)},
      {xv, yv}, device);
  // Transposed and broadcast operands, and a transposed result feeding another loop.
  expect_device_matches_reference({x, y}, {hp::exp(x.T()) + hp::dimshuffle(y, {0, hp::kNewAxis}), (x.T() * 3.0).T() - 1.0},
                                  {xv, yv}, device);
}

TEST_P(DeviceBackend, DtypesComparisonsAndCastsMatchTheReference) {
  REQUIRE_DEVICE();
  auto f = hp::tensor(DType::Float32, {-1}, "f"), i = hp::tensor(DType::Int32, {-1}, "i");
  const Array fv = Array::from({1.5, -2.25, 0.0, 3.0}, DType::Float32), iv = Array::from({3, -1, 0, 7}, DType::Int32);
  expect_device_matches_reference(
      {f, i},
      {f * 2.0f + hp::cast(i, DType::Float32), i + i * 3, hp::lt(f, hp::cast(i, DType::Float32)), hp::cast(f, DType::Int32),
       hp::logical_and(hp::gt(i, 0), hp::lt(f, 2.0f)), hp::maximum(i, 1), hp::bitwise_xor(i, 6), hp::invert(i),
       hp::invert(hp::gt(i, 0)), hp::logical_xor(hp::gt(i, 0), hp::gt(f, 0.0f))},
      {fv, iv}, device, 1e-6);
}

TEST_P(DeviceBackend, FloorDivisionModuloAndIntegerPowersFollowPython) {
  REQUIRE_DEVICE();
  // Python's signs, NumPy's zeros (integer division or modulo by 0 gives 0), wrapping powers, NumPy's
  // float divmod (1.0 // 0.1 is 9): the device's helpers against the reference.
  auto i = hp::tensor(DType::Int32, {-1}, "i"), j = hp::tensor(DType::Int32, {-1}, "j");
  auto l = hp::tensor(DType::Int64, {-1}, "l"), u = hp::tensor(DType::UInt8, {-1}, "u");
  auto f = hp::vector("f"), g = hp::vector("g");
  const Array iv = Array::from({7, -7, 7, -7, 5, -2147483647 - 1, 0, 3}, DType::Int32);
  const Array jv = Array::from({2, 2, -2, -2, 0, -1, 3, -1}, DType::Int32);
  const Array lv = Array::from({3, -2, 2, 0, 10, 1, -1, -3}, DType::Int64);
  const Array uv = Array::from({200, 7, 0, 255, 3, 1, 2, 9}, DType::UInt8);
  const Array fv = Array::from({1.0, -7.5, 7.5, 0.0, -0.0, 5.0, -1.0, 1e300});
  const Array gv = Array::from({0.1, 2.0, -2.0, 3.0, -3.0, -0.5, 0.3, 1e-300});
  expect_device_matches_reference(
      {i, j, l, u, f, g},
      {hp::int_div(i, j), i % j, hp::pow(i, hp::cast(hp::abs(j), DType::Int32)), hp::pow(l, hp::cast(j, DType::Int64)),
       hp::pow(hp::cast(j, DType::Int64), l), hp::int_div(u, hp::cast(l, DType::UInt8)), u % 7,
       hp::pow(u, 3), hp::int_div(f, g), f % g},
      {iv, jv, lv, uv, fv, gv}, device, 0);
  // By hand: 7 // -2 = -4, -7 % 2 = 1, 5 // 0 = 0, (-2^31) // -1 wraps to -2^31, 1.0 // 0.1 = 9.
  auto h = hp::function({i, j, f, g}, {hp::int_div(i, j), i % j, hp::int_div(f, g)}, {}, {}, {.device = device});
  const auto got = h({iv, jv, fv, gv});
  EXPECT_EQ(got[0].get_as_double(2), -4);
  EXPECT_EQ(got[1].get_as_double(1), 1);
  EXPECT_EQ(got[0].get_as_double(4), 0);
  EXPECT_EQ(got[0].get_as_double(5), -2147483648.0);
  EXPECT_EQ(got[2].get_as_double(0), 9);
}

TEST_P(DeviceBackend, CrossEntropyOfLabelsRunsOnTheDevice) {
  REQUIRE_DEVICE();
  static std::vector<std::string> warnings;
  warnings.clear();
  hp::set_warning_handler([](const std::string& message) { warnings.push_back(message); });
  auto x = hp::matrix("x"), probabilities = hp::matrix("probabilities");
  auto y = hp::tensor(DType::Int64, {-1}, "y"), y32 = hp::tensor(DType::Int32, {-1}, "y32");
  const Array xv = hp::random::uniform({5, 4}, -3, 3), yv = Array::from({0, 3, 1, 1, 2}, DType::Int64);
  Array pv = hp::random::uniform({5, 4}, 0.1, 1.0);
  // From logits (the fused, stable form), from probabilities, labels of another int type, transposed
  // logits (a device view), and the gradient of the mean loss.
  auto from_logits = hp::categorical_crossentropy(hp::softmax(x, 1), y);
  expect_device_matches_reference(
      {x, probabilities, y, y32},
      {from_logits, hp::categorical_crossentropy(probabilities, y), hp::categorical_crossentropy(hp::softmax(x * 2.0, 1), y32),
       hp::categorical_crossentropy(hp::softmax(x.T().T() + 0.0, 1), y), hp::grad(hp::mean(from_logits), x)},
      {xv, pv, yv, yv.astype(DType::Int32)}, device, 1e-12);
  auto f32 = hp::tensor(DType::Float32, {-1, -1}, "f32");
  expect_device_matches_reference({f32, y}, {hp::categorical_crossentropy(hp::softmax(f32, 1), y)}, {xv.astype(DType::Float32), yv},
                                  device, 1e-5);
  hp::set_warning_handler(nullptr);
  for (const std::string& w : warnings) EXPECT_EQ(w.find("crossentropy"), std::string::npos) << w;
  // (The warnings are said once per process: the backend is asked directly too.)
  ASSERT_TRUE(from_logits.owner());
  EXPECT_EQ(from_logits.owner()->op().name(), "crossentropy_softmax_1hot");
  EXPECT_TRUE(hp::backend_for(hp::Device::parse(device)).runs(*from_logits.owner()));
  // A label outside the classes is an IndexError naming it and its row, as on the CPU.
  auto f = hp::function({x, y}, {from_logits}, {}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { f({xv, Array::from({0, 7, 1, 1, 2}, DType::Int64)}); },
                                          {"[categorical_crossentropy]", "label 7 of row 1", "4 classes"}));
  EXPECT_TRUE(arrays_close(f({xv, yv})[0], hp::function({x, y}, {from_logits}, {}, {}, {.device = "cpu"})({xv, yv})[0], 1e-12, 1e-12));
}

TEST_P(DeviceBackend, RandomStreamsDrawTheCpusNumbers) {
  REQUIRE_DEVICE();
  // The same seed gives the same numbers on the device as on the CPU, call after call (the state advances
  // alike): uniform exactly, normal within the device's libm (sqrt, log, cos, sin in double).
  auto draws = [&](const std::string& on) {
    hp::RandomStream stream(1234);
    auto n = hp::scalar("n", DType::Int64);
    auto u = stream.uniform({n, 3}, -1.0, 2.0, DType::Float64);
    auto g = stream.normal({n}, 0.5, 2.0, DType::Float32);
    auto h = stream.normal({hp::constant(4.0, DType::Int64), hp::constant(5.0, DType::Int64)});
    auto f = hp::function({n}, {u, g, h * hp::sum(u)}, {}, {}, {.device = on});
    std::vector<Array> out;
    for (int64_t size : {5, 2, 7}) for (const Array& a : f({Array::scalar(static_cast<double>(size), DType::Int64)})) out.push_back(a);
    return out;
  };
  static std::vector<std::string> warnings;
  warnings.clear();
  hp::set_warning_handler([](const std::string& message) { warnings.push_back(message); });
  const auto on_device = draws(device);
  hp::set_warning_handler(nullptr);
  const auto on_cpu = draws("cpu");
  for (size_t k = 0; k < on_cpu.size(); ++k) {
    EXPECT_TRUE(arrays_close(on_device[k], on_cpu[k], k % 3 == 0 ? 0 : 1e-6, k % 3 == 0 ? 0 : 1e-12)) << k;
    EXPECT_EQ(on_device[k].dtype(), on_cpu[k].dtype());
  }
  // The draws are the device's: no transfer between them and the device loops that read them.
  hp::RandomStream stream(1);
  auto f = hp::function({}, {stream.uniform({hp::constant(3.0, DType::Int64)}) * 2.0}, {}, {}, {.device = device});
  std::function<const hp::Apply*(const hp::Variable&)> find_draw = [&](const hp::Variable& v) -> const hp::Apply* {
    if (!v.owner()) return nullptr;
    if (v.owner()->op().name() == "uniform") return v.owner().get();
    for (const hp::Variable& input : v.owner()->inputs())
      if (const hp::Apply* found = find_draw(input)) return found;
    return nullptr;
  };
  const hp::Apply* draw = find_draw(f.graph_outputs().at(0));
  ASSERT_NE(draw, nullptr) << f.debugprint();
  EXPECT_TRUE(hp::backend_for(hp::Device::parse(device)).runs(*draw));
  for (const std::string& w : warnings) EXPECT_EQ(w.find("uniform"), std::string::npos) << w;
}

TEST_P(DeviceBackend, AllocFillsDeviceMemory) {
  REQUIRE_DEVICE();
  auto v = hp::vector("v");
  auto n = hp::scalar("n", DType::Int64);
  auto f = hp::tensor(DType::Float32, {}, "f");
  // A scalar, a row broadcast down symbolic rows, a float32 fill, and an alloc read by a loop.
  expect_device_matches_reference({v, n, f},
                                  {hp::alloc(2.5, {n, 3}), hp::alloc(v, {n, hp::shape_i(v, 0)}), hp::alloc(f, {n}),
                                   hp::exp(hp::alloc(v * 2.0, {2, n, hp::shape_i(v, 0)})) + 1.0},
                                  {Array::from({1.0, -2.0, 3.0}), Array::scalar(4, DType::Int64), Array::scalar(1.5, DType::Float32)},
                                  device);
  auto g = hp::function({v, n}, {hp::alloc(v, {n, 2})}, {}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::Error>([&] { g({Array::from({1.0, 2.0, 3.0}), Array::scalar(2, DType::Int64)}); }, {"(3,)"}));
  EXPECT_TRUE(hp::backend_for(hp::Device::parse(device)).runs(*hp::alloc(v, {n}).owner()));
}

TEST_P(DeviceBackend, TakingRowsByAnIntegerVectorRunsOnTheDevice) {
  REQUIRE_DEVICE();
  auto x = hp::matrix("x"), t = hp::tensor3("t");
  auto i = hp::tensor(DType::Int64, {-1}, "i"), j = hp::tensor(DType::Int32, {-1}, "j");
  const Array xv = hp::random::uniform({5, 3}, -1, 1), tv = hp::random::uniform({4, 2, 3}, -1, 1);
  const Array iv = Array::from({4, 0, -1, 2, 2}, DType::Int64), jv = Array::from({1, -3, 2}, DType::Int32);
  // Rows of a matrix and of a 3-d array, negative and repeated indices, a transposed (copied) operand,
  // rows read by a loop, and the gradient (an indexed increment).
  auto taken = x[{hp::Index(i)}];
  expect_device_matches_reference(
      {x, t, i, j},
      {taken, t[{hp::Index(j)}], x.T()[{hp::Index(j)}], hp::exp(taken) * 2.0, hp::grad(hp::sum(hp::sqr(taken)), x)},
      {xv, tv, iv, jv}, device, 1e-12);
  EXPECT_TRUE(hp::backend_for(hp::Device::parse(device)).runs(*taken.owner()));
  auto f = hp::function({x, i}, {taken}, {}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { f({xv, Array::from({0, 5}, DType::Int64)}); },
                                          {"[take]", "index 5 is out of bounds for axis 0 with size 5"}));
  EXPECT_TRUE(arrays_close(f({xv, iv})[0], hp::function({x, i}, {taken}, {}, {}, {.device = "cpu"})({xv, iv})[0], 0, 0));
}

TEST_P(DeviceBackend, IndexArraysOnSeveralAxesRunOnTheDevice) {
  REQUIRE_DEVICE();
  auto x = hp::matrix("x"), t = hp::tensor3("t"), y = hp::tensor(DType::Int64, {-1}, "y");
  auto rows = hp::tensor(DType::Int32, {-1, 1}, "rows"), columns = hp::tensor(DType::Int64, {-1}, "columns");
  auto grid = hp::tensor(DType::Int64, {-1, -1}, "grid");
  const Array xv = hp::random::uniform({4, 3}, 0.1, 1), tv = hp::random::uniform({3, 2, 4}, -1, 1);
  const Array yv = Array::from({2, 0, 1, 2}, DType::Int64), rv = Array::from({3, 0, -1}, DType::Int32).reshape({3, 1});
  const Array cv = Array::from({2, 0}, DType::Int64), gv = Array::from({0, 2, 1, 1}, DType::Int64).reshape({2, 2});
  // The tutorial's negative log-likelihood (p[arange(n), y]) and its gradient (an increment at pairs);
  // columns; index arrays broadcast together; a 2-d index array; axes apart (index dimensions first);
  // assignments and increments at repeated positions.
  auto n = hp::shape_i(y, 0);
  auto nll = -hp::mean(hp::log(x)[{hp::Index(hp::arange(n)), hp::Index(y)}]);
  auto pairs = x[{hp::Index(rows), hp::Index(columns)}];
  auto apart = t[{hp::Index(columns), hp::slice_all(), hp::Index(y[{hp::slice(0, 2)}])}];
  expect_device_matches_reference(
      {x, t, y, rows, columns, grid},
      {nll, hp::grad(nll, x), x[{hp::slice_all(), hp::Index(columns)}], pairs, x[{hp::Index(grid)}], apart,
       hp::grad(hp::sum(apart * apart), t), hp::set_subtensor(pairs, hp::ones_like(pairs) * 7.0), hp::inc_subtensor(pairs, 2.0),
       hp::inc_subtensor(x[{hp::Index(y), hp::Index(y)}], hp::arange(4.0))},
      {xv, tv, yv, rv, cv, gv}, device, 1e-12);
  const hp::Backend& backend = hp::backend_for(hp::Device::parse(device));
  ASSERT_TRUE(pairs.owner());
  EXPECT_TRUE(backend.runs(*pairs.owner()));
  auto put = hp::inc_subtensor(pairs, 2.0);
  ASSERT_TRUE(put.owner());
  EXPECT_TRUE(backend.runs(*put.owner()));
  // Errors as on the CPU: an index out of bounds on either axis, index arrays that do not broadcast.
  auto f = hp::function({x, rows, columns}, {pairs, put}, {}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { f({xv, rv, Array::from({2, 3}, DType::Int64)}); },
                                          {"[take]", "index 3 is out of bounds for axis 1 with size 3"}));
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { f({xv, Array::from({4}, DType::Int32).reshape({1, 1}), cv}); },
                                          {"index 4 is out of bounds for axis 0 with size 4"}));
  auto g = hp::function({x, y, columns}, {x[{hp::Index(y), hp::Index(columns)}]}, {}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { g({xv, yv, cv}); }, {"shape mismatch", "(4,) (2,)"}));
  // An array indexed by itself: its buffer is not written in place while the kernel reads the indices.
  auto k = hp::tensor(DType::Int64, {-1}, "k");
  auto shifted = k + int64_t{1};
  expect_device_matches_reference({k}, {hp::inc_subtensor(shifted[{hp::Index(shifted)}], int64_t{1})},
                                  {Array::from({0, 1, -1}, DType::Int64)}, device, 0);
  expect_device_matches_reference({k}, {hp::set_subtensor(shifted[{hp::Index(shifted)}], int64_t{5})},
                                  {Array::from({0, 1, -1}, DType::Int64)}, device, 0);
}

TEST_P(DeviceBackend, SoftmaxAndLogSoftmaxRunOnTheDevice) {
  REQUIRE_DEVICE();
  auto x = hp::matrix("x"), t = hp::tensor3("t"), empty = hp::matrix("empty");
  Array xv = hp::random::uniform({4, 5}, -3, 3);
  xv.set_from_double(0, 800.0);  // exp would overflow without the row's max subtracted
  xv.set_from_double(1, -800.0);
  const Array tv = hp::random::uniform({2, 3, 4}, -2, 2);
  // Along each axis, of a transposed view, of a 3-d array's middle axis, log-softmax, an empty axis,
  // and the gradients (composed of loops and reductions, on the device too).
  auto probabilities = hp::softmax(x, 1);
  expect_device_matches_reference(
      {x, t, empty},
      {probabilities, hp::softmax(x, 0), hp::softmax(x.T(), 1), hp::softmax(t, 1), hp::log_softmax(x, 1), hp::log_softmax(t, 2),
       hp::softmax(empty, 1), hp::grad(hp::sum(hp::sqr(probabilities) * x), x), hp::grad(hp::sum(hp::log_softmax(t, 0) * t), t)},
      {xv, tv, Array::zeros({3, 0})}, device, 1e-12);
  auto f32 = hp::tensor(DType::Float32, {-1, -1}, "f32");
  expect_device_matches_reference({f32}, {hp::softmax(f32, 1), hp::log_softmax(f32, 0)}, {xv.astype(DType::Float32)}, device, 1e-6);
  ASSERT_TRUE(probabilities.owner());
  EXPECT_TRUE(hp::backend_for(hp::Device::parse(device)).runs(*probabilities.owner()));
}

TEST_P(DeviceBackend, ArgmaxAndArgminRunOnTheDevice) {
  REQUIRE_DEVICE();
  auto x = hp::matrix("x"), t = hp::tensor3("t"), i = hp::tensor(DType::Int32, {-1, -1}, "i");
  Array xv = hp::random::uniform({4, 5}, -3, 3);
  xv.set_from_double(7, std::nan(""));  // a NaN wins, as in NumPy
  xv.set_from_double(12, xv.get_as_double(13));  // a tie: the first
  const Array tv = hp::random::uniform({2, 3, 4}, -2, 2), iv = Array::from({3, 1, 3, 2, 0, 0}, DType::Int32).reshape({2, 3});
  // Each axis, the flattened array, a transposed view, ints with ties, and the seed's error rate.
  auto labels = hp::tensor(DType::Int64, {-1}, "labels");
  auto errors = hp::mean(hp::neq(hp::argmax(hp::softmax(x, 1), 1), labels));
  expect_device_matches_reference(
      {x, t, i, labels},
      {hp::argmax(x, 1), hp::argmin(x, 0), hp::argmax(t, std::nullopt), hp::argmin(t, 1), hp::argmax(x.T(), 1), hp::argmax(i, 0),
       hp::argmin(i, 1), errors},
      {xv, tv, iv, Array::from({0, 1, 2, 3}, DType::Int64)}, device, 0);
  ASSERT_TRUE(hp::argmax(x, 1).owner());
  EXPECT_TRUE(hp::backend_for(hp::Device::parse(device)).runs(*hp::argmax(x, 1).owner()));
  auto f = hp::function({x}, {hp::argmax(x, 1)}, {}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({Array::zeros({3, 0})}); }, {"[argmax] of an empty sequence", "(3, 0)"}));
  EXPECT_EQ(f({Array::zeros({0, 3})})[0].shape(), (hp::Shape{0}));
}

TEST_P(DeviceBackend, RunningSumsAndLogicalReductionsRunOnTheDevice) {
  REQUIRE_DEVICE();
  auto x = hp::matrix("x"), i = hp::tensor(DType::Int32, {-1, -1}, "i"), b = hp::tensor(DType::Bool, {-1}, "b");
  auto n = hp::vector("n");
  const Array xv = hp::random::uniform({3, 4}, -2, 2), nv = Array::from({0.0, std::nan(""), 0.0});
  const Array iv = Array::from({2000000000, 3, 2000000000, -4, 5, 6}, DType::Int32).reshape({3, 2});  // products wrap in int64
  const Array bv = Array::from({1, 0, 1, 1}, DType::Bool);
  // Running sums and products along each axis (the flattened array too, a transposed view, ints widened
  // to int64 and wrapping, bools counted), any and all (a NaN is true), and a running sum's gradient.
  auto running = hp::cumsum(x, 1);
  auto anything = hp::any(hp::gt(x, 1.5), {1});
  expect_device_matches_reference(
      {x, i, b, n},
      {running, hp::cumsum(x, 0), hp::cumprod(x.T(), 1), hp::cumsum(x), hp::cumprod(i, 0), hp::cumprod(i * i, 1), hp::cumsum(b),
       anything, hp::all(x, {0}), hp::any(n), hp::all(n), hp::all(hp::lt(i, 10)), hp::grad(hp::sum(hp::cumsum(x * x, 0)), x)},
      {xv, iv, bv, nv}, device, 1e-12);
  const hp::Backend& backend = hp::backend_for(hp::Device::parse(device));
  ASSERT_TRUE(running.owner() && anything.owner());
  EXPECT_TRUE(backend.runs(*running.owner()));
  EXPECT_TRUE(backend.runs(*anything.owner()));
}

TEST_P(DeviceBackend, IndexedAssignmentsAndIncrementsRunOnTheDevice) {
  REQUIRE_DEVICE();
  auto x = hp::matrix("x"), y = hp::matrix("y"), v = hp::vector("v");
  auto n = hp::tensor(DType::Int32, {-1, -1}, "n");
  auto i = hp::tensor(DType::Int64, {-1}, "i");
  const Array xv = hp::random::uniform({5, 4}, -1, 1), yv = hp::random::uniform({2, 2}, -1, 1), vv = hp::random::uniform({4}, -1, 1);
  const Array nv = Array::from({1, 2, 3, 4, 5, 6, 7, 8}, DType::Int32).reshape({2, 4}), iv = Array::from({3, 0, -2, 3, 3}, DType::Int64);
  // Basic regions (strided, an integer row, a broadcast value, a value of another dtype converted to
  // x's), rows picked by a vector with repeats (increments accumulate; the last assignment stays), and
  // the gradient of taken rows (an indexed increment).
  auto taken = x[{hp::Index(i)}];
  auto added_rows = hp::inc_subtensor(taken, hp::ones_like(taken) * 2.0);
  expect_device_matches_reference(
      {x, y, v, n, i},
      {hp::set_subtensor(x[{hp::slice(1, 5, 2), hp::slice(0, 4, 2)}], y), hp::inc_subtensor(x[{hp::Index(2)}], v),
       hp::inc_subtensor(x[{hp::slice(1, std::nullopt)}], v), hp::inc_subtensor(n[{hp::slice_all(), hp::Index(1)}], 2.75),
       hp::set_subtensor(n[{hp::Index(0)}], v), added_rows, hp::set_subtensor(taken, hp::dimshuffle(hp::arange(5.0), {0, hp::kNewAxis})),
       hp::grad(hp::sum(hp::sqr(taken) * 3.0), x)},
      {xv, yv, vv, nv, iv}, device, 1e-12);
  const hp::Backend& backend = hp::backend_for(hp::Device::parse(device));
  ASSERT_TRUE(added_rows.owner());
  EXPECT_TRUE(backend.runs(*added_rows.owner()));
  EXPECT_TRUE(backend.runs(*hp::inc_subtensor(x[{hp::Index(2)}], v).owner()));
  // An index out of bounds is an IndexError naming it, as on the CPU; a region the value does not fit a
  // ShapeError.
  auto f = hp::function({x, i}, {added_rows}, {}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { f({xv, Array::from({0, -6}, DType::Int64)}); }, {"index -6 is out of bounds"}));
  auto g = hp::function({x, y}, {hp::set_subtensor(x[{hp::slice(0, 2)}], y)}, {}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { g({xv, yv}); }, {"[set_subtensor]", "(2, 2)", "(2, 4)"}));
  // An update of a shared variable in device memory writes into its buffer.
  auto w = hp::shared(Array::zeros({4, 3}), "w");
  auto rows = hp::tensor(DType::Int64, {-1}, "rows");
  auto step = hp::function({rows}, {}, {{w, hp::inc_subtensor(w[{hp::Index(rows)}], 1.0)}}, {}, {.device = device});
  step({Array::from({1, 3, 1}, DType::Int64)});
  const hp::Storage* before = w.get_value(true).storage().get();
  step({Array::from({0, 1}, DType::Int64)});
  EXPECT_EQ(w.get_value(true).storage().get(), before);
  const Array want = Array::from({1.0, 1.0, 1.0, 3.0, 3.0, 3.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0}).reshape({4, 3});
  EXPECT_TRUE(arrays_close(w.get_value(), want, 0, 0));
}

TEST_P(DeviceBackend, LoopsAndBranchesRunOnTheDevice) {
  REQUIRE_DEVICE();
  static std::vector<std::string> warnings;
  warnings.clear();
  hp::set_warning_handler([](const std::string& message) { warnings.push_back(message); });
  auto x = hp::matrix("x"), h0 = hp::vector("h0"), w = hp::matrix("w"), c = hp::scalar("c");
  // An Elman recurrence (its states in a buffer on the device, its step compiled for the device), its last
  // state alone (a ring of states), its gradient (a loop backwards), and a lazy branch with its gradient.
  hp::ScanResult elman = hp::scan(
      [](const std::vector<hp::Variable>& a) { return hp::ScanStep(hp::tanh(a[0] + hp::dot(a[1], a[2]))); }, {x}, {h0}, {w});
  auto last = elman[0][{-1}];
  auto branch = hp::ifelse(hp::gt(c, 0.0), hp::sum(hp::exp(x)), hp::sum(x) * 2.0);
  const Array xv = hp::random::uniform({5, 3}, -1, 1), h0v = hp::random::uniform({3}, -1, 1), wv = hp::random::uniform({3, 3}, -1, 1);
  for (double cv : {1.0, -1.0})
    expect_device_matches_reference({x, h0, w, c}, {elman[0], last, hp::grad(hp::sum(last), w), branch, hp::grad(branch, x)},
                                    {xv, h0v, wv, Array::scalar(cv)}, device, 1e-12);
  // A loop that stops on a condition read back from the device.
  auto limit = hp::scalar("limit"), start = hp::scalar("start");
  hp::ScanOptions bound;
  bound.n_steps = 100;
  hp::ScanResult powers = hp::scan(
      [&](const std::vector<hp::Variable>& a) {
        hp::Variable next = a[0] * 2.0;
        return hp::ScanStep({next}, {}, hp::gt(next, a[1]));
      },
      {}, {hp::OutputInfo(start)}, {limit}, bound);
  auto doubling = hp::function({limit, start}, {powers[0]}, {}, {}, {.device = device});
  EXPECT_TRUE(arrays_close(doubling({Array::scalar(45), Array::scalar(1)})[0], Array::from({2, 4, 8, 16, 32, 64}), 0, 0));
  // debugprint shows the step as compiled for the device (its inputs moved there), not as built.
  const std::string printed = hp::function({x, h0, w}, {elman[0]}, {}, {}, {.device = device}).debugprint();
  const size_t inner = printed.find("Inner graphs:");
  ASSERT_NE(inner, std::string::npos) << printed;
  EXPECT_NE(printed.find("transfer{" + device + "}", inner), std::string::npos) << printed;
  hp::set_warning_handler(nullptr);
  for (const std::string& message : warnings)
    EXPECT_TRUE(message.find("scan has no") == std::string::npos && message.find("if_else has no") == std::string::npos) << message;
  const hp::Backend& backend = hp::backend_for(hp::Device::parse(device));
  ASSERT_TRUE(elman[0].owner() && branch.owner());
  EXPECT_TRUE(backend.runs(*elman[0].owner()));
  EXPECT_TRUE(backend.runs(*branch.owner()));
}

TEST_P(DeviceBackend, FunctionsTakeAndMayReturnDeviceArrays) {
  REQUIRE_DEVICE();
  const hp::Device here = hp::Device::parse(device);
  auto x = hp::vector("x");
  const Array xv = Array::from({1.0, -2.0, 3.0}), on_device = hp::to_device(xv, here);
  // A device array is used where it is; results stay on the device when asked (as a loop's step asks).
  auto twice = hp::function({x}, {hp::exp(x) * 2.0}, {}, {}, {.device = device, .results_on_device = true});
  const Array result = twice({on_device})[0];
  EXPECT_EQ(result.device(), here);
  const Array want = hp::function({x}, {hp::exp(x) * 2.0}, {}, {}, {.device = "cpu"})({xv})[0];
  EXPECT_TRUE(arrays_close(hp::to_host(result), want, 1e-12, 1e-12));
  const Array from_host_input = twice({xv})[0];
  EXPECT_EQ(from_host_input.device(), here);
  EXPECT_TRUE(arrays_close(hp::to_host(from_host_input), want, 1e-12, 1e-12));
  // A function on the host, or one reading the input on the host (sort), brings a device array back.
  EXPECT_TRUE(arrays_close(hp::function({x}, {x * 3.0}, {}, {}, {.device = "cpu"})({on_device})[0], Array::from({3.0, -6.0, 9.0}), 0, 0));
  EXPECT_TRUE(arrays_close(hp::function({x}, {hp::sort(x, 0)}, {}, {}, {.device = device})({on_device})[0],
                           Array::from({-2.0, 1.0, 3.0}), 0, 0));
  // An input converted to the declared dtype first.
  auto f32 = hp::tensor(DType::Float64, {-1}, "f32");
  EXPECT_TRUE(arrays_close(hp::function({f32}, {f32 + 1.0}, {}, {}, {.device = device})({hp::to_device(Array::from({1, 2}, DType::Int32), here)})[0],
                           Array::from({2.0, 3.0}), 0, 0));
}

TEST_P(DeviceBackend, JoiningSplittingAndReshapingRunOnTheDevice) {
  REQUIRE_DEVICE();
  auto x = hp::matrix("x"), y = hp::matrix("y");
  auto i = hp::tensor(DType::Int32, {-1, -1}, "i");
  const Array xv = hp::random::uniform({2, 3}, -1, 1), yv = hp::random::uniform({4, 3}, -1, 1);
  const Array iv = Array::from({1, 2, 3, 4, 5, 6}, DType::Int32).reshape({2, 3});
  // Pieces of other dtypes (converted), along each axis, of transposed views; pieces split off as views;
  // reshapes of contiguous values (views) and of a transposed one (copied first); and the gradients.
  auto joined = hp::concatenate({x, y, hp::cast(i, DType::Float64)}, 0);
  auto pieces = hp::split(y, {1, 3}, 0);
  auto flat = hp::flatten(x.T() * 2.0);
  expect_device_matches_reference(
      {x, y, i},
      {joined, hp::concatenate({x.T(), y.T()}, 1), hp::stack({x, x * 2.0}, 1), pieces[0], pieces[1] * 3.0, flat,
       hp::reshape(y, {hp::Operand(int64_t{3}), hp::Operand(int64_t{4})}) + 1.0, hp::grad(hp::sum(hp::sqr(joined)), x),
       hp::grad(hp::sum(flat * flat), x)},
      {xv, yv, iv}, device, 1e-12);
  const hp::Backend& backend = hp::backend_for(hp::Device::parse(device));
  ASSERT_TRUE(joined.owner() && pieces[0].owner());
  EXPECT_TRUE(backend.runs(*joined.owner()));
  EXPECT_TRUE(backend.runs(*pieces[0].owner()));
  auto f = hp::function({x, y}, {hp::concatenate({x, y}, 1)}, {}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { f({xv, yv}); }, {"[concatenate]", "(2, 3)", "(4, 3)", "differ on axis 0"}));
}

TEST_P(DeviceBackend, Float16ConvertsAsIeeeOnTheDevice) {
  REQUIRE_DEVICE();
  // float16 lives in device memory as its bits and in kernels as a float: every one of the 65536 bit
  // patterns widens to float32 exactly as on the CPU (NaNs stay NaNs), and narrows back to itself.
  Array bits = Array::empty({65536}, DType::Float16);
  for (int b = 0; b < 65536; ++b) {
    const uint16_t pattern = static_cast<uint16_t>(b);
    std::memcpy(bits.data<_Float16>() + b, &pattern, 2);
  }
  auto h = hp::tensor(DType::Float16, {-1}, "h");
  auto widen = hp::function({h}, {hp::cast(h, DType::Float32), hp::cast(hp::cast(h, DType::Float32), DType::Float16)}, {}, {},
                            {.device = device});
  const auto wide = widen({bits});
  int wrong = 0;
  for (int b = 0; b < 65536; ++b) {
    const float want = static_cast<float>(bits.data<_Float16>()[b]), got = wide[0].data<float>()[b];
    uint16_t back;
    std::memcpy(&back, wide[1].data<_Float16>() + b, 2);
    const bool nan = want != want;
    if (nan ? got == got || (back & 0x7c00) != 0x7c00 || (back & 0x3ff) == 0 : std::memcmp(&want, &got, 4) != 0 || back != b) ++wrong;
  }
  EXPECT_EQ(wrong, 0);
  // Narrowing rounds to nearest even once, by hand: float32 ties go to the even neighbour, 65520 (halfway
  // past the largest half) overflows, subnormals round at 2^-24; a float64 just above a tie rounds up
  // (through float32 it would tie and round down).
  auto f = hp::tensor(DType::Float32, {-1}, "f");
  auto d = hp::vector("d");
  auto narrow = hp::function({f, d}, {hp::cast(f, DType::Float16), hp::cast(d, DType::Float16)}, {}, {}, {.device = device});
  const double ulp = std::ldexp(1.0, -10), tiny = std::ldexp(1.0, -24);
  const auto narrowed = narrow({Array::from({65519.0, 65520.0, 1 + ulp / 2, 1 + 3 * ulp / 2, tiny / 2, 3 * tiny / 2, -0.0, 1e-8, -70000},
                                            DType::Float32),
                                Array::from({1 + ulp / 2 + std::ldexp(1.0, -40), 65519.99, -tiny * 1.5, 0.1})});
  const std::vector<double> want_f = {65504, INFINITY, 1, 1 + 2 * ulp, 0, 2 * tiny, -0.0, 0, -INFINITY};
  const std::vector<double> want_d = {1 + ulp, 65504, -2 * tiny, 0.0999755859375};  // (np.float16(0.1) is 0.0999755859375)
  for (size_t k = 0; k < want_f.size(); ++k) {
    EXPECT_EQ(narrowed[0].get_as_double(k), want_f[k]) << k;
    EXPECT_EQ(std::signbit(narrowed[0].get_as_double(k)), std::signbit(want_f[k])) << k;
  }
  for (size_t k = 0; k < want_d.size(); ++k) EXPECT_EQ(narrowed[1].get_as_double(k), want_d[k]) << k;
}

TEST_P(DeviceBackend, Float16ComputesInFloat32AndStaysOnTheDevice) {
  REQUIRE_DEVICE();
  // float16 loops, reductions, products (in float32, as the CPU), softmax, running sums, argmax, indexing
  // and its gradient run on the device and match the reference within float16's rounding.
  auto x = hp::tensor(DType::Float16, {-1, -1}, "x"), w = hp::tensor(DType::Float16, {-1, -1}, "w");
  auto i = hp::tensor(DType::Int64, {-1}, "i");
  const Array xv = hp::random::uniform({4, 5}, -2, 2).astype(DType::Float16), wv = hp::random::uniform({5, 3}, -1, 1).astype(DType::Float16);
  const Array iv = Array::from({3, 0, 3, -1}, DType::Int64);
  auto product = hp::dot(x, w);
  auto loop = hp::exp(x) * 2.0f + x;
  auto total = hp::sum(hp::sqr(x), {1});
  auto probabilities = hp::softmax(x, 1);
  auto running = hp::cumsum(x, 1);
  auto taken = x[{hp::Index(i)}];
  expect_device_matches_reference(
      {x, w, i},
      {loop, total, hp::max(x, {0}), product, probabilities, running, hp::argmax(x, 1), taken,
       hp::inc_subtensor(taken, hp::ones_like(taken)), hp::set_subtensor(x[{hp::Index(1)}], hp::cast(hp::arange(5.0), DType::Float16)),
       hp::grad(hp::sum(hp::tanh(product)), w)},
      {xv, wv, iv}, device, 4e-3);
  const hp::Backend& backend = hp::backend_for(hp::Device::parse(device));
  for (const hp::Variable& value : {product, loop, total, probabilities, running, taken}) {
    ASSERT_TRUE(value.owner());
    EXPECT_TRUE(backend.runs(*value.owner())) << value.owner()->op().name();
  }
  // A shared float16 variable is updated in device memory.
  auto v = hp::shared(Array::zeros({3}, DType::Float16), "v");
  auto step = hp::function({}, {}, {{v, v + 0.5f}}, {}, {.device = device});
  step({});
  step({});
  EXPECT_EQ(v.get_value(true).device(), hp::Device::parse(device));
  EXPECT_TRUE(arrays_close(v.get_value(), Array::full({3}, 1.0, DType::Float16), 0, 0));
}

TEST_P(DeviceBackend, ComplexNumbersComputeOnTheDevice) {
  REQUIRE_DEVICE();
  // The scalar table's complex rows (away from branch cuts), complex parts of real numbers, sums and
  // products, matrix products (CLBlast's and cuBLAS's complex GEMMs), indexing and a real cost's
  // gradient, on the device against the reference (std::complex).
  using Z = std::complex<double>;
  auto z = hp::tensor(DType::Complex128, {-1}, "z"), w = hp::tensor(DType::Complex128, {-1}, "w");
  auto m = hp::tensor(DType::Complex128, {-1, -1}, "m"), r = hp::vector("r");
  auto c = hp::tensor(DType::Complex64, {-1}, "c");
  auto i = hp::tensor(DType::Int64, {-1}, "i");
  const Array zv = Array::from_vector<Z>({{0.5, 0.3}, {-1.2, 0.7}, {0.1, -0.9}, {1.4, 1.1}, {-0.6, -0.4}, {0.8, 0.2}});
  const Array wv = Array::from_vector<Z>({{1.1, -0.2}, {0.4, 0.9}, {-0.7, 0.5}, {0.3, -1.3}, {1.0, 0.6}, {-0.5, -0.8}});
  const Array mv = Array::from_vector<Z>({{1, 1}, {2, -0.5}, {0, 1}, {1, -1}, {0.25, 3}, {-1, 0}}, {2, 3});
  const Array rv = Array::from({-1.5, 0.0, 2.0, -0.0, 3.0, -2.0}), iv = Array::from({4, 0, -1, 4}, DType::Int64);
  auto loop = hp::exp(z) * w + hp::sqrt(z) / w;
  auto total = hp::sum(z * w);
  auto product = hp::dot(m, m.T());
  expect_device_matches_reference(
      {z, w, m, r, i},
      {loop, -z + hp::conj(w), hp::log(z), hp::sin(z), hp::cos(z), hp::tan(z), hp::sinh(z), hp::cosh(z), hp::tanh(z), hp::arcsin(z),
       hp::arccos(z), hp::arctan(z), hp::arcsinh(z), hp::arccosh(z), hp::arctanh(z), hp::pow(z, w), hp::exp2(z), hp::log2(z),
       hp::log10(z), hp::reciprocal(z), hp::sqr(w), hp::abs(z), hp::angle(w), hp::real(z) + hp::imag(w), hp::eq(z, w),
       hp::neq(z, z), hp::isnan(z / 0.0), hp::isinf(z / 0.0), hp::complex(r, hp::real(z)), hp::real(r) + hp::imag(r), hp::angle(r),
       hp::conj(r), total, hp::prod(w), product, hp::switch_(hp::gt(r, 0.0), z, w), z[{hp::Index(i)}],
       hp::inc_subtensor(z[{hp::Index(i)}], w[{hp::slice(0, 4)}]), hp::grad(hp::sum(hp::abs(z * w)), z)},
      {zv, wv, mv, rv, iv}, device, 1e-9);
  // complex64, converted to and from complex128.
  expect_device_matches_reference({c, z}, {hp::exp(c) * c, hp::sum(c), hp::cast(c, DType::Complex128) + z, hp::cast(z, DType::Complex64)},
                                  {zv.astype(DType::Complex64), wv}, device, 1e-5);
  const hp::Backend& backend = hp::backend_for(hp::Device::parse(device));
  for (const hp::Variable& value : {loop, total, product}) {
    ASSERT_TRUE(value.owner());
    EXPECT_TRUE(backend.runs(*value.owner())) << value.owner()->op().name();
  }
}

TEST_P(DeviceBackend, SortingRunsOnTheDevice) {
  REQUIRE_DEVICE();
  // argsort (a stable merge sort: ties keep their order, NaN last), sort (argsort and take_along_axis)
  // along each axis and of views, rows of odd and long lengths (many passes), ints with ties, float16,
  // and sort's gradient (inc_along_axis), against the reference.
  // (NaNs only in the argsorts' input: arrays_close counts NaN unequal to NaN.)
  auto x = hp::matrix("x"), y = hp::matrix("y"), v = hp::vector("v"), h = hp::tensor(DType::Float16, {-1}, "h");
  auto n = hp::tensor(DType::Int32, {-1, -1}, "n"), k = hp::tensor(DType::Int64, {-1, -1}, "k");
  Array yv = hp::random::uniform({5, 7}, -2, 2);
  yv.set_from_double(9, yv.get_as_double(11));  // a tie in row 1
  yv.set_from_double(20, -INFINITY);
  Array xv = yv.copy();
  xv.set_from_double(3, std::nan(""));
  xv.set_from_double(17, std::nan(""));
  const Array vv = hp::random::uniform({1000}, -1, 1), nv = Array::from({3, 1, 3, 2, 1, 3, 0, 2, 2, 1, 0, 3}, DType::Int32).reshape({3, 4});
  const Array kv = Array::from({6, 0, -1, 3, 3, 2, 1, 0, 4, 5, -7, 1, 2, 2, 2, 0, 1, 6, 5, 4, 3, 0, 0, 0, 1, 2, 3, 4, 5, 6, 0, 6, 0, 6, 0},
                               DType::Int64).reshape({5, 7});
  auto sorted_rows = hp::sort(y, 1);
  auto order = hp::argsort(x, 0);
  auto gathered = hp::take_along_axis(y, k, 1);
  auto increment = hp::grad(hp::sum(hp::sqr(gathered)), y);
  // searchsorted of both sides: ties, NaNs (last), ints searched for floats.
  auto search = hp::searchsorted(hp::sort(hp::flatten(x), 0), x, true);
  expect_device_matches_reference(
      {x, y, v, h, n, k},
      {search, hp::searchsorted(hp::sort(hp::flatten(x), 0), x.T()), hp::searchsorted(hp::sort(hp::flatten(n), 0), y * 2.0),
       hp::searchsorted(hp::sort(v, 0), y, true), sorted_rows, order, hp::argsort(x, 1), hp::sort(y.T(), 1), hp::argsort(x.T(), 1), hp::argsort(v, 0), hp::sort(v * 3.0, 0),
       hp::argsort(n, 1), hp::argsort(n, 0), hp::sort(h, 0), gathered, hp::grad(hp::sum(sorted_rows * hp::arange(7.0)), y), increment},
      {xv, yv, vv, Array::from({2.5, -1, 0.1, -1, 7}, DType::Float16), nv, kv}, device, 0);
  const hp::Backend& backend = hp::backend_for(hp::Device::parse(device));
  for (const hp::Variable& value : {order, gathered, increment, search}) {
    ASSERT_TRUE(value.owner());
    EXPECT_TRUE(backend.runs(*value.owner())) << value.owner()->op().name();
  }
  // Rows of one, no rows, and an index out of bounds (an IndexError as on the CPU).
  auto f = hp::function({x}, {hp::argsort(x, 1)}, {}, {}, {.device = device});
  EXPECT_TRUE(arrays_close(f({Array::zeros({3, 1})})[0], Array::zeros({3, 1}, DType::Int64), 0, 0));
  EXPECT_EQ(f({Array::zeros({0, 4})})[0].shape(), (hp::Shape{0, 4}));
  auto g = hp::function({y, k}, {gathered}, {}, {}, {.device = device});
  Array bad = kv.copy();
  bad.set_from_double(12, 7);
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { g({yv, bad}); }, {"[take_along_axis] index 7 is out of bounds for axis 1 with size 7"}));
}

TEST_P(DeviceBackend, HostOnlyOpsRunOnTheHostWithTransfersAround) {
  REQUIRE_DEVICE();
  auto x = hp::matrix("x"), w = hp::matrix("w");
  // searchsorted with a sorter has no device kernel: it runs on the host, the loops, the product (CLBlast)
  // and the argsort on the device, and its result goes back there.
  auto hidden = hp::tanh(hp::dot(x, w) + 1.0);
  auto flat = hp::flatten(hidden);
  auto search = hp::searchsorted(flat, hidden * 2.0, false, hp::argsort(flat, 0));
  auto out = search * 3 + hp::argsort(hidden, 1);
  const std::vector<Array> values{hp::random::uniform({3, 5}, -1, 1), hp::random::uniform({5, 4}, -1, 1)};
  expect_device_matches_reference({x, w}, {out, hp::sum(hidden)}, values, device);
  auto f = hp::function({x, w}, {out}, {}, {}, {.device = device});
  const std::string printed = f.debugprint();
  EXPECT_NE(printed.find("transfer{" + device + "}"), std::string::npos) << printed;
  EXPECT_NE(printed.find("transfer{cpu}"), std::string::npos) << printed;
  ASSERT_TRUE(search.owner());
  EXPECT_FALSE(hp::backend_for(hp::Device::parse(device)).runs(*search.owner()));
}

TEST_P(DeviceBackend, SparseProductsRunOnTheDevice) {
  REQUIRE_DEVICE();
  // The product with a sparse matrix runs on the device (cuSPARSE, or the generated kernel of its format), and
  // so does the weight update a training step makes of it (usmm, in place): the matrix travels as its arrays.
  const Array dense = Array::from({{1, 0, 2, 0}, {0, 0, 3, 0}, {4, 5, 0, 6}}, DType::Float32);
  for (hp::SparseFormat format : {hp::SparseFormat::Csr, hp::SparseFormat::Csc}) {
    SCOPED_TRACE(hp::sparse_format_name(format));
    auto x = hp::sparse::matrix(format, "x", DType::Float32), b = hp::matrix("b", DType::Float32), g = hp::matrix("g", DType::Float32);
    const Array X = Array::from_sparse(hp::SparseArray::from_dense(dense, format));
    const Array B = hp::random::uniform({4, 5}, -1, 1).astype(DType::Float32), G = hp::random::uniform({3, 5}, -1, 1).astype(DType::Float32);
    const Array W0 = hp::random::uniform({4, 5}, -1, 1).astype(DType::Float32);
    expect_device_matches_reference({x, b}, {hp::sparse::structured_dot(x, b), hp::tanh(hp::dot(x, b))}, {X, B}, device, 1e-5);
    hp::SharedVariable w = hp::shared(W0, "w");
    auto step = hp::function({x, g}, {hp::sum(w)}, {{w, w - 0.5 * hp::sparse::structured_dot(x.T(), g)}}, {}, {.device = device});
    const std::string printed = step.debugprint();
    EXPECT_NE(printed.find("usmm"), std::string::npos) << printed;
    step({X, G});
    // W0 - 0.5 * dense.T @ G, by hand.
    Array want = W0.copy();
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 5; ++j) {
        double acc = 0;
        for (int64_t r = 0; r < 3; ++r) acc += dense.at<float>({r, i}) * G.at<float>({r, j});
        want.set<float>({i, j}, static_cast<float>(W0.at<float>({i, j}) - 0.5 * acc));
      }
    EXPECT_TRUE(arrays_close(w.get_value(), want, 1e-5, 1e-6));
    auto product = hp::sparse::structured_dot(x, b);
    EXPECT_TRUE(hp::backend_for(hp::Device::parse(device)).runs(*product.owner()));
  }
}

TEST_P(DeviceBackend, ShapeArithmeticStaysOnTheHost) {
  REQUIRE_DEVICE();
  auto x = hp::vector("x");
  // x.shape[0] * 2 + 1: the shape's vector, its entry and the arithmetic stay on the host (they follow
  // their data); three transfers: x in, the scalar in, the result out.
  auto f = hp::function({x}, {x * hp::cast(hp::shape(x)[{hp::Index(0)}] * 2 + 1, DType::Float64)}, {}, {}, {.device = device});
  EXPECT_TRUE(arrays_close(f({Array::from({0.0, 1.0, 2.0})})[0], Array::from({0.0, 7.0, 14.0}), 0, 0));
  const std::string printed = f.debugprint();
  size_t transfers = 0;
  for (size_t at = printed.find("transfer{"); at != std::string::npos; at = printed.find("transfer{", at + 1)) ++transfers;
  EXPECT_EQ(transfers, 3u) << printed;
}

TEST_P(DeviceBackend, GradientsAndUpdatesRunOnTheDevice) {
  REQUIRE_DEVICE();
  // A logistic regression step: its elementwise work on the device, the products on the host; the
  // shared weights are updated as on the CPU.
  auto x = hp::matrix("x"), y = hp::vector("y");
  const Array w0 = hp::random::uniform({4}, -0.5, 0.5), xv = hp::random::uniform({6, 4}, -1, 1),
              yv = Array::from({1, 0, 1, 1, 0, 0});
  auto run = [&](const std::string& on) {
    auto w = hp::shared(w0.copy(), "w");
    auto p = hp::sigmoid(hp::dot(x, w));
    auto cost = hp::mean(-y * hp::log(p) - (1.0 - y) * hp::log(1.0 - p));
    auto g = hp::grad(cost, w);
    auto step = hp::function({x, y}, {cost}, {{w, w - 0.5 * g}}, {}, {.device = on});
    std::vector<double> costs;
    for (int k = 0; k < 3; ++k) costs.push_back(step({xv, yv})[0].item());
    return std::make_pair(costs, w.get_value());
  };
  const auto [device_costs, device_w] = run(device);
  const auto [cpu_costs, cpu_w] = run("cpu");
  for (size_t k = 0; k < cpu_costs.size(); ++k) EXPECT_NEAR(device_costs[k], cpu_costs[k], 1e-12) << k;
  EXPECT_TRUE(arrays_close(device_w, cpu_w, 1e-12, 1e-12));
}

TEST_P(DeviceBackend, SharedVariablesLiveOnTheDeviceAndAreUpdatedThereInPlace) {
  REQUIRE_DEVICE();
  const hp::Device here = hp::Device::parse(device);
  auto x = hp::vector("x");
  auto w = hp::shared(Array::from({1.0, 2.0, 3.0}), "w");
  auto step = hp::function({x}, {hp::sum(w * x)}, {{w, w - 0.5 * x}}, {}, {.device = device});
  // The function moved w into the device's memory; get_value() is a host copy, borrow=true the device array.
  EXPECT_EQ(w.get_value(true).device(), here);
  EXPECT_EQ(w.get_value().device(), hp::Device{});
  const hp::Storage* before = w.get_value(true).storage().get();
  EXPECT_DOUBLE_EQ(step({Array::from({2.0, 2.0, 2.0})})[0].item(), 12.0);
  // The update overwrote w's buffer (no transfer, no new buffer).
  EXPECT_EQ(w.get_value(true).storage().get(), before);
  EXPECT_TRUE(arrays_close(w.get_value(), Array::from({0.0, 1.0, 2.0}), 0, 0));
  // set_value keeps w where it lives; a CPU function reading w gets it moved for its call.
  w.set_value(Array::from({4.0, 5.0, 6.0}));
  EXPECT_EQ(w.get_value(true).device(), here);
  auto on_cpu = hp::function({}, {w * 2.0}, {}, {}, {.device = "cpu"});
  EXPECT_TRUE(arrays_close(on_cpu({})[0], Array::from({8.0, 10.0, 12.0}), 0, 0));
  // A call that fails changes no shared variable.
  EXPECT_TRUE(throws_with<hp::Error>([&] { step({Array::from({1.0, 2.0})}); }, {"(2,)", "(3,)"}));
  EXPECT_TRUE(arrays_close(w.get_value(), Array::from({4.0, 5.0, 6.0}), 0, 0));
  // A borrowed device array in the caller's hands is not overwritten: the update then makes a new one.
  const Array held = w.get_value(true);
  step({Array::from({2.0, 2.0, 2.0})});
  EXPECT_NE(w.get_value(true).storage().get(), held.storage().get());
  EXPECT_TRUE(arrays_close(hp::to_host(held), Array::from({4.0, 5.0, 6.0}), 0, 0));
  EXPECT_TRUE(arrays_close(w.get_value(), Array::from({3.0, 4.0, 5.0}), 0, 0));
}

TEST_P(DeviceBackend, DeviceArraysRefuseHostAccessAndComeBackWhole) {
  REQUIRE_DEVICE();
  const Array host = Array::from({{1, 2, 3}, {4, 5, 6}});
  const Array on_device = hp::to_device(host, hp::Device::parse(device));
  EXPECT_EQ(on_device.device(), hp::Device::parse(device));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { (void)on_device.index(0, 1).index(0, 2).item(); },
                                          {"[array]", device, "transfer it first"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { (void)on_device.data<double>(); }, {"transfer it first"}));
  EXPECT_NE(on_device.str().find(device), std::string::npos);
  EXPECT_TRUE(arrays_close(hp::to_host(on_device), host, 0, 0));
  EXPECT_TRUE(arrays_close(hp::to_host(on_device.transpose()), host.transpose(), 0, 0));  // a device view
  EXPECT_TRUE(arrays_close(hp::to_host(hp::copy_where_it_is(on_device.transpose())), host.transpose(), 0, 0));
  // A result larger than the device's memory is a MemoryError naming the op and the bytes, and the call
  // changes no shared variable.
  auto x = hp::vector("x");
  auto w = hp::shared(Array::from({1.0}), "w");
  auto huge = hp::function({x}, {hp::dimshuffle(x, {0, hp::kNewAxis}) * hp::dimshuffle(x, {hp::kNewAxis, 0})},
                           {{w, w + 1.0}}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::MemoryError>([&] { huge({Array::zeros({int64_t{1} << 21})}); },
                                           {"[mul]", "cannot allocate", "35184372088832 bytes", device}));
  EXPECT_EQ(w.get_value().item(), 1.0);
}

TEST_P(DeviceBackend, MatrixProductsRunThroughCLBlast) {
  REQUIRE_DEVICE();
  if (!has_blas(GetParam())) GTEST_SKIP() << "the device's BLAS (CLBlast: libclblast1; cuBLAS) is not installed";
  auto x = hp::matrix("x"), y = hp::matrix("y"), z = hp::matrix("z");
  const std::vector<Array> values{hp::random::uniform({4, 6}, -1, 1), hp::random::uniform({6, 3}, -1, 1),
                                  hp::random::uniform({4, 3}, -1, 1)};
  // Plain, transposed (read in place by BLAS), strided and reversed (copied first) operands; z + a * dot
  // as one GEMM.
  expect_device_matches_reference(
      {x, y, z},
      {hp::dot(x, y), hp::dot(y.T(), x.T()), hp::dot(x[{hp::slice(std::nullopt, std::nullopt, 2)}], y),
       z - 0.5 * hp::dot(x, y), hp::tanh(hp::dot(x, y) + z),
       // Reversed rows and columns (negative strides: copied first, never read forward by BLAS).
       hp::dot(x[{hp::slice(std::nullopt, std::nullopt, -1)}], y[{hp::slice(std::nullopt, std::nullopt), hp::slice(std::nullopt, std::nullopt, -1)}])},
      values, device, 1e-12);
  auto f = hp::tensor(DType::Float32, {-1, -1}, "f"), g = hp::tensor(DType::Float32, {-1, -1}, "g");
  expect_device_matches_reference({f, g}, {hp::dot(f, g) * 2.0f}, {values[0].astype(DType::Float32), values[1].astype(DType::Float32)},
                                  device, 1e-5);
  auto h = hp::function({x, y}, {hp::dot(x, y)}, {}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { h({values[0], values[0]}); }, {"[dot]", "(4, 6) and (4, 6) not aligned: 6 (axis 1) != 4 (axis 0)"}));
  // Products with vectors (a strided one among them), as one-row or one-column matrices.
  auto v = hp::vector("v"), u = hp::vector("u");
  auto matrix_vector = hp::dot(x, v);
  expect_device_matches_reference(
      {x, v, u},
      {matrix_vector, hp::dot(u, x), hp::dot(v, v), hp::dot(x.T(), u), hp::dot(x, v[{hp::slice(std::nullopt, std::nullopt, -1)}]),
       hp::dot(u[{hp::slice(0, 4)}], x[{hp::slice_all(), hp::slice(0, 6, 2)}])},
      {values[0], hp::random::uniform({6}, -1, 1), hp::random::uniform({4}, -1, 1)}, device, 1e-12);
  ASSERT_TRUE(matrix_vector.owner());
  EXPECT_TRUE(hp::backend_for(hp::Device::parse(device)).runs(*matrix_vector.owner()));
  // An empty inner dimension: an empty sum (zeros, and z scaled for a GEMM), whatever BLAS does with it.
  expect_device_matches_reference({x, y, z}, {hp::dot(x, y), z * 0.5 + hp::dot(x, y) * 2.0},
                                  {Array::zeros({4, 0}), Array::zeros({0, 3}), values[2]}, device, 1e-12);
}

TEST_P(DeviceBackend, AHostFallbackIsSaidOncePerOp) {
  REQUIRE_DEVICE();
  static std::vector<std::string> warnings;
  warnings.clear();
  hp::set_warning_handler([](const std::string& message) { warnings.push_back(message); });
  auto x = hp::vector("x");
  // argtopk has no device kernel (and no other test here uses it: the warning is said once per process):
  // two of them reading device values give one warning naming it.
  auto f = hp::function({x}, {hp::argtopk(hp::exp(x), 1, 0), hp::argtopk(x * 2.0, 1, 0)}, {}, {}, {.device = device});
  auto g = hp::function({x}, {hp::argtopk(hp::exp(x) + 1.0, 1, 0)}, {}, {}, {.device = device});
  hp::set_warning_handler(nullptr);
  int about_argtopk = 0;
  for (const std::string& w : warnings) about_argtopk += w.find("argtopk has no kernel") != std::string::npos && w.find(device) != std::string::npos;
  EXPECT_EQ(about_argtopk, 1) << ::testing::PrintToString(warnings);
  EXPECT_TRUE(arrays_close(f({Array::from({1.0, 0.0})})[1], Array::from({0}, DType::Int64), 0, 0));
}

TEST_P(DeviceBackend, ReductionsWithTheirFusedProducersMatchTheReference) {
  REQUIRE_DEVICE();
  auto x = hp::tensor3("x"), v = hp::vector("v");
  const Array xv = hp::random::uniform({3, 4, 5}, -2, 2), vv = hp::random::uniform({5}, 0.5, 1.5);
  std::vector<hp::Variable> outs;
  for (const std::vector<int>& axes : std::vector<std::vector<int>>{{}, {0}, {1}, {2}, {0, 2}, {1, 2}}) {
    const hp::Axes chosen = axes.empty() ? hp::Axes() : hp::Axes(axes);
    outs.push_back(hp::sum(hp::sqr(x * v), chosen));
    outs.push_back(hp::max(x - v, chosen));
    outs.push_back(hp::min(hp::tanh(x), chosen));
    outs.push_back(hp::prod(x * 0.1 + 1.0, chosen));
  }
  outs.push_back(hp::softmax(hp::reshape(x, {12, 5}), 1));  // max, exp-sum and a loop
  outs.push_back(hp::mean(x.T() * 2.0, {0}));                 // a transposed (device view) operand
  expect_device_matches_reference({x, v}, outs, {xv, vv}, device, 1e-12);
  auto i = hp::tensor(DType::Int32, {-1, -1}, "i");
  expect_device_matches_reference({i}, {hp::sum(i * 3, {1}), hp::max(i, {0}), hp::prod(i, {1})},
                                  {Array::from({{1, -2, 3}, {4, 5, -6}}, DType::Int32)}, device);
  auto f = hp::function({v}, {hp::max(v * 2.0, {0})}, {}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({Array::zeros({0})}); }, {"zero-size", "no identity"}));
}

TEST_P(DeviceBackend, LargeReductionsRunInTwoPasses) {
  REQUIRE_DEVICE();
  // Few kept elements and many reduced ones: chunks reduced in parallel, then the chunks' results (NaN
  // and the dtypes' rules as in one pass).
  auto x = hp::matrix("x"), v = hp::vector("v");
  auto i = hp::tensor(DType::Int32, {-1}, "i");
  Array xv = hp::random::uniform({3, 30001}, 0.5, 1.5), vv = hp::random::uniform({100000}, -1, 1);
  vv.set_from_double(77777, std::nan(""));
  const Array iv = hp::random::uniform({50000}, -1000, 1000).astype(DType::Int32);
  expect_device_matches_reference(
      {x, i},
      {hp::sum(x, {1}), hp::sum(hp::exp(x)), hp::prod(x, {1}) * 0.0 + hp::max(x, {1}), hp::min(x * -2.0), hp::max(x.T(), {0}),
       hp::any(hp::gt(x, 1.4999)), hp::all(hp::gt(x, 0.5), {1}), hp::sum(i), hp::max(i), hp::mean(x * x)},
      {xv, iv}, device, 1e-12);
  // A NaN decides the max wherever its chunk is; a float32 sum accumulates in double as in one pass.
  auto f32 = hp::tensor(DType::Float32, {-1}, "f32");
  expect_device_matches_reference({v, f32}, {hp::isnan(hp::max(v)), hp::max(v[{hp::slice(0, 77777)}]), hp::sum(f32)}, {vv, xv.reshape({-1}).astype(DType::Float32)}, device, 1e-6);
}

TEST_P(DeviceBackend, BasicIndexingMakesViewsOfDeviceMemory) {
  REQUIRE_DEVICE();
  auto x = hp::matrix("x");
  auto i = hp::scalar("i", DType::Int64);
  const Array xv = hp::random::uniform({5, 6}, -1, 1);
  // Rows, strided columns, a symbolic index (read on the host): views of the device array, computed on.
  auto out1 = hp::exp(x[{hp::slice(1, 4)}]) * 2.0;
  auto out2 = hp::sum(x[{hp::slice(std::nullopt, std::nullopt), hp::slice(std::nullopt, std::nullopt, 2)}] * 3.0, {1});
  auto out3 = hp::tanh(x[{i}]) + 1.0;
  expect_device_matches_reference({x, i}, {out1, out2, out3, hp::dot(x[{hp::slice(0, 2)}].T(), x[{hp::slice(3, 5)}])},
                                  {xv, Array::scalar(3, DType::Int64)}, device);
  auto f = hp::function({x, i}, {out3}, {}, {}, {.device = device});
  const std::string printed = f.debugprint();
  // The index stays on the host; the indexed value never comes back before the loop reads it.
  EXPECT_EQ(printed.find("transfer{cpu}", printed.find("subtensor")), std::string::npos) << printed;
}

TEST_P(DeviceBackend, BuiltKernelsAreKeptOnDiskForLaterProcesses) {
  REQUIRE_DEVICE();
  const std::string saved = hp::config().compiledir;
  const std::string directory = ::testing::TempDir() + "hypatia_device_binaries_" + GetParam();
  std::filesystem::remove_all(directory);
  hp::config().compiledir = directory;
  auto x = hp::vector("x");
  // A loop no other test builds, so this process builds it now (and writes its binary).
  auto f = hp::function({x}, {hp::cosh(hp::arcsinh(hp::sinh(x * x)))}, {}, {}, {.device = device});
  EXPECT_TRUE(arrays_close(f({Array::from({0.5})})[0], Array::from({std::cosh(std::asinh(std::sinh(0.25)))})));
  const std::string folder = directory + (GetParam() == "opencl" ? "/opencl" : "/cuda");
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) entries += entry.path().extension() == ".bin";
  EXPECT_GE(entries, 1);
  hp::config().compiledir = saved;
  std::filesystem::remove_all(directory);
}

INSTANTIATE_TEST_SUITE_P(, DeviceBackend, ::testing::Values("opencl", "cuda"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });
