// Indexing: integers, slices, newaxis, ellipsis, integer arrays, and writing through them.
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::expect_grad_ok;
using hp::testing::expect_infer_shape_ok;
using hp::testing::throws_with;

namespace {
const Array kM = Array::arange(12, DType::Float64).reshape({3, 4});  // [[0..3], [4..7], [8..11]]
constexpr std::nullopt_t none = std::nullopt;

Array index_m(const hp::IndexList& indices) {
  auto x = hp::matrix("x");
  return hp::eval(x[indices], {{x, kM}});
}
}  // namespace

TEST(Subtensor, IntegersAndSlices) {
  EXPECT_TRUE(arrays_close(index_m({1}), Array::from({4, 5, 6, 7})));
  EXPECT_TRUE(arrays_close(index_m({-1}), Array::from({8, 9, 10, 11})));
  EXPECT_EQ(index_m({1, 2}).item(), 6);
  EXPECT_TRUE(arrays_close(index_m({hp::slice(1, 3)}), Array::from({{4, 5, 6, 7}, {8, 9, 10, 11}})));
  EXPECT_TRUE(arrays_close(index_m({hp::slice(none, none, -1), 0}), Array::from({8, 4, 0})));
  EXPECT_TRUE(arrays_close(index_m({hp::slice(none, none, 2), 1}), Array::from({1, 9})));
  EXPECT_TRUE(arrays_close(index_m({hp::slice_all(), hp::slice(-2, none)}), Array::from({{2, 3}, {6, 7}, {10, 11}})));
  EXPECT_EQ(index_m({hp::slice(2, 1)}).shape(), (hp::Shape{0, 4}));
  EXPECT_EQ(index_m({hp::slice(1, 100)}).shape(), (hp::Shape{2, 4}));
}

TEST(Subtensor, StaticShapesWhenKnown) {
  auto x = hp::tensor(DType::Float64, {3, 4}, "x");
  EXPECT_EQ(x[{hp::slice(1, 3)}].type().str(), "float64(2, 4)");
  EXPECT_EQ((x[{hp::slice(none, none, -2), 0}].type().str()), "float64(2,)");
  auto m = hp::matrix("m");
  EXPECT_EQ(m[{hp::slice(1, 3)}].type().str(), "float64(?, ?)");
}

TEST(Subtensor, NewaxisAndEllipsis) {
  EXPECT_EQ(index_m({hp::newaxis}).shape(), (hp::Shape{1, 3, 4}));
  EXPECT_EQ(index_m({hp::slice_all(), hp::newaxis, 1}).shape(), (hp::Shape{3, 1}));
  EXPECT_TRUE(arrays_close(index_m({hp::ellipsis, 0}), Array::from({0, 4, 8})));
  EXPECT_TRUE(arrays_close(index_m({hp::ellipsis}), kM));
  auto x = hp::matrix("x");
  EXPECT_EQ((x[{hp::newaxis, hp::ellipsis}].type().str()), "float64(1, ?, ?)");
}

TEST(Subtensor, SymbolicBounds) {
  auto x = hp::matrix("x");
  auto start = hp::scalar("start", DType::Int64), i = hp::scalar("i", DType::Int32);
  auto f = hp::function({x, start, i}, {x[{hp::slice(start, none), i}]});
  Array out = f({kM, Array::scalar(1, DType::Int64), Array::scalar(-1, DType::Int32)})[0];
  EXPECT_TRUE(arrays_close(out, Array::from({7, 11})));
}

TEST(Subtensor, IntegerArrays) {
  auto idx = hp::constant(Array::from_vector<int64_t>({2, 0, 2, -1}));
  EXPECT_TRUE(arrays_close(index_m({idx}).slice({{hp::Slice::kNone, hp::Slice::kNone, 1}, {0, 1, 1}}).reshape({4}),
                           Array::from({8, 0, 8, 8})));
  EXPECT_EQ(index_m({idx}).shape(), (hp::Shape{4, 4}));
  auto cols = hp::constant(Array::from_vector<int32_t>({3, 1}));
  EXPECT_TRUE(arrays_close(index_m({1, cols}), Array::from({7, 5})));
  EXPECT_TRUE(arrays_close(index_m({hp::slice_all(), cols}), Array::from({{3, 1}, {7, 5}, {11, 9}})));
  auto grid = hp::constant(Array::from_vector<int64_t>({0, 1, 2, 0}, {2, 2}));
  EXPECT_EQ(index_m({grid}).shape(), (hp::Shape{2, 2, 4}));
  auto x = hp::matrix("x");
  EXPECT_TRUE(arrays_close(hp::eval(hp::take(x, hp::constant(Array::from_vector<int64_t>({1})), 1), {{x, kM}}),
                           Array::from_vector<double>({1, 5, 9}, {3, 1})));
}

