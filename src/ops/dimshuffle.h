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
  HYPATIA_OP_METHODS
  std::string save() const override;
  ViewMap view_map() const override { return {{0, 0}}; }
  bool runs_on_any_device() const override { return true; }  // (a view)
  std::vector<Variable> r_op(const Apply& node, const std::vector<Variable>& eval_points) const override;

 private:
  std::vector<int> pattern_;
};

}  // namespace hypatia
