"""function(), shared(), In, Out and modes (Theano's theano.compile)."""
import numbers

import numpy as np

from .. import _core
from ..configparser import config

_MODES = ("FAST_RUN", "FAST_COMPILE")


class Mode:
    """A compilation mode. Hypatia has FAST_RUN and FAST_COMPILE; both run on the reference backend until
    the optimizing compiler lands, so they differ only in name for now."""

    def __init__(self, linker=None, optimizer=None, name=None):
        self.linker, self.optimizer = linker, optimizer
        self.name = name or (optimizer if optimizer in _MODES else "FAST_RUN")

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
    if isinstance(mode, str) and mode in _MODES:
        return Mode(name=mode)
    raise NotImplementedError(f"mode {mode!r} is not available: Hypatia has FAST_RUN and FAST_COMPILE")


def get_default_mode():
    return get_mode(None)


class In:
    """A function input with options: a name to pass it by keyword, a default value, allow_downcast."""

    def __init__(self, variable, name=None, value=None, update=None, mutable=False, strict=False,
                 allow_downcast=None, autoname=True, implicit=None, borrow=None, shared=False):
        if not isinstance(variable, _core.Variable):
            raise TypeError(f"In: expected a symbolic Variable, got {type(variable).__name__}")
        if update is not None:
            raise NotImplementedError("In(update=...) is not implemented; use a shared variable with updates")
        self.variable = variable
        self.name = name if name is not None else (variable.name if autoname else None)
        self.value = value
        self.mutable, self.strict, self.borrow = mutable, strict, borrow
        self.allow_downcast = False if strict else allow_downcast


Param = In


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
    get_mode(mode)
    if profile:
        raise NotImplementedError("function(profile=True): per-node profiling arrives with the optimizing compiler")
    if no_default_updates:
        raise NotImplementedError("function(no_default_updates=True) is not implemented; random states always advance")
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
                       [spec.strict for spec in specs], config.floatX, unpack_single)
    f.name = name
    f.inputs = specs
    f.outputs = output_vars
    return f


def shared(value, name=None, strict=False, allow_downcast=None, borrow=False, broadcastable=None, shape=None):
    """A shared variable holding value (a NumPy array or a number), kept between function calls.
    borrow=True lets it use value's memory without copying."""
    if isinstance(value, _core.Variable):
        raise TypeError(f"shared: the value must be a NumPy array or a number, not the symbolic variable {value}")
    if not isinstance(value, (np.ndarray, np.generic, numbers.Number)):
        raise TypeError(f"shared: no shared variable can hold a {type(value).__name__}; give a NumPy array or a number")
    if isinstance(value, numbers.Number) and not isinstance(value, np.generic):
        value = np.asarray(value)
    if broadcastable is not None and shape is None:
        shape = [1 if b else None for b in broadcastable]
    variable = _core.shared(value, name or "", borrow, None if shape is None else list(shape))
    # How set_value converts new values (Theano's strict and allow_downcast).
    variable._strict, variable._allow_downcast = strict, allow_downcast
    return variable


def _function_debugprint(self, file=None):
    return self._debugprint()


def _refuse_pickle(self):
    raise NotImplementedError("pickling compiled functions is not implemented; pickle the shared variables and "
                              "compile the function again")


_core.Function.debugprint = _function_debugprint
_core.Function.__reduce__ = _refuse_pickle
