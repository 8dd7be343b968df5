// The symbolic graph: types, variables, apply nodes and ops.
//
// A Variable is a handle to a node of the graph. Variables without an owner are roots: inputs the
// user declares, constants and shared variables. Every other Variable is output `index` of an Apply,
// which records the Op and its input Variables. Handles keep everything upstream alive; nothing keeps
// downstream nodes alive, so there are no ownership cycles.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <span>
#include <string>
#include <vector>

#include "hypatia/array.h"
#include "hypatia/error.h"

namespace hypatia {

// A tensor's static type: dtype and a shape whose dimensions are known (>= 0) or unknown (kUnknown).
// A known 1 is Theano's "broadcastable": only such dimensions broadcast. A sparse matrix's type (Theano's
// SparseType) is a 2-d TensorType with a format: values are then sparse Arrays of that format, and only ops
// that declare it (Op::takes_sparse) read them.
struct TensorType {
  static constexpr int64_t kUnknown = -1;
  DType dtype = DType::Float64;
  std::vector<int64_t> shape;
  std::optional<SparseFormat> format;  // set for sparse matrices

  TensorType() = default;
  TensorType(DType dtype, std::vector<int64_t> shape) : dtype(dtype), shape(std::move(shape)) {}
  static TensorType unknown_shape(DType dtype, int ndim) {
    return TensorType(dtype, std::vector<int64_t>(ndim, kUnknown));
  }
  static TensorType sparse(DType dtype, SparseFormat format, std::vector<int64_t> shape = {kUnknown, kUnknown}) {
    TensorType type(dtype, std::move(shape));
    type.format = format;
    return type;
  }
  bool is_sparse() const { return format.has_value(); }
  int ndim() const { return static_cast<int>(shape.size()); }
  bool broadcastable(int axis) const { return shape[axis] == 1; }
  // Every dimension is a known 1 (a 0-d tensor too): one element, whatever it is broadcast against.
  bool has_one_element() const {
    for (int64_t dim : shape)
      if (dim != 1) return false;
    return true;
  }
  bool operator==(const TensorType& other) const = default;
  // The array fits: same dtype and ndim, and every known dimension matches.
  bool accepts(const Array& value) const;
  // Every array `other` accepts, this one accepts too.
  bool is_supertype_of(const TensorType& other) const;
  std::string str() const;  // "float64(?, 500)", "csr float64(?, ?)"
};

class Apply;
class Backend;  // backend/backend.h
struct Device;  // device.h
class FunctionGraph;
enum class Mode;  // function.h
class Op;
struct IndexList;
using OpPtr = std::shared_ptr<const Op>;

struct VariableNode;
struct IndexRecord;  // subtensor.h

// Mutable state of a shared variable, kept outside the graph so functions see every update.
struct SharedState {
  Array value;
  // Applied by every function whose graph reads the variable, unless it updates it explicitly
  // (random states advance this way). Weak, so the state does not keep its own update graph alive.
  std::weak_ptr<VariableNode> default_update;
};

struct VariableNode {
  TensorType type;
  std::string name;
  Apply* owner = nullptr;  // the Apply owns this node, so a raw pointer back is safe
  int index = 0;           // which output of `owner`
  std::optional<Array> constant;        // set for constants
  std::shared_ptr<SharedState> shared;  // set for shared variables
  CodeLocation where;                   // where the user built it
  uint64_t id = 0;                      // creation order, for printing
  // For x[indices]: x and the index list as written, so Theano's set_subtensor(x[indices], y) writes
  // into exactly the x the user indexed (v = x[0]; set_subtensor(v[[0, 2]], 5) changes v, not x).
  std::shared_ptr<const IndexRecord> built_by_indexing;
};

class Variable {
 public:
  Variable() = default;  // null: used for "no gradient" / "disconnected"
  explicit Variable(std::shared_ptr<VariableNode> node) : node_(std::move(node)) {}

  explicit operator bool() const { return node_ != nullptr; }
  VariableNode* node() const { return node_.get(); }
  const std::shared_ptr<VariableNode>& node_ptr() const { return node_; }
  bool is(const Variable& other) const { return node_ == other.node_; }  // identity (C++ == is not symbolic)

