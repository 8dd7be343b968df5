"""Functions on a device (the first OpenCL device: PoCL in make test; HYPATIA_DEVICE_UNDER_TEST=cuda0 in
scripts/gpu_check.sh) against the same functions on the CPU: cases the differential fuzzer found when it
first ran on the device (tests/python/test_fuzz.py runs it there too), and shared variables living there."""
import os

import numpy as np
import pytest

import hypatia as theano
import hypatia.tensor as T
from hypatia import _core


@pytest.fixture()
def device():
    chosen = os.environ.get("HYPATIA_DEVICE_UNDER_TEST")
    devices = [d for d in _core._available_devices() if (d == chosen if chosen else d.startswith("opencl"))]
    if not devices:
        pytest.skip(f"{chosen} is not present" if chosen else "no OpenCL device here (make test installs PoCL: scripts/setup.sh)")
    saved = theano.config.device
    theano.config.device = devices[0]
    yield devices[0]
    theano.config.device = saved


def on_both(inputs, outputs, values, device):
    got = theano.function(inputs, outputs)(*values)
    saved = theano.config.device
    theano.config.device = "cpu"
    try:
        want = theano.function(inputs, outputs)(*values)
    finally:
        theano.config.device = saved
    return got, want


def test_a_known_size_one_axis_survives_placement(device):
    # The rewrites know the reshape has one element; the node re-made on the other side of a transfer must
    # keep that, or the dimshuffle that drops the axis is refused.
    x = T.dvector("x")
    out = T.cumsum(T.isinf(x).reshape((1,)), axis=0).dimshuffle(["x", "x"])
    got, want = on_both([x], out, [np.array([np.inf])], device)
    np.testing.assert_array_equal(got, want)
    assert got.shape == (1, 1)


def test_softmax_of_an_empty_row_is_empty_as_on_the_cpu(device):
    # log_softmax's max starts from -inf (its identity), so an empty axis is not an error there.
    m = T.dmatrix("m")
    got, want = on_both([m], T.nnet.log_softmax(T.mean(m, axis=-1), axis=-1), [np.zeros((0, 3))], device)
    np.testing.assert_array_equal(got, want)
    assert got.shape == (0,)


def test_results_and_updates_come_back_to_the_host(device):
    w = theano.shared(np.ones(3), name="w")
    x = T.dvector("x")
    step = theano.function([x], (w * x).sum(), updates=[(w, w - 0.5 * x)])
    assert float(step(np.array([1.0, 2.0, 3.0]))) == 6.0
    np.testing.assert_allclose(w.get_value(), [0.5, 0.0, -0.5])
    assert "transfer" in theano.printing.debugprint(step, file="str")


def test_a_shared_variable_on_the_device_reads_writes_and_pickles_as_on_the_host(device):
    import copy
    import pickle

    w = theano.shared(np.arange(3.0), name="w")
    x = T.dvector("x")
    step = theano.function([x], (w * x).sum(), updates=[(w, w + x)])  # w now lives in the device's memory
    assert float(step(np.ones(3))) == 3.0
    for borrow in (False, True):  # a host copy either way (Theano's GPU variables without return_internal_type)
        value = w.get_value(borrow=borrow)
        assert isinstance(value, np.ndarray)
        np.testing.assert_array_equal(value, [1.0, 2.0, 3.0])
    w.set_value(np.array([5.0, 6.0, 7.0]))
    assert float(step(np.ones(3))) == 18.0
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(w)).get_value(), [6.0, 7.0, 8.0])
    snapshot = copy.deepcopy(w)
    step(np.ones(3))
    np.testing.assert_array_equal(snapshot.get_value(), [6.0, 7.0, 8.0])
    np.testing.assert_array_equal(w.get_value(), [7.0, 8.0, 9.0])
    # A CPU function reads it too, moved for its call.
    theano.config.device = "cpu"
    np.testing.assert_array_equal(theano.function([], w * 2)(), [14.0, 16.0, 18.0])


