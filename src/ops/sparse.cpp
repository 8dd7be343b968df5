// The sparse ops but the products (sparse_dot.cpp): conversions, the arrays of a matrix, structure, elementwise
// sums and products, reductions and indexing. Structured ops are compositions: f applied to csm_data(x), put
// back with with_data, so their gradients and fusion come from the dense ops.
#include "ops/sparse.h"

#include <algorithm>

#include "hypatia/elemwise.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "hypatia/subtensor.h"
#include "ir/serialize.h"
#include "ops/elemwise.h"
#include "ops/op_support.h"
#include "ops/sparse_kernels.h"

namespace hypatia {

using sparse_ops::format_of;

namespace sparse_ops {

Variable sparse_input(const Operand& x, const char* op, const char* role) {
  Variable v = x.as_variable();
  if (!v.is_sparse())
    rethrow_with_location(TypeError(std::string("[") + op + "] " + role + " must be a sparse matrix, got " + v.str() + ": " +
                                    v.type().str() + " (convert a dense matrix with csr_from_dense or csc_from_dense)"),
                          x.where());
  return v;
}

Variable dense_input(const Operand& x, const char* op, const char* role) {
  Variable v = x.as_variable();
  if (v.is_sparse())
    rethrow_with_location(TypeError(std::string("[") + op + "] " + role + " must be dense, got the sparse matrix " + v.str() +
                                    ": " + v.type().str() + " (convert it with dense_from_sparse)"),
                          x.where());
  return v;
}

std::pair<Variable, Variable> operand_pair(const Operand& x, const Operand& y) {
  if (x.is_number() && !y.is_number()) {
    const Variable b = y.variable();
    return {x.as_weak_variable(b.dtype()), b};
  }
  const Variable a = x.as_variable();
  return {a, y.as_variable(a)};
}

void check_sparse_dtype(DType dtype, const std::string& op) {
  if (dtype == DType::Float16) throw TypeError("[" + op + "] float16 sparse matrices are not supported (SciPy has none); use float32");
}

Variable in_format(const Variable& g, SparseFormat format) {
  if (!g || !g.is_sparse() || format_of(g) == format) return g;
  return sparse::as_format(g, format);
}

}  // namespace sparse_ops

namespace {

using namespace sparse_ops;

// A 2-d static shape merged from two that must agree: a known dimension wins over an unknown one.
std::vector<int64_t> merged_shape(const TensorType& a, const TensorType& b, const std::string& op) {
  std::vector<int64_t> shape(2);
  for (int axis = 0; axis < 2; ++axis) {
    const int64_t x = a.shape[axis], y = b.shape[axis];
    if (x != TensorType::kUnknown && y != TensorType::kUnknown && x != y)
      throw ShapeError("[" + op + "] the operands' shapes differ: " + a.str() + " and " + b.str());
    shape[axis] = x != TensorType::kUnknown ? x : y;
  }
  return shape;
}

void check_same_shape(std::span<const Array> inputs, const std::string& op) {
  if (inputs[0].shape() != inputs[1].shape())
    throw ShapeError("[" + op + "] the operands' shapes differ: " + inputs[0].shape_dtype_str() + " and " + inputs[1].shape_dtype_str());
}


void write_format(OpWriter& out, SparseFormat format) { out.integer(format == SparseFormat::Csr ? 0 : 1); }
SparseFormat read_format(OpReader& in) { return in.integer_in(0, 1, "a sparse format") == 0 ? SparseFormat::Csr : SparseFormat::Csc; }

// ---- Conversions ----

class SparseFromDense : public Op {
 public:
  explicit SparseFromDense(SparseFormat format) : format_(format) {}
  std::string name() const override { return std::string(sparse_format_name(format_)) + "_from_dense"; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable& x = inputs.at(0);
    if (x.ndim() != 2) throw TypeError("[" + name() + "] needs a matrix, got " + x.type().str());
    check_sparse_dtype(x.dtype(), name());
    return {TensorType::sparse(x.dtype(), format_, x.type().shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    outputs[0] = sparse_value(SparseArray::from_dense(inputs[0], format_));
  }
  std::vector<Variable> grad(const Apply&, const std::vector<Variable>& g) const override {
    return {g[0].is_sparse() ? sparse::dense_from_sparse(g[0], /*structured=*/false) : g[0]};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  std::string save() const override {
    OpWriter out("sparse_from_dense");
    write_format(out, format_);
    return out.bytes();
  }

 private:
  SparseFormat format_;
};

class DenseFromSparse : public Op {
 public:
  explicit DenseFromSparse(bool structured) : structured_(structured) {}
  std::string name() const override { return "dense_from_sparse"; }
  std::string props() const override { return structured_ ? "structured" : ""; }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "dense_from_sparse");
    return {TensorType(x.dtype(), x.type().shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    outputs[0] = inputs[0].sparse().to_dense();
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    const Variable& x = node.input(0);
    if (structured_) return {sparse::with_data(x, apply_values_at(g[0], x))};
    return {g[0].is_sparse() ? in_format(g[0], format_of(x)) : apply_op1(std::make_shared<SparseFromDense>(format_of(x)), {g[0]})};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  std::string save() const override {
    OpWriter out("dense_from_sparse");
    out.flag(structured_);
    return out.bytes();
  }
  static Variable apply_values_at(const Variable& g, const Variable& x);

 private:
  bool structured_;
};

class AsFormat : public Op {
 public:
  explicit AsFormat(SparseFormat format) : format_(format) {}
  std::string name() const override { return std::string("to") + sparse_format_name(format_); }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), name().c_str());
    return {TensorType::sparse(x.dtype(), format_, x.type().shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    outputs[0] = sparse_value(inputs[0].sparse().as_format(format_));
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    return {in_format(g[0], format_of(node.input(0)))};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  std::string save() const override {
    OpWriter out("sparse_as_format");
    write_format(out, format_);
    return out.bytes();
  }

 private:
  SparseFormat format_;
};

// ---- A matrix's arrays ----

// Theano's CSM: a matrix from data, indices, indptr and shape, checked when made.
class Csm : public Op {
 public:
  explicit Csm(SparseFormat format) : format_(format) {}
  std::string name() const override { return sparse_format_name(format_); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const std::string op = name();
    if (inputs.size() != 4) throw TypeError("[" + op + "] takes data, indices, indptr and shape");
    const char* roles[] = {"data", "indices", "indptr", "shape"};
    for (int i = 0; i < 4; ++i) {
      if (inputs[i].ndim() != 1) throw TypeError("[" + op + "] " + roles[i] + " must be a vector, got " + inputs[i].type().str());
      if (i > 0 && !is_integer(inputs[i].dtype()))
        throw TypeError("[" + op + "] " + roles[i] + " must hold integers, got " + inputs[i].type().str());
    }
    check_sparse_dtype(inputs[0].dtype(), op);
    std::vector<int64_t> shape{TensorType::kUnknown, TensorType::kUnknown};
    if (inputs[3].is_constant() && inputs[3].constant_value().size() == 2)
      for (int a = 0; a < 2; ++a) shape[a] = static_cast<int64_t>(inputs[3].constant_value().get_as_double(a));
    return {TensorType::sparse(inputs[0].dtype(), format_, shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array& shape = inputs[3];
    if (shape.size() != 2) throw ValueError("[" + name() + "] shape must have 2 entries, got " + shape.shape_dtype_str());
    auto index_array = [](const Array& a) { return a.dtype() == DType::Int32 || a.dtype() == DType::Int64 ? a : a.astype(DType::Int64); };
    outputs[0] = sparse_value(SparseArray(format_, index_value(shape.index(0, 0)), index_value(shape.index(0, 1)), inputs[0],
                                          index_array(inputs[1]), index_array(inputs[2])));
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    return {is_inexact(node.input(0).dtype()) ? DenseFromSparse::apply_values_at(g[0], node.output(0)) : Variable(), Variable(),
            Variable(), Variable()};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>&) const override {
    const Variable& shape = node.input(3);
    return {{cast(shape[0], DType::Int64), cast(shape[1], DType::Int64)}};
  }
  ViewMap view_map() const override { return {{0, 0}, {0, 1}, {0, 2}}; }  // the matrix is made of its arrays
  std::string save() const override {
    OpWriter out("csm");
    write_format(out, format_);
    return out.bytes();
  }

 private:
  SparseFormat format_;
};

// data, indices, indptr (views where their dtypes fit) and shape: int32, as Theano's csm_properties.
class CsmProperties : public Op {
 public:
  std::string name() const override { return "csm_properties"; }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "csm_properties");
    const int64_t u = TensorType::kUnknown;
    return {TensorType(x.dtype(), {u}), TensorType(DType::Int32, {u}), TensorType(DType::Int32, {u}), TensorType(DType::Int32, {2})};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const SparseArray& x = inputs[0].sparse();
    if (std::max({x.rows(), x.cols(), x.nnz()}) > INT32_MAX)
      throw ValueError("[csm_properties] " + x.shape_dtype_str() + " has more entries or lines than int32 indices hold");
    auto int32 = [](const Array& a) { return a.dtype() == DType::Int32 ? a : a.astype(DType::Int32); };
    outputs[0] = x.data();
    outputs[1] = int32(x.indices());
    outputs[2] = int32(x.indptr());
    outputs[3] = Array::from_vector<int32_t>({static_cast<int32_t>(x.rows()), static_cast<int32_t>(x.cols())});
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    if (!g[0] || !is_inexact(node.input(0).dtype())) return {Variable()};
    return {sparse::with_data(node.input(0), g[0])};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const override {
    const Variable& lines = shapes[0][format_of(node.input(0)) == SparseFormat::Csr ? 0 : 1];
    return {{shape_i(node.output(0), 0)}, {shape_i(node.output(1), 0)}, {lines + 1}, {constant(2.0, DType::Int64)}};
  }
  ViewMap view_map() const override { return {{0, 0}, {1, 0}, {2, 0}}; }
  std::string save() const override { return OpWriter("csm_properties").bytes(); }
};

// x's structure with other stored values.
class WithData : public Op {
 public:
  std::string name() const override { return "with_data"; }
  bool takes_sparse(int input) const override { return input == 0; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "with_data");
    const Variable& data = inputs.at(1);
    if (data.ndim() != 1) throw TypeError("[with_data] the values must be a vector, got " + data.type().str());
    check_sparse_dtype(data.dtype(), "with_data");
    return {TensorType::sparse(data.dtype(), format_of(x), x.type().shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const SparseArray& x = inputs[0].sparse();
    if (inputs[1].size() != x.nnz())
      throw ValueError("[with_data] " + std::to_string(inputs[1].size()) + " values for a matrix storing " + std::to_string(x.nnz()) +
                       " (" + x.shape_dtype_str() + ")");
    outputs[0] = sparse_value(sparse_kernels::assemble(x.format(), x.rows(), x.cols(), inputs[1], x.indices(), x.indptr()));
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    if (!is_inexact(node.input(1).dtype())) return {Variable(), Variable()};
    return {Variable(), DenseFromSparse::apply_values_at(g[0], node.input(0))};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  ViewMap view_map() const override { return {{0, 0}, {0, 1}}; }
  std::string save() const override { return OpWriter("with_data").bytes(); }
};

// g's values at p's stored positions: g dense (0-d, or 2-d broadcasting where its type says 1) or sparse.
class ValuesAt : public Op {
 public:
  std::string name() const override { return "values_at"; }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable& g = inputs.at(0);
    const Variable p = sparse_input(inputs.at(1), "values_at", "the structure");
    if (g.ndim() != 0 && g.ndim() != 2) throw TypeError("[values_at] needs a 0-d or 2-d operand, got " + g.type().str());
    if (g.ndim() == 2) merged_shape(g.is_sparse() ? g.type() : unbroadcast_type(g.type(), p.type()), p.type(), "values_at");
    return {TensorType(g.dtype(), {TensorType::kUnknown})};
  }
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array& g = inputs[0];
    const SparseArray& p = inputs[1].sparse();
    if (g.ndim() == 2)
      for (int a = 0; a < 2; ++a)
        if (g.shape()[a] != p.shape()[a] && !(g.shape()[a] == 1 && node.input(0).type().shape[a] == 1 && !g.is_sparse()))
          throw ShapeError("[values_at] " + g.shape_dtype_str() + " does not fit the matrix " + p.shape_dtype_str());
    outputs[0] = sparse_kernels::values_at(g, p, g.dtype());
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& gv) const override {
    const Variable &g = node.input(0), &p = node.input(1);
    if (!is_inexact(g.dtype())) return {Variable(), Variable()};
    const Variable scattered = sparse::with_data(p, gv[0]);
    if (g.is_sparse()) return {in_format(scattered, format_of(g)), Variable()};
    Variable dense = sparse::dense_from_sparse(scattered, /*structured=*/false);
    if (g.ndim() == 0) return {sum(dense), Variable()};
    std::vector<int> broadcast;
    for (int a = 0; a < 2; ++a)
      if (g.type().shape[a] == 1 && p.type().shape[a] != 1) broadcast.push_back(a);
    return {broadcast.empty() ? dense : sum(dense, broadcast, /*keepdims=*/true), Variable()};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>&) const override {
    return {{shape_i(node.output(0), 0)}};
  }
  std::string save() const override { return OpWriter("values_at").bytes(); }

 private:
  // The dense operand's type with its broadcast dimensions read as the structure's.
  static TensorType unbroadcast_type(TensorType g, const TensorType& p) {
    for (int a = 0; a < 2; ++a)
      if (g.shape[a] == 1) g.shape[a] = p.shape[a];
    return g;
  }
};

Variable DenseFromSparse::apply_values_at(const Variable& g, const Variable& x) {
  return apply_op1(std::make_shared<ValuesAt>(), {g, x});
}

// ---- Structure ----

class SparseTranspose : public Op {
 public:
  std::string name() const override { return "sparse_transpose"; }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "transpose");
    const SparseFormat other = format_of(x) == SparseFormat::Csr ? SparseFormat::Csc : SparseFormat::Csr;
    return {TensorType::sparse(x.dtype(), other, {x.type().shape[1], x.type().shape[0]})};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    outputs[0] = inputs[0].transpose();
  }
  std::vector<Variable> grad(const Apply&, const std::vector<Variable>& g) const override {
    return {g[0].is_sparse() ? sparse::transpose(g[0]) : hypatia::transpose(g[0])};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {{shapes[0][1], shapes[0][0]}};
  }
  ViewMap view_map() const override { return {{0, 0}}; }
  std::string save() const override { return OpWriter("sparse_transpose").bytes(); }
};

// An op from a sparse matrix to one of its type (remove0, ensure_sorted_indices, SciPy's sum_duplicates), whose
// gradient is gz.
class Restructure : public Op {
 public:
  enum class Kind { RemoveZeros, SortIndices, SumDuplicates };
  explicit Restructure(Kind kind) : kind_(kind) {}
  std::string name() const override {
    return kind_ == Kind::RemoveZeros ? "remove0" : kind_ == Kind::SortIndices ? "ensure_sorted_indices" : "sum_duplicates";
  }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    return {sparse_input(inputs.at(0), name().c_str()).type()};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const SparseArray& x = inputs[0].sparse();
    outputs[0] = sparse_value(kind_ == Kind::RemoveZeros  ? sparse_kernels::remove_zeros(x)
                              : kind_ == Kind::SortIndices ? sparse_kernels::sort_indices(x)
                                                           : x.canonical());
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    return {in_format(g[0], format_of(node.input(0)))};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  ViewMap view_map() const override { return {{0, 0}}; }  // sum_duplicates of a canonical matrix is the matrix
  std::string save() const override {
    OpWriter out("sparse_restructure");
    out.integer(static_cast<int64_t>(kind_));
    return out.bytes();
  }

 private:
  Kind kind_;
};

class SpZerosLike : public Op {
 public:
  std::string name() const override { return "sp_zeros_like"; }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    return {sparse_input(inputs.at(0), "sp_zeros_like").type()};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const SparseArray& x = inputs[0].sparse();
    outputs[0] = sparse_value(sparse_kernels::assemble(x.format(), x.rows(), x.cols(), Array::empty({0}, x.dtype()),
                                                       Array::empty({0}, DType::Int32), Array::zeros({x.major() + 1}, DType::Int32)));
  }
  std::vector<Variable> grad(const Apply&, const std::vector<Variable>&) const override { return {Variable()}; }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  std::string save() const override { return OpWriter("sp_zeros_like").bytes(); }
};

// ---- Elementwise sums and products ----

class AddSS : public Op {
 public:
  std::string name() const override { return "add_s_s"; }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "add"), y = sparse_input(inputs.at(1), "add");
    const DType dtype = promote_types(x.dtype(), y.dtype());
    return {TensorType::sparse(dtype, format_of(x), merged_shape(x.type(), y.type(), "add"))};
  }
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    check_same_shape(inputs, "add");
    outputs[0] = sparse_value(sparse_kernels::add(inputs[0].sparse(), inputs[1].sparse(), node.output(0).dtype()));
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    return {in_format(g[0], format_of(node.input(0))), in_format(g[0], format_of(node.input(1)))};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  std::string save() const override { return OpWriter("add_s_s").bytes(); }
};

// sparse + dense of the same shape: dense; the sparse operand's gradient is structured (Theano's AddSD).
class AddSD : public Op {
 public:
  std::string name() const override { return "add_s_d"; }
  bool takes_sparse(int input) const override { return input == 0; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "add");
    const Variable& y = inputs.at(1);
    if (y.ndim() != 2) throw TypeError("[add] sparse + dense needs a dense matrix, got " + y.type().str());
    return {TensorType(promote_types(x.dtype(), y.dtype()), merged_shape(x.type(), y.type(), "add"))};
  }
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    check_same_shape(inputs, "add");
    outputs[0] = sparse_kernels::add_to_dense(inputs[0].sparse(), inputs[1], node.output(0).dtype());
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    const Variable& x = node.input(0);
    return {is_inexact(x.dtype()) ? sparse::with_data(x, DenseFromSparse::apply_values_at(g[0], x)) : Variable(), g[0]};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[1]};
  }
  std::string save() const override { return OpWriter("add_s_d").bytes(); }
};

