// Gradients of the linear-algebra ops, written with public graph ops so they differentiate again (their
// forward-mode rules come from transposing these, Op::r_op). For real matrices; an op that reads one
// triangle of its input (cholesky, eigh, solve with a symmetric structure) gets its gradient in that triangle,
// which is what finite differences on the entries it reads see.
#include "hypatia/blas.h"
#include "ops/elemwise.h"
#include "hypatia/grad.h"
#include "hypatia/elemwise.h"
#include "hypatia/extra_ops.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "hypatia/subtensor.h"
#include "ops/blas.h"
#include "ops/linalg.h"
#include "ops/op_support.h"

namespace hypatia {
namespace {

int last(const Variable& x) { return x.ndim() - 1; }

// The output gradients, null where they are zero by construction (grad hands zeros to the outputs of a
// multi-output node that nothing depends on), so the pullbacks skip their terms.
std::vector<Variable> present(std::vector<Variable> grads) {
  for (Variable& g : grads)
    if (g && is_known_zero(g)) g = Variable();
  return grads;
}
Variable mT(const Variable& x) { return swap_last_two(x); }  // (the formulas' notation)
Variable mm(const Variable& a, const Variable& b) { return matmul(a, b); }

// (..., n) -> (..., n, n) with v on the diagonal.
Variable diag_matrix(const Variable& v) {
  return expand_dims(v, v.ndim() - 1) * eye(shape_i(v, last(v)), std::nullopt, 0, v.dtype());
}
Variable diagonal_of(const Variable& x) { return diagonal(x, 0, x.ndim() - 2, x.ndim() - 1); }
// A batch of scalars (...) against a batch of matrices (..., m, n).
Variable per_matrix(const Variable& s) { return expand_dims(expand_dims(s, s.ndim()), s.ndim() + 1); }
Variable identity_like_rows(const Variable& x) { return eye(shape_i(x, x.ndim() - 2), std::nullopt, 0, x.dtype()); }

// The gradient g of a symmetric matrix built from one triangle of the input: off the diagonal each read
// entry stands for two, so it collects g_ij + g_ji.
Variable fold_into_triangle(const Variable& g, bool lower) {
  const Variable both = g + mT(g);
  return (lower ? tril(both) : triu(both)) - diag_matrix(diagonal_of(g));
}

// 1 / (w_j - w_i) off the diagonal, 0 on it: the weights of the eigenvector (singular vector) gradients.
Variable inverse_gaps(const Variable& w) {
  const Variable gaps = expand_dims(w, w.ndim() - 1) - expand_dims(w, w.ndim());  // [i, j] = w_j - w_i
  const Variable on_diagonal = eye(shape_i(w, last(w)), std::nullopt, 0, DType::Bool);
  return where(on_diagonal, 0.0, 1.0 / where(on_diagonal, 1.0, gaps));
}

Variable outer_batched(const Variable& u, const Variable& v) {  // (..., m), (..., n) -> (..., m, n)
  return expand_dims(u, u.ndim()) * expand_dims(v, v.ndim() - 1);
}
Variable matvec(const Variable& a, const Variable& v) {  // (..., m, n), (..., n) -> (..., m)
  const Variable product = mm(a, expand_dims(v, v.ndim()));
  return squeeze(product, {product.ndim() - 1});
}

// The pseudo-inverse's pullback (Golub and Pereyra's derivative, where the rank does not change):
// A_bar = -X^T Xb X^T + (I - A X) Xb^T X X^T + X^T X Xb^T (I - X A), X = pinv(A).
Variable pinv_pullback(const Variable& a, const Variable& x, const Variable& xb) {
  const Variable xt = mT(x), xbt = mT(xb);
  const Variable left = identity_like_rows(a) - mm(a, x), right = identity_like_rows(x) - mm(x, a);
  return -mm(mm(xt, xb), xt) + mm(mm(left, xbt), mm(x, xt)) + mm(mm(xt, x), mm(xbt, right));
}

// The factored forms appear only when the linear_algebra rewrite compiles a graph, after its gradients.
[[noreturn]] void factored_has_no_gradient(const Apply& node) {
  throw NotImplementedError("[" + node.op().name() + "] the factored form (made by the linear_algebra rewrite) has no "
                            "gradient; differentiate the graph as built");
}

}  // namespace

std::vector<Variable> MatrixInverse::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  if (factored_) factored_has_no_gradient(node);
  const Variable x = node.output(0), xt = mT(x);
  return {unbroadcast_batch(-mm(mm(xt, output_grads[0]), xt), node.input(0))};
}

