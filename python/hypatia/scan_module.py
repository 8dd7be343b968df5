"""Loops inside the graph (Theano's scan, map, reduce, foldl, foldr).

fn is called once, on symbolic per-step values; the inner graph it builds is compiled with the function
and runs for every step in C++, with no Python per step.
"""

from . import _core
from .tensor.basic import as_tensor_variable
from .updates import OrderedUpdates


def _taps(value, default, what):
    taps = default if value is None else value
    if isinstance(taps, int):
        taps = [taps]
    try:
        return [int(t) for t in taps]
    except TypeError:
        raise TypeError(f"scan: the taps of {what} must be a list of ints, got {value!r}") from None


def _sequence(entry, k):
    if isinstance(entry, dict):
        if "input" not in entry:
            raise ValueError(f"scan: sequence {k} is a dict without 'input'")
        return as_tensor_variable(entry["input"]), _taps(entry.get("taps"), [0], f"sequence {k}")
    return as_tensor_variable(entry), [0]


def _output_info(entry, k):
    if entry is None:
        return None, []
    if isinstance(entry, dict):
        initial = entry.get("initial")
        if initial is None:
            if entry.get("taps"):
                raise ValueError(f"scan: outputs_info[{k}] has taps but no initial value")
            return None, []
        return as_tensor_variable(initial), _taps(entry.get("taps"), [-1], f"outputs_info[{k}]")
    return as_tensor_variable(entry), [-1]


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _is_updates(value):
    return isinstance(value, dict) or (
        isinstance(value, (list, tuple)) and len(value) > 0
        and all(isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[0], _core.SharedVariable)
                for pair in value))


class until:
    """Theano's scan_module.until: returned by fn (alone or beside its outputs and updates), the loop stops
    after the first step where the condition holds; n_steps (or the sequences) bound the steps."""

    def __init__(self, condition):
        self.condition = as_tensor_variable(condition)
        if self.condition.ndim != 0:
            raise TypeError(f"until: the condition must be a scalar, got {self.condition.type}")


def _split_step_result(result):
    """fn may return outputs, updates, (outputs, updates) or (updates, outputs), as tuples or lists, as
    Theano allows, each possibly with an until(condition) among them."""
    condition = None
    if isinstance(result, until):
        return [], [], result.condition
    if isinstance(result, (tuple, list)) and any(isinstance(r, until) for r in result):
        condition = [r for r in result if isinstance(r, until)][0].condition
        result = [r for r in result if not isinstance(r, until)]
        result = result[0] if len(result) == 1 else tuple(result)
    outputs, updates = result, []
    if isinstance(result, (tuple, list)) and len(result) == 2 and (_is_updates(result[1]) or _is_updates(result[0])):
        outputs, updates = (result[0], result[1]) if _is_updates(result[1]) else (result[1], result[0])
    elif _is_updates(result):
        outputs, updates = [], result
    if isinstance(updates, dict):
        updates = list(updates.items())
    outputs = [as_tensor_variable(o) for o in _as_list(outputs)]
    return outputs, [(target, as_tensor_variable(value)) for target, value in updates], condition


def _run(fn, sequences, outputs_info, non_sequences, n_steps, truncate_gradient, go_backwards, strict, name,
         return_list, last_only):
    seqs = [_sequence(s, k) for k, s in enumerate(_as_list(sequences))]
    infos = [_output_info(o, k) for k, o in enumerate(_as_list(outputs_info))]
    non_seqs = [as_tensor_variable(v) for v in _as_list(non_sequences)]
    if n_steps is not None and not isinstance(n_steps, _core.Variable):
        n_steps = int(n_steps)

    def step(*args):
        return _split_step_result(fn(*args))

    outputs, updates = _core.scan(step, seqs, infos, non_seqs, n_steps, int(truncate_gradient), bool(go_backwards),
                                  bool(strict), name or "scan", last_only)
    if last_only:  # reduce: outputs that are not fed back also give their last value
        outputs = [o if k < len(infos) and infos[k][0] is not None else o[-1] for k, o in enumerate(outputs)]
    result = outputs[0] if len(outputs) == 1 and not return_list else outputs
    return result, OrderedUpdates(updates)


def scan(fn, sequences=None, outputs_info=None, non_sequences=None, n_steps=None, truncate_gradient=-1,
         go_backwards=False, mode=None, name=None, profile=False, allow_gc=None, strict=False, return_list=False):
    """Runs fn once per step; returns (outputs, updates). Pass updates to function() so shared variables fn
    updates (random streams too) advance."""
    return _run(fn, sequences, outputs_info, non_sequences, n_steps, truncate_gradient, go_backwards, strict,
                name, return_list, last_only=False)


def map(fn, sequences, non_sequences=None, truncate_gradient=-1, go_backwards=False, mode=None, name=None):
    """fn applied to each element of the sequences; returns (outputs, updates)."""
    return _run(fn, sequences, None, non_sequences, None, truncate_gradient, go_backwards, False, name or "map",
                False, last_only=False)


def reduce(fn, sequences, outputs_info, non_sequences=None, go_backwards=False, mode=None, name=None):
    """The outputs after the last step only (only that step's memory is kept); returns (outputs, updates)."""
    return _run(fn, sequences, outputs_info, non_sequences, None, -1, go_backwards, False, name or "reduce", False,
                last_only=True)


def foldl(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the first element to the last."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=False, name=name or "foldl")


def foldr(fn, sequences, outputs_info, non_sequences=None, mode=None, name=None):
    """reduce from the last element to the first."""
    return reduce(fn, sequences, outputs_info, non_sequences, go_backwards=True, name=name or "foldr")
