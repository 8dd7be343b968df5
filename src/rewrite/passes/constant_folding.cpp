// Constant folding: what depends only on constants is computed once, at compile time.
#include <algorithm>
#include <new>
#include <unordered_map>

#include "hypatia/sparse_array.h"
#include "ops/op_support.h"
#include "rewrite/passes/passes.h"

namespace hypatia {
namespace {

// Larger results stay computed at run time: a constant is copied whenever an output would alias it, and
// folding alloc(0, 10000, 10000) would store what the program can make on demand.
constexpr int64_t kMaxFoldedElements = int64_t{1} << 16;

}  // namespace

std::vector<Variable> fold_node(const Apply& node, const std::vector<const Variable*>& values) {
  if (!node.op().constant_foldable()) return {};
  std::vector<Array> inputs;
  int64_t largest_input = 0;
  for (const Variable* value : values) {
    if (!value || !value->is_constant()) return {};
    inputs.push_back(value->constant_value());
    largest_input = std::max(largest_input, inputs.back().is_sparse() ? inputs.back().sparse().nnz() : inputs.back().size());
  }
  // A result known by its type to be too large is not computed at all.
  for (const Variable& out : node.outputs()) {
    int64_t size = 1;
    bool known = true;
    for (int64_t dim : out.type().shape) {
      if (dim == TensorType::kUnknown) known = false;
      else if (__builtin_mul_overflow(size, dim, &size)) return {};  // beyond int64: certainly too large
    }
    if (known && size > kMaxFoldedElements && size > largest_input) return {};
  }
  const std::optional<std::vector<Array>> computed = perform_at_compile_time(node, inputs);
  if (!computed) return {};
  const std::vector<Array>& outputs = *computed;
  for (size_t k = 0; k < outputs.size(); ++k)
    if (!node.output(k).type().accepts(outputs[k]) ||
        (outputs[k].size() > kMaxFoldedElements && outputs[k].size() > largest_input))
      return {};
  std::vector<Variable> result;
  for (size_t k = 0; k < outputs.size(); ++k) {
    Variable value = constant(outputs[k]);
    // The constant keeps the output's declared type (which may leave sizes unknown), so every reader
    // still type-checks, and errors name the line that built the node.
    value.node()->type = node.output(k).type();
    value.node()->where = node.where();
    value.set_name(node.output(k).name());
    result.push_back(value);
  }
  return result;
}

int fold_constants(FunctionGraph& graph) {
  // Values of the variables folded so far, so chains fold in one sweep; the graph changes once at the end.
  std::unordered_map<const VariableNode*, Variable> folded;
  std::vector<std::pair<Variable, Variable>> replacements;
  for (const auto& node : graph.nodes()) {
    std::vector<const Variable*> values;
    for (const Variable& input : node->inputs()) {
      auto it = folded.find(input.node());
      values.push_back(input.is_constant() ? &input : it == folded.end() ? nullptr : &it->second);
    }
    std::vector<Variable> outputs = fold_node(*node, values);
    for (size_t k = 0; k < outputs.size(); ++k) {
      folded.emplace(node->output(k).node(), outputs[k]);
      replacements.emplace_back(node->output(k), outputs[k]);
    }
  }
  graph.replace_all(replacements);
  return static_cast<int>(replacements.size());
}

}  // namespace hypatia