std::vector<Variable> Determinant::grad(const Apply& node, const std::vector<Variable>& given) const {
  if (factored_) factored_has_no_gradient(node);
  const Variable& a = node.input(0);
  const std::vector<Variable> output_grads = present(given);
  // d det = det tr(A^-1 dA); d log|det| = tr(A^-1 dA); the sign is piecewise constant.
  Variable scale = logarithm_ ? output_grads[1] : output_grads[0] * node.output(0);
  if (!scale) return {Variable()};
  return {unbroadcast_batch(per_matrix(scale) * mT(matrix_inverse(a)), a)};
}

namespace {

// The terms of a sum grad accumulated (its binary adds flattened).
void summands(const Variable& v, std::vector<Variable>& terms) {
  const auto* add = produced_by<Elemwise>(v);
  if (add && add->scalar_op().id == ScalarOpId::add && v.owner()->input(0).type().shape == v.type().shape &&
      v.owner()->input(1).type().shape == v.type().shape) {
    summands(v.owner()->input(0), terms);
    summands(v.owner()->input(1), terms);
  } else {
    terms.push_back(v);
  }
}

Variable sum_of(const Variable& a, const Variable& b) { return a ? a + b : b; }

// For lower L with A = L L^T: A_bar = L^-T Phi(L^T L_bar) L^-1, Phi taking the lower triangle and half the
// diagonal (Murray, "Differentiation of the Cholesky decomposition", 2016); symmetric, not yet folded.
Variable murray(const Variable& l, const Variable& lb) {
  const Variable p = mm(mT(l), lb);
  const Variable phi = tril(p) - 0.5 * diag_matrix(diagonal_of(p));
  const Variable z = solve_triangular(l, mT(phi), /*lower=*/true, /*transposed=*/true);
  return solve_triangular(l, mT(z), /*lower=*/true, /*transposed=*/true);
}

// FactorProductGrad and CholeskyInverse from public ops (their gradients differentiate these).
Variable factor_product_expanded(const Variable& a, const Variable& u, const Variable& v, bool lower, bool vector_rhs) {
  const Variable c = lower ? tril(a) : triu(a);
  Variable product;
  if (lower)
    product = vector_rhs ? outer_batched(u, matvec(mT(c), v)) + outer_batched(v, matvec(mT(c), u))
                         : mm(u, mm(mT(v), c)) + mm(v, mm(mT(u), c));
  else
    product = vector_rhs ? outer_batched(matvec(c, u), v) + outer_batched(matvec(c, v), u)
                         : mm(mm(c, u), mT(v)) + mm(mm(c, v), mT(u));
  return lower ? tril(-product) : triu(-product);
}
Variable cholesky_inverse_expanded(const Variable& l, const Variable& w) {
  Variable identity = identity_like_rows(l);
  while (identity.ndim() < l.ndim()) identity = expand_dims(identity, 0);  // (a matrix right-hand side, not vectors)
  const Variable inverse = solve_triangular(tril(l), identity, /*lower=*/true);
  return mm(mT(inverse), expand_dims(w, w.ndim()) * inverse);
}

// An op's gradient taken through its composition from public ops (`expand` of its inputs): pulled back
// with respect to stand-ins for the inputs, then put on the node's own inputs. (Pulled back with respect to
// the inputs themselves, an input computed from another would carry that path too, counted twice.)
template <class Expand>
std::vector<Variable> pulled_back(const Apply& node, const Variable& g, Expand expand) {
  std::vector<Variable> stand_ins;
  std::vector<std::pair<Variable, Variable>> back;
  for (const Variable& input : node.inputs()) {
    stand_ins.push_back(tensor(input.dtype(), input.type().shape, "input"));
    back.emplace_back(stand_ins.back(), input);
  }
  return clone_replace(Lop({expand(stand_ins)}, stand_ins, {g}, Disconnected::Ignore), back);
}

}  // namespace

