// Compiled functions: function(inputs, outputs, updates, givens).
#pragma once
#include <memory>
#include <utility>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

using Updates = std::vector<std::pair<SharedVariable, Variable>>;
using Givens = std::vector<std::pair<Variable, Variable>>;

// What to do with an input no output or update depends on (Theano raises: it is usually a mistake).
enum class UnusedInput { Raise, Warn, Ignore };

struct FunctionOptions {
  UnusedInput on_unused_input = UnusedInput::Raise;
};

class Program;

class Function {
 public:
  Function() = default;
  // Runs the function. Updates are computed from the values before the call and applied after
  // every output is computed; if anything throws, no shared variable changes.
  std::vector<Array> operator()(const std::vector<Array>& inputs) const;
  // The compiled graph, Theano's debugprint style.
  std::string debugprint() const;
  size_t num_inputs() const;
  size_t num_outputs() const;

 private:
  friend Function function(const std::vector<Variable>&, const std::vector<Variable>&, const Updates&,
                           const Givens&, const FunctionOptions&, std::source_location);
  std::shared_ptr<Program> program_;
};

Function function(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs,
                  const Updates& updates = {}, const Givens& givens = {}, const FunctionOptions& options = {},
                  std::source_location where = std::source_location::current());

// Evaluates `outputs` once, with `inputs` bound to the given arrays (Theano's Variable.eval).
std::vector<Array> eval(const std::vector<Variable>& outputs,
                        const std::vector<std::pair<Variable, Array>>& inputs = {});
Array eval(const Variable& output, const std::vector<std::pair<Variable, Array>>& inputs = {});

}  // namespace hypatia
