// DimShuffle: reorders axes, inserts broadcastable axes and drops broadcastable ones. Always a view.
#pragma once
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

class DimShuffle : public Op {
 public:
  explicit DimShuffle(std::vector<int> pattern) : pattern_(std::move(pattern)) {}
  const std::vector<int>& pattern() const { return pattern_; }

  std::string name() const override { return "dimshuffle"; }
  std::string props() const override;
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override;
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override;
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override;
  std::vector<std::vector<Variable>> infer_shape(const Apply& node,
                                                 const std::vector<std::vector<Variable>>& input_shapes) const override;
  ViewMap view_map() const override { return {{0, 0}}; }

 private:
  std::vector<int> pattern_;
};

}  // namespace hypatia
