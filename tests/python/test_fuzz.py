"""Differential fuzzing: random graphs over the whole op library, Hypatia against NumPy (fuzz_graphs.py).

Each test compiles one batch of independent random graphs into one function per mode (FAST_RUN against
NumPy, FAST_COMPILE against FAST_RUN), or one batch of random float64 costs whose gradients are checked
against central differences. The seed is fixed (override with HYPATIA_FUZZ_SEED) so failures reproduce;
`make fuzz` runs fresh seeds until stopped and writes reproducers to fuzz-failures/.

KNOWN_BUGS lists the Hypatia bugs found and not fixed yet: the generator avoids them so the suite passes.
Remove an entry once its bug is fixed (its reproducer is in the entry).
"""
import contextlib
import os

import pytest

import fuzz_graphs as fuzz
import hypatia

SEED = int(os.environ.get("HYPATIA_FUZZ_SEED", "1"))
VALUE_BATCHES, GRAPHS_PER_BATCH = 20, 60            # 1,200 graphs
GRADIENT_BATCHES, COSTS_PER_BATCH = 4, 30          # ~110 gradients
OPENCL_BATCHES = 3                                  # 180 more graphs, and a gradient batch, on an OpenCL device


# Bugs the fuzzer found are fixed and their reproducers kept as tests (test_theano_compat.py); a new one
# goes here as fuzz.KnownBug(description, predicate, reproducer=...) until it is fixed.
KNOWN_BUGS = []


def report(findings, gradient=False):
    """The findings as standalone reproducer scripts (the first few in full)."""
    parts = [f"{len(findings)} failure(s):"]
    for finding in findings[:3]:
        parts.append("-" * 70 + "\n" + finding.reproducer(gradient=gradient))
    parts += [f"  {f.kind} {f.mode}: {f.message[:200]}\n    {f.expr.hcode[:300]}" for f in findings[3:]]
    return "\n".join(parts)


@pytest.mark.parametrize("batch", range(VALUE_BATCHES))
def test_random_graphs_match_numpy(batch):
    graphs, findings = fuzz.run_batch(SEED * 10_000 + batch, GRAPHS_PER_BATCH, KNOWN_BUGS)
    assert len(graphs) == GRAPHS_PER_BATCH
    assert not findings, report(findings)


@pytest.mark.parametrize("batch", range(GRADIENT_BATCHES))
def test_random_gradients_match_finite_differences(batch):
    costs, findings = fuzz.gradient_batch(SEED * 10_000 + 5_000 + batch, COSTS_PER_BATCH, KNOWN_BUGS)
    assert len(costs) >= COSTS_PER_BATCH // 2
    findings = [fuzz.minimize_gradient(f) if f.kind == "grad" else f for f in findings]
    assert not findings, report(findings, gradient=True)


@contextlib.contextmanager
def on_opencl():
    """Functions built inside run on the first OpenCL device (PoCL in make test); skips without one."""
    devices = [d for d in hypatia._core._available_devices() if d.startswith("opencl")]
    if not devices:
        pytest.skip("no OpenCL device here (make test installs PoCL: scripts/setup.sh)")
    saved = hypatia.config.device
    hypatia.config.device = devices[0]
    try:
        yield
    finally:
        hypatia.config.device = saved


@pytest.mark.parametrize("batch", range(OPENCL_BATCHES))
def test_random_graphs_on_opencl_match_numpy(batch):
    # The same graphs with every node the OpenCL backend runs on the device and transfers around the rest.
    with on_opencl():
        graphs, findings = fuzz.run_batch(SEED * 10_000 + 7_000 + batch, GRAPHS_PER_BATCH, KNOWN_BUGS)
    assert len(graphs) == GRAPHS_PER_BATCH
    assert not findings, report(findings)


def test_random_gradients_on_opencl_match_finite_differences():
    with on_opencl():
        costs, findings = fuzz.gradient_batch(SEED * 10_000 + 8_000, COSTS_PER_BATCH, KNOWN_BUGS)
        findings = [fuzz.minimize_gradient(f) if f.kind == "grad" else f for f in findings]
    assert len(costs) >= COSTS_PER_BATCH // 2
    assert not findings, report(findings, gradient=True)


def test_the_checker_catches_a_wrong_value():
    """The fuzzer's own test: a graph whose expectation is tampered with must be reported."""
    generator = fuzz.Generator(7)
    graph = generator.graph()
    while not graph.val.size:
        graph = generator.graph()
    graph.val = graph.val.copy()
    graph.val.flat[0] = ~graph.val.flat[0] if graph.val.dtype == bool else graph.val.flat[0] + 1
    findings = fuzz.check_outputs([graph])
    assert findings and findings[0].kind == "value"
    assert "out = " in findings[0].reproducer()
