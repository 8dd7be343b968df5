// Variables, Apply nodes, the Op defaults, and the roots users declare.
#include "hypatia/graph.h"

#include <atomic>
#include <sstream>
#include <typeinfo>

#include "hypatia/elemwise.h"
#include "hypatia/shape_ops.h"
#include "hypatia/subtensor.h"
#include "ir/shared_state.h"

namespace hypatia {
namespace {

uint64_t next_variable_id() {
  static std::atomic<uint64_t> counter{0};
  return ++counter;
}

std::shared_ptr<VariableNode> make_root(TensorType type, std::string name, std::source_location where) {
  auto node = std::make_shared<VariableNode>();
  node->type = std::move(type);
  node->name = std::move(name);
  node->where = where;
  node->id = next_variable_id();
  return node;
}

TensorType type_of_value(const Array& value) {
  TensorType type(value.dtype(), value.shape());
  type.format = value.format();
  return type;
}

}  // namespace

// ---- TensorType ----

bool TensorType::accepts(const Array& value) const {
  if (value.dtype() != dtype || value.ndim() != ndim() || value.format() != format) return false;
  for (int axis = 0; axis < ndim(); ++axis)
    if (shape[axis] != kUnknown && shape[axis] != value.shape()[axis]) return false;
  return true;
}

bool TensorType::is_supertype_of(const TensorType& other) const {
  if (other.dtype != dtype || other.ndim() != ndim() || other.format != format) return false;
  for (int axis = 0; axis < ndim(); ++axis)
    if (shape[axis] != kUnknown && shape[axis] != other.shape[axis]) return false;
  return true;
}

std::string TensorType::str() const {
  std::ostringstream out;
  if (format) out << sparse_format_name(*format) << " ";
  out << dtype_name(dtype) << "(";
  for (int axis = 0; axis < ndim(); ++axis) {
    if (axis) out << ", ";
    if (shape[axis] == kUnknown) out << "?";
    else out << shape[axis];
  }
  if (ndim() == 1) out << ",";
  out << ")";
  return out.str();
}

// ---- Variable ----

namespace {
void require_node(const VariableNode* node) {
  if (!node) throw ValueError("[variable] use of a null Variable (a disconnected gradient or a default-constructed handle)");
}
}  // namespace

const TensorType& Variable::type() const { require_node(node()); return node_->type; }
const std::string& Variable::name() const { require_node(node()); return node_->name; }
Variable& Variable::set_name(std::string name) { require_node(node()); node_->name = std::move(name); return *this; }
int Variable::index() const { require_node(node()); return node_->index; }
const CodeLocation& Variable::where() const { require_node(node()); return node_->where; }

std::shared_ptr<Apply> Variable::owner() const {
  require_node(node());
  return node_->owner ? node_->owner->shared_from_this() : nullptr;
}

const Array& Variable::constant_value() const {
  if (!is_constant()) throw ValueError("[variable] " + str() + " is not a constant");
  return *node_->constant;
}

std::string Variable::str() const {
  if (!node_) return "<null>";
  if (!node_->name.empty()) return node_->name;
  if (is_constant()) {
    const Array& value = *node_->constant;
    if (!value.is_sparse() && value.size() == 1) {
      std::ostringstream out;
      if (is_complex(value.dtype())) {
        const std::complex<double> z = *value.astype(DType::Complex128).data<std::complex<double>>();
        out << z.real() << (std::signbit(z.imag()) ? "-" : "+") << std::fabs(z.imag()) << "j";
      } else {
        out << value.item();
      }
      return out.str();
    }
    return "constant" + value.shape_dtype_str();
  }
  if (node_->owner) return node_->owner->op().str() + ".out" + (node_->owner->num_outputs() > 1 ? std::to_string(node_->index) : "");
  return "<" + type().str() + ">";
}

Variable Variable::T() const { return transpose(*this); }
Variable Variable::operator[](const IndexList& indices) const { return subtensor(*this, indices); }

// ---- SharedVariable ----

SharedVariable::SharedVariable(const Variable& v) : Variable(v) {
  if (!v.is_shared()) throw TypeError("[shared] " + v.str() + " is not a shared variable");
}

std::recursive_mutex& shared_state_mutex() {
  static std::recursive_mutex* mutex = new std::recursive_mutex();  // never destroyed: used until exit
  return *mutex;
}

Array SharedVariable::get_value(bool borrow) const {
  Array value;
  {
    std::lock_guard<std::recursive_mutex> lock(shared_state_mutex());
    value = node()->shared->value;
  }
  if (borrow) return value;  // a device array when the variable lives in a device's memory
  // Values are replaced, never written in place by others: copy unlocked.
  return value.device().is_cpu() ? value.copy() : to_host(value);
}

void SharedVariable::set_value(const Array& value, bool borrow) {
  const TensorType& type = this->type();
  if (!type.accepts(value))
    throw TypeError("[shared] set_value of " + str() + ": expected " + type.str() + ", got " +
                    value.shape_dtype_str());
  // The variable stays where it lives (a device's memory, as Theano's GPU shared variables): a value
  // from elsewhere is copied there.
  Array kept;
  {
    std::lock_guard<std::recursive_mutex> lock(shared_state_mutex());
    kept = node()->shared->value;
  }
  const Device home = kept.device();
  kept = value.device() != home ? to_device(value, home) : borrow ? value : copy_where_it_is(value);
  std::lock_guard<std::recursive_mutex> lock(shared_state_mutex());
  node()->shared->value = std::move(kept);
}

void SharedVariable::set_default_update(const Variable& update) {
  if (update && (update.dtype() != dtype() || update.ndim() != ndim() || update.type().format != type().format))
    throw TypeError("[shared] default update of " + str() + " has type " + update.type().str() + ", expected " + type().str());
  node()->shared->default_update = update ? update.node_ptr() : nullptr;
}

Variable SharedVariable::default_update() const { return Variable(node()->shared->default_update.lock()); }

// ---- Apply ----

Apply::Apply(OpPtr op, std::vector<Variable> inputs, CodeLocation where)
    : op_(std::move(op)), inputs_(std::move(inputs)), where_(where) {}

Apply::~Apply() {
  // Releasing a long chain of nodes recursively would overflow the stack (a graph built by a loop of
  // 10^5 steps), so inputs are queued and released one at a time by the outermost destructor.
  thread_local std::vector<Variable> pending;
  thread_local bool draining = false;
  for (Variable& input : inputs_) pending.push_back(std::move(input));
  inputs_.clear();
  if (draining) return;
  draining = true;
  while (!pending.empty()) {
    Variable next = std::move(pending.back());
    pending.pop_back();
  }
  draining = false;
}

Variable Apply::output(size_t i) const {
  auto self = std::const_pointer_cast<Apply>(shared_from_this());
  return Variable(std::shared_ptr<VariableNode>(self, outputs_.at(i).get()));
}

std::vector<Variable> Apply::outputs() const {
  std::vector<Variable> result;
  for (size_t i = 0; i < outputs_.size(); ++i) result.push_back(output(i));
  return result;
}

std::vector<Variable> apply_op(OpPtr op, std::vector<Variable> inputs, CodeLocation where) {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i])
      rethrow_with_location(ValueError("[" + op->name() + "] input " + std::to_string(i) + " is a null Variable"), where);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].is_sparse() && !op->takes_sparse(static_cast<int>(i)))
      rethrow_with_location(TypeError("[" + op->name() + "] input " + std::to_string(i) + " is a sparse matrix (" + inputs[i].str() +
                                      ": " + inputs[i].type().str() + "), which " + op->str() + " does not take: use the "
                                      "sparse ops (hypatia::sparse) or convert it with dense_from_sparse"), where);
  std::vector<TensorType> types = at_location(where, [&] { return op->output_types(inputs); });
  auto node = std::make_shared<Apply>(op, std::move(inputs), where);
  for (size_t i = 0; i < types.size(); ++i) {
    auto out = std::make_unique<VariableNode>();
    out->type = std::move(types[i]);
    out->owner = node.get();
    out->index = static_cast<int>(i);
    out->where = where;
    out->id = next_variable_id();
    node->outputs_.push_back(std::move(out));
  }
  return node->outputs();
}

