"""Fourier transforms on FFTW against NumPy's numpy.fft on the same values: hypatia.fft (fft, ifft, fft2, ifft2,
fftn, ifftn, rfft, irfft, rfft2, irfft2, rfftn, irfftn, fftshift, ifftshift, fftfreq, rfftfreq) with NumPy's n, s,
axes and norm arguments, and Theano 1.0's tensor.fft (rfft and irfft with the real and imaginary parts on a last
axis of 2, the first axis a batch). Complex results are complex128 for float64 and integer inputs and complex64 for
float32 inputs; float64 results are compared with rtol 1e-10 (atol scaled by the transform's size), float32 ones
with rtol 1e-4. Batches of signals, axes other than the last, non-contiguous inputs, one function called with
several lengths (FFTW's plans are made per shape), gradients by verify_grad (central differences, float64; complex
outputs through a real cost of their real and imaginary parts) and the errors NumPy raises. Each graph runs in
FAST_RUN and in FAST_COMPILE and the two must agree."""
import pickle

import numpy as np
import pytest

import hypatia as theano
from every_mode import run_every_mode
import hypatia.fft as hfft
import hypatia.tensor as T
from hypatia.tensor import fft as tfft

NORMS = (None, "backward", "ortho", "forward")

# On OpenCL the ops without device kernels run on the host; the warning saying so is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:.*has no kernel on this device")


def low_precision(dtype):
    return np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.complex64))


def tolerances(dtype, points=1):
    """rtol/atol for results of `dtype` from transforms of `points` points (the absolute error grows with the
    size of the transform)."""
    points = max(int(points), 1)
    if low_precision(dtype):
        return dict(rtol=1e-4, atol=1e-4 * max(1.0, np.sqrt(points)))
    return dict(rtol=1e-10, atol=1e-10 * points)


def run(inputs, outputs, values, **kwargs):
    """Compiles the graph in every mode, checks that the modes agree, returns the FAST_RUN results."""
    return run_every_mode(inputs, outputs, values, lambda a: tolerances(a.dtype, a.size), **kwargs)


