// SparseArray (hypatia/sparse_array.h): CSR and CSC matrices in SciPy's layout, against hand-written
// arrays: conversions, transposes, duplicates and unsorted indices, the checks on user-supplied arrays,
// and products with dense matrices and vectors.
#include <gtest/gtest.h>

#include "hypatia/hypatia.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::SparseArray;
using hp::SparseFormat;
using hp::testing::arrays_close;
using hp::testing::throws_with;
using hp::testing::values;

namespace {

// [[1, 0, 2, 0],
//  [0, 0, 3, 0],
//  [4, 5, 0, 6]]: by rows, data 1 2 | 3 | 4 5 6 in columns 0 2 | 2 | 0 1 3; by columns, data 1 4 | 5 | 2 3 | 6
// in rows 0 2 | 2 | 0 1 | 2.
const Array kDense = values({1, 0, 2, 0, 0, 0, 3, 0, 4, 5, 0, 6}, {3, 4});

Array ints(std::vector<int32_t> v) { return Array::from_vector<int32_t>(v); }

void expect_arrays(const SparseArray& s, const Array& data, const Array& indices, const Array& indptr) {
  EXPECT_TRUE(arrays_close(s.data(), data)) << s.data();
  EXPECT_TRUE(arrays_close(s.indices().astype(DType::Int64), indices.astype(DType::Int64))) << s.indices();
  EXPECT_TRUE(arrays_close(s.indptr().astype(DType::Int64), indptr.astype(DType::Int64))) << s.indptr();
}

}  // namespace

TEST(SparseArray, FromDenseInBothFormatsAndBack) {
  const SparseArray csr = SparseArray::from_dense(kDense, SparseFormat::Csr);
  EXPECT_EQ(csr.shape(), (hp::Shape{3, 4}));
  EXPECT_EQ(csr.nnz(), 6);
  expect_arrays(csr, values({1, 2, 3, 4, 5, 6}, {6}), ints({0, 2, 2, 0, 1, 3}), ints({0, 2, 3, 6}));
  const SparseArray csc = SparseArray::from_dense(kDense, SparseFormat::Csc);
  expect_arrays(csc, values({1, 4, 5, 2, 3, 6}, {6}), ints({0, 2, 2, 0, 1, 2}), ints({0, 2, 3, 5, 6}));
  EXPECT_TRUE(arrays_close(csr.to_dense(), kDense));
  EXPECT_TRUE(arrays_close(csc.to_dense(), kDense));
  EXPECT_EQ(csr.shape_dtype_str(), "csr float64(3, 4), 6 stored");
}

TEST(SparseArray, ConversionsAndTransposes) {
  const SparseArray csr = SparseArray::from_dense(kDense, SparseFormat::Csr);
  // tocsc: the column-compressed arrays above; tocsr of that: the row-compressed ones again.
  const SparseArray csc = csr.as_format(SparseFormat::Csc);
  EXPECT_EQ(csc.format(), SparseFormat::Csc);
  expect_arrays(csc, values({1, 4, 5, 2, 3, 6}, {6}), ints({0, 2, 2, 0, 1, 2}), ints({0, 2, 3, 5, 6}));
  expect_arrays(csc.as_format(SparseFormat::Csr), csr.data(), csr.indices(), csr.indptr());
  // The transpose reads the same arrays in the other format: no copy.
  const SparseArray t = csr.transpose();
  EXPECT_EQ(t.format(), SparseFormat::Csc);
  EXPECT_EQ(t.shape(), (hp::Shape{4, 3}));
  EXPECT_EQ(t.data().storage(), csr.data().storage());
  EXPECT_TRUE(arrays_close(t.to_dense(), kDense.transpose().copy()));
}

TEST(SparseArray, ArraysAreKeptAsGiven) {
  const Array data = values({7, 8}, {2}), indices = ints({1, 0}), indptr = ints({0, 1, 2});
  const SparseArray s(SparseFormat::Csr, 2, 2, data, indices, indptr);
  EXPECT_EQ(s.data().storage(), data.storage());
  EXPECT_EQ(s.indices().storage(), indices.storage());
  EXPECT_TRUE(arrays_close(s.to_dense(), values({0, 7, 8, 0}, {2, 2})));
}

