// Compiled functions called from Python: positional or named inputs, defaults, Theano's rules for
// converting values to the inputs' dtypes, and NumPy arrays out.
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <thread>
#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

#include "bindings.h"
#include "hypatia/config.h"
#include "hypatia/device.h"

namespace hypatia::python {
namespace {

// How one input takes values (Theano's In): by name, with a default, and how strictly typed.
struct InputSpec {
  Variable variable;
  std::string name;
  nb::object default_value;           // None: the input must be given
  std::optional<bool> allow_downcast;  // unset: Theano's default rules
  bool strict = false;                 // only NumPy arrays of exactly the input's dtype
  int update_output = -1;              // In(update=...): the output whose value becomes the default after each call
};

class PythonFunction {
 public:
  PythonFunction(Function function, std::vector<InputSpec> inputs, DType floatx, bool unpack_single, size_t num_outputs)
      : function_(std::move(function)), inputs_(std::move(inputs)), floatx_(floatx), unpack_single_(unpack_single),
        num_outputs_(num_outputs) {}

  size_t num_outputs() const { return num_outputs_; }

  nb::object call(nb::args args, nb::kwargs kwargs) {
    const size_t n = inputs_.size();
    if (args.size() > n)
      throw nb::type_error(("[function] takes " + std::to_string(n) + " inputs, got " + std::to_string(args.size()))
                               .c_str());
    std::vector<Array> values(n);
    std::vector<bool> given(n, false);
    for (size_t i = 0; i < args.size(); ++i) {
      values[i] = take(args[i], i, [i] { return "[function] input " + std::to_string(i); });
      given[i] = true;
    }
    for (auto [key, value] : kwargs) {
      std::string name = nb::cast<std::string>(key);
      size_t i = std::find_if(inputs_.begin(), inputs_.end(), [&](const InputSpec& in) { return in.name == name; }) -
                 inputs_.begin();
      if (i == n) throw nb::type_error(("[function] has no input named '" + name + "'").c_str());
      if (given[i]) throw nb::type_error(("[function] got two values for input '" + name + "'").c_str());
      values[i] = take(value, i, [&name] { return "[function] input '" + name + "'"; });
      given[i] = true;
    }
    for (size_t i = 0; i < n; ++i) {
      if (given[i]) continue;
      if (!inputs_[i].default_value.is_valid() || inputs_[i].default_value.is_none())
        throw nb::type_error(("[function] missing input " + std::to_string(i) + describe_input(inputs_[i].variable)).c_str());
      values[i] = take(inputs_[i].default_value, i, [i] { return "[function] default of input " + std::to_string(i); });
    }
    std::vector<Array> outputs = run_unlocked(values);
    release_pending_objects();
    // Inputs with updates keep their new values as their defaults (Theano's In(update=...)).
    for (InputSpec& input : inputs_)
      if (input.update_output >= 0) input.default_value = to_numpy(outputs.at(static_cast<size_t>(input.update_output)));
    if (unpack_single_) return to_numpy(outputs.at(0));
    nb::list results;
    for (size_t k = 0; k < num_outputs_; ++k) results.append(to_numpy(outputs[k]));
    return results;
  }

  const Function& function() const { return function_; }

 private:
  // Runs the function without the GIL, so other Python threads go on meanwhile. It runs a copy of the
  // handle: at interpreter exit Python may free this object while a daemon thread is still inside it.
  std::vector<Array> run_unlocked(const std::vector<Array>& values) const {
    const Function program = function_;
    PyThreadState* saved = PyEval_SaveThread();
    std::vector<Array> outputs;
    try {
      outputs = program(values);
    } catch (...) {
      take_back_gil(saved);
      throw;
    }
    take_back_gil(saved);
    return outputs;
  }

  // Reacquiring the GIL while the interpreter shuts down ends the thread by unwinding it, which C++
  // frames cannot survive, and once it has shut down the thread's state is gone; a daemon thread then
  // waits for the process to end instead, as Python 3.14's own threads do.
  static void take_back_gil(PyThreadState* saved) {
    if (_Py_IsFinalizing() || !Py_IsInitialized()) park_forever();
#if defined(__GLIBCXX__)
    try {
      PyEval_RestoreThread(saved);
    } catch (abi::__forced_unwind&) {
      park_forever();  // shutdown began after the check: never unwind through the binding
    }
#else
    PyEval_RestoreThread(saved);
#endif
  }