class MulSS : public Op {
 public:
  std::string name() const override { return "mul_s_s"; }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "mul"), y = sparse_input(inputs.at(1), "mul");
    return {TensorType::sparse(promote_types(x.dtype(), y.dtype()), format_of(x), merged_shape(x.type(), y.type(), "mul"))};
  }
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    check_same_shape(inputs, "mul");
    outputs[0] = sparse_value(sparse_kernels::multiply(inputs[0].sparse(), inputs[1].sparse(), node.output(0).dtype()));
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    const Variable &x = node.input(0), &y = node.input(1);
    return {is_inexact(x.dtype()) ? in_format(sparse::mul(y, g[0]), format_of(x)) : Variable(),
            is_inexact(y.dtype()) ? in_format(sparse::mul(x, g[0]), format_of(y)) : Variable()};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  std::string save() const override { return OpWriter("mul_s_s").bytes(); }
};

// ---- Reductions ----

class SpSum : public Op {
 public:
  SpSum(int axis, bool sparse_grad) : axis_(axis), sparse_grad_(sparse_grad) {}
  std::string name() const override { return "sp_sum"; }
  std::string props() const override {
    return "axis=" + (axis_ < 0 ? std::string("None") : std::to_string(axis_)) + (sparse_grad_ ? ", sparse_grad" : "");
  }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "sp_sum");
    if (axis_ < 0) return {TensorType(x.dtype(), {})};
    return {TensorType(x.dtype(), {x.type().shape[1 - axis_]})};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const SparseArray& x = inputs[0].sparse();
    outputs[0] = sparse_kernels::sum(x, axis_ < 0 ? std::nullopt : std::optional<int>(axis_), x.dtype());
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    const Variable& x = node.input(0);
    if (!is_inexact(x.dtype())) return {Variable()};
    // gz laid along the axis summed: a row for column sums, a column for row sums.
    const Variable spread = axis_ < 0 ? g[0] : axis_ == 0 ? dimshuffle(g[0], {kNewAxis, 0}) : dimshuffle(g[0], {0, kNewAxis});
    if (sparse_grad_) return {sparse::with_data(x, DenseFromSparse::apply_values_at(spread, x))};
    return {alloc(spread, {shape_i(x, 0), shape_i(x, 1)})};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    if (axis_ < 0) return {{}};
    return {{shapes[0][1 - axis_]}};
  }
  std::string save() const override {
    OpWriter out("sp_sum");
    out.integer(axis_);
    out.flag(sparse_grad_);
    return out.bytes();
  }

 private:
  int axis_;  // -1: every value
  bool sparse_grad_;
};