TEST(Subtensor, DtypesAreKept) {
  auto i = hp::matrix("i", DType::Int32);
  Array out = hp::eval(i[{0}], {{i, kM.astype(DType::Int32)}});
  EXPECT_EQ(out.dtype(), DType::Int32);
  EXPECT_TRUE(out.equals(Array::from_vector<int32_t>({0, 1, 2, 3})));
  auto f = hp::vector("f", DType::Float32);
  EXPECT_EQ(f[{hp::slice(1, none)}].dtype(), DType::Float32);
}

TEST(Subtensor, SetAndInc) {
  auto x = hp::matrix("x");
  Array set_row = hp::eval(hp::set_subtensor(x, {1}, 0.0), {{x, kM}});
  EXPECT_TRUE(arrays_close(set_row, Array::from({{0, 1, 2, 3}, {0, 0, 0, 0}, {8, 9, 10, 11}})));
  Array inc_col = hp::eval(hp::inc_subtensor(x, {hp::slice_all(), 0}, hp::constant(Array::from({100, 200, 300}))), {{x, kM}});
  EXPECT_TRUE(arrays_close(inc_col, Array::from({{100, 1, 2, 3}, {204, 5, 6, 7}, {308, 9, 10, 11}})));
  // A row broadcasts over the selected rows.
  auto r = hp::row("r");
  Array broadcast = hp::eval(hp::set_subtensor(x, {hp::slice(0, 2)}, r), {{x, kM}, {r, Array::from({{-1, -2, -3, -4}})}});
  EXPECT_TRUE(arrays_close(broadcast, Array::from({{-1, -2, -3, -4}, {-1, -2, -3, -4}, {8, 9, 10, 11}})));
  // The input itself never changes.
  EXPECT_EQ(kM.at<double>({1, 0}), 4.0);
}

TEST(Subtensor, IncAccumulatesRepeatedIndices) {
  auto v = hp::vector("v");
  auto idx = hp::constant(Array::from_vector<int64_t>({0, 2, 0, -1}));
  Array inc = hp::eval(hp::inc_subtensor(v, {idx}, 1.0), {{v, Array::zeros({3})}});
  EXPECT_TRUE(arrays_close(inc, Array::from({2, 0, 2})));  // index 2 and -1 are the same element
  Array set = hp::eval(hp::set_subtensor(v, {idx}, 5.0), {{v, Array::zeros({3})}});
  EXPECT_TRUE(arrays_close(set, Array::from({5, 0, 5})));
  auto x = hp::matrix("x");
  auto cols = hp::constant(Array::from_vector<int64_t>({1, 1}));
  Array mixed = hp::eval(hp::inc_subtensor(x, {hp::slice(0, 2), cols}, 1.0), {{x, Array::zeros({3, 3})}});
  EXPECT_TRUE(arrays_close(mixed, Array::from({{0, 2, 0}, {0, 2, 0}, {0, 0, 0}})));
}

TEST(Subtensor, BooleanMasksIndexTheirNonzeroCoordinates) {
  // NumPy by hand: x = arange(6).reshape(2, 3); x[x > 2] = [3, 4, 5]; x[:, [T, F, T]] = [[0, 2], [3, 5]];
  // x[1, [T, F, T]] += 10 gives [[0, 1, 2], [13, 4, 15]].
  auto x = hp::matrix("x");
  auto columns = hp::constant(Array::from({1, 0, 1}, DType::Bool));
  const Array value = Array::from({{0, 1, 2}, {3, 4, 5}});
  const auto out = hp::function({x}, {x[{x > 2.0}], x[{hp::slice(std::nullopt, std::nullopt), columns}], hp::inc_subtensor(x, {1, columns}, 10.0)})({value});
  EXPECT_TRUE(arrays_close(out[0], Array::from({3, 4, 5})));
  EXPECT_TRUE(arrays_close(out[1], Array::from({{0, 2}, {3, 5}})));
  EXPECT_TRUE(arrays_close(out[2], Array::from({{0, 1, 2}, {13, 4, 15}})));
}

