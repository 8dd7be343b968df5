// The rewrite passes, one file each; pipeline.cpp runs them in order. Each returns how many changes
// it made, and keeps every output's type.
#pragma once
#include "ir/function_graph.h"

namespace hypatia {

// merge.cpp: equal constants become one, and equal ops applied to the same inputs become one node (CSE).
int merge_duplicates(FunctionGraph& graph);

// constant_folding.cpp: nodes whose inputs are all constants are computed now and become constants
// (unless the result would be large, or computing it fails: the error then comes at call time).
int fold_constants(FunctionGraph& graph);
// One node's outputs as constants, given its inputs' constant values (a null entry: not a constant);
// empty when it cannot be folded. canonicalize folds with it too, so simplifications and folding meet.
std::vector<Variable> fold_node(const Apply& node, const std::vector<const Variable*>& values);

// canonicalize.cpp: algebraic simplifications that keep values exactly: x * 1, x + 0, x - 0, x / 1,
// x ** 1, -(-x), casts to the same dtype, second(a, b) that broadcasts nothing, identity dimshuffles,
// dimshuffles of dimshuffles, reshapes to x's own shape, integer x - x, shape_i of a computed value
// from its op's infer_shape, f(x.T, y.T) as f(x, y).T, ifelse with a constant condition as its
// branch; constants gathered in sums and products
// ((x * 2) * 3 is x * 6: exact for integers, within rounding for floats); and constant folding, to
// equilibrium.
int canonicalize(FunctionGraph& graph);

// zeros.cpp: zeros by construction (gradients through floor, integer division, zero_grad) cost nothing:
// 0 * x, 0 / x, sum(0), dot(0, x) are zeros of the result's shape; x + 0, x - 0, inc_subtensor(x, 0) are x;
// inc_subtensor(zeros, v, idx)[idx] is v (NaNs and infinities in x are not kept through a product with zero,
// as in Theano).
int fold_zeros(FunctionGraph& graph);

// scan_outputs.cpp: a loop's outputs that are not fed back and that nothing reads leave the loop; a
// fed-back output read only at its last rows (x[-1], x[L:][-1]) keeps only those rows, not one per step.
int trim_scan_outputs(FunctionGraph& graph);

// stabilize.cpp: forms that overflow or round to nothing become stable ones: 1 / (1 + exp(t)) is
// sigmoid(-t), 1 - sigmoid(x) is sigmoid(-x), log(sigmoid(x)) is -softplus(-x), log(1 + x) is log1p(x),
// exp(x) - 1 is expm1(x), log(sum(exp(x))) is logsumexp(x), log(softmax(x)) is log_softmax(x), the
// cross-entropy of a softmax is one fused op on the logits.
int stabilize(FunctionGraph& graph);

// linalg.cpp: dot(inv(A), b) and its kin are solves; a solve with a Cholesky factor is triangular; det of a
// Cholesky factor is its diagonal's product; inv(inv(A)) is A; log(det(A)) is read from slogdet (no overflow);
// solves, determinants and inverses of one matrix share one LU factorization.
int rewrite_linear_algebra(FunctionGraph& graph);

// specialize.cpp: general ops with particular arguments become cheaper ones with the same values:
// x ** 2 is sqr(x), x ** -1 reciprocal, x ** 3 and x ** 4 products (within rounding for floats);
// z + a * dot(x, y) and its variants are one GEMM; sums of products that are matrix or vector
// products (sum(u * v), sum(A * v[None, :], 1), sum(X[:, :, None] * Y[None, :, :], 1)) are dots.
int specialize(FunctionGraph& graph);

// conv_epilogue.cpp: a per-channel bias added to a forward convolution's result, and a relu, tanh or sigmoid
// of it, become part of the convolution (its epilogue), applied as the library writes the result.
int fuse_convolution_epilogues(FunctionGraph& graph);

// fusion.cpp: chains of elementwise nodes become FusedElemwise nodes (one loop, no intermediate arrays);
// a member whose result is read elsewhere too is a further output of the loop.
int fuse_elementwise(FunctionGraph& graph);
// fusion.cpp: a sum, product, max or min of an elementwise result nothing else reads becomes one
// FusedReduce node (the values are reduced as they are computed).
int fuse_reductions(FunctionGraph& graph);

}  // namespace hypatia
