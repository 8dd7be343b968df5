// Products with sparse matrices: Theano's structured_dot, dot, true_dot and sampling_dot, with the sampled
// dense product (SDDMM) their gradients and sampling_dot share.
#include "hypatia/blas.h"
#include "hypatia/elemwise.h"
#include "hypatia/grad.h"
#include "hypatia/shape_ops.h"
#include "ir/serialize.h"
#include "ops/op_support.h"
#include "ops/sparse.h"
#include "ops/sparse_kernels.h"

namespace hypatia {
namespace {

using namespace sparse_ops;

// The inner dimensions of a product must agree (statically where known, and when it runs).
void check_inner(const TensorType& a, const TensorType& b, const std::string& op) {
  const int64_t k = a.shape.back(), l = b.shape.front();
  if (k != TensorType::kUnknown && l != TensorType::kUnknown && k != l)
    throw ShapeError("[" + op + "] the inner dimensions differ: " + a.str() + " @ " + b.str());
}
void check_inner(const Array& a, const Array& b, const std::string& op) {
  if (a.shape().back() != b.shape().front())
    throw ShapeError("[" + op + "] the inner dimensions differ: " + a.shape_dtype_str() + " @ " + b.shape_dtype_str());
}

// (x @ y.T) at p's stored positions: x (m, k), y (n, k) dense, p (m, n) sparse; a vector of p's values' layout.
class SampledProduct : public Op {
 public:
  std::string name() const override { return "sampled_product"; }
  bool takes_sparse(int input) const override { return input == 2; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = dense_input(inputs.at(0), "sampling_dot", "x"), y = dense_input(inputs.at(1), "sampling_dot", "y");
    const Variable p = sparse_input(inputs.at(2), "sampling_dot", "p");
    if (x.ndim() != 2 || y.ndim() != 2) throw TypeError("[sampling_dot] x and y must be matrices, got " + shapes_str(inputs));
    check_inner(x.type(), TensorType(y.dtype(), {y.type().shape[1]}), "sampling_dot");
    return {TensorType(promote_types(x.dtype(), y.dtype()), {TensorType::kUnknown})};
  }
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array &x = inputs[0], &y = inputs[1];
    const SparseArray& p = inputs[2].sparse();
    if (x.shape()[1] != y.shape()[1] || x.shape()[0] != p.rows() || y.shape()[0] != p.cols())
      throw ShapeError("[sampling_dot] x " + x.shape_dtype_str() + ", y " + y.shape_dtype_str() + " and p " + p.shape_dtype_str() +
                       " do not fit: x @ y.T must have p's shape");
    outputs[0] = sparse_kernels::sampled_product(x, y, p, node.output(0).dtype());
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    const Variable &x = node.input(0), &y = node.input(1), &p = node.input(2);
    const Variable scattered = sparse::with_data(p, g[0]);  // the values as a matrix with p's structure
    return {is_inexact(x.dtype()) ? sparse::structured_dot(scattered, y) : Variable(),
            is_inexact(y.dtype()) ? sparse::structured_dot(sparse::transpose(scattered), x) : Variable(), Variable()};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>&) const override {
    return {{shape_i(node.output(0), 0)}};
  }
  std::string save() const override { return OpWriter("sampled_product").bytes(); }
};

Variable sampled_product(const Variable& x, const Variable& y, const Variable& p) {
  return apply_op1(std::make_shared<SampledProduct>(), {x, y, p}, p.where());
}

// A product with at least one sparse operand. Structured (Theano's StructuredDot): a sparse a times a dense or
// sparse b, the result dense or sparse like b, a's gradient structured. Dense (Theano's Dot): either operand
// sparse, the result and the gradients dense. A dense operand may be a vector.
class SparseDot : public Op {
 public:
  explicit SparseDot(bool structured) : structured_(structured) {}
  bool structured() const { return structured_; }
  std::string name() const override { return structured_ ? "structured_dot" : "sparse_dot"; }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable &a = inputs.at(0), &b = inputs.at(1);
    if (!a.is_sparse() && !b.is_sparse()) throw TypeError("[" + name() + "] needs a sparse operand, got " + shapes_str(inputs));
    if (structured_ && !a.is_sparse()) throw TypeError("[structured_dot] the first operand must be sparse, got " + shapes_str(inputs));
    for (const Variable* v : {&a, &b})
      if (v->ndim() != 2 && (v->is_sparse() || v->ndim() != 1))
        throw TypeError("[" + name() + "] takes matrices and vectors, got " + shapes_str(inputs));
    check_inner(a.type(), b.type(), name());
    const DType dtype = promote_types(a.dtype(), b.dtype());
    std::vector<int64_t> shape;
    if (a.ndim() == 2) shape.push_back(a.type().shape[0]);
    if (b.ndim() == 2) shape.push_back(b.type().shape[1]);
    if (structured_ && b.is_sparse()) return {TensorType::sparse(dtype, format_of(a), shape)};
    return {TensorType(dtype, shape)};
  }
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array &a = inputs[0], &b = inputs[1];
    check_inner(a, b, name());
    const DType dtype = node.output(0).dtype();
    if (a.is_sparse() && b.is_sparse()) {
      const SparseArray product = sparse_kernels::sparse_product(a.sparse(), b.sparse(), a.sparse().format(), dtype);
      outputs[0] = node.output(0).is_sparse() ? sparse_value(product) : product.to_dense();
    } else if (a.is_sparse()) {
      outputs[0] = sparse_kernels::sparse_dense_product(a.sparse(), b, dtype);
    } else {
      outputs[0] = a.ndim() == 1 ? sparse_kernels::dense_sparse_product(a.reshape({1, a.size()}), b.sparse(), dtype).reshape({b.shape()[1]})
                                 : sparse_kernels::dense_sparse_product(a, b.sparse(), dtype);
    }
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override;
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const override {
    std::vector<Variable> dims;
    if (node.input(0).ndim() == 2) dims.push_back(shapes[0][0]);
    if (node.input(1).ndim() == 2) dims.push_back(shapes[1][1]);
    return {dims};
  }
  std::string save() const override {
    OpWriter out("sparse_dot");
    out.flag(structured_);
    return out.bytes();
  }

