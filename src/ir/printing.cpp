// debugprint (Theano's indented tree) and Graphviz output.
#include "hypatia/printing.h"

#include <optional>
#include <ostream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "ir/function_graph.h"

namespace hypatia {
namespace {

class TreePrinter {
 public:
  // `mode`: print inner graphs (scan's loop body) as that mode compiled them for `device` (null: the
  // CPU); null: as built.
  explicit TreePrinter(const Mode* mode = nullptr, const Device* device = nullptr) : mode_(mode), device_(device) {}
  std::string print(const std::vector<Variable>& outputs) {
    for (const Variable& out : outputs) visit(out, 0);
    // Inner graphs come after the outer one, each under the node that runs it (nested ones too).
    for (size_t k = 0; k < with_inner_.size(); ++k) {
      if (k == 0) out_ << "\nInner graphs:\n";
      const Apply* node = with_inner_[k];
      out_ << "\n" << node->op().str() << " [id " << id_of(node) << "]\n";
      for (const Variable& inner : node->op().inner_outputs(mode_, device_)) visit(inner, 1);
    }
    return out_.str();
  }

 private:
  // Short stable ids in order of first appearance: "A", "B", ..., "AA", ...
  std::string id_of(const void* key) {
    auto [it, inserted] = ids_.try_emplace(key, "");
    if (inserted) {
      size_t n = ids_.size() - 1;
      std::string id;
      do {
        id.insert(id.begin(), static_cast<char>('A' + n % 26));
        n = n / 26;
      } while (n-- > 0);
      it->second = id;
    }
    return it->second;
  }

  void visit(const Variable& v, int depth) {
    std::string indent(depth * 3, ' ');
    out_ << indent << (depth ? " |" : "");
    if (!v) {
      out_ << "<null>\n";
      return;
    }
    auto owner = v.owner();
    if (!owner) {
      if (v.is_constant()) out_ << "TensorConstant{" << v.str() << "}";
      else if (v.is_shared()) out_ << (v.name().empty() ? "<shared>" : v.name()) << " [shared]";
      else out_ << (v.name().empty() ? "<input>" : v.name());
      out_ << " [id " << id_of(v.node()) << "] " << v.type().str() << "\n";
      return;
    }
    out_ << owner->op().str();
    if (owner->num_outputs() > 1) out_ << ".out" << v.index();
    out_ << " [id " << id_of(owner.get()) << "] " << v.type().str();
    if (!v.name().empty()) out_ << " '" << v.name() << "'";
    bool repeated = !printed_.insert(owner.get()).second;
    if (repeated) {
      out_ << " (printed above)\n";
      return;
    }
    out_ << "\n";
    if (!owner->op().inner_outputs(nullptr).empty()) with_inner_.push_back(owner.get());
    for (const Variable& input : owner->inputs()) visit(input, depth + 1);
  }

