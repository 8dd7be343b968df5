// Indexing ops. Basic indexing (integers and slices) is Subtensor, a view; IncSubtensor writes
// into a copy of x. One integer-array index along an axis is AdvancedSubtensor1 (NumPy's take) and
// AdvancedIncSubtensor1 (np.put / np.add.at). The public builders combine them with DimShuffle.
#pragma once
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

// One basic index entry; its integer or bounds are scalar inputs of the op, in entry order.
struct BasicIndex {
  bool is_integer = false;
  bool has_start = false, has_stop = false, has_step = false;
  int num_inputs() const { return is_integer ? 1 : has_start + has_stop + has_step; }
  bool operator==(const BasicIndex&) const = default;
};

class Subtensor : public Op {
 public:
  explicit Subtensor(std::vector<BasicIndex> entries) : entries_(std::move(entries)) {}
  std::string name() const override { return "subtensor"; }
  std::string props() const override;
  HYPATIA_OP_METHODS
  ViewMap view_map() const override { return {{0, 0}}; }
  const std::vector<BasicIndex>& entries() const { return entries_; }

 private:
  std::vector<BasicIndex> entries_;
};

// Inputs: x, value, then the index scalars of `entries`.
class IncSubtensor : public Op {
 public:
  IncSubtensor(std::vector<BasicIndex> entries, bool set) : entries_(std::move(entries)), set_(set) {}
  std::string name() const override { return set_ ? "set_subtensor" : "inc_subtensor"; }
  std::string props() const override;
  HYPATIA_OP_METHODS

 private:
  std::vector<BasicIndex> entries_;
  bool set_;
};

// Inputs: x, integer indices (any rank).
class AdvancedSubtensor1 : public Op {
 public:
  explicit AdvancedSubtensor1(int axis) : axis_(axis) {}
  std::string name() const override { return "take"; }
  std::string props() const override { return "axis=" + std::to_string(axis_); }
  HYPATIA_OP_METHODS
  int axis() const { return axis_; }

 private:
  int axis_;
};

// Inputs: x, value, integer indices. inc accumulates repeated indices (np.add.at).
class AdvancedIncSubtensor1 : public Op {
 public:
  AdvancedIncSubtensor1(int axis, bool set) : axis_(axis), set_(set) {}
  std::string name() const override { return set_ ? "set_take" : "inc_take"; }
  std::string props() const override { return "axis=" + std::to_string(axis_); }
  HYPATIA_OP_METHODS

 private:
  int axis_;
  bool set_;
};

}  // namespace hypatia