  [[noreturn]] static void park_forever() {
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }

  // `what` names the input in messages; it is built only when the value needs more than wrapping.
  template <class What> Array take(nb::handle value, size_t i, const What& what) const {
    const InputSpec& input = inputs_[i];
    if (input.variable.is_sparse()) {
      Array matrix = filter_value(value, input.variable, input.strict ? std::optional<bool>(false) : input.allow_downcast, floatx_, what());
      // Strict: only a SciPy matrix of the input's format and dtype, used as it is.
      if (input.strict && (!is_scipy_sparse(value) || nb::cast<std::string>(value.attr("format")) != sparse_format_name(*matrix.format()) ||
                           ndarray_dtype(value.attr("data")) != input.variable.dtype()))
        throw TypeError(what() + describe_input(input.variable) + " is strict: it takes only SciPy " +
                        sparse_format_name(*matrix.format()) + " matrices of dtype " + std::string(dtype_name(input.variable.dtype())));
      return matrix;
    }
    const bool exact = ndarray_dtype(value) == input.variable.dtype();
    if (exact) return to_array(value, "[function] an input");  // the common call: a NumPy array of the right dtype
    if (input.strict)
      throw TypeError(what() + describe_input(input.variable) + " is strict: it takes only NumPy arrays of dtype " +
                      std::string(dtype_name(input.variable.dtype())) + ", got " +
                      nb::cast<std::string>(nb::repr(value.type())));
    return filter_value(value, input.variable, input.allow_downcast, floatx_, what());
  }