std::vector<Variable> Cholesky::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  // Murray's steps cost O(n^3) whatever the output gradient. Two of its forms are the usual ones and have
  // cheaper answers, so the terms grad summed are looked at first (the formula is linear in them):
  // - a diagonal matrix diag(d), as sum(log(diag(L))) gives: L^-T diag(L_ii d_i / 2) L^-1 (CholeskyInverse);
  // - a solve's gradient with respect to the factor (FactorProductGrad(c, u, v)): a function of c c^T,
  //   whose gradient with respect to A is -u v^T.
  // The upper factor is U = L^T.
  const Variable& out = node.output(0);
  const Variable l = lower_ ? out : mT(out);
  std::vector<Variable> terms;
  summands(output_grads[0], terms);
  Variable weights, product, rest;
  for (const Variable& term : terms) {
    const auto* factor = produced_by<FactorProductGrad>(term);
    if (const Variable d = diagonal_matrix_values(term)) {
      // (d = g / diag(L), log's gradient, gives weights g / 2 without rounding L_ii (g_i / L_ii).)
      const auto* divide = produced_by<Elemwise>(d);
      const bool over_diagonal = divide && divide->scalar_op().id == ScalarOpId::true_div &&
                                 d.owner()->input(0).type().shape == d.type().shape &&
                                 d.owner()->input(1).type().shape == d.type().shape && is_main_diagonal_of(d.owner()->input(1), out);
      weights = sum_of(weights, (over_diagonal ? d.owner()->input(0) : diagonal_of(out) * d) * 0.5);
    } else if (factor && factor->lower() == lower_ && term.owner()->input(0).node() == out.node()) {
      const Variable &u = term.owner()->input(1), &v = term.owner()->input(2);
      product = sum_of(product, factor->vector_rhs() ? -outer_batched(u, v) : -mm(u, mT(v)));
    } else {
      rest = sum_of(rest, term);
    }
  }
  Variable a_bar;
  if (weights) a_bar = apply_op1(std::make_shared<CholeskyInverse>(), {l, weights});
  if (product) a_bar = sum_of(a_bar, product);
  if (rest) a_bar = sum_of(a_bar, murray(l, lower_ ? rest : mT(rest)));
  return {unbroadcast_batch(fold_into_triangle(a_bar, lower_), node.input(0))};
}

std::vector<Variable> CholeskyInverse::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  return pulled_back(node, output_grads[0], [](const std::vector<Variable>& x) { return cholesky_inverse_expanded(x[0], x[1]); });
}

std::vector<Variable> FactorProductGrad::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  return pulled_back(node, output_grads[0], [&](const std::vector<Variable>& x) {
    return factor_product_expanded(x[0], x[1], x[2], lower_, vector_rhs_);
  });
}