  const TensorType& type() const;
  DType dtype() const { return type().dtype; }
  int ndim() const { return type().ndim(); }
  const std::string& name() const;
  Variable& set_name(std::string name);
  std::shared_ptr<Apply> owner() const;  // null for roots
  int index() const;
  bool is_constant() const { return node_ && node_->constant.has_value(); }
  bool is_shared() const { return node_ && node_->shared != nullptr; }
  bool is_root() const { return node_ && node_->owner == nullptr; }
  bool is_sparse() const { return type().is_sparse(); }
  const Array& constant_value() const;
  const CodeLocation& where() const;
  std::string str() const;  // name, or a short description

  // Symbolic members mirroring Theano's tensor methods.
  Variable T() const;
  // x[0], x[i], x[{0, hp::slice(1, 3)}]: see subtensor.h.
  Variable operator[](const IndexList& indices) const;

 private:
  std::shared_ptr<VariableNode> node_;
};

struct VariableHash {
  size_t operator()(const Variable& v) const { return std::hash<const void*>()(v.node()); }
};
struct VariableEq {
  bool operator()(const Variable& a, const Variable& b) const { return a.is(b); }
};

class SharedVariable : public Variable {
 public:
  SharedVariable() = default;
  explicit SharedVariable(const Variable& v);
  // borrow=false copies, so the caller's array and the variable never alias.
  Array get_value(bool borrow = false) const;
  void set_value(const Array& value, bool borrow = false);
  // The update functions apply when they read this variable and do not update it themselves.
  void set_default_update(const Variable& update);
  Variable default_update() const;  // null when there is none
};

class Apply : public std::enable_shared_from_this<Apply> {
 public:
  Apply(OpPtr op, std::vector<Variable> inputs, CodeLocation where);
  ~Apply();
  Apply(const Apply&) = delete;
  Apply& operator=(const Apply&) = delete;
  const Op& op() const { return *op_; }
  const OpPtr& op_ptr() const { return op_; }
  const std::vector<Variable>& inputs() const { return inputs_; }
  const Variable& input(size_t i) const { return inputs_[i]; }
  size_t num_outputs() const { return outputs_.size(); }
  Variable output(size_t i) const;
  std::vector<Variable> outputs() const;
  const CodeLocation& where() const { return where_; }

 private:
  friend std::vector<Variable> apply_op(OpPtr, std::vector<Variable>, CodeLocation);
  friend class FunctionGraph;  // rewrites edit the inputs of nodes that only a FunctionGraph owns
  void replace_input(size_t i, Variable v) { inputs_.at(i) = std::move(v); }
  OpPtr op_;
  std::vector<Variable> inputs_;
  std::vector<std::unique_ptr<VariableNode>> outputs_;
  CodeLocation where_;
};

using ViewMap = std::vector<std::pair<int, int>>;  // (output, input) pairs: output may view input

class Op {
 public:
  virtual ~Op() = default;
  virtual std::string name() const = 0;
  // Printable parameters, e.g. "axis=(1,)"; ops of one class with equal props are equal.
  virtual std::string props() const { return ""; }
  virtual bool equals(const Op& other) const;
  virtual size_t hash() const;
  std::string str() const;  // "name{props}"

