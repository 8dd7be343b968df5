// Linear algebra on devices (GpuBackend's LinalgKernel): the factorizations through the runtime's solver,
// triangular solves by row-major trsm, LU pivots and triangles by generated kernels, the infos read per
// batch. On CUDA the solver is cuSOLVER and cuBLAS (where a GPU is present). PoCL has no solver library, so
// on OpenCL the test gives the device backend a runtime whose solver is LAPACK on the host, reading and
// writing the same device views cuSOLVER would: everything but the library calls runs as on a GPU.
#include <cblas.h>
#include <gtest/gtest.h>

#include <cmath>

#include "backend/backend.h"
#include "backend/gpu/gpu_backend.h"
#include "backend/opencl/opencl_backend.h"
#include "backend/opencl/runtime.h"
#include "hypatia/hypatia.h"
#include "hypatia/linalg.h"
#include "ops/fft.h"
#include "ops/lapack.h"
#include "ops/linalg.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::throws_with;

namespace {

// The OpenCL runtime with a solver: LAPACK on host copies of the device views, written back in place.
class HostSolverRuntime final : public hp::GpuRuntime {
 public:
  explicit HostSolverRuntime(std::unique_ptr<hp::GpuRuntime> inner) : inner_(std::move(inner)) {}
  hp::Device device() const override { return inner_->device(); }
  hp::GpuDialect dialect() const override { return inner_->dialect(); }
  bool has_double() const override { return inner_->has_double(); }
  Array empty(const hp::Shape& shape, DType dtype) override { return inner_->empty(shape, dtype); }
  Array to_device(const Array& host) override { return inner_->to_device(host); }
  Array to_host(const Array& value) override { return inner_->to_host(value); }
  void launch(const std::string& source, const std::string& name, const std::vector<const Array*>& arrays,
              const std::vector<int64_t>& scalars, int64_t total) override {
    inner_->launch(source, name, arrays, scalars, total);
  }
  bool has_blas() const override { return inner_->has_blas(); }
  void gemm(double alpha, const Array& a, const Array& b, double beta, Array& c) override { inner_->gemm(alpha, a, b, beta, c); }
  bool has_fft() const override { return inner_->has_fft(); }
  bool fft(const hp::FftGeometry& g, Array& in, Array& out) override { return inner_->fft(g, in, out); }

  bool has_solver() const override { return true; }
  void potrf(bool upper, const Array& a, const Array& info) override {
    ++calls;
    Array m = to_host(a);
    const int n = static_cast<int>(a.shape()[0]);
    const int result = m.dtype() == DType::Float32 ? hp::lapack::potrf(upper ? 'U' : 'L', n, m.data<float>(), std::max(1, n))
                                                   : hp::lapack::potrf(upper ? 'U' : 'L', n, m.data<double>(), std::max(1, n));
    write(a, m);
    write(info, Array::from_vector<int32_t>({result}));
  }
  void getrf(const Array& a, const Array& pivots, const Array& info) override {
    ++calls;
    Array m = to_host(a), p = Array::empty({a.shape()[0]}, DType::Int32);
    const int n = static_cast<int>(a.shape()[0]);
    const int result = m.dtype() == DType::Float32 ? hp::lapack::getrf(n, n, m.data<float>(), std::max(1, n), p.data<int32_t>())
                                                   : hp::lapack::getrf(n, n, m.data<double>(), std::max(1, n), p.data<int32_t>());
    write(a, m);
    write(pivots, p);
    write(info, Array::from_vector<int32_t>({result}));
  }
  void syevd(bool upper, bool vectors, const Array& a, const Array& w, const Array& info) override {
    ++calls;
    Array m = to_host(a), values = Array::empty({a.shape()[0]}, a.dtype());
    const int n = static_cast<int>(a.shape()[0]);
    int result = 0;
    auto run = [&]<class T>() {
      T query;
      int iquery;
      hp::lapack::syevd(vectors ? 'V' : 'N', upper ? 'U' : 'L', n, m.data<T>(), std::max(1, n), values.data<T>(), &query, -1, &iquery, -1);
      std::vector<T> work(static_cast<size_t>(query) + 1);
      std::vector<int> iwork(std::max(1, iquery));
      result = hp::lapack::syevd(vectors ? 'V' : 'N', upper ? 'U' : 'L', n, m.data<T>(), std::max(1, n), values.data<T>(), work.data(),
                                 static_cast<int>(work.size()), iwork.data(), static_cast<int>(iwork.size()));
    };
    if (a.dtype() == DType::Float32) run.template operator()<float>();
    else run.template operator()<double>();
    write(a, m);
    write(w, values);
    write(info, Array::from_vector<int32_t>({result}));
  }
  void trsm(bool lower, bool transpose, bool unit_diagonal, const Array& t, const Array& b) override {
    ++calls;
    Array tm = to_host(t), bm = to_host(b);
    const int n = static_cast<int>(b.shape()[0]), k = static_cast<int>(b.shape()[1]);
    const auto uplo = lower ? CblasLower : CblasUpper;
    const auto op = transpose ? CblasTrans : CblasNoTrans;
    const auto diag = unit_diagonal ? CblasUnit : CblasNonUnit;
    if (t.dtype() == DType::Float32)
      cblas_strsm(CblasRowMajor, CblasLeft, uplo, op, diag, n, k, 1.0f, tm.data<float>(), n, bm.data<float>(), k);
    else
      cblas_dtrsm(CblasRowMajor, CblasLeft, uplo, op, diag, n, k, 1.0, tm.data<double>(), n, bm.data<double>(), k);
    write(b, bm);
  }

