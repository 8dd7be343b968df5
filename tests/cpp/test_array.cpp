// Runtime arrays: dtypes and promotion, views, copies, conversions, printing and errors.
#include <cmath>
#include <cstdint>

#include "test_util.h"

namespace hp = hypatia;
using hp::DType;
using hp::testing::throws_with;

TEST(DType, NamesSizesAndKinds) {
  EXPECT_EQ(hp::dtype_name(DType::Float32), "float32");
  EXPECT_EQ(hp::dtype_from_name("uint8"), DType::UInt8);
  EXPECT_EQ(hp::dtype_size(DType::Int16), 2u);
  EXPECT_EQ(hp::dtype_size(DType::Bool), 1u);
  EXPECT_TRUE(hp::is_float(DType::Float64));
  EXPECT_TRUE(hp::is_integer(DType::UInt8));
  EXPECT_FALSE(hp::is_integer(DType::Bool));
  EXPECT_FALSE(hp::is_signed(DType::UInt8));
  EXPECT_EQ(hp::dtype_from_name("uint64"), DType::UInt64);
  EXPECT_EQ(hp::dtype_size(DType::UInt32), 4u);
  EXPECT_TRUE(hp::is_unsigned(DType::UInt16));
  EXPECT_FALSE(hp::is_unsigned(DType::Bool));
  EXPECT_FALSE(hp::is_unsigned(DType::Int64));
  EXPECT_EQ(hp::kNumDTypes, 14);
  EXPECT_TRUE(throws_with<hp::TypeError>([] { hp::dtype_from_name("bfloat16"); }, {"[dtype] unknown dtype 'bfloat16'"}));
}

TEST(DType, PromotionMatchesNumPy) {
  // Expected values are np.result_type for each pair, written out by hand.
  struct Case { DType a, b, expected; };
  const Case cases[] = {
      {DType::Bool, DType::Bool, DType::Bool},        {DType::Bool, DType::Int8, DType::Int8},
      {DType::Bool, DType::UInt8, DType::UInt8},      {DType::Bool, DType::Float32, DType::Float32},
      {DType::Int8, DType::UInt8, DType::Int16},      {DType::Int8, DType::Int16, DType::Int16},
      {DType::UInt8, DType::Int16, DType::Int16},     {DType::UInt8, DType::Int32, DType::Int32},
      {DType::Int64, DType::UInt8, DType::Int64},     {DType::Int32, DType::Int64, DType::Int64},
      {DType::Int8, DType::Float32, DType::Float32},  {DType::UInt8, DType::Float32, DType::Float32},
      {DType::Int16, DType::Float32, DType::Float32}, {DType::Int32, DType::Float32, DType::Float64},
      {DType::Int64, DType::Float32, DType::Float64}, {DType::Float32, DType::Float64, DType::Float64},
      {DType::Int64, DType::Float64, DType::Float64}, {DType::Float32, DType::Float32, DType::Float32},
      // Unsigned beside signed needs a signed type twice as wide; uint64 has none and gives float64.
      {DType::UInt64, DType::Int64, DType::Float64},  {DType::UInt64, DType::Int8, DType::Float64},
      {DType::UInt32, DType::Int32, DType::Int64},    {DType::UInt16, DType::Int8, DType::Int32},
      {DType::UInt16, DType::Int32, DType::Int32},    {DType::UInt32, DType::Int64, DType::Int64},
      {DType::UInt8, DType::UInt32, DType::UInt32},   {DType::UInt16, DType::UInt64, DType::UInt64},
      {DType::Bool, DType::UInt64, DType::UInt64},    {DType::UInt16, DType::Float32, DType::Float32},
      {DType::UInt32, DType::Float32, DType::Float64}, {DType::UInt64, DType::Float32, DType::Float64},
      {DType::UInt64, DType::Float64, DType::Float64},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(hp::promote_types(c.a, c.b), c.expected) << hp::dtype_name(c.a) << " + " << hp::dtype_name(c.b);
    EXPECT_EQ(hp::promote_types(c.b, c.a), c.expected) << "symmetric";
  }
  EXPECT_EQ(hp::upgrade_to_float(DType::Int8), DType::Float32);
  EXPECT_EQ(hp::upgrade_to_float(DType::Int32), DType::Float64);
  EXPECT_EQ(hp::upgrade_to_float(DType::Float32), DType::Float32);
  EXPECT_EQ(hp::upgrade_to_float(DType::UInt16), DType::Float32);
  EXPECT_EQ(hp::upgrade_to_float(DType::UInt32), DType::Float64);
  EXPECT_EQ(hp::upgrade_to_float(DType::UInt64), DType::Float64);
}