def test_random_streams_on_the_device_draw_the_cpus_numbers(device):
    # Theano's RandomStreams with one seed: the same numbers on the device as on the CPU, call after call.
    from hypatia.tensor.shared_randomstreams import RandomStreams

    def draws():
        rng = RandomStreams(seed=7)
        f = theano.function([], [rng.uniform((3, 5), low=-1, high=1), rng.normal((7,), avg=1.0, std=0.5)])
        return [value for _ in range(3) for value in f()]

    got = draws()
    theano.config.device = "cpu"
    want = draws()
    for k, (a, b) in enumerate(zip(got, want)):
        if k % 2 == 0:
            np.testing.assert_array_equal(a, b)  # uniform: bit for bit
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12)  # normal: within the device's libm


def test_scan_and_ifelse_from_the_tutorial_run_on_the_device(device):
    # The tutorial's A ** k by scan (its states kept on the device, its step compiled there), its gradient,
    # and a lazy ifelse choosing between two device computations.
    from hypatia.ifelse import ifelse
    k = T.iscalar("k")
    A = T.dvector("A")
    result, updates = theano.scan(fn=lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A, n_steps=k)
    final = result[-1]
    a, b = T.dscalar("a"), T.dscalar("b")
    chosen = ifelse(T.lt(a, b), T.mean(A * a), T.mean(A * b))
    outputs = [final, T.grad(final.sum(), A), chosen]
    values = [np.int32(4), np.arange(1.0, 5.0), 1.0, 2.0]
    got, want = on_both([k, A, a, b], outputs, values, device)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    np.testing.assert_allclose(got[0], np.arange(1.0, 5.0) ** 4)


def test_float16_pieces_of_a_concatenation_join_as_on_the_cpu(device):
    # Found by the fuzzer when device kernels did not read float16 (a join taking one must then run on the
    # host); now they store it as its bits and the join converts on the device.
    h, f = T.vector("h", dtype="float16"), T.fvector("f")
    got, want = on_both([h, f], T.concatenate([h, f]) * 2, [np.array([1.5], "float16"), np.array([-2.25, 3.0], "float32")], device)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.float32


def test_a_float16_value_assigned_at_index_arrays_converts_as_on_the_cpu(device):
    # Found by the fuzzer when device kernels did not read float16: the assignment converts its value on
    # the device.
    x, v = T.fmatrix("x"), T.vector("v", dtype="float16")
    out = T.set_subtensor(x[:, [-1, -3]], v)
    got, want = on_both([x, v], out, [np.ones((2, 3), "float32"), np.array([2.5, -2.0], "float16")], device)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan",
                                  "arcsinh", "arccosh", "arctanh", "exp2", "log2", "log10", "abs", "angle", "real", "imag", "conj"])
@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_functions_on_the_device_match_numpy(device, name, dtype):
    # Points around the unit circle and off it in every quadrant, small ones (no cancellation near 0), and
    # points on the branch cuts with signed zeros (each side of the cut, as C99 and NumPy put it).
    z = T.vector("z", dtype=dtype)
    values = np.array([0.5 + 0.3j, -1.2 + 0.7j, 0.1 - 0.9j, 1.4 + 1.1j, -0.6 - 0.4j, 2.5 - 3j, -0.3 + 2j, 1e-6 + 1e-6j, -2e-7 + 3e-7j,
                       complex(1.5, 0.0), complex(1.5, -0.0), complex(-1.5, -0.0), complex(-1.5, 0.0), complex(-0.0, 1.5),
                       complex(0.0, -1.5)]).astype(dtype)
    got = theano.function([z], getattr(T, name)(z))(values)
    want = getattr(np, name)(values)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=3e-6 if dtype == "complex64" else 1e-12, atol=1e-30)


