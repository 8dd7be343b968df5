"""Differential fuzzing of Hypatia's op library against NumPy.

Each random graph is built side by side: every node carries its Hypatia source (`hcode`, over inputs x0,
x1, ...), its NumPy source (`ncode`, over arrays a0, a1, ...), the symbolic Variable and the NumPy value.
Both are produced from the same template, so a failing node prints as a standalone reproducer. The NumPy
value drives generation: domains of math functions are checked on the actual values, and decisions that
are discontinuous (comparisons, floor, casts to int, argmax, argsort) are only taken where the value is
farther from the discontinuity than its estimated rounding error (`Expr.err`).

Many independent graphs are compiled into one function (compiling FAST_RUN invokes the C++ compiler);
each graph has its own inputs and output, so a mismatch names its graph, and the graph's smallest failing
subtree is found by compiling all its subtrees as outputs of one more function.
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

import hypatia as theano
import hypatia.tensor as T
from hypatia.ifelse import ifelse
from hypatia.tensor import nnet

UINT_DTYPES = ["uint8", "uint16", "uint32", "uint64"]
INT_DTYPES = ["int8", "int16", "int32", "int64"] + UINT_DTYPES
ALL_DTYPES = ["bool"] + INT_DTYPES + ["float16", "float32", "float64"]
FLOAT_DTYPES = ["float16", "float32", "float64"]
COMPLEX_DTYPES = ["complex64", "complex128"]
EPS = {name: float(np.finfo(name).eps) for name in FLOAT_DTYPES + COMPLEX_DTYPES}
MAX_MAGNITUDE = 1e4  # larger float values are not generated: they only test overflow, not the ops

# NumPy stand-ins for ops NumPy lacks. Executed into the NumPy namespace and copied into reproducers.
NUMPY_HELPERS = '''
import math
def np_float(dtype):  # Theano's upgrade_to_float: float32 for bools and 8- and 16-bit ints, float64 for wider ones
    dtype = np.dtype(dtype)
    return dtype.name if dtype.kind == "f" else ("float32" if dtype.itemsize <= 2 else "float64")
def np_in64(fn):  # fn computed in float64, returned in the input's dtype
    return lambda x: np.asarray(fn(np.asarray(x, "float64"))).astype(np.asarray(x).dtype)
np_sigmoid = np_in64(lambda x: 1 / (1 + np.exp(-x)))
np_softplus = np_in64(lambda x: np.logaddexp(0, x))
np_erf = np_in64(np.vectorize(math.erf, otypes=[np.float64]))
np_erfc = np_in64(np.vectorize(math.erfc, otypes=[np.float64]))
def np_softmax(x, axis):
    x64 = x.astype("float64")
    e = np.exp(x64 - x64.max(axis=axis, keepdims=True)) if x.size else x64
    return (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)
def np_log_softmax(x, axis):
    x64 = x.astype("float64")
    s = x64 - x64.max(axis=axis, keepdims=True) if x.size else x64
    return (s - np.log(np.exp(s).sum(axis=axis, keepdims=True))).astype(x.dtype)
def np_crossentropy_of_softmax(x, labels):
    return -np_log_softmax(x, -1).astype("float64")[np.arange(len(labels)), labels].astype(x.dtype)
def np_dimshuffle(x, pattern):  # Theano's dimshuffle: kept axes in order, "x" inserts, unlisted (size-1) axes drop
    kept = [p for p in pattern if p != "x"]
    dropped = tuple(d for d in range(x.ndim) if d not in kept)
    y = np.transpose(x.reshape([s for d, s in enumerate(x.shape) if d not in dropped]),
                     np.argsort(np.argsort(kept)))
    return y.reshape([1 if p == "x" else x.shape[p] for p in pattern])
def np_flatten(x, ndim):
    return x.reshape(x.shape[:ndim - 1] + (math.prod(x.shape[ndim - 1:]),))
def np_set_subtensor(x, index, y):
    out = x.copy()
    out[index] = y
    return out
def np_inc_subtensor(x, index, y):
    out = x.copy()
    np.add.at(out, index, np.asarray(y).astype(x.dtype))
    return out
def np_complex(re, im):  # Theano's complex(): complex128 when either part is float64, else complex64
    wide = "float64" in (np.asarray(re).dtype.name, np.asarray(im).dtype.name)
    return (np.asarray(re, "float64") + 1j * np.asarray(im, "float64")).astype("complex128" if wide else "complex64")
def np_batched_dot(x, y):
    return np.matmul(x, y) if x.ndim == 3 else np.sum(x * y, axis=1)
def np_scan_map(fn, seq):
    return np.stack([np.asarray(fn(row)) for row in seq])
def np_scan_accumulate(fn, seq, initial):
    states, state = [], initial
    for row in seq:
        state = np.asarray(fn(row, state))
        states.append(state)
    return np.stack(states)
'''

REPRO_HEADER = '''import numpy as np
import hypatia as theano
import hypatia.tensor as T
from hypatia.ifelse import ifelse
from hypatia.tensor import nnet
'''

HYPATIA_ENV = {"T": T, "theano": theano, "ifelse": ifelse, "nnet": nnet, "np": np}
NUMPY_ENV = {"np": np}
exec(NUMPY_HELPERS, NUMPY_ENV)


def upgrade_to_float(dtype):
    return NUMPY_ENV["np_float"](dtype)


def sum_dtype(dtype):
    """The dtype of sums and products (NumPy's and Hypatia's): int64 for bools and signed integers, uint64 for
    unsigned ones."""
    dtype = np.dtype(dtype)
    return dtype.name if dtype.kind == "f" else ("uint64" if dtype.kind == "u" else "int64")


def promote(*dtypes):
    return np.result_type(*dtypes).name


# ---- Graph nodes ----

@dataclass(eq=False)
class Input:
    name: str            # x3 (symbolic) and a3 (NumPy) in the generated code
    dtype: str
    value: np.ndarray    # possibly a non-contiguous view: what the function is called with
    value_code: str      # NumPy source that rebuilds value (for reproducers)
    symbol: object

    @property
    def array_name(self):
        return "a" + self.name[1:]


@dataclass(eq=False)
class Expr:
    hcode: str
    ncode: str
    sym: object
    val: np.ndarray
    err: float                     # estimated absolute rounding error of val (0: computed exactly)
    tag: str                       # the op that made it ("unary:exp", "index", "input", ...)
    children: list = field(default_factory=list)
    inputs: tuple = ()             # Input objects the expression reads
    stepwise: bool = False         # inside a scan body: val holds every step at once

    @property
    def dtype(self):
        return self.val.dtype.name

    @property
    def shape(self):
        return self.val.shape

    @property
    def ndim(self):
        return self.val.ndim

    @property
    def is_float(self):
        return self.dtype in FLOAT_DTYPES

    @property
    def is_complex(self):
        return self.dtype in COMPLEX_DTYPES

    def magnitude(self):
        return float(np.max(np.abs(self.val).astype("float64"))) if self.val.size else 0.0

    def margin(self):
        """How far from a discontinuity val must be for NumPy and Hypatia to decide alike."""
        return 0.0 if self.err == 0 else 20 * self.err + 1e-6

    def subtrees(self):
        seen, order = set(), []

        def visit(node):
            if id(node) in seen:
                return
            seen.add(id(node))
            for child in node.children:
                visit(child)
            order.append(node)
        visit(self)
        return order


class Rejected(Exception):
    """The generator's choice does not fit the values (domain, margin, shape): try something else."""


@dataclass
class Finding:
    kind: str         # "build", "compile", "run", "value", "grad", "dtype"
    message: str
    expr: Expr
    mode: str = ""

    def signature(self):
        return f"{self.kind}:{self.expr.tag}:" + ",".join(c.dtype for c in self.expr.children)

    def reproducer(self, gradient=False):
        return reproducer(self.expr, f"{self.kind}{' (' + self.mode + ')' if self.mode else ''}: {self.message}",
                          gradient=gradient)


@dataclass
class KnownBug:
    """A Hypatia bug the generator avoids until it is fixed: `matches(tag, children, params)`."""
    name: str
    matches: object
    reproducer: str = ""


# ---- Tolerances and comparisons ----

def tolerance(expr):
    """Absolute tolerance for expr's value: its error estimate plus a few ulps of the result."""
    if not (expr.is_float or expr.is_complex):
        return 0.0
    return 10 * expr.err + 8 * EPS[expr.dtype] * max(expr.magnitude(), 1e-30)


def compare(got, want, atol, what):
    """None if got matches want (dtype, shape, values within atol), else a message."""
    if not isinstance(got, np.ndarray):
        return f"{what}: expected an ndarray, got {type(got).__name__}"
    if got.dtype != want.dtype:
        return f"{what}: dtype {got.dtype}, expected {want.dtype}"
    if got.shape != want.shape:
        return f"{what}: shape {got.shape}, expected {want.shape}"
    if want.dtype.kind in "fc":
        bad = ~np.isclose(got, want, rtol=0, atol=atol, equal_nan=True)
    else:
        bad = got != want
    if np.any(bad):
        where = tuple(int(i[0]) for i in np.nonzero(bad)) if want.ndim else ()
        return (f"{what}: {int(np.sum(bad))} of {want.size} values differ (atol {atol:.3g}); "
                f"at {where}: got {got[where]!r}, expected {want[where]!r}")
    return None