TEST(Array, ConstructionAndElementAccess) {
  hp::Array a = hp::Array::from({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(a.shape(), (hp::Shape{2, 3}));
  EXPECT_EQ(a.strides(), (hp::Strides{3, 1}));
  EXPECT_EQ(a.size(), 6);
  EXPECT_EQ(a.ndim(), 2);
  EXPECT_EQ(a.shape(-1), 3);
  EXPECT_EQ(a.at<double>({1, 2}), 6.0);
  EXPECT_EQ(a.at<double>({-1, -1}), 6.0);
  EXPECT_TRUE(a.is_contiguous());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.raw_data()) % hp::Storage::kAlignment, 0u);
  EXPECT_EQ(hp::Array().shape(), (hp::Shape{0}));
  EXPECT_EQ(hp::Array().copy().size(), 0);
  EXPECT_EQ(hp::Array::full({2}, 7, DType::Int32).at<int32_t>({1}), 7);
  EXPECT_EQ(hp::Array::arange(4).get_as_double(3), 3.0);
}

TEST(Array, SlicesAreViewsSharingStorage) {
  hp::Array a = hp::Array::arange(12, DType::Float64).reshape({3, 4});
  hp::Array row = a.index(0, 1);  // a[1]
  row.set<double>({2}, 100.0);
  EXPECT_EQ(a.at<double>({1, 2}), 100.0);
  hp::Array every_other = a.slice({{hp::Slice::kNone, hp::Slice::kNone, 1}, {1, hp::Slice::kNone, 2}});  // a[:, 1::2]
  EXPECT_EQ(every_other.shape(), (hp::Shape{3, 2}));
  EXPECT_EQ(every_other.at<double>({2, 1}), 11.0);
  EXPECT_FALSE(every_other.is_contiguous());
  EXPECT_TRUE(every_other.shares_storage_with(a));
}

TEST(Array, NegativeStepsAndClamping) {
  hp::Array a = hp::Array::arange(5, DType::Int64);
  hp::Array reversed = a.slice({{hp::Slice::kNone, hp::Slice::kNone, -1}});
  EXPECT_TRUE(reversed.equals(hp::Array::from_vector<int64_t>({4, 3, 2, 1, 0})));
  EXPECT_TRUE(a.slice({{3, 0, -2}}).equals(hp::Array::from_vector<int64_t>({3, 1})));
  EXPECT_TRUE(a.slice({{-2, 100, 1}}).equals(hp::Array::from_vector<int64_t>({3, 4})));
  EXPECT_EQ(a.slice({{4, 1, 1}}).size(), 0);
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { a.slice({{0, 2, 0}}); }, {"step cannot be zero"}));
}

TEST(Array, TransposeAndCopyGiveCOrder) {
  hp::Array a = hp::Array::from({{1, 2, 3}, {4, 5, 6}});
  hp::Array t = a.transpose();
  EXPECT_EQ(t.shape(), (hp::Shape{3, 2}));
  EXPECT_FALSE(t.is_contiguous());
  hp::Array c = t.copy();
  EXPECT_TRUE(c.is_contiguous());
  const double* data = c.data<double>();
  const double expected[] = {1, 4, 2, 5, 3, 6};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(data[i], expected[i]);
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { a.transpose({0, 0}); }, {"[transpose]", "repeats"}));
}

TEST(Array, BroadcastToUsesZeroStrides) {
  hp::Array v = hp::Array::from({1, 2, 3});
  hp::Array b = v.broadcast_to({2, 3});
  EXPECT_EQ(b.strides(), (hp::Strides{0, 1}));
  EXPECT_EQ(b.at<double>({1, 2}), 3.0);
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { v.broadcast_to({2, 4}); },
                                          {"[broadcast_to] cannot broadcast an array of shape (3,) to shape (2, 4)"}));
  EXPECT_EQ(v.expand_dims(0).shape(), (hp::Shape{1, 3}));
  EXPECT_EQ(v.expand_dims(0).squeeze(0).shape(), (hp::Shape{3}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { v.squeeze(0); }, {"[squeeze]", "size 3"}));
}

TEST(Array, ReshapeIsAViewWhenContiguous) {
  hp::Array a = hp::Array::arange(6, DType::Float64);
  hp::Array r = a.reshape({2, -1});
  EXPECT_EQ(r.shape(), (hp::Shape{2, 3}));
  EXPECT_TRUE(r.shares_storage_with(a));
  hp::Array t = r.transpose().reshape({6});  // not contiguous: copies
  EXPECT_FALSE(t.shares_storage_with(a));
  EXPECT_TRUE(t.equals(hp::Array::from({0, 3, 1, 4, 2, 5})));
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { a.reshape({4, 2}); },
                                          {"[reshape] cannot reshape array of shape (6,) into shape (4, 2)"}));
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { a.reshape({-1, -1}); }, {"only infer one dimension"}));
}