def test_complex_arithmetic_sums_and_products_on_the_device_match_numpy(device):
    a, b = T.zmatrix("a"), T.zmatrix("b")
    rng = np.random.default_rng(7)
    av = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
    bv = rng.normal(size=(4, 2)) + 1j * rng.normal(size=(4, 2))
    outputs = [a * 2 - a / (a + 3j), a ** 2, T.dot(a, b), a.sum(axis=0), a.prod(axis=1), T.eq(a, a.conj())]
    got = theano.function([a, b], outputs)(av, bv)
    want = [av * 2 - av / (av + 3j), av ** 2, av @ bv, av.sum(axis=0), av.prod(axis=1), av == av.conj()]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def test_float16_on_the_device_rounds_as_numpy(device):
    # Each operation rounds to float16 as NumPy's float16 loops do (they compute in float32).
    h = T.vector("h", dtype="float16")
    values = np.array([0.1, -2.5, 1000.0, 3.3e-5, 65000.0, -7.1], dtype="float16")
    got = theano.function([h], [h * 3 + 1, T.exp(h / 1000), h.astype("float32") / 7, T.cast(h.astype("float64") / 3, "float16")])(values)
    with np.errstate(over="ignore"):  # (65000 * 3 and exp(65) overflow to inf, in both)
        want = [values * np.float16(3) + np.float16(1), np.exp(values / np.float16(1000)), values.astype("float32") / 7,
                (values.astype("float64") / 3).astype("float16")]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_fourier_transforms_run_on_the_device_and_match_numpy(device):
    # Through the device's FFT library (clFFT on PoCL, cuFFT on CUDA): no transfer around the transforms.
    # Prime lengths (which the library may refuse, then the host runs them) and a non-Hermitian input to the
    # complex-to-real transforms (NumPy ignores the imaginary parts of frequencies 0 and n / 2, after the
    # inverse transform over the leading axes) must give NumPy's numbers too.
    from hypatia import fft as hfft
    rng = np.random.RandomState(3)
    for dtype, tolerance in (("float64", 1e-12), ("float32", 1e-4)):
        x = T.TensorType(dtype, (False, False, False))("x")
        z = T.TensorType("complex128" if dtype == "float64" else "complex64", (False, False, False))("z")
        outputs = [hfft.rfftn(x, axes=(1, 2)), hfft.irfftn(z, s=(4, 6), axes=(1, 2)), hfft.ifft(hfft.fft(x * 2) * 3),
                   hfft.irfft(z, n=7), hfft.rfft(x, norm="ortho")]
        f = theano.function([x, z], outputs)
        text = theano.printing.debugprint(f, file="str")
        assert text.count("transfer{cpu}") == len(outputs) and text.count("fft{") == 6, text
        for shape in ((2, 4, 6), (3, 5, 13)):
            a = rng.randn(*shape).astype(dtype)
            c = (rng.randn(2, 4, 4) + 1j * rng.randn(2, 4, 4)).astype(z.dtype)
            got = f(a, c)
            want = [np.fft.rfftn(a, axes=(1, 2)), np.fft.irfftn(c, s=(4, 6), axes=(1, 2)), np.fft.ifft(np.fft.fft(a * 2) * 3),
                    np.fft.irfft(c, n=7), np.fft.rfft(a, norm="ortho")]
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, rtol=tolerance, atol=tolerance * 10)
    # Over 4 axes (beyond clFFT's and cuFFT's 3: the host runs it), and a complex-to-real transform over 3.
    t = T.TensorType("float64", (False,) * 4)("t")
    w = T.TensorType("complex128", (False,) * 3)("w")
    f = theano.function([t, w], [hfft.fftn(t), hfft.rfftn(t), hfft.irfftn(w, s=(3, 4, 6))])
    a = rng.randn(2, 3, 4, 5)
    c = rng.randn(3, 4, 4) + 1j * rng.randn(3, 4, 4)
    for g, want in zip(f(a, c), [np.fft.fftn(a), np.fft.rfftn(a), np.fft.irfftn(c, s=(3, 4, 6))]):
        np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-11)