 private:
  bool structured_;
};

// The outer product u v^T of two vectors, dense.
Variable outer(const Variable& u, const Variable& v) { return dimshuffle(u, {0, kNewAxis}) * dimshuffle(v, {kNewAxis, 0}); }

// a^T for a sparse matrix or a dense one (a vector is its own transpose here).
Variable transposed(const Variable& a) {
  if (a.is_sparse()) return sparse::transpose(a);
  return a.ndim() == 2 ? hypatia::transpose(a) : a;
}

// The product a @ b by whichever op fits its operands.
Variable any_dot(const Variable& a, const Variable& b) {
  if (!a.is_sparse() && !b.is_sparse()) return dot(a, b);
  return sparse::dot(a, b);
}

std::vector<Variable> SparseDot::grad(const Apply& node, const std::vector<Variable>& g) const {
  const Variable &a = node.input(0), &b = node.input(1), &gz = g[0];
  Variable ga, gb;
  if (structured_) {
    if (is_inexact(a.dtype())) {
      if (!b.is_sparse()) {
        // dL/da at a's positions (i, k): sum_j gz[i, j] b[k, j], the sampled product of gz and b.
        const Variable gz2 = gz.ndim() == 1 ? dimshuffle(gz, {0, kNewAxis}) : gz, b2 = b.ndim() == 1 ? dimshuffle(b, {0, kNewAxis}) : b;
        ga = sparse::with_data(a, sampled_product(gz2.is_sparse() ? sparse::dense_from_sparse(gz2) : gz2, b2, a));
      } else {
        ga = sparse::mul(sparse::sp_ones_like(a), sparse::structured_dot(gz.is_sparse() ? gz : sparse::csr_from_dense(gz), sparse::transpose(b)));
      }
    }
    if (is_inexact(b.dtype())) gb = sparse::structured_dot(sparse::transpose(a), gz);
    if (gb && b.is_sparse()) gb = in_format(gb.is_sparse() ? gb : sparse::csr_from_dense(gb), format_of(b));
    return {ga, gb};
  }
  // Theano's Dot: gradients dense; vectors' gradients are outer products.
  if (is_inexact(a.dtype())) {
    if (a.ndim() == 2 && b.ndim() == 1) ga = outer(gz, b);  // a sparse operand is a matrix: b is dense
    else ga = any_dot(gz, transposed(b));
  }
  if (is_inexact(b.dtype())) {
    if (b.ndim() == 2 && a.ndim() == 1) gb = outer(a, gz);
    else gb = any_dot(transposed(a), gz);
  }
  return {ga, gb};
}