  static inline int calls = 0;  // solver calls made: the device path ran (not the host fallback)

 private:
  // A host array written over the device view (contiguous, at its offset).
  static void write(const Array& view, const Array& host) {
    const hp::opencl::Buffer& buffer = hp::opencl::buffer_of(view);
    const size_t nbytes = static_cast<size_t>(host.size()) * host.itemsize();
    hp::opencl::check(hp::opencl::api()->clEnqueueWriteBuffer(buffer.context().queue(), buffer.mem(), CL_TRUE,
                                                              static_cast<size_t>(view.offset()) * view.itemsize(), nbytes,
                                                              host.raw_data(), 0, nullptr, nullptr),
                      "writing a solver's result");
  }

  std::unique_ptr<hp::GpuRuntime> inner_;
};

class DeviceLinalg : public ::testing::TestWithParam<std::string> {
 protected:
  // The device under test, with its solver; empty (and `why`) where there is none.
  std::string device_with_solver(std::string& why) {
    const bool opencl = GetParam() == "opencl";
    const std::string device = hp::testing::first_device(opencl ? hp::Device::Kind::OpenCL : hp::Device::Kind::Cuda, why);
    if (device.empty() || !opencl) return device;
    bool made = false;
    hp::gpu_backend_for(hp::Device::parse(device), [&] {
      made = true;
      return std::make_unique<HostSolverRuntime>(hp::opencl_runtime(hp::Device::parse(device)));
    });
    static bool ours = made;  // (the first call in this process decides which runtime the backend holds)
    if (!ours) why = "this process made the OpenCL backend before this test (ctest runs each test alone)";
    return ours ? device : "";
  }
};

#define REQUIRE_SOLVER()                                 \
  std::string why;                                       \
  const std::string device = device_with_solver(why);    \
  if (device.empty()) GTEST_SKIP() << why

// The outputs on the device against the reference backend, having made solver calls there.
void expect_on_device(const std::vector<hp::Variable>& inputs, const std::vector<hp::Variable>& outputs,
                      const std::vector<Array>& values, const std::string& device, double tolerance = 1e-10) {
  auto on_device = hp::function(inputs, outputs, {}, {}, {.device = device});
  auto reference = hp::function(inputs, outputs, {}, {}, {.mode = hp::Mode::Unoptimized});
  const int before = HostSolverRuntime::calls;
  const auto got = on_device(values), want = reference(values);
  if (device.starts_with("opencl")) EXPECT_GT(HostSolverRuntime::calls, before) << "no solver call: the host ran it";
  for (size_t k = 0; k < outputs.size(); ++k) {
    EXPECT_EQ(got[k].dtype(), want[k].dtype()) << k;
    EXPECT_TRUE(arrays_close(got[k], want[k], tolerance, tolerance)) << "output " << k << "\n" << got[k] << "\n" << want[k];
  }
}

// A batch of well-conditioned symmetric positive definite matrices (m m^T + n I) and general ones.
Array spd(int64_t batch, int64_t n, DType dtype, uint64_t seed) {
  hp::random::seed(seed);
  Array m = hp::random::uniform({batch, n, n}, -1, 1), out = Array::empty({batch, n, n});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = i == j ? static_cast<double>(n) : 0.0;
        for (int64_t l = 0; l < n; ++l) sum += m.at<double>({b, i, l}) * m.at<double>({b, j, l});
        out.set<double>({b, i, j}, sum);
      }
  return out.astype(dtype);
}
Array general(const hp::Shape& shape, DType dtype, uint64_t seed) {
  hp::random::seed(seed);
  return hp::random::uniform(shape, -1, 1).astype(dtype);
}

}  // namespace

