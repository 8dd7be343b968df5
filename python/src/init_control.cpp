// Loops and branches (scan, ifelse). The Python package normalizes Theano's many argument forms; fn
// arrives here returning (outputs, updates, until condition or None).
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "bindings.h"

namespace hypatia::python {

void init_control(nb::module_& m) {
  // sequences: [(input, taps)], outputs_info: [(initial or None, taps)].
  m.def("scan", [](nb::callable fn, const std::vector<std::pair<Variable, std::vector<int>>>& sequences,
                   const std::vector<std::pair<std::optional<Variable>, std::vector<int>>>& outputs_info,
                   const std::vector<Variable>& non_sequences, nb::handle n_steps, int truncate_gradient,
                   bool go_backwards, bool strict, const std::string& name, bool last_only) {
    std::vector<Sequence> seqs;
    for (const auto& [input, taps] : sequences) seqs.emplace_back(input, taps);
    std::vector<OutputInfo> infos;
    for (const auto& [initial, taps] : outputs_info) {
      OutputInfo info;
      if (initial) info = OutputInfo(*initial, taps);
      infos.push_back(info);
    }
    ScanOptions options;
    if (!n_steps.is_none()) options.n_steps = to_operand(n_steps);
    options.truncate_gradient = truncate_gradient;
    options.go_backwards = go_backwards;
    options.strict = strict;
    options.name = name;
    auto step = [&fn](const std::vector<Variable>& args) {
      nb::list py_args;
      for (const Variable& v : args) py_args.append(nb::cast(v));
      nb::tuple returned = nb::cast<nb::tuple>(fn(*py_args));
      auto outputs = nb::cast<std::vector<Variable>>(returned[0]);
      auto updates = nb::cast<std::vector<std::pair<Variable, Variable>>>(returned[1]);
      Variable until = returned[2].is_none() ? Variable() : to_variable(returned[2]);
      Updates shared_updates;
      for (const auto& [target, value] : updates) {
        if (!target.is_shared())
          throw TypeError("[scan] '" + std::string(target.name()) + "' is updated by fn but is not a shared variable");
        shared_updates.emplace_back(SharedVariable(target), value);
      }
      return ScanStep(outputs, shared_updates, until);
    };
    // reduce keeps only the last rows of its states; its outputs are the values after the last step.
    ScanResult result = last_only ? reduce(step, seqs, infos, non_sequences, options) : scan(step, seqs, infos, non_sequences, options);
    return std::make_pair(result.outputs, result.updates);
  }, nb::arg("fn"), nb::arg("sequences"), nb::arg("outputs_info"), nb::arg("non_sequences"), nb::arg("n_steps").none(),
     nb::arg("truncate_gradient"), nb::arg("go_backwards"), nb::arg("strict"), nb::arg("name"), nb::arg("last_only"),
     kUserLine);
  m.def("ifelse", [](nb::handle condition, nb::handle then_branch, nb::handle else_branch) -> nb::object {
    const bool many = nb::isinstance<nb::list>(then_branch) || nb::isinstance<nb::tuple>(then_branch);
    if (!many) return nb::cast(ifelse(to_operand(condition), to_operand(then_branch), to_operand(else_branch)));
    std::vector<Variable> thens, elses;
    for (nb::handle v : then_branch) thens.push_back(to_variable(v));
    for (nb::handle v : else_branch) elses.push_back(to_variable(v));
    return nb::cast(ifelse(to_operand(condition), thens, elses));
  }, nb::arg("condition"), nb::arg("then_branch"), nb::arg("else_branch"), kUserLine);
}

}  // namespace hypatia::python
