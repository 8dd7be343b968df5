// topk/argtopk, bincount, searchsorted, unique, nonzero, unravel_index/ravel_multi_index, grad_clip.
#include <cmath>

#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::Operand;
using hp::Variable;
using hp::testing::arrays_close;
using hp::testing::expect_grad_ok;
using hp::testing::expect_infer_shape_ok;
using hp::testing::run_every_mode;
using hp::testing::throws_with;

namespace {
Array ints(std::vector<int64_t> values, hp::Shape shape = {}) {
  if (shape.empty()) shape = {static_cast<int64_t>(values.size())};
  return Array::from_vector(values, shape);
}
}  // namespace

TEST(SearchTopK, LargestAndSmallestAlongAnAxis) {
  auto x = hp::matrix("x");
  const Array m = Array::from({{3, 1, 4, 1}, {5, 9, 2, 6}});
  auto [values, positions] = hp::topk_and_argtopk(x, 2);
  std::vector<Array> out = run_every_mode({x}, {values, positions, hp::topk(x, -3, 1), hp::argtopk(x, 1, 0)}, {m});
  EXPECT_TRUE(arrays_close(out[0], Array::from({{4, 3}, {9, 6}})));
  EXPECT_TRUE(out[1].equals(ints({2, 0, 1, 3}, {2, 2})));
  // Smallest first; the tie between the two 1s goes to the earlier position.
  EXPECT_TRUE(arrays_close(out[2], Array::from({{1, 1, 3}, {2, 5, 6}})));
  EXPECT_TRUE(out[3].equals(ints({1, 1, 0, 1}, {1, 4})));
  EXPECT_EQ(positions.type().str(), "int64(?, 2)");
  // No axis: over the flattened tensor; NaN counts as the largest.
  Array with_nan = Array::from({{1, NAN}, {7, 2}});
  EXPECT_TRUE(hp::eval(hp::argtopk(x, 2, std::nullopt), {{x, with_nan}}).equals(ints({1, 2})));
  Array narrow = hp::eval(hp::argtopk(x, 1, 1, DType::Int8), {{x, m}});
  EXPECT_EQ(narrow.dtype(), DType::Int8);
  EXPECT_TRUE(narrow.equals(ints({2, 1}, {2, 1})));
}

TEST(SearchTopK, DtypesEmptyAndSizeOne) {
  for (DType dtype : {DType::Int8, DType::Int16, DType::Int32, DType::Int64, DType::UInt8, DType::Float32, DType::Bool}) {
    auto v = hp::vector("v", dtype);
    Array value = Array::from({0, 1, 1, 0, 1}, dtype);
    Array top = hp::eval(hp::topk(v, 2), {{v, value}});
    EXPECT_EQ(top.dtype(), dtype);
    EXPECT_TRUE(top.equals(Array::from({1, 1}, DType::Float64)));
    EXPECT_TRUE(hp::eval(hp::argtopk(v, -2), {{v, value}}).equals(ints({0, 3})));
  }
  auto x = hp::matrix("x");
  EXPECT_EQ(hp::eval(hp::topk(x, 2), {{x, Array::zeros({0, 3})}}).shape(), (hp::Shape{0, 2}));
  EXPECT_TRUE(hp::eval(hp::topk(x, 1), {{x, Array::full({1, 1}, 5)}}).equals(Array::full({1, 1}, 5)));
  expect_infer_shape_ok({x}, hp::argtopk(x, -2, 0), {Array::zeros({3, 4})});
  auto k = hp::scalar("k", DType::Int32);
  expect_infer_shape_ok({x, k}, hp::topk(x, k), {Array::zeros({3, 4}), Array::scalar(-3, DType::Int32)});
}

TEST(SearchTopK, Errors) {
  auto x = hp::matrix("x");
  auto k = hp::scalar("k", DType::Int64);
  auto f = hp::function({x, k}, {hp::topk(x, k)});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({Array::zeros({2, 3}), Array::scalar(4, DType::Int64)}); },
                                          {"[topk] kth=4 is out of range for axis 1", "float64(2, 3)"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({Array::zeros({2, 3}), Array::scalar(0, DType::Int64)}); }, {"nonzero"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::topk(hp::tensor(DType::Float64, {2, 3}), -4); }, {"kth=-4", "test_search_ops.cpp"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::topk(x, hp::scalar("f")); }, {"[topk] kth must be an integer scalar"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::topk(x, 1, 2); }, {"axis 2"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::argtopk(x, 1, 1, DType::Float32); }, {"idx_dtype"}));
  auto v = hp::vector("v");
  auto g = hp::function({v}, {hp::argtopk(v, 1, 0, DType::Int8)});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { g({Array::zeros({300})}); }, {"do not fit idx_dtype int8"}));
}