  std::ostringstream out_;
  std::unordered_map<const void*, std::string> ids_;
  std::unordered_set<const Apply*> printed_;
  std::vector<const Apply*> with_inner_;
  const Mode* mode_;
  const Device* device_;
};

std::string dot_escape(const std::string& text) {
  std::string result;
  for (char c : text) {
    if (c == '"' || c == '\\') result += '\\';
    result += c;
  }
  return result;
}

}  // namespace

namespace {

struct Infix {
  const char* symbol;
  int precedence;  // higher binds tighter
};

// Elementwise ops that read better as operators; everything else prints as a call.
std::optional<Infix> infix_of(const std::string& op) {
  static const std::unordered_map<std::string, Infix> table = {
      {"pow", {"**", 5}},      {"mul", {"*", 3}},   {"true_div", {"/", 3}}, {"int_div", {"//", 3}},
      {"mod", {"%", 3}},       {"add", {"+", 2}},   {"sub", {"-", 2}},      {"lt", {"<", 1}},
      {"le", {"<=", 1}},       {"gt", {">", 1}},    {"ge", {">=", 1}},      {"eq", {"==", 1}},
      {"neq", {"!=", 1}},      {"logical_and", {"&", 0}}, {"logical_xor", {"^", 0}}, {"logical_or", {"|", 0}},
  };
  auto it = table.find(op);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

// Renders v; `context` is the precedence of the operator around it (parenthesize when looser).
std::string render_infix(const Variable& v, int context, int depth) {
  auto owner = v.owner();
  if (!owner || (!v.name().empty() && depth > 0)) return v.str();
  if (depth > 200) return "...";
  const Op& op = owner->op();
  const std::string name = op.name();
  const auto& inputs = owner->inputs();
  if (auto infix = infix_of(name); infix && inputs.size() == 2) {
    // Left-associative: the right operand needs parentheses at equal precedence (a - (b - c)).
    std::string text = render_infix(inputs[0], infix->precedence, depth + 1) + " " + infix->symbol + " " +
                       render_infix(inputs[1], infix->precedence + 1, depth + 1);
    return infix->precedence < context ? "(" + text + ")" : text;
  }
  if ((name == "neg" || name == "logical_not") && inputs.size() == 1) {
    std::string text = (name == "neg" ? "-" : "~") + render_infix(inputs[0], 4, depth + 1);
    return 4 < context ? "(" + text + ")" : text;
  }
  std::string text = op.str() + "(";
  for (size_t i = 0; i < inputs.size(); ++i) text += (i ? ", " : "") + render_infix(inputs[i], -1, depth + 1);
  text += ")";
  if (owner->num_outputs() > 1) text += "[" + std::to_string(v.index()) + "]";
  return text;
}

}  // namespace

std::string pprint(const Variable& output) { return output ? render_infix(output, -1, 0) : "<null>"; }

std::ostream& operator<<(std::ostream& os, const Variable& v) { return os << pprint(v); }

std::string debugprint(const std::vector<Variable>& outputs) { return TreePrinter().print(outputs); }
std::string debugprint(const Variable& output) { return debugprint(std::vector<Variable>{output}); }
std::string debugprint_compiled(const std::vector<Variable>& outputs, Mode mode, const Device& device) {
  return TreePrinter(&mode, &device).print(outputs);
}

std::string to_dot(const Variable& output) { return to_dot(std::vector<Variable>{output}); }

std::string to_dot(const std::vector<Variable>& outputs) {
  std::ostringstream out;
  out << "digraph hypatia {\n  rankdir=BT;\n";
  std::unordered_map<const void*, std::string> names;
  auto name_of = [&](const void* key, const std::string& prefix) {
    auto [it, inserted] = names.try_emplace(key, prefix + std::to_string(names.size()));
    return it->second;
  };
  std::unordered_set<const VariableNode*> declared;
  auto declare_variable = [&](const Variable& v) {
    std::string id = name_of(v.node(), "v");
    if (declared.insert(v.node()).second) {
      std::string shape = v.is_constant() ? "box" : v.is_shared() ? "doubleoctagon" : "ellipse";
      std::string color = v.owner() ? "" : v.is_constant() ? ", style=filled, fillcolor=lightgrey"
                                                           : ", style=filled, fillcolor=lightblue";
      out << "  " << id << " [label=\"" << dot_escape(v.str() + "\\n" + v.type().str()) << "\", shape=" << shape
          << color << "];\n";
    }
    return id;
  };
  for (const auto& node : toposort(outputs)) {
    std::string op_id = name_of(node.get(), "op");
    out << "  " << op_id << " [label=\"" << dot_escape(node->op().str()) << "\", shape=box, style=rounded];\n";
    for (size_t i = 0; i < node->inputs().size(); ++i)
      out << "  " << declare_variable(node->input(i)) << " -> " << op_id << " [label=\"" << i << "\"];\n";
    for (const Variable& output : node->outputs()) out << "  " << op_id << " -> " << declare_variable(output) << ";\n";
  }
  for (const Variable& output : outputs) declare_variable(output);
  out << "}\n";
  return out.str();
}

}  // namespace hypatia