// Theano's TrueDot: sparse x times y (sparse or a dense matrix), the result sparse in x's format; the gradient
// of x is the full product gz @ y.T, not only its values at x's positions.
class TrueDot : public Op {
 public:
  explicit TrueDot(bool grad_preserves_dense) : grad_preserves_dense_(grad_preserves_dense) {}
  std::string name() const override { return "true_dot"; }
  std::string props() const override { return grad_preserves_dense_ ? "grad_preserves_dense" : ""; }
  bool takes_sparse(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable x = sparse_input(inputs.at(0), "true_dot", "x");
    const Variable& y = inputs.at(1);
    if (y.ndim() != 2) throw TypeError("[true_dot] y must be a matrix, got " + y.type().str());
    check_inner(x.type(), y.type(), "true_dot");
    return {TensorType::sparse(promote_types(x.dtype(), y.dtype()), format_of(x), {x.type().shape[0], y.type().shape[1]})};
  }
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array &x = inputs[0], &y = inputs[1];
    check_inner(x, y, "true_dot");
    const DType dtype = node.output(0).dtype();
    const SparseFormat format = x.sparse().format();
    outputs[0] = sparse_value(y.is_sparse() ? sparse_kernels::sparse_product(x.sparse(), y.sparse(), format, dtype)
                                            : SparseArray::from_dense(sparse_kernels::sparse_dense_product(x.sparse(), y, dtype), format));
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    const Variable &x = node.input(0), &y = node.input(1);
    const Variable gz = g[0].is_sparse() ? g[0] : sparse::csr_from_dense(g[0]);
    Variable gx, gy;
    if (is_inexact(x.dtype())) gx = in_format(sparse::true_dot(gz, transposed(y), grad_preserves_dense_), format_of(x));
    if (is_inexact(y.dtype())) {
      gy = sparse::true_dot(sparse::transpose(x), gz, grad_preserves_dense_);
      gy = y.is_sparse() ? in_format(gy, format_of(y)) : grad_preserves_dense_ ? sparse::dense_from_sparse(gy, false) : gy;
    }
    return {gx, gy};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {{shapes[0][0], shapes[1][1]}};
  }
  std::string save() const override {
    OpWriter out("true_dot");
    out.flag(grad_preserves_dense_);
    return out.bytes();
  }

 private:
  bool grad_preserves_dense_;
};

// z + alpha * a @ b: a sparse, z and b dense matrices, alpha a scalar (Theano's Usmm).
class Usmm : public Op {
 public:
  std::string name() const override { return "usmm"; }
  bool takes_sparse(int input) const override { return input == 2; }
  int destination_input() const override { return 0; }
  bool reads_on_host(int input) const override { return input == 1; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable &z = inputs.at(0), &alpha = inputs.at(1), &b = inputs.at(3);
    const Variable a = sparse_input(inputs.at(2), "usmm", "a");
    if (z.ndim() != 2 || b.ndim() != 2 || alpha.ndim() != 0 || z.is_sparse() || b.is_sparse())
      throw TypeError("[usmm] takes a dense matrix z, a scalar alpha, a sparse a and a dense matrix b, got " + shapes_str(inputs));
    check_inner(a.type(), b.type(), "usmm");
    return {z.type()};
  }
  std::optional<Shape> result_shape(const Apply&, std::span<const Array> inputs) const override {
    check(inputs);
    return inputs[0].shape();
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    check(inputs);
    const Array& z = inputs[0];
    // In place when the program hands over z's own buffer (an update of z), else on a copy.
    const bool in_place = outputs[0].shares_storage_with(z) && outputs[0].shape() == z.shape() && z.is_contiguous() &&
                          outputs[0].raw_data() == z.raw_data() && !inputs[3].shares_storage_with(z);
    Array out = in_place ? outputs[0] : z.copy();
    sparse_kernels::add_product(out, inputs[1].get_as_double(0), inputs[2].sparse(), inputs[3]);
    outputs[0] = std::move(out);
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& g) const override {
    // The composition it stands for: z + alpha * structured_dot(a, b).
    const Variable &z = node.input(0), &alpha = node.input(1), &a = node.input(2), &b = node.input(3);
    const Variable stand_ins[] = {tensor(z.dtype(), z.type().shape), tensor(alpha.dtype(), {}), sparse::matrix(format_of(a), "", a.dtype()),
                                  tensor(b.dtype(), b.type().shape)};
    const Variable composed = stand_ins[0] + stand_ins[1] * sparse::structured_dot(stand_ins[2], stand_ins[3]);
    std::vector<Variable> grads = Lop({composed}, {stand_ins[0], stand_ins[1], stand_ins[2], stand_ins[3]}, {g[0]}, Disconnected::Ignore);
    std::vector<std::pair<Variable, Variable>> real{{stand_ins[0], z}, {stand_ins[1], alpha}, {stand_ins[2], a}, {stand_ins[3], b}};
    for (Variable& grad : grads)
      if (grad) grad = clone_replace({grad}, real)[0];
    return grads;
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  std::string save() const override { return OpWriter("usmm").bytes(); }

 private:
  static void check(std::span<const Array> inputs) {
    const SparseArray& a = inputs[2].sparse();
    const Array &z = inputs[0], &b = inputs[3];
    if (a.cols() != b.shape()[0] || z.shape() != Shape{a.rows(), b.shape()[1]})
      throw ShapeError("[usmm] z " + z.shape_dtype_str() + " + a " + a.shape_dtype_str() + " @ b " + b.shape_dtype_str() +
                       ": the shapes do not fit");
  }
};

}  // namespace