TEST(Subtensor, Errors) {
  auto x = hp::tensor(DType::Float64, {3, 4}, "x");
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { (void)x[{3}]; },
                                          {"[subtensor] index 3 is out of bounds for axis 0 with size 3", "test_subtensor.cpp"}));
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { (void)x[{0, 0, 0}]; }, {"too many indices", "test_subtensor.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { (void)x[{hp::slice(none, none, 0)}]; }, {"slice step cannot be zero"}));
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { (void)x[{hp::ellipsis, hp::ellipsis}]; }, {"single ellipsis"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { (void)x[{hp::scalar("f")}]; }, {"indices must be integers"}));
  auto short_mask = hp::vector("mask", DType::Bool);
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { hp::eval(x[{short_mask}], {{x, Array::zeros({3, 4})},
                                                                         {short_mask, Array::from({1, 0}, DType::Bool)}}); },
                                          {"boolean index of shape (2,) does not match", "along axis 0"}));
  auto idx = hp::vector("idx", DType::Int64);
  auto three = hp::constant(Array::from_vector<int64_t>({0, 1, 2}));
  auto two = hp::constant(Array::from_vector<int64_t>({0, 1}));
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { (void)x[{three, two}]; }, {"cannot broadcast together"}));
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::set_subtensor(x, {0}, hp::tensor(DType::Float64, {5})); },
                                          {"[set_subtensor] value float64(5,) cannot be broadcast", "test_subtensor.cpp"}));
  auto m = hp::matrix("m");
  auto i = hp::scalar("i", DType::Int64);
  auto f = hp::function({m, i}, {m[{i}]});
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { f({kM, Array::scalar(-4, DType::Int64)}); },
                                          {"index -4 is out of bounds for axis 0 with size 3", "test_subtensor.cpp"}));
  auto g = hp::function({m, idx}, {m[{idx}]});
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { g({kM, Array::from_vector<int64_t>({0, 3})}); }, {"[take] index 3 is out of bounds"}));
  auto pairs = hp::function({m, idx}, {m[{idx, hp::constant(Array::from_vector<int64_t>({0, 1, 2}))}]});
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { pairs({kM, Array::from_vector<int64_t>({0, 1})}); },
                                          {"[take] shape mismatch", "(2,) (3,)"}));
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { pairs({kM, Array::from_vector<int64_t>({0, 1, 5})}); },
                                          {"[take] index 5 is out of bounds for axis 0"}));
}

// NumPy's advanced indexing with several index arrays: they broadcast together, and the indexed
// dimensions replace the indexed axes when those are adjacent, or come first when they are apart.
TEST(Subtensor, SeveralIndexArrays) {
  auto x = hp::tensor3("x");
  const Array value = Array::arange(24, DType::Float64).reshape({2, 3, 4});  // value[i, j, k] = 12i + 4j + k
  auto ints = [](std::vector<int64_t> v) { return hp::constant(Array::from_vector(v)); };
  auto eval = [&](const hp::IndexList& indices) { return hp::eval(x[indices], {{x, value}}); };
  // x[[0, 1], [2, 0]] -> rows (0, 2) and (1, 0): shape (2, 4).
  EXPECT_TRUE(arrays_close(eval({ints({0, 1}), ints({2, 0})}), Array::from({{8, 9, 10, 11}, {12, 13, 14, 15}})));
  // Adjacent arrays after a slice stay in place: x[:, [0, 2], [1, 3]] has shape (2, 2).
  EXPECT_TRUE(arrays_close(eval({hp::slice_all(), ints({0, 2}), ints({1, 3})}), Array::from({{1, 11}, {13, 23}})));
  // Arrays apart put the index dimensions first: x[[0, 1], :, [3, 0]] has shape (2, 3).
  EXPECT_TRUE(arrays_close(eval({ints({0, 1}), hp::slice_all(), ints({3, 0})}), Array::from({{3, 7, 11}, {12, 16, 20}})));
  // An integer apart from an array counts as an index array: x[1, :, [0, 3]] has shape (2, 3).
  EXPECT_TRUE(arrays_close(eval({1, hp::slice_all(), ints({0, 3})}), Array::from({{12, 16, 20}, {15, 19, 23}})));
  // Next to the array it just drops its axis: x[1, [0, 2]] has shape (2, 4).
  EXPECT_TRUE(arrays_close(eval({1, ints({0, 2})}), Array::from({{12, 13, 14, 15}, {20, 21, 22, 23}})));
  // Broadcasting index arrays: a column of rows against a row of columns gives a (2, 2) grid.
  auto rows = hp::constant(Array::from_vector<int64_t>({0, 1}, {2, 1}));
  EXPECT_TRUE(arrays_close(hp::eval(x[{0, rows, ints({1, 3})}], {{x, value}}), Array::from({{1, 3}, {5, 7}})));
  // The classic Theano log-likelihood: log_p[arange(n), y].
  auto m = hp::matrix("m");
  auto y = hp::vector("y", DType::Int64);
  auto picked = hp::eval(m[{hp::arange(hp::shape_i(y, 0)), y}], {{m, kM}, {y, Array::from_vector<int64_t>({3, 0, 2})}});
  EXPECT_TRUE(arrays_close(picked, Array::from({3, 4, 10})));
  EXPECT_EQ((x[{ints({0, 1}), hp::slice_all(), ints({3, 0})}].type().str()), "float64(2, ?)");
}

