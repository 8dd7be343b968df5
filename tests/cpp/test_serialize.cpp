// Saving and loading ops and graphs (include/hypatia/serialize.h): round trips over the op families
// compute the same values, and damaged or foreign data is a ValueError, never a crash.
#include <gtest/gtest.h>

#include "hypatia/hypatia.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::throws_with;

namespace {

// A graph touching most op families: elementwise, reductions, dot, shape ops, indexing, nnet, sort,
// random-free extra ops, a loop and a branch.
std::pair<std::vector<hp::Variable>, std::vector<hp::Variable>> sample_graph() {
  auto x = hp::matrix("x"), v = hp::vector("v");
  auto h = hp::tanh(hp::dot(x, x) + 1.5);
  auto idx = hp::constant(Array::from_vector<int64_t>({2, 0}));
  auto picked = hp::set_subtensor(h[{idx}], 0.25);
  auto rows = hp::softmax(picked, 1) * hp::reshape(hp::arange(9), {3, 3});
  auto summed = hp::sum(rows, {1}) + hp::max(x, {0}) + hp::cumsum(v, 0) + hp::sort(v, 0);
  hp::ScanResult loop = hp::scan([](const std::vector<hp::Variable>& a) { return hp::ScanStep(a[0] * a[1] + 1.0); }, {v},
                                 {hp::OutputInfo(hp::constant(0.5))});
  auto branch = hp::ifelse(hp::gt(hp::sum(v), 0.0), summed, -summed);
  return {{x, v}, {branch + loop[0][{-1}], hp::grad(hp::sum(branch * branch), v), hp::argmax(x, 1), hp::diagonal(x)}};
}

}  // namespace

TEST(Serialize, GraphsRoundTripAndComputeTheSameValues) {
  auto [inputs, outputs] = sample_graph();
  const std::string saved = hp::save_graph(inputs, outputs);
  auto [loaded_inputs, loaded_outputs] = hp::load_graph(saved);
  ASSERT_EQ(loaded_inputs.size(), 2u);
  ASSERT_EQ(loaded_outputs.size(), outputs.size());
  EXPECT_EQ(loaded_inputs[0].name(), "x");
  for (size_t k = 0; k < outputs.size(); ++k) EXPECT_EQ(loaded_outputs[k].type(), outputs[k].type());
  Array x = Array::from_vector<double>({0.5, -1, 2, 0.25, 1, -0.5, 3, 0, 1}, {3, 3}), v = Array::from({0.5, 1.0, -0.25});
  auto original = hp::function(inputs, outputs)({x, v});
  auto again = hp::function(loaded_inputs, loaded_outputs)({x, v});
  for (size_t k = 0; k < original.size(); ++k) EXPECT_TRUE(arrays_close(again[k], original[k])) << k;
  // Saving what was loaded gives the same bytes: nothing is lost or added.
  EXPECT_EQ(hp::save_graph(loaded_inputs, loaded_outputs).size(), saved.size());
}

TEST(Serialize, DamagedOrForeignDataIsAValueError) {
  auto [inputs, outputs] = sample_graph();
  const std::string saved = hp::save_graph(inputs, outputs);
  for (size_t cut = 0; cut < saved.size(); cut += 7)
    EXPECT_THROW(hp::load_graph(saved.substr(0, cut)), hp::ValueError) << cut;
  std::string newer = saved;
  newer[4] = 3;  // the format version
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::load_graph(newer); }, {"[load]", "format version 3"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::load_op(saved); }, {"[load]", "not a saved op"}));
  uint64_t state = 12345;
  for (int trial = 0; trial < 300; ++trial) {  // flipped bytes: a ValueError or a graph, never a crash
    std::string damaged = saved;
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    damaged[8 + (state >> 33) % (damaged.size() - 8)] ^= static_cast<char>(1 + (state >> 20) % 255);
    try {
      hp::load_graph(damaged);
    } catch (const hp::Error&) {
    }
  }
}

TEST(Serialize, ArraysKeepDtypeShapeAndValuesInAnyLayout) {
  Array strided = Array::from_vector<int32_t>({1, 2, 3, 4, 5, 6}, {2, 3}).transpose();
  Array loaded = hp::load_array(hp::save_array(strided));
  EXPECT_EQ(loaded.dtype(), DType::Int32);
  EXPECT_TRUE(arrays_close(loaded, strided));
  EXPECT_EQ(hp::load_array(hp::save_array(Array::zeros({0, 4}))).shape(), (hp::Shape{0, 4}));
  // A shared variable is the caller's to save (pickling saves it with its value).
  auto w = hp::shared(Array::from({1.0, 2.0}), "w");
  auto x = hp::vector("x");
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::save_graph({x}, {x * w}); }, {"[save]", "shared variable"}));
}