  // Type-checks the inputs and returns the output types (throws Error subclasses).
  virtual std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const = 0;
  // The reference implementation. `outputs` arrive empty (an in-place update step may hand the
  // buffer of the variable it updates instead; an op that can write there checks it); perform assigns them. `node` gives the
  // static input types (e.g. which dimensions may broadcast).
  virtual void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const = 0;
  // Pullback: gradients for each input given gradients for each output (null = disconnected or
  // zero). Written with public graph ops so it can be differentiated again. Null results mean "no
  // gradient" (e.g. integer inputs).
  virtual std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const;
  // Pushforward (forward mode): each output's tangent given each input's (null = zero), for Rop. The
  // default transposes grad: the pullback is linear in the output cotangents v, so the tangent is
  // d/dv of <pullback(v), eval_points> (src/autodiff/rop.cpp). Null results are zero tangents.
  virtual std::vector<Variable> r_op(const Apply& node, const std::vector<Variable>& eval_points) const;
  // Output shapes as int64 scalar Variables, given the input shapes the same way.
  virtual std::vector<std::vector<Variable>> infer_shape(
      const Apply& node, const std::vector<std::vector<Variable>>& input_shapes) const;
  // Whether input `i` may be a sparse matrix: the sparse ops' operands, and inputs read only for their
  // shape. apply_op refuses a sparse input anywhere else, so dense kernels never see one.
  virtual bool takes_sparse(int input) const { return reads_only_shape(input); }
  // False when no gradient ever flows from the outputs to the inputs (disconnected_grad): grad then
  // treats them as unrelated rather than as connected with a zero gradient.
  virtual bool gradient_connected() const { return true; }
  // False for ops whose running is the point (printing): constant folding leaves them to the program.
  virtual bool constant_foldable() const { return true; }
  // The op and its parameters in Hypatia's saved format (ir/serialize.h: an OpWriter with the op's tag);
  // ops that cannot be saved (the fused loops rewrites make) throw ValueError.
  virtual std::string save() const;
  // [input][output]: whether the output depends on the input at all (Theano's connection_pattern), for
  // ops where some do not (a loop's output its step never computes from an initial state). Empty: all do.
  virtual std::vector<std::vector<bool>> connection_pattern(const Apply&) const { return {}; }
  // Which outputs may be views of which inputs (the runtime must not free or modify the input).
  virtual ViewMap view_map() const { return {}; }
  // Which outputs overwrite which inputs in place (output, input); only inplace variants declare any.
  virtual ViewMap destroy_map() const { return {}; }
  // The input whose buffer perform() (and any kernel for the op) takes as output 0's destination when the
  // program hands it over as that output (GEMM's z, an indexed increment's x); -1: none. The program
  // decides per call whether the buffer is free to overwrite.
  virtual int destination_input() const { return -1; }
  // Output 0's shape for these input values, checked as perform() checks them but not computed; nullopt
  // where the op cannot tell cheaply. Steps that overwrite shared variables check every shape first, so
  // a failing call writes nothing.
  virtual std::optional<Shape> result_shape(const Apply&, std::span<const Array>) const { return std::nullopt; }
  // An op that computes one of two branches (ifelse): how many outputs a branch gives, input 0 being the
  // condition, then the `then` values, then the `else` values; 0 for every other op. The program runs
  // what only one branch reads after the condition is known, and only when that branch is taken.
  virtual int branch_outputs() const { return 0; }
  // Whether perform() reads only the shape of input `i` (shape, shape_i), so a value in a device's
  // memory is passed to it as it is, not transferred.
  virtual bool reads_only_shape(int /*input*/) const { return false; }
  // Inputs read as numbers on the host wherever the op runs (index bounds, sizes, a condition, GEMM's
  // alpha and beta): a device backend leaves them in host memory.
  virtual bool reads_on_host(int /*input*/) const { return false; }
  // Whether the op runs wherever its values live, given the backend of their device (perform_on): its
  // perform() reads no element of an input it does not read on the host — it makes views (dimshuffle,
  // basic indexing, reshape) or passes values on (ifelse) — or it does its work through the backend
  // (scan's loop, with its step compiled for that device).
  virtual bool runs_on_any_device() const { return false; }
  virtual void perform_on(const Backend&, const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
    perform(node, inputs, outputs);
  }
  // Ops that run an inner graph (scan) compile it here, once per mode and device (where the node runs),
  // when a function using them is built.
  virtual void prepare(Mode, const Device&) const {}
  // The outputs of the inner graph such an op runs: as built, or (given a mode and device it was prepared
  // for; the CPU where the device is null or not among them) as compiled there. Empty for other ops.
  virtual std::vector<Variable> inner_outputs(const Mode* compiled, const Device* device = nullptr) const { return {}; }
};

// Declares the members an op family defines in its .cpp (the standard Op overrides).
#define HYPATIA_OP_METHODS                                                                                  \
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override;                \
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override; \
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override;  \
  std::vector<std::vector<Variable>> infer_shape(const Apply& node,                                        \
                                                 const std::vector<std::vector<Variable>>& input_shapes) const override;

// Builds an Apply of `op` on `inputs` (type checked by op->output_types) and returns its outputs.
// Type errors get the op's name and `where` appended.
std::vector<Variable> apply_op(OpPtr op, std::vector<Variable> inputs,
                               CodeLocation where = std::source_location::current());
Variable apply_op1(OpPtr op, std::vector<Variable> inputs, CodeLocation where = std::source_location::current());

// Apply nodes needed to compute `outputs`, each after the nodes producing its inputs.
std::vector<std::shared_ptr<Apply>> toposort(const std::vector<Variable>& outputs);

// Copies the graph of `outputs`, substituting each `replacements` key by its value (Theano's
// clone(replace=...)). Roots (inputs, constants, shared variables) are kept, not copied.
std::vector<Variable> clone_replace(const std::vector<Variable>& outputs,
                                    const std::vector<std::pair<Variable, Variable>>& replacements = {});

// ---- Declaring roots ----
Variable tensor(DType dtype, std::vector<int64_t> shape, std::string name = "",
                std::source_location where = std::source_location::current());
Variable scalar(std::string name = "", DType dtype = DType::Float64,
                std::source_location where = std::source_location::current());
Variable vector(std::string name = "", DType dtype = DType::Float64,
                std::source_location where = std::source_location::current());
Variable matrix(std::string name = "", DType dtype = DType::Float64,
                std::source_location where = std::source_location::current());
Variable tensor3(std::string name = "", DType dtype = DType::Float64,
                 std::source_location where = std::source_location::current());
Variable tensor4(std::string name = "", DType dtype = DType::Float64,
                 std::source_location where = std::source_location::current());
Variable row(std::string name = "", DType dtype = DType::Float64,  // shape (1, ?)
             std::source_location where = std::source_location::current());
Variable col(std::string name = "", DType dtype = DType::Float64,  // shape (?, 1)
             std::source_location where = std::source_location::current());
Variable constant(const Array& value, std::string name = "",
                  std::source_location where = std::source_location::current());
Variable constant(double value, DType dtype = DType::Float64,
                  std::source_location where = std::source_location::current());
// Shared variables have unknown static dimensions (set_value may change the shape) unless given.
SharedVariable shared(const Array& value, std::string name = "", bool borrow = false,
                      std::source_location where = std::source_location::current());
// With a static shape (TensorType::kUnknown for a dimension that may change), e.g. {1, -1} for a row
// that broadcasts; set_value then refuses values that do not fit.
SharedVariable shared(const Array& value, std::string name, bool borrow, std::vector<int64_t> static_shape,
                      std::source_location where = std::source_location::current());

// An operand of a graph-building operator or function: a Variable or a C++ number. It records
// where it was written, so even operators (which cannot take default arguments) know the user's line.
class Operand {
 public:
  Operand(const Variable& v, std::source_location where = std::source_location::current())
      : var_(v), where_(where) {
    if (!v) reject_null();
  }
  Operand(const SharedVariable& v, std::source_location where = std::source_location::current())
      : var_(v), where_(where) {
    if (!v) reject_null();
  }
  Operand(double value, std::source_location where = std::source_location::current())
      : number_(value), is_float_(true), where_(where) {}
  Operand(bool value, std::source_location where = std::source_location::current())
      : integer_(value), is_bool_(true), where_(where) {}
  Operand(int value, std::source_location where = std::source_location::current())
      : integer_(value), where_(where) {}
  Operand(long value, std::source_location where = std::source_location::current())
      : integer_(value), where_(where) {}
  Operand(unsigned value, std::source_location where = std::source_location::current())
      : integer_(value), where_(where) {}
  // Beyond int64 an unsigned number can only be a float.
  Operand(unsigned long value, std::source_location where = std::source_location::current())
      : number_(static_cast<double>(value)), integer_(static_cast<int64_t>(value)),
        is_float_(value > static_cast<unsigned long>(INT64_MAX)), where_(where) {}

  bool is_number() const { return !var_; }
  const std::source_location& where() const { return where_; }
  // The operand as a Variable. A number becomes a constant of `like`'s kind (NumPy's weak scalars):
  // a float number next to a float32 tensor is float32, next to an integer tensor float64.
  Variable as_variable(const Variable& like = Variable()) const;
  Variable as_variable(DType dtype) const;
  // The number's dtype when it meets tensors whose promoted dtype is `like`.
  Variable as_weak_variable(DType like) const;
  const Variable& variable() const { return var_; }  // null for numbers

 private:
  [[noreturn]] void reject_null() const;  // a null Variable is never a number
  Variable var_;
  double number_ = 0;   // float numbers
  int64_t integer_ = 0;  // integer and bool numbers, exactly
  bool is_float_ = false;
  bool is_bool_ = false;  // a weak bool takes any tensor's dtype (True is 1)
  std::source_location where_;
};

}  // namespace hypatia