bool is_sparse_dense_product(const Apply& node) {
  const auto* product = dynamic_cast<const SparseDot*>(&node.op());
  return product && product->structured() && node.input(0).is_sparse() && !node.input(1).is_sparse() && node.input(1).ndim() == 2;
}

bool is_usmm(const Apply& node) { return dynamic_cast<const Usmm*>(&node.op()) != nullptr; }

Variable usmm(const Variable& z, const Variable& alpha, const Variable& a, const Variable& b, CodeLocation where) {
  return apply_op1(std::make_shared<Usmm>(), {z, alpha, a, b}, where);
}

void register_sparse_dot_loaders(OpLoaders& loaders) {
  loaders["usmm"] = [](OpReader&) -> OpPtr { return std::make_shared<Usmm>(); };
  loaders["sampled_product"] = [](OpReader&) -> OpPtr { return std::make_shared<SampledProduct>(); };
  loaders["sparse_dot"] = [](OpReader& in) -> OpPtr { return std::make_shared<SparseDot>(in.flag()); };
  loaders["true_dot"] = [](OpReader& in) -> OpPtr { return std::make_shared<TrueDot>(in.flag()); };
}

namespace sparse {

Variable structured_dot(const Operand& x, const Operand& y) {
  return at_location(x.where(), [&] {
    const auto [a, b] = operand_pair(x, y);
    if (a.is_sparse()) return apply_op1(std::make_shared<SparseDot>(true), {a, b}, x.where());
    if (!b.is_sparse()) throw TypeError("[structured_dot] needs a sparse operand, got " + shapes_str({a, b}));
    // dense @ sparse = (sparse.T @ dense.T).T: transposes of both kinds cost nothing.
    if (a.ndim() == 1) return apply_op1(std::make_shared<SparseDot>(true), {sparse::transpose(b), a}, x.where());
    return hypatia::transpose(apply_op1(std::make_shared<SparseDot>(true), {sparse::transpose(b), hypatia::transpose(a)}, x.where()));
  });
}

Variable dot(const Operand& x, const Operand& y) {
  return at_location(x.where(), [&] {
    const auto [a, b] = operand_pair(x, y);
    return apply_op1(std::make_shared<SparseDot>(false), {a, b}, x.where());
  });
}

Variable true_dot(const Operand& x, const Operand& y, bool grad_preserves_dense) {
  return at_location(x.where(), [&] {
    const auto [a, b] = operand_pair(x, y);
    if (a.is_sparse()) return apply_op1(std::make_shared<TrueDot>(grad_preserves_dense), {a, b}, x.where());
    if (!b.is_sparse()) throw TypeError("[true_dot] needs a sparse operand, got " + shapes_str({a, b}));
    return sparse::transpose(apply_op1(std::make_shared<TrueDot>(grad_preserves_dense), {sparse::transpose(b), hypatia::transpose(a)}, x.where()));
  });
}

Variable sampling_dot(const Operand& x, const Operand& y, const Operand& p) {
  return at_location(x.where(), [&] {
    const Variable a = dense_input(x, "sampling_dot", "x"), b = dense_input(y, "sampling_dot", "y");
    const Variable pattern = sparse_input(p, "sampling_dot", "p");
    const Variable values = csm_data(pattern) * sampled_product(a, b, pattern);
    return with_data(Operand(pattern, x.where()), Operand(values, x.where()));
  });
}

}  // namespace sparse
}  // namespace hypatia