# ---- The generator ----

# Unary elementwise ops: name -> (NumPy function source, rule, domain check on float64 values,
# |derivative| bound on those values for error propagation). Rules: "float" (Theano's upgrade_to_float),
# "same", "bool".
UNARY = {
    "exp": ("np.exp", "float", lambda v: np.all(np.abs(v) <= 5), np.exp),
    "exp2": ("np.exp2", "float", lambda v: np.all(np.abs(v) <= 6), lambda v: np.exp2(v)),
    "expm1": ("np.expm1", "float", lambda v: np.all(np.abs(v) <= 5), np.exp),
    "log": ("np.log", "float", lambda v: np.all(v >= 0.05), lambda v: 1 / v),
    "log2": ("np.log2", "float", lambda v: np.all(v >= 0.05), lambda v: 1.5 / v),
    "log10": ("np.log10", "float", lambda v: np.all(v >= 0.05), lambda v: 0.5 / v),
    "log1p": ("np.log1p", "float", lambda v: np.all(v >= -0.9), lambda v: 1 / (1 + v)),
    "sqrt": ("np.sqrt", "float", lambda v: np.all(v >= 0.01), lambda v: 0.5 / np.sqrt(v)),
    "reciprocal": ("np.reciprocal", "float", lambda v: np.all(np.abs(v) >= 0.2), lambda v: 1 / v ** 2),
    "tanh": ("np.tanh", "float", None, lambda v: 1.0),
    "sigmoid": ("np_sigmoid", "float", None, lambda v: 0.25),
    "softplus": ("np_softplus", "float", lambda v: np.all(np.abs(v) <= 50), lambda v: 1.0),
    "sin": ("np.sin", "float", lambda v: np.all(np.abs(v) <= 20), lambda v: 1.0),
    "cos": ("np.cos", "float", lambda v: np.all(np.abs(v) <= 20), lambda v: 1.0),
    "tan": ("np.tan", "float", lambda v: np.all(np.abs(v) <= 1.2), lambda v: 1 / np.cos(v) ** 2),
    "arcsin": ("np.arcsin", "float", lambda v: np.all(np.abs(v) <= 0.9), lambda v: 1 / np.sqrt(1 - v ** 2)),
    "arccos": ("np.arccos", "float", lambda v: np.all(np.abs(v) <= 0.9), lambda v: 1 / np.sqrt(1 - v ** 2)),
    "arctan": ("np.arctan", "float", None, lambda v: 1.0),
    "sinh": ("np.sinh", "float", lambda v: np.all(np.abs(v) <= 5), np.cosh),
    "cosh": ("np.cosh", "float", lambda v: np.all(np.abs(v) <= 5), np.cosh),
    "erf": ("np_erf", "float", lambda v: np.all(np.abs(v) <= 5), lambda v: 1.2),
    "erfc": ("np_erfc", "float", lambda v: np.all(np.abs(v) <= 5), lambda v: 1.2),
    "neg": ("np.negative", "same", None, lambda v: 1.0),
    "abs": ("np.abs", "same", None, lambda v: 1.0),
    "sqr": ("np.square", "same", None, lambda v: 2 * np.abs(v)),
    "sign": ("np.sign", "same", "nonzero", lambda v: 0.0),
    "floor": ("np.floor", "float", "integers", lambda v: 0.0),
    "ceil": ("np.ceil", "float", "integers", lambda v: 0.0),
    "round": ("np.round", "same", "halves", lambda v: 0.0),
    "logical_not": ("np.logical_not", "bool", "nonzero", lambda v: 0.0),
    "isnan": ("np.isnan", "bool", None, lambda v: 0.0),
    "isinf": ("np.isinf", "bool", None, lambda v: 0.0),
}
# Smooth ops for gradient graphs (no kinks, no flat steps).
SMOOTH_UNARY = ["exp", "expm1", "log", "log1p", "sqrt", "reciprocal", "tanh", "sigmoid", "softplus", "sin",
                "cos", "tan", "arcsin", "arctan", "sinh", "cosh", "erf", "sqr", "neg"]

# Binary ops: name -> (NumPy function source, rule). Domains are checked in `binary`.
BINARY = {
    "add": ("np.add", "same"), "sub": ("np.subtract", "same"), "mul": ("np.multiply", "same"),
    "true_div": ("np.true_divide", "float"), "int_div": ("np.floor_divide", "same"), "mod": ("np.mod", "same"),
    "pow": ("np.power", "same"), "arctan2": ("np.arctan2", "float"), "maximum": ("np.maximum", "same"),
    "minimum": ("np.minimum", "same"), "eq": ("np.equal", "bool"), "neq": ("np.not_equal", "bool"),
    "lt": ("np.less", "bool"), "le": ("np.less_equal", "bool"), "gt": ("np.greater", "bool"),
    "ge": ("np.greater_equal", "bool"), "logical_and": ("np.logical_and", "logical"),
    "logical_or": ("np.logical_or", "logical"), "logical_xor": ("np.logical_xor", "logical"),
    "and_": ("np.bitwise_and", "bits"), "or_": ("np.bitwise_or", "bits"), "xor": ("np.bitwise_xor", "bits"),
}
SMOOTH_BINARY = ["add", "sub", "mul", "true_div", "pow"]
REFUSE_BOOL = {"sub", "int_div", "mod", "pow", "neg", "sign"}  # Hypatia (and NumPy) refuse bool operands


def _f64(expr):
    return expr.val.astype("float64")


