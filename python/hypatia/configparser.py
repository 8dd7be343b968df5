"""hypatia.config: settings read from HYPATIA_FLAGS (and THEANO_FLAGS) and changed by assignment.

HYPATIA_FLAGS=floatX=float32,mode=FAST_RUN python train.py
"""
import contextlib
import os
import warnings

_CHOICES = {
    "floatX": ("float64", "float32", "float16"),
    "mode": ("FAST_RUN", "FAST_COMPILE", "UNOPTIMIZED"),
    "on_unused_input": ("raise", "warn", "ignore"),
    # Stored only: Hypatia computes no test values, so every choice means 'off'; shape and dtype errors
    # still name the Python line that built the node when the function runs.
    "compute_test_value": ("off", "ignore", "warn", "raise"),
    "profile": ("False", "True"),
    "cast_policy": ("custom",),
}
# Settings of the C++ core, kept there (generated kernels' cache, compiler, threads, the device functions
# run on: "cpu", "opencl0:0"..., whether first calls run on a quick build of the kernels, whether calls flush subnormals to zero); any string value
# the core accepts.
_CORE = ("compiledir", "cxx", "openmp_threads", "device", "tiered_compilation", "flush_denormals")
_CORE_SWITCHES = ("tiered_compilation", "flush_denormals")
_DEFAULTS = {
    "floatX": "float64",
    "mode": "FAST_RUN",
    "on_unused_input": "raise",
    "compute_test_value": "off",
    "profile": False,
    "cast_policy": "custom",
}
# Values Theano had that name features Hypatia does not have yet.
_NOT_YET = {
    ("compute_test_value", "pdb"): "test values (compute_test_value) are not implemented",
    ("cast_policy", "numpy+floatX"): "Hypatia follows Theano's default cast_policy='custom'",
    ("mode", "DebugMode"): "DebugMode is not implemented; use mode='UNOPTIMIZED' to run the graph as built",
}
# Flags Theano had that change nothing here, with Theano's defaults: stored and readable so old scripts
# and flag strings still run. A dotted flag (blas.ldflags) is stored as blas__ldflags.
_IGNORED = {
    "optimizer": "fast_run", "linker": "cvm", "allow_gc": True, "openmp": False, "warn_float64": "ignore",
    "exception_verbosity": "low", "optimizer_including": "", "optimizer_excluding": "", "optimizer_requiring": "",
    "optimizer_verbose": False, "on_opt_error": "warn", "base_compiledir": "", "blas__ldflags": "",
    "deterministic": "default", "print_active_device": True, "gcc__cxxflags": "", "floatX_rounding": "",
    "print_test_value": False, "compute_test_value_opt": "off", "nocleanup": False, "check_input": True,
    "traceback__limit": 8, "traceback__compile_limit": 0, "tensor__cmp_sloppy": 0,
    "tensor__local_elemwise_fusion": True, "scan__allow_gc": False, "scan__allow_output_prealloc": True,
    "scan__debug": False, "unpickle_function": True, "reoptimize_unpickled_function": False,
    "cmodule__warn_no_version": False, "cmodule__remove_gxx_opt": False, "cmodule__compilation_warning": False,
    "cmodule__preload_cache": False, "numpy__seterr_all": "ignore", "lib__amdlibm": False,
    "DebugMode__check_c": True, "DebugMode__check_py": True, "DebugMode__check_finite": True,
    "profile_memory": False, "profile_optimizer": False, "on_shape_error": "warn", "assert_no_cpu_op": "ignore",
    "openmp_elemwise_minsize": 200000, "int_division": "int", "cycle_detection": "regular",
    "check_stack_trace": "off", "compile__wait": 5, "compile__timeout": 120, "dnn__enabled": "auto",
    "compiledir_format": "", "experimental__local_alloc_elemwise": True, "metaopt__verbose": 0,
    "blas__check_openmp": True, "pickle_test_value": True, "gpuarray__preallocate": 0, "lib__cnmem": 0,
}
# Theano's warn.* flags, each warning about a bug some old Theano version had; Hypatia never had those bugs,
# so they are all off. Any warn.<name> may be set (stored as warn__<name>).
_WARN = {
    "ignore_bug_before": "0.8", "argmax_pushdown_bug": False, "gpusum_01_011_0111_bug": False,
    "sum_sum_bug": False, "sum_div_dimshuffle_bug": False, "subtensor_merge_bug": False,
    "gpu_set_subtensor1": False, "vm_gc_bug": False, "signal_conv2d_interface": False, "reduce_join": False,
    "inc_set_subtensor1": False, "round": False, "inc_subtensor1_opt": False, "identify_1pexp_bug": False,
}
_IGNORED.update({"warn__" + name: value for name, value in _WARN.items()})


def _stored_like(default, value):
    """value (often a string from a flag string) converted to the type of the flag's default."""
    if isinstance(default, bool):
        if isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError(f"expected True or False, got {value!r}")
            return value.lower() in ("true", "1")
        return bool(value)
    if isinstance(default, int):
        return int(value)
    return str(value)


class _Section:
    """config.warn, config.blas, ...: the flags named <section>.<name>."""

    def __init__(self, config, prefix):
        object.__setattr__(self, "_config", config)
        object.__setattr__(self, "_prefix", prefix)

    def __getattr__(self, name):
        return getattr(self._config, f"{self._prefix}__{name}")

    def __setattr__(self, name, value):
        setattr(self._config, f"{self._prefix}__{name}", value)

    def __dir__(self):
        start = self._prefix + "__"
        return sorted(key[len(start):] for key in self._config._values if key.startswith(start))


class Config:
    """The settings. Unknown names raise AttributeError; values are checked on assignment."""

    def __init__(self):
        object.__setattr__(self, "_values", {**_DEFAULTS, **_IGNORED})

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_values")
        name = name.replace(".", "__")
        if name in values:
            return values[name]
        if any(key.startswith(name + "__") for key in values):
            return _Section(self, name)
        if name in _CORE:
            from . import _core
            value = _core._get_config(name)
            if name in _CORE_SWITCHES:
                return value == "True"
            return int(value) if name == "openmp_threads" else value
        main = sorted(key for key in values if "__" not in key)
        raise AttributeError(f"hypatia.config has no setting {name!r}; settings: {', '.join(main)} (and sections "
                             f"such as warn, blas, scan)")

    def __setattr__(self, name, value):
        name = name.replace(".", "__")
        if name in _IGNORED or name.startswith("warn__"):
            default = _IGNORED.get(name, False)
            try:
                self._values[name] = _stored_like(default, value)
            except ValueError as error:
                raise ValueError(f"hypatia.config.{name.replace('__', '.')}: {error}") from None
            return
        if name in _CORE:
            from . import _core
            if name == "openmp_threads" and (not str(value).isdigit()):
                raise ValueError(f"hypatia.config.openmp_threads must be a non-negative integer, got {value!r}")
            _core._set_config(name, str(value))
            return
        if name not in _CHOICES:
            raise AttributeError(f"hypatia.config has no setting {name!r}; settings: {', '.join(sorted(_CHOICES))}")
        value = str(value)
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
            if name in _CORE:
                # The core reads HYPATIA_FLAGS itself; THEANO_FLAGS' settings are forwarded unless
                # HYPATIA_FLAGS sets them too (it wins).
                hypatia_flags = os.environ.get("HYPATIA_FLAGS", "")
                if source == "THEANO_FLAGS" and not any(f.strip().startswith(name + "=") for f in hypatia_flags.split(",")):
                    setattr(self, name, value.strip())
                continue
            if name not in _CHOICES and name not in _IGNORED and not name.startswith("warn__"):
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