TEST_P(DeviceLinalg, CholeskyAndItsSolvesMatchTheReference) {
  REQUIRE_SOLVER();
  for (DType dtype : {DType::Float64, DType::Float32}) {
    const double tolerance = dtype == DType::Float32 ? 2e-4 : 1e-10;
    auto a = hp::tensor(dtype, {-1, -1, -1}, "a"), b = hp::tensor(dtype, {-1, -1, -1}, "b"), v = hp::tensor(dtype, {-1, -1}, "v");
    const Array av = spd(3, 5, dtype, 1), bv = general({3, 5, 2}, dtype, 2), vv = general({3, 5}, dtype, 3);
    const auto upper = hp::cholesky(a, false);
    expect_on_device({a}, {hp::cholesky(a), upper}, {av}, device, tolerance);
    expect_on_device({a, b, v},
                     {hp::solve(a, b, {.structure = hp::MatrixStructure::PositiveDefinite}),
                      hp::solve(a, v, {.structure = hp::MatrixStructure::PositiveDefinite, .lower = true}),
                      hp::cho_solve(hp::cholesky(a), b), hp::cho_solve(upper, v, false)},
                     {av, bv, vv}, device, tolerance);
  }
}

TEST_P(DeviceLinalg, GeneralSolvesInversesAndSharedFactorsMatchTheReference) {
  REQUIRE_SOLVER();
  for (DType dtype : {DType::Float64, DType::Float32}) {
    const double tolerance = dtype == DType::Float32 ? 2e-3 : 1e-9;
    auto a = hp::tensor(dtype, {-1, -1, -1}, "a"), b = hp::tensor(dtype, {-1, -1, -1}, "b"), v = hp::tensor(dtype, {-1, -1}, "v");
    const Array av = general({2, 6, 6}, dtype, 4), bv = general({2, 6, 3}, dtype, 5), vv = general({2, 6}, dtype, 6);
    expect_on_device({a, b, v},
                     {hp::solve(a, b), hp::solve(a, v, {.transposed = true}), hp::matrix_inverse(a),
                      // Two solves and a determinant of one matrix share its LU factors (the linear_algebra rewrite).
                      hp::matmul(hp::matrix_inverse(a), b) + hp::solve(a, b, {.transposed = true}), hp::det(a),
                      hp::slogdet(a).sign, hp::slogdet(a).logabsdet},
                     {av, bv, vv}, device, tolerance);
  }
}

TEST_P(DeviceLinalg, TriangularSolvesMatchTheReference) {
  REQUIRE_SOLVER();
  auto a = hp::tensor3("a"), b = hp::tensor3("b");
  Array av = general({2, 4, 4}, DType::Float64, 7);
  for (int64_t e = 0; e < 2; ++e)
    for (int64_t i = 0; i < 4; ++i) av.set<double>({e, i, i}, 2.0 + static_cast<double>(i));
  const Array bv = general({2, 4, 3}, DType::Float64, 8);
  std::vector<hp::Variable> outputs;
  for (bool lower : {true, false})
    for (bool transposed : {false, true})
      for (bool unit : {false, true}) outputs.push_back(hp::solve_triangular(a, b, lower, transposed, unit));
  expect_on_device({a, b}, outputs, {av, bv}, device);
}

