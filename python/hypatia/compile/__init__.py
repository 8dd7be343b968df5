"""function(), shared(), In, Out and modes (Theano's theano.compile)."""
import atexit
import numbers
import sys
import types

import numpy as np

from .. import _core, _pickling
from ..configparser import config

_MODES = ("FAST_RUN", "FAST_COMPILE", "UNOPTIMIZED")


class Mode:
    """A compilation mode: how much the graph is rewritten before it runs. FAST_RUN rewrites it fully,
    FAST_COMPILE only merges duplicates and folds constants, and optimizer=None (UNOPTIMIZED) runs the graph
    as built. Linkers are accepted and ignored: every mode runs on the reference backend for now."""

    def __init__(self, linker=None, optimizer="fast_run", name=None):
        self.linker, self.optimizer = linker, optimizer
        if name is None:
            if optimizer is None or str(optimizer).lower() in ("none", "unoptimized"):
                name = "UNOPTIMIZED"
            elif str(optimizer).upper() in _MODES:
                name = str(optimizer).upper()
            else:
                raise NotImplementedError(f"Mode(optimizer={optimizer!r}): Hypatia's optimizers are fast_run, "
                                          "fast_compile and None")
        self.name = name

    def node_monitor(self):
        """What the compiled program calls around each step (MonitorMode's); None for the other modes."""
        return None

    def including(self, *tags):
        return self

    def excluding(self, *tags):
        return self

    def __repr__(self):
        return f"Mode({self.name})"


FAST_RUN = Mode(name="FAST_RUN")
FAST_COMPILE = Mode(name="FAST_COMPILE")


def get_mode(mode):
    if mode is None:
        return Mode(name=config.mode)
    if isinstance(mode, Mode):
        return mode
    if isinstance(mode, str) and mode.upper() in _MODES:
        return Mode(name=mode.upper())
    raise NotImplementedError(f"mode {mode!r} is not available: Hypatia has FAST_RUN, FAST_COMPILE and "
                              "Mode(optimizer=None)")


def get_default_mode():
    return get_mode(None)


class In:
    """A function input with options: a name to pass it by keyword, a default value, allow_downcast."""

    def __init__(self, variable, name=None, value=None, update=None, mutable=False, strict=False,
                 allow_downcast=None, autoname=True, implicit=None, borrow=None, shared=False):
        if not isinstance(variable, _core.Variable):
            raise TypeError(f"In: expected a symbolic Variable, got {type(variable).__name__}")
        if update is not None and value is None:
            raise ValueError(f"In: an input with an update needs a value to start from (In({variable}, value=..., "
                             "update=...))")
        self.variable = variable
        # After each call the input's value (its default from then on) is the update's value.
        self.update = None if update is None else _core.as_variable(update)
        self.name = name if name is not None else (variable.name if autoname else None)
        self.value = value
        self.mutable, self.strict, self.borrow = mutable, strict, borrow
        self.allow_downcast = False if strict else allow_downcast


finish_compiling = _core.finish_compiling


def Param(variable, default=None, name=None, mutable=False, strict=False, allow_downcast=None, implicit=None,
          borrow=None):
    """Theano's older name for In, with the default value as `default`."""
    return In(variable, name=name, value=default, mutable=mutable, strict=strict, allow_downcast=allow_downcast,
              implicit=implicit, borrow=borrow)


class Out:
    """A function output. borrow is accepted; outputs are always fresh arrays the caller owns."""

    def __init__(self, variable, borrow=False):
        self.variable = variable
        self.borrow = borrow


def _as_pairs(mapping, what):
    if mapping is None:
        return []
    if isinstance(mapping, dict):
        return list(mapping.items())
    try:
        pairs = [tuple(pair) for pair in mapping]
    except TypeError:
        raise TypeError(f"function: {what} must be a dict or a list of (variable, value) pairs") from None
    for pair in pairs:
        if len(pair) != 2:
            raise TypeError(f"function: each entry of {what} must be a (variable, value) pair, got {pair!r}")
    return pairs