// ---- Stacking ----

class SparseStack : public Op {
 public:
  SparseStack(int axis, SparseFormat format, DType dtype) : axis_(axis), format_(format), dtype_(dtype) {}
  std::string name() const override { return axis_ == 0 ? "vstack" : "hstack"; }
  std::string props() const override { return std::string("format=") + sparse_format_name(format_) + ", dtype=" + std::string(dtype_name(dtype_)); }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    if (inputs.empty()) throw ValueError("[" + name() + "] needs at least one block");
    check_sparse_dtype(dtype_, name());
    std::vector<int64_t> shape = sparse_input(inputs[0], name().c_str(), "each block").type().shape;
    for (size_t k = 1; k < inputs.size(); ++k) {
      const TensorType& t = sparse_input(inputs[k], name().c_str(), "each block").type();
      const int other = 1 - axis_;
      if (shape[other] != TensorType::kUnknown && t.shape[other] != TensorType::kUnknown && shape[other] != t.shape[other])
        throw ShapeError("[" + name() + "] the blocks' " + (axis_ == 0 ? "columns" : "rows") + " differ: " + shapes_str(inputs));
      if (shape[other] == TensorType::kUnknown) shape[other] = t.shape[other];
      shape[axis_] = shape[axis_] == TensorType::kUnknown || t.shape[axis_] == TensorType::kUnknown ? TensorType::kUnknown
                                                                                                      : shape[axis_] + t.shape[axis_];
    }
    return {TensorType::sparse(dtype_, format_, shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    std::vector<SparseArray> blocks;
    for (const Array& a : inputs) {
      if (a.shape()[1 - axis_] != inputs[0].shape()[1 - axis_])
        throw ShapeError("[" + name() + "] the blocks' " + (axis_ == 0 ? "columns" : "rows") + " differ: " + shapes_str(inputs));
      blocks.push_back(a.sparse());
    }
    outputs[0] = sparse_value(sparse_kernels::stack(blocks, axis_, format_, dtype_));
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override;
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    std::vector<Variable> dims = shapes[0];
    for (size_t k = 1; k < shapes.size(); ++k) dims[axis_] = dims[axis_] + shapes[k][axis_];
    return {dims};
  }
  std::string save() const override {
    OpWriter out("sparse_stack");
    out.integer(axis_);
    write_format(out, format_);
    out.dtype(dtype_);
    return out.bytes();
  }

 private:
  int axis_;
  SparseFormat format_;
  DType dtype_;
};

// ---- Indexing ----

// Each axis is taken as a slice (two bounds, Python's rules, step 1) or one index (kept as a line of length 1).
enum class AxisPick : uint8_t { Slice, Index };

struct Window {
  AxisPick rows, cols;
  int inputs() const { return (rows == AxisPick::Slice ? 2 : 1) + (cols == AxisPick::Slice ? 2 : 1); }
  // [start, stop) of each axis for a matrix of `shape`, from the bound values (inputs after the matrix).
  std::pair<int64_t, int64_t> range(int axis, int64_t n, std::span<const Array> bounds) const {
    const AxisPick pick = axis == 0 ? rows : cols;
    const size_t first = axis == 0 ? 0 : (rows == AxisPick::Slice ? 2 : 1);
    if (pick == AxisPick::Index) {
      int64_t i = index_value(bounds[first]);
      if (i < -n || i >= n)
        throw IndexError("[sparse getitem] index " + std::to_string(i) + " is out of bounds for axis " + std::to_string(axis) +
                         " with size " + std::to_string(n));
      if (i < 0) i += n;
      return {i, i + 1};
    }
    auto clamp = [n](int64_t v) { return std::clamp(v < 0 ? v + n : v, int64_t{0}, n); };
    const int64_t start = clamp(index_value(bounds[first])), stop = clamp(index_value(bounds[first + 1]));
    return {start, std::max(start, stop)};
  }
};

class SparseWindow : public Op {
 public:
  explicit SparseWindow(Window w) : w_(w) {}
  std::string name() const override { return "sparse_getitem"; }
  std::string props() const override {
    return std::string(w_.rows == AxisPick::Slice ? "rows:slice" : "rows:index") + (w_.cols == AxisPick::Slice ? ", cols:slice" : ", cols:index");
  }
  bool takes_sparse(int input) const override { return input == 0; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "sparse getitem");
    if (static_cast<int>(inputs.size()) != 1 + w_.inputs()) throw TypeError("[sparse getitem] wrong number of bounds");
    for (size_t i = 1; i < inputs.size(); ++i)
      if (inputs[i].ndim() != 0 || !is_integer(inputs[i].dtype()))
        throw TypeError("[sparse getitem] indices and slice bounds must be integer scalars, got " + inputs[i].type().str());
    return {TensorType::sparse(x.dtype(), format_of(x), {w_.rows == AxisPick::Index ? 1 : TensorType::kUnknown,
                                                         w_.cols == AxisPick::Index ? 1 : TensorType::kUnknown})};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const SparseArray& x = inputs[0].sparse();
    const auto [r0, r1] = w_.range(0, x.rows(), inputs.subspan(1));
    const auto [c0, c1] = w_.range(1, x.cols(), inputs.subspan(1));
    outputs[0] = sparse_value(sparse_kernels::window(x, r0, r1, c0, c1));
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override;
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>&) const override {
    return {{shape_i(node.output(0), 0), shape_i(node.output(0), 1)}};
  }
  std::string save() const override {
    OpWriter out("sparse_window");
    out.integers({static_cast<int>(w_.rows), static_cast<int>(w_.cols)});
    return out.bytes();
  }

