// IfElse: inputs (condition, then_0 .. then_{n-1}, else_0 .. else_{n-1}), n outputs, each a view of the
// chosen input. The Program computes only the steps the chosen branch needs (Program::plan_lazy_branches).
#pragma once
#include "hypatia/graph.h"

namespace hypatia {

class IfElse : public Op {
 public:
  explicit IfElse(int num_outputs) : num_outputs_(num_outputs) {}
  int num_outputs() const { return num_outputs_; }
  std::string name() const override { return "if_else"; }
  std::string props() const override { return "n=" + std::to_string(num_outputs_); }
  ViewMap view_map() const override;
  int branch_outputs() const override { return num_outputs_; }
  // Passes the chosen branch's values on wherever they live; the condition is read on the host.
  bool runs_on_any_device() const override { return true; }
  bool reads_on_host(int input) const override { return input == 0; }
  HYPATIA_OP_METHODS
  std::string save() const override;

 private:
  int num_outputs_;
};

}  // namespace hypatia