std::vector<Variable> Solve::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  if (factored_) factored_has_no_gradient(node);
  const Variable &a = node.input(0), &b = node.input(1), &x = node.output(0);
  const Variable& g = output_grads[0];
  const MatrixStructure structure = options_.structure;
  const bool triangular = structure == MatrixStructure::LowerTriangular || structure == MatrixStructure::UpperTriangular;
  // b_bar solves the transposed system; the symmetric structures are their own transposes.
  SolveOptions back = options_;
  if (structure == MatrixStructure::General || triangular) back.transposed = !options_.transposed;
  const Variable b_bar = apply_op1(std::make_shared<Solve>(back, vector_rhs_), {a, g});
  // The system matrix's gradient, M = -b_bar x^T, then onto what of `a` the op reads.
  const Variable m = vector_rhs_ ? -outer_batched(b_bar, x) : -mm(b_bar, mT(x));
  Variable a_bar;
  switch (structure) {
    case MatrixStructure::General: a_bar = options_.transposed ? mT(m) : m; break;
    case MatrixStructure::LowerTriangular:
    case MatrixStructure::UpperTriangular: {
      const Variable full = options_.transposed ? mT(m) : m;
      const int k = options_.unit_diagonal ? 1 : 0;
      a_bar = structure == MatrixStructure::LowerTriangular ? tril(full, -k) : triu(full, k);
      break;
    }
    case MatrixStructure::Symmetric:
    case MatrixStructure::PositiveDefinite: a_bar = fold_into_triangle(m, options_.lower); break;
    case MatrixStructure::CholeskyFactor:
      // The system is c c^T (lower) or c^T c (upper), c the triangle of `a` the op reads, so c_bar is
      // (M + M^T) c or c (M + M^T), M = -b_bar x^T, taken in O(n^2 k) by FactorProductGrad (which
      // Cholesky's gradient recognizes).
      a_bar = apply_op1(std::make_shared<FactorProductGrad>(options_.lower, vector_rhs_), {a, b_bar, x});
      break;
  }
  return {unbroadcast_batch(a_bar, a), unbroadcast_batch(b_bar, b, vector_rhs_ ? 1 : 2)};
}

std::vector<Variable> Eigh::grad(const Apply& node, const std::vector<Variable>& given) const {
  const std::vector<Variable> output_grads = present(given);
  const bool pencil = node.inputs().size() == 2;
  const Variable& wb = output_grads[0];
  const Variable vb = vectors_ ? output_grads[1] : Variable();
  if (pencil && vb)
    throw NotImplementedError("[eigh] no gradient for the eigenvectors of a generalized problem (a, b); the eigenvalues "
                              "have one");
  // The eigenvectors, from this node or a node computing them too.
  Variable w = node.output(0), v;
  if (vectors_) {
    v = node.output(1);
  } else {
    std::vector<Variable> both = apply_op(std::make_shared<Eigh>(lower_, true), node.inputs());
    w = both[0];
    v = both[1];
  }
  // Symmetric dA: dw = diag(V^T dA V), dV = V (F o (V^T dA V)), F_ij = 1/(w_j - w_i) (Theano's EighGrad).
  Variable inner;
  if (wb) inner = diag_matrix(wb);
  if (vb) {
    const Variable term = inverse_gaps(w) * mm(mT(v), vb);
    inner = inner ? inner + term : term;
  }
  if (!inner) return std::vector<Variable>(node.inputs().size());
  std::vector<Variable> grads{unbroadcast_batch(fold_into_triangle(mm(mm(v, inner), mT(v)), lower_), node.input(0))};
  if (pencil) {
    // A v = w B v with V^T B V = I: dw_i = v_i^T (dA - w_i dB) v_i.
    const Variable b_part = -mm(mm(v, diag_matrix(wb * w)), mT(v));
    grads.push_back(unbroadcast_batch(fold_into_triangle(b_part, lower_), node.input(1)));
  }
  return grads;
}

