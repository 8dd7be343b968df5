// Transfer: a value copied between the host and a device's memory. The placement pass inserts them where
// a node on one side reads a value computed on the other, so debugprint and the profile show every copy.
#pragma once
#include "hypatia/device.h"
#include "hypatia/graph.h"

namespace hypatia {

class Transfer : public Op {
 public:
  bool takes_sparse(int) const override { return true; }  // a sparse matrix moves as its arrays
  explicit Transfer(Device to) : to_(to) {}
  std::string name() const override { return "transfer"; }
  std::string props() const override { return to_.str(); }
  HYPATIA_OP_METHODS
  std::string save() const override;
  const Device& to() const { return to_; }

 private:
  Device to_;
};

Variable transfer(const Variable& x, const Device& to);

}  // namespace hypatia
