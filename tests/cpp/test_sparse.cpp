// The sparse ops (hypatia/sparse.h) in compiled functions: every op against dense products and sums written
// out here, both formats, explicit zeros, duplicates and unsorted indices, gradients by finite differences on
// the stored values (verify_grad_sparse), and the errors.
#include <gtest/gtest.h>

#include "hypatia/hypatia.h"
#include "test_util.h"

namespace hp = hypatia;
namespace sp = hypatia::sparse;
using hp::Array;
using hp::DType;
using hp::SparseArray;
using hp::SparseFormat;
using hp::Variable;
using hp::testing::arrays_close;
using hp::testing::throws_with;
using hp::testing::values;

namespace {

// [[1, 0, 2, 0],
//  [0, 0, 3, 0],
//  [4, 5, 0, 6]]
const Array kDense = values({1, 0, 2, 0, 0, 0, 3, 0, 4, 5, 0, 6}, {3, 4});

Array ints(std::vector<int32_t> v) { return Array::from_vector<int32_t>(v); }
Array sparse_of(const Array& dense, SparseFormat format) { return Array::from_sparse(SparseArray::from_dense(dense, format)); }

// The same matrix by rows with an explicit zero at (1, 1), a duplicate split of 4 at (2, 0) and row 2 unsorted.
Array messy_csr() {
  return Array::from_sparse(SparseArray(SparseFormat::Csr, 3, 4, values({2, 1, 0, 3, 6, 1, 5, 3}, {8}), ints({2, 0, 1, 2, 3, 0, 1, 0}),
                                        ints({0, 2, 4, 8})));
}

// Dense a @ b written out.
Array matmul(const Array& a, const Array& b) {
  const int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
  Array out = Array::zeros({m, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t l = 0; l < k; ++l) acc += a.at<double>({i, l}) * b.at<double>({l, j});
      out.set<double>({i, j}, acc);
    }
  return out;
}

Array dense(const Array& v) { return v.is_sparse() ? v.sparse().to_dense() : v; }

std::vector<Array> run(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs, const std::vector<Array>& args) {
  return hp::function(inputs, outputs)(args);
}

class SparseFormats : public ::testing::TestWithParam<SparseFormat> {};
INSTANTIATE_TEST_SUITE_P(, SparseFormats, ::testing::Values(SparseFormat::Csr, SparseFormat::Csc),
                         [](const auto& info) { return std::string(hp::sparse_format_name(info.param)); });

TEST_P(SparseFormats, ConversionsRoundTrip) {
  Variable x = sp::matrix(GetParam(), "x");
  EXPECT_EQ(x.type().str(), std::string(hp::sparse_format_name(GetParam())) + " float64(?, ?)");
  Variable d = hp::matrix("d");
  auto out = run({x, d}, {sp::dense_from_sparse(x), GetParam() == SparseFormat::Csr ? sp::csr_from_dense(d) : sp::csc_from_dense(d)},
                 {sparse_of(kDense, GetParam()), kDense});
  EXPECT_TRUE(arrays_close(out[0], kDense));
  ASSERT_TRUE(out[1].is_sparse());
  EXPECT_EQ(out[1].format(), GetParam());
  EXPECT_EQ(out[1].sparse().nnz(), 6);
  EXPECT_TRUE(arrays_close(dense(out[1]), kDense));
}

TEST_P(SparseFormats, ProductsAgainstDenseProducts) {
  Variable x = sp::matrix(GetParam(), "x"), b = hp::matrix("b"), v = hp::vector("v"), a = hp::matrix("a");
  const Array X = sparse_of(kDense, GetParam());
  const Array B = values({1, 2, 3, 4, 5, 6, 7, 8}, {4, 2}), V = values({1, -1, 2, 0.5}, {4}), A = values({1, 2, 3, 0, -1, 1}, {2, 3});
  auto out = run({x, b, v, a}, {sp::structured_dot(x, b), hp::dot(x, v), hp::dot(a, x), sp::dot(x, b), sp::dot(x, sp::transpose(x))},
                 {X, B, V, A});
  EXPECT_TRUE(arrays_close(out[0], matmul(kDense, B)));
  // [1 + 4, 3 * 2, 4 - 5 + 3] by hand.
  EXPECT_TRUE(arrays_close(out[1], values({5, 6, 2}, {3})));
  EXPECT_TRUE(arrays_close(out[2], matmul(A, kDense)));
  EXPECT_TRUE(arrays_close(out[3], matmul(kDense, B)));
  EXPECT_TRUE(arrays_close(out[4], matmul(kDense, kDense.transpose())));
}

TEST_P(SparseFormats, SparseTimesSparseAndTrueDot) {
  Variable x = sp::matrix(GetParam(), "x"), y = sp::csr_matrix("y"), b = hp::matrix("b");
  const Array Y = values({1, 0, 0, 2, 0, 0, 3, 0}, {4, 2}), B = values({0, 1, 2, 3, 4, 5, 6, 7}, {4, 2});
  auto out = run({x, y, b}, {sp::structured_dot(x, y), sp::true_dot(x, b)}, {sparse_of(kDense, GetParam()), sparse_of(Y, SparseFormat::Csr), B});
  ASSERT_TRUE(out[0].is_sparse());
  EXPECT_TRUE(arrays_close(dense(out[0]), matmul(kDense, Y)));
  ASSERT_TRUE(out[1].is_sparse());
  EXPECT_EQ(out[1].format(), GetParam());
  EXPECT_TRUE(arrays_close(dense(out[1]), matmul(kDense, B)));
}

TEST(Sparse, MessyInputsGiveTheMatrixTheyStandFor) {
  // Explicit zeros, a duplicate and unsorted indices: every op reads the matrix SciPy would.
  Variable x = sp::csr_matrix("x"), y = sp::csr_matrix("y"), b = hp::matrix("b");
  const Array B = values({1, 2, 3, 4, 5, 6, 7, 8}, {4, 2});
  auto out = run({x, y, b}, {sp::dense_from_sparse(x), x + y, x * y, x + hp::ones_like(hp::constant(kDense)), hp::dot(x, b), hp::sum(x),
                             hp::sum(x, 0), hp::sum(x, 1)},
                 {messy_csr(), sparse_of(kDense, SparseFormat::Csr), B});
  EXPECT_TRUE(arrays_close(out[0], kDense));
  EXPECT_TRUE(arrays_close(dense(out[1]), values({2, 0, 4, 0, 0, 0, 6, 0, 8, 10, 0, 12}, {3, 4})));
  EXPECT_TRUE(out[1].sparse().has_canonical_format());
  EXPECT_TRUE(arrays_close(dense(out[2]), values({1, 0, 4, 0, 0, 0, 9, 0, 16, 25, 0, 36}, {3, 4})));
  EXPECT_TRUE(arrays_close(out[3], values({2, 1, 3, 1, 1, 1, 4, 1, 5, 6, 1, 7}, {3, 4})));
  EXPECT_TRUE(arrays_close(out[4], matmul(kDense, B)));
  EXPECT_TRUE(arrays_close(out[5], Array::scalar(21)));
  EXPECT_TRUE(arrays_close(out[6], values({5, 5, 5, 6}, {4})));
  EXPECT_TRUE(arrays_close(out[7], values({3, 3, 15}, {3})));
}

TEST_P(SparseFormats, ElementwiseKeepsSparsityWherePossible) {
  Variable x = sp::matrix(GetParam(), "x"), d = hp::matrix("d"), r = hp::row("r"), s = hp::scalar("s");
  const Array D = values({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {3, 4});
  auto out = run({x, d, r, s}, {x * d, x * r, x * s, -x, hp::sin(x), hp::sqr(x), x / s, x - d, sp::cast(x, DType::Float32),
                                hp::cast(x, DType::Int32)},
                 {sparse_of(kDense, GetParam()), D, values({1, 10, 100, 1000}, {1, 4}), Array::scalar(2)});
  for (int k : {0, 1, 2, 3, 4, 5, 6, 8, 9}) {
    ASSERT_TRUE(out[k].is_sparse()) << k;
    EXPECT_EQ(out[k].sparse().nnz(), 6) << k;
  }
  EXPECT_TRUE(arrays_close(dense(out[0]), values({1, 0, 6, 0, 0, 0, 21, 0, 36, 50, 0, 72}, {3, 4})));
  EXPECT_TRUE(arrays_close(dense(out[1]), values({1, 0, 200, 0, 0, 0, 300, 0, 4, 50, 0, 6000}, {3, 4})));
  EXPECT_TRUE(arrays_close(dense(out[2]), values({2, 0, 4, 0, 0, 0, 6, 0, 8, 10, 0, 12}, {3, 4})));
  EXPECT_TRUE(arrays_close(dense(out[3]), values({-1, 0, -2, 0, 0, 0, -3, 0, -4, -5, 0, -6}, {3, 4})));
  EXPECT_NEAR(dense(out[4]).at<double>({2, 1}), std::sin(5.0), 1e-15);
  EXPECT_TRUE(arrays_close(dense(out[5]), values({1, 0, 4, 0, 0, 0, 9, 0, 16, 25, 0, 36}, {3, 4})));
  EXPECT_TRUE(arrays_close(dense(out[6]), values({0.5, 0, 1, 0, 0, 0, 1.5, 0, 2, 2.5, 0, 3}, {3, 4})));
  EXPECT_FALSE(out[7].is_sparse());
  EXPECT_TRUE(arrays_close(out[7], values({0, -2, -1, -4, -5, -6, -4, -8, -5, -5, -11, -6}, {3, 4})));
  EXPECT_EQ(out[8].dtype(), DType::Float32);
  EXPECT_EQ(out[9].dtype(), DType::Int32);
}

TEST_P(SparseFormats, ComparisonsAsSciPy) {
  Variable x = sp::matrix(GetParam(), "x"), y = sp::csr_matrix("y"), d = hp::matrix("d");
  const Array Y = sparse_of(values({0, 0, 2, 0, 0, 0, 3, 0, 4, 5, 0, 7}, {3, 4}), SparseFormat::Csr);
  auto out = run({x, y, d}, {x > 1.5, x < 1.5, hp::neq(x, y), x > d, 2.5 > x}, {sparse_of(kDense, GetParam()), Y, Array::ones({3, 4})});
  for (int k : {0, 1, 2, 4}) {
    ASSERT_TRUE(out[k].is_sparse()) << k;
    EXPECT_EQ(out[k].dtype(), DType::Bool) << k;
  }
  EXPECT_EQ(out[0].sparse().nnz(), 5);  // only stored positions can exceed 1.5
  EXPECT_TRUE(arrays_close(dense(out[0]), values({0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1}, {3, 4})));
  EXPECT_TRUE(arrays_close(dense(out[1]), values({1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0}, {3, 4})));
  EXPECT_TRUE(arrays_close(dense(out[2]), values({1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, {3, 4})));
  EXPECT_FALSE(out[3].is_sparse());
  EXPECT_TRUE(arrays_close(out[3], values({0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1}, {3, 4})));
  EXPECT_TRUE(arrays_close(dense(out[4]), values({1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 0}, {3, 4})));
  // Duplicates are summed before comparing: (2, 0) holds 1 + 3.
  EXPECT_TRUE(arrays_close(dense(run({x}, {x > 1.5}, {messy_csr().format() == GetParam() ? messy_csr() : Array::from_sparse(messy_csr().sparse().as_format(GetParam()))})[0]),
                           values({0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1}, {3, 4})));
}

TEST_P(SparseFormats, TransposeSumsAndStructure) {
  Variable x = sp::matrix(GetParam(), "x");
  auto out = run({x}, {x.T(), sp::sp_sum(x), sp::sp_sum(x, 0), sp::sp_sum(x, 1), sp::sp_ones_like(x), sp::sp_zeros_like(x),
                       sp::remove0(sp::with_data(x, sp::csm_data(x) * 0 + hp::sign(sp::csm_data(x) - 2.5) + 1))},
                 {sparse_of(kDense, GetParam())});
  ASSERT_TRUE(out[0].is_sparse());
  EXPECT_NE(out[0].format(), GetParam());
  EXPECT_TRUE(arrays_close(dense(out[0]), kDense.transpose().copy()));
  EXPECT_TRUE(arrays_close(out[1], Array::scalar(21)));
  EXPECT_TRUE(arrays_close(out[2], values({5, 5, 5, 6}, {4})));
  EXPECT_TRUE(arrays_close(out[3], values({3, 3, 15}, {3})));
  EXPECT_TRUE(arrays_close(dense(out[4]), values({1, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1}, {3, 4})));
  EXPECT_EQ(out[5].sparse().nnz(), 0);
  EXPECT_EQ(out[5].shape(), (hp::Shape{3, 4}));
  // sign(v - 2.5) + 1 is 0 for 1 and 2: remove0 keeps 3, 4, 5, 6.
  EXPECT_EQ(out[6].sparse().nnz(), 4);
}

TEST_P(SparseFormats, StackingAndIndexing) {
  Variable x = sp::matrix(GetParam(), "x"), y = sp::csr_matrix("y"), idx = hp::vector("idx", DType::Int64);
  const Array Y = values({0, 7, 0, 0, 0, 0, 0, 8}, {2, 4});
  auto out = run({x, y, idx}, {sp::vstack({x, y}), sp::hstack({x, x}), x[1], x[{hp::slice(1, 3), hp::slice(std::nullopt, -1)}],
                               x[{hp::slice_all(), 2}], x[{2, 1}], x[{-1, -1}], x[idx], x[{hp::slice_all(), idx}]},
                 {sparse_of(kDense, GetParam()), sparse_of(Y, SparseFormat::Csr), Array::from_vector<int64_t>({2, 0, 2, -3})});
  EXPECT_EQ(out[0].format(), GetParam());
  EXPECT_TRUE(arrays_close(dense(out[0]), values({1, 0, 2, 0, 0, 0, 3, 0, 4, 5, 0, 6, 0, 7, 0, 0, 0, 0, 0, 8}, {5, 4})));
  EXPECT_TRUE(arrays_close(dense(out[1]), values({1, 0, 2, 0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3, 0, 4, 5, 0, 6, 4, 5, 0, 6}, {3, 8})));
  EXPECT_TRUE(arrays_close(dense(out[2]), values({0, 0, 3, 0}, {1, 4})));
  EXPECT_TRUE(arrays_close(dense(out[3]), values({0, 0, 3, 4, 5, 0}, {2, 3})));
  EXPECT_TRUE(arrays_close(dense(out[4]), values({2, 3, 0}, {3, 1})));
  EXPECT_TRUE(arrays_close(out[5], Array::scalar(5)));
  EXPECT_TRUE(arrays_close(out[6], Array::scalar(6)));
  EXPECT_TRUE(arrays_close(dense(out[7]), values({4, 5, 0, 6, 1, 0, 2, 0, 4, 5, 0, 6, 1, 0, 2, 0}, {4, 4})));
  EXPECT_TRUE(arrays_close(dense(out[8]), values({2, 1, 2, 0, 3, 0, 3, 0, 0, 4, 0, 5}, {3, 4})));
}

TEST(Sparse, SumOverNoAxesIsTheMatrix) {
  Variable x = sp::csr_matrix("x");
  EXPECT_TRUE(hp::sum(x, hp::Axes(std::vector<int>{})).is(x));
  EXPECT_FALSE(hp::sum(x).is_sparse());
}

TEST(Sparse, DiagonalOfASquareMatrix) {
  Variable x = sp::csr_matrix("x");
  // The messy matrix's first three columns: diagonal 1, 0 (an explicit zero off it), 0.
  EXPECT_TRUE(arrays_close(run({x}, {sp::diag(x[{hp::slice_all(), hp::slice(0, 3)}])}, {messy_csr()})[0], values({1, 0, 0}, {3})));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { run({x}, {sp::diag(x)}, {messy_csr()}); }, {"[diag]", "square", "(3, 4)"}));
}

TEST(Sparse, ArraysInAndOut) {
  Variable data = hp::vector("data"), indices = hp::vector("indices", DType::Int32), indptr = hp::vector("indptr", DType::Int32);
  Variable shape = hp::vector("shape", DType::Int64);
  Variable m = sp::csr(data, indices, indptr, shape);
  auto p = sp::csm_properties(m);
  auto out = run({data, indices, indptr, shape}, {m, p.data, p.indices, p.indptr, p.shape, sp::square_diagonal(data)},
                 {values({1, 2, 3}, {3}), ints({2, 0, 1}), ints({0, 1, 1, 3}), Array::from_vector<int64_t>({3, 3})});
  EXPECT_TRUE(arrays_close(dense(out[0]), values({0, 0, 1, 0, 0, 0, 2, 3, 0}, {3, 3})));
  EXPECT_TRUE(arrays_close(out[1], values({1, 2, 3}, {3})));
  EXPECT_TRUE(arrays_close(out[2].astype(DType::Int64), Array::from_vector<int64_t>({2, 0, 1})));
  EXPECT_EQ(out[4].dtype(), DType::Int32);
  EXPECT_TRUE(arrays_close(dense(out[5]), values({1, 0, 0, 0, 2, 0, 0, 0, 3}, {3, 3})));
  // Arrays that do not make a matrix: an index past the columns.
  EXPECT_TRUE(throws_with<hp::ValueError>(
      [&] { run({data, indices, indptr, shape}, {m}, {values({1, 2, 3}, {3}), ints({2, 0, 5}), ints({0, 1, 1, 3}), Array::from_vector<int64_t>({3, 3})}); },
      {"[csr_matrix]", "index 5", "0..2"}));
}

TEST(Sparse, SharedSparseWeightsAndUpdates) {
  hp::SharedVariable w = hp::shared(sparse_of(kDense, SparseFormat::Csr), "w");
  EXPECT_TRUE(w.is_sparse());
  Variable lr = hp::scalar("lr");
  // A step on the stored values only: w <- w - lr * structured grad of sum(w @ 1).
  Variable cost = hp::sum(sp::structured_dot(w, hp::constant(Array::ones({4, 1}))));
  Variable g = hp::grad(cost, w);
  ASSERT_TRUE(g.is_sparse());
  auto step = hp::function({lr}, {cost}, {{w, w - lr * g}});
  step({Array::scalar(0.5)});
  const Array after = w.get_value();
  ASSERT_TRUE(after.is_sparse());
  EXPECT_EQ(after.sparse().nnz(), 6);
  EXPECT_TRUE(arrays_close(dense(after), values({0.5, 0, 1.5, 0, 0, 0, 2.5, 0, 3.5, 4.5, 0, 5.5}, {3, 4})));
}

TEST(Sparse, InputsAreNotOverwritten) {
  Variable x = sp::csr_matrix("x");
  const Array X = sparse_of(kDense, SparseFormat::Csr);
  auto f = hp::function({x}, {-sp::csm_data(x) * 2, hp::exp(sp::csm_data(x))});
  f({X});
  f({X});
  EXPECT_TRUE(arrays_close(X.sparse().data(), values({1, 2, 3, 4, 5, 6}, {6})));
}

// ---- Gradients ----

hp::VerifyGradOptions grad_options() {
  hp::VerifyGradOptions options;
  options.rtol = 1e-5;
  return options;
}

// A gradient case: the function, which of (X, D, Y) it takes, and whether its gradient is the full one (then
// finite differences over every entry of the dense form must agree too, not only over the stored values).
struct GradCase {
  std::string name;
  std::function<Variable(const std::vector<Variable>&)> fn;
  std::vector<int> points;
  bool full;
};

void check_grad_cases(const std::vector<GradCase>& cases, const std::vector<Array>& points) {
  for (const GradCase& c : cases) {
    std::vector<Array> chosen;
    for (int k : c.points) chosen.push_back(points[k]);
    for (bool structured : {true, false}) {
      if (!structured && !c.full) continue;
      try {
        sp::verify_grad_sparse(c.fn, chosen, structured, grad_options());
      } catch (const hp::Error& e) {
        ADD_FAILURE() << c.name << (structured ? " (structured)" : " (full)") << ": " << e.what();
      }
    }
  }
}

TEST_P(SparseFormats, GradientsOfProducts) {
  const Array X = sparse_of(kDense, GetParam()), B = values({1, -2, 3, 4, -5, 6, 7, 0.5}, {4, 2});
  const Array U = values({1, 2, 3, 4, 5, 6}, {3, 2}), V = values({1, -1, 2, 0, 0.5, 3, -2, 1}, {4, 2});
  check_grad_cases(
      {
          {"structured_dot", [](auto& in) { return sp::structured_dot(in[0], in[1]); }, {0, 1}, false},
          {"structured_dot s.s", [](auto& in) { return sp::structured_dot(in[0], sp::transpose(in[0])); }, {0}, false},
          {"dot", [](auto& in) { return sp::dot(in[0], in[1]); }, {0, 1}, true},
          {"dot d.s", [](auto& in) { return sp::dot(in[1].T(), sp::transpose(in[0])); }, {0, 1}, true},
          {"dot s.s", [](auto& in) { return sp::dot(in[0], sp::transpose(in[0])); }, {0}, true},
          {"dot vector", [](auto& in) { return sp::dot(in[0], in[1][{hp::slice_all(), 0}]); }, {0, 1}, true},
          {"true_dot", [](auto& in) { return sp::true_dot(in[0], in[1]); }, {0, 1}, true},
          {"sampling_dot", [](auto& in) { return sp::sampling_dot(in[1], in[2], in[0]); }, {0, 2, 3}, false},
      },
      {X, B, U, V});
}

TEST_P(SparseFormats, GradientsOfElementwiseAndStructure) {
  const Array X = sparse_of(kDense, GetParam()), D = values({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {3, 4});
  const Array Y = sparse_of(values({0, 1, 2, 0, 0, 0, 3, 0, 1, 0, 0, 1}, {3, 4}), SparseFormat::Csr);
  const Array idx = Array::from_vector<int64_t>({2, 0, 2});
  check_grad_cases(
      {
          {"add_s_s", [](auto& in) { return in[0] + in[1]; }, {0, 2}, true},
          {"add_s_d", [](auto& in) { return in[0] + in[1]; }, {0, 1}, false},
          {"mul_s_s", [](auto& in) { return in[0] * in[1]; }, {0, 2}, true},
          {"mul_s_d", [](auto& in) { return in[0] * in[1]; }, {0, 1}, false},
          {"sub", [](auto& in) { return in[1] - in[0]; }, {0, 1}, false},
          {"sin", [](auto& in) { return hp::sin(in[0]); }, {0}, false},
          {"structured_exp", [](auto& in) { return sp::structured_exp(in[0]); }, {0}, false},
          {"structured_pow", [](auto& in) { return sp::structured_pow(in[0], 3); }, {0}, false},
          {"row_scale", [](auto& in) { return sp::row_scale(in[0], hp::sum(in[1], 1)); }, {0, 1}, false},
          {"col_scale", [](auto& in) { return sp::col_scale(in[0], hp::sum(in[1], 0)); }, {0, 1}, false},
          {"sp_sum", [](auto& in) { return sp::sp_sum(in[0], 0) * hp::arange(4); }, {0}, true},
          {"sp_sum sparse_grad", [](auto& in) { return sp::sp_sum(in[0] * in[0], 1, true); }, {0}, false},
          {"dense_from_sparse", [](auto& in) { return sp::dense_from_sparse(in[0]) * in[1]; }, {0, 1}, false},
          {"dense_from_sparse full", [](auto& in) { return sp::dense_from_sparse(in[0], false) * in[1]; }, {0, 1}, true},
          {"transpose", [](auto& in) { return sp::transpose(in[0]); }, {0}, true},
          {"vstack", [](auto& in) { return sp::vstack({in[0], in[1]}); }, {0, 2}, true},
          {"hstack", [](auto& in) { return sp::hstack({in[1], in[0]}, SparseFormat::Csc); }, {0, 2}, true},
          {"window", [](auto& in) { return in[0][{hp::slice(1, 3), hp::slice(1, std::nullopt)}]; }, {0}, true},
          {"row", [](auto& in) { return in[0][2]; }, {0}, true},
          {"take", [&](auto& in) { return in[0][hp::constant(idx)]; }, {0}, true},
          {"take columns", [&](auto& in) { return in[0][{hp::slice_all(), hp::constant(idx)}]; }, {0}, true},
          {"element", [](auto& in) { return in[0][{2, 1}] * in[0][{0, 0}]; }, {0}, false},
          {"remove0", [](auto& in) { return sp::remove0(in[0]); }, {0}, true},
          {"tocsr", [](auto& in) { return sp::as_format(in[0], SparseFormat::Csr); }, {0}, true},
          {"diag", [](auto& in) { return sp::diag(in[0][{hp::slice_all(), hp::slice(0, 3)}]); }, {0}, true},
      },
      {X, D, Y});
}

TEST(Sparse, StructuredGradientStaysOnTheStoredPositions) {
  // Theano's structured_dot: d cost / d x only where x stores a value; sparse.dot: dense everywhere.
  Variable x = sp::csr_matrix("x"), b = hp::matrix("b");
  Variable cost_s = hp::sum(sp::structured_dot(x, b)), cost_d = hp::sum(sp::dot(x, b));
  Variable gs = hp::grad(cost_s, x), gd = hp::grad(cost_d, x);
  EXPECT_TRUE(gs.is_sparse());
  EXPECT_FALSE(gd.is_sparse());
  const Array B = values({1, 2, 3, 4, 5, 6, 7, 8}, {4, 2});
  auto out = run({x, b}, {gs, gd}, {sparse_of(kDense, SparseFormat::Csr), B});
  // Row sums of b: 3, 7, 11, 15, at x's positions only for gs.
  EXPECT_TRUE(arrays_close(dense(out[0]), values({3, 0, 11, 0, 0, 0, 11, 0, 3, 7, 0, 15}, {3, 4})));
  EXPECT_TRUE(arrays_close(out[1], values({3, 7, 11, 15, 3, 7, 11, 15, 3, 7, 11, 15}, {3, 4})));
}

// ---- Errors ----

TEST(Sparse, DenseOpsRefuseSparseInputs) {
  Variable x = sp::csr_matrix("x");
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::exp(x); }, {"[exp]", "sparse matrix x", "would not be sparse", "structured_exp", "test_sparse.cpp"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::softmax(x); }, {"sparse matrix", "csr float64(?, ?)", "dense_from_sparse"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::reshape(x, {hp::Operand(12)}); }, {"sparse matrix"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { sp::dense_from_sparse(hp::matrix("d")); }, {"[dense_from_sparse]", "must be a sparse matrix"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { sp::csr_from_dense(x); }, {"[csr_from_dense]", "must be dense"}));
}

TEST(Sparse, MismatchedShapesNameTheOpAndTheLine) {
  Variable x = sp::csr_matrix("x"), y = sp::csc_matrix("y"), b = hp::matrix("b");
  auto f = hp::function({x, y, b}, {x + y, hp::dot(x, b)});
  const Array X = sparse_of(kDense, SparseFormat::Csr), Y = sparse_of(values({1, 2}, {1, 2}), SparseFormat::Csc);
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { f({X, Y, Array::zeros({4, 2})}); }, {"[add]", "(3, 4)", "(1, 2)", "test_sparse.cpp"}));
  auto product = hp::function({x, b}, {hp::dot(x, b)});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { product({X, Array::zeros({3, 2})}); }, {"[structured_dot]", "inner dimensions", "(3, 2)"}));
  // A dense matrix where the function takes a sparse one.
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { f({kDense, X.transpose(), Array::zeros({4, 2})}); }, {"csr float64(?, ?)"}));
}

}  // namespace

