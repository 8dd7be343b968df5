// SmallVector against std::vector: the same operations give the same elements, inside and past the
// inline capacity, and copies and moves never share storage.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "hypatia/array.h"
#include "hypatia/small_vector.h"

namespace hypatia {
namespace {

using Small = SmallVector<int64_t, 4>;

void expect_same(const Small& small, const std::vector<int64_t>& reference) {
  ASSERT_EQ(small.size(), reference.size());
  for (size_t i = 0; i < reference.size(); ++i) EXPECT_EQ(small[i], reference[i]) << "at " << i;
  EXPECT_TRUE(small == reference);
}

TEST(SmallVector, RandomOperationsMatchStdVector) {
  std::mt19937 random(7);
  Small small;
  std::vector<int64_t> reference;
  for (int round = 0; round < 4000; ++round) {
    const int64_t value = static_cast<int64_t>(random() % 1000) - 500;
    const size_t position = reference.empty() ? 0 : random() % (reference.size() + 1);
    switch (random() % 9) {
      case 0: case 1:
        small.push_back(value);
        reference.push_back(value);
        break;
      case 2:
        if (!reference.empty()) {
          small.pop_back();
          reference.pop_back();
        }
        break;
      case 3:
        small.insert(small.begin() + position, value);
        reference.insert(reference.begin() + position, value);
        break;
      case 4:
        small.insert(small.begin() + position, 3, value);
        reference.insert(reference.begin() + position, 3, value);
        break;
      case 5:
        if (position < reference.size()) {
          small.erase(small.begin() + position);
          reference.erase(reference.begin() + position);
        }
        break;
      case 6: {
        const size_t n = random() % 9;
        small.resize(n, value);
        reference.resize(n, value);
        break;
      }
      case 7: {  // a range out of the vector itself
        const std::vector<int64_t> before = reference;
        small.insert(small.begin() + position, small.begin(), small.begin() + position);
        reference.insert(reference.begin() + position, before.begin(), before.begin() + position);
        break;
      }
      case 8:
        if (reference.size() > 12) {
          small.erase(small.begin() + 2, small.end() - 2);
          reference.erase(reference.begin() + 2, reference.end() - 2);
        }
        break;
    }
    expect_same(small, reference);
    if (HasFailure()) return;
  }
}

TEST(SmallVector, CopiesAndMovesOwnTheirElements) {
  for (const size_t n : {0u, 3u, 4u, 5u, 40u}) {
    Small a;
    for (size_t i = 0; i < n; ++i) a.push_back(static_cast<int64_t>(i * i));
    const std::vector<int64_t> expected(a.begin(), a.end());
    Small copy = a;
    if (n) copy[0] = -1;
    expect_same(a, expected);  // the copy's change leaves a alone
    Small moved = std::move(a);
    expect_same(moved, expected);
    EXPECT_TRUE(a.empty());
    a = moved;  // a moved-from vector is usable
    expect_same(a, expected);
    Small assigned;
    assigned.push_back(9);
    assigned = std::move(moved);
    expect_same(assigned, expected);
    Small other = {-7, -8};
    assigned.swap(other);
    expect_same(assigned, {-7, -8});
    expect_same(other, expected);
    other = other;  // self-assignment keeps the elements
    expect_same(other, expected);
  }
}

TEST(SmallVector, ElementsOfItselfAreCopiedBeforeItGrows) {
  // push_back, resize and insert of one of its own elements at full capacity (the growth frees the old
  // block), and assign.
  Small a = {1, 2, 3, 4};
  a.push_back(a[0]);
  expect_same(a, {1, 2, 3, 4, 1});
  Small b = {5, 6, 7, 8};
  b.resize(6, b[3]);
  expect_same(b, {5, 6, 7, 8, 8, 8});
  Small c = {9, 10, 11, 12};
  c.insert(c.begin(), c[3]);
  expect_same(c, {12, 9, 10, 11, 12});
  c.assign(3, c[1]);
  expect_same(c, {9, 9, 9});
  c.assign({4, 5});
  expect_same(c, {4, 5});
}

TEST(SmallVector, RangesOfOtherTypesConvertElementByElement) {
  const std::vector<int> small_ints = {3, -1, 4, 1, 5, -9, 2, 6};
  const Small from_ints(small_ints.begin(), small_ints.end());
  expect_same(from_ints, {3, -1, 4, 1, 5, -9, 2, 6});
  const int32_t raw[] = {7, 8, 9};
  Shape shape(raw, raw + 3);
  EXPECT_EQ(shape, Shape({7, 8, 9}));
}

TEST(SmallVector, ConvertsToAndFromStdVectorAndOrdersLikeIt) {
  const std::vector<int64_t> values = {2, 3, 5, 7, 11, 13, 17};
  const Small small = values;
  const std::vector<int64_t> back = small;
  EXPECT_EQ(back, values);
  EXPECT_TRUE(Small({1, 2}) < Small({1, 3}));
  EXPECT_TRUE(Small({1, 2}) < Small({1, 2, 0}));
  EXPECT_FALSE(Small({2}) < Small({1, 9}));
  EXPECT_TRUE(Small({4, 5}) != Small({4}));
  EXPECT_EQ(Small(3, 8), Small({8, 8, 8}));
  EXPECT_EQ(Small(2), Small({0, 0}));
}

TEST(SmallVector, ArraysOfManyAxesKeepTheirShape) {
  // More axes than the inline capacity of Shape: the shape and strides live on the heap.
  const Shape shape = {2, 1, 3, 1, 2, 1, 2, 1};
  Array a = Array::zeros(shape, DType::Float32);
  EXPECT_EQ(a.shape(), shape);
  EXPECT_EQ(a.strides(), Strides({12, 12, 4, 4, 2, 2, 1, 1}));
  Array b = a;
  EXPECT_EQ(b.shape(), shape);
  EXPECT_EQ(a.size(), 24);
}

}  // namespace
}  // namespace hypatia