def function(inputs, outputs=None, mode=None, updates=None, givens=None, no_default_updates=False,
             accept_inplace=False, name=None, rebuild_strict=True, allow_input_downcast=None, profile=None,
             on_unused_input=None, trust_input=False):
    """Compiles a function from inputs to outputs. outputs may be one Variable (the call returns one
    array) or a list (the call returns a list); updates ({shared: new value}) apply after each call."""
    chosen_mode = get_mode(mode)
    profiling = bool(profile) or (profile is None and config.profile)
    if no_default_updates not in (True, False):
        raise NotImplementedError("function(no_default_updates=[...]) for some variables only is not implemented; "
                                  "pass True or False")
    if not isinstance(inputs, (list, tuple)):
        raise TypeError(f"function: inputs must be a list of Variables, got {type(inputs).__name__}")
    specs = [spec if isinstance(spec, In) else In(spec) for spec in inputs]
    unpack_single = outputs is not None and not isinstance(outputs, (list, tuple))
    output_list = [] if outputs is None else ([outputs] if unpack_single else list(outputs))
    output_vars = [_core.as_variable(out.variable if isinstance(out, Out) else out) for out in output_list]
    update_pairs = []
    for target, value in _as_pairs(updates, "updates"):
        if not isinstance(target, _core.SharedVariable):
            raise TypeError(f"function: the update target {target!r} is not a shared variable")
        if not isinstance(value, _core.Variable):
            # A value for the update follows the variable's type rules: 1.7 for an int64 counter is refused.
            value = _core.constant(_core._filter_value(value, target, None, config.floatX), "", None)
        update_pairs.append((target, value))
    given_pairs = [(old, new if isinstance(new, _core.Variable) else _core.as_variable(new))
                   for old, new in _as_pairs(givens, "givens")]
    policy = on_unused_input if on_unused_input is not None else config.on_unused_input
    f = _core.function([spec.variable for spec in specs], output_vars, update_pairs, given_pairs, policy,
                       [spec.name or "" for spec in specs], [spec.value for spec in specs],
                       [spec.allow_downcast if spec.allow_downcast is not None else allow_input_downcast
                        for spec in specs],
                       [spec.strict for spec in specs], config.floatX, unpack_single, chosen_mode.name,
                       no_default_updates, profiling, [spec.update for spec in specs],
                       chosen_mode.node_monitor())
    f.name = name
    f.profile = ProfileStats(f) if profiling else None
    if profiling and profile is None:  # profiling asked for by config.profile: summarized at exit, as Theano did
        _PROFILED_AT_EXIT.append(f)
    f.inputs = specs
    f.outputs = output_vars
    # What copy() needs to compile the function again.
    f._compile_args = dict(inputs=inputs, outputs=outputs, mode=chosen_mode, updates=update_pairs, givens=given_pairs,
                           no_default_updates=no_default_updates, allow_input_downcast=allow_input_downcast,
                           on_unused_input=on_unused_input)
    return f


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False, broadcastable=None, shape=None):
    """A shared variable holding value (a NumPy array, a number or a SciPy csr/csc matrix), kept between function
    calls. borrow=True lets it use value's memory without copying."""
    if isinstance(value, _core.Variable):
        raise TypeError(f"shared: the value must be a NumPy array or a number, not the symbolic variable {value}")
    is_sparse = hasattr(value, "tocsr") and hasattr(value, "format")  # a SciPy sparse matrix: a sparse variable
    if not isinstance(value, (np.ndarray, np.generic, numbers.Number)) and not is_sparse:
        raise TypeError(f"shared: no shared variable can hold a {type(value).__name__}; give a NumPy array, a "
                        "SciPy sparse matrix or a number")
    if isinstance(value, numbers.Number) and not isinstance(value, np.generic):
        value = np.asarray(value)
    if broadcastable is not None and shape is None:
        shape = [1 if b else None for b in broadcastable]
    variable = _core.shared(value, name or "", borrow, None if shape is None else list(shape))
    # How set_value converts new values (Theano's strict and allow_downcast).
    variable._strict, variable._allow_downcast = strict, allow_downcast
    return variable