Variable apply_op1(OpPtr op, std::vector<Variable> inputs, CodeLocation where) {
  auto outputs = apply_op(std::move(op), std::move(inputs), where);
  return outputs.at(0);
}

// ---- Op defaults ----

bool Op::equals(const Op& other) const {
  return typeid(*this) == typeid(other) && name() == other.name() && props() == other.props();
}

size_t Op::hash() const { return std::hash<std::string>()(str()) ^ std::hash<std::string>()(typeid(*this).name()); }

std::string Op::str() const {
  std::string p = props();
  return p.empty() ? name() : name() + "{" + p + "}";
}

std::string Op::save() const {
  throw ValueError("[save] " + str() + " cannot be saved (it is made by rewrites while compiling; save the graph "
                   "as built)");
}

std::vector<Variable> Op::grad(const Apply& node, const std::vector<Variable>&) const {
  rethrow_with_location(TypeError("[grad] " + str() + " is not differentiable"), node.where());
}

std::vector<std::vector<Variable>> Op::infer_shape(const Apply& node,
                                                   const std::vector<std::vector<Variable>>&) const {
  // No rule: read each output's shape at run time.
  std::vector<std::vector<Variable>> shapes;
  for (const Variable& out : node.outputs()) {
    std::vector<Variable> dims;
    for (int axis = 0; axis < out.ndim(); ++axis) dims.push_back(shape_i(out, axis));
    shapes.push_back(std::move(dims));
  }
  return shapes;
}

