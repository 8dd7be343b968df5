// Randomized checks against plain loops written here: broadcasting elementwise ops and reductions
// over random shapes, strides and axes; and concurrent calls of one compiled function.
#include <thread>

#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::testing::arrays_close;

namespace {

// Value of `a` at a position of the broadcast output `index` (size-1 axes repeat, NumPy-style).
double broadcast_read(const Array& a, const std::vector<int64_t>& index) {
  const int lead = static_cast<int>(index.size()) - a.ndim();
  std::vector<int64_t> at;
  for (int axis = 0; axis < a.ndim(); ++axis) at.push_back(a.shape()[axis] == 1 ? 0 : index[lead + axis]);
  int64_t flat = 0;
  for (int axis = 0; axis < a.ndim(); ++axis) flat = flat * a.shape()[axis] + at[axis];
  return a.get_as_double(flat);
}

}  // namespace

TEST(Randomized, BroadcastingElementwiseMatchesPlainLoops) {
  hp::random::Generator rng(2024);
  for (int trial = 0; trial < 60; ++trial) {
    const int ndim = static_cast<int>(rng.binomial({1}, 3, 0.5).item()) + 1;  // 1..4
    hp::Shape out_shape, a_shape, b_shape;
    std::vector<int64_t> a_type, b_type;
    for (int axis = 0; axis < ndim; ++axis) {
      int64_t n = static_cast<int64_t>(rng.binomial({1}, 4, 0.5).item());  // 0..4, often 2
      bool a_one = rng.uniform({1}).item() < 0.3, b_one = !a_one && rng.uniform({1}).item() < 0.3;
      out_shape.push_back(n);
      a_shape.push_back(a_one ? 1 : n);
      b_shape.push_back(b_one ? 1 : n);
      a_type.push_back(a_one ? 1 : -1);
      b_type.push_back(b_one ? 1 : -1);
    }
    // Sometimes b has fewer axes (padded on the left by the builder).
    if (ndim > 1 && rng.uniform({1}).item() < 0.3) {
      b_shape.erase(b_shape.begin());
      b_type.erase(b_type.begin());
      out_shape[0] = a_shape[0];  // only a decides the leading axis now
    }
    Array a = rng.uniform(a_shape, -2, 2), b = rng.uniform(b_shape, 0.5, 2);
    if (a.ndim() >= 2 && rng.uniform({1}).item() < 0.5) {
      // A transposed (strided) input with the same values.
      a = a.transpose().copy().transpose();
    }
    auto x = hp::tensor(hp::DType::Float64, a_type, "x"), y = hp::tensor(hp::DType::Float64, b_type, "y");
    auto f = hp::function({x, y}, {x * y + hp::exp(x) / y, hp::maximum(x, y)});
    auto out = f({a, b});
    Array expected0 = Array::empty(out_shape), expected1 = Array::empty(out_shape);
    if (expected0.size() > 0) {
      hp::IndexIterator it(out_shape);
      int64_t flat = 0;
      do {
        double va = broadcast_read(a.copy(), it.index()), vb = broadcast_read(b, it.index());
        expected0.set_from_double(flat, va * vb + std::exp(va) / vb);
        expected1.set_from_double(flat, std::max(va, vb));
        ++flat;
      } while (it.next());
    }
    SCOPED_TRACE("trial " + std::to_string(trial) + " shapes " + hp::shape_str(a.shape()) + " " + hp::shape_str(b.shape()));
    EXPECT_TRUE(arrays_close(out[0], expected0, 1e-12, 1e-12));
    EXPECT_TRUE(arrays_close(out[1], expected1));
  }
}

TEST(Randomized, ReductionsMatchPlainLoops) {
  hp::random::Generator rng(7);
  for (int trial = 0; trial < 60; ++trial) {
    const int ndim = static_cast<int>(rng.binomial({1}, 3, 0.5).item()) + 1;
    hp::Shape shape;
    for (int axis = 0; axis < ndim; ++axis) shape.push_back(static_cast<int64_t>(rng.binomial({1}, 4, 0.5).item()) + 1);
    std::vector<int> axes;
    for (int axis = 0; axis < ndim; ++axis)
      if (rng.uniform({1}).item() < 0.5) axes.push_back(axis);
    Array value = rng.uniform(shape, -1, 1);
    auto x = hp::tensor(hp::DType::Float64, std::vector<int64_t>(ndim, -1), "x");
    auto f = hp::function({x}, {hp::sum(x, axes, true), hp::max(x, axes, true)});
    auto out = f({value});
    // Plain loops: every element lands in the output cell with the reduced axes set to 0.
    hp::Shape kept = shape;
    for (int axis : axes) kept[axis] = 1;
    Array sum = Array::zeros(kept), maximum = Array::full(kept, -INFINITY);
    hp::IndexIterator it(shape);
    int64_t flat = 0;
    do {
      int64_t target = 0;
      for (int axis = 0; axis < ndim; ++axis)
        target = target * kept[axis] + (std::find(axes.begin(), axes.end(), axis) != axes.end() ? 0 : it.index()[axis]);
      double v = value.get_as_double(flat++);
      sum.set_from_double(target, sum.get_as_double(target) + v);
      maximum.set_from_double(target, std::max(maximum.get_as_double(target), v));
    } while (it.next());
    SCOPED_TRACE("trial " + std::to_string(trial) + " shape " + hp::shape_str(shape));
    EXPECT_TRUE(arrays_close(out[0], sum, 1e-12, 1e-12));
    EXPECT_TRUE(arrays_close(out[1], maximum));
  }
}

TEST(Concurrency, OneFunctionCalledFromTwoThreads) {
  auto x = hp::matrix("x"), w = hp::matrix("w");
  auto f = hp::function({x, w}, {hp::sum(hp::tanh(hp::dot(x, w)), 1)});
  hp::random::Generator rng(1);
  Array a = rng.normal({20, 30}), b = rng.normal({30, 10});
  const Array expected = f({a, b})[0];
  bool all_equal[2] = {true, true};
  auto work = [&](int id) {
    for (int i = 0; i < 300; ++i) all_equal[id] = all_equal[id] && f({a, b})[0].allclose(expected, 1e-12, 1e-12);
  };
  std::thread first(work, 0), second(work, 1);
  first.join();
  second.join();
  EXPECT_TRUE(all_equal[0]);
  EXPECT_TRUE(all_equal[1]);
}

TEST(Concurrency, UpdatesFromSeveralThreadsAreNotLost) {
  // Each call reads the counter and writes it back plus one; concurrent calls must not interleave.
  auto count = hp::shared(Array::scalar(0, hp::DType::Int64), "count");
  auto total = hp::shared(Array::zeros({4}), "total");
  auto x = hp::vector("x");
  auto step = hp::function({x}, {}, {{count, count + 1}, {total, total + x}});
  auto read = hp::function({}, {count * 1});
  const Array ones = Array::ones({4});
  auto work = [&] {
    for (int i = 0; i < 2000; ++i) {
      step({ones});
      (void)read({});
      (void)total.get_value(true);
    }
  };
  std::thread a(work), b(work), c(work);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(count.get_value().item(), 6000);
  EXPECT_TRUE(arrays_close(total.get_value(), Array::full({4}, 6000)));
}
