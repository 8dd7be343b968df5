// Indexing ops. Basic indexing (integers and slices) is Subtensor, a view; IncSubtensor writes
// into a copy of x. Integer-array indices on one or more axes are AdvancedSubtensor (NumPy's advanced
// indexing; one axis is np.take) and AdvancedIncSubtensor (np.put / np.add.at). The public builders
// combine them with DimShuffle.
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

// `i` as a position on an axis of size `dim` (negative counts from the end); IndexError naming the op,
// the axis and the shape when it is out of bounds.
int64_t checked_index(int64_t i, int64_t dim, int axis, const Shape& shape, const char* op);

// x[entries] at run time, the index scalars read on the host: a view (of x's elements wherever they live).
Array apply_basic_index(const Array& x, const std::vector<BasicIndex>& entries, std::span<const Array> scalars);
// `value` broadcast to `shape` with Theano's rule (only leading or statically size-1 axes stretch): a
// view; ShapeError naming `op` where it does not fit.
Array broadcast_value(const Array& value, const TensorType& value_type, const Shape& shape, const char* op);

// The shape integer index arrays broadcast to (NumPy's rule), from their shapes alone; IndexError naming
// `op` and the shapes where they do not.
Shape broadcast_index_shape(std::span<const Array> indices, const char* op);
// The axes of x[...] with index arrays on `axes` (AdvancedSubtensor's result, and the region an
// AdvancedIncSubtensor writes), each the x axis it comes from, or -1 - d for dimension d of the indices'
// broadcast shape (of rank b_ndim).
std::vector<int> advanced_result_axes(int x_ndim, const std::vector<int>& axes, int b_ndim, bool dims_first);

class Subtensor : public Op {
 public:
  explicit Subtensor(std::vector<BasicIndex> entries) : entries_(std::move(entries)) {}
  std::string name() const override { return "subtensor"; }
  std::string props() const override;
  HYPATIA_OP_METHODS
  std::string save() const override;
  std::vector<Variable> r_op(const Apply& node, const std::vector<Variable>& eval_points) const override;
  ViewMap view_map() const override { return {{0, 0}}; }
  // A view of x wherever it lives; the bounds are read on the host.
  bool runs_on_any_device() const override { return true; }
  bool reads_on_host(int input) const override { return input >= 1; }
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
  std::string save() const override;
  bool sets() const { return set_; }  // assigns (set_subtensor) rather than adds
  const std::vector<BasicIndex>& entries() const { return entries_; }
  bool reads_on_host(int input) const override { return input >= 2; }  // the bounds
  int destination_input() const override { return 0; }  // x, written where indexed
  std::optional<Shape> result_shape(const Apply&, std::span<const Array> inputs) const override { return inputs[0].shape(); }

 private:
  std::vector<BasicIndex> entries_;
  bool set_;
};

// Inputs: x, then one integer index array per axis of `axes` (ascending, distinct). The index arrays
// broadcast together (NumPy's rule) to a shape B; the result has x's other axes with B in place of the
// indexed axes when those are adjacent, else B first, as in NumPy.
// dims_first puts the index dimensions first even where the axes are adjacent: NumPy's rule when the
// index arrays were separated in the index list (x[0, None, [0, 2]], x[:, a, ..., b]).
class AdvancedSubtensor : public Op {
 public:
  explicit AdvancedSubtensor(std::vector<int> axes, bool dims_first = false) : axes_(std::move(axes)), dims_first_(dims_first) {}
  std::string name() const override { return "take"; }
  std::string props() const override;
  HYPATIA_OP_METHODS
  std::string save() const override;
  const std::vector<int>& axes() const { return axes_; }
  bool dims_first() const { return dims_first_; }

 private:
  std::vector<int> axes_;
  bool dims_first_;
};

// Inputs: x, value, then the index arrays of `axes`. inc accumulates repeated positions (np.add.at).
class AdvancedIncSubtensor : public Op {
 public:
  AdvancedIncSubtensor(std::vector<int> axes, bool set, bool dims_first = false)
      : axes_(std::move(axes)), set_(set), dims_first_(dims_first) {}
  std::string name() const override { return set_ ? "set_take" : "inc_take"; }
  std::string props() const override;
  HYPATIA_OP_METHODS
  std::string save() const override;
  bool sets() const { return set_; }
  const std::vector<int>& axes() const { return axes_; }
  bool dims_first() const { return dims_first_; }
  int destination_input() const override { return 0; }
  std::optional<Shape> result_shape(const Apply&, std::span<const Array> inputs) const override { return inputs[0].shape(); }

 private:
  Variable last_writes(const Variable& x, const std::vector<Variable>& indices, int ndim) const;
  std::vector<int> axes_;
  bool set_;
  bool dims_first_;
};

}  // namespace hypatia
