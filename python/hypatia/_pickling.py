"""Pickling of variables, whole graphs, shared variables and compiled functions.

Each graph node pickles as a record: its op in Hypatia's own versioned binary format (hypatia.serialize
in C++), and the records of its inputs. Records are cached per node, so every Python object standing for
one node pickles as the same record, and pickle's memo keeps the graph's sharing: a model object holding
its input, its weights and its cost loads as one graph again. Shared variables keep their values (and
random states their default updates); a compiled function pickles as what it was compiled from and is
compiled again when loaded (its kernels come from the disk cache).
"""
import weakref

import numpy as np

from . import _core

FORMAT = 2  # the version of this layout (2: inputs record their sparse format); the C++ format of ops has its own
# (kSaveFormatVersion)


def _check_format(version):
    if version != FORMAT:
        raise ValueError(f"[load] this pickle was written by a Hypatia with pickle format {version}; this one reads "
                         f"format {FORMAT}")


class _Loaded:
    """A loaded variable (what a record becomes when unpickled); for a shared variable, setting its state
    gives it its default update back."""
    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def __setstate__(self, state):
        update = state.get("default_update") if isinstance(state, dict) else None
        if update is not None:
            self.variable.default_update = update.variable


class _LoadedApply:
    __slots__ = ("outputs",)

    def __init__(self, outputs):
        self.outputs = outputs


def _load_input(version, dtype, shape, name, where, format):
    _check_format(version)
    if format is not None:
        return _Loaded(_core.sparse.matrix(format, name or "", dtype))
    variable = _core.tensor(dtype, list(shape), name or "")
    return _Loaded(variable)


def _load_constant(version, value, name):
    _check_format(version)
    return _Loaded(_core.constant(value, name or "", None))


def new_shared(value, name, shape, strict=False, allow_downcast=None):
    """A new shared variable owning `value` (no copy), with a saved variable's name, static shape and
    set_value rules: what loading and copy.deepcopy make."""
    variable = _core.shared(value, name or "", True, list(shape))
    variable._strict, variable._allow_downcast = strict, allow_downcast
    return variable


def _load_shared(version, value, name, shape, strict, allow_downcast):
    _check_format(version)
    return _Loaded(new_shared(value, name, shape, strict, allow_downcast))


def _load_apply(version, op_bytes, inputs, where):
    _check_format(version)
    op = _core.load_op(op_bytes)
    return _LoadedApply(_core.apply_op(op, [i.variable for i in inputs], where[0], where[1]))


def _load_output(version, node, index, name):
    _check_format(version)
    variable = node.outputs[index]
    if name:
        variable.name = name
    return _Loaded(variable)


class _Record:
    """What pickle writes for one variable or one node; see _record_of. What it holds (a shared variable's
    value above all) is read when pickle asks, so a record kept from an earlier pickling is never stale."""
    __slots__ = ("build", "__weakref__")

    def __reduce__(self):
        return self.build()


# One record per node while anything (a pickling in progress) holds it.
_records = weakref.WeakValueDictionary()


def _apply_record(node):
    key = ("apply", node.outputs[0])
    record = _records.get(key)
    if record is None:
        record = _Record()
        record.build = lambda: (_load_apply, (FORMAT, _core.save_op(node.op), [_record_of(v) for v in node.inputs],
                                              _core.node_location(node)))
        _records[key] = record
    return record


def _record_of(variable):
    record = _records.get(variable)
    if record is not None:
        return record
    record = _Record()
    owner = variable.owner
    if isinstance(variable, _core.SharedVariable):
        def build():
            update = variable.default_update  # a random state's update reads the state itself: pickle's memo
            return (_load_shared, (FORMAT, variable._get_value(False), variable.name, variable._static_shape,
                                   getattr(variable, "_strict", False), getattr(variable, "_allow_downcast", None)),
                    {"default_update": None if update is None else _record_of(update)})
    elif owner is not None:
        def build():
            return _load_output, (FORMAT, _apply_record(owner), owner.outputs.index(variable), variable.name)
    elif variable._is_constant:
        def build():
            return _load_constant, (FORMAT, variable._constant_value, variable.name)
    else:
        def build():
            return _load_input, (FORMAT, variable.dtype, variable._static_shape, variable.name, _core.location(variable),
                                 variable._format)
    record.build = build
    _records[variable] = record
    return record


def _variable_of(loaded):
    return loaded.variable


def reduce_variable(variable):
    """Variable.__reduce__: the variable's record (its whole graph, shared with whatever else is pickled)."""
    return _variable_of, (_record_of(variable),)


def _load_function(version, args, name):
    _check_format(version)
    from .compile import function

    return function(name=name, **args)


def reduce_function(f):
    """Function.__reduce__: what it was compiled from; loading compiles it again."""
    return _load_function, (FORMAT, dict(f._compile_args), f.name)