def check(actual, expected, dtype=None, points=None):
    """actual against expected (computed by NumPy in float64) within the tolerances of actual's dtype; when dtype
    is given, actual must have it."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if dtype is not None:
        assert actual.dtype == np.dtype(dtype), (actual.dtype, dtype)
    points = expected.size if points is None else points
    np.testing.assert_allclose(actual, expected, **tolerances(actual.dtype, points))


def var(name, ndim, dtype="float64"):
    return T.tensor(name, dtype=dtype, shape=(None,) * ndim)


def values(rng, shape, dtype):
    """Standard normal values of dtype (complex ones with an imaginary part too, integers in [-5, 5])."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if dtype.kind in "iu":
        return rng.randint(-5, 6, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def complex_of(dtype):
    """NumPy's (and hypatia.fft's) complex result dtype for an input of dtype."""
    return np.dtype("complex64") if low_precision(dtype) else np.dtype("complex128")


def real_of(dtype):
    return np.dtype("float32") if complex_of(dtype) == np.dtype("complex64") else np.dtype("float64")


def as_f64(x):
    """x in the precision NumPy's reference computes in."""
    x = np.asarray(x)
    return x.astype(np.complex128) if x.dtype.kind == "c" else x.astype(np.float64)


# ---------------------------------------------------------------------------------------------------------------
# fft and ifft: n, axis, dtypes

FFT1_CASES = [  # (shape, axis, n, norm)
    ((8,), -1, None, None),
    ((7,), -1, None, "ortho"),
    ((1,), -1, None, None),
    ((3, 8), -1, None, "forward"),
    ((5, 6), 0, None, "backward"),
    ((3, 8), -1, 5, None),
    ((3, 7), 1, 12, "ortho"),
    ((2, 3, 5), 1, None, None),
    ((4, 2, 6), 0, 3, "forward"),
]


ALL_DTYPES = ("float64", "float32", "complex128", "complex64")


@pytest.mark.parametrize("name", ["fft", "ifft"])
@pytest.mark.parametrize("case", FFT1_CASES, ids=[f"{c[0]}-ax{c[1]}-n{c[2]}-{c[3]}" for c in FFT1_CASES])
def test_fft_and_ifft_match_numpy(case, name):
    """Each case on float64, float32, complex128 and complex64 inputs."""
    shape, axis, n, norm = case
    rng = np.random.RandomState(len(shape) * 100 + shape[-1])
    arrays = [values(rng, shape, dtype) for dtype in ALL_DTYPES]
    xs = [var(f"x_{dtype}", len(shape), dtype) for dtype in ALL_DTYPES]
    got = run(xs, [getattr(hfft, name)(x, n=n, axis=axis, norm=norm) for x in xs], arrays)
    for dtype, a, g in zip(ALL_DTYPES, arrays, got):
        expected = getattr(np.fft, name)(as_f64(a), n=n, axis=axis, norm=norm)
        check(g, expected, complex_of(dtype), points=n or shape[axis])


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_integer_inputs_give_complex128(dtype):
    a = values(np.random.RandomState(1), (3, 6), dtype)
    x = var("x", 2, dtype)
    got_fft, got_rfft, got_ifft2 = run([x], [hfft.fft(x), hfft.rfft(x), hfft.ifft2(x)], [a])
    check(got_fft, np.fft.fft(a), "complex128")
    check(got_rfft, np.fft.rfft(a), "complex128")
    check(got_ifft2, np.fft.ifft2(a), "complex128")


def test_fft_of_a_non_contiguous_input():
    """Transposed and strided views of the input transform as their values."""
    a = values(np.random.RandomState(2), (6, 10), "float64")
    x = var("x", 2)
    got_t, got_s, got_r = run([x], [hfft.fft(x.T), hfft.fft(x[:, ::2]), hfft.rfft(x[::-1, 1:], axis=0)], [a])
    check(got_t, np.fft.fft(a.T))
    check(got_s, np.fft.fft(a[:, ::2]))
    check(got_r, np.fft.rfft(a[::-1, 1:], axis=0))


def test_fft_of_a_scalar_expression_graph():
    """A transform inside a larger graph: ifft(fft(x)) * 2 is 2x, abs(fft(x))**2 sums to n * sum(x**2)."""
    a = values(np.random.RandomState(3), (4, 9), "float64")
    x = var("x", 2)
    back, power = run([x], [T.real(hfft.ifft(hfft.fft(x))) * 2, T.sum(abs(hfft.fft(x)) ** 2, axis=-1)], [a])
    check(back, 2 * a)
    check(power, 9 * np.sum(a ** 2, axis=-1))


def test_static_shapes_constants_and_shared_inputs():
    """Inputs of known shape (n cuts and pads them statically), constants (which FAST_RUN may fold) and shared
    variables."""
    a = values(np.random.RandomState(7), (3, 8), "float64")
    x = T.tensor("x", dtype="float64", shape=(3, 8))
    row = T.tensor("row", dtype="float64", shape=(1, None))
    s = theano.shared(a)
    outputs = [hfft.fft(x, n=5), hfft.rfft(x, n=12), hfft.irfft(x, n=7), hfft.fftn(x, s=(2, 9)), hfft.fft(a),
               hfft.rfft2(a * 2), hfft.fftshift(x, axes=1), hfft.ifft(s), hfft.fft(row, n=3, axis=0)]
    expected = [np.fft.fft(a, n=5), np.fft.rfft(a, n=12), np.fft.irfft(a, n=7), np.fft.fftn(a, s=(2, 9), axes=(0, 1)),
                np.fft.fft(a), np.fft.rfft2(a * 2), np.fft.fftshift(a, axes=1), np.fft.ifft(a),
                np.fft.fft(a[:1], n=3, axis=0)]
    for g, e in zip(run([x, row], outputs, [a, a[:1]]), expected):
        check(g, e)


def test_float16_inputs_give_complex64():
    a = values(np.random.RandomState(8), (2, 6), "float16")
    x = var("x", 2, "float16")
    got_fft, got_rfft = run([x], [hfft.fft(x), hfft.rfft(x)], [a])
    check(got_fft, np.fft.fft(a.astype(np.float64)), np.fft.fft(a).dtype)
    check(got_rfft, np.fft.rfft(a.astype(np.float64)), np.fft.rfft(a).dtype)


def test_transforms_leave_their_inputs_unchanged():
    """The caller's arrays, and the input's values read again in the same graph after the transform (FFTW's
    complex-to-real transforms overwrite their input)."""
    rng = np.random.RandomState(9)
    a, c = values(rng, (3, 8), "float64"), values(rng, (3, 5), "complex128")
    a_copy, c_copy = a.copy(), c.copy()
    x, z = var("x", 2), var("z", 2, "complex128")
    got = run([x, z], [hfft.irfft(z), z * 1, hfft.irfftn(z), T.real(hfft.ifft(hfft.rfft(x), n=8)) + x * 0,
                       hfft.rfft2(x), x + 0, hfft.fft(z), z + 0], [a, c])
    np.testing.assert_array_equal(a, a_copy)
    np.testing.assert_array_equal(c, c_copy)
    check(got[0], np.fft.irfft(c))
    np.testing.assert_array_equal(got[1], c)
    check(got[2], np.fft.irfftn(c))
    check(got[3], np.real(np.fft.ifft(np.fft.rfft(a), n=8)))
    check(got[4], np.fft.rfft2(a))
    np.testing.assert_array_equal(got[5], a)
    check(got[6], np.fft.fft(c))
    np.testing.assert_array_equal(got[7], c)


# ---------------------------------------------------------------------------------------------------------------
# fft2, ifft2, fftn, ifftn: s and axes

FFTN_CASES = [  # (function, shape, s, axes)
    ("fft2", (4, 6), None, (-2, -1)),
    ("ifft2", (3, 4, 5), None, (-2, -1)),
    ("fft2", (3, 4, 5), (6, 3), (0, 2)),
    ("ifft2", (5, 4), (2, 7), (1, 0)),
    ("fftn", (3, 4, 5), None, None),
    ("ifftn", (3, 4, 5), None, None),
    ("fftn", (2, 3, 4), (5, 2), None),
    ("ifftn", (2, 3, 4), None, (-1, 0)),
    ("fftn", (2, 3, 4, 5), (4, 4, 4), (1, 2, 3)),
    ("ifftn", (6, 7), (7,), (0,)),
]


def numpy_axes(s, axes):
    """NumPy's axes for s and axes, the last len(s) when axes is None and s is not (NumPy 2 deprecates leaving
    them out)."""
    if axes is None and s is not None:
        return dict(axes=tuple(range(-len(s), 0)))
    return {} if axes is None else dict(axes=axes)


@pytest.mark.parametrize("case", FFTN_CASES, ids=[f"{c[0]}-{c[1]}-s{c[2]}-ax{c[3]}" for c in FFTN_CASES])
def test_multidimensional_complex_transforms_match_numpy(case):
    """Each case on float64, float32, complex128 and complex64 inputs."""
    name, shape, s, axes = case
    rng = np.random.RandomState(int(np.prod(shape)))
    arrays = [values(rng, shape, dtype) for dtype in ALL_DTYPES]
    xs = [var(f"x_{dtype}", len(shape), dtype) for dtype in ALL_DTYPES]
    kwargs = {} if axes is None else dict(axes=axes)
    got = run(xs, [getattr(hfft, name)(x, s=s, **kwargs) for x in xs], arrays)
    for dtype, a, g in zip(ALL_DTYPES, arrays, got):
        check(g, getattr(np.fft, name)(as_f64(a), s=s, **numpy_axes(s, axes)), complex_of(dtype))


@pytest.mark.parametrize("name", ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfftn", "irfftn"])
def test_every_norm_matches_numpy(name):
    rng = np.random.RandomState(4)
    a = values(rng, (3, 6, 5), "complex128" if name.startswith("i") or name in ("fft", "fft2", "fftn") else "float64")
    x = var("x", 3, a.dtype)
    fn = getattr(hfft, name)
    outputs = [fn(x, norm=norm) for norm in NORMS]
    got = run([x], outputs, [a])
    for norm, g in zip(NORMS, got):
        expected = getattr(np.fft, name)(a, norm=norm)
        check(g, expected, expected.dtype)


def test_forward_and_inverse_with_the_same_norm_are_inverses():
    a = values(np.random.RandomState(5), (4, 7), "complex128")
    r = values(np.random.RandomState(6), (4, 7), "float64")
    z, x = var("z", 2, "complex128"), var("x", 2)
    outputs = [hfft.ifft(hfft.fft(z, norm=norm), norm=norm) for norm in NORMS]
    outputs += [hfft.irfft(hfft.rfft(x, norm=norm), n=7, norm=norm) for norm in NORMS]
    outputs += [hfft.irfftn(hfft.rfftn(x, norm=norm), s=(4, 7), norm=norm) for norm in NORMS]
    got = run([z, x], outputs, [a, r])
    for g in got[:4]:
        check(g, a)
    for g in got[4:]:
        check(g, r)


# ---------------------------------------------------------------------------------------------------------------
# rfft and irfft

RFFT_CASES = [  # (shape, axis, n)
    ((8,), -1, None),
    ((9,), -1, None),
    ((1,), -1, None),
    ((2,), -1, None),
    ((3, 10), -1, None),
    ((3, 11), -1, 6),
    ((3, 5), -1, 8),
    ((6, 4), 0, None),
    ((7, 4), 0, 9),
    ((2, 5, 3), 1, None),
]


REAL_DTYPES = ("float64", "float32")


@pytest.mark.parametrize("case", RFFT_CASES, ids=[f"{c[0]}-ax{c[1]}-n{c[2]}" for c in RFFT_CASES])
def test_rfft_matches_numpy(case):
    """Each case on float64 and float32 inputs."""
    shape, axis, n = case
    rng = np.random.RandomState(10 + shape[axis])
    arrays = [values(rng, shape, dtype) for dtype in REAL_DTYPES]
    xs = [var(f"x_{dtype}", len(shape), dtype) for dtype in REAL_DTYPES]
    got = run(xs, [hfft.rfft(x, n=n, axis=axis) for x in xs], arrays)
    for dtype, a, g in zip(REAL_DTYPES, arrays, got):
        check(g, np.fft.rfft(as_f64(a), n=n, axis=axis), complex_of(dtype), points=n or shape[axis])


IRFFT_CASES = [  # (shape of the half spectrum, axis, n)
    ((5,), -1, None),     # n = 8
    ((5,), -1, 9),        # odd n from the same frequencies
    ((5,), -1, 4),        # cut to 3 frequencies
    ((5,), -1, 14),       # zero-padded to 8 frequencies
    ((2,), -1, None),     # n = 2
    ((1,), -1, 1),
    ((3, 6), -1, None),
    ((3, 6), -1, 11),
    ((4, 3), 0, None),
    ((4, 3), 0, 7),
    ((2, 4, 3), 1, 5),
]


@pytest.mark.parametrize("case", IRFFT_CASES, ids=[f"{c[0]}-ax{c[1]}-n{c[2]}" for c in IRFFT_CASES])
def test_irfft_matches_numpy(case):
    """Random half spectra (not those of real signals: the imaginary parts of frequency 0 and n/2 are ignored,
    as NumPy's), complex128, complex64 and real float64 and float32 ones."""
    shape, axis, n = case
    rng = np.random.RandomState(20 + shape[axis])
    arrays = [values(rng, shape, dtype) for dtype in ALL_DTYPES]
    xs = [var(f"x_{dtype}", len(shape), dtype) for dtype in ALL_DTYPES]
    got = run(xs, [hfft.irfft(x, n=n, axis=axis) for x in xs], arrays)
    for dtype, a, g in zip(ALL_DTYPES, arrays, got):
        expected = np.fft.irfft(as_f64(a), n=n, axis=axis)
        check(g, expected, real_of(dtype), points=expected.shape[axis])


@pytest.mark.parametrize("n", [6, 7])
def test_irfft_inverts_rfft_for_even_and_odd_lengths(n):
    a = values(np.random.RandomState(n), (3, n), "float64")
    x = var("x", 2)
    got = run([x], hfft.irfft(hfft.rfft(x), n=n), [a])
    check(got, a)


RFFTN_CASES = [  # (function, shape, s, axes): rfftn's input shape (irfftn's is computed from it)
    ("rfft2", (4, 6), None, (-2, -1)),
    ("rfft2", (3, 4, 5), None, (-2, -1)),
    ("rfft2", (3, 4, 5), (6, 3), (0, 2)),
    ("rfftn", (3, 4, 5), None, None),
    ("rfftn", (2, 3, 5), (4, 7), None),
    ("rfftn", (5, 4, 3), None, (2, 0)),
    ("rfftn", (2, 3, 4, 5), (3, 4, 4), (1, 2, 3)),
    ("rfftn", (6, 7), (7,), (0,)),
]


@pytest.mark.parametrize("case", RFFTN_CASES, ids=[f"{c[0]}-{c[1]}-s{c[2]}-ax{c[3]}" for c in RFFTN_CASES])
def test_rfftn_and_irfftn_match_numpy(case):
    """Each case in float64 and float32: the forward transform, the inverse of a random (not Hermitian) half
    spectrum of the forward's shape, and the inverse of the forward."""
    name, shape, s, axes = case
    inverse = "i" + name
    rng = np.random.RandomState(int(np.prod(shape)) + 1)
    kwargs, np_kwargs = ({} if axes is None else dict(axes=axes)), numpy_axes(s, axes)
    for dtype in REAL_DTYPES:
        a = values(rng, shape, dtype)
        spectrum = getattr(np.fft, name)(a.astype(np.float64), s=s, **np_kwargs)
        noise = values(rng, spectrum.shape, complex_of(dtype))
        x, z = var("x", len(shape), dtype), var("z", len(shape), complex_of(dtype))
        got_forward, got_inverse, got_round = run(
            [x, z], [getattr(hfft, name)(x, s=s, **kwargs), getattr(hfft, inverse)(z, s=s, **kwargs),
                     getattr(hfft, inverse)(getattr(hfft, name)(x, s=s, **kwargs), s=s, **kwargs)], [a, noise])
        check(got_forward, spectrum, complex_of(dtype))
        check(got_inverse, getattr(np.fft, inverse)(as_f64(noise), s=s, **np_kwargs), real_of(dtype))
        check(got_round, getattr(np.fft, inverse)(spectrum, s=s, **np_kwargs), real_of(dtype))


@pytest.mark.parametrize("name", ["rfft", "rfft2", "rfftn"])
def test_real_transforms_of_a_complex_input_raise_type_error(name):
    for dtype in ("complex128", "complex64"):
        z = var("z", 2, dtype)
        with pytest.raises(TypeError):
            theano.function([z], getattr(hfft, name)(z))(np.ones((2, 4), dtype=dtype))


@pytest.mark.parametrize("call", [
    lambda x: hfft.irfft(x, n=0),
    lambda x: hfft.irfft(x, n=-2),
    lambda x: hfft.fft(x, n=0),
    lambda x: hfft.rfft(T.real(x), n=0),
    lambda x: hfft.irfftn(x, s=(3, 0)),
    lambda x: hfft.fftn(x, s=(3,), axes=(0, 1)),
], ids=["irfft-n0", "irfft-n-2", "fft-n0", "rfft-n0", "irfftn-s0", "fftn-s-axes-lengths"])
def test_invalid_lengths_raise_value_error(call):
    """NumPy's ValueErrors: no points (n < 1) and s and axes of different lengths; when building the graph or
    at the latest when the function runs."""
    z = var("z", 2, "complex128")
    with pytest.raises(ValueError):
        theano.function([z], call(z))(np.ones((3, 4), dtype="complex128"))


def test_irfft_of_one_frequency_without_n_raises_value_error_when_run():
    """The default length 2 * (m - 1) is 0 for one frequency: NumPy's ValueError, from the call; the function
    stays usable."""
    x = var("x", 2, "complex128")
    f = theano.function([x], hfft.irfft(x))
    with pytest.raises(ValueError):
        f(np.ones((2, 1), dtype="complex128"))
    with pytest.raises(ValueError):
        np.fft.irfft(np.ones((2, 1), dtype="complex128"))
    check(f(np.ones((2, 3), dtype="complex128")), np.fft.irfft(np.ones((2, 3))))


# ---------------------------------------------------------------------------------------------------------------
# Larger batches, and one function run on several shapes (plans per shape)

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batch_of_signals_of_length_4096(dtype):
    rng = np.random.RandomState(40)
    a = values(rng, (3, 2 ** 12), dtype)
    x = var("x", 2, dtype)
    got_fft, got_rfft, got_irfft = run([x], [hfft.fft(x), hfft.rfft(x), hfft.irfft(hfft.rfft(x))], [a])
    check(got_fft, np.fft.fft(as_f64(a)), complex_of(dtype), points=2 ** 12)
    check(got_rfft, np.fft.rfft(as_f64(a)), complex_of(dtype), points=2 ** 12)
    check(got_irfft, a, real_of(dtype), points=2 ** 12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_large_batches_transform_every_signal(dtype):
    """Batches large enough for FFTW's threads: every signal of the batch is transformed."""
    rng = np.random.RandomState(41)
    a = values(rng, (16, 2 ** 12), dtype)
    b = values(rng, (4, 64, 128), dtype)
    x, y = var("x", 2, dtype), var("y", 3, dtype)
    got_fft, got_rfft2, got_ifft = run([x, y], [hfft.fft(x), hfft.rfft2(y), hfft.ifft(x, axis=0)], [a, b])
    check(got_fft, np.fft.fft(as_f64(a)), complex_of(dtype), points=2 ** 12)
    check(got_rfft2, np.fft.rfft2(as_f64(b)), complex_of(dtype), points=64 * 128)
    check(got_ifft, np.fft.ifft(as_f64(a), axis=0), complex_of(dtype), points=16)


def test_one_function_on_several_lengths_and_batches():
    rng = np.random.RandomState(42)
    x, z = var("x", 2), var("z", 2, "complex128")
    f = theano.function([x, z], [hfft.fft(x), hfft.rfft(x), hfft.irfft(z), hfft.ifft2(z)])
    shapes = [(3, 8), (3, 7), (5, 8), (1, 16), (3, 8), (2, 2), (4, 9), (3, 7)]
    for shape in shapes:
        a, c = values(rng, shape, "float64"), values(rng, shape, "complex128")
        got = f(a, c)
        check(got[0], np.fft.fft(a))
        check(got[1], np.fft.rfft(a))
        check(got[2], np.fft.irfft(c))
        check(got[3], np.fft.ifft2(c))


def test_a_function_with_transforms_survives_pickling():
    a = values(np.random.RandomState(43), (3, 10), "float64")
    x = var("x", 2)
    f = theano.function([x], [hfft.rfft(x, norm="ortho"), hfft.irfft(hfft.rfft(x), n=10), hfft.ifft(x, n=4)])
    g = pickle.loads(pickle.dumps(f))
    for got, expected in zip(g(a), [np.fft.rfft(a, norm="ortho"), a, np.fft.ifft(a, n=4)]):
        check(got, expected)


# ---------------------------------------------------------------------------------------------------------------
# fftshift, ifftshift, fftfreq, rfftfreq

SHIFT_CASES = [  # (shape, axes)
    ((8,), None),
    ((7,), None),
    ((4, 5), None),
    ((4, 5), 0),
    ((4, 5), -1),
    ((3, 4, 5), (0, 2)),
    ((3, 4, 5), (-1, 1)),
    ((1, 6), (0, 1)),
]


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("case", SHIFT_CASES, ids=[f"{c[0]}-ax{c[1]}" for c in SHIFT_CASES])
def test_shifts_match_numpy(case, name):
    shape, axes = case
    a = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    x = var("x", len(shape))
    got = run([x], getattr(hfft, name)(x, axes=axes), [a])
    np.testing.assert_array_equal(got, getattr(np.fft, name)(a, axes=axes))


@pytest.mark.parametrize("n", [6, 7])
def test_shifts_are_inverse_and_move_frequency_zero_to_the_middle(n):
    x, z = var("x", 1), var("z", 2, "complex128")
    freqs = np.fft.fftfreq(n)
    c = values(np.random.RandomState(n), (3, n), "complex128")
    shifted, back, zs = run([x, z], [hfft.fftshift(x), hfft.ifftshift(hfft.fftshift(x)), hfft.fftshift(z, axes=1)],
                            [freqs, c])
    np.testing.assert_array_equal(shifted, np.fft.fftshift(freqs))
    assert shifted[n // 2] == 0 and np.all(np.diff(shifted) > 0)
    np.testing.assert_array_equal(back, freqs)
    np.testing.assert_array_equal(zs, np.fft.fftshift(c, axes=1))


@pytest.mark.parametrize("n,d", [(8, 1.0), (9, 1.0), (1, 1.0), (10, 0.1), (7, 2.5)])
def test_fftfreq_and_rfftfreq_match_numpy(n, d):
    f = theano.function([], [hfft.fftfreq(n, d), hfft.rfftfreq(n, d), hfft.fftfreq(n)])
    got = f()
    np.testing.assert_allclose(got[0], np.fft.fftfreq(n, d), rtol=1e-15)
    np.testing.assert_allclose(got[1], np.fft.rfftfreq(n, d), rtol=1e-15)
    np.testing.assert_allclose(got[2], np.fft.fftfreq(n), rtol=1e-15)


# ---------------------------------------------------------------------------------------------------------------
# Theano's tensor.fft: the real and imaginary parts on a last axis of 2

def as_pairs(spectrum):
    return np.stack([spectrum.real, spectrum.imag], axis=-1)


THEANO_SHAPES = [(3, 8), (3, 9), (2, 4, 6), (2, 5, 7), (1, 1, 2)]
THEANO_NORMS = (None, "ortho", "no_norm")


@pytest.mark.parametrize("dtype", REAL_DTYPES)
@pytest.mark.parametrize("shape", THEANO_SHAPES, ids=[str(s) for s in THEANO_SHAPES])
def test_theano_rfft_matches_numpy(shape, dtype):
    a = values(np.random.RandomState(50 + sum(shape)), shape, dtype)
    axes = tuple(range(1, len(shape)))
    points = int(np.prod(shape[1:]))
    x = var("x", len(shape), dtype)
    got = run([x], [tfft.rfft(x, norm=norm) for norm in THEANO_NORMS], [a])
    spectrum = np.fft.rfftn(a.astype(np.float64), axes=axes)
    for norm, g in zip(THEANO_NORMS, got):
        expected = as_pairs(spectrum / np.sqrt(points) if norm == "ortho" else spectrum)
        check(g, expected, dtype, points=points)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", THEANO_SHAPES, ids=[str(s) for s in THEANO_SHAPES])
def test_theano_irfft_matches_numpy(shape, dtype):
    """irfft of (m, ..., n // 2 + 1, 2), n even unless is_odd; also irfft(rfft(x)) = x (times n for no_norm)."""
    rng = np.random.RandomState(60 + sum(shape))
    signal = values(rng, shape, dtype)
    n = shape[-1]
    is_odd = bool(n % 2)
    axes = tuple(range(1, len(shape)))
    points = int(np.prod(shape[1:]))
    half = shape[:-1] + (n // 2 + 1,)
    spectrum = (rng.standard_normal(half) + 1j * rng.standard_normal(half))
    pairs = as_pairs(spectrum).astype(dtype)
    p, x = var("p", len(shape) + 1, dtype), var("x", len(shape), dtype)
    outputs = [tfft.irfft(p, norm=norm, is_odd=is_odd) for norm in THEANO_NORMS]
    outputs += [tfft.irfft(tfft.rfft(x, norm=norm), norm=norm, is_odd=is_odd) for norm in THEANO_NORMS]
    got = run([p, x], outputs, [pairs, signal])
    expected = np.fft.irfftn(spectrum, s=shape[1:], axes=axes)
    scale = {None: 1.0, "ortho": np.sqrt(points), "no_norm": float(points)}
    for norm, g in zip(THEANO_NORMS, got[:3]):
        check(g, scale[norm] * expected, dtype, points=points)
    for norm, g in zip(THEANO_NORMS, got[3:]):
        check(g, (points if norm == "no_norm" else 1.0) * signal.astype(np.float64), dtype, points=points)


def test_theano_fft_rejects_unknown_norms():
    x = var("x", 2)
    with pytest.raises(ValueError):
        tfft.rfft(x, norm="forward")
    with pytest.raises(ValueError):
        tfft.irfft(var("p", 3), norm="backward")


# ---------------------------------------------------------------------------------------------------------------
# Gradients (verify_grad: central differences in float64)

def real_cost(y, rng, shape):
    """A real cost of a complex y of `shape`: sum(Re(y) c1 + Im(y) c2) with constant random c1, c2."""
    c1, c2 = rng.standard_normal(shape), rng.standard_normal(shape)
    return T.sum(T.real(y) * c1 + T.imag(y) * c2)


def verify(fun, points, seed):
    theano.gradient.verify_grad(fun, points, rng=np.random.RandomState(seed))


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("n", [6, 7])
def test_rfft_gradient(n, norm):
    rng = np.random.RandomState(70 + n)
    shape = np.fft.rfft(np.zeros((3, n))).shape
    cost_rng = np.random.RandomState(71)
    c1, c2 = cost_rng.standard_normal(shape), cost_rng.standard_normal(shape)
    verify(lambda x: T.sum(T.real(hfft.rfft(x, norm=norm)) * c1 + T.imag(hfft.rfft(x, norm=norm)) * c2),
           [rng.standard_normal((3, n))], 72)
    verify(lambda x: T.sum(abs(hfft.rfft(x, norm=norm)) ** 2), [rng.standard_normal((3, n))], 73)


@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
@pytest.mark.parametrize("n", [6, 7])
def test_irfft_gradient(n, norm):
    """irfft of a complex input built from two real ones; the imaginary parts of frequency 0 (and n/2 for even n)
    do not affect the result, so their gradient must be 0 (finite differences give 0 there)."""
    rng = np.random.RandomState(80 + n)
    m = n // 2 + 1
    c = rng.standard_normal((3, n))
    re, im = rng.standard_normal((3, m)), rng.standard_normal((3, m))
    verify(lambda a, b: T.sum(hfft.irfft(T.complex(a, b), n=n, norm=norm) * c), [re, im], 81)
    a, b = var("a", 2), var("b", 2)
    cost = T.sum(hfft.irfft(T.complex(a, b), n=n, norm=norm) * c)
    g_re, g_im = run([a, b], theano.grad(cost, [a, b]), [re, im])
    assert np.all(g_im[:, 0] == 0), g_im[:, 0]
    if n % 2 == 0:
        assert np.all(g_im[:, -1] == 0), g_im[:, -1]
    # The gradient by hand: irfft is linear, y = sum_k Re(X_k) u_k + Im(X_k) v_k.
    scale = {None: 1.0 / n, "ortho": 1.0 / np.sqrt(n), "forward": 1.0}[norm]
    t = np.arange(n)
    weight = np.where((np.arange(m) >= 1) & (np.arange(m) < (n + 1) // 2), 2.0, 1.0)
    angles = 2 * np.pi * np.outer(np.arange(m), t) / n
    expected_re = scale * weight * (c @ np.cos(angles).T)
    expected_im = -scale * weight * (c @ np.sin(angles).T)
    check(g_re, expected_re)
    check(g_im, expected_im)


@pytest.mark.parametrize("name", ["fft", "ifft"])
def test_complex_transform_gradient(name):
    """fft and ifft of a complex input built from two real ones, in every norm, through a real cost and |y|^2."""
    rng = np.random.RandomState(90)
    shape = (3, 5)
    fn = getattr(hfft, name)
    for norm in (None, "ortho", "forward"):
        cost_rng = np.random.RandomState(91)
        verify(lambda a, b: real_cost(fn(T.complex(a, b), norm=norm), cost_rng, shape),
               [rng.standard_normal(shape), rng.standard_normal(shape)], 92)
    verify(lambda a, b: T.sum(abs(fn(T.complex(a, b))) ** 2 * np.arange(1.0, 6.0)),
           [rng.standard_normal(shape), rng.standard_normal(shape)], 93)


@pytest.mark.parametrize("case", [
    ("fft-n-pad", lambda z: hfft.fft(z, n=7), (3, 5), (3, 7)),
    ("fft-n-cut", lambda z: hfft.fft(z, n=3, axis=0), (5, 4), (3, 4)),
    ("fft2", lambda z: hfft.fft2(z, norm="ortho"), (4, 5), (4, 5)),
    ("ifftn-axes", lambda z: hfft.ifftn(z, axes=(1, 0)), (3, 4), (3, 4)),
    ("fftshift", lambda z: hfft.fftshift(hfft.fft(z), axes=1), (3, 5), (3, 5)),
], ids=lambda c: c[0])
def test_more_complex_gradients(case):
    name, fn, shape, out_shape = case
    rng = np.random.RandomState(95)
    cost_rng = np.random.RandomState(96)
    verify(lambda a, b: real_cost(fn(T.complex(a, b)), cost_rng, out_shape),
           [rng.standard_normal(shape), rng.standard_normal(shape)], 97)


@pytest.mark.parametrize("shape", [(4, 6), (3, 5)])
def test_rfftn_and_irfftn_2d_gradients(shape):
    rng = np.random.RandomState(100 + shape[1])
    out_shape = np.fft.rfftn(np.zeros(shape)).shape
    for norm in (None, "ortho", "forward"):
        cost_rng = np.random.RandomState(101)
        verify(lambda x: real_cost(hfft.rfftn(x, norm=norm), cost_rng, out_shape), [rng.standard_normal(shape)], 102)
        c = rng.standard_normal(shape)
        verify(lambda a, b: T.sum(hfft.irfftn(T.complex(a, b), s=shape, norm=norm) * c),
               [rng.standard_normal(out_shape), rng.standard_normal(out_shape)], 103)


def test_rfft_with_n_gradient():
    rng = np.random.RandomState(110)
    cost_rng = np.random.RandomState(111)
    verify(lambda x: real_cost(hfft.rfft(x, n=9), cost_rng, (3, 5)), [rng.standard_normal((3, 6))], 112)
    verify(lambda x: real_cost(hfft.rfft(x, n=4, axis=0), cost_rng, (3, 2)), [rng.standard_normal((6, 2))], 113)


@pytest.mark.parametrize("shape", [(2, 8), (2, 7), (2, 4, 6), (2, 3, 5)], ids=str)
def test_theano_rfft_and_irfft_gradients(shape):
    """As Theano's own tests: verify_grad(lambda x: fft.rfft(x), ...) and irfft of an (m, ..., n // 2 + 1, 2)
    input, with is_odd for odd n; every norm."""
    rng = np.random.RandomState(120 + sum(shape))
    is_odd = bool(shape[-1] % 2)
    half = shape[:-1] + (shape[-1] // 2 + 1, 2)
    for norm in THEANO_NORMS:
        verify(lambda x: tfft.rfft(x, norm=norm), [rng.standard_normal(shape)], 121)
        verify(lambda p: tfft.irfft(p, norm=norm, is_odd=is_odd), [rng.standard_normal(half)], 122)