class Generator:
    """Random graphs over fresh inputs. gradient=True restricts to float64 inputs and ops that are smooth
    at the generated values (for finite differences)."""

    def __init__(self, seed, known_bugs=(), gradient=False, max_depth=4):
        self.rng = np.random.default_rng(seed)
        self.known_bugs = list(known_bugs)
        self.gradient = gradient
        self.max_depth = max_depth
        self.inputs = []
        self.findings = []   # Hypatia refused or mistyped a node at build time

    # -- random helpers --
    def chance(self, p):
        return self.rng.random() < p

    def pick(self, options, weights=None):
        if weights is not None:
            weights = np.asarray(weights, float) / np.sum(weights)
        return options[int(self.rng.choice(len(options), p=weights))]

    def random_dtype(self):
        if self.gradient:
            return "float64"
        return self.pick(ALL_DTYPES, [1, 1, 1, 1, 1.5, 1, 0.5, 0.5, 0.5, 1, 4, 4])

    def random_shape(self, ndim=None):
        ndim = self.pick([0, 1, 2, 3], [1, 3, 4, 2]) if ndim is None else ndim
        sizes = [0, 1, 2, 3, 4] if not self.gradient else [1, 2, 3]
        return tuple(int(self.pick(sizes, [0.4, 2, 3, 3, 2][:len(sizes)] if not self.gradient else None))
                     for _ in range(ndim))

    # -- inputs --
    def new_input(self, shape, dtype, exact_ints=False):
        """A fresh input of shape and dtype, often passed as a strided, transposed or offset NumPy view."""
        index = len(self.inputs)
        name = f"x{index}"
        shape = tuple(shape)
        layout = "contiguous" if self.gradient else self.pick(["contiguous", "transposed", "strided", "offset",
                                                               "reversed"], [4, 1, 1, 1, 1])
        if layout != "contiguous" and not shape:
            layout = "contiguous"
        if layout == "transposed":
            base_shape, view = shape[::-1], ".T"
        elif layout == "strided":
            base_shape, view = (2 * shape[0],) + shape[1:], "[::2]"
        elif layout == "offset":
            base_shape, view = (shape[0] + 1,) + shape[1:], "[1:]"
        elif layout == "reversed":
            base_shape, view = shape, "[::-1]"
        else:
            base_shape, view = shape, ""
        base = self.random_values(base_shape, dtype)
        value = eval("base" + view, {"base": base}) if view else base
        assert value.shape == shape
        value_code = f"np.array({base.tolist()!r}, dtype={dtype!r}){view}"
        symbol = T.tensor(name, dtype=dtype, shape=tuple(1 if s == 1 else None for s in shape))
        inp = Input(name, dtype, value, value_code, symbol)
        self.inputs.append(inp)
        return Expr(name, inp.array_name, symbol, value, 0.0, "input", [], (inp,))

    def random_values(self, shape, dtype):
        if dtype == "bool":
            return self.rng.random(shape) < 0.5
        if dtype in COMPLEX_DTYPES:
            parts = self.rng.uniform(-2.0, 2.0, (2,) + tuple(shape))
            return (parts[0] + 1j * parts[1]).astype(dtype)
        if dtype in FLOAT_DTYPES:
            # Away from 0 (kinks of abs, relu, sign) and moderate in size.
            magnitude = self.rng.uniform(0.2, 2.5, shape)
            return (magnitude * self.pick([-1, 1]) * np.where(self.rng.random(shape) < 0.7, 1, -1)).astype(dtype)
        low, high = (0, 9) if dtype in UINT_DTYPES else (-6, 7)
        return self.rng.integers(low, high, shape).astype(dtype)

    def leaf(self, shape=None, dtype=None):
        return self.new_input(self.random_shape() if shape is None else shape, dtype or self.random_dtype())

    # -- building a node --
    def apply(self, tag, hfmt, nfmt, children, err=0.0, params=None):
        """The node hfmt(children) / nfmt(children). Raises Rejected where NumPy refuses it or the value
        is out of range; records a Finding where Hypatia refuses it or types it unlike NumPy."""
        params = dict(params or {}, gradient=self.gradient)
        for bug in self.known_bugs:
            if bug.matches(tag, children, params):
                raise Rejected(f"known bug {bug.name}")
        names = [f"_c{i}" for i in range(len(children))]
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                val = np.asarray(eval(nfmt(*names), NUMPY_ENV, dict(zip(names, (c.val for c in children))))).copy()
        except (ValueError, IndexError, TypeError, OverflowError) as error:
            raise Rejected(f"NumPy refuses {tag}: {error}")
        if val.dtype.kind in "fc" and val.size and not (np.all(np.isfinite(val)) and np.max(np.abs(val)) <= MAX_MAGNITUDE):
            raise Rejected("value out of range")
        if val.dtype.kind not in "biufc":
            raise Rejected(f"NumPy dtype {val.dtype}")
        inputs = tuple(dict.fromkeys(inp for c in children for inp in c.inputs))
        hcode, ncode = hfmt(*(c.hcode for c in children)), nfmt(*(c.ncode for c in children))
        stepwise = any(c.stepwise for c in children)
        node = Expr(hcode, ncode, None, val, float(err), tag, list(children), inputs, stepwise)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                node.sym = eval(hfmt(*names), HYPATIA_ENV, dict(zip(names, (c.sym for c in children))))
        except Exception as error:  # noqa: BLE001 - any refusal of a valid NumPy expression is a finding
            self.findings.append(Finding("build", f"{type(error).__name__}: {error}", node))
            raise Rejected("Hypatia refused the node")
        static = getattr(node.sym, "type", None)
        problem = None
        if node.sym.dtype != node.dtype:
            problem = f"static dtype {node.sym.dtype}, NumPy gives {node.dtype}"
        elif stepwise:
            pass  # val stacks every step: one more dimension than the step's symbol
        elif node.sym.ndim != node.ndim:
            problem = f"static ndim {node.sym.ndim}, NumPy gives {node.ndim}"
        elif static is not None and any(s is not None and s != v for s, v in zip(static.shape, node.shape)):
            problem = f"static shape {static.shape}, NumPy gives {node.shape}"
        if problem:
            self.findings.append(Finding("dtype", problem, node))
            raise Rejected(problem)
        return node

    # -- the graph --
    def graph(self):
        """One random graph over fresh inputs (retries until the choices fit the values)."""
        for _ in range(50):
            try:
                return self.expr(self.max_depth, top=True)
            except Rejected:
                continue
        return self.leaf()

    def expr(self, depth, top=False):
        if depth <= 0 or (self.chance(0.15) and not top):
            return self.leaf()
        families = [self.unary, self.binary, self.clip, self.where, self.cast, self.reduce, self.product,
                    self.shape_op, self.index, self.write_subtensor, self.nnet_op, self.sort_cumulative,
                    self.scan, self.ifelse, self.complex_op]
        weights = [4, 4, 1, 1, 1, 3, 2, 4, 3, 2, 1.5, 1.5, 1, 1, 1.5]
        if self.gradient:
            families[4] = self.unary  # casts break the float64 chain
        for _ in range(8):
            family = self.pick(families, weights)
            try:
                return family(depth)
            except (Rejected, ValueError, IndexError, OverflowError):  # NumPy refusing a check on odd values
                continue
        raise Rejected("no family fits")

    def child(self, depth, float_only=False, min_ndim=0):
        for _ in range(8):
            c = self.expr(depth - 1)
            if (not float_only or c.is_float) and c.ndim >= min_ndim:
                return c
        return self.leaf(self.random_shape(self.pick([d for d in (1, 2, 3) if d >= min_ndim])),
                         self.pick(FLOAT_DTYPES) if float_only else None)

    def like(self, target, depth, dtype=None):
        """An operand broadcastable against target: a leaf (some dims 1 or dropped) or an elementwise
        expression of one."""
        shape = list(target.shape)
        if self.chance(0.3):
            shape = [1 if (self.chance(0.3) and not self.gradient) else s for s in shape]
        if shape and self.chance(0.2):
            shape = shape[self.rng.integers(0, len(shape) + 1):]
        operand = self.leaf(tuple(shape), dtype)
        if depth > 1 and self.chance(0.4):
            try:
                operand = self.unary(depth, operand)
            except Rejected:
                pass
        return operand

    # -- elementwise --
    def unary(self, depth, operand=None):
        a = operand if operand is not None else self.child(depth)
        ops = SMOOTH_UNARY if self.gradient else list(UNARY)
        for _ in range(6):
            op = self.pick(ops)
            numpy_fn, rule, domain, derivative = UNARY[op]
            if op in REFUSE_BOOL and a.dtype == "bool" or op in ("sqr", "round") and a.dtype == "bool":
                continue
            work = upgrade_to_float(a.dtype) if rule == "float" else a.dtype
            v = _f64(a)
            if callable(domain) and not domain(v):
                continue
            if domain == "integers" and not self.clear_of(v - np.round(v), a):
                continue
            if domain == "halves" and not self.clear_of(v - np.floor(v) - 0.5, a):
                continue
            if domain == "nonzero" and not self.clear_of(v, a):
                continue
            cast = f".astype({work!r})" if work != a.dtype else ""
            grow = float(np.max(np.abs(derivative(v)))) if v.size else 0.0
            node_err = a.err * grow
            try:
                node = self.apply(f"unary:{op}", lambda x, op=op: f"T.{op}({x})",
                                  lambda x, f=numpy_fn, c=cast: f"{f}({x}{c})", [a], node_err)
            except Rejected:
                continue
            node.err += self.rounding(node)
            return node
        raise Rejected("no unary op fits")

    def clear_of(self, distances, expr):
        """Whether every value is farther from a discontinuity than its error margin."""
        return expr.err == 0 or not distances.size or float(np.min(np.abs(distances))) > expr.margin()

    def rounding(self, node, count=1):
        return 2 * count * EPS[node.dtype] * node.magnitude() if node.is_float or node.is_complex else 0.0

    def binary(self, depth):
        a = self.child(depth)
        ops = SMOOTH_BINARY if self.gradient else list(BINARY)
        for _ in range(6):
            op = self.pick(ops)
            numpy_fn, rule = BINARY[op]
            scalar = not self.gradient and op in ("add", "sub", "mul", "maximum", "lt") and self.chance(0.25)
            if scalar:
                b = None
                literal = self.pick(["2", "3", "1.5", "0.5", "-1"]) if a.dtype != "bool" else self.pick(["2", "1.5"])
            else:
                b = self.like(a, depth, self.random_dtype() if self.chance(0.5) else a.dtype)
            operands = [a] if b is None else [a, b]
            if b is None:
                b_val = np.asarray(eval(literal))
            else:
                b_val = b.val
            promoted = promote(a.dtype, b.dtype) if b is not None else None
            if b is not None and not self.binary_fits(op, rule, a, b, promoted):
                continue
            if b is None and (op == "sub" and a.dtype == "bool"):
                continue
            work = None
            if rule == "float" and b is not None:
                work = upgrade_to_float(promoted)
            if b is None:
                hfmt = {"add": lambda x: f"({x} + {literal})", "sub": lambda x: f"({literal} - {x})",
                        "mul": lambda x: f"({x} * {literal})", "maximum": lambda x: f"T.maximum({x}, {literal})",
                        "lt": lambda x: f"({x} < {literal})"}[op]
                nfmt = {"maximum": lambda x: f"np.maximum({x}, {literal})"}.get(op, hfmt)
                if op == "lt" and not self.clear_of(_f64(a) - float(b_val), a):
                    continue
            elif work:
                hfmt = lambda x, y, op=op: f"T.{op}({x}, {y})"
                nfmt = lambda x, y, f=numpy_fn, w=work: f"{f}({x}.astype({w!r}), {y}.astype({w!r}))"
            else:
                hfmt = lambda x, y, op=op: f"T.{op}({x}, {y})"
                nfmt = lambda x, y, f=numpy_fn: f"{f}({x}, {y})"
            try:
                node = self.apply(f"binary:{op}", hfmt, nfmt, operands, 0.0, {"scalar": b is None})
            except Rejected:
                continue
            node.err = self.binary_error(op, a, b, b_val) + self.rounding(node)
            return node
        raise Rejected("no binary op fits")

    def binary_fits(self, op, rule, a, b, promoted):
        va, vb = _f64(a), _f64(b)
        if op in REFUSE_BOOL and promoted == "bool":
            return False
        if rule == "bits" and promoted not in INT_DTYPES + ["bool"]:
            return False
        if op == "true_div":
            return not vb.size or np.min(np.abs(vb)) >= 0.2
        if op in ("int_div", "mod"):
            if promoted in FLOAT_DTYPES:  # floor of a quotient: exact operands only, no tiny divisors
                return a.err == 0 and b.err == 0 and (not vb.size or np.min(np.abs(vb)) >= 0.5)
            return True  # integer division by zero gives 0 in both
        if op == "pow":
            if promoted in FLOAT_DTYPES:
                return (not va.size or (np.min(va) >= 0.1 and np.max(va) <= 10)) and (not vb.size or np.max(np.abs(vb)) <= 3)
            return not vb.size or (np.min(vb) >= 0 and np.max(vb) <= 3)
        if rule == "bool" and op not in ("maximum", "minimum"):
            if a.err or b.err:
                diff = va - vb if va.shape == vb.shape else np.subtract(*np.broadcast_arrays(va, vb))
                return diff.size == 0 or np.min(np.abs(diff)) > 20 * (a.err + b.err) + 1e-6
        if rule == "logical":
            return self.clear_of(va, a) and self.clear_of(vb, b)
        if self.gradient and op in ("maximum", "minimum"):
            return False
        return True

    def binary_error(self, op, a, b, b_val):
        ea, eb = a.err, (b.err if b is not None else 0.0)
        ma = a.magnitude()
        mb = float(np.max(np.abs(np.asarray(b_val, "float64")))) if np.size(b_val) else 0.0
        if op in ("add", "sub", "maximum", "minimum"):
            return ea + eb
        if op == "mul":
            return ea * mb + eb * ma + ea * eb
        if op == "true_div":
            low = float(np.min(np.abs(np.asarray(b_val, "float64")))) if np.size(b_val) else 1.0
            return ea / low + eb * ma / low ** 2
        if op == "pow":
            return (ea + eb) * max(1.0, ma) ** 3 * 4
        if op == "arctan2":
            return (ea + eb) * 10
        return 0.0

    def clip(self, depth):
        a = self.child(depth)
        if a.dtype == "bool" or self.gradient and a.err:
            raise Rejected("clip of bool")
        low, high = (1, 4) if a.dtype in INT_DTYPES else self.pick([(-1.0, 1.5), (0.5, 2.0)])
        if self.gradient and not self.clear_of(np.minimum(np.abs(_f64(a) - low), np.abs(_f64(a) - high)), a):
            raise Rejected("too close to the bounds")
        return self.apply("clip", lambda x: f"T.clip({x}, {low}, {high})", lambda x: f"np.clip({x}, {low}, {high})",
                          [a], a.err)

    def where(self, depth):
        a = self.child(depth)
        cond = self.like(a, 1, "bool") if self.chance(0.6) or self.gradient else self.like(a, 1, self.pick(INT_DTYPES))
        b = self.like(a, depth, a.dtype if self.chance(0.6) else self.random_dtype())
        fn = self.pick(["switch", "where"])
        return self.apply(f"where", lambda c, x, y: f"T.{fn}({c}, {x}, {y})", lambda c, x, y: f"np.where({c}, {x}, {y})",
                          [cond, a, b], max(a.err, b.err))

    def cast(self, depth):
        a = self.child(depth)
        target = self.pick(ALL_DTYPES)
        v = _f64(a)
        if a.is_float and target in INT_DTYPES:
            info = np.iinfo(target)
            if v.size and (np.min(v) <= info.min or np.max(v) >= info.max):
                raise Rejected("out of the target's range")
            if not self.clear_of(v - np.round(v), a) or not self.clear_of(v, a):
                raise Rejected("too close to an integer")
        if a.is_float and target == "bool" and not self.clear_of(v, a):
            raise Rejected("too close to zero")
        fn = self.pick(["cast", "astype"])
        hfmt = (lambda x: f"T.cast({x}, {target!r})") if fn == "cast" else (lambda x: f"{x}.astype({target!r})")
        node = self.apply("cast", hfmt, lambda x: f"{x}.astype({target!r})", [a], a.err, {"to": target})
        node.err += self.rounding(node)
        return node

    # -- reductions --
    def reduce(self, depth):
        a = self.child(depth)
        ops = ["sum", "mean", "prod"] if self.gradient else ["sum", "prod", "mean", "max", "min", "argmax",
                                                              "argmin", "any", "all", "var", "std"]
        op = self.pick(ops)
        ndim = a.ndim
        axis_kind = self.pick(["none", "int", "tuple"]) if ndim else "none"
        if axis_kind == "none":
            axis = None
        elif axis_kind == "int" or op in ("argmax", "argmin"):
            axis = int(self.rng.integers(-ndim, ndim))
        else:
            chosen = sorted(self.rng.choice(ndim, size=self.rng.integers(1, ndim + 1), replace=False).tolist())
            axis = tuple(int(d - ndim) if self.chance(0.3) else int(d) for d in chosen)
        keepdims = bool(self.chance(0.4))
        axes = range(ndim) if axis is None else [d % ndim for d in np.atleast_1d(axis)]
        reduced = [a.shape[d] for d in axes]
        if op in ("max", "min", "argmax", "argmin") and (0 in reduced or (axis is None and a.val.size == 0)):
            raise Rejected("NumPy refuses an empty max")
        if op in ("var", "std") and (not a.is_float):
            raise Rejected("var of non-floats")
        if op in ("any", "all") and not self.clear_of(_f64(a), a):
            raise Rejected("too close to zero")
        if op in ("argmax", "argmin") and a.err and not self.arg_clear(a, axis):
            raise Rejected("near-ties")
        if op == "prod" and a.is_float and a.val.size > 12:
            raise Rejected("large product")
        count = int(np.prod(reduced)) if reduced else 1
        if op in ("sum", "prod"):
            out_dtype = sum_dtype(a.dtype)
        elif op in ("mean", "var", "std"):
            out_dtype = a.dtype if a.is_float else "float64"
        else:
            out_dtype = None
        axis_code = repr(axis)
        kd = f", keepdims={keepdims}"
        if op in ("argmax", "argmin"):
            hfmt = lambda x: f"T.{op}({x}, axis={axis_code}{kd})"
            nfmt = lambda x: f"np.{op}({x}, axis={axis_code}{kd})"
        elif out_dtype and out_dtype != a.dtype or op == "mean":
            hfmt = lambda x: f"T.{op}({x}, axis={axis_code}{kd})"
            nfmt = lambda x: f"np.{op}({x}, axis={axis_code}{kd}, dtype={out_dtype!r})"
        else:
            use_method = self.chance(0.3) and op in ("sum", "max", "mean", "prod", "min")
            hfmt = (lambda x: f"{x}.{op}(axis={axis_code}{kd})") if use_method else (lambda x: f"T.{op}({x}, axis={axis_code}{kd})")
            nfmt = lambda x: f"np.{op}({x}, axis={axis_code}{kd})"
        node = self.apply(f"reduce:{op}", hfmt, nfmt, [a], 0.0, {"axis": axis, "keepdims": keepdims})
        if op == "sum":
            node.err = count * a.err + self.rounding(a, count) * max(1, count)
        elif op == "prod":
            low = float(np.min(np.abs(_f64(a)))) if a.val.size else 1.0
            node.err = count * (a.err / max(low, 1e-3) + 2 * EPS.get(node.dtype, 0)) * max(node.magnitude(), 1)
        elif op in ("mean", "var", "std"):
            node.err = 4 * a.err * max(1.0, a.magnitude()) + (self.rounding(a, count) + self.rounding(node)) * 4
        else:
            node.err = a.err
        return node

    def arg_clear(self, a, axis):
        v = _f64(a)
        v = v.reshape(-1) if axis is None else np.moveaxis(v, axis, -1)
        if v.shape[-1] < 2:
            return True
        s = np.sort(v, axis=-1)
        return np.min(np.minimum(s[..., -1] - s[..., -2], s[..., 1] - s[..., 0])) > a.margin()

    # -- products --
    def product(self, depth):
        kind = self.pick(["dot", "matmul", "tensordot", "batched_dot", "outer"])
        dtypes = ["float64"] if self.gradient else FLOAT_DTYPES + ["int32", "int64", "int16"]
        dtype_a = self.pick(dtypes)
        dtype_b = dtype_a if self.chance(0.7) else self.pick(dtypes)
        m, k, n, batch = (int(self.pick([1, 2, 3, 4])) for _ in range(4))
        if not self.gradient and self.chance(0.1):
            k = 0
        if kind == "dot":
            sa, sb = self.pick([((m, k), (k, n)), ((k,), (k, n)), ((m, k), (k,)), ((k,), (k,)), ((batch, m, k), (k, n)),
                                ((), (k,)), ((m, k), ())])
            hfmt, nfmt = (lambda x, y: f"T.dot({x}, {y})"), (lambda x, y: f"np.dot({x}, {y})")
        elif kind == "matmul":
            sa, sb = self.pick([((m, k), (k, n)), ((batch, m, k), (k, n)), ((batch, m, k), (batch, k, n)), ((k,), (batch, k, n)),
                                ((1, m, k), (batch, k, n)), ((m, k), (k,))])
            hfmt, nfmt = (lambda x, y: f"T.matmul({x}, {y})"), (lambda x, y: f"np.matmul({x}, {y})")
        elif kind == "tensordot":
            sa, sb, axes = self.pick([((m, k, n), (k, n, batch), 2), ((m, k), (k, n), 1), ((m, k), (n,), 0),
                                      ((m, k, n), (n, batch, k), [[1, 2], [2, 0]]), ((k, n), (k, n), ([0, 1], [0, 1]))])
            hfmt = lambda x, y: f"T.tensordot({x}, {y}, {axes!r})"
            nfmt = lambda x, y: f"np.tensordot({x}, {y}, {axes!r})"
        elif kind == "batched_dot":
            sa, sb = self.pick([((batch, m, k), (batch, k, n)), ((batch, k), (batch, k))])
            hfmt, nfmt = (lambda x, y: f"T.batched_dot({x}, {y})"), (lambda x, y: f"np_batched_dot({x}, {y})")
        else:
            sa, sb = (m,), (n,)
            hfmt, nfmt = (lambda x, y: f"T.outer({x}, {y})"), (lambda x, y: f"np.outer({x}, {y})")
        a, b = self.shaped(sa, dtype_a, depth), self.shaped(sb, dtype_b, depth)
        node = self.apply(f"product:{kind}", hfmt, nfmt, [a, b])
        inner = max(k, n, 1)
        node.err = inner * (a.err * max(b.magnitude(), 1) + b.err * max(a.magnitude(), 1)) \
            + inner * 2 * EPS.get(node.dtype, 0) * max(a.magnitude(), 1) * max(b.magnitude(), 1)
        return node

    def shaped(self, shape, dtype, depth):
        """An expression of exactly this shape and dtype: a leaf, sometimes through an elementwise op."""
        operand = self.leaf(shape, dtype)
        if depth > 1 and self.chance(0.5):
            try:
                candidate = self.unary(depth, operand)
                if candidate.dtype == dtype:
                    return candidate
            except Rejected:
                pass
        return operand

    # -- shape ops --
    def shape_op(self, depth):
        a = self.child(depth)
        op = self.pick(["reshape", "dimshuffle", "transpose", "flatten", "concatenate", "stack", "expand_dims",
                        "squeeze", "repeat", "tile", "flip", "roll", "swapaxes"])
        nd = a.ndim
        if op == "reshape":
            shape = self.factor(a.val.size)
            if self.chance(0.3) and shape and a.val.size:
                shape = list(shape)
                shape[int(self.rng.integers(len(shape)))] = -1
                shape = tuple(shape)
            method = self.chance(0.5)
            return self.apply("reshape", (lambda x: f"{x}.reshape({shape!r})") if method else (lambda x: f"T.reshape({x}, {shape!r})"),
                              lambda x: f"np.reshape({x}, {shape!r})", [a], a.err)
        if op == "dimshuffle":
            broadcastable = a.sym.broadcastable
            kept = [d for d in range(nd) if not (broadcastable[d] and self.chance(0.5))]
            pattern = [int(d) for d in self.rng.permutation(kept)]
            for _ in range(int(self.pick([0, 0, 1, 2]))):
                pattern.insert(int(self.rng.integers(len(pattern) + 1)), "x")
            return self.apply("dimshuffle", lambda x: f"{x}.dimshuffle({pattern!r})",
                              lambda x: f"np_dimshuffle({x}, {pattern!r})", [a], a.err)
        if op == "transpose":
            if self.chance(0.3):
                return self.apply("transpose", lambda x: f"{x}.T", lambda x: f"{x}.T", [a], a.err)
            perm = tuple(int(d) for d in self.rng.permutation(nd))
            return self.apply("transpose", lambda x: f"T.transpose({x}, {perm!r})", lambda x: f"np.transpose({x}, {perm!r})",
                              [a], a.err)
        if op == "flatten":
            ndim = int(self.rng.integers(1, max(nd, 1) + 1))
            return self.apply("flatten", lambda x: f"T.flatten({x}, {ndim})", lambda x: f"np_flatten({x}, {ndim})", [a], a.err,
                              {"ndim": ndim})
        if op in ("concatenate", "stack"):
            if op == "concatenate" and nd == 0:
                raise Rejected("concatenate of scalars")
            axis = int(self.rng.integers(-nd - (op == "stack"), nd + (op == "stack")))
            others = []
            for _ in range(int(self.pick([1, 1, 2]))):
                shape = list(a.shape)
                if op == "concatenate":
                    shape[axis] = int(self.pick([0, 1, 2, 3]))
                others.append(self.shaped(tuple(shape), a.dtype if self.chance(0.6) else self.random_dtype(), depth))
            code = lambda *xs: ", ".join(xs)
            return self.apply(op, lambda *xs: f"T.{op}([{code(*xs)}], axis={axis})",
                              lambda *xs: f"np.{op}([{code(*xs)}], axis={axis})", [a] + others,
                              max(c.err for c in [a] + others))
        if op == "expand_dims":
            axis = int(self.rng.integers(-nd - 1, nd + 1))
            return self.apply(op, lambda x: f"T.expand_dims({x}, {axis})", lambda x: f"np.expand_dims({x}, {axis})", [a], a.err)
        if op == "squeeze":
            broadcastable = a.sym.broadcastable
            candidates = [d for d in range(nd) if broadcastable[d]]
            if not candidates:
                raise Rejected("nothing to squeeze")
            if all(s != 1 or broadcastable[d] for d, s in enumerate(a.shape)) and self.chance(0.3):
                return self.apply(op, lambda x: f"T.squeeze({x})", lambda x: f"np.squeeze({x})", [a], a.err)
            axes = tuple(int(d - nd) if self.chance(0.3) else d for d in candidates if self.chance(0.7)) or (candidates[0],)
            return self.apply(op, lambda x: f"T.squeeze({x}, {axes!r})", lambda x: f"np.squeeze({x}, {axes!r})", [a], a.err)
        if op == "repeat":
            repeats = int(self.pick([0, 1, 2, 3]))
            axis = None if nd == 0 or self.chance(0.25) else int(self.rng.integers(-nd, nd))
            return self.apply(op, lambda x: f"T.repeat({x}, {repeats}, axis={axis})",
                              lambda x: f"np.repeat({x}, {repeats}, axis={axis})", [a], a.err)
        if op == "tile":
            reps = tuple(int(self.pick([1, 2, 3, 0] if not self.gradient else [1, 2])) for _ in range(int(self.rng.integers(1, 4))))
            return self.apply(op, lambda x: f"T.tile({x}, {reps!r})", lambda x: f"np.tile({x}, {reps!r})", [a], a.err)
        if op == "flip":
            axis = None if nd == 0 or self.chance(0.3) else int(self.rng.integers(-nd, nd))
            return self.apply(op, lambda x: f"T.flip({x}, {axis})", lambda x: f"np.flip({x}, {axis})", [a], a.err)
        if op == "roll":
            shift = int(self.rng.integers(-5, 6))
            axis = None if nd == 0 or self.chance(0.3) else int(self.rng.integers(-nd, nd))
            return self.apply(op, lambda x: f"T.roll({x}, {shift}, axis={axis})",
                              lambda x: f"np.roll({x}, {shift}, axis={axis})", [a], a.err)
        if nd < 2:
            raise Rejected("swapaxes needs two axes")
        i, j = (int(self.rng.integers(-nd, nd)) for _ in range(2))
        return self.apply("swapaxes", lambda x: f"T.swapaxes({x}, {i}, {j})", lambda x: f"np.swapaxes({x}, {i}, {j})",
                          [a], a.err)

    def factor(self, size):
        """A random shape with size elements."""
        if size == 0:
            return self.pick([(0,), (0, 3), (2, 0), (0, 1, 2)])
        shape, rest = [], size
        for _ in range(int(self.pick([0, 1, 2, 3]))):
            divisors = [d for d in range(1, rest + 1) if rest % d == 0]
            d = int(self.pick(divisors))
            shape.append(d)
            rest //= d
        if rest != 1 or not shape:
            shape.append(rest)
        return tuple(shape) if size != 1 or self.chance(0.7) else ()

    # -- indexing --
    def index_code(self, shape, writing=False):
        """A random index (NumPy source, valid for both) for an array of shape."""
        items, arrays = [], 0
        nd = len(shape)
        consumed = int(self.rng.integers(0 if not writing else 1, nd + 1)) if nd else 0
        # x[..., i, j] indexes the trailing dims, x[i, j] (optionally x[i, j, ...]) the leading ones.
        ellipsis = "first" if nd and self.chance(0.1) else ("last" if nd and self.chance(0.1) else None)
        indexed = shape[nd - consumed:] if ellipsis == "first" else shape[:consumed]
        for size in indexed:
            kinds = ["slice", "slice"] + (["int", "array"] if size else [])
            kind = self.pick(kinds)
            if kind == "array" and arrays >= 2:
                kind = "slice"
            if kind == "int":
                items.append(str(int(self.rng.integers(-size, size))))
            elif kind == "slice":
                def bound():
                    return "" if self.chance(0.4) else str(int(self.rng.integers(-size - 2, size + 3)))
                step = self.pick(["", "", "1", "2", "-1", "-2", "3"])
                items.append(f"{bound()}:{bound()}" + (f":{step}" if step else ""))
            else:
                arrays += 1
                length = int(self.pick([0, 1, 2, 3])) if arrays == 1 else 1  # a second array broadcasts (length 1)
                values = [int(v) for v in self.rng.integers(-size, size, length)]
                if length == 0:
                    items.append("np.array([], dtype='int64')")
                else:
                    items.append(repr(values) if self.chance(0.5) else f"np.array({values!r})")
        if not writing and self.chance(0.3):
            items.insert(int(self.rng.integers(len(items) + 1)), "None")
        if ellipsis == "first":
            items = ["..."] + items
        elif ellipsis == "last":
            items = items + ["..."]
        if not items:
            items = ["..."]
        if len(items) == 1 and (items[0].startswith("[") or items[0].startswith("np.array")) and self.chance(0.5):
            return items[0]  # x[[0, 2]]: the list form of an array index
        return ", ".join(items)

    def index(self, depth):
        a = self.child(depth)
        idx = self.index_code(a.shape)
        return self.apply("index", lambda x: f"{x}[{idx}]", lambda x: f"{x}[{idx}]", [a], a.err, {"index": idx})

    def write_subtensor(self, depth):
        a = self.child(depth, min_ndim=1)
        idx = self.index_code(a.shape, writing=True)
        try:
            region = np.asarray(a.val[eval(f"np.s_[{idx}]", {"np": np})]).shape
        except IndexError:
            raise Rejected("index out of range")
        op = self.pick(["set", "inc"])
        repeats = self.has_repeats(idx, a.shape)
        if self.chance(0.25) or (op == "set" and repeats):
            shape = ()   # a broadcast value; set with repeated positions: one value, no write-order question
        else:
            shape = tuple(1 if (self.chance(0.2) and not self.gradient) else s for s in region)
        dtype = a.dtype if self.chance(0.7) or self.gradient else self.random_dtype()
        y = self.shaped(shape, dtype, depth)
        if a.dtype in INT_DTYPES + ["bool"] and y.is_float:
            raise Rejected("float into int: truncation")
        if a.dtype == "bool" and y.dtype != "bool":
            raise Rejected("numbers into bool")
        fn = "set_subtensor" if op == "set" else "inc_subtensor"
        return self.apply(f"{fn}", lambda x, v: f"T.{fn}({x}[{idx}], {v})",
                          lambda x, v: f"np_{fn}({x}, np.s_[{idx}], {v})", [a, y],
                          (a.err + y.err) * (3 if repeats else 1) + self.rounding(a, 3), {"index": idx, "repeats": repeats})

    @staticmethod
    def has_repeats(idx, shape):
        index = eval(f"np.s_[{idx}]", {"np": np})
        index = index if isinstance(index, tuple) else (index,)
        for item in index:
            if isinstance(item, (list, np.ndarray)) and len(np.unique(np.asarray(item))) < np.size(item):
                return True
        # Negative and positive forms of one position: normalize by any dim size that fits.
        for item in index:
            if isinstance(item, (list, np.ndarray)) and np.size(item):
                values = np.asarray(item)
                for size in set(shape):
                    if size and len(np.unique(values % size)) < values.size:
                        return True
        return False

    # -- neural-network ops --
    def nnet_op(self, depth):
        op = self.pick(["softmax", "log_softmax", "sigmoid", "relu", "crossentropy"])
        if op == "crossentropy":
            rows, classes = int(self.pick([1, 2, 3])), int(self.pick([1, 2, 4]))
            x = self.shaped((rows, classes), self.pick(FLOAT_DTYPES), depth)
            labels = self.new_input((rows,), self.pick(["int64", "int32", "int8"]) if not self.gradient else "int64")
            labels.val[...] = self.rng.integers(0, classes, rows)
            labels.inputs[0].value_code = f"np.array({labels.val.tolist()!r}, dtype={labels.dtype!r})"
            node = self.apply("nnet:crossentropy", lambda a, y: f"nnet.categorical_crossentropy(nnet.softmax({a}, axis=-1), {y})",
                              lambda a, y: f"np_crossentropy_of_softmax({a}, {y})", [x, labels])
            node.err = 4 * x.err + self.rounding(node, 8) + 8 * EPS[node.dtype]
            return node
        a = self.child(depth, float_only=True)
        if op in ("softmax", "log_softmax"):
            if a.ndim == 0:
                raise Rejected("softmax of a scalar")
            axis = int(self.rng.integers(-a.ndim, a.ndim))
            node = self.apply(f"nnet:{op}", lambda x: f"nnet.{op}({x}, axis={axis})", lambda x: f"np_{op}({x}, {axis})", [a])
            node.err = 4 * a.err * max(1.0, node.magnitude()) + 8 * EPS[node.dtype] * max(1.0, node.magnitude())
            return node
        if op == "sigmoid":
            node = self.apply("nnet:sigmoid", lambda x: f"nnet.sigmoid({x})", lambda x: f"np_sigmoid({x})", [a], a.err)
            node.err += self.rounding(node, 2)
            return node
        if self.gradient and not self.clear_of(_f64(a), a) or self.gradient and np.any(np.abs(_f64(a)) < 1e-3):
            raise Rejected("relu at its kink")
        return self.apply("nnet:relu", lambda x: f"nnet.relu({x})", lambda x: f"np.maximum({x}, 0)", [a], a.err)

    # -- sorting and cumulative ops --
    def sort_cumulative(self, depth):
        a = self.child(depth, min_ndim=1)
        op = self.pick(["sort", "argsort", "cumsum", "cumprod"] if not self.gradient else ["cumsum", "cumprod", "cumsum"])
        axis = None if self.chance(0.25) else int(self.rng.integers(-a.ndim, a.ndim))
        if op in ("sort", "argsort"):
            if a.dtype == "bool" and op == "sort":
                raise Rejected("NumPy sorts bools, keep it simple")
            if op == "argsort" and a.err:
                flat = np.sort(_f64(a).reshape(-1) if axis is None else np.moveaxis(_f64(a), axis, -1), axis=-1)
                if flat.size and flat.shape[-1] > 1 and np.min(np.diff(flat, axis=-1)) <= a.margin():
                    raise Rejected("near-ties")
            if op == "sort" and axis is None:
                axis = -1
            extra = ", kind='stable'" if op == "argsort" else ""
            return self.apply(op, lambda x: f"T.{op}({x}, axis={axis})", lambda x: f"np.{op}({x}, axis={axis}{extra})",
                              [a], a.err)
        out_dtype = sum_dtype(a.dtype)
        if op == "cumprod" and a.is_float and a.magnitude() > 2:
            raise Rejected("large products")
        if op == "cumprod" and self.gradient and a.val.size and np.min(np.abs(a.val)) < 1e-3:
            # As in Theano and PyTensor, cumprod's gradient divides by x: NaN at zeros (test_grad.py says so).
            raise Rejected("cumprod's gradient at a zero")
        node = self.apply(op, lambda x: f"T.{op}({x}, axis={axis})", lambda x: f"np.{op}({x}, axis={axis}, dtype={out_dtype!r})",
                          [a], 0.0, {"axis": axis})
        length = a.val.size if axis is None else a.shape[axis]
        node.err = length * (a.err * max(1.0, node.magnitude()) + self.rounding(node, 1))
        return node

    # -- control flow --
    def step_body(self, row):
        """An elementwise body over the step variable s (values: all rows at once, for the domains)."""
        body = row
        for _ in range(int(self.pick([1, 1, 2]))):
            if self.chance(0.7):
                body = self.unary(2, body)
            else:
                literal = self.pick(["2", "0.5", "3"])
                body = self.apply("binary:mul", lambda x: f"({x} * {literal})", lambda x: f"({x} * {literal})", [body],
                                  body.err * float(literal))
        return body

    def scan(self, depth):
        a = self.child(depth, min_ndim=1)
        if a.shape[0] == 0:
            raise Rejected("a scan of no steps")
        accumulate = a.is_float and self.chance(0.5)
        row_sym = T.tensor("s", dtype=a.dtype, shape=tuple(1 if b else None for b in a.sym.broadcastable[1:]))
        row = Expr("s", "s", row_sym, a.val, a.err, "step", [], (), stepwise=True)
        body = self.step_body(row)
        if accumulate and body.dtype != a.dtype:
            raise Rejected("the body changes the state's dtype")
        hbody, nbody = body.hcode, body.ncode
        if accumulate:
            node = self.apply("scan:accumulate",
                              lambda x: f"theano.scan(lambda s, acc: (acc + {hbody}), sequences=[{x}], outputs_info=[T.zeros_like({x}[0])])[0]",
                              lambda x: f"np_scan_accumulate(lambda s, acc: (acc + {nbody}), {x}, np.zeros_like({x}[0]))",
                              [a])
            node.err = a.shape[0] * (body.err + self.rounding(node))
        else:
            node = self.apply("scan:map", lambda x: f"theano.scan(lambda s: {hbody}, sequences=[{x}])[0]",
                              lambda x: f"np_scan_map(lambda s: {nbody}, {x})", [a], body.err)
        return node

    def ifelse(self, depth):
        a = self.child(depth)
        condition = self.leaf((), self.pick(["bool", "int8", "float32", "int64"]) if not self.gradient else "float64")
        other = self.unary(depth, a)
        if other.dtype != a.dtype and other.is_float and not a.is_float:
            raise Rejected("float to int casts need range checks")
        if other.dtype != a.dtype:
            other = self.apply("cast", lambda x: f"T.cast({x}, {a.dtype!r})", lambda x: f"{x}.astype({a.dtype!r})",
                               [other], other.err)
        then_first = self.chance(0.5)
        branches = [a, other] if then_first else [other, a]
        return self.apply("ifelse", lambda c, x, y: f"ifelse({c}, {x}, {y})", lambda c, x, y: f"({x} if {c} else {y})",
                          [condition] + branches, max(a.err, other.err))


