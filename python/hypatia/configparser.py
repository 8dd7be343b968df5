"""hypatia.config: settings read from HYPATIA_FLAGS (and THEANO_FLAGS) and changed by assignment.

HYPATIA_FLAGS=floatX=float32,mode=FAST_RUN python train.py
"""
import contextlib
import os
import warnings

_CHOICES = {
    "floatX": ("float64", "float32"),
    "mode": ("FAST_RUN", "FAST_COMPILE", "UNOPTIMIZED"),
    "device": ("cpu",),
    "on_unused_input": ("raise", "warn", "ignore"),
    "compute_test_value": ("off", "ignore"),
    "profile": ("False", "True"),
}
# Settings of the C++ core, kept there (generated kernels' cache, compiler, threads); any string value.
_CORE = ("compiledir", "cxx", "openmp_threads")
_DEFAULTS = {
    "floatX": "float64",
    "mode": "FAST_RUN",
    "device": "cpu",
    "on_unused_input": "raise",
    "compute_test_value": "off",
    "profile": False,
}
# Values Theano had that name features Hypatia does not have yet.
_NOT_YET = {
    ("compute_test_value", "warn"): "test values (compute_test_value) are not implemented",
    ("compute_test_value", "raise"): "test values (compute_test_value) are not implemented",
    ("compute_test_value", "pdb"): "test values (compute_test_value) are not implemented",
    ("mode", "DebugMode"): "DebugMode is not implemented; use mode='UNOPTIMIZED' to run the graph as built",
}
# Flags Theano had that Hypatia does not use; accepted so old scripts and flag strings still run.
_IGNORED = {"optimizer", "linker", "allow_gc", "openmp", "warn_float64", "exception_verbosity",
            "optimizer_including", "optimizer_excluding", "base_compiledir", "blas__ldflags",
            "deterministic", "cast_policy", "print_active_device", "gcc__cxxflags", "floatX_rounding"}


class Config:
    """The settings. Unknown names raise AttributeError; values are checked on assignment."""

    def __init__(self):
        object.__setattr__(self, "_values", dict(_DEFAULTS))

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        if name in values:
            return values[name]
        if name in _CORE:
            from . import _core
            value = _core._get_config(name)
            return int(value) if name == "openmp_threads" else value
        raise AttributeError(f"hypatia.config has no setting {name!r}; settings: {', '.join(sorted(values))}")

    def __setattr__(self, name, value):
        if name in _CORE:
            from . import _core
            if name == "openmp_threads" and (not str(value).isdigit()):
                raise ValueError(f"hypatia.config.openmp_threads must be a non-negative integer, got {value!r}")
            _core._set_config(name, str(value))
            return
        if name not in _CHOICES:
            raise AttributeError(f"hypatia.config has no setting {name!r}; settings: {', '.join(sorted(_CHOICES))}")
        value = str(value)
        if name == "device" and value.startswith(("cuda", "gpu", "opencl")):
            raise NotImplementedError(f"device={value}: GPU backends are not available yet; Hypatia runs on the CPU")
        if (name, value) in _NOT_YET:
            raise NotImplementedError(f"hypatia.config.{name} = {value!r}: {_NOT_YET[name, value]}")
        if value not in _CHOICES[name]:
            raise ValueError(f"hypatia.config.{name} must be one of {_CHOICES[name]}, got {value!r}")
        self._values[name] = (value == "True") if name == "profile" else value

    def __dir__(self):
        return sorted(list(self._values) + list(_CORE))

    def __repr__(self):
        return "\n".join(f"{name} = {value!r}" for name, value in sorted(self._values.items()))

    __str__ = __repr__

    @contextlib.contextmanager
    def change_flags(self, **flags):
        """Temporarily change settings: `with config.change_flags(floatX='float32'): ...`"""
        from . import _core
        saved = dict(self._values)
        saved_core = {name: _core._get_config(name) for name in _CORE}
        try:
            for name, value in flags.items():
                setattr(self, name, value)
            yield self
        finally:
            self._values.clear()
            self._values.update(saved)
            for name, value in saved_core.items():
                _core._set_config(name, value)

    def _apply_flag_string(self, flags, source):
        for item in flags.split(","):
            item = item.strip()
            if not item:
                continue
            name, sep, value = item.partition("=")
            name = name.strip().replace(".", "__")
            if not sep:
                raise ValueError(f"{source}: expected name=value, got {item!r}")
            if name in _IGNORED or name in _CORE:  # the core reads its own settings from the same variable
                continue
            if name not in _CHOICES:
                warnings.warn(f"{source}: unknown setting {name!r} ignored", stacklevel=3)
                continue
            setattr(self, name, value.strip())


config = Config()
# THEANO_FLAGS first, so HYPATIA_FLAGS wins where both set a flag.
for _variable in ("THEANO_FLAGS", "HYPATIA_FLAGS"):
    if os.environ.get(_variable):
        config._apply_flag_string(os.environ[_variable], _variable)


def change_flags(**flags):
    return config.change_flags(**flags)