TEST(Subtensor, WritingThroughSeveralIndexArrays) {
  auto m = hp::matrix("m");
  auto ints = [](std::vector<int64_t> v) { return hp::constant(Array::from_vector(v)); };
  Array set = hp::eval(hp::set_subtensor(m[{ints({0, 2}), ints({1, 3})}], -1.0), {{m, kM}});
  EXPECT_TRUE(arrays_close(set, Array::from({{0, -1, 2, 3}, {4, 5, 6, 7}, {8, 9, 10, -1}})));
  Array inc = hp::eval(hp::inc_subtensor(m[{ints({0, 0, 1}), ints({1, 1, 2})}], 10.0), {{m, kM}});
  EXPECT_TRUE(arrays_close(inc, Array::from({{0, 21, 2, 3}, {4, 5, 16, 7}, {8, 9, 10, 11}})));
  auto x = hp::tensor3("x");
  Array apart = hp::eval(hp::set_subtensor(x[{ints({0, 1}), hp::slice(1, 3), ints({3, 0})}], 1.0), {{x, Array::zeros({2, 3, 4})}});
  EXPECT_EQ(apart.at<double>({0, 1, 3}) + apart.at<double>({0, 2, 3}) + apart.at<double>({1, 1, 0}) + apart.at<double>({1, 2, 0}), 4.0);
  EXPECT_EQ(hp::eval(hp::sum(hp::constant(apart))).item(), 4.0);
  expect_grad_ok([&](const std::vector<hp::Variable>& in) {
    return in[0][{ints({0, 2, 2}), ints({1, 3, 3})}] * in[0][{1, ints({0, 1, 2})}];
  }, {kM});
  expect_grad_ok([&](const std::vector<hp::Variable>& in) {
    return hp::set_subtensor(in[0][{ints({0, 2}), ints({1, 3})}], in[1] * 2.0);
  }, {kM, Array::from({1, 2})});
  expect_infer_shape_ok({x}, x[{ints({0, 1}), hp::slice_all(), ints({3, 0})}], {Array::zeros({2, 3, 4})});
}

TEST(Subtensor, Gradients) {
  const Array point = Array::from({{0.5, -1.0, 2.0}, {1.5, 0.25, -0.75}});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return in[0][{1}]; }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return in[0][{hp::slice(none, none, -1), hp::slice(1, none)}]; }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return in[0][{hp::newaxis, 0}]; }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) {
    return in[0][{hp::constant(Array::from_vector<int64_t>({1, 1, 0}))}];
  }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) {
    return in[0][{hp::slice_all(), hp::constant(Array::from_vector<int64_t>({2, 0}))}];
  }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::set_subtensor(in[0], {0}, in[1]); },
                 {point, Array::from({7, 8, 9})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::inc_subtensor(in[0], {hp::slice_all(), 1}, in[1]); },
                 {point, Array::from({7, 8})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::inc_subtensor(in[0], {hp::slice(0, 2)}, in[1]); },
                 {point, Array::from({{0.5, 1.5, 2.5}})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) {
    return hp::inc_subtensor(in[0], {hp::constant(Array::from_vector<int64_t>({1, 1}))}, in[1]);
  }, {point, Array::from({0.5, 1.5, 2.5})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) {
    return hp::set_subtensor(in[0], {hp::constant(Array::from_vector<int64_t>({0}))}, in[1]);
  }, {point, Array::from({{0.5, 1.5, 2.5}})});
}

TEST(Subtensor, InferShape) {
  auto x = hp::matrix("x"), idx = hp::vector("idx", DType::Int64), v = hp::vector("v");
  expect_infer_shape_ok({x}, x[{hp::slice(1, none), 0}], {kM});
  expect_infer_shape_ok({x, idx}, x[{idx}], {kM, Array::from_vector<int64_t>({0, 0, 1, 2, 2})});
  expect_infer_shape_ok({x, v}, hp::inc_subtensor(x, {0}, v), {kM, Array::zeros({4})});
}