namespace {

TEST(Sparse, GraphsWithSparseMatricesAreSavedAndLoaded) {
  Variable x = sp::csc_matrix("x"), b = hp::matrix("b");
  const Array K = sparse_of(values({0, 2, 0, 0, 0, 1}, {2, 3}), SparseFormat::Csr);
  Variable out = sp::structured_dot(x, b) + hp::dot(sp::dense_from_sparse(sp::structured_exp(x) * hp::constant(Array::scalar(2.0))), b) *
                 hp::sum(sp::true_dot(hp::constant(K), sp::transpose(x)));
  auto [inputs, outputs] = hp::load_graph(hp::save_graph({x, b}, {out}));
  ASSERT_TRUE(inputs[0].is_sparse());
  EXPECT_EQ(inputs[0].type().str(), "csc float64(?, ?)");
  const Array X = sparse_of(kDense.slice({hp::Slice{0, 3}, hp::Slice{0, 3}}).copy(), SparseFormat::Csc), B = values({1, 2, 3, 4, 5, 6}, {3, 2});
  EXPECT_TRUE(arrays_close(run(inputs, outputs, {X, B})[0], run({x, b}, {out}, {X, B})[0]));
  // A sparse array on its own, and a damaged one.
  const std::string saved = hp::save_array(K);
  EXPECT_TRUE(hp::load_array(saved).is_sparse());
  EXPECT_TRUE(arrays_close(dense(hp::load_array(saved)), dense(K)));
  for (size_t cut = 0; cut < saved.size(); cut += 5) EXPECT_THROW(hp::load_array(saved.substr(0, cut)), hp::ValueError) << cut;
}

}  // namespace