std::vector<Variable> Svd::grad(const Apply& node, const std::vector<Variable>& given) const {
  const std::vector<Variable> output_grads = present(given);
  const Variable& a = node.input(0);
  if (!uv_) {
    // ds = diag(U^T dA V).
    std::vector<Variable> usv = apply_op(std::make_shared<Svd>(false, true), {a});
    return {unbroadcast_batch(mm(usv[0] * expand_dims(output_grads[0], output_grads[0].ndim() - 1), usv[2]), a)};
  }
  Variable ub = output_grads[0], sb = output_grads[1], vtb = output_grads[2];
  const int64_t m = a.type().shape[a.ndim() - 2], n = a.type().shape[a.ndim() - 1];
  if (full_matrices_ && (ub || vtb) && !(m >= 0 && m == n))
    throw NotImplementedError("[svd] the gradient of u or vt with full_matrices=True is not unique (the extra columns are "
                              "arbitrary) unless the matrix is statically square; use full_matrices=False, input " +
                              a.type().str());
  // Townsend, "Differentiating the singular value decomposition" (2016), for U (m, k), V (n, k):
  // A_bar = U [(F o (U^T Ub - Ub^T U)) S + diag(sb) + S (F o (V^T Vb - Vb^T V))] V^T
  //         + (I - U U^T) Ub S^-1 V^T + U S^-1 Vb^T (I - V V^T),  F_ij = 1 / (s_j^2 - s_i^2).
  Variable u = node.output(0), s = node.output(1), vt = node.output(2);
  if (full_matrices_) {
    // The first k = min(m, n) columns of u and rows of vt are the reduced factors (all of them when square).
    const Operand k(shape_i(s, s.ndim() - 1));
    const IndexList columns({ellipsis, slice(std::nullopt, k)}), rows({ellipsis, slice(std::nullopt, k), slice_all()});
    u = u[columns];
    vt = vt[rows];
    if (ub) ub = ub[columns];
    if (vtb) vtb = vtb[rows];
  }
  const Variable v = mT(vt);
  const Variable f = inverse_gaps(sqr(s));
  const Variable s_row = expand_dims(s, s.ndim() - 1);  // scales columns: X S
  const Variable s_col = expand_dims(s, s.ndim());      // scales rows: S X
  Variable core;
  auto add = [&](Variable& total, const Variable& term) { total = total ? total + term : term; };
  if (sb) add(core, diag_matrix(sb));
  Variable extra;
  if (ub) {
    const Variable j = f * (mm(mT(u), ub) - mm(mT(ub), u));
    add(core, j * s_row);
    const Variable projected = ub - mm(u, mm(mT(u), ub));  // (I - U U^T) Ub
    add(extra, mm(projected / s_row, mT(v)));
  }
  if (vtb) {
    const Variable vb = mT(vtb);
    const Variable k = f * (mm(mT(v), vb) - mm(mT(vb), v));
    add(core, s_col * k);
    const Variable projected = vb - mm(v, mm(mT(v), vb));  // (I - V V^T) Vb
    add(extra, mm(u / s_row, mT(projected)));
  }
  if (!core && !extra) return {Variable()};
  Variable a_bar = core ? mm(mm(u, core), mT(v)) : Variable();
  if (extra) a_bar = a_bar ? a_bar + extra : extra;
  return {unbroadcast_batch(a_bar, a)};
}