# Functions profiled because config.profile (THEANO_FLAGS=profile=True) was on; their summaries print
# to stderr when the process exits (so they live until then, as Theano's profiles did).
_PROFILED_AT_EXIT = []


@atexit.register
def _print_profiles_at_exit():
    for f in _PROFILED_AT_EXIT:
        print(f"Function profiling\n==================\n  Message: {f.name or 'function'}", file=sys.stderr)
        f.profile.summary(file=sys.stderr)


class ProfileStats:
    """Per-node times of a function compiled with profile=True (Theano's ProfileStats)."""

    def __init__(self, function):
        self._function = function

    def summary(self, file=None):
        """Prints the table (calls, time per node and per op, sorted by time) to file (stdout by default)."""
        print(self._function._profile_summary(), file=file if file is not None else sys.stdout)

    def __str__(self):
        return self._function._profile_summary()


def _function_debugprint(self, file=None):
    return self._debugprint()


def _function_copy(self, share_memory=False, swap=None, delete_updates=False, name=None, profile=None):
    """Theano's Function.copy: the same function compiled again, reading and updating the same shared
    variables; swap ({shared: other shared}) makes it use (and update) other ones, delete_updates drops
    the updates. share_memory (Theano: share intermediate storage) changes nothing here: each program
    plans its own buffers."""
    args = dict(self._compile_args)
    swap = dict(swap or {})
    for old, new in swap.items():
        if not isinstance(old, _core.SharedVariable) or not isinstance(new, _core.SharedVariable):
            raise TypeError("copy: swap maps shared variables to shared variables")
        if old.type != new.type:
            raise TypeError(f"copy: cannot swap {old} {old.type} for {new} {new.type}")
    if delete_updates:
        args["updates"] = []
        args["on_unused_input"] = "ignore"  # inputs that only fed the updates are unused now
    elif swap:
        args["updates"] = [(swap.get(target, target), value) for target, value in args["updates"]]
    if swap:
        args["givens"] = list(args["givens"]) + list(swap.items())
    copy = function(name=name if name is not None else self.name, **args)
    return copy


def _shared_variables_of(f):
    """The shared variables a compiled function reads or updates."""
    roots = list(f.outputs) + [value for _, value in f._compile_args["updates"]]
    found, seen = [], set()

    def note(v):
        if isinstance(v, _core.SharedVariable) and v not in seen:
            seen.add(v)
            found.append(v)
    for v in roots:
        note(v)
    for node in _core.toposort(roots) if roots else []:
        for v in node.inputs:
            note(v)
    for target, _ in f._compile_args["updates"]:
        note(target)
    return found


def _function_shallow_copy(self):
    return self.copy()


def _function_deepcopy(self, memo):
    """A copy with its own shared variables (each deep-copied through memo, so an object holding the
    function and its parameters copies consistently)."""
    import copy as _copy_module

    return self.copy(swap={s: _copy_module.deepcopy(s, memo) for s in _shared_variables_of(self)})


def _function_maker(self):
    """Theano's f.maker: its fgraph holds the compiled (rewritten) graph."""
    results = self._graph_outputs()
    nodes = _core.toposort(results)
    fgraph = types.SimpleNamespace(inputs=[spec.variable for spec in self.inputs], outputs=results[:self._num_outputs],
                                   toposort=lambda: list(nodes), apply_nodes=set(nodes))
    return types.SimpleNamespace(fgraph=fgraph, inputs=self.inputs, mode=self._compile_args["mode"])


_core.Function.debugprint = _function_debugprint
_core.Function.copy = _function_copy
_core.Function.__copy__ = _function_shallow_copy
_core.Function.__deepcopy__ = _function_deepcopy
_core.Function.maker = property(_function_maker)
_core.Function.__reduce__ = _pickling.reduce_function  # compiled again when loaded


from .monitormode import MonitorMode  # noqa: E402,F401
from . import io, mode as _mode_module, sharedvalue  # noqa: E402,F401  (theano.compile.mode etc. after one import)