# ---- Running batches ----
    # -- complex numbers --
    def complex_op(self, depth):
        """A short chain of complex arithmetic ending in a real projection (real, imag, abs, angle), so the
        other families only ever see real values. Gradient graphs build their complex numbers from float64
        expressions with T.complex, which checks the complex gradients through finite differences."""
        z = self.complex_operand(depth)
        steps = [self.complex_unary, self.complex_binary, self.complex_reduce, self.complex_product,
                 self.complex_transpose]
        for _ in range(int(self.rng.integers(1, 4))):
            try:
                z = self.pick(steps, [3, 3, 1.5, 1, 1])(z, depth)
            except Rejected:
                continue
        return self.complex_projection(z)

    def complex_operand(self, depth, like=None, shape=None):
        """A complex expression: of `shape`, or broadcastable against `like`, or of a random shape."""
        if like is not None:
            shape = like.shape
            if self.chance(0.3):
                shape = tuple(1 if self.chance(0.3) else n for n in shape)[int(self.rng.integers(0, len(shape) + 1)):]
        if not self.gradient and self.chance(0.5):
            dtype = like.dtype if like is not None and self.chance(0.6) else self.pick(COMPLEX_DTYPES)
            return self.new_input(self.random_shape() if shape is None else shape, dtype)
        re = self.child(depth, float_only=True) if shape is None else self.shaped(shape, self.pick(FLOAT_DTYPES), depth)
        im = self.shaped(re.shape, re.dtype if self.chance(0.7) else self.pick(FLOAT_DTYPES), depth)
        node = self.apply("complex", lambda x, y: f"T.complex({x}, {y})", lambda x, y: f"np_complex({x}, {y})", [re, im])
        node.err = re.err + im.err + self.rounding(node)
        return node

    def complex_unary(self, z, depth):
        op = self.pick(["neg", "conj", "sqr", "exp", "scale"])
        if op == "exp" and z.val.size and (np.max(np.abs(z.val.real)) > 3 or np.max(np.abs(z.val.imag)) > 10):
            raise Rejected("exp out of range")
        hfmt, nfmt = {"neg": ("T.neg({})", "np.negative({})"), "conj": ("T.conj({})", "np.conj({})"),
                      "sqr": ("T.sqr({})", "np.square({})"), "exp": ("T.exp({})", "np.exp({})"),
                      "scale": ("({} * 2)", "({} * 2)")}[op]
        node = self.apply(f"complex:{op}", hfmt.format, nfmt.format, [z])
        grow = {"sqr": 2 * z.magnitude(), "exp": node.magnitude(), "scale": 2.0}.get(op, 1.0)
        node.err = z.err * grow + self.rounding(node, 2)
        return node

    def complex_binary(self, z, depth):
        op = self.pick(["add", "sub", "mul", "true_div"])
        other = self.complex_operand(depth, like=z) if self.chance(0.7) else self.like(z, depth, self.pick(FLOAT_DTYPES))
        if op == "true_div" and other.val.size and np.min(np.abs(other.val)) < 0.3:
            raise Rejected("small divisor")
        operator = {"add": "+", "sub": "-", "mul": "*", "true_div": "/"}[op]
        node = self.apply(f"complex:{op}", lambda x, y: f"({x} {operator} {y})", lambda x, y: f"({x} {operator} {y})",
                          [z, other])
        ma, mb = z.magnitude(), other.magnitude()
        if op in ("add", "sub"):
            err = z.err + other.err
        elif op == "mul":
            err = z.err * mb + other.err * ma
        else:
            low = float(np.min(np.abs(other.val))) if other.val.size else 1.0
            err = z.err / low + other.err * ma / low ** 2
        node.err = err + self.rounding(node, 4)
        return node

    def complex_reduce(self, z, depth):
        op = self.pick(["sum", "mean", "prod"])
        if op == "prod" and z.val.size > 6:
            raise Rejected("large product")
        if op == "mean" and not z.val.size:
            raise Rejected("mean of nothing")
        axis = int(self.rng.integers(-z.ndim, z.ndim)) if z.ndim and self.chance(0.6) else None
        node = self.apply(f"complex:{op}", lambda x: f"T.{op}({x}, axis={axis!r})", lambda x: f"np.{op}({x}, axis={axis!r})", [z])
        count = max(1, z.val.size // max(1, node.val.size))
        if op == "prod":
            node.err = count * (z.err * max(z.magnitude(), 1) ** count + 2 * EPS[node.dtype] * max(node.magnitude(), 1))
        else:
            node.err = count * (z.err + self.rounding(z, 2))
        return node

    def complex_product(self, z, depth):
        if z.ndim not in (1, 2):
            raise Rejected("dot of a complex scalar or tensor3")
        k, n = z.shape[-1], int(self.pick([1, 2, 3]))
        shape = self.pick([(k,), (k, n)])
        other = self.complex_operand(depth, shape=shape) if self.chance(0.7) else \
            self.shaped(shape, self.pick(FLOAT_DTYPES), depth)
        node = self.apply("complex:dot", lambda x, y: f"T.dot({x}, {y})", lambda x, y: f"np.dot({x}, {y})", [z, other])
        inner = max(k, 1)
        node.err = inner * (z.err * max(other.magnitude(), 1) + other.err * max(z.magnitude(), 1)) \
            + inner * 4 * EPS[node.dtype] * max(z.magnitude(), 1) * max(other.magnitude(), 1)
        return node

    def complex_transpose(self, z, depth):
        if self.chance(0.5) and z.ndim:
            node = self.apply("complex:flip", lambda x: f"{x}[::-1]", lambda x: f"{x}[::-1]", [z])
        else:
            node = self.apply("complex:transpose", lambda x: f"T.transpose({x})", lambda x: f"np.transpose({x})", [z])
        node.err = z.err
        return node

    def complex_projection(self, z):
        op = self.pick(["real", "imag", "abs", "angle"])
        size = float(np.min(np.abs(z.val))) if z.val.size else 1.0
        if op in ("abs", "angle") and self.gradient and size < 0.05:
            raise Rejected("abs and angle have no derivative at 0")
        if op == "angle":
            # The branch cut: the negative real axis, where NumPy's angle jumps from pi to -pi.
            cut = (z.val.real < 0) & (np.abs(z.val.imag) <= z.margin() + (1e-3 if self.gradient else 0))
            if np.any(cut) or size <= z.margin():
                raise Rejected("too close to angle's branch cut")
        hfmt = {"real": "T.real({})", "imag": "T.imag({})", "abs": "T.abs_({})", "angle": "T.angle({})"}[op]
        nfmt = {"real": "np.real({})", "imag": "np.imag({})", "abs": "np.abs({})", "angle": "np.angle({})"}[op]
        node = self.apply(f"complex:{op}", hfmt.format, nfmt.format, [z])
        node.err = (z.err / max(size, 1e-3) if op == "angle" else z.err) + self.rounding(node, 2)
        return node


def compile_and_run(exprs, mode):
    """Outputs of one function computing every expr (its inputs: the union of theirs)."""
    inputs = list(dict.fromkeys(inp for e in exprs for inp in e.inputs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn = theano.function([i.symbol for i in inputs], [e.sym for e in exprs], mode=mode, on_unused_input="ignore")
        outputs = fn(*[i.value for i in inputs])
    return outputs if isinstance(outputs, list) else [outputs]


def check_outputs(exprs, modes=("FAST_RUN", "FAST_COMPILE")):
    """Findings for exprs run together: an exception (kind compile/run) is reported against the whole list."""
    results = {}
    for mode in modes:
        try:
            results[mode] = compile_and_run(exprs, mode)
        except Exception as error:  # noqa: BLE001
            return [Finding("run", f"{type(error).__name__}: {error}", e, mode) for e in exprs]
    findings = []
    for k, e in enumerate(exprs):
        want = e.val
        problem = compare(results["FAST_RUN"][k], want, tolerance(e), "FAST_RUN vs NumPy")
        if problem:
            findings.append(Finding("value", problem, e, "FAST_RUN"))
            continue
        if "FAST_COMPILE" in results:
            problem = compare(results["FAST_COMPILE"][k], results["FAST_RUN"][k], 2 * tolerance(e) + 1e-300,
                              "FAST_COMPILE vs FAST_RUN")
            if problem:
                findings.append(Finding("value", problem, e, "FAST_COMPILE"))
    return findings


def fails_alone(expr, modes=("FAST_RUN", "FAST_COMPILE")):
    return check_outputs([expr], modes)


def minimize(finding):
    """The smallest subtree of finding.expr that still fails on its own (its children pass)."""
    expr = finding.expr
    while True:
        smaller = None
        for child in expr.children:
            if child.tag in ("input", "step"):
                continue
            found = fails_alone(child)
            if found:
                smaller = found[0]
                break
        if smaller is None:
            return finding
        finding, expr = smaller, smaller.expr


def find_culprits(exprs):
    """Graphs of a failing batch that fail alone (the batch is bisected on exceptions)."""
    findings = check_outputs(exprs)
    if not findings:
        return []
    if all(f.kind != "run" for f in findings):
        return findings
    if len(exprs) == 1:
        return findings
    half = len(exprs) // 2
    culprits = find_culprits(exprs[:half]) + find_culprits(exprs[half:])
    if not culprits:  # fails only in company: report the batch through its first graph
        return [Finding("run", "fails only when compiled together with other graphs: " + findings[0].message, exprs[0])]
    return culprits


def run_batch(seed, count, known_bugs=(), shrink=True):
    """Generates count graphs from seed, checks them in one function per mode; returns (graphs, findings)
    with each finding minimized to its smallest failing subtree."""
    generator = Generator(seed, known_bugs)
    graphs = [generator.graph() for _ in range(count)]
    findings = [minimize(f) if shrink else f for f in find_culprits(graphs)]
    findings += generator.findings
    return graphs, dedupe(findings)


def dedupe(findings):
    seen, unique = set(), []
    for f in findings:
        key = (f.kind, f.expr.hcode)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


# ---- Gradients against central differences ----

def gradient_batch(seed, count, known_bugs=(), step=1e-6):
    """count random float64 graphs, each reduced to a scalar cost sum(graph * weights); the symbolic
    gradient (FAST_RUN and FAST_COMPILE) along a random direction against central differences of the cost."""
    generator = Generator(seed, known_bugs, gradient=True)
    costs = []
    for _ in range(count):
        graph = generator.graph()
        if not graph.is_float:
            continue
        shape = graph.shape
        weights = f"np.linspace(-1.0, 1.5, {graph.val.size}).reshape({shape!r})"
        try:
            cost = generator.apply("cost", lambda g: f"T.sum({g} * {weights})", lambda g: f"np.sum({g} * {weights})",
                                   [graph])
        except Rejected:
            continue
        if any(i.dtype == "float64" for i in cost.inputs):
            costs.append(cost)
    findings = list(generator.findings) + check_gradients(costs, generator.rng, step)
    return costs, dedupe(findings)


def gradient_function(costs, mode):
    inputs = list(dict.fromkeys(i for c in costs for i in c.inputs))
    wrt = [i for i in inputs if i.dtype == "float64"]
    total = costs[0].sym
    for c in costs[1:]:
        total = total + c.sym
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grads = theano.grad(total, [i.symbol for i in wrt], disconnected_inputs="ignore")
        fn = theano.function([i.symbol for i in inputs], [c.sym for c in costs] + list(grads), mode=mode,
                             on_unused_input="ignore")
    return inputs, wrt, fn


def check_gradients(costs, rng, step):
    if not costs:
        return []
    try:
        functions = {mode: gradient_function(costs, mode) for mode in ("FAST_RUN", "FAST_COMPILE")}
        inputs, wrt, _ = functions["FAST_RUN"]
        directions = {i.name: rng.uniform(-1, 1, i.value.shape) for i in wrt}

        def call(fn, shift):
            args = [i.value + shift * directions[i.name] if i.name in directions else i.value for i in inputs]
            return fn(*args)
        plus, minus = call(functions["FAST_COMPILE"][2], step)[:len(costs)], call(functions["FAST_COMPILE"][2], -step)[:len(costs)]
        outputs = {mode: call(f[2], 0.0) for mode, f in functions.items()}
    except Exception as error:  # noqa: BLE001
        if len(costs) == 1:
            return [Finding("grad", f"{type(error).__name__}: {error}", costs[0])]
        half = len(costs) // 2
        return check_gradients(costs[:half], rng, step) + check_gradients(costs[half:], rng, step)
    grads_of = {mode: dict(zip([i.name for i in wrt], out[len(costs):])) for mode, out in outputs.items()}
    findings = []
    for k, cost in enumerate(costs):
        numeric = (float(plus[k]) - float(minus[k])) / (2 * step)
        for mode in ("FAST_RUN", "FAST_COMPILE"):
            terms = [np.sum(grads_of[mode][i.name] * directions[i.name]) for i in cost.inputs if i.name in directions]
            analytic = float(np.sum(terms))
            scale = float(np.sum(np.abs(terms))) + abs(numeric) + 1e-8 * abs(float(outputs[mode][k])) + 1e-9
            if not abs(analytic - numeric) <= 1e-5 * scale + 1e-7:
                findings.append(Finding("grad", f"directional derivative {analytic!r} vs central differences {numeric!r}",
                                        cost, mode))
                break
    return findings


def minimize_gradient(finding, rng_seed=0):
    """The smallest subgraph whose sum(sub * weights) still has a wrong gradient."""
    expr = finding.expr.children[0] if finding.expr.tag == "cost" else finding.expr
    best = finding
    generator = Generator(rng_seed, gradient=True)
    frontier = [c for c in expr.children if c.tag not in ("input", "step") and c.is_float]
    while frontier:
        sub = frontier.pop(0)
        weights = f"np.linspace(-1.0, 1.5, {sub.val.size}).reshape({sub.shape!r})"
        try:
            cost = generator.apply("cost", lambda g: f"T.sum({g} * {weights})", lambda g: f"np.sum({g} * {weights})", [sub])
        except Rejected:
            continue
        found = check_gradients([cost], generator.rng, 1e-6)
        if found:
            best = found[0]
            frontier = [c for c in sub.children if c.tag not in ("input", "step") and c.is_float]
    return best


# ---- Reproducers ----

def reproducer(expr, summary, gradient=False):
    """A standalone script: the inputs, the Hypatia graph, NumPy's expectation, both modes' results."""
    lines = [f"# Hypatia fuzz failure. {summary}", REPRO_HEADER + NUMPY_HELPERS]
    for inp in expr.inputs:
        static = tuple(1 if s == 1 else None for s in inp.value.shape)
        lines.append(f"{inp.array_name} = {inp.value_code}")
        lines.append(f"{inp.name} = T.tensor({inp.name!r}, dtype={inp.dtype!r}, shape={static!r})")
    symbols = ", ".join(i.name for i in expr.inputs)
    arrays = ", ".join(i.array_name for i in expr.inputs)
    lines.append(f"out = {expr.hcode}")
    lines.append("with np.errstate(all='ignore'):")
    lines.append(f"    want = np.asarray({expr.ncode})")
    lines.append("print('NumPy       ', want.dtype, want.shape, want.tolist())")
    if gradient:
        wrt = ", ".join(i.name for i in expr.inputs if i.dtype == "float64")
        lines.append(f"grads = theano.grad(out, [{wrt}], disconnected_inputs='ignore')")
        lines.append(f"print(theano.function([{symbols}], grads, on_unused_input='ignore')({arrays}))")
    lines.append("for mode in ('FAST_RUN', 'FAST_COMPILE'):")
    lines.append(f"    got = theano.function([{symbols}], out, mode=mode, on_unused_input='ignore')({arrays})")
    lines.append("    print(f'{mode:12}', got.dtype, got.shape, got.tolist())")
    return "\n".join(lines) + "\n"
