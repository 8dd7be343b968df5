"""Reverse-mode gradients and their finite-difference check (Theano's theano.gradient)."""
import numpy as np

from . import _core
from .configparser import config
from ._missing import module_getattr

GradientError = _core.GradientError


def grad(cost, wrt, consider_constant=None, disconnected_inputs="raise", add_names=True, known_grads=None,
         return_disconnected="zero", null_gradients="raise"):
    """d cost / d wrt: one Variable for one wrt, a list for a list. cost must be a float scalar (or None
    with known_grads, a dict {variable: its gradient})."""
    if return_disconnected != "zero":
        raise NotImplementedError(f"grad(return_disconnected={return_disconnected!r}) is not implemented: "
                                  "disconnected gradients are zeros (return_disconnected='zero')")
    single = not isinstance(wrt, (list, tuple))
    wrt_list = [wrt] if single else list(wrt)
    for w in wrt_list:
        if not isinstance(w, _core.Variable):
            raise TypeError(f"grad: wrt must hold symbolic Variables, got {type(w).__name__} ({w!r})")
    known = [(v, _core.as_variable(g)) for v, g in (known_grads or {}).items()]
    grads = _core.grad(cost, wrt_list, known, list(consider_constant or []), disconnected_inputs)
    # Integers have zero gradients, in floatX (Theano's convention).
    grads = [g if w.dtype.startswith("float") else _core.cast(g, config.floatX) for w, g in zip(wrt_list, grads)]
    if add_names and cost is not None and getattr(cost, "name", None):
        for w, g in zip(wrt_list, grads):
            if g is not None and w.name and g.name is None:
                g.name = f"(d{cost.name}/d{w.name})"
    return grads[0] if single else grads


def disconnected_grad(x):
    """x in the forward pass; no gradient flows back through it."""
    return _core.disconnected_grad(x)


def zero_grad(x):
    """x in the forward pass; the gradient flowing back is zero."""
    return _core.zero_grad(x)


def verify_grad(fun, pt, n_tests=2, rng=None, eps=None, out_type=None, abs_tol=None, rel_tol=None, mode=None,
                cast_to_output_type=False, no_debug_ref=True):
    """Checks fun's symbolic gradient against central differences in float64 at the point pt (a list of
    arrays); raises GradientError naming the input and element where they disagree."""
    if not isinstance(pt, (list, tuple)):
        raise TypeError("verify_grad: pt must be a list of NumPy arrays, one per argument of fun")
    point = [np.asarray(p) for p in pt]
    if rng is None:
        seeds = range(1234, 1234 + n_tests)
    elif isinstance(rng, (int, np.integer)):
        seeds = range(int(rng), int(rng) + n_tests)
    else:
        seeds = [int(rng.integers(0, 2**31)) if hasattr(rng, "integers") else int(rng.randint(0, 2**31))
                 for _ in range(n_tests)]
    for seed in seeds:
        _core.verify_grad(fun, point, 1e-6 if eps is None else float(eps), 1e-4 if rel_tol is None else float(rel_tol),
                          1e-6 if abs_tol is None else float(abs_tol), seed)


def _listed(value):
    return (list(value), False) if isinstance(value, (list, tuple)) else ([value], True)


def _as_variables(values):
    return [_core.as_variable(v) for v in values]


def Rop(f, wrt, eval_points, disconnected_outputs="raise", return_disconnected="zero"):
    """Jacobian times eval_points (forward mode): d f / d wrt applied to eval_points, shaped like f. An f that
    does not depend on wrt gets zeros."""
    fs, single_f = _listed(f)
    wrts, _ = _listed(wrt)
    points, _ = _listed(eval_points)
    if len(wrts) != len(points):
        raise ValueError(f"Rop: {len(wrts)} wrt variables but {len(points)} eval points")
    result = _core.Rop(_as_variables(fs), _as_variables(wrts), _as_variables(points))
    return result[0] if single_f else result


def Lop(f, wrt, eval_points, consider_constant=None, disconnected_inputs="raise"):
    """eval_points times the Jacobian of f (reverse mode), shaped like wrt."""
    if consider_constant:
        raise NotImplementedError("Lop(consider_constant=...) is not implemented; use disconnected_grad on those variables")
    fs, _ = _listed(f)
    wrts, single_wrt = _listed(wrt)
    points, _ = _listed(eval_points)
    if len(fs) != len(points):
        raise ValueError(f"Lop: {len(fs)} expressions but {len(points)} eval points")
    result = _core.Lop(_as_variables(fs), _as_variables(wrts), [None if p is None else _core.as_variable(p) for p in points],
                       disconnected_inputs)
    return result[0] if single_wrt else result


def _per_wrt(core, name, expression, wrt, consider_constant, disconnected_inputs):
    if consider_constant:
        raise NotImplementedError(f"{name}(consider_constant=...) is not implemented; use disconnected_grad")
    wrts, single = _listed(wrt)
    result = core(_core.as_variable(expression), _as_variables(wrts), disconnected_inputs)
    return result[0] if single else result


def jacobian(expression, wrt, consider_constant=None, disconnected_inputs="raise"):
    """d expression / d wrt, shaped expression.shape + wrt.shape (one reverse pass per element, in a scan)."""
    return _per_wrt(_core.jacobian, "jacobian", expression, wrt, consider_constant, disconnected_inputs)


def hessian(cost, wrt, consider_constant=None, disconnected_inputs="raise"):
    """The matrix of second derivatives of the scalar cost with respect to each wrt."""
    return _per_wrt(_core.hessian, "hessian", cost, wrt, consider_constant, disconnected_inputs)


def hessian_vector_product(cost, wrt, p, **grad_kwargs):
    """H p for the Hessian H of the scalar cost, without forming H."""
    wrts, single = _listed(wrt)
    ps, _ = _listed(p)
    result = _core.hessian_vector_product(_core.as_variable(cost), _as_variables(wrts), _as_variables(ps))
    return result[0] if single else result


__getattr__ = module_getattr(__name__, {"subgraph_grad": "subgraph_grad is not implemented",
                                        "grad_clip": "grad_clip is not implemented",
                                        "grad_scale": "grad_scale is not implemented"})
