"""Theano names Hypatia does not have yet: using one raises NotImplementedError that says so.

Each module lists its missing names and installs `module_getattr` as its module __getattr__, so
`tensor.nnet.conv2d` fails with a clear message instead of an AttributeError deep inside a script.
"""


def missing(name, reason):
    """A stand-in that raises NotImplementedError when called."""

    def stand_in(*args, **kwargs):
        raise NotImplementedError(f"{name} is not implemented in Hypatia: {reason}")

    stand_in.__name__ = name.rsplit(".", 1)[-1]
    stand_in.__qualname__ = name
    stand_in.__doc__ = f"Not implemented: {reason}"
    return stand_in


def module_getattr(module_name, table):
    """A module __getattr__: names in `table` (name -> reason) raise NotImplementedError."""

    def __getattr__(name):
        if name in table:
            raise NotImplementedError(f"{module_name}.{name} is not implemented in Hypatia: {table[name]}")
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__


HIGHER_ORDER = "loops, branches and higher-order derivatives (scan, ifelse, Rop, jacobian, hessian) are planned"
SPARSE = "sparse matrices are planned"
CONV = "convolutions and pooling (oneDNN) are planned"
LINALG = "linear algebra (LAPACK) is planned"
COMPLEX = "Hypatia has no complex dtypes (it has bool, int8, int16, int32, int64, uint8, float32, float64)"
GPU = "GPU backends are planned; Hypatia runs on the CPU"