  Function function_;
  std::vector<InputSpec> inputs_;
  DType floatx_;
  bool unpack_single_;
  size_t num_outputs_;  // the caller's outputs; the values of input updates follow them
};

Mode to_mode(const std::string& mode) {
  if (mode == "FAST_RUN") return Mode::FastRun;
  if (mode == "FAST_COMPILE") return Mode::FastCompile;
  if (mode == "UNOPTIMIZED") return Mode::Unoptimized;
  throw ValueError("[function] mode must be FAST_RUN, FAST_COMPILE or UNOPTIMIZED, got '" + mode + "'");
}

UnusedInput to_unused_input(const std::string& policy) {
  if (policy == "raise") return UnusedInput::Raise;
  if (policy == "warn") return UnusedInput::Warn;
  if (policy == "ignore") return UnusedInput::Ignore;
  throw ValueError("[function] on_unused_input must be 'raise', 'warn' or 'ignore', got '" + policy + "'");
}

}  // namespace

void init_function(nb::module_& m) {
  nb::class_<PythonFunction>(m, "Function", "A compiled function: call it with values for its inputs.",
                            nb::dynamic_attr())
      .def("__call__", &PythonFunction::call)
      .def("_debugprint", [](const PythonFunction& f) { return f.function().debugprint(); })
      .def("_graph_outputs", [](const PythonFunction& f) { return f.function().graph_outputs(); })
      .def_prop_ro("_num_inputs", [](const PythonFunction& f) { return f.function().num_inputs(); })
      .def_prop_ro("_num_outputs", [](const PythonFunction& f) { return f.num_outputs(); })
      .def("_profile_summary", [](const PythonFunction& f) { return f.function().profile_summary(); });

  m.def(
      "function",
      [](const std::vector<Variable>& inputs, const std::vector<Variable>& outputs,
         const std::vector<std::pair<Variable, Variable>>& updates, const std::vector<std::pair<Variable, Variable>>& givens,
         const std::string& on_unused_input, const std::vector<std::string>& names, const std::vector<nb::object>& defaults,
         const std::vector<std::optional<bool>>& allow_downcast, const std::vector<bool>& strict, nb::handle floatx,
         bool unpack_single, const std::string& mode, bool no_default_updates, bool profile,
         const std::vector<std::optional<Variable>>& input_updates, nb::object node_monitor) {
        const size_t n = inputs.size();
        if (names.size() != n || defaults.size() != n || allow_downcast.size() != n || strict.size() != n ||
            (!input_updates.empty() && input_updates.size() != n))
          throw ValueError("[function] names, defaults, allow_downcast, strict and input updates need one entry per input");
        Updates shared_updates;
        for (const auto& [target, value] : updates) shared_updates.emplace_back(SharedVariable(target), value);
        std::vector<Variable> computed = outputs;  // then each input update's value
        std::vector<InputSpec> specs;
        for (size_t i = 0; i < n; ++i) {
          specs.push_back({inputs[i], names[i], defaults[i], allow_downcast[i], strict[i]});
          if (i < input_updates.size() && input_updates[i]) {
            specs.back().update_output = static_cast<int>(computed.size());
            computed.push_back(*input_updates[i]);
          }
        }
        FunctionOptions options{.on_unused_input = to_unused_input(on_unused_input), .mode = to_mode(mode),
                                .no_default_updates = no_default_updates, .profile = profile};
        if (!node_monitor.is_none())  // MonitorMode: node_monitor(index, node, inputs, outputs, after) per step
          options.node_monitor = [node_monitor](size_t index, const Apply& node, std::span<const Array> step_inputs,
                                                std::span<const Array> step_outputs, bool after) {
            nb::gil_scoped_acquire locked;
            nb::list in_values, out_values;
            for (const Array& value : step_inputs) in_values.append(to_numpy(value));
            for (const Array& value : step_outputs) out_values.append(to_numpy(value));
            node_monitor(index, std::const_pointer_cast<Apply>(node.shared_from_this()), in_values, out_values, after);
          };
        Function f = function(inputs, computed, shared_updates, givens, options);
        return PythonFunction(std::move(f), std::move(specs), to_dtype(floatx), unpack_single, outputs.size());
      },
      nb::arg("inputs"), nb::arg("outputs"), nb::arg("updates"), nb::arg("givens"), nb::arg("on_unused_input"),
      nb::arg("names"), nb::arg("defaults"), nb::arg("allow_downcast"), nb::arg("strict"), nb::arg("floatX"),
      nb::arg("unpack_single"), nb::arg("mode") = "FAST_RUN", nb::arg("no_default_updates") = false,
      nb::arg("profile") = false, nb::arg("input_updates") = std::vector<std::optional<Variable>>(),
      nb::arg("node_monitor").none() = nb::none(), kUserLine);

  m.def("finish_compiling", &finish_compiling, nb::call_guard<nb::gil_scoped_release>(),
        "Returns once the optimized kernels of every function built so far have loaded (tiered compilation runs a "
        "new function's first calls on a quick build).");

  // The C++ settings the Python config forwards (hypatia.config.compiledir and friends).
  m.def("_available_devices", [] {
    std::vector<std::string> names;
    for (const Device& device : available_devices()) names.push_back(device.str());
    return names;
  });
  m.def("_set_config", [](const std::string& name, const std::string& value) {
    if (name == "compiledir") config().compiledir = value;
    else if (name == "cxx") config().cxx = value;
    else if (name == "openmp_threads") config().openmp_threads = std::stoi(value);
    else if (bool* setting = config_switch(config(), name)) {
      const std::optional<bool> on = parse_switch(value);
      if (!on) throw ValueError("[config] " + name + " must be True or False, got '" + value + "'");
      *setting = *on;
    }
    else if (name == "device") {
      // Refused now, as Theano refused a missing device at import, rather than when a function is built.
      const Device device = Device::parse(value);
      if (std::string why = why_unavailable(device); !why.empty()) throw ValueError("[config] " + why);
      config().device = device.str();
    }
    else throw ValueError("[config] no C++ setting named '" + name + "'");
  });
  m.def("_get_config", [](const std::string& name) -> std::string {
    if (name == "compiledir") return config().compiledir;
    if (name == "cxx") return config().cxx;
    if (name == "openmp_threads") return std::to_string(config().openmp_threads);
    if (name == "device") return config().device;
    if (const bool* setting = config_switch(config(), name)) return *setting ? "True" : "False";
    throw ValueError("[config] no C++ setting named '" + name + "'");
  });

  m.def("_filter_value", [](nb::handle value, const Variable& target, std::optional<bool> allow_downcast, nb::handle floatx) {
    return to_numpy(filter_value(value, target, allow_downcast, to_dtype(floatx), "[filter] the value"));
  }, nb::arg("value"), nb::arg("target"), nb::arg("allow_downcast").none(), nb::arg("floatX"));
}

}  // namespace hypatia::python