TEST(Subtensor, InferShapeOfEverySliceForm) {
  auto x = hp::vector("x");
  auto a = hp::scalar("a", DType::Int64), b = hp::scalar("b", DType::Int32);
  const Array ten = Array::arange(10, DType::Float64);
  for (int64_t step : {1, 2, 3, -1, -2, -4})
    for (int64_t start : {-12, -3, 0, 2, 9, 15})
      for (int64_t stop : {-11, -2, 0, 4, 10, 20}) {
        SCOPED_TRACE("start " + std::to_string(start) + " stop " + std::to_string(stop) + " step " + std::to_string(step));
        expect_infer_shape_ok({x, a, b}, x[{hp::slice(a, b, step)}],
                              {ten, Array::scalar(start, DType::Int64), Array::scalar(stop, DType::Int32)});
      }
  expect_infer_shape_ok({x}, x[{hp::slice(none, none, -3)}], {ten});
  expect_infer_shape_ok({x, a}, x[{hp::slice(a, none, 2)}], {ten, Array::scalar(-4, DType::Int64)});
}

TEST(Subtensor, SingleIndexShorthand) {
  auto x = hp::matrix("x");
  auto i = hp::scalar("i", DType::Int64);
  auto rows = hp::vector("rows", DType::Int64);
  auto f = hp::function({x, i, rows}, {x[1], x[i], x[rows]});
  auto out = f({kM, Array::scalar(-1, DType::Int64), Array::from_vector<int64_t>({2, 0})});
  EXPECT_TRUE(arrays_close(out[0], Array::from({4, 5, 6, 7})));
  EXPECT_TRUE(arrays_close(out[1], Array::from({8, 9, 10, 11})));
  EXPECT_TRUE(arrays_close(out[2], Array::from({{8, 9, 10, 11}, {0, 1, 2, 3}})));
}

TEST(Subtensor, SingleIndexErrorsPointAtTheIndexing) {
  auto x = hp::tensor(DType::Float64, {2, 2}, "x");
  const std::string here = "test_subtensor.cpp:" + std::to_string(__LINE__ + 1);
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { (void)x[5]; }, {"index 5 is out of bounds", here}));
}

TEST(Subtensor, TheanoFormWritesThroughTheIndexingResult) {
  auto x = hp::matrix("x");
  auto i = hp::scalar("i", DType::Int64);
  auto both = [&](const hp::IndexList& indices, double value) {
    Array theano_form = hp::eval(hp::set_subtensor(x[indices], value), {{x, kM}, {i, Array::scalar(2, DType::Int64)}});
    Array explicit_form = hp::eval(hp::set_subtensor(x, indices, value), {{x, kM}, {i, Array::scalar(2, DType::Int64)}});
    EXPECT_TRUE(arrays_close(theano_form, explicit_form));
    return theano_form;
  };
  both({hp::slice(1, 3)}, -1);
  both({hp::slice(none, none, -2), i}, -1);
  both({1, hp::slice(1, none)}, -1);
  auto rows = hp::constant(Array::from_vector(std::vector<int64_t>{0, 2}));
  auto cols = hp::constant(Array::from_vector(std::vector<int64_t>{3, 1, 3}));
  Array written = both({rows}, 5);
  EXPECT_TRUE(arrays_close(written, Array::from({{5, 5, 5, 5}, {4, 5, 6, 7}, {5, 5, 5, 5}})));
  both({1, cols}, 5);
  both({hp::slice_all(), cols}, 5);
  // inc accumulates repeated indices, as np.add.at does.
  Array incremented = hp::eval(hp::inc_subtensor(x[{1, cols}], 1.0), {{x, kM}});
  EXPECT_TRUE(arrays_close(incremented, Array::from({{0, 1, 2, 3}, {4, 6, 6, 9}, {8, 9, 10, 11}})));
}

TEST(Subtensor, TheanoFormRefusesWhatIsNotAnIndexingResult) {
  auto x = hp::matrix("x");
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::set_subtensor(x * 2, 0.0); },
                                         {"[set_subtensor]", "expects the result of indexing", "built by mul",
                                          "test_subtensor.cpp"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::inc_subtensor(x, 1.0); }, {"[inc_subtensor]", "not computed by indexing"}));
}