TEST(Array, AstypeConvertsLikeNumPy) {
  hp::Array f = hp::Array::from({-1.7, 0.0, 2.9, 300.0});
  EXPECT_TRUE(f.astype(DType::Int32).equals(hp::Array::from_vector<int32_t>({-1, 0, 2, 300})));
  EXPECT_TRUE(f.astype(DType::Bool).equals(hp::Array::from_vector<bool>({true, false, true, true})));
  hp::Array nan = hp::Array::from({NAN});
  EXPECT_NO_THROW(nan.astype(DType::Int64));  // defined (NumPy gives INT64_MIN), never undefined behaviour
  EXPECT_EQ(hp::Array::from_vector<uint8_t>({255}).astype(DType::Float32).item(), 255.0);
  hp::Array copy = f.astype(DType::Float64);
  EXPECT_FALSE(copy.shares_storage_with(f));
}

TEST(Array, CopyFromCastsAndChecksShape) {
  hp::Array dst = hp::Array::zeros({2}, DType::Int32);
  dst.copy_from(hp::Array::from({1.5, 2.5}));
  EXPECT_TRUE(dst.equals(hp::Array::from_vector<int32_t>({1, 2})));
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { dst.copy_from(hp::Array::zeros({3})); }, {"[array] copy_from"}));
}

TEST(Array, ErrorsNameTheProblem) {
  hp::Array a = hp::Array::zeros({2, 3});
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { a.data<float>(); }, {"[array] data<float32>() on a float64 array"}));
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { a.at<double>({2, 0}); }, {"index 2 is out of bounds for axis 0 with size 2"}));
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { a.at<double>({0}); }, {"index of length 1", "(2, 3)"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { a.item(); }, {"item()", "(2, 3)"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::Array::zeros({-1}); }, {"negative dimension"}));
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::Array::from_vector<double>({1, 2, 3}, {2, 2}); }, {"3 values cannot fill shape (2, 2)"}));
}

TEST(Array, AllcloseFollowsNumPy) {
  hp::Array a = hp::Array::from({1.0, 2.0, NAN});
  EXPECT_FALSE(a.allclose(a));  // NaN is never close
  EXPECT_TRUE(hp::Array::from({1.0, 1e10}).allclose(hp::Array::from({1.0 + 1e-9, 1e10 + 1.0})));
  EXPECT_FALSE(hp::Array::from({1.0}).allclose(hp::Array::from({1.1})));
  EXPECT_FALSE(hp::Array::from({1.0}).allclose(hp::Array::from({1.0, 1.0})));
}

TEST(Array, ReprLooksLikeNumPy) {
  EXPECT_EQ(hp::Array::from({{1, 2}, {3, 4}}).str(), "array([[1., 2.],\n       [3., 4.]])");
  EXPECT_EQ(hp::Array::from_vector<int64_t>({1, 2, 3}).str(), "array([1, 2, 3])");
  EXPECT_EQ(hp::Array::from_vector<int32_t>({1, -20}).str(), "array([  1, -20], dtype=int32)");
  EXPECT_EQ(hp::Array::from_vector<bool>({true, false}).str(), "array([ True, False])");
  // Integers print exactly, beyond what a double holds (expected strings from NumPy's repr).
  EXPECT_EQ(hp::Array::from_vector<uint64_t>({UINT64_MAX, 1}).str(),
            "array([18446744073709551615,                    1], dtype=uint64)");
  EXPECT_EQ(hp::Array::from_vector<int64_t>({INT64_MIN, INT64_MAX}).str(),
            "array([-9223372036854775808,  9223372036854775807])");
  EXPECT_EQ(hp::Array::from_vector<uint16_t>({65535, 7}).str(), "array([65535,     7], dtype=uint16)");
  EXPECT_EQ(hp::Array::scalar(3.5).str(), "array(3.5)");
  EXPECT_EQ(hp::Array::from({0.5, 1.25}, DType::Float32).str(), "array([0.5 , 1.25], dtype=float32)");
  EXPECT_EQ(hp::Array::zeros({0}).str(), "array([], dtype=float64)");
  EXPECT_EQ(hp::Array::zeros({0, 3}).str(), "array([], shape=(0, 3), dtype=float64)");
  std::string big = hp::Array::zeros({2000}).str();
  EXPECT_NE(big.find("..."), std::string::npos);
  EXPECT_LT(big.size(), 200u);
}

TEST(Array, HugeShapesAreRefusedNotCrashed) {
  EXPECT_TRUE(throws_with<hp::MemoryError>([] { hp::Array::empty({int64_t{1} << 40, int64_t{1} << 40}); },
                                           {"[array] shape", "more elements than fit in 64 bits"}));
  EXPECT_TRUE(throws_with<hp::MemoryError>([] { hp::Array::empty({int64_t{1} << 61}); }, {"does not fit in memory"}));
  EXPECT_TRUE(throws_with<hp::MemoryError>([] { hp::Array::empty({int64_t{1} << 50}); }, {"cannot allocate"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([] { hp::eval(hp::arange(0.0, 1.0, 1e-300)); }, {"[arange]", "too many elements"}));
}
