// FusedElemwise: a chain of elementwise ops computed in one loop. Its Composite is a small scalar
// program over the table's rows (scalar_ops.def): each instruction applies one scalar op to inputs
// or earlier results, with the typing Elemwise would give it. The fusion pass builds them; the CPU
// code generator renders them as C++; perform() interprets them, op by op, as the reference.
#pragma once
#include <string>
#include <vector>

#include "ops/elemwise.h"
#include "ops/reduce.h"

namespace hypatia {

struct Composite {
  struct Instruction {
    ScalarOp op;
    std::vector<int> args;  // operand refs: i < num_inputs() is input i, else instruction i - num_inputs()
    ScalarTyping typing;
    CodeLocation where;  // where the user built the node this came from (for errors; not part of equality)
    bool operator==(const Instruction& other) const {
      return op == other.op && args == other.args && typing.compute == other.typing.compute &&
             typing.out == other.typing.out;
    }
  };
  std::vector<DType> input_dtypes;
  std::vector<Instruction> code;
  std::vector<int> outputs;  // refs of the results, one per output of the node

  int num_inputs() const { return static_cast<int>(input_dtypes.size()); }
  DType dtype_of(int ref) const {
    return ref < num_inputs() ? input_dtypes[ref] : code[ref - num_inputs()].typing.out;
  }
  // Appends an instruction typed like Elemwise would type it; returns its ref.
  int add(ScalarOp op, std::vector<int> args, CodeLocation where = {});
  // "tanh(add(i0, i1))"; results read more than once are temporaries: "t0=exp(i0); add(t0, t0)".
  std::string str() const;
  size_t hash() const;
  bool operator==(const Composite& other) const = default;

 private:
  std::string expression(int ref, const std::vector<int>& uses) const;
};

// The broadcast shape of an elementwise-like node's inputs (Elemwise, FusedElemwise, FusedReduce).
// For a fused node whose inputs do not fit, the ShapeError names the member that fails (its op and
// where it was built), as the graph before fusion would.
Shape broadcast_shapes_for(const Apply& node, std::span<const Array> inputs);

// The composite an elementwise node computes: a FusedElemwise's own, or one instruction for an
// Elemwise. False for other nodes.
bool composite_of(const Apply& node, Composite& composite);

class FusedElemwise : public Op {
 public:
  explicit FusedElemwise(Composite composite) : composite_(std::move(composite)) {}
  const Composite& composite() const { return composite_; }

  std::string name() const override { return "fused"; }
  std::string props() const override;  // the outputs' expressions
  bool equals(const Op& other) const override;
  size_t hash() const override;
  HYPATIA_OP_METHODS
  std::optional<Shape> result_shape(const Apply& node, std::span<const Array> inputs) const override {
    return broadcast_shapes_for(node, inputs);
  }

 private:
  Composite composite_;
};

// A reduction (sum, prod, max or min over axes) of a one-output composite: the elementwise values
// are reduced as they are computed, never stored (sum(x ** 2) reads x once). The fusion pass makes
// them from Reduce nodes and the elementwise node feeding each; perform() runs the two in turn.
class FusedReduce : public Op {
 public:
  FusedReduce(const Reduce& reduce, Composite composite) : reduce_(reduce), composite_(std::move(composite)) {}
  const Composite& composite() const { return composite_; }
  const Reduce& reduce() const { return reduce_; }

  std::string name() const override { return "fused_" + reduce_.name(); }
  std::string props() const override { return reduce_.props() + ", " + composite_.str(); }
  bool equals(const Op& other) const override;
  size_t hash() const override;
  HYPATIA_OP_METHODS

 private:
  Reduce reduce_;
  Composite composite_;
};

// The reduction a Reduce or FusedReduce node performs (what its kernels need to know); null for other ops.
inline const Reduce* reduce_of(const Op& op) {
  if (const auto* fused = dynamic_cast<const FusedReduce*>(&op)) return &fused->reduce();
  return dynamic_cast<const Reduce*>(&op);
}

}  // namespace hypatia