 private:
  Window w_;
};

// The window's gradient: gz placed back at the window's position in a matrix of x's shape and format.
class SparseWindowGrad : public Op {
 public:
  explicit SparseWindowGrad(Window w) : w_(w) {}
  std::string name() const override { return "sparse_getitem_grad"; }
  bool takes_sparse(int input) const override { return input <= 1; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "sparse getitem grad");
    const Variable g = sparse_input(inputs.at(1), "sparse getitem grad");
    return {TensorType::sparse(g.dtype(), format_of(x), x.type().shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const SparseArray& x = inputs[0].sparse();
    const SparseArray g = inputs[1].sparse().as_format(SparseFormat::Csr);
    const auto [r0, r1] = w_.range(0, x.rows(), inputs.subspan(2));
    const auto [c0, c1] = w_.range(1, x.cols(), inputs.subspan(2));
    if (g.rows() != r1 - r0 || g.cols() != c1 - c0)
      throw ShapeError("[sparse getitem grad] a gradient " + g.shape_dtype_str() + " for a window of shape (" + std::to_string(r1 - r0) +
                       ", " + std::to_string(c1 - c0) + ")");
    // Rows r0.. of the result are g's rows with columns shifted by c0; the rest are empty.
    const Array indptr = g.indptr().astype(DType::Int64), indices = g.indices().astype(DType::Int64);
    Array out_ptr = Array::empty({x.rows() + 1}, DType::Int64), out_idx = Array::empty({g.nnz()}, DType::Int64);
    const int64_t *ip = indptr.data<int64_t>(), *ix = indices.data<int64_t>();
    int64_t *op = out_ptr.data<int64_t>(), *ox = out_idx.data<int64_t>();
    for (int64_t r = 0; r <= x.rows(); ++r) op[r] = r <= r0 ? 0 : r >= r1 ? g.nnz() : ip[r - r0];
    for (int64_t q = 0; q < g.nnz(); ++q) ox[q] = ix[q] + c0;
    const SparseArray placed = sparse_kernels::assemble(SparseFormat::Csr, x.rows(), x.cols(), g.data().contiguous(), out_idx, out_ptr);
    outputs[0] = sparse_value(placed.as_format(x.format()));
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    std::vector<Variable> grads(node.inputs().size());
    std::vector<Variable> inputs{g[0]};
    for (size_t i = 2; i < node.inputs().size(); ++i) inputs.push_back(node.input(i));
    grads[1] = in_format(apply_op1(std::make_shared<SparseWindow>(w_), inputs), format_of(node.input(1)));
    return grads;
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  std::string save() const override {
    OpWriter out("sparse_window_grad");
    out.integers({static_cast<int>(w_.rows), static_cast<int>(w_.cols)});
    return out.bytes();
  }

 private:
  Window w_;
};

std::vector<Variable> SparseWindow::grad(const Apply& node, const std::vector<Variable>& g) const {
  std::vector<Variable> grads(node.inputs().size());
  if (!is_inexact(node.input(0).dtype())) return grads;
  const Variable gz = g[0].is_sparse() ? g[0] : sparse::csr_from_dense(g[0]);
  std::vector<Variable> inputs{node.input(0), gz};
  for (size_t i = 1; i < node.inputs().size(); ++i) inputs.push_back(node.input(i));
  grads[0] = apply_op1(std::make_shared<SparseWindowGrad>(w_), inputs);
  return grads;
}

std::vector<Variable> SparseStack::grad(const Apply& node, const std::vector<Variable>& g) const {
  std::vector<Variable> grads;
  const Variable gz = g[0].is_sparse() ? g[0] : sparse::csr_from_dense(g[0]);
  Variable offset = constant(0.0, DType::Int64);
  for (const Variable& block : node.inputs()) {
    const Variable end = offset + shape_i(block, axis_);
    Variable piece = axis_ == 0 ? sparse::get_item_2d(gz, offset, end, std::nullopt, std::nullopt)
                                : sparse::get_item_2d(gz, std::nullopt, std::nullopt, offset, end);
    if (piece.dtype() != block.dtype()) piece = sparse::cast(piece, block.dtype());
    grads.push_back(is_inexact(block.dtype()) ? in_format(piece, format_of(block)) : Variable());
    offset = end;
  }
  return grads;
}

// The rows (axis 0) or columns (axis 1) an integer vector lists.
class SparseTake : public Op {
 public:
  explicit SparseTake(int axis) : axis_(axis) {}
  std::string name() const override { return "sparse_take"; }
  std::string props() const override { return "axis=" + std::to_string(axis_); }
  bool takes_sparse(int input) const override { return input == 0; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "sparse take");
    const Variable& idx = inputs.at(1);
    if (idx.ndim() != 1 || !is_integer(idx.dtype())) throw TypeError("[sparse take] needs an integer vector, got " + idx.type().str());
    std::vector<int64_t> shape = x.type().shape;
    shape[axis_] = idx.type().shape[0];
    return {TensorType::sparse(x.dtype(), format_of(x), shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const SparseArray& x = inputs[0].sparse();
    outputs[0] = sparse_value(sparse_kernels::take(x, lines(inputs[1], x.shape()[axis_], axis_), axis_));
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override;
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    std::vector<Variable> dims = shapes[0];
    dims[axis_] = shapes[1][0];
    return {dims};
  }
  std::string save() const override {
    OpWriter out("sparse_take");
    out.integer(axis_);
    return out.bytes();
  }
  // The listed lines, wrapped and checked against n.
  static std::vector<int64_t> lines(const Array& idx, int64_t n, int axis) {
    const Array wide = idx.astype(DType::Int64);
    std::vector<int64_t> out(wide.data<int64_t>(), wide.data<int64_t>() + wide.size());
    for (int64_t& i : out) {
      if (i < -n || i >= n)
        throw IndexError("[sparse take] index " + std::to_string(i) + " is out of bounds for axis " + std::to_string(axis) +
                         " with size " + std::to_string(n));
      if (i < 0) i += n;
    }
    return out;
  }

 private:
  int axis_;
};

// take's gradient: the lines of gz added into the lines they were taken from.
class SparseTakeGrad : public Op {
 public:
  explicit SparseTakeGrad(int axis) : axis_(axis) {}
  std::string name() const override { return "sparse_take_grad"; }
  std::string props() const override { return "axis=" + std::to_string(axis_); }
  bool takes_sparse(int input) const override { return input != 1; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "sparse take grad");
    const Variable g = sparse_input(inputs.at(2), "sparse take grad");
    return {TensorType::sparse(g.dtype(), format_of(x), x.type().shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const SparseArray& x = inputs[0].sparse();
    const int64_t n = x.shape()[axis_];
    const std::vector<int64_t> chosen = SparseTake::lines(inputs[1], n, axis_);
    const SparseFormat lines = axis_ == 0 ? SparseFormat::Csr : SparseFormat::Csc;
    const SparseArray g = inputs[2].sparse().as_format(lines);
    if (g.major() != static_cast<int64_t>(chosen.size()))
      throw ShapeError("[sparse take grad] a gradient " + g.shape_dtype_str() + " for " + std::to_string(chosen.size()) + " lines");
    // Line k of g goes to line chosen[k]: a stable counting sort by destination, then duplicates summed.
    const Array gp = g.indptr().astype(DType::Int64), gi = g.indices().astype(DType::Int64), gv = g.data().contiguous();
    const int64_t* ptr = gp.data<int64_t>();
    std::vector<int64_t> count(n + 1, 0);
    for (size_t k = 0; k < chosen.size(); ++k) count[chosen[k] + 1] += ptr[k + 1] - ptr[k];
    for (int64_t l = 0; l < n; ++l) count[l + 1] += count[l];
    std::vector<int64_t> next(count.begin(), count.end() - 1);
    Array out_idx = Array::empty({g.nnz()}, DType::Int64), order = Array::empty({g.nnz()}, DType::Int64);
    for (size_t k = 0; k < chosen.size(); ++k)
      for (int64_t q = ptr[k]; q < ptr[k + 1]; ++q) {
        const int64_t at = next[chosen[k]]++;
        out_idx.data<int64_t>()[at] = gi.data<int64_t>()[q];
        order.data<int64_t>()[at] = q;
      }
    Array data = Array::empty({g.nnz()}, g.dtype());
    dispatch_dtype(g.dtype(), [&]<class T>() {
      for (int64_t at = 0; at < g.nnz(); ++at) data.data<T>()[at] = gv.data<T>()[order.data<int64_t>()[at]];
    });
    const SparseArray placed = sparse_kernels::assemble(lines, axis_ == 0 ? n : x.rows(), axis_ == 0 ? x.cols() : n, data, out_idx,
                                                        Array::from_vector(count));
    outputs[0] = sparse_value(placed.canonical().as_format(x.format()));
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    return {Variable(), Variable(), in_format(apply_op1(std::make_shared<SparseTake>(axis_), {g[0].is_sparse() ? g[0] : sparse::csr_from_dense(g[0]), node.input(1)}), format_of(node.input(2)))};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  std::string save() const override {
    OpWriter out("sparse_take_grad");
    out.integer(axis_);
    return out.bytes();
  }

 private:
  int axis_;
};

std::vector<Variable> SparseTake::grad(const Apply& node, const std::vector<Variable>& g) const {
  if (!is_inexact(node.input(0).dtype())) return {Variable(), Variable()};
  const Variable gz = g[0].is_sparse() ? g[0] : sparse::csr_from_dense(g[0]);
  return {apply_op1(std::make_shared<SparseTakeGrad>(axis_), {node.input(0), node.input(1), gz}), Variable()};
}

// The square csc matrix with `diag` on its diagonal (every diagonal entry stored, as Theano's).
class SquareDiagonal : public Op {
 public:
  std::string name() const override { return "square_diagonal"; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable& d = inputs.at(0);
    if (d.ndim() != 1) throw TypeError("[square_diagonal] needs a vector, got " + d.type().str());
    check_sparse_dtype(d.dtype(), "square_diagonal");
    return {TensorType::sparse(d.dtype(), SparseFormat::Csc, {d.type().shape[0], d.type().shape[0]})};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const int64_t n = inputs[0].size();
    const DType index = sparse_kernels::index_dtype_for(n + 1);
    outputs[0] = sparse_value(sparse_kernels::assemble(SparseFormat::Csc, n, n, inputs[0].contiguous(), Array::arange(n, index),
                                                       Array::arange(n + 1, index)));
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    if (!is_inexact(node.input(0).dtype())) return {Variable()};
    return {DenseFromSparse::apply_values_at(g[0], node.output(0))};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {{shapes[0][0], shapes[0][0]}};
  }
  ViewMap view_map() const override { return {{0, 0}}; }  // its values are the vector's
  std::string save() const override { return OpWriter("square_diagonal").bytes(); }
};

// The diagonal of a square sparse matrix, dense (Theano's sparse.diag).
class SparseDiagonal : public Op {
 public:
  std::string name() const override { return "sparse_diag"; }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "diag");
    const auto& shape = x.type().shape;
    if (shape[0] != TensorType::kUnknown && shape[1] != TensorType::kUnknown && shape[0] != shape[1])
      throw ValueError("[diag] needs a square matrix, got " + x.type().str());
    return {TensorType(x.dtype(), {shape[0] != TensorType::kUnknown ? shape[0] : shape[1]})};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const SparseArray& x = inputs[0].sparse();
    if (x.rows() != x.cols()) throw ValueError("[diag] needs a square matrix, got " + x.shape_dtype_str());
    // Each line's entries at its own index (duplicates summed), as SciPy's diagonal().
    Array out = Array::zeros({x.rows()}, x.dtype());
    const sparse_kernels::Compressed c = sparse_kernels::prepare(x, x.dtype());
    dispatch_dtype(x.dtype(), [&]<class T>() {
      sparse_kernels::dispatch_index(c.index_dtype(), [&]<class I>() {
        const I *idx = c.indices.data<I>(), *ptr = c.indptr.data<I>();
        const T* v = c.data.data<T>();
        T* o = out.data<T>();
        for (int64_t line = 0; line < c.major; ++line)
          for (int64_t q = ptr[line]; q < ptr[line + 1]; ++q)
            if (int64_t(idx[q]) == line) o[line] = static_cast<T>(o[line] + v[q]);
      });
    });
    outputs[0] = std::move(out);
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    if (!is_inexact(node.input(0).dtype())) return {Variable()};
    return {in_format(sparse::square_diagonal(g[0]), format_of(node.input(0)))};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {{shapes[0][0]}};
  }
  std::string save() const override { return OpWriter("sparse_diag").bytes(); }
};

// ---- Routing the dense front ends ----

// Whether the scalar op maps 0 to 0 (so applying it to the stored values is the whole answer).
bool keeps_zero(const ScalarOp& op, DType dtype) {
  if (scalar_op_info(op.id).arity != 1) return false;
  try {
    const ScalarTyping typing = scalar_typing(op, {dtype});
    Array out = Array::empty({}, typing.out);
    run_scalar_kernel(op, typing, {Array::zeros({}, dtype)}, out);
    return out.astype(DType::Complex128).data<std::complex<double>>()[0] == std::complex<double>(0.0);
  } catch (const Error&) {
    return false;
  }
}

// A dense operand of a product or sum with a sparse one, as a matrix or 0-d value (a vector is a row).
Variable as_matrix_or_scalar(const Variable& d) {
  if (d.ndim() == 1) return dimshuffle(d, {kNewAxis, 0});
  if (d.ndim() > 2) throw TypeError("[sparse] a dense operand of " + d.type().str() + " cannot meet a sparse matrix");
  return d;
}

void register_sparse_loaders_impl(OpLoaders& loaders) {
  loaders["sparse_from_dense"] = [](OpReader& in) -> OpPtr { return std::make_shared<SparseFromDense>(read_format(in)); };
  loaders["dense_from_sparse"] = [](OpReader& in) -> OpPtr { return std::make_shared<DenseFromSparse>(in.flag()); };
  loaders["sparse_as_format"] = [](OpReader& in) -> OpPtr { return std::make_shared<AsFormat>(read_format(in)); };
  loaders["csm"] = [](OpReader& in) -> OpPtr { return std::make_shared<Csm>(read_format(in)); };
  loaders["csm_properties"] = [](OpReader&) -> OpPtr { return std::make_shared<CsmProperties>(); };
  loaders["with_data"] = [](OpReader&) -> OpPtr { return std::make_shared<WithData>(); };
  loaders["values_at"] = [](OpReader&) -> OpPtr { return std::make_shared<ValuesAt>(); };
  loaders["sparse_transpose"] = [](OpReader&) -> OpPtr { return std::make_shared<SparseTranspose>(); };
  loaders["sparse_restructure"] = [](OpReader& in) -> OpPtr {
    return std::make_shared<Restructure>(static_cast<Restructure::Kind>(in.integer_in(0, 2, "a restructuring")));
  };
  loaders["sp_zeros_like"] = [](OpReader&) -> OpPtr { return std::make_shared<SpZerosLike>(); };
  loaders["add_s_s"] = [](OpReader&) -> OpPtr { return std::make_shared<AddSS>(); };
  loaders["add_s_d"] = [](OpReader&) -> OpPtr { return std::make_shared<AddSD>(); };
  loaders["mul_s_s"] = [](OpReader&) -> OpPtr { return std::make_shared<MulSS>(); };
  loaders["sp_sum"] = [](OpReader& in) -> OpPtr {
    const int axis = static_cast<int>(in.integer_in(-1, 1, "an axis"));
    return std::make_shared<SpSum>(axis, in.flag());
  };
  loaders["sparse_stack"] = [](OpReader& in) -> OpPtr {
    const int axis = static_cast<int>(in.integer_in(0, 1, "an axis"));
    const SparseFormat format = read_format(in);
    return std::make_shared<SparseStack>(axis, format, in.dtype());
  };
  auto window = [](OpReader& in) {
    const std::vector<int> picks = in.integers();
    if (picks.size() != 2 || picks[0] < 0 || picks[0] > 1 || picks[1] < 0 || picks[1] > 1) in.damaged("a sparse window's axes");
    return Window{static_cast<AxisPick>(picks[0]), static_cast<AxisPick>(picks[1])};
  };
  loaders["sparse_window"] = [window](OpReader& in) -> OpPtr { return std::make_shared<SparseWindow>(window(in)); };
  loaders["sparse_window_grad"] = [window](OpReader& in) -> OpPtr { return std::make_shared<SparseWindowGrad>(window(in)); };
  loaders["sparse_take"] = [](OpReader& in) -> OpPtr { return std::make_shared<SparseTake>(static_cast<int>(in.integer_in(0, 1, "an axis"))); };
  loaders["sparse_take_grad"] = [](OpReader& in) -> OpPtr {
    return std::make_shared<SparseTakeGrad>(static_cast<int>(in.integer_in(0, 1, "an axis")));
  };
  loaders["square_diagonal"] = [](OpReader&) -> OpPtr { return std::make_shared<SquareDiagonal>(); };
  loaders["sparse_diag"] = [](OpReader&) -> OpPtr { return std::make_shared<SparseDiagonal>(); };
}

}  // namespace

void register_sparse_loaders(OpLoaders& loaders) { register_sparse_loaders_impl(loaders); }

namespace {

// x < y and the other comparisons with a sparse operand, as SciPy gives them: bool, sparse against a scalar or
// another sparse matrix, dense against a dense array. Against a constant c with 0 < c false (say), only stored
// positions can be true: the stored values are compared and the false entries dropped. Otherwise the dense
// comparison, compressed.
Variable sparse_comparison(const ScalarOp& op, const Operand& a, const Operand& b, std::source_location where) {
  const auto [x, y] = sparse_ops::operand_pair(a, b);
  auto compare = [&](const Variable& l, const Variable& r) {
    const Operand left(l, where), right(r, where);
    return elemwise(op, {&left, &right});
  };
  auto dense = [&](const Variable& v) { return v.is_sparse() ? sparse::dense_from_sparse(Operand(v, where), false) : v; };
  const Variable& matrix = x.is_sparse() ? x : y;
  const Variable& other = x.is_sparse() ? y : x;
  auto compressed = [&](const Variable& d) {
    return format_of(matrix) == SparseFormat::Csr ? sparse::csr_from_dense(Operand(d, where)) : sparse::csc_from_dense(Operand(d, where));
  };
  if (other.is_sparse()) return compressed(compare(dense(x), dense(y)));
  if (other.ndim() > 0) return compare(dense(x), dense(y));
  if (other.is_constant()) {
    // The comparison of a stored 0 with the constant, as the elementwise kernel computes it.
    const Array zero = Array::zeros({}, matrix.dtype()), c = other.constant_value();
    const std::vector<Array> operands = x.is_sparse() ? std::vector<Array>{zero, c} : std::vector<Array>{c, zero};
    const ScalarTyping typing = scalar_typing(op, {operands[0].dtype(), operands[1].dtype()});
    Array at_zero = Array::empty({}, typing.out);
    run_scalar_kernel(op, typing, operands, at_zero);
    if (at_zero.item() == 0) {  // duplicates summed first: SciPy compares the matrix, not each stored entry
      const Variable summed = apply_op1(std::make_shared<Restructure>(Restructure::Kind::SumDuplicates), {matrix}, where);
      const Variable data = sparse::csm_data(Operand(summed, where));
      const Variable values = x.is_sparse() ? compare(data, y) : compare(x, data);
      return sparse::remove0(Operand(sparse::with_data(Operand(summed, where), Operand(values, where)), where));
    }
  }
  return compressed(compare(dense(x), dense(y)));
}

}  // namespace

Variable sparse_subtensor(const Variable& x, const IndexList& indices) {
  return at_location(indices.where, [&]() -> Variable {
    auto refuse = [&](const std::string& why) -> Variable {
      throw IndexError("[sparse getitem] " + why + " (indexing " + x.str() + ": " + x.type().str() + "); a sparse matrix takes "
                       "x[i], x[i, j], x[a:b], x[a:b, c:d], x[:, j] and integer vectors of rows or columns");
    };
    if (indices.indices.empty() || indices.indices.size() > 2) return refuse(std::to_string(indices.indices.size()) + " indices");
    // Per axis: an integer (a Variable of 0-d), an integer vector (1-d), or a slice with step 1.
    struct Pick {
      std::optional<Variable> index;  // set for an integer or a vector
      SliceIndex slice;
    };
    std::vector<Pick> picks;
    for (const Index& entry : indices.indices) {
      Pick pick;
      if (const auto* operand = std::get_if<Operand>(&entry.value())) {
        Variable v = operand->is_number() ? operand->as_variable(DType::Int64) : operand->variable();
        if (!is_integer(v.dtype()) || v.ndim() > 1) return refuse("an index of " + v.type().str());
        pick.index = v;
      } else if (const auto* s = std::get_if<SliceIndex>(&entry.value())) {
        if (s->step && !(s->step->is_number() && constant_int(s->step->as_variable(DType::Int64)) == 1)) return refuse("a slice step");
        pick.slice = *s;
      } else {
        return refuse("newaxis or an ellipsis");
      }
      picks.push_back(std::move(pick));
    }
    if (picks.size() == 1) picks.push_back(Pick{});  // x[i] is x[i, :]
    const Operand subject(x, indices.where);
    auto is_vector = [](const Pick& p) { return p.index && p.index->ndim() == 1; };
    auto is_scalar = [](const Pick& p) { return p.index && p.index->ndim() == 0; };
    if (is_scalar(picks[0]) && is_scalar(picks[1])) return sparse::get_item_scalar(subject, *picks[0].index, *picks[1].index);
    if (is_vector(picks[0]) && is_vector(picks[1])) return refuse("two integer vectors");
    Variable result = x;
    // Vectors first (take), then the window of what remains.
    for (int axis = 0; axis < 2; ++axis)
      if (is_vector(picks[axis])) {
        result = sparse::take(Operand(result, indices.where), *picks[axis].index, axis);
        picks[axis] = Pick{};
      }
    std::vector<Variable> bounds{result};
    Window w{};
    constexpr int64_t kEnd = int64_t{1} << 62;  // past any dimension: an open stop
    bool whole = true;
    for (int axis = 0; axis < 2; ++axis) {
      if (is_scalar(picks[axis])) {
        (axis == 0 ? w.rows : w.cols) = AxisPick::Index;
        bounds.push_back(*picks[axis].index);
        whole = false;
        continue;
      }
      (axis == 0 ? w.rows : w.cols) = AxisPick::Slice;
      const SliceIndex& s = picks[axis].slice;
      whole = whole && !s.start && !s.stop;
      bounds.push_back(s.start ? s.start->as_variable(DType::Int64) : constant(0.0, DType::Int64));
      bounds.push_back(s.stop ? s.stop->as_variable(DType::Int64) : constant(static_cast<double>(kEnd), DType::Int64));
    }
    if (whole) return result;
    return apply_op1(std::make_shared<SparseWindow>(w), bounds, indices.where);
  });
}

Variable sparse_elemwise(const ScalarOp& op, const std::vector<const Operand*>& operands, std::source_location where) {
  const std::string name = scalar_op_info(op.id).name;
  return at_location(where, [&]() -> Variable {
    if (operands.size() == 1) {
      const Variable x = operands[0]->as_variable();
      if (op.id == ScalarOpId::cast) return sparse::cast(x, op.cast_to);
      if (keeps_zero(op, x.dtype())) {
        const Operand data(sparse::csm_data(x), where);
        return sparse::with_data(x, elemwise(op, {&data}));
      }
      throw TypeError("[" + name + "] of the sparse matrix " + x.str() + " would not be sparse (" + name + "(0) is not 0): apply it to the "
                      "stored values with the structured ops (sparse.structured_exp, ...), or convert with dense_from_sparse first");
    }
    if (operands.size() == 2) {
      const Operand &a = *operands[0], &b = *operands[1];
      switch (op.id) {
        case ScalarOpId::add: return sparse::add(a, b);
        case ScalarOpId::sub: return sparse::sub(a, b);
        case ScalarOpId::mul: return sparse::mul(a, b);
        case ScalarOpId::eq: case ScalarOpId::neq: case ScalarOpId::lt: case ScalarOpId::le: case ScalarOpId::gt: case ScalarOpId::ge:
          return sparse_comparison(op, a, b, where);
        case ScalarOpId::true_div:
          // As SciPy: by a scalar, the stored values; by a dense array, the dense quotient (0 / 0 is NaN there).
          if (!a.is_number() && a.variable().is_sparse() && (b.is_number() || !b.variable().is_sparse())) {
            const auto [x, d] = sparse_ops::operand_pair(a, b);
            if (d.ndim() == 0) return sparse::mul(Operand(x, where), true_div(Operand(1.0, where), Operand(d, where)));
            return true_div(Operand(sparse::dense_from_sparse(Operand(x, where)), where), Operand(d, where));
          }
          break;
        default: break;
      }
    }
    throw TypeError("[" + name + "] is not defined on sparse matrices (" + shapes_str([&] {
                      std::vector<Variable> vs;
                      for (const Operand* o : operands) vs.push_back(o->as_variable());
                      return vs;
                    }()) + "): the sparse module has add, sub, mul, division by a dense value, the structured ops, and the "
                           "elementwise functions that keep 0 (sin, sqrt, neg, ...); or convert with dense_from_sparse");
  });
}

namespace sparse {

using namespace sparse_ops;

Variable matrix(SparseFormat format, std::string name, DType dtype, std::source_location where) {
  if (dtype == DType::Float16) throw TypeError("[sparse.matrix] float16 sparse matrices are not supported (SciPy has none); use float32");
  Variable x = tensor(dtype, {TensorType::kUnknown, TensorType::kUnknown}, std::move(name), where);
  x.node()->type.format = format;
  return x;
}
Variable csr_matrix(std::string name, DType dtype, std::source_location where) { return matrix(SparseFormat::Csr, std::move(name), dtype, where); }
Variable csc_matrix(std::string name, DType dtype, std::source_location where) { return matrix(SparseFormat::Csc, std::move(name), dtype, where); }

Variable dense_from_sparse(const Operand& x, bool structured) {
  return apply_op1(std::make_shared<DenseFromSparse>(structured), {sparse_input(x, "dense_from_sparse")}, x.where());
}
Variable csr_from_dense(const Operand& x) {
  return apply_op1(std::make_shared<SparseFromDense>(SparseFormat::Csr), {dense_input(x, "csr_from_dense")}, x.where());
}
Variable csc_from_dense(const Operand& x) {
  return apply_op1(std::make_shared<SparseFromDense>(SparseFormat::Csc), {dense_input(x, "csc_from_dense")}, x.where());
}
Variable as_format(const Operand& x, SparseFormat format) {
  const Variable v = sparse_input(x, format == SparseFormat::Csr ? "tocsr" : "tocsc");
  if (format_of(v) == format) return v;
  return apply_op1(std::make_shared<AsFormat>(format), {v}, x.where());
}

namespace {
Variable csm(SparseFormat format, const Operand& data, const Operand& indices, const Operand& indptr, const Operand& shape) {
  return apply_op1(std::make_shared<Csm>(format), {dense_input(data, sparse_format_name(format), "data"),
                                                   dense_input(indices, sparse_format_name(format), "indices"),
                                                   dense_input(indptr, sparse_format_name(format), "indptr"),
                                                   dense_input(shape, sparse_format_name(format), "shape")},
                   data.where());
}
}  // namespace

Variable csr(const Operand& data, const Operand& indices, const Operand& indptr, const Operand& shape) {
  return csm(SparseFormat::Csr, data, indices, indptr, shape);
}
Variable csc(const Operand& data, const Operand& indices, const Operand& indptr, const Operand& shape) {
  return csm(SparseFormat::Csc, data, indices, indptr, shape);
}

Properties csm_properties(const Operand& x) {
  const auto outs = apply_op(std::make_shared<CsmProperties>(), {sparse_input(x, "csm_properties")}, x.where());
  return {outs[0], outs[1], outs[2], outs[3]};
}
Variable csm_data(const Operand& x) { return csm_properties(x).data; }
Variable csm_indices(const Operand& x) { return csm_properties(x).indices; }
Variable csm_indptr(const Operand& x) { return csm_properties(x).indptr; }
Variable csm_shape(const Operand& x) { return csm_properties(x).shape; }

Variable with_data(const Operand& x, const Operand& data) {
  return apply_op1(std::make_shared<WithData>(), {sparse_input(x, "with_data"), dense_input(data, "with_data", "the values")}, x.where());
}

Variable cast(const Operand& x, DType dtype) {
  const Variable v = sparse_input(x, "cast");
  if (v.dtype() == dtype) return v;
  return with_data(Operand(v, x.where()), hypatia::cast(Operand(csm_data(Operand(v, x.where())), x.where()), dtype));
}

Variable transpose(const Operand& x) {
  return apply_op1(std::make_shared<SparseTranspose>(), {sparse_input(x, "transpose")}, x.where());
}

Variable add(const Operand& x, const Operand& y) {
  return at_location(x.where(), [&] {
    auto [a, b] = operand_pair(x, y);
    if (!a.is_sparse()) std::swap(a, b);  // addition commutes
    if (!a.is_sparse()) throw TypeError("[add] sparse.add needs a sparse operand, got " + shapes_str({a, b}));
    if (b.is_sparse()) {
      if (format_of(b) != format_of(a)) b = as_format(b, format_of(a));
      return apply_op1(std::make_shared<AddSS>(), {a, b}, x.where());
    }
    if (b.ndim() == 2 && b.type().shape[0] != 1 && b.type().shape[1] != 1) return apply_op1(std::make_shared<AddSD>(), {a, b}, x.where());
    // A dense operand that broadcasts: the sum is dense anyway.
    return hypatia::add(Operand(dense_from_sparse(a), x.where()), Operand(b, x.where()));
  });
}

Variable neg(const Operand& x) {
  const Variable v = sparse_input(x, "neg");
  return with_data(Operand(v, x.where()), hypatia::neg(Operand(csm_data(Operand(v, x.where())), x.where())));
}

Variable sub(const Operand& x, const Operand& y) {
  return at_location(x.where(), [&] {
    const auto [a, b] = operand_pair(x, y);
    return b.is_sparse() ? sparse::add(Operand(a, x.where()), Operand(sparse::neg(Operand(b, x.where())), x.where()))
                         : sparse::add(Operand(a, x.where()), Operand(hypatia::neg(Operand(b, x.where())), x.where()));
  });
}

Variable mul(const Operand& x, const Operand& y) {
  return at_location(x.where(), [&] {
    auto [a, b] = operand_pair(x, y);
    if (!a.is_sparse()) std::swap(a, b);
    if (!a.is_sparse()) throw TypeError("[mul] sparse.mul needs a sparse operand, got " + shapes_str({a, b}));
    if (b.is_sparse()) {
      if (format_of(b) != format_of(a)) b = as_format(b, format_of(a));
      return apply_op1(std::make_shared<MulSS>(), {a, b}, x.where());
    }
    // Only a's stored positions can be nonzero: a's values times b's at those positions.
    b = as_matrix_or_scalar(b);
    const Variable data = csm_data(Operand(a, x.where()));
    const Variable factor = b.ndim() == 0 ? b : DenseFromSparse::apply_values_at(b, a);
    return with_data(Operand(a, x.where()), hypatia::mul(Operand(data, x.where()), Operand(factor, x.where())));
  });
}

Variable row_scale(const Operand& x, const Operand& s) {
  const Variable v = sparse_input(x, "row_scale"), scale = dense_input(s, "row_scale", "the scale");
  if (scale.ndim() != 1) rethrow_with_location(TypeError("[row_scale] the scale must be a vector, got " + scale.type().str()), s.where());
  return sparse::mul(Operand(v, x.where()), Operand(dimshuffle(scale, {0, kNewAxis}), x.where()));
}

Variable col_scale(const Operand& x, const Operand& s) {
  const Variable v = sparse_input(x, "col_scale"), scale = dense_input(s, "col_scale", "the scale");
  if (scale.ndim() != 1) rethrow_with_location(TypeError("[col_scale] the scale must be a vector, got " + scale.type().str()), s.where());
  return sparse::mul(Operand(v, x.where()), Operand(dimshuffle(scale, {kNewAxis, 0}), x.where()));
}

namespace {
// f applied to x's stored values (Theano's structured_monoid).
template <class F> Variable structured(const Operand& x, const char* name, F f) {
  const Variable v = sparse_input(x, name);
  const Operand data(csm_data(Operand(v, x.where())), x.where());
  return with_data(Operand(v, x.where()), f(data));
}
}  // namespace

Variable structured_sigmoid(const Operand& x) { return structured(x, "structured_sigmoid", [](const Operand& d) { return sigmoid(d); }); }
Variable structured_exp(const Operand& x) { return structured(x, "structured_exp", [](const Operand& d) { return exp(d); }); }
Variable structured_log(const Operand& x) { return structured(x, "structured_log", [](const Operand& d) { return log(d); }); }
Variable structured_pow(const Operand& x, const Operand& y) {
  return structured(x, "structured_pow", [&](const Operand& d) { return pow(d, y); });
}
Variable structured_minimum(const Operand& x, const Operand& y) {
  return structured(x, "structured_minimum", [&](const Operand& d) { return minimum(d, y); });
}
Variable structured_maximum(const Operand& x, const Operand& y) {
  return structured(x, "structured_maximum", [&](const Operand& d) { return maximum(d, y); });
}
Variable structured_add(const Operand& x, const Operand& y) {
  return structured(x, "structured_add", [&](const Operand& d) { return hypatia::add(d, y); });
}

Variable sp_sum(const Operand& x, std::optional<int> axis, bool sparse_grad) {
  const Variable v = sparse_input(x, "sp_sum");
  if (axis && *axis != 0 && *axis != 1 && *axis != -1 && *axis != -2)
    rethrow_with_location(ValueError("[sp_sum] axis " + std::to_string(*axis) + " is out of range for a matrix"), x.where());
  const int resolved = axis ? (*axis + 2) % 2 : -1;
  return apply_op1(std::make_shared<SpSum>(resolved, sparse_grad), {v}, x.where());
}

Variable sp_ones_like(const Operand& x) {
  return structured(x, "sp_ones_like", [](const Operand& d) { return ones_like(d); });
}
Variable sp_zeros_like(const Operand& x) { return apply_op1(std::make_shared<SpZerosLike>(), {sparse_input(x, "sp_zeros_like")}, x.where()); }
Variable remove0(const Operand& x) {
  return apply_op1(std::make_shared<Restructure>(Restructure::Kind::RemoveZeros), {sparse_input(x, "remove0")}, x.where());
}
Variable ensure_sorted_indices(const Operand& x) {
  return apply_op1(std::make_shared<Restructure>(Restructure::Kind::SortIndices), {sparse_input(x, "ensure_sorted_indices")}, x.where());
}
Variable clean(const Operand& x) { return ensure_sorted_indices(Operand(remove0(x), x.where())); }

namespace {
Variable stack(const std::vector<Variable>& blocks, int axis, std::optional<SparseFormat> format, std::optional<DType> dtype) {
  const char* name = axis == 0 ? "vstack" : "hstack";
  if (blocks.empty()) throw ValueError(std::string("[") + name + "] needs at least one block");
  DType promoted = sparse_input(blocks[0], name, "each block").dtype();
  for (const Variable& b : blocks) promoted = promote_types(promoted, sparse_input(b, name, "each block").dtype());
  return apply_op1(std::make_shared<SparseStack>(axis, format.value_or(format_of(blocks[0])), dtype.value_or(promoted)), blocks,
                   blocks[0].where());
}
}  // namespace

Variable hstack(const std::vector<Variable>& blocks, std::optional<SparseFormat> format, std::optional<DType> dtype) {
  return stack(blocks, 1, format, dtype);
}
Variable vstack(const std::vector<Variable>& blocks, std::optional<SparseFormat> format, std::optional<DType> dtype) {
  return stack(blocks, 0, format, dtype);
}

Variable square_diagonal(const Operand& diag) {
  return apply_op1(std::make_shared<SquareDiagonal>(), {dense_input(diag, "square_diagonal")}, diag.where());
}

Variable diag(const Operand& x) { return apply_op1(std::make_shared<SparseDiagonal>(), {sparse_input(x, "diag")}, x.where()); }

Variable get_item_2d(const Operand& x, std::optional<Operand> row_start, std::optional<Operand> row_stop,
                     std::optional<Operand> col_start, std::optional<Operand> col_stop) {
  const Variable v = sparse_input(x, "sparse getitem");
  return sparse_subtensor(v, IndexList({Index(slice(row_start, row_stop)), Index(slice(col_start, col_stop))}, x.where()));
}

Variable take(const Operand& x, const Operand& indices, int axis) {
  const Variable v = sparse_input(x, "sparse take");
  if (axis != 0 && axis != 1) rethrow_with_location(ValueError("[sparse take] axis must be 0 or 1"), x.where());
  return apply_op1(std::make_shared<SparseTake>(axis), {v, dense_input(indices, "sparse take", "the indices")}, x.where());
}

Variable get_item_scalar(const Operand& x, const Operand& i, const Operand& j) {
  const Variable v = sparse_input(x, "sparse getitem");
  const Variable one = apply_op1(std::make_shared<SparseWindow>(Window{AxisPick::Index, AxisPick::Index}),
                                 {v, i.as_variable(DType::Int64), j.as_variable(DType::Int64)}, x.where());
  return sp_sum(Operand(one, x.where()), std::nullopt, /*sparse_grad=*/true);
}

void verify_grad_sparse(const std::function<Variable(const std::vector<Variable>&)>& fn, const std::vector<Array>& point,
                        bool structured, const VerifyGradOptions& options) {
  // Each sparse point becomes a dense one (its values, or its dense form) and a way back to a sparse variable.
  std::vector<Array> dense_point;
  std::vector<std::function<Variable(const Variable&)>> back;
  for (const Array& p : point) {
    if (!p.is_sparse()) {
      dense_point.push_back(p);
      back.push_back([](const Variable& v) { return v; });
      continue;
    }
    const SparseArray& matrix = p.sparse();
    if (structured) {
      dense_point.push_back(matrix.data().copy());
      const Array indices = matrix.indices().copy(), indptr = matrix.indptr().copy();
      const Array shape = Array::from_vector<int64_t>({matrix.rows(), matrix.cols()});
      back.push_back([format = matrix.format(), indices, indptr, shape](const Variable& data) {
        return csm(format, data, constant(indices), constant(indptr), constant(shape));
      });
    } else {
      dense_point.push_back(matrix.to_dense());
      back.push_back([format = matrix.format()](const Variable& dense) {
        return format == SparseFormat::Csr ? csr_from_dense(dense) : csc_from_dense(dense);
      });
    }
  }
  hypatia::verify_grad(
      [&](const std::vector<Variable>& inputs) {
        std::vector<Variable> converted;
        for (size_t i = 0; i < inputs.size(); ++i) converted.push_back(back[i](inputs[i]));
        const Variable out = fn(converted);
        return out.is_sparse() ? dense_from_sparse(out, /*structured=*/false) : out;
      },
      dense_point, options);
}

}  // namespace sparse
}  // namespace hypatia
