// Merge (common subexpression elimination): one constant per value, one node per computation.
#include <cstring>
#include <unordered_map>

#include "hypatia/sparse_array.h"
#include "rewrite/passes/passes.h"

namespace hypatia {
namespace {

// Bit for bit: -0.0 and 0.0 stay apart (1 / x tells them apart), identical NaNs merge.
bool identical(const Array& a, const Array& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape() || a.format() != b.format()) return false;
  if (a.is_sparse())  // the same arrays (a matrix stored two ways is two constants)
    return identical(a.sparse().data(), b.sparse().data()) && identical(a.sparse().indices(), b.sparse().indices()) &&
           identical(a.sparse().indptr(), b.sparse().indptr());
  const Array ca = a.contiguous(), cb = b.contiguous();
  return a.size() == 0 || std::memcmp(ca.raw_data(), cb.raw_data(), static_cast<size_t>(a.size()) * a.itemsize()) == 0;
}

}  // namespace

int merge_duplicates(FunctionGraph& graph) {
  std::vector<std::pair<Variable, Variable>> replacements;
  std::unordered_map<const VariableNode*, Variable> kept;  // a merged variable -> the one that stays
  auto representative = [&](const Variable& v) {
    auto it = kept.find(v.node());
    return it == kept.end() ? v : it->second;
  };

  // Constants by a hash of their type and elements, then compared exactly.
  std::unordered_multimap<size_t, Variable> constants;
  for (const Variable& root : graph.roots()) {
    if (!root.is_constant()) continue;
    const Array& value = root.constant_value();
    size_t key = std::hash<std::string>()(root.type().str());
    const Array& elements = value.is_sparse() ? value.sparse().data() : value;
    for (int64_t k = 0; k < elements.size(); ++k) key = key * 1000003u ^ std::hash<double>()(elements.get_as_double(k));
    Variable same;
    auto [first, last] = constants.equal_range(key);
    for (auto it = first; it != last && !same; ++it)
      if (it->second.type() == root.type() && identical(it->second.constant_value(), value)) same = it->second;
    if (!same) {
      constants.emplace(key, root);
      continue;
    }
    kept.emplace(root.node(), same);
    replacements.emplace_back(root, same);
  }

  // Nodes in topological order, keyed by their op and their inputs' representatives.
  std::unordered_multimap<size_t, const Apply*> seen;
  for (const auto& node : graph.nodes()) {
    std::vector<const VariableNode*> inputs;
    size_t key = node->op().hash();
    for (const Variable& input : node->inputs()) {
      inputs.push_back(representative(input).node());
      key = key * 1000003u ^ std::hash<const void*>()(inputs.back());
    }
    const Apply* twin = nullptr;
    auto [first, last] = seen.equal_range(key);
    for (auto it = first; it != last && !twin; ++it) {
      const Apply& other = *it->second;
      if (!other.op().equals(node->op()) || other.inputs().size() != inputs.size()) continue;
      // Types were inferred when each node was built: twins by now may still promise different shapes.
      bool same_types = true;
      for (size_t k = 0; k < node->num_outputs(); ++k) same_types = same_types && other.output(k).type() == node->output(k).type();
      if (!same_types) continue;
      bool same_inputs = true;
      for (size_t i = 0; i < inputs.size(); ++i) same_inputs = same_inputs && representative(other.input(i)).node() == inputs[i];
      if (same_inputs) twin = &other;
    }
    if (!twin) {
      seen.emplace(key, node.get());
      continue;
    }
    for (size_t k = 0; k < node->num_outputs(); ++k) {
      kept.emplace(node->output(k).node(), twin->output(k));
      replacements.emplace_back(node->output(k), twin->output(k));
    }
  }
  graph.replace_all(replacements);
  return static_cast<int>(replacements.size());
}

}  // namespace hypatia