TEST(SearchTopK, GradientScattersToTheChosenEntries) {
  const Array point = Array::from({{0.5, -1.0, 2.0, 0.1}, {1.5, 0.25, -0.75, 3.0}});
  expect_grad_ok([](const std::vector<Variable>& in) { return hp::topk(in[0], 2); }, {point});
  expect_grad_ok([](const std::vector<Variable>& in) { return hp::topk(in[0], -1, 0); }, {point});
  expect_grad_ok([](const std::vector<Variable>& in) { return hp::topk(in[0], 3, std::nullopt); }, {point});
  auto x = hp::vector("x");
  Array gradient = hp::eval(hp::grad(hp::sum(hp::topk(x, 2) * hp::constant(Array::from({10, 1}))), x), {{x, Array::from({1, 5, 3})}});
  EXPECT_TRUE(arrays_close(gradient, Array::from({0, 10, 1})));
}

TEST(SearchBincount, CountsAndWeights) {
  auto x = hp::vector("x", DType::Int32);
  auto w = hp::vector("w", DType::Float32);
  std::vector<Array> out = run_every_mode({x, w}, {hp::bincount(x), hp::bincount(x, Operand(w)), hp::bincount(x, std::nullopt, 6)},
                                          {Array::from({1, 3, 1, 0}, DType::Int32), Array::from({0.5, 2, 1, 4}, DType::Float32)});
  EXPECT_EQ(out[0].dtype(), DType::Int64);
  EXPECT_TRUE(out[0].equals(ints({1, 2, 0, 1})));
  EXPECT_EQ(out[1].dtype(), DType::Float32);
  EXPECT_TRUE(arrays_close(out[1], Array::from({4, 1.5, 0, 2}, DType::Float32)));
  EXPECT_TRUE(out[2].equals(ints({1, 2, 0, 1, 0, 0})));
  auto b = hp::vector("b", DType::Bool);
  EXPECT_TRUE(hp::eval(hp::bincount(b), {{b, Array::from({1, 0, 1}, DType::Bool)}}).equals(ints({1, 2})));
  EXPECT_EQ(hp::eval(hp::bincount(x), {{x, Array::empty({0}, DType::Int32)}}).size(), 0);
  EXPECT_EQ(hp::eval(hp::bincount(x, std::nullopt, 3), {{x, Array::empty({0}, DType::Int32)}}).size(), 3);
  auto f = hp::function({x, w}, {hp::bincount(x, Operand(w))});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({Array::from({1, -2}, DType::Int32), Array::zeros({2}, DType::Float32)}); },
                                          {"[bincount] x holds the negative value -2"}));
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { f({Array::from({1, 2}, DType::Int32), Array::zeros({3}, DType::Float32)}); },
                                          {"[bincount] weights of shape (3,) do not match x of shape (2,)"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::bincount(hp::vector("f")); }, {"[bincount] x must be a vector of integers", "float64"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::bincount(x, std::nullopt, -1); }, {"minlength"}));
  // Weight i's gradient is the gradient of bin x[i].
  const Variable bins = hp::constant(ints({2, 0, 2}));
  expect_grad_ok([&](const std::vector<Variable>& in) { return hp::bincount(bins, Operand(in[0])); }, {Array::from({0.5, 1, 2})});
}

TEST(SearchSorted, LeftRightAndSorter) {
  auto x = hp::vector("x");
  auto v = hp::matrix("v");
  const Array sorted = Array::from({1, 2, 2, 3, NAN});
  const Array probe = Array::from({{2, 0}, {9, NAN}});
  std::vector<Array> out = run_every_mode({x, v}, {hp::searchsorted(x, v), hp::searchsorted(x, v, true)}, {sorted, probe});
  EXPECT_TRUE(out[0].equals(ints({1, 0, 4, 4}, {2, 2})));
  EXPECT_TRUE(out[1].equals(ints({3, 0, 4, 5}, {2, 2})));
  auto s = hp::vector("s", DType::Int64);
  Array found = hp::eval(hp::searchsorted(x, 2.5, false, Operand(s)), {{x, Array::from({3, 1, 2})}, {s, ints({1, 2, 0})}});
  EXPECT_EQ(found.item(), 2);
  auto i8 = hp::vector("i8", DType::Int8);
  EXPECT_TRUE(hp::eval(hp::searchsorted(i8, hp::constant(Array::from({-1, 100}))), {{i8, Array::from({-5, 0, 5}, DType::Int8)}})
                  .equals(ints({1, 3})));
  EXPECT_EQ(hp::eval(hp::searchsorted(x, v), {{x, Array::empty({0})}, {v, Array::zeros({2, 0})}}).shape(), (hp::Shape{2, 0}));
  auto f = hp::function({x, s}, {hp::searchsorted(x, 1.0, false, Operand(s))});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({Array::from({1, 2}), ints({0})}); }, {"[searchsorted] sorter of shape (1,)"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({Array::from({1, 2}), ints({0, 5})}); }, {"sorter entry 5 is out of range"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::searchsorted(v, x); }, {"[searchsorted] x must be a vector"}));
  expect_infer_shape_ok({x, v}, hp::searchsorted(x, v), {sorted, probe});
  // Piecewise constant: no gradient, and a cost through it still differentiates in the other terms.
  Variable cost = hp::sum(hp::cast(hp::searchsorted(x, v), DType::Float64) * v);
  EXPECT_TRUE(arrays_close(hp::eval(hp::grad(cost, v), {{x, sorted}, {v, probe}}), Array::from({{1, 0}, {4, 4}})));
}