TEST_P(DeviceLinalg, EigenvaluesAndVectorsMatchTheReference) {
  REQUIRE_SOLVER();
  auto a = hp::tensor3("a");
  const Array av = spd(2, 5, DType::Float64, 9);
  const hp::Eigen lower = hp::eigh(a), upper = hp::eigh(a, false);
  // (Eigenvectors are unique up to sign: compare v diag(w) v^T, and |v|.)
  auto rebuilt = [](const hp::Eigen& e) { return hp::matmul(e.vectors * hp::dimshuffle(e.values, {0, hp::kNewAxis, 1}), hp::swapaxes(e.vectors, 1, 2)); };
  expect_on_device({a}, {lower.values, upper.values, hp::abs(lower.vectors), rebuilt(lower), rebuilt(upper), hp::eigvalsh(a)}, {av},
                   device, 1e-9);
}

TEST_P(DeviceLinalg, FactoredFormsReadViewsOfTheirFactorsAndCheckThePivots) {
  REQUIRE_SOLVER();
  // LU factors made once, then read through slices (views at an offset) by factored solves and
  // determinants, as a loaded graph may hold them.
  auto a = hp::tensor3("a"), b = hp::tensor3("b");
  const std::vector<hp::Variable> lu = hp::apply_op(std::make_shared<hp::LuFactor>(), {a});
  const hp::IndexList tail({hp::slice(1, std::nullopt)});
  const hp::Variable lu_tail = lu[0][tail], pivots_tail = lu[1][tail], b_tail = b[tail];
  const auto solve = hp::apply_op1(std::make_shared<hp::Solve>(hp::SolveOptions{}, false, true), {lu_tail, pivots_tail, b_tail});
  const auto det = hp::apply_op1(std::make_shared<hp::Determinant>(false, true), {lu_tail, pivots_tail});
  expect_on_device({a, b}, {solve, det, hp::solve(a, b)[tail], hp::det(a)[tail]},
                   {general({3, 4, 4}, DType::Float64, 12), general({3, 4, 2}, DType::Float64, 13)}, device, 1e-10);
  // Pivots that are not LAPACK's: the host's error.
  auto lu_in = hp::matrix("lu");
  auto pivots = hp::tensor(DType::Int32, {-1}, "pivots");
  auto rhs = hp::vector("rhs");
  const auto bad = hp::apply_op1(std::make_shared<hp::Solve>(hp::SolveOptions{}, true, true), {lu_in, pivots, rhs});
  auto f = hp::function({lu_in, pivots, rhs}, {bad}, {}, {}, {.device = device});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({hp::testing::values({2, 0, 0, 0, 2, 0, 0, 0, 2}, {3, 3}), Array::from({1, 7, 3}, DType::Int32), Array::zeros({3})}); },
                                          {"[solve] a pivot 7 outside 1..3"}));
}

TEST_P(DeviceLinalg, TheSolverOpsRunOnTheDeviceAndTheOthersOnTheHost) {
  REQUIRE_SOLVER();
  const hp::Backend& backend = hp::backend_for(hp::Device::parse(device));
  auto a = hp::matrix("a"), b = hp::matrix("b");
  auto f = hp::tensor(DType::Float32, {-1, -1}, "f");
  for (const hp::Variable& out : {hp::cholesky(a), hp::det(f), hp::slogdet(a).sign, hp::matrix_inverse(a), hp::solve(a, b),
                                  hp::solve_triangular(a, b, true), hp::cho_solve(a, b), hp::eigvalsh(f),
                                  hp::solve(a, b, {.structure = hp::MatrixStructure::PositiveDefinite})})
    EXPECT_TRUE(backend.runs(*out.owner())) << out.owner()->op().name();
  for (const hp::Variable& out : {hp::solve(a, b, {.structure = hp::MatrixStructure::Symmetric}), hp::eigvalsh(a, b),
                                  hp::singular_values(a), hp::pinv(a), hp::expm(a)})
    EXPECT_FALSE(backend.runs(*out.owner())) << out.owner()->op().name();
}