TEST(SparseArray, DuplicatesAndUnsortedIndicesAsSciPy) {
  // Row 0 stores 1 at column 2, 2 at column 0 and 5 at column 2 again; row 1 stores an explicit zero.
  const SparseArray s(SparseFormat::Csr, 2, 3, values({1, 2, 5, 0}, {4}), ints({2, 0, 2, 1}), ints({0, 3, 4}));
  EXPECT_FALSE(s.has_sorted_indices());
  EXPECT_FALSE(s.has_canonical_format());
  EXPECT_TRUE(arrays_close(s.to_dense(), values({2, 0, 6, 0, 0, 0}, {2, 3})));  // duplicates summed
  const SparseArray c = s.canonical();
  expect_arrays(c, values({2, 6, 0}, {3}), ints({0, 2, 1}), ints({0, 2, 3}));  // (the explicit zero stays)
  EXPECT_TRUE(c.has_sorted_indices());
  EXPECT_TRUE(c.has_canonical_format());
  // Sorted with a duplicate: sorted, not canonical.
  const SparseArray sorted(SparseFormat::Csc, 3, 1, values({1, 1}, {2}), ints({1, 1}), ints({0, 2}));
  EXPECT_TRUE(sorted.has_sorted_indices());
  EXPECT_FALSE(sorted.has_canonical_format());
  // tocsc keeps duplicates, each column listing its entries by row.
  expect_arrays(s.as_format(SparseFormat::Csc), values({2, 0, 1, 5}, {4}), ints({0, 1, 0, 0}), ints({0, 1, 2, 4}));
}

TEST(SparseArray, BadArraysAreClearErrors) {
  const Array data = values({1, 2}, {2});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { SparseArray(SparseFormat::Csr, 2, 2, data, ints({0, 1}), ints({0, 2})); },
                                          {"[csr_matrix]", "indptr needs 3 entries", "rows"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { SparseArray(SparseFormat::Csc, 2, 2, data, ints({0, 1}), ints({0, 2, 1})); },
                                          {"[csc_matrix]", "indptr must run from 0"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { SparseArray(SparseFormat::Csr, 3, 2, data, ints({0, 1}), ints({0, 2, 1, 2})); },
                                          {"indptr decreases at 2"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { SparseArray(SparseFormat::Csr, 2, 2, data, ints({0, 2}), ints({0, 1, 2})); },
                                          {"index 2 at 1 is outside 0..1", "shape (2, 2)"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { SparseArray(SparseFormat::Csr, 2, 2, data, ints({0}), ints({0, 1, 1})); },
                                          {"data and indices differ in length"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { SparseArray(SparseFormat::Csr, 2, 2, data, values({0, 1}, {2}), ints({0, 1, 2})); },
                                          {"int32 or int64", "indices float64(2,)"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { SparseArray::from_dense(values({1, 2}, {2}), SparseFormat::Csr); },
                                          {"[csr_from_dense] needs a matrix"}));
}

TEST(SparseArray, ProductsWithDenseMatricesAndVectors) {
  // A @ B by hand: B = [[1, 2], [3, 4], [5, 6], [7, 8]];
  // row 0: 1*[1, 2] + 2*[5, 6] = [11, 14]; row 1: 3*[5, 6] = [15, 18]; row 2: 4*[1, 2] + 5*[3, 4] + 6*[7, 8] = [61, 76].
  const Array b = values({1, 2, 3, 4, 5, 6, 7, 8}, {4, 2});
  const Array expected = values({11, 14, 15, 18, 61, 76}, {3, 2});
  for (SparseFormat format : {SparseFormat::Csr, SparseFormat::Csc}) {
    const SparseArray a = SparseArray::from_dense(kDense, format);
    EXPECT_TRUE(arrays_close(hp::sparse_dot(a, b), expected));
    // A @ [1, 1, 1, 1] = the row sums [3, 3, 15].
    EXPECT_TRUE(arrays_close(hp::sparse_dot(a, values({1, 1, 1, 1}, {4})), values({3, 3, 15}, {3})));
    // float32 values against a float64 matrix: float64, as NumPy promotes.
    const SparseArray single(format, 3, 4, a.data().astype(DType::Float32), a.indices(), a.indptr());
    EXPECT_EQ(hp::sparse_dot(single, b).dtype(), DType::Float64);
    EXPECT_EQ(hp::sparse_dot(single, b.astype(DType::Float32)).dtype(), DType::Float32);
  }
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::sparse_dot(SparseArray::from_dense(kDense, SparseFormat::Csr), values({1, 2, 3}, {3})); },
                                          {"[sparse_dot]", "csr float64(3, 4)", "4 columns against 3 rows"}));
  // Empty rows and no stored entries at all.
  const SparseArray empty(SparseFormat::Csr, 2, 4, Array::empty({0}), ints({}), ints({0, 0, 0}));
  EXPECT_TRUE(arrays_close(hp::sparse_dot(empty, b), Array::zeros({2, 2})));
}