TEST(SearchUnique, FlatAndAlongAnAxis) {
  auto x = hp::vector("x", DType::Int16);
  hp::UniqueResult flat = hp::unique(x);
  std::vector<Array> out = run_every_mode({x}, {flat.values, flat.index, flat.inverse, flat.counts}, {Array::from({3, 1, 3, 2, 1, 3}, DType::Int16)});
  EXPECT_EQ(out[0].dtype(), DType::Int16);
  EXPECT_TRUE(out[0].equals(Array::from({1, 2, 3})));
  EXPECT_TRUE(out[1].equals(ints({1, 3, 0})));
  EXPECT_TRUE(out[2].equals(ints({2, 0, 2, 1, 0, 2})));
  EXPECT_TRUE(out[3].equals(ints({2, 1, 3})));
  auto m = hp::matrix("m");
  hp::UniqueResult rows = hp::unique(m, 0);
  const Array value = Array::from({{1, 2}, {0, 5}, {1, 2}});
  out = run_every_mode({m}, {rows.values, rows.inverse, hp::unique(m).values}, {value});
  EXPECT_TRUE(arrays_close(out[0], Array::from({{0, 5}, {1, 2}})));
  EXPECT_TRUE(out[1].equals(ints({1, 0, 1})));
  EXPECT_TRUE(arrays_close(out[2], Array::from({0, 1, 2, 5})));  // no axis: flattened
  Array nans = hp::eval(hp::unique(hp::flatten(m)).values, {{m, Array::from({{NAN, 1}, {NAN, 1}})}});
  EXPECT_EQ(nans.size(), 2);  // NaNs collapse, as np.unique's equal_nan
  EXPECT_EQ(hp::eval(hp::unique(x).values, {{x, Array::empty({0}, DType::Int16)}}).size(), 0);
  expect_infer_shape_ok({m}, rows.inverse, {value});
  expect_infer_shape_ok({m}, rows.values, {value});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::unique(m, 2); }, {"[unique] axis 2"}));
  expect_grad_ok([](const std::vector<Variable>& in) { return hp::unique(in[0], 1).values; },
                 {Array::from({{0.5, 2, -1}, {1, 3, 0}})});
}

TEST(SearchNonzero, CoordinatesAndValues) {
  auto m = hp::matrix("m", DType::Int32);
  const Array value = Array::from({{0, 3, 0}, {-1, 0, 2}}, DType::Int32);
  std::vector<Variable> rows = hp::nonzero(m);
  ASSERT_EQ(rows.size(), 2u);
  std::vector<Array> out = run_every_mode({m}, {hp::nonzero_matrix(m), rows[0], rows[1], hp::flatnonzero(m), hp::nonzero_values(m)}, {value});
  EXPECT_TRUE(out[0].equals(ints({0, 1, 1, 1, 0, 2}, {2, 3})));
  EXPECT_TRUE(out[1].equals(ints({0, 1, 1})));
  EXPECT_TRUE(out[2].equals(ints({1, 0, 2})));
  EXPECT_TRUE(out[3].equals(ints({1, 3, 5})));
  EXPECT_TRUE(out[4].equals(Array::from({3, -1, 2})));
  EXPECT_EQ(out[4].dtype(), DType::Int32);
  EXPECT_EQ(hp::nonzero_matrix(m).type().str(), "int64(2, ?)");
  auto b = hp::vector("b", DType::Bool);
  EXPECT_TRUE(hp::eval(hp::flatnonzero(b), {{b, Array::from({0, 1, 1}, DType::Bool)}}).equals(ints({1, 2})));
  EXPECT_EQ(hp::eval(hp::nonzero_matrix(m), {{m, Array::zeros({0, 4}, DType::Int32)}}).shape(), (hp::Shape{2, 0}));
  expect_infer_shape_ok({m}, hp::nonzero_matrix(m), {value});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::nonzero_matrix(hp::scalar("s")); }, {"[nonzero] needs at least one dimension"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::flatnonzero(hp::scalar("s")); }, {"[flatnonzero]"}));
  expect_grad_ok([](const std::vector<Variable>& in) { return hp::nonzero_values(in[0]); }, {Array::from({{0.5, 1.5}, {-2, 3}})});
}