std::vector<Variable> Qr::grad(const Apply& node, const std::vector<Variable>& given) const {
  const std::vector<Variable> output_grads = present(given);
  const Variable& a = node.input(0);
  if (mode_ == QrMode::Raw) throw NotImplementedError("[qr] mode 'raw' has no gradient; use 'reduced'");
  const int64_t m = a.type().shape[a.ndim() - 2], n = a.type().shape[a.ndim() - 1];
  if (mode_ == QrMode::Complete && !(m >= 0 && n >= 0 && m <= n))
    throw NotImplementedError("[qr] the gradient of mode 'complete' needs rows <= columns known statically (the extra "
                              "columns of q are arbitrary); use 'reduced', input " + a.type().str());
  Variable q, r, qb, rb;
  if (mode_ == QrMode::R) {
    std::vector<Variable> qr_outputs = apply_op(std::make_shared<Qr>(QrMode::Reduced), {a});
    q = qr_outputs[0];
    r = qr_outputs[1];
    rb = output_grads[0];
  } else {
    q = node.output(0);
    r = node.output(1);
    qb = output_grads[0];
    rb = output_grads[1];
  }
  if (!qb && !rb) return {Variable()};
  if (!qb) qb = zeros_like(q);
  if (!rb) rb = zeros_like(r);
  // A = [X Y] with X its first k = min(m, n) columns: X = Q U, Y = Q V, R = [U V]. Then
  // Y_bar = Q V_bar, and X_bar = (Qb' + Q copyltu(M)) U^-T with Qb' = Qb + Y V_bar^T, M = U Ub^T - Qb'^T Q,
  // copyltu(M) the symmetric matrix with M's lower triangle (Walter and Lehmann 2018; Y is empty when m >= n).
  const Variable k = shape_i(r, r.ndim() - 2);
  const std::vector<Index> front{ellipsis, slice(std::nullopt, Operand(k))}, back{ellipsis, slice(Operand(k), std::nullopt)};
  const Variable y_cols = a[IndexList({ellipsis, slice_all(), slice(Operand(k), std::nullopt)})];
  const Variable u = r[IndexList(front)], v = r[IndexList(back)];
  const Variable ub = rb[IndexList(front)], vb = rb[IndexList(back)];
  const Variable qb_all = qb + mm(y_cols, mT(vb));
  const Variable mmat = mm(u, mT(ub)) - mm(mT(qb_all), q);
  const Variable copyltu = tril(mmat, -1) + mT(tril(mmat, -1)) + diag_matrix(diagonal_of(mmat));
  const Variable rhs = qb_all + mm(q, copyltu);  // times U^-T: (U^-1 rhs^T)^T
  const Variable x_bar = mT(solve_triangular(u, mT(rhs), /*lower=*/false));
  const Variable y_bar = mm(q, vb);
  return {unbroadcast_batch(concatenate({x_bar, y_bar}, a.ndim() - 1), a)};
}

std::vector<Variable> Pinv::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  return {unbroadcast_batch(pinv_pullback(node.input(0), node.output(0), output_grads[0]), node.input(0))};
}

std::vector<Variable> Lstsq::grad(const Apply& node, const std::vector<Variable>& given) const {
  const std::vector<Variable> output_grads = present(given);
  for (size_t k = 1; k < output_grads.size(); ++k)
    if (output_grads[k])
      throw NotImplementedError("[lstsq] only the solution x has a gradient (not the residuals, rank or singular values)");
  const Variable &a = node.input(0), &b = node.input(1), &xb = output_grads[0];
  if (!xb) return {Variable(), Variable(), Variable()};
  // x = pinv(A) b where the rank does not change: b_bar = pinv(A)^T x_bar, and pinv(A)'s pullback of x_bar b^T.
  const Variable p = pinv(a);
  const Variable pb = vector_rhs_ ? outer_batched(xb, b) : mm(xb, mT(b));
  const Variable b_bar = matmul(mT(p), xb);
  return {pinv_pullback(a, p, pb), b_bar, Variable()};
}

std::vector<Variable> Expm::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  // The pullback is the Frechet derivative at A^T applied to G, the upper-right block of
  // expm([[A^T, G], [0, A^T]]) (Najfeld and Havel 1995), so higher derivatives are expm's again.
  const Variable& a = node.input(0);
  const Variable at = mT(cast(a, node.output(0).dtype())), g = output_grads[0];
  const int rows = a.ndim() - 2, cols = a.ndim() - 1;
  const Variable block = concatenate({concatenate({at, g}, cols), concatenate({zeros_like(at), at}, cols)}, rows);
  const Variable e = expm(block);
  const Variable n = shape_i(a, cols);
  const Variable corner = e[IndexList({ellipsis, slice(std::nullopt, Operand(n)), slice(Operand(n), std::nullopt)})];
  return {unbroadcast_batch(corner, a)};
}

}  // namespace hypatia
