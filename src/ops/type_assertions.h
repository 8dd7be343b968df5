// Ops that change only the static type of a value (which axes broadcast, which sizes are known) and
// check at run time that the value keeps the promise. Both return their input as a view.
#pragma once
#include <cstdint>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

// Per axis: -1 keeps the input's broadcastability, 1 declares the axis of size 1 (broadcastable, checked
// when it runs), 0 makes a size-1 axis an ordinary one (free).
class Rebroadcast : public Op {
 public:
  explicit Rebroadcast(std::vector<int8_t> pattern) : pattern_(std::move(pattern)) {}
  std::string name() const override { return "rebroadcast"; }
  std::string props() const override;
  HYPATIA_OP_METHODS
  std::string save() const override;
  ViewMap view_map() const override { return {{0, 0}}; }
  std::vector<Variable> r_op(const Apply& node, const std::vector<Variable>& eval_points) const override;
  const std::vector<int8_t>& pattern() const { return pattern_; }

 private:
  std::vector<int8_t> pattern_;
};

// Inputs: x and one integer scalar per axis; the output's static shape takes the constant sizes.
class SpecifyShape : public Op {
 public:
  std::string name() const override { return "specify_shape"; }
  HYPATIA_OP_METHODS
  std::string save() const override;
  ViewMap view_map() const override { return {{0, 0}}; }
  std::vector<Variable> r_op(const Apply& node, const std::vector<Variable>& eval_points) const override;
};

// Theano's Assert: x, checked when it runs that every condition (a scalar) is nonzero; a failed one raises
// ValueError with the message. Inputs: x, then the conditions. Never folded away, so the check stays.
class Assert : public Op {
 public:
  explicit Assert(std::string message) : message_(std::move(message)) {}
  std::string name() const override { return "assert"; }
  std::string props() const override { return message_; }
  HYPATIA_OP_METHODS
  std::string save() const override;
  ViewMap view_map() const override { return {{0, 0}}; }
  bool constant_foldable() const override { return false; }
  std::vector<std::vector<bool>> connection_pattern(const Apply& node) const override;
  std::vector<Variable> r_op(const Apply& node, const std::vector<Variable>& eval_points) const override;
  const std::string& message() const { return message_; }

 private:
  std::string message_;
};

// x with `like`'s broadcast pattern (x itself when they already agree); rewrites use it to keep a
// replacement's type where it knows more than the variable it replaces.
Variable rebroadcast_like(const Variable& x, const Variable& like);

}  // namespace hypatia