TEST_P(DeviceLinalg, FailuresAreTheHostsErrorsOrNaN) {
  REQUIRE_SOLVER();
  auto a = hp::tensor3("a"), b = hp::tensor3("b");
  // Entry (1,) of each batch fails: a singular matrix, one not positive definite, a zero on a diagonal.
  const Array singular = hp::testing::values({2, 0, 0, 3, 1, 2, 2, 4}, {2, 2, 2});
  const Array indefinite = hp::testing::values({2, 0, 0, 3, 1, 2, 2, 1}, {2, 2, 2});
  const Array rhs = hp::testing::values({1, 1, 1, 1}, {2, 2, 1});
  auto on_device = [&](const std::vector<hp::Variable>& inputs, const hp::Variable& out) {
    return hp::function(inputs, {out}, {}, {}, {.device = device});
  };
  EXPECT_TRUE(throws_with<hp::LinAlgError>([&] { on_device({a, b}, hp::solve(a, b))({singular, rhs}); },
                                           {"[solve] singular matrix in", "float64(2, 2, 2)", "(batch entry (1,))"}));
  // Determinants of singular matrices are 0 and (0, -inf), as NumPy's.
  const auto logdet = hp::function({a}, {hp::det(a), hp::slogdet(a).sign, hp::slogdet(a).logabsdet}, {}, {}, {.device = device})({singular});
  EXPECT_TRUE(arrays_close(logdet[0], hp::testing::values({6, 0}, {2})));
  EXPECT_TRUE(arrays_close(logdet[1], hp::testing::values({1, 0}, {2})));
  EXPECT_NEAR(logdet[2].get_as_double(0), std::log(6.0), 1e-12);
  EXPECT_TRUE(std::isinf(logdet[2].get_as_double(1)) && logdet[2].get_as_double(1) < 0);
  EXPECT_TRUE(throws_with<hp::LinAlgError>([&] { on_device({a}, hp::matrix_inverse(a))({singular}); },
                                           {"[matrix_inverse] singular matrix", "(batch entry (1,))"}));
  EXPECT_TRUE(throws_with<hp::LinAlgError>([&] { on_device({a}, hp::cholesky(a))({indefinite}); },
                                           {"[cholesky] the matrix is not positive definite (the leading minor of order 2",
                                            "(batch entry (1,))"}));
  const Array zero_on_diagonal = hp::testing::values({2, 0, 0, 3, 1, 0, 5, 0}, {2, 2, 2});
  EXPECT_TRUE(throws_with<hp::LinAlgError>([&] { on_device({a, b}, hp::solve_triangular(a, b, true))({zero_on_diagonal, rhs}); },
                                           {"[solve] singular matrix: a zero on the diagonal at 1", "(batch entry (1,))"}));
  // Theano's on_error='nan': the failing entry is NaN, the others the factor.
  const Array got = on_device({a}, hp::cholesky(a, true, true))({indefinite})[0];
  EXPECT_NEAR(got.at<double>({0, 0, 0}), std::sqrt(2.0), 1e-12);
  EXPECT_EQ(got.at<double>({0, 0, 1}), 0.0);
  for (int64_t i = 0; i < 4; ++i) EXPECT_TRUE(std::isnan(got.get_as_double(4 + i)));
  // Batch axes that broadcast run on the host, as do empty matrices.
  auto one = hp::tensor(DType::Float64, {1, -1, -1}, "one");
  expect_on_device({one, b}, {hp::solve(one, b), hp::cholesky(one)}, {spd(1, 3, DType::Float64, 10), general({4, 3, 2}, DType::Float64, 11)},
                   device);
  const auto empty = hp::function({a}, {hp::cholesky(a), hp::det(a)}, {}, {}, {.device = device})({Array::zeros({3, 0, 0})});
  EXPECT_EQ(empty[0].shape(), (hp::Shape{3, 0, 0}));
  EXPECT_TRUE(arrays_close(empty[1], hp::testing::values({1, 1, 1}, {3})));  // (the empty product, as NumPy)
}

INSTANTIATE_TEST_SUITE_P(, DeviceLinalg, ::testing::Values("opencl", "cuda"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });
