"""Reverse-mode gradients and their finite-difference check (Theano's theano.gradient)."""
import warnings

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
    grads = [g if w.dtype.startswith(("float", "complex")) else _core.cast(g, config.floatX) for w, g in zip(wrt_list, grads)]
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


def undefined_grad(x):
    """x in the forward pass; taking a gradient through it raises hypatia.GradientError."""
    return _core.undefined_grad(x)


def consider_constant(x):
    """Deprecated in Theano for zero_grad: x in the forward pass, a zero gradient flowing back."""
    warnings.warn("consider_constant() is deprecated, use zero_grad() or disconnected_grad() instead",
                  DeprecationWarning, stacklevel=2)
    return _core.zero_grad(x)


def grad_scale(x, multiplier):
    """x in the forward pass; the gradient flowing back through it is multiplied by multiplier."""
    x = _core.as_variable(x)
    held = _core.disconnected_grad(x)
    # held + m * (x - held) is exactly x (x - held is 0), and only the second term carries a gradient.
    return held + multiplier * (x - held)


def grad_clip(x, lower_bound, upper_bound):
    """x in the forward pass; the gradient flowing back through it is clipped elementwise to
    [lower_bound, upper_bound] (numbers, lower_bound <= upper_bound)."""
    return _core.grad_clip(x, float(lower_bound), float(upper_bound))


class numeric_grad:
    """The gradient of f (a function of NumPy arrays returning a scalar) at pt by one-sided finite
    differences: gf[i] = (f(pt + eps e_i) - f(pt)) / eps, with eps chosen from the inputs' dtypes
    (type_eps) unless given. pt is an array or a list of arrays; gf has the same form."""

    type_eps = {"float64": 1e-7, "float32": 3e-4, "float16": 1e-1}

    def __init__(self, f, pt, eps=None, out_type=None):
        single = not isinstance(pt, (list, tuple))
        points = [np.array(p) for p in ([pt] if single else pt)]
        dtypes = [str(p.dtype) if str(p.dtype) in self.type_eps else "float64" for p in points]
        # Differences are taken in the dtype with the smallest step, the finest the inputs allow.
        working_dtype = min(dtypes, key=lambda dtype: self.type_eps[dtype])
        if eps is None:
            eps = max(self.type_eps[dtype] for dtype in dtypes)
        points = [p.astype(working_dtype) for p in points]
        f_at_pt = f(*[p.copy() for p in points])
        gradients = []
        for p in points:
            flat = p.ravel()
            gradient = np.empty(flat.size, dtype=working_dtype)
            for i in range(flat.size):
                stepped = flat.copy()
                stepped[i] += eps
                args = [q.copy() if q is not p else stepped.reshape(p.shape) for q in points]
                gradient[i] = (f(*args) - f_at_pt) / eps
            gradients.append(gradient.reshape(p.shape))
        self.gf = gradients[0] if single else gradients

    @staticmethod
    def abs_rel_err(a, b):
        """|a - b| and |a - b| / max(|a| + |b|, 1e-8), elementwise."""
        abs_err = np.abs(np.asarray(a) - np.asarray(b))
        return abs_err, abs_err / np.maximum(np.abs(a) + np.abs(b), 1e-8)

    def abs_rel_errors(self, g_pt):
        """(abs_err, rel_err) for each symbolic gradient in g_pt against the numeric one."""
        numeric = self.gf if isinstance(self.gf, list) else [self.gf]
        if len(g_pt) != len(numeric):
            raise ValueError(f"numeric_grad: {len(g_pt)} gradients given for {len(numeric)} inputs")
        errors = []
        for i, (a, b) in enumerate(zip(g_pt, numeric)):
            if np.shape(a) != np.shape(b):
                raise ValueError(f"numeric_grad: gradient {i} has shape {np.shape(a)}, expected {np.shape(b)}")
            errors.append(self.abs_rel_err(a, b))
        return errors

    def max_err(self, g_pt, abs_tol, rel_tol):
        """The worst violation of the tolerances: (input index, flat element index, abs_err, rel_err) where
        min(abs_err / abs_tol, rel_err / rel_tol) is largest; above 1 both tolerances are exceeded."""
        worst = None
        for i, (abs_err, rel_err) in enumerate(self.abs_rel_errors(g_pt)):
            if not (np.all(np.isfinite(abs_err)) and np.all(np.isfinite(rel_err))):
                raise ValueError(f"numeric_grad: the errors of gradient {i} are not finite")
            scaled = np.minimum(abs_err / abs_tol, rel_err / rel_tol).ravel()
            if scaled.size == 0:
                continue
            k = int(scaled.argmax())
            if worst is None or scaled[k] > worst[0]:
                worst = (scaled[k], i, k, abs_err.ravel()[k], rel_err.ravel()[k])
        return (0, 0, 0.0, 0.0) if worst is None else worst[1:]


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


__getattr__ = module_getattr(__name__, {
    "subgraph_grad": "subgraph_grad is not implemented",
})