// ---- Roots ----

Variable tensor(DType dtype, std::vector<int64_t> shape, std::string name, std::source_location where) {
  for (int64_t dim : shape)
    if (dim < TensorType::kUnknown)
      throw ValueError("[tensor] dimension " + std::to_string(dim) + " is invalid (use -1 for unknown)");
  return Variable(make_root(TensorType(dtype, std::move(shape)), std::move(name), where));
}

Variable scalar(std::string name, DType dtype, std::source_location where) { return tensor(dtype, {}, std::move(name), where); }
Variable vector(std::string name, DType dtype, std::source_location where) { return tensor(dtype, {-1}, std::move(name), where); }
Variable matrix(std::string name, DType dtype, std::source_location where) { return tensor(dtype, {-1, -1}, std::move(name), where); }
Variable tensor3(std::string name, DType dtype, std::source_location where) { return tensor(dtype, {-1, -1, -1}, std::move(name), where); }
Variable tensor4(std::string name, DType dtype, std::source_location where) { return tensor(dtype, {-1, -1, -1, -1}, std::move(name), where); }
Variable row(std::string name, DType dtype, std::source_location where) { return tensor(dtype, {1, -1}, std::move(name), where); }
Variable col(std::string name, DType dtype, std::source_location where) { return tensor(dtype, {-1, 1}, std::move(name), where); }

Variable constant(const Array& value, std::string name, std::source_location where) {
  auto node = make_root(type_of_value(value), std::move(name), where);
  node->constant = value.copy();
  return Variable(node);
}

Variable constant(double value, DType dtype, std::source_location where) {
  return constant(Array::scalar(value, dtype), "", where);
}

SharedVariable shared(const Array& value, std::string name, bool borrow, std::source_location where) {
  return shared(value, std::move(name), borrow, std::vector<int64_t>(value.ndim(), TensorType::kUnknown), where);
}

SharedVariable shared(const Array& value, std::string name, bool borrow, std::vector<int64_t> static_shape,
                      std::source_location where) {
  TensorType type(value.dtype(), std::move(static_shape));
  type.format = value.format();
  if (!type.accepts(value))
    throw TypeError("[shared] the static shape " + type.str() + " does not fit the value " + value.shape_dtype_str() +
                    " (built at " + format_location(where) + ")");
  auto node = make_root(std::move(type), std::move(name), where);
  node->shared = std::make_shared<SharedState>();
  node->shared->value = borrow ? value : copy_where_it_is(value);
  return SharedVariable(Variable(node));
}

// ---- Operand ----

void Operand::reject_null() const {
  throw ValueError("[variable] a null Variable (a disconnected gradient or a default-constructed handle) used in an "
                   "expression at " + format_location(where_));
}

namespace {

// A 0-d array holding `value` converted to `dtype` exactly as C++ converts (no detour through double).
Array integer_scalar(int64_t value, DType dtype) {
  Array result = Array::empty({}, dtype);
  dispatch_dtype(dtype, [&]<class T>() { *result.data<T>() = static_cast<T>(value); });
  return result;
}

bool fits(int64_t value, DType dtype) {
  return dispatch_dtype(dtype, [&]<class T>() {
    if constexpr (is_float_v<T> || is_complex_v<T>) return true;  // an int next to floats becomes a float
    else return (value >= 0 || std::is_signed_v<T>) && static_cast<int64_t>(static_cast<T>(value)) == value;
  });
}

}  // namespace

Variable Operand::as_variable(DType dtype) const {
  if (var_) return var_;
  return constant(is_float_ ? Array::scalar(number_, dtype) : integer_scalar(integer_, dtype), "", where_);
}

Variable Operand::as_variable(const Variable& like) const {
  if (var_) return var_;
  return like ? as_weak_variable(like.dtype())
              : as_variable(is_float_ ? DType::Float64 : is_bool_ ? DType::Bool : DType::Int64);
}

Variable Operand::as_weak_variable(DType like) const {
  if (var_) return var_;
  if (is_bool_) return as_variable(like);
  if (is_float_) return as_variable(is_inexact(like) ? like : DType::Float64);
  // An integer literal takes the tensor's dtype when it fits (NumPy 2's weak scalars).
  if ((is_integer(like) || is_inexact(like)) && fits(integer_, like)) return as_variable(like);
  return as_variable(DType::Int64);
}

}  // namespace hypatia