TEST(SearchRavel, UnravelAndRavelRoundTrip) {
  auto i = hp::vector("i", DType::Int32);
  const Variable dims = hp::constant(ints({2, 3}));
  std::vector<Variable> coordinates = hp::unravel_index(i, dims);
  std::vector<Variable> fortran = hp::unravel_index(i, dims, true);
  Variable back = hp::ravel_multi_index({coordinates[0], coordinates[1]}, dims);
  std::vector<Array> out = run_every_mode({i}, {coordinates[0], coordinates[1], fortran[0], fortran[1], back}, {Array::from({0, 4, 5}, DType::Int32)});
  EXPECT_TRUE(out[0].equals(ints({0, 1, 1})));
  EXPECT_TRUE(out[1].equals(ints({0, 1, 2})));
  EXPECT_TRUE(out[2].equals(ints({0, 0, 1})));
  EXPECT_TRUE(out[3].equals(ints({0, 2, 2})));
  EXPECT_TRUE(out[4].equals(ints({0, 4, 5})));
  expect_infer_shape_ok({i}, coordinates[1], {Array::from({0, 4}, DType::Int32)});
  auto f = hp::function({i}, {coordinates[0]});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({Array::from({6}, DType::Int32)}); }, {"[unravel_index] index 6 is out of bounds", "size 6"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::unravel_index(hp::vector("f"), dims); }, {"[unravel_index] indices must be integers"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::unravel_index(i, hp::vector("d", DType::Int64)); }, {"known length"}));
}

TEST(SearchRavel, ModesBroadcastingAndErrors) {
  auto r = hp::vector("r", DType::Int64);
  auto c = hp::tensor(DType::Int64, {1}, "c");
  const Variable dims = hp::constant(ints({3, 4}));
  Variable wrapped = hp::ravel_multi_index({r, c}, dims, {hp::IndexMode::Wrap});
  Variable clipped = hp::ravel_multi_index({r, c}, dims, {hp::IndexMode::Clip, hp::IndexMode::Wrap});
  Variable fortran = hp::ravel_multi_index({r, c}, dims, {hp::IndexMode::Raise}, true);
  std::vector<Array> out = run_every_mode({r, c}, {wrapped, clipped, fortran}, {ints({0, 2}), ints({1})});
  EXPECT_TRUE(out[0].equals(ints({1, 9})));
  EXPECT_TRUE(out[2].equals(ints({3, 5})));
  out = run_every_mode({r, c}, {wrapped, clipped}, {ints({-1, 5}), ints({-1})});
  EXPECT_TRUE(out[0].equals(ints({11, 11})));  // (2, 3) twice
  EXPECT_TRUE(out[1].equals(ints({3, 11})));   // rows clip to 0 and 2, columns wrap to 3
  auto f = hp::function({r, c}, {hp::ravel_multi_index({r, c}, dims)});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({ints({3}), ints({0})}); }, {"[ravel_multi_index] index 3 is out of bounds for dimension 0 of size 3"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::ravel_multi_index({r}, dims); }, {"1 index arrays for 2 dims"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::ravel_multi_index({r, hp::vector("f")}, dims); }, {"integer arrays"}));
}

TEST(SearchGradClip, ClipsOnlyTheGradient) {
  auto x = hp::vector("x");
  Variable clipped = hp::grad_clip(x, -1.0, 0.5);
  Variable cost = hp::sum(clipped * hp::constant(Array::from({3, 0.25, -4})));
  std::vector<Array> out = run_every_mode({x}, {clipped, hp::grad(cost, x)}, {Array::from({1, 2, 3})});
  EXPECT_TRUE(arrays_close(out[0], Array::from({1, 2, 3})));
  EXPECT_TRUE(arrays_close(out[1], Array::from({0.5, 0.25, -1})));
  // Within the bounds it is the identity's gradient.
  expect_grad_ok([](const std::vector<Variable>& in) { return hp::grad_clip(hp::exp(in[0]), -100.0, 100.0); },
                 {Array::from({0.5, -1})});
  Array tangent = hp::eval(hp::Rop(clipped, x, hp::constant(Array::from({7, 8, 9}))), {{x, Array::from({1, 2, 3})}});
  EXPECT_TRUE(arrays_close(tangent, Array::from({7, 8, 9})));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::grad_clip(x, 1.0, -1.0); }, {"[grad_clip] lower_bound", "test_search_ops.cpp"}));
}
