"""Convolutions, pooling, batch normalization and neighbours (tensor.nnet.conv2d/conv3d and their gradients,
tensor.signal.pool, tensor.nnet.bn, tensor.nnet.neighbours) against expectations computed independently here:
SciPy's convolve2d / correlate2d / convolve for the convolutions, NumPy loops written after Theano 1.0's
perform() methods for the rest. Each graph runs in FAST_RUN and in FAST_COMPILE (the reference path) and the
two must agree; ctest runs the file again on OpenCL (HYPATIA_TEST_DEVICE=opencl, see conftest.py)."""

import numpy as np
import pytest
from scipy import signal

import hypatia as theano
from every_mode import expect_error, here, MODES, run_every_mode
import hypatia.tensor as T
from hypatia.tensor.nnet import abstract_conv, bn, conv2d, conv3d, neighbours
from hypatia.tensor.nnet import conv as old_conv
from hypatia.tensor.signal import downsample, pool

THIS_FILE = "test_conv.py"

# On OpenCL the ops without device kernels run on the host; the warning saying so is expected here.
pytestmark = pytest.mark.filterwarnings("ignore:.*has no kernel on this device")


def tolerances(dtype):
    return dict(rtol=1e-4, atol=1e-4) if np.dtype(dtype) == np.float32 else dict(rtol=1e-9, atol=1e-10)


def run(inputs, outputs, values, **kwargs):
    """Compiles the graph in every mode, checks that the modes agree, returns the FAST_RUN results."""
    return run_every_mode(inputs, outputs, values, lambda a: tolerances(a.dtype), **kwargs)


def check(actual, expected, dtype=np.float64):
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, **tolerances(dtype))


def rand(rng, *shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def distinct(rng, *shape):
    """Values without ties (gaps of at least 0.05), for max pooling's gradients."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) * 0.05 - n * 0.025).astype(np.float64)


# ---------------------------------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------------------------------

def ref_pads(border_mode, spans):
    """Theano's border_mode as zeros added on each side, per spatial axis (spans: dilated kernel sizes)."""
    if border_mode == "valid":
        return tuple(0 for _ in spans)
    if border_mode == "full":
        return tuple(s - 1 for s in spans)
    if border_mode == "half":
        return tuple(s // 2 for s in spans)
    if isinstance(border_mode, int):
        return tuple(border_mode for _ in spans)
    return tuple(border_mode)


def dilate(w, dilation):
    """The kernel with dilation - 1 zeros between its taps."""
    spatial = w.shape[2:]
    out = np.zeros(w.shape[:2] + tuple((k - 1) * d + 1 for k, d in zip(spatial, dilation)), w.dtype)
    out[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in dilation)] = w
    return out


def ref_conv(x, w, border_mode="valid", subsample=None, filter_flip=True, filter_dilation=None, num_groups=1):
    """Theano's AbstractConv in float64 from SciPy: per (image, filter), the sum over the group's channels of
    convolve2d / correlate2d (scipy.signal.convolve / correlate in 3-d) of the zero-padded image with the
    dilated kernel in 'valid' mode, then every subsample-th sample."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    nsp = x.ndim - 2
    subsample = subsample or (1,) * nsp
    dilation = filter_dilation or (1,) * nsp
    wd = dilate(w, dilation)
    pads = ref_pads(border_mode, wd.shape[2:])
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pads])
    channels, (filters, group_channels) = x.shape[1], w.shape[:2]
    assert channels == group_channels * num_groups
    group_filters = filters // num_groups
    if nsp == 2:
        op = signal.convolve2d if filter_flip else signal.correlate2d
    else:
        nd_op = signal.convolve if filter_flip else signal.correlate

        def op(a, b, mode):
            return nd_op(a, b, mode=mode, method="direct")
    stride = tuple(slice(None, None, s) for s in subsample)
    result = []
    for n in range(x.shape[0]):
        row = []
        for o in range(filters):
            group = o // group_filters
            total = sum(op(xp[n, group * group_channels + c], wd[o, c], mode="valid") for c in range(group_channels))
            row.append(total[stride])
        result.append(row)
    return np.array(result)


def ref_conv_grad_inputs(g, w, image_spatial, border_mode="valid", subsample=None, filter_flip=True,
                         filter_dilation=None, num_groups=1):
    """The adjoint of ref_conv with respect to the image, by loops: each output gradient sample times the
    (flipped) kernel added onto the padded image window it came from; the padding cut off."""
    g, w = np.asarray(g, np.float64), np.asarray(w, np.float64)
    nsp = w.ndim - 2
    subsample = subsample or (1,) * nsp
    dilation = filter_dilation or (1,) * nsp
    spans = [(k - 1) * d + 1 for k, d in zip(w.shape[2:], dilation)]
    pads = ref_pads(border_mode, spans)
    batch, filters = g.shape[:2]
    group_channels = w.shape[1]
    group_filters = filters // num_groups
    padded = np.zeros((batch, group_channels * num_groups) + tuple(s + 2 * p for s, p in zip(image_spatial, pads)))
    kernel = w[(Ellipsis,) + (slice(None, None, -1),) * nsp] if filter_flip else w
    for o in range(filters):
        group = o // group_filters
        channels = slice(group * group_channels, (group + 1) * group_channels)
        for pos in np.ndindex(*g.shape[2:]):
            window = tuple(slice(p * s, p * s + span, d) for p, s, span, d in zip(pos, subsample, spans, dilation))
            padded[(slice(None), channels) + window] += \
                g[(slice(None), o) + pos].reshape((batch,) + (1,) * (nsp + 1)) * kernel[o][None]
    return padded[(slice(None), slice(None)) + tuple(slice(p, p + s) for p, s in zip(pads, image_spatial))]


def ref_conv_grad_weights(x, g, kernel_spatial, border_mode="valid", subsample=None, filter_flip=True,
                          filter_dilation=None, num_groups=1):
    """The adjoint of ref_conv with respect to the filters, by loops over the kernel taps: the output gradient
    times the image samples each tap met, summed over images and positions."""
    x, g = np.asarray(x, np.float64), np.asarray(g, np.float64)
    nsp = x.ndim - 2
    subsample = subsample or (1,) * nsp
    dilation = filter_dilation or (1,) * nsp
    spans = [(k - 1) * d + 1 for k, d in zip(kernel_spatial, dilation)]
    pads = ref_pads(border_mode, spans)
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in pads])
    filters = g.shape[1]
    group_channels = x.shape[1] // num_groups
    group_filters = filters // num_groups
    out_spatial = g.shape[2:]
    grad = np.zeros((filters, group_channels) + tuple(kernel_spatial))
    positions = tuple(range(2, 2 + nsp))
    for o in range(filters):
        group = o // group_filters
        channels = slice(group * group_channels, (group + 1) * group_channels)
        for tap in np.ndindex(*kernel_spatial):
            window = tuple(slice(t * d, t * d + (n - 1) * s + 1, s)
                           for t, d, n, s in zip(tap, dilation, out_spatial, subsample))
            patch = xp[(slice(None), channels) + window]  # (batch, group channels, *output)
            weighted = patch * g[:, o][:, None]
            grad[(o, slice(None)) + tap] = weighted.sum(axis=(0,) + positions)
    return grad[(Ellipsis,) + (slice(None, None, -1),) * nsp] if filter_flip else grad


def ref_pool_out_shape(shape, ws, ignore_border, stride, pad):
    """Theano 1.0's Pool.out_shape."""
    nd = len(ws)
    out = list(shape[:-nd])
    for i in range(nd):
        v = shape[-nd + i] + 2 * pad[i]
        if ignore_border:
            if ws[i] == stride[i]:
                out.append(v // stride[i])
            else:
                out.append(max((v - ws[i]) // stride[i] + 1, 0))
        elif stride[i] >= ws[i]:
            out.append((v - 1) // stride[i] + 1)
        else:
            out.append(max(0, (v - 1 - ws[i] + stride[i]) // stride[i]) + 1)
    return tuple(out)


def ref_pool(x, ws, ignore_border, stride=None, pad=None, mode="max"):
    """Theano 1.0's Pool.perform: zero padding; the window clipped at the padded border; 'max', 'sum' and
    'average_exc_pad' also clipped to the image (the padding excluded); 'average_inc_pad' averages over the
    clipped window in padded coordinates."""
    x = np.asarray(x, np.float64)
    nd = len(ws)
    stride = tuple(stride) if stride is not None else tuple(ws)
    pad = tuple(pad) if pad is not None else (0,) * nd
    out_shape = ref_pool_out_shape(x.shape, ws, ignore_border, stride, pad)
    img = tuple(x.shape[-nd + i] + 2 * pad[i] for i in range(nd))
    y = np.zeros(x.shape[:-nd] + img)
    y[(Ellipsis,) + tuple(slice(pad[i], img[i] - pad[i]) for i in range(nd))] = x
    func = {"max": np.max, "sum": np.sum}.get(mode, np.average)
    regions = []
    for i in range(nd):
        axis = []
        for j in range(out_shape[-nd + i]):
            start = j * stride[i]
            end = min(start + ws[i], img[i])
            if mode != "average_inc_pad":
                start = max(start, pad[i])
                end = min(end, img[i] - pad[i])
            axis.append(slice(start, end))
        regions.append(axis)
    z = np.zeros(out_shape)
    for k in np.ndindex(*x.shape[:-nd]):
        for r in np.ndindex(*out_shape[-nd:]):
            z[k + r] = func(y[k][tuple(regions[i][r[i]] for i in range(nd))])
    return z


def ref_pool_grad(x, gz, ws, ignore_border, stride=None, pad=None, mode="max"):
    """Theano 1.0's MaxPoolGrad / AveragePoolGrad.perform: per window of ref_pool, max adds gz to every
    sample equal to the window's maximum, sum adds gz, the averages add gz divided by the window's count
    (in padded coordinates for average_inc_pad); the padding is cut off at the end."""
    x, gz = np.asarray(x, np.float64), np.asarray(gz, np.float64)
    nd = len(ws)
    stride = tuple(stride) if stride is not None else tuple(ws)
    pad = tuple(pad) if pad is not None else (0,) * nd
    img = tuple(x.shape[-nd + i] + 2 * pad[i] for i in range(nd))
    inside = tuple(slice(pad[i], img[i] - pad[i]) for i in range(nd))
    y = np.zeros(x.shape[:-nd] + img)
    y[(Ellipsis,) + inside] = x
    gx = np.zeros_like(y)
    for k in np.ndindex(*x.shape[:-nd]):
        for r in np.ndindex(*gz.shape[-nd:]):
            region = []
            for i in range(nd):
                start = r[i] * stride[i]
                end = min(start + ws[i], img[i])
                if mode != "average_inc_pad":
                    start, end = max(start, pad[i]), min(end, img[i] - pad[i])
                region.append(slice(start, end))
            region = tuple(region)
            window = y[k][region]
            if mode == "max":
                gx[k][region] += (window == window.max()) * gz[k + r]
            elif mode == "sum":
                gx[k][region] += gz[k + r]
            else:
                gx[k][region] += gz[k + r] / window.size
    return gx[(Ellipsis,) + inside]


def ref_max_pool_same_size(x, patch):
    """Each non-overlapping patch keeps its maximum, the rest (and the ignored border) is 0."""
    out = np.zeros_like(x)
    p0, p1 = patch
    for k in np.ndindex(*x.shape[:-2]):
        for i in range(x.shape[-2] // p0):
            for j in range(x.shape[-1] // p1):
                window = x[k][i * p0:(i + 1) * p0, j * p1:(j + 1) * p1]
                keep = np.where(window == window.max(), window, 0)
                out[k][i * p0:(i + 1) * p0, j * p1:(j + 1) * p1] = keep
    return out


def ref_images2neibs(x, neib_shape, neib_step=None, mode="valid"):
    """Theano's Images2Neibs.perform: one row per (image, channel, patch row, patch column), each the patch
    flattened row by row; zeros outside the image ('half', 'full'); 'wrap_centered' wraps around."""
    c, d = neib_shape
    sx, sy = neib_step if neib_step is not None else neib_shape
    batch, stack, height, width = x.shape

    def grid(size, p, step):
        if mode in ("valid", "ignore_borders"):
            if mode == "valid":
                assert (size - p) % step == 0
            return 1 + (size - p) // step, 0
        if mode == "half":  # 'valid' on the image padded by p // 2 on each side: the patches must tile it
            assert (size - p % 2) % step == 0
            return 1 + (size + 2 * (p // 2) - p) // step, p // 2
        if mode == "full":  # padded by p - 1
            assert (size + p - 2) % step == 0
            return 1 + (size + p - 2) // step, p - 1
        assert mode == "wrap_centered"
        return -(-size // step), p // 2

    grid_c, shift_r = grid(height, c, sx)
    grid_d, shift_c = grid(width, d, sy)
    rows = []
    for n in range(batch):
        for s in range(stack):
            for a in range(grid_c):
                for b in range(grid_d):
                    patch = np.zeros((c, d), x.dtype)
                    for i in range(c):
                        for j in range(d):
                            r, q = a * sx + i - shift_r, b * sy + j - shift_c
                            if mode == "wrap_centered":
                                r, q = r % height, q % width
                            if 0 <= r < height and 0 <= q < width:
                                patch[i, j] = x[n, s, r, q]
                    rows.append(patch.ravel())
    return np.array(rows, dtype=x.dtype).reshape(-1, c * d)


# ---------------------------------------------------------------------------------------------------------
# conv2d
# ---------------------------------------------------------------------------------------------------------

# (image shape, filter shape, border_mode, subsample, filter_flip, filter_dilation, num_groups)
CONV2D_CASES = [
    ((2, 3, 6, 7), (4, 3, 3, 2), "valid", (1, 1), True, (1, 1), 1),
    ((2, 3, 6, 7), (4, 3, 3, 2), "full", (1, 1), True, (1, 1), 1),
    ((2, 3, 6, 7), (4, 3, 3, 2), "half", (1, 1), True, (1, 1), 1),
    ((2, 2, 5, 6), (3, 2, 3, 3), "half", (1, 1), False, (1, 1), 1),
    ((1, 2, 5, 6), (3, 2, 3, 2), 2, (1, 1), True, (1, 1), 1),
    ((1, 2, 5, 6), (3, 2, 3, 2), (1, 2), (1, 1), False, (1, 1), 1),
    ((2, 2, 7, 8), (3, 2, 3, 3), "valid", (2, 2), True, (1, 1), 1),
    ((2, 2, 7, 8), (3, 2, 3, 2), "full", (2, 3), True, (1, 1), 1),
    ((1, 2, 9, 10), (2, 2, 3, 3), "half", (2, 3), False, (1, 1), 1),
    ((1, 2, 8, 6), (2, 2, 3, 3), (2, 0), (3, 2), True, (1, 1), 1),
    ((2, 2, 7, 6), (3, 2, 2, 3), "valid", (1, 1), False, (1, 1), 1),
    ((1, 2, 9, 7), (2, 2, 3, 2), "valid", (1, 1), True, (2, 1), 1),
    ((1, 2, 9, 8), (2, 2, 3, 3), "half", (1, 1), True, (2, 2), 1),
    ((1, 2, 7, 8), (2, 2, 2, 3), "full", (2, 1), False, (2, 2), 1),
    ((2, 4, 5, 6), (6, 2, 3, 3), "valid", (1, 1), True, (1, 1), 2),
    ((1, 4, 7, 6), (4, 2, 3, 2), "half", (2, 1), False, (2, 1), 2),
    ((2, 3, 5, 6), (3, 1, 3, 3), "half", (1, 1), True, (1, 1), 3),   # depthwise
    ((1, 3, 6, 5), (6, 1, 2, 3), "full", (1, 2), True, (1, 1), 3),   # depthwise, channel multiplier 2
    ((1, 1, 4, 5), (2, 1, 1, 1), "valid", (1, 1), True, (1, 1), 1),   # 1x1 filters
    ((3, 2, 4, 5), (1, 2, 1, 1), "valid", (2, 2), False, (1, 1), 1),  # 1x1, strided
    ((1, 1, 5, 5), (1, 1, 5, 5), "valid", (1, 1), True, (1, 1), 1),   # batch 1, 1 channel, 1x1 output
    ((2, 2, 1, 6), (3, 2, 1, 3), "valid", (1, 1), True, (1, 1), 1),   # size-one spatial axis
    ((1, 1, 1, 1), (2, 1, 1, 1), "full", (1, 1), True, (1, 1), 1),   # everything size one
    ((1, 1, 3, 1), (1, 1, 3, 1), "full", (1, 1), True, (1, 1), 1),
]


def conv_id(case):
    x, w, border, sub, flip, dil, groups = case
    return f"{x}-{w}-{border}-s{sub}-{'conv' if flip else 'xcorr'}-d{dil}-g{groups}".replace(" ", "")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CONV2D_CASES, ids=[conv_id(c) for c in CONV2D_CASES])
def test_conv2d_matches_scipy(case, dtype):
    xshape, wshape, border, sub, flip, dil, groups = case
    rng = np.random.RandomState(sum(xshape) * 7 + sum(wshape))
    xv, wv = rand(rng, *xshape, dtype=dtype), rand(rng, *wshape, dtype=dtype)
    x, w = T.tensor4("x", dtype=dtype), T.tensor4("w", dtype=dtype)
    out = conv2d(x, w, border_mode=border, subsample=sub, filter_flip=flip, filter_dilation=dil, num_groups=groups)
    assert out.dtype == dtype and out.ndim == 4
    got = run([x, w], out, [xv, wv])
    assert got.dtype == dtype
    check(got, ref_conv(xv, wv, border, sub, flip, dil, groups), dtype)


def test_conv2d_is_convolve2d_full_and_same():
    """Border modes as SciPy names them: 'full' is convolve2d's full, 'half' with an odd kernel its same."""
    rng = np.random.RandomState(1)
    image, kernel = rng.randn(6, 7), rng.randn(3, 5)
    x, w = T.tensor4("x"), T.tensor4("w")
    for border, scipy_mode in (("full", "full"), ("half", "same"), ("valid", "valid")):
        got = run([x, w], conv2d(x, w, border_mode=border), [image[None, None], kernel[None, None]])
        check(got[0, 0], signal.convolve2d(image, kernel, mode=scipy_mode))
        got = run([x, w], conv2d(x, w, border_mode=border, filter_flip=False), [image[None, None], kernel[None, None]])
        check(got[0, 0], signal.correlate2d(image, kernel, mode=scipy_mode))


def test_conv2d_sums_over_channels_and_keeps_filters_apart():
    rng = np.random.RandomState(2)
    xv, wv = rng.randn(2, 3, 5, 4), rng.randn(2, 3, 2, 2)
    x, w = T.tensor4("x"), T.tensor4("w")
    got = run([x, w], conv2d(x, w), [xv, wv])
    for n in range(2):
        for o in range(2):
            expected = sum(signal.convolve2d(xv[n, c], wv[o, c], mode="valid") for c in range(3))
            check(got[n, o], expected)


def test_conv2d_output_shape_matches_get_conv_output_shape():
    cases = [((2, 3, 9, 8), (4, 3, 3, 2), "valid", (1, 1), (1, 1)),
             ((2, 3, 9, 8), (4, 3, 3, 2), "full", (2, 3), (1, 1)),
             ((2, 3, 9, 8), (4, 3, 3, 2), "half", (2, 1), (2, 2)),
             ((2, 3, 9, 8), (4, 3, 3, 2), (1, 2), (3, 2), (1, 2)),
             ((2, 3, 9, 8), (4, 3, 3, 2), 1, (1, 1), (2, 1))]
    for xshape, wshape, border, sub, dil in cases:
        expected = ref_conv(np.zeros(xshape), np.zeros(wshape), border, sub, True, dil).shape
        assert tuple(abstract_conv.get_conv_output_shape(xshape, wshape, border, sub, dil)) == expected
        x = T.tensor("x", shape=xshape)
        w = T.tensor("w", shape=wshape)
        out = conv2d(x, w, border_mode=border, subsample=sub, filter_dilation=dil)
        assert tuple(out.type.shape) == expected  # known when the operands' shapes are
        xs, ws = T.tensor4("xs"), T.tensor4("ws")
        sym = conv2d(xs, ws, border_mode=border, subsample=sub, filter_dilation=dil)
        # The symbolic shape (infer_shape) without running the convolution, and the run's shape.
        shape, value = run([xs, ws], [sym.shape, sym], [np.zeros(xshape), np.zeros(wshape)])
        assert tuple(shape) == expected and value.shape == expected
    assert abstract_conv.get_conv_shape_1axis(None, 3, "valid", 1) is None
    assert tuple(abstract_conv.get_conv_output_shape((None, 3, 9, None), (4, 3, 3, 3), "valid", (1, 1))) == \
        (None, 4, 7, None)
    assert tuple(abstract_conv.get_conv_output_shape((2, 3, 6, 5, 4), (4, 3, 3, 2, 2), "half", (2, 1, 1))) == \
        ref_conv(np.zeros((2, 3, 6, 5, 4)), np.zeros((4, 3, 3, 2, 2)), "half", (2, 1, 1)).shape
    assert abstract_conv.get_conv_shape_1axis(10, 3, "half", 2, 2) == (10 + 2 * 2 - 5) // 2 + 1


def test_conv2d_shape_hints():
    rng = np.random.RandomState(3)
    xv, wv = rng.randn(2, 3, 6, 5), rng.randn(4, 3, 3, 3)
    x, w = T.tensor4("x"), T.tensor4("w")
    expected = ref_conv(xv, wv, "half")
    for input_shape, filter_shape in (((2, 3, 6, 5), (4, 3, 3, 3)), ((None, 3, None, 5), (4, None, 3, None)),
                                      (None, (4, 3, 3, 3))):
        out = conv2d(x, w, input_shape=input_shape, filter_shape=filter_shape, border_mode="half")
        check(run([x, w], out, [xv, wv]), expected)
    # Full hints make the output's shape known before it runs.
    out = conv2d(x, w, input_shape=(2, 3, 6, 5), filter_shape=(4, 3, 3, 3), border_mode="half")
    assert tuple(out.type.shape) == (2, 4, 6, 5)
    # The old name of input_shape.
    check(run([x, w], conv2d(x, w, image_shape=(2, 3, 6, 5), border_mode="half"), [xv, wv]), expected)


@pytest.mark.parametrize("mode", MODES)
def test_conv2d_wrong_shape_hint_is_an_error_when_it_runs(mode):
    x, w = T.tensor4("x"), T.tensor4("w")
    f = theano.function([x, w], conv2d(x, w, input_shape=(2, 3, 6, 6), filter_shape=(4, 3, 3, 3)), mode=mode)
    f(np.ones((2, 3, 6, 6)), np.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError):
        f(np.ones((2, 3, 7, 6)), np.ones((4, 3, 3, 3)))
    with pytest.raises(ValueError):
        f(np.ones((2, 3, 6, 6)), np.ones((4, 3, 2, 3)))
    with pytest.raises(ValueError):
        conv2d(x, w, input_shape=(2, 3, 6))  # not 4 entries
    # A hint that contradicts a static shape fails when the graph is built.
    with pytest.raises(ValueError):
        conv2d(T.tensor("xs", shape=(2, 3, 5, 5)), w, input_shape=(2, 3, 6, 6))


def test_conv2d_of_shared_variables_and_constants():
    rng = np.random.RandomState(4)
    xv, wv = rng.randn(1, 2, 5, 5), rng.randn(3, 2, 2, 2)
    w = theano.shared(wv, "w")
    x = T.tensor4("x")
    check(run([x], conv2d(x, w, border_mode="full"), [xv]), ref_conv(xv, wv, "full"))
    check(run([x], conv2d(x, wv, subsample=(2, 2)), [xv]), ref_conv(xv, wv, subsample=(2, 2)))


def test_separable_conv2d():
    rng = np.random.RandomState(5)
    xv, dw, pw = rng.randn(2, 3, 6, 5), rng.randn(6, 1, 3, 3), rng.randn(4, 6, 1, 1)
    x = T.tensor4("x")
    out = abstract_conv.separable_conv2d(x, dw, pw, num_channels=3, border_mode="half")
    expected = ref_conv(ref_conv(xv, dw, "half", num_groups=3), pw)
    check(run([x], out, [xv]), expected)


def test_conv2d_of_non_contiguous_operands():
    """Transposed and reversed views as operands: the values are those of the copies."""
    rng = np.random.RandomState(27)
    xv, wv = rng.randn(2, 2, 5, 6), rng.randn(3, 2, 3, 2)
    x, w = T.tensor4("x"), T.tensor4("w")
    out = conv2d(x.dimshuffle(0, 1, 3, 2), w[:, :, ::-1, :], border_mode="half", subsample=(2, 1))
    expected = ref_conv(xv.transpose(0, 1, 3, 2), wv[:, :, ::-1, :], "half", (2, 1))
    check(run([x, w], out, [xv, wv]), expected)
    pooled = pool.pool_2d(x.dimshuffle(1, 0, 3, 2), (2, 2), ignore_border=False, mode="average_exc_pad")
    check(run([x], pooled, [xv]), ref_pool(xv.transpose(1, 0, 3, 2), (2, 2), False, mode="average_exc_pad"))
    patches = neighbours.images2neibs(x.dimshuffle(0, 1, 3, 2), (3, 1), mode="ignore_borders")
    check(run([x], patches, [xv]), ref_images2neibs(xv.transpose(0, 1, 3, 2), (3, 1), mode="ignore_borders"))


def test_many_configurations_in_one_graph_stay_apart():
    """Nodes that differ only in their settings are not merged, and constant operands fold to the same values."""
    rng = np.random.RandomState(33)
    xv, wv = rng.randn(1, 2, 7, 6), rng.randn(2, 2, 3, 3)
    x, w = T.tensor4("x"), T.tensor4("w")
    configs = [dict(), dict(border_mode="full"), dict(border_mode="half"), dict(border_mode=1),
               dict(subsample=(2, 1)), dict(filter_flip=False), dict(filter_dilation=(2, 1)),
               dict(border_mode="half", num_groups=2)]
    outs = [conv2d(x, w if c.get("num_groups", 1) == 1 else w[:, :1], **c) for c in configs]
    pools = [pool.pool_2d(x, (2, 2), ignore_border=ib, stride=st, pad=pad, mode=mode)
             for mode in POOL_MODES for ib, st, pad in ((True, None, (0, 0)), (False, None, (0, 0)),
                                                        (True, (1, 1), (1, 1)))]
    got = run([x, w], outs + pools, [xv, wv])
    for c, out in zip(configs, got[:len(configs)]):
        kernel = wv if c.get("num_groups", 1) == 1 else wv[:, :1]
        check(out, ref_conv(xv, kernel, c.get("border_mode", "valid"), c.get("subsample"), c.get("filter_flip", True),
                            c.get("filter_dilation"), c.get("num_groups", 1)))
    k = len(configs)
    for mode in POOL_MODES:
        for ib, st, pad in ((True, None, None), (False, None, None), (True, (1, 1), (1, 1))):
            check(got[k], ref_pool(xv, (2, 2), ib, st, pad, mode))
            k += 1
    # All-constant graphs (folded when the function is compiled).
    folded = [conv2d(xv, wv, border_mode="half"), pool.pool_2d(xv, (3, 2), ignore_border=False, mode="sum"),
              neighbours.images2neibs(xv, (2, 3), (1, 1), "full"),
              bn.batch_normalization_train(xv, np.ones(6), np.zeros(6), (0, 1, 2))[0]]
    got = run([], folded, [])
    check(got[0], ref_conv(xv, wv, "half"))
    check(got[1], ref_pool(xv, (3, 2), False, mode="sum"))
    check(got[2], ref_images2neibs(xv, (2, 3), (1, 1), "full"))
    check(got[3], (xv - xv.mean(axis=(0, 1, 2))) / np.sqrt(xv.var(axis=(0, 1, 2)) + 1e-4))


def test_conv2d_mixed_and_integer_dtypes():
    """Operands of different dtypes still convolve (the result's float dtype is the implementation's choice;
    the values are checked to float32 precision)."""
    rng = np.random.RandomState(28)
    xv, wv = rng.randn(1, 2, 4, 4).astype(np.float32), rng.randn(2, 2, 2, 2)
    x, w = T.tensor4("x", dtype="float32"), T.tensor4("w")
    check(run([x, w], conv2d(x, w), [xv, wv]), ref_conv(xv, wv), np.float32)
    xi = T.tensor4("xi", dtype="int32")
    iv = rng.randint(-3, 4, size=(1, 2, 4, 4)).astype(np.int32)
    check(run([xi, w], conv2d(xi, w), [iv, wv]), ref_conv(iv, wv), np.float32)


@pytest.mark.parametrize("static", [True, False], ids=["static", "symbolic"])
def test_conv2d_gradient_with_static_shapes(static):
    """A strided convolution's gradient needs the image size (8 and 7 give the same output): from the static
    shape when it is known, from the run's shape otherwise."""
    rng = np.random.RandomState(29)
    for size in (7, 8):
        xv, wv = rng.randn(1, 2, size, size), rng.randn(2, 2, 3, 3)
        x = T.tensor("x", shape=xv.shape if static else (None,) * 4)
        w = T.tensor("w", shape=wv.shape if static else (None,) * 4)
        out = conv2d(x, w, subsample=(2, 2))
        if static:
            assert tuple(out.type.shape) == (1, 2, 3, 3)
        gx, gw = T.grad(out.sum(), [x, w])
        if static:
            assert tuple(gx.type.shape) == xv.shape and tuple(gw.type.shape) == wv.shape
        got_gx, got_gw = run([x, w], [gx, gw], [xv, wv])
        ones = np.ones((1, 2, 3, 3))
        check(got_gx, ref_conv_grad_inputs(ones, wv, (size, size), subsample=(2, 2)))
        check(got_gw, ref_conv_grad_weights(xv, ones, (3, 3), subsample=(2, 2)))


@pytest.mark.parametrize("mode", ["max", "sum", "average_inc_pad", "average_exc_pad"])
def test_pool_rop(mode):
    """Theano's Pool.R_op: the pooling of the eval point for sum and averages; for max the eval point at
    each window's maximum (DownsampleFactorMaxGradGrad)."""
    rng = np.random.RandomState(30)
    xv, vv = distinct(rng, 1, 2, 5, 6), rng.randn(1, 2, 5, 6)
    x, v = T.tensor4("x"), T.tensor4("v")
    options = dict(ignore_border=False, stride=(2, 2))
    r = theano.gradient.Rop(pool.pool_2d(x, (3, 2), mode=mode, **options), x, v)
    got = run([x, v], r, [xv, vv], on_unused_input="ignore")
    if mode != "max":
        expected = ref_pool(vv, (3, 2), False, (2, 2), mode=mode)
    else:
        expected = np.zeros(ref_pool(xv, (3, 2), False, (2, 2)).shape)
        for k in np.ndindex(1, 2):
            for i in range(expected.shape[2]):
                for j in range(expected.shape[3]):
                    window = xv[k][2 * i:2 * i + 3, 2 * j:2 * j + 2]
                    r_, c_ = np.unravel_index(np.argmax(window), window.shape)
                    expected[k][i, j] = vv[k][2 * i + r_, 2 * j + c_]
    check(got, expected)


def test_conv2d_rop():
    rng = np.random.RandomState(31)
    xv, wv, uv, vv = rng.randn(1, 2, 5, 5), rng.randn(3, 2, 3, 3), rng.randn(1, 2, 5, 5), rng.randn(3, 2, 3, 3)
    x, w, u, v = T.tensor4("x"), T.tensor4("w"), T.tensor4("u"), T.tensor4("v")
    options = dict(border_mode="half", subsample=(2, 1), filter_flip=False)
    r = theano.gradient.Rop(conv2d(x, w, **options), [x, w], [u, v])
    expected = ref_conv(uv, wv, "half", (2, 1), False) + ref_conv(xv, vv, "half", (2, 1), False)
    check(run([x, w, u, v], r, [xv, wv, uv, vv]), expected)


# ---------------------------------------------------------------------------------------------------------
# conv3d
# ---------------------------------------------------------------------------------------------------------

CONV3D_CASES = [
    ((2, 2, 4, 5, 4), (3, 2, 2, 3, 2), "valid", (1, 1, 1), True, (1, 1, 1), 1),
    ((1, 2, 5, 4, 6), (2, 2, 3, 3, 3), "half", (1, 1, 1), True, (1, 1, 1), 1),
    ((1, 2, 6, 5, 7), (2, 2, 3, 2, 3), "valid", (2, 1, 3), True, (1, 1, 1), 1),
    ((1, 2, 5, 4, 6), (2, 2, 3, 3, 3), "half", (2, 2, 2), False, (1, 1, 1), 1),
    ((1, 1, 3, 4, 3), (2, 1, 2, 2, 3), "full", (1, 1, 1), False, (1, 1, 1), 1),
    ((1, 2, 6, 5, 5), (2, 2, 2, 2, 2), (1, 0, 2), (1, 2, 1), True, (2, 1, 2), 1),
    ((1, 4, 4, 4, 3), (4, 2, 2, 3, 2), "valid", (1, 1, 1), True, (1, 1, 1), 2),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", CONV3D_CASES, ids=[conv_id(c) for c in CONV3D_CASES])
def test_conv3d_matches_scipy(case, dtype):
    xshape, wshape, border, sub, flip, dil, groups = case
    rng = np.random.RandomState(sum(xshape) + 3 * sum(wshape))
    xv, wv = rand(rng, *xshape, dtype=dtype), rand(rng, *wshape, dtype=dtype)
    x, w = T.tensor5("x", dtype=dtype), T.tensor5("w", dtype=dtype)
    out = conv3d(x, w, border_mode=border, subsample=sub, filter_flip=flip, filter_dilation=dil, num_groups=groups)
    got = run([x, w], out, [xv, wv])
    assert got.dtype == dtype
    check(got, ref_conv(xv, wv, border, sub, flip, dil, groups), dtype)


def test_conv3d_is_scipy_convolve_summed_over_channels():
    rng = np.random.RandomState(6)
    xv, wv = rng.randn(1, 3, 4, 5, 3), rng.randn(2, 3, 2, 3, 2)
    x, w = T.tensor5("x"), T.tensor5("w")
    got = run([x, w], conv3d(x, w, border_mode="full"), [xv, wv])
    for o in range(2):
        expected = sum(signal.convolve(xv[0, c], wv[o, c], mode="full", method="direct") for c in range(3))
        check(got[0, o], expected)


# ---------------------------------------------------------------------------------------------------------
# Gradients of the convolution as ops: conv2d_grad_wrt_inputs / _weights, conv2d_transpose
# ---------------------------------------------------------------------------------------------------------

GRAD_CASES = [
    ((2, 3, 6, 5), (4, 3, 3, 2), "valid", (1, 1), True, (1, 1), 1),
    ((2, 2, 6, 5), (3, 2, 3, 3), "full", (1, 1), False, (1, 1), 1),
    ((1, 2, 7, 6), (3, 2, 3, 3), "half", (2, 2), True, (1, 1), 1),
    ((1, 2, 8, 7), (2, 2, 3, 2), (1, 2), (2, 3), False, (1, 1), 1),
    ((1, 2, 9, 8), (2, 2, 2, 3), "valid", (2, 1), True, (2, 2), 1),
    ((2, 4, 6, 6), (4, 2, 3, 3), "half", (1, 2), True, (2, 1), 2),
    ((1, 3, 5, 6), (3, 1, 3, 3), "full", (2, 2), False, (1, 1), 3),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", GRAD_CASES, ids=[conv_id(c) for c in GRAD_CASES])
def test_conv2d_gradient_ops_match_grad_and_numpy_adjoint(case, dtype):
    xshape, wshape, border, sub, flip, dil, groups = case
    rng = np.random.RandomState(sum(xshape) * 3 + sum(wshape))
    xv, wv = rand(rng, *xshape, dtype=dtype), rand(rng, *wshape, dtype=dtype)
    gshape = ref_conv(xv, wv, border, sub, flip, dil, groups).shape
    gv = rand(rng, *gshape, dtype=dtype)
    x, w, g = T.tensor4("x", dtype=dtype), T.tensor4("w", dtype=dtype), T.tensor4("g", dtype=dtype)
    options = dict(border_mode=border, subsample=sub, filter_flip=flip, filter_dilation=dil, num_groups=groups)
    cost = (conv2d(x, w, **options) * g).sum()
    gx, gw = T.grad(cost, [x, w])
    ops_gx = abstract_conv.conv2d_grad_wrt_inputs(g, w, x.shape, **options)
    ops_gw = abstract_conv.conv2d_grad_wrt_weights(x, g, w.shape, **options)
    const_gx = abstract_conv.conv2d_grad_wrt_inputs(g, w, xshape, filter_shape=wshape, **options)
    const_gw = abstract_conv.conv2d_grad_wrt_weights(x, g, wshape, input_shape=xshape, **options)
    results = run([x, w, g], [gx, gw, ops_gx, ops_gw, const_gx, const_gw], [xv, wv, gv])
    expected_gx = ref_conv_grad_inputs(gv, wv, xshape[2:], border, sub, flip, dil, groups)
    expected_gw = ref_conv_grad_weights(xv, gv, wshape[2:], border, sub, flip, dil, groups)
    for got in results[0::2]:
        assert got.dtype == dtype
        check(got, expected_gx, dtype)
    for got in results[1::2]:
        assert got.dtype == dtype
        check(got, expected_gw, dtype)


def test_numpy_adjoints_are_adjoints():
    """The references themselves: <conv(x, w), g> == <x, grad_inputs(g, w)> == <w, grad_weights(x, g)>."""
    rng = np.random.RandomState(7)
    for xshape, wshape, border, sub, flip, dil, groups in GRAD_CASES + CONV3D_CASES:
        xv, wv = rng.randn(*xshape), rng.randn(*wshape)
        out = ref_conv(xv, wv, border, sub, flip, dil, groups)
        gv = rng.randn(*out.shape)
        inner = (out * gv).sum()
        gx = ref_conv_grad_inputs(gv, wv, xshape[2:], border, sub, flip, dil, groups)
        gw = ref_conv_grad_weights(xv, gv, wshape[2:], border, sub, flip, dil, groups)
        np.testing.assert_allclose((xv * gx).sum(), inner, rtol=1e-10)
        np.testing.assert_allclose((wv * gw).sum(), inner, rtol=1e-10)


@pytest.mark.parametrize("border,stride,sizes", [
    ("valid", (2, 2), [(7, 7), (8, 8), (7, 8)]),   # kernel 3: both sizes give 3 outputs
    ("half", (2, 3), [(5, 7), (6, 8), (6, 9)]),    # 3 outputs along each axis
    ((1, 1), (3, 2), [(7, 5), (8, 6), (9, 6)]),
])
def test_conv2d_transpose_output_shape_selects_among_sizes(border, stride, sizes):
    rng = np.random.RandomState(8)
    wv = rng.randn(3, 2, 3, 3)
    g, w = T.tensor4("g"), T.tensor4("w")
    gshape = None
    for size in sizes:
        out_spatial = ref_conv(np.zeros((1, 2) + size), wv, border, stride).shape[2:]
        gshape = gshape or out_spatial
        assert out_spatial == gshape  # every size gives the same gradient shape
    gv = rng.randn(2, 3, *gshape)
    for size in sizes:
        out = abstract_conv.conv2d_transpose(g, w, output_shape=(2, 2) + size, border_mode=border,
                                             input_dilation=stride)
        got = run([g, w], out, [gv, wv])
        check(got, ref_conv_grad_inputs(gv, wv, size, border, stride))
        # The same with the spatial sizes alone, and symbolic sizes.
        n = T.lscalar("n")
        sym = abstract_conv.conv2d_grad_wrt_inputs(g, w, (2, 2, n, size[1]), border_mode=border, subsample=stride)
        check(run([g, w, n], sym, [gv, wv, size[0]]), ref_conv_grad_inputs(gv, wv, size, border, stride))


def test_conv2d_transpose_of_a_convolution_inverts_the_shape():
    """conv2d_transpose as a layer: upsampling by the stride."""
    rng = np.random.RandomState(9)
    hv, wv = rng.randn(1, 4, 4, 4), rng.randn(4, 2, 4, 4)  # (8 + 2 - 4) // 2 + 1 = 4 outputs per axis
    h = T.tensor4("h")
    up = abstract_conv.conv2d_transpose(h, wv, output_shape=(1, 2, 8, 8), input_dilation=(2, 2), border_mode=(1, 1),
                                        filter_flip=False)
    got = run([h], up, [hv])
    assert got.shape == (1, 2, 8, 8)
    check(got, ref_conv_grad_inputs(hv, wv, (8, 8), (1, 1), (2, 2), False))


def test_conv2d_grad_of_shared_weights_updates():
    """A training step through conv2d with the gradient as an update, as a Theano program writes it."""
    rng = np.random.RandomState(10)
    xv, wv = rng.randn(2, 2, 5, 5), rng.randn(3, 2, 3, 3)
    for mode in MODES:
        w = theano.shared(wv.copy(), "w")
        x = T.tensor4("x")
        cost = T.sqr(conv2d(x, w, border_mode="half")).sum() / 2
        f = theano.function([x], cost, updates={w: w - 0.01 * T.grad(cost, w)}, mode=mode)
        f(xv)
        out = ref_conv(xv, wv, "half")
        expected = wv - 0.01 * ref_conv_grad_weights(xv, out, (3, 3), "half")
        check(w.get_value(), expected)


def test_conv3d_gradient_ops_match_numpy_adjoint():
    rng = np.random.RandomState(11)
    for xshape, wshape, border, sub, flip, dil, groups in [CONV3D_CASES[2], CONV3D_CASES[3], CONV3D_CASES[5],
                                                           CONV3D_CASES[6]]:
        xv, wv = rng.randn(*xshape), rng.randn(*wshape)
        gv = rng.randn(*ref_conv(xv, wv, border, sub, flip, dil, groups).shape)
        x, w, g = T.tensor5("x"), T.tensor5("w"), T.tensor5("g")
        options = dict(border_mode=border, subsample=sub, filter_flip=flip, filter_dilation=dil, num_groups=groups)
        gx, gw = T.grad((conv3d(x, w, **options) * g).sum(), [x, w])
        ops_gx = abstract_conv.conv3d_grad_wrt_inputs(g, w, xshape, **options)
        ops_gw = abstract_conv.conv3d_grad_wrt_weights(x, g, wshape, **options)
        got = run([x, w, g], [gx, gw, ops_gx, ops_gw], [xv, wv, gv])
        expected_gx = ref_conv_grad_inputs(gv, wv, xshape[2:], border, sub, flip, dil, groups)
        expected_gw = ref_conv_grad_weights(xv, gv, wshape[2:], border, sub, flip, dil, groups)
        check(got[0], expected_gx)
        check(got[2], expected_gx)
        check(got[1], expected_gw)
        check(got[3], expected_gw)


# ---------------------------------------------------------------------------------------------------------
# The old spellings
# ---------------------------------------------------------------------------------------------------------

def test_old_nnet_conv_conv2d():
    rng = np.random.RandomState(12)
    xv, wv = rng.randn(2, 3, 5, 6), rng.randn(4, 3, 3, 2)
    x, w = T.tensor4("x"), T.tensor4("w")
    full = old_conv.conv2d(x, w, image_shape=(2, 3, 5, 6), filter_shape=(4, 3, 3, 2), border_mode="full")
    valid = old_conv.conv2d(x, w, image_shape=(2, 3, 5, 6), filter_shape=(4, 3, 3, 2))
    strided = old_conv.conv2d(x, w, border_mode="valid", subsample=(2, 2))
    got = run([x, w], [full, valid, strided], [xv, wv])
    check(got[0], ref_conv(xv, wv, "full"))
    check(got[1], ref_conv(xv, wv, "valid"))
    check(got[2], ref_conv(xv, wv, "valid", (2, 2)))
    with pytest.raises(ValueError):
        old_conv.conv2d(x, w, border_mode="half")


def test_old_downsample_max_pool_2d():
    rng = np.random.RandomState(13)
    xv = rng.randn(2, 3, 7, 5)
    x = T.tensor4("x")
    outs = [downsample.max_pool_2d(x, (2, 2), ignore_border=True),
            downsample.max_pool_2d(x, (2, 2), ignore_border=False),
            downsample.max_pool_2d(x, (3, 2), ignore_border=False, st=(1, 2)),
            downsample.max_pool_2d(x, (3, 3), ignore_border=True, st=(2, 1)),
            downsample.max_pool_2d(x, (2, 2), ignore_border=True, mode="average_exc_pad")]
    got = run([x], outs, [xv])
    check(got[0], ref_pool(xv, (2, 2), True))
    check(got[1], ref_pool(xv, (2, 2), False))
    check(got[2], ref_pool(xv, (3, 2), False, (1, 2)))
    check(got[3], ref_pool(xv, (3, 3), True, (2, 1)))
    check(got[4], ref_pool(xv, (2, 2), True, mode="average_exc_pad"))


def test_pool_2d_old_argument_names_warn_and_work():
    rng = np.random.RandomState(14)
    xv = rng.randn(1, 2, 6, 7)
    x = T.tensor4("x")
    with pytest.warns(DeprecationWarning):
        out = pool.pool_2d(x, ds=(2, 3), ignore_border=True, st=(1, 2), padding=(1, 1))
    check(run([x], out, [xv]), ref_pool(xv, (2, 3), True, (1, 2), (1, 1)))
    # Without ignore_border: Theano's warning, and False.
    with pytest.warns(UserWarning, match="ignore_border"):
        out = pool.pool_2d(x, (2, 2))
    check(run([x], out, [xv]), ref_pool(xv, (2, 2), False))


# ---------------------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------------------

POOL_MODES = ["max", "sum", "average_inc_pad", "average_exc_pad"]

# (input shape, ws, ignore_border, stride, pad)
POOL2D_CASES = [
    ((2, 3, 6, 8), (2, 2), True, None, None),
    ((2, 3, 5, 7), (2, 2), True, None, None),
    ((2, 3, 5, 7), (2, 2), False, None, None),
    ((1, 2, 6, 7), (3, 2), False, (1, 1), None),   # stride smaller than ws
    ((1, 2, 6, 7), (3, 2), True, (1, 1), None),
    ((1, 2, 7, 9), (3, 3), False, (2, 2), None),
    ((1, 2, 8, 7), (3, 3), True, (2, 2), None),
    ((1, 2, 7, 8), (2, 2), False, (3, 3), None),   # stride larger than ws
    ((1, 2, 9, 8), (2, 3), True, (3, 4), None),
    ((1, 2, 8, 9), (2, 1), False, (3, 4), None),
    ((2, 1, 6, 7), (2, 2), True, (2, 2), (1, 1)),  # padding
    ((1, 2, 6, 7), (3, 3), True, (2, 2), (1, 2)),
    ((1, 2, 5, 6), (3, 2), True, (1, 1), (2, 1)),
    ((1, 2, 6, 5), (3, 3), True, (2, 3), (2, 1)),
    ((1, 2, 5, 5), (4, 4), True, (3, 3), (3, 3)),
    ((1, 1, 2, 3), (4, 4), False, None, None),     # window larger than the image
    ((1, 1, 3, 3), (3, 3), False, (1, 1), None),   # image the size of the window, stride smaller
    ((1, 1, 1, 5), (1, 2), False, None, None),
]


def pool_id(case):
    shape, ws, ib, st, pad = case
    return f"{shape}-ws{ws}-{'ib' if ib else 'noib'}-st{st}-pad{pad}".replace(" ", "")


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("case", POOL2D_CASES, ids=[pool_id(c) for c in POOL2D_CASES])
def test_pool_2d_matches_theano_perform(case, mode):
    shape, ws, ib, st, pad = case
    rng = np.random.RandomState(sum(shape) + sum(ws))
    xv = rng.randn(*shape) - 1.0  # mostly negative: max pooling must not see the zero padding
    x = T.tensor4("x")
    out = pool.pool_2d(x, ws, ignore_border=ib, stride=st, pad=pad or (0, 0), mode=mode)
    expected = ref_pool(xv, ws, ib, st, pad, mode)
    got, shape_of = run([x], [out, out.shape], [xv])
    check(got, expected)
    assert tuple(shape_of) == expected.shape  # the symbolic shape agrees


@pytest.mark.parametrize("mode", POOL_MODES)
def test_pool_2d_float32(mode):
    rng = np.random.RandomState(15)
    xv = rng.randn(2, 2, 7, 6).astype(np.float32)
    x = T.tensor4("x", dtype="float32")
    out = pool.pool_2d(x, (3, 2), ignore_border=True, stride=(2, 1), pad=(1, 1), mode=mode)
    got = run([x], out, [xv])
    assert got.dtype == np.float32
    check(got, ref_pool(xv, (3, 2), True, (2, 1), (1, 1), mode), np.float32)


@pytest.mark.parametrize("mode", POOL_MODES)
def test_pool_2d_other_ranks_pool_the_last_two_axes(mode):
    rng = np.random.RandomState(16)
    for shape, ws, ib, st, pad in (((3, 5, 6), (2, 2), False, None, None),
                                   ((5, 7), (2, 3), True, (1, 2), (1, 1)),
                                   ((2, 2, 2, 5, 5), (2, 3), False, (2, 1), None),
                                   ((2, 1, 2, 5, 6), (3, 2), True, (2, 2), (1, 1))):
        xv = rng.randn(*shape)
        x = T.tensor("x", shape=(None,) * len(shape))
        out = pool.pool_2d(x, ws, ignore_border=ib, stride=st, pad=pad or (0, 0), mode=mode)
        assert out.ndim == len(shape)
        check(run([x], out, [xv]), ref_pool(xv, ws, ib, st, pad, mode))


POOL3D_CASES = [
    ((2, 2, 4, 5, 6), (2, 2, 2), True, None, None),
    ((1, 2, 5, 4, 6), (2, 2, 3), False, (1, 2, 2), None),
    ((1, 2, 5, 5, 4), (3, 2, 2), True, (2, 1, 2), (1, 1, 1)),
    ((2, 5, 4, 6), (2, 3, 2), False, (3, 1, 3), None),  # a 4-d input: one leading axis
]


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("case", POOL3D_CASES, ids=[pool_id(c) for c in POOL3D_CASES])
def test_pool_3d_matches_theano_perform(case, mode):
    shape, ws, ib, st, pad = case
    rng = np.random.RandomState(sum(shape))
    xv = rng.randn(*shape) - 1.0
    x = T.tensor("x", shape=(None,) * len(shape))
    out = pool.pool_3d(x, ws, ignore_border=ib, stride=st, pad=pad or (0, 0, 0), mode=mode)
    check(run([x], out, [xv]), ref_pool(xv, ws, ib, st, pad, mode))


def test_pool_2d_window_larger_than_the_image_with_ignore_border_is_empty():
    x = T.tensor4("x")
    for mode in POOL_MODES:
        out = pool.pool_2d(x, (3, 3), ignore_border=True, mode=mode)
        got = run([x], out, [np.ones((2, 1, 2, 4))])
        assert got.shape == ref_pool(np.ones((2, 1, 2, 4)), (3, 3), True).shape == (2, 1, 0, 1)


def test_pool_2d_by_hand():
    """A 4x5 image pooled 2x2, ignore_border=False: the last column is a partial window."""
    xv = np.arange(20.0).reshape(1, 1, 4, 5)
    x = T.tensor4("x")
    got = run([x], [pool.pool_2d(x, (2, 2), ignore_border=False, mode=m) for m in POOL_MODES], [xv])
    np.testing.assert_array_equal(got[0][0, 0], [[6, 8, 9], [16, 18, 19]])
    np.testing.assert_array_equal(got[1][0, 0], [[12, 20, 13], [52, 60, 33]])
    np.testing.assert_array_equal(got[2][0, 0], [[3, 5, 6.5], [13, 15, 16.5]])  # partial window of 2: / 2
    np.testing.assert_array_equal(got[3][0, 0], [[3, 5, 6.5], [13, 15, 16.5]])
    # With a pad of 1 and ignore_border: the corner window holds x[0, 0] and 3 zeros of padding.
    pads = run([x], [pool.pool_2d(x, (2, 2), ignore_border=True, pad=(1, 1), mode=m) for m in POOL_MODES], [xv])
    assert pads[0].shape == (1, 1, 3, 3)
    assert pads[2][0, 0, 0, 0] == 0 / 4 and pads[3][0, 0, 0, 0] == 0
    np.testing.assert_array_equal(pads[2][0, 0, 0], [0 / 4, (1 + 2) / 4, (3 + 4) / 4])
    np.testing.assert_array_equal(pads[3][0, 0, 0], [0, (1 + 2) / 2, (3 + 4) / 2])
    np.testing.assert_array_equal(pads[1][0, 0, 1], [5 + 10, 6 + 7 + 11 + 12, 8 + 9 + 13 + 14])


def test_max_pool_2d_same_size():
    rng = np.random.RandomState(17)
    x = T.tensor4("x")
    for shape, patch in (((2, 2, 4, 6), (2, 2)), ((1, 3, 5, 7), (2, 3)), ((1, 1, 3, 3), (1, 1))):
        xv = rng.randn(*shape)
        got = run([x], pool.max_pool_2d_same_size(x, patch), [xv])
        check(got, ref_max_pool_same_size(xv, patch))


# ---------------------------------------------------------------------------------------------------------
# Gradients by finite differences
# ---------------------------------------------------------------------------------------------------------

GRAD_CHECK_CASES = [
    ((2, 2, 5, 4), (3, 2, 3, 2), "valid", (1, 1), True, (1, 1), 1),
    ((1, 2, 5, 5), (2, 2, 3, 3), "full", (1, 1), False, (1, 1), 1),
    ((1, 2, 6, 5), (2, 2, 3, 3), "half", (2, 2), True, (1, 1), 1),
    ((1, 2, 7, 6), (2, 2, 2, 2), (1, 2), (2, 3), False, (2, 1), 1),
    ((1, 2, 7, 7), (2, 2, 2, 2), "half", (1, 1), True, (2, 2), 1),
    ((2, 4, 5, 4), (4, 2, 2, 3), "valid", (1, 1), True, (1, 1), 2),
    ((1, 3, 5, 5), (3, 1, 3, 3), "full", (2, 1), False, (1, 1), 3),
]


@pytest.mark.parametrize("case", GRAD_CHECK_CASES, ids=[conv_id(c) for c in GRAD_CHECK_CASES])
def test_conv2d_verify_grad(case):
    xshape, wshape, border, sub, flip, dil, groups = case
    rng = np.random.RandomState(sum(xshape) + sum(wshape))
    theano.gradient.verify_grad(
        lambda x, w: conv2d(x, w, border_mode=border, subsample=sub, filter_flip=flip, filter_dilation=dil,
                            num_groups=groups),
        [rng.randn(*xshape), rng.randn(*wshape)], rng=np.random.RandomState(42))


@pytest.mark.parametrize("case", [CONV3D_CASES[1], CONV3D_CASES[2], CONV3D_CASES[5], CONV3D_CASES[6]],
                         ids=lambda c: conv_id(c))
def test_conv3d_verify_grad(case):
    xshape, wshape, border, sub, flip, dil, groups = case
    rng = np.random.RandomState(sum(xshape))
    theano.gradient.verify_grad(
        lambda x, w: conv3d(x, w, border_mode=border, subsample=sub, filter_flip=flip, filter_dilation=dil,
                            num_groups=groups),
        [rng.randn(*xshape), rng.randn(*wshape)], rng=np.random.RandomState(43))


@pytest.mark.parametrize("case", GRAD_CHECK_CASES[:2] + GRAD_CHECK_CASES[3:4] + GRAD_CHECK_CASES[5:],
                         ids=lambda c: conv_id(c))
def test_conv2d_gradient_ops_verify_grad(case):
    """Second derivatives: the gradient ops differentiated with respect to both their operands."""
    xshape, wshape, border, sub, flip, dil, groups = case
    rng = np.random.RandomState(sum(xshape) * 2 + sum(wshape))
    options = dict(border_mode=border, subsample=sub, filter_flip=flip, filter_dilation=dil, num_groups=groups)
    xv, wv = rng.randn(*xshape), rng.randn(*wshape)
    gv = rng.randn(*ref_conv(xv, wv, border, sub, flip, dil, groups).shape)
    theano.gradient.verify_grad(
        lambda g, w: abstract_conv.conv2d_grad_wrt_inputs(g, w, xshape, **options), [gv, wv],
        rng=np.random.RandomState(44))
    theano.gradient.verify_grad(
        lambda x, g: abstract_conv.conv2d_grad_wrt_weights(x, g, wshape, **options), [xv, gv],
        rng=np.random.RandomState(45))


def test_conv3d_gradient_ops_verify_grad():
    xshape, wshape, border, sub, flip, dil, groups = CONV3D_CASES[2]
    rng = np.random.RandomState(18)
    xv, wv = rng.randn(*xshape), rng.randn(*wshape)
    gv = rng.randn(*ref_conv(xv, wv, border, sub, flip, dil, groups).shape)
    options = dict(border_mode=border, subsample=sub, filter_flip=flip)
    theano.gradient.verify_grad(lambda g, w: abstract_conv.conv3d_grad_wrt_inputs(g, w, xshape, **options),
                                [gv, wv], rng=np.random.RandomState(46), n_tests=1)
    theano.gradient.verify_grad(lambda x, g: abstract_conv.conv3d_grad_wrt_weights(x, g, wshape, **options),
                                [xv, gv], rng=np.random.RandomState(47), n_tests=1)


@pytest.mark.parametrize("case", GRAD_CHECK_CASES[1:4] + GRAD_CHECK_CASES[5:6], ids=lambda c: conv_id(c))
def test_conv2d_grad_of_grad(case):
    """T.grad of a cost built from T.grad of a conv2d cost, against finite differences of the first
    gradient; and the two gradients compared with NumPy at a point."""
    xshape, wshape, border, sub, flip, dil, groups = case
    options = dict(border_mode=border, subsample=sub, filter_flip=flip, filter_dilation=dil, num_groups=groups)
    rng = np.random.RandomState(sum(xshape) + 5)
    xv, wv = rng.randn(*xshape), rng.randn(*wshape)

    def first_gradient_norm(x, w):
        cost = T.sqr(conv2d(x, w, **options)).sum() / 2
        return T.sqr(T.grad(cost, w)).sum() + T.sqr(T.grad(cost, x)).sum()

    theano.gradient.verify_grad(first_gradient_norm, [xv, wv], rng=np.random.RandomState(48))
    theano.gradient.verify_grad(lambda x, w: T.grad(T.sqr(conv2d(x, w, **options)).sum(), w), [xv, wv],
                                rng=np.random.RandomState(49))
    # The first gradient itself against the NumPy adjoint.
    x, w = T.tensor4("x"), T.tensor4("w")
    cost = T.sqr(conv2d(x, w, **options)).sum() / 2
    gw, gx = run([x, w], T.grad(cost, [w, x]), [xv, wv])
    out = ref_conv(xv, wv, border, sub, flip, dil, groups)
    check(gw, ref_conv_grad_weights(xv, out, wshape[2:], border, sub, flip, dil, groups))
    check(gx, ref_conv_grad_inputs(out, wv, xshape[2:], border, sub, flip, dil, groups))


POOL_GRAD_CASES = [
    ((1, 2, 4, 6), (2, 2), True, None, None),
    ((1, 2, 5, 7), (2, 3), False, None, None),
    ((1, 1, 6, 5), (3, 2), False, (1, 1), None),
    ((1, 1, 6, 7), (2, 2), False, (3, 3), None),
    ((1, 2, 5, 6), (3, 3), True, (2, 2), (1, 2)),
    ((2, 1, 4, 5), (2, 2), True, (1, 1), (1, 1)),
]


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("case", POOL_GRAD_CASES, ids=[pool_id(c) for c in POOL_GRAD_CASES])
def test_pool_2d_verify_grad(case, mode):
    shape, ws, ib, st, pad = case
    rng = np.random.RandomState(sum(shape) + len(mode))
    theano.gradient.verify_grad(
        lambda x: pool.pool_2d(x, ws, ignore_border=ib, stride=st, pad=pad or (0, 0), mode=mode),
        [distinct(rng, *shape)], rng=np.random.RandomState(50))


@pytest.mark.parametrize("mode", POOL_MODES)
def test_pool_3d_verify_grad(mode):
    rng = np.random.RandomState(19)
    theano.gradient.verify_grad(
        lambda x: pool.pool_3d(x, (2, 2, 3), ignore_border=False, stride=(1, 2, 2), mode=mode),
        [distinct(rng, 1, 1, 4, 5, 5)], rng=np.random.RandomState(51))
    theano.gradient.verify_grad(
        lambda x: pool.pool_3d(x, (3, 2, 2), ignore_border=True, stride=(2, 1, 2), pad=(1, 1, 1), mode=mode),
        [distinct(rng, 1, 1, 5, 4, 5)], rng=np.random.RandomState(52), n_tests=1)


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("case", POOL_GRAD_CASES[1:5], ids=[pool_id(c) for c in POOL_GRAD_CASES[1:5]])
def test_pool_2d_gradient_of_the_gradient(case, mode):
    """The pooling gradient is linear in the output gradient gz: its gradient with respect to gz (max:
    DownsampleFactorMaxGradGrad, the averages: pooling again), and through x as well."""
    shape, ws, ib, st, pad = case
    rng = np.random.RandomState(sum(shape) * 3)
    xv = distinct(rng, *shape)
    options = dict(ignore_border=ib, stride=st, pad=pad or (0, 0), mode=mode)
    gz_shape = ref_pool(xv, ws, ib, st, pad, mode).shape

    def grad_of_pool(x, gz):
        return T.grad((pool.pool_2d(x, ws, **options) * gz).sum(), x)

    theano.gradient.verify_grad(grad_of_pool, [xv, rng.randn(*gz_shape)], rng=np.random.RandomState(53))
    # T.grad(sum(pool(x) ** 2), x): the pooled values flow into the output gradient.
    theano.gradient.verify_grad(lambda x: T.grad(T.sqr(pool.pool_2d(x, ws, **options)).sum(), x), [xv],
                                rng=np.random.RandomState(54))


def max_pool_gradients_by_hand(xv, gzv, hv):
    """Max pooling 2x3, ignore_border=False: the gradient routes each gz to its window's maximum; the gradient
    of <that, h> with respect to gz picks, per window, h at the maximum."""
    expected_gx = np.zeros_like(xv)
    expected_ggz = np.zeros_like(gzv)
    for k in np.ndindex(*xv.shape[:2]):
        for i in range(gzv.shape[2]):
            for j in range(gzv.shape[3]):
                window = xv[k][2 * i:2 * i + 2, 3 * j:3 * j + 3]
                r, c = np.unravel_index(np.argmax(window), window.shape)
                expected_gx[k][2 * i + r, 3 * j + c] += gzv[k][i, j]
                expected_ggz[k][i, j] = hv[k][2 * i + r, 3 * j + c]
    return expected_gx, expected_ggz


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("case", POOL2D_CASES, ids=[pool_id(c) for c in POOL2D_CASES])
def test_pool_2d_gradient_matches_theano_perform(case, mode):
    shape, ws, ib, st, pad = case
    rng = np.random.RandomState(sum(shape) * 5 + sum(ws))
    xv = distinct(rng, *shape)
    gzv = rng.randn(*ref_pool(xv, ws, ib, st, pad, mode).shape)
    x, gz = T.tensor4("x"), T.tensor4("gz")
    gx = T.grad((pool.pool_2d(x, ws, ignore_border=ib, stride=st, pad=pad or (0, 0), mode=mode) * gz).sum(), x)
    check(run([x, gz], gx, [xv, gzv]), ref_pool_grad(xv, gzv, ws, ib, st, pad, mode))


@pytest.mark.parametrize("mode", POOL_MODES)
def test_pool_many_planes(mode):
    """Enough images and channels for the planes to be shared out among threads."""
    rng = np.random.RandomState(35)
    xv = distinct(rng, 6, 16, 9, 8)
    options = dict(ignore_border=True, stride=(2, 3), pad=(1, 1), mode=mode)
    pooled = ref_pool(xv, (3, 3), True, (2, 3), (1, 1), mode)
    gzv = rng.randn(*pooled.shape)
    x, gz = T.tensor4("x"), T.tensor4("gz")
    out = pool.pool_2d(x, (3, 3), **options)
    got, gx = run([x, gz], [out, T.grad((out * gz).sum(), x)], [xv, gzv])
    check(got, pooled)
    check(gx, ref_pool_grad(xv, gzv, (3, 3), True, (2, 3), (1, 1), mode))
    x5 = T.tensor5("x5")
    check(run([x5], pool.pool_3d(x5, (2, 3, 2), ignore_border=False, mode=mode), [xv.reshape(6, 4, 4, 9, 8)]),
          ref_pool(xv.reshape(6, 4, 4, 9, 8), (2, 3, 2), False, mode=mode))


def test_max_pool_gradient_values():
    rng = np.random.RandomState(20)
    xv = distinct(rng, 1, 2, 5, 7)
    gzv = rng.randn(*ref_pool(xv, (2, 3), False).shape)
    x, gz = T.tensor4("x"), T.tensor4("gz")
    gx = T.grad((pool.pool_2d(x, (2, 3), ignore_border=False) * gz).sum(), x)
    check(run([x, gz], gx, [xv, gzv]), max_pool_gradients_by_hand(xv, gzv, np.zeros_like(xv))[0])


def test_max_pool_gradient_of_the_gradient_values():
    rng = np.random.RandomState(20)
    xv = distinct(rng, 1, 2, 5, 7)
    gzv = rng.randn(*ref_pool(xv, (2, 3), False).shape)
    hv = rng.randn(*xv.shape)
    x, gz, h = T.tensor4("x"), T.tensor4("gz"), T.tensor4("h")
    gx = T.grad((pool.pool_2d(x, (2, 3), ignore_border=False) * gz).sum(), x)
    ggz = T.grad((gx * h).sum(), gz)
    got_gx, got_ggz = run([x, gz, h], [gx, ggz], [xv, gzv, hv], on_unused_input="ignore")
    expected_gx, expected_ggz = max_pool_gradients_by_hand(xv, gzv, hv)
    check(got_gx, expected_gx)
    check(got_ggz, expected_ggz)


def test_max_pool_2d_same_size_verify_grad():
    rng = np.random.RandomState(21)
    theano.gradient.verify_grad(lambda x: pool.max_pool_2d_same_size(x, (2, 2)), [distinct(rng, 1, 2, 4, 5)],
                                rng=np.random.RandomState(55))


# ---------------------------------------------------------------------------------------------------------
# Batch normalization
# ---------------------------------------------------------------------------------------------------------

def ref_bn_axes(axes, ndim):
    if axes == "per-activation":
        return (0,)
    if axes == "spatial":
        return (0,) + tuple(range(2, ndim))
    return tuple(axes)


# (input shape, axes, parameters with the input's ndim)
BN_CASES = [
    ((5, 4), "per-activation", True),
    ((5, 4), "per-activation", False),
    ((4, 3, 2, 5), "per-activation", True),
    ((4, 3, 2, 5), "spatial", True),
    ((4, 3, 2, 5), "spatial", False),
    ((3, 2, 4, 2, 3), "spatial", False),
    ((4, 3, 5), (0, 2), True),
    ((4, 3, 5), (0, 2), False),
    ((4, 3, 5), (1,), False),
    ((2, 3, 4, 5), (0, 1, 3), True),
]


def bn_params(rng, shape, axes, full):
    kept = tuple(n for i, n in enumerate(shape) if i not in axes)
    pshape = tuple(1 if i in axes else n for i, n in enumerate(shape)) if full else kept
    return pshape, rng.rand(*pshape) + 0.5, rng.randn(*pshape)


@pytest.mark.parametrize("case", BN_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{'full' if c[2] else 'kept'}")
def test_batch_normalization_train(case):
    shape, axes_name, full = case
    rng = np.random.RandomState(sum(shape))
    axes = ref_bn_axes(axes_name, len(shape))
    xv = rng.randn(*shape) * 2 + 1
    pshape, gv, bv = bn_params(rng, shape, axes, full)
    rmv, rvv = rng.randn(*pshape), rng.rand(*pshape) + 1
    x = T.tensor("x", shape=(None,) * len(shape))
    g = T.tensor("g", shape=tuple(1 if (full and i in axes) else None for i in range(len(pshape))))
    b = T.tensor("b", shape=tuple(1 if (full and i in axes) else None for i in range(len(pshape))))
    rm = T.tensor("rm", shape=(None,) * len(pshape))
    rv = T.tensor("rv", shape=(None,) * len(pshape))
    eps, factor = 1e-3, 0.3
    out, mean, invstd, new_rm, new_rv = bn.batch_normalization_train(
        x, g, b, axes_name, epsilon=eps, running_average_factor=factor, running_mean=rm, running_var=rv)
    got = run([x, g, b, rm, rv], [out, mean, invstd, new_rm, new_rv], [xv, gv, bv, rmv, rvv])

    mu = xv.mean(axis=axes, keepdims=True)
    var = xv.var(axis=axes, keepdims=True)
    m = np.prod([shape[a] for a in axes])
    expected_out = (xv - mu) * (gv.reshape(mu.shape) / np.sqrt(var + eps)) + bv.reshape(mu.shape)
    as_params = (lambda a: a) if full else (lambda a: a.reshape(pshape))
    check(got[0], expected_out)
    check(got[1], as_params(mu))
    check(got[2], as_params(1 / np.sqrt(var + eps)))
    check(got[3], rmv * (1 - factor) + as_params(mu) * factor)
    check(got[4], rvv * (1 - factor) + as_params(var * m / (m - 1)) * factor)
    # Without running statistics: three outputs, the same values.
    three = bn.batch_normalization_train(x, g, b, axes_name, epsilon=eps)
    assert len(three) == 3
    again = run([x, g, b], list(three), [xv, gv, bv])
    for a, e in zip(again, got[:3]):
        check(a, e)


def test_batch_normalization_float32():
    rng = np.random.RandomState(34)
    xv = rng.randn(5, 3, 2, 2).astype(np.float32)
    x = T.tensor4("x", dtype="float32")
    g, b = T.vector("g", dtype="float32"), T.vector("b", dtype="float32")
    rm, rv = T.vector("rm", dtype="float32"), T.vector("rv", dtype="float32")
    outs = bn.batch_normalization_train(x, g, b, "spatial", running_mean=rm, running_var=rv)
    gv, bv = np.array([1, 2, 3], np.float32), np.array([0, 1, -1], np.float32)
    got = run([x, g, b, rm, rv], list(outs), [xv, gv, bv, np.zeros(3, np.float32), np.ones(3, np.float32)])
    assert all(r.dtype == np.float32 for r in got)
    mean, var = xv.mean(axis=(0, 2, 3)), xv.var(axis=(0, 2, 3))
    shaped = (1, 3, 1, 1)
    check(got[0], (xv - mean.reshape(shaped)) / np.sqrt(var.reshape(shaped) + 1e-4) * gv.reshape(shaped)
          + bv.reshape(shaped), np.float32)
    check(got[1], mean, np.float32)
    check(got[4], 0.9 + 0.1 * var * 20 / 19, np.float32)


def test_batch_normalization_train_running_averages_as_updates():
    rng = np.random.RandomState(22)
    xv = rng.randn(6, 3, 2, 2)
    for mode in MODES:
        gamma = theano.shared(np.ones(3), "gamma")
        beta = theano.shared(np.zeros(3), "beta")
        running_mean = theano.shared(np.zeros(3), "running_mean")
        running_var = theano.shared(np.ones(3), "running_var")
        x = T.tensor4("x")
        out, _, _, new_mean, new_var = bn.batch_normalization_train(
            x, gamma, beta, "spatial", running_mean=running_mean, running_var=running_var)
        f = theano.function([x], out, updates=[(running_mean, new_mean), (running_var, new_var)], mode=mode)
        f(xv)
        f(xv)
        mean = xv.mean(axis=(0, 2, 3))
        unbiased = xv.var(axis=(0, 2, 3), ddof=1)
        expected_mean = (0 * 0.9 + mean * 0.1) * 0.9 + mean * 0.1
        expected_var = (1 * 0.9 + unbiased * 0.1) * 0.9 + unbiased * 0.1
        check(running_mean.get_value(), expected_mean)
        check(running_var.get_value(), expected_var)


@pytest.mark.parametrize("case", BN_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{'full' if c[2] else 'kept'}")
def test_batch_normalization_test(case):
    shape, axes_name, full = case
    rng = np.random.RandomState(sum(shape) + 1)
    axes = ref_bn_axes(axes_name, len(shape))
    xv = rng.randn(*shape)
    pshape, gv, bv = bn_params(rng, shape, axes, full)
    mv, vv = rng.randn(*pshape), rng.rand(*pshape) + 0.1
    x = T.tensor("x", shape=(None,) * len(shape))
    params = [T.tensor(name, shape=tuple(1 if (full and i in axes) else None for i in range(len(pshape))))
              for name in ("g", "b", "m", "v")]
    out = bn.batch_normalization_test(x, *params, axes=axes_name, epsilon=1e-4)
    got = run([x] + params, out, [xv, gv, bv, mv, vv])
    bshape = tuple(1 if i in axes else n for i, n in enumerate(shape))
    r = {k: v.reshape(bshape) for k, v in dict(g=gv, b=bv, m=mv, v=vv).items()}
    check(got, (xv - r["m"]) * r["g"] / np.sqrt(r["v"] + 1e-4) + r["b"])


def test_batch_normalization_axes_are_sorted_and_checked():
    rng = np.random.RandomState(32)
    xv, gv, bv = rng.randn(4, 3, 5), rng.rand(3) + 0.5, rng.randn(3)
    x = T.tensor3("x")
    a = run([x], list(bn.batch_normalization_train(x, gv, bv, (2, 0))), [xv])
    b = run([x], list(bn.batch_normalization_train(x, gv, bv, [0, 2])), [xv])
    for p, q in zip(a, b):
        check(p, q)
    check(a[0], (xv - xv.mean(axis=(0, 2), keepdims=True)) / np.sqrt(xv.var(axis=(0, 2), keepdims=True) + 1e-4)
          * gv[:, None] + bv[:, None])
    with pytest.raises(ValueError, match="axis 3"):
        bn.batch_normalization_train(x, gv, bv, (0, 3))


def test_batch_normalization_needs_an_axis():
    x = T.tensor3("x")
    ones, zeros = np.ones((4, 3, 5)), np.zeros((4, 3, 5))
    with pytest.raises(ValueError):
        bn.batch_normalization_train(x, ones, zeros, ())
    with pytest.raises(ValueError):
        bn.batch_normalization_test(x, ones, zeros, zeros, ones, ())


def test_batch_normalization_formula():
    rng = np.random.RandomState(23)
    xv, gv, bv, mv, sv = rng.randn(4, 3), rng.randn(3), rng.randn(3), rng.randn(3), rng.rand(3) + 0.5
    x, g, b, m, s = T.matrix("x"), T.vector("g"), T.vector("b"), T.vector("m"), T.vector("s")
    for mode in ("low_mem", "high_mem"):
        out = bn.batch_normalization(x, g, b, m, s, mode=mode)
        check(run([x, g, b, m, s], out, [xv, gv, bv, mv, sv]), (xv - mv) * (gv / sv) + bv)
    assert theano.tensor.nnet.batch_normalization is bn.batch_normalization
    with pytest.raises(ValueError):
        bn.batch_normalization(x, g, b, m, s, mode="other")


@pytest.mark.parametrize("axes_name,full", [("per-activation", False), ("spatial", True), ("spatial", False),
                                            ((0, 2), False)])
def test_batch_normalization_verify_grad(axes_name, full):
    rng = np.random.RandomState(24)
    shape = (4, 2, 3, 2) if axes_name != (0, 2) else (4, 2, 3)
    axes = ref_bn_axes(axes_name, len(shape))
    xv = rng.randn(*shape)
    pshape, gv, bv = bn_params(rng, shape, axes, full)

    def train(x, g, b):
        if full:
            g, b = T.addbroadcast(g, *axes), T.addbroadcast(b, *axes)
        out, mean, invstd = bn.batch_normalization_train(x, g, b, axes_name)
        return out

    def train_stats(x):
        out, mean, invstd = bn.batch_normalization_train(x, gv, bv, axes_name)
        return T.sum(mean) * 0.5 + T.sum(invstd)

    def test(x, g, b, m, v):
        if full:
            g, b, m, v = (T.addbroadcast(p, *axes) for p in (g, b, m, v))
        return bn.batch_normalization_test(x, g, b, m, v, axes_name)

    theano.gradient.verify_grad(train, [xv, gv, bv], rng=np.random.RandomState(56))
    theano.gradient.verify_grad(train_stats, [xv], rng=np.random.RandomState(57))
    theano.gradient.verify_grad(test, [xv, gv, bv, rng.randn(*pshape), rng.rand(*pshape) + 0.5],
                                rng=np.random.RandomState(58))


# ---------------------------------------------------------------------------------------------------------
# images2neibs / neibs2images
# ---------------------------------------------------------------------------------------------------------

# (image shape, neib_shape, neib_step, mode)
NEIB_CASES = [
    ((2, 3, 4, 6), (2, 2), None, "valid"),
    ((1, 2, 6, 6), (3, 2), (3, 2), "valid"),
    ((1, 2, 5, 7), (3, 3), (1, 2), "valid"),      # overlapping patches that tile
    ((2, 1, 5, 7), (2, 3), None, "ignore_borders"),
    ((1, 2, 7, 8), (3, 2), (2, 3), "ignore_borders"),
    ((1, 2, 7, 4), (3, 3), None, "half"),
    ((1, 1, 5, 6), (3, 2), (2, 1), "half"),
    ((1, 2, 4, 5), (2, 3), None, "full"),
    ((1, 1, 5, 4), (3, 2), (2, 2), "full"),
    ((1, 2, 5, 6), (3, 3), None, "wrap_centered"),
    ((2, 1, 5, 4), (3, 1), (2, 3), "wrap_centered"),
    ((1, 1, 3, 5), (3, 5), (1, 1), "wrap_centered"),
]


@pytest.mark.parametrize("case", NEIB_CASES, ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}-{c[3]}".replace(" ", ""))
def test_images2neibs(case):
    shape, neib_shape, neib_step, mode = case
    rng = np.random.RandomState(sum(shape))
    xv = rng.randn(*shape)
    x = T.tensor4("x")
    out = neighbours.images2neibs(x, neib_shape, neib_step, mode)
    got, got_shape = run([x], [out, out.shape], [xv])
    expected = ref_images2neibs(xv, neib_shape, neib_step, mode)
    check(got, expected)
    assert tuple(got_shape) == expected.shape
    # Known sizes give the static shape.
    static = neighbours.images2neibs(T.tensor("xs", shape=shape), neib_shape, neib_step, mode)
    assert tuple(static.type.shape) == expected.shape


def test_images2neibs_by_hand_and_float32():
    xv = np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)
    x = T.tensor4("x", dtype="float32")
    got = run([x], neighbours.images2neibs(x, (2, 2)), [xv])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]])
    assert theano.tensor.nnet.images2neibs is neighbours.images2neibs
    xi = T.tensor4("xi", dtype="int64")
    iv = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5)
    got = run([xi], neighbours.images2neibs(xi, (3, 3), (1, 2), mode="half"), [iv])
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, ref_images2neibs(iv, (3, 3), (1, 2), "half"))


@pytest.mark.parametrize("shape,neib_shape,mode", [
    ((2, 3, 4, 6), (2, 2), "valid"),
    ((1, 2, 6, 6), (3, 2), "valid"),
    ((2, 2, 5, 7), (2, 3), "ignore_borders"),
    ((1, 1, 7, 4), (3, 3), "ignore_borders"),
])
def test_neibs2images_round_trip(shape, neib_shape, mode):
    rng = np.random.RandomState(sum(shape))
    xv = rng.randn(*shape)
    x = T.tensor4("x")
    neibs = neighbours.images2neibs(x, neib_shape, mode=mode)
    back = neighbours.neibs2images(neibs, neib_shape, x.shape, mode=mode)
    back_const = neighbours.neibs2images(neibs, neib_shape, shape, mode=mode)
    got = run([x], [back, back_const], [xv])
    expected = xv.copy()
    rows, cols = shape[2] // neib_shape[0] * neib_shape[0], shape[3] // neib_shape[1] * neib_shape[1]
    expected[:, :, rows:, :] = 0  # the ignored border comes back as zeros
    expected[:, :, :, cols:] = 0
    check(got[0], expected)
    check(got[1], expected)
    # From patches given directly (a matrix input).
    n = T.matrix("n")
    patches = ref_images2neibs(xv, neib_shape, mode=mode)
    check(run([n], neighbours.neibs2images(n, neib_shape, shape, mode=mode), [patches]), expected)


@pytest.mark.parametrize("case", NEIB_CASES[2:3] + NEIB_CASES[4:5] + NEIB_CASES[6:7] + NEIB_CASES[8:9] +
                         NEIB_CASES[10:11], ids=lambda c: f"{c[0]}-{c[1]}-{c[2]}-{c[3]}".replace(" ", ""))
def test_images2neibs_verify_grad(case):
    shape, neib_shape, neib_step, mode = case
    rng = np.random.RandomState(sum(shape) + 1)
    theano.gradient.verify_grad(lambda x: neighbours.images2neibs(x, neib_shape, neib_step, mode),
                                [rng.randn(*shape)], rng=np.random.RandomState(59))


def test_neighbours_sizes_must_be_ints():
    x = T.tensor4("x")
    with pytest.raises(NotImplementedError, match="neib_shape"):
        neighbours.images2neibs(x, T.lvector("shape"))
    with pytest.raises(NotImplementedError, match="ws"):
        pool.pool_2d(x, T.lvector("ws"), ignore_border=True)


def test_neibs2images_verify_grad():
    rng = np.random.RandomState(25)
    theano.gradient.verify_grad(lambda n: neighbours.neibs2images(n, (2, 2), (1, 2, 4, 6)), [rng.randn(12, 4)],
                                rng=np.random.RandomState(60))
    theano.gradient.verify_grad(lambda n: neighbours.neibs2images(n, (2, 3), (1, 1, 5, 7), mode="ignore_borders"),
                                [rng.randn(4, 6)], rng=np.random.RandomState(61))


# ---------------------------------------------------------------------------------------------------------
# A small network: conv, pool, batch norm, their gradients together
# ---------------------------------------------------------------------------------------------------------

def test_small_network_gradient():
    rng = np.random.RandomState(26)

    def net(x, w1, w2):
        h = T.nnet.relu(conv2d(x, w1, border_mode="half"))
        h = pool.pool_2d(h, (2, 2), ignore_border=True, mode="average_exc_pad")
        h, _, _ = bn.batch_normalization_train(h, np.ones((1, 3, 1, 1)), np.zeros((1, 3, 1, 1)), "spatial")
        h = conv2d(h, w2, subsample=(2, 2), num_groups=3)
        return T.tanh(h)

    theano.gradient.verify_grad(net, [rng.randn(2, 2, 6, 6), rng.randn(3, 2, 3, 3), rng.randn(3, 1, 2, 2)],
                                rng=np.random.RandomState(62))


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------


def test_conv2d_channel_mismatch_at_build_time():
    x = T.tensor("x", shape=(1, 3, 5, 5))
    w = T.tensor("w", shape=(2, 2, 3, 3))
    where = here(1)
    message = expect_error(lambda: conv2d(x, w), theano.ShapeError, "[conv2d]", "3 channels", where=where)
    assert "(1, 3, 5, 5)" in message and "(2, 2, 3, 3)" in message
    # Shape hints declare the sizes too, before the function runs.
    expect_error(lambda: conv2d(T.tensor4("a"), T.tensor4("b"), input_shape=(1, 3, 5, 5), filter_shape=(2, 2, 3, 3)),
                 ValueError, "[conv2d]", "channels", THIS_FILE)


@pytest.mark.parametrize("mode", MODES)
def test_conv2d_channel_mismatch_at_call_time(mode):
    x, w = T.tensor4("x"), T.tensor4("w")
    where = here(1)
    f = theano.function([x, w], conv2d(x, w, border_mode="half"), mode=mode)
    expect_error(lambda: f(np.ones((1, 3, 5, 5)), np.ones((2, 2, 3, 3))), ValueError, "[conv2d]", "channels",
                 "(1, 3, 5, 5)", "(2, 2, 3, 3)", where=where)


@pytest.mark.parametrize("mode", MODES)
def test_conv_filter_larger_than_image(mode):
    where = here(1)
    expect_error(lambda: conv2d(T.tensor("x", shape=(1, 1, 2, 5)), T.tensor("w", shape=(1, 1, 3, 3))), ValueError,
                 "[conv2d]", "more than the", "(1, 1, 2, 5)", where=where)
    # Dilation makes the kernel wider: 2 taps with dilation 3 span 4 samples.
    with pytest.raises(ValueError, match="more than the"):
        conv2d(T.tensor("x", shape=(1, 1, 5, 3)), T.tensor("w", shape=(1, 1, 2, 2)), filter_dilation=(1, 3))
    x, w = T.tensor4("x"), T.tensor4("w")
    where = here(1)
    f = theano.function([x, w], conv2d(x, w), mode=mode)
    expect_error(lambda: f(np.ones((1, 1, 2, 5)), np.ones((1, 1, 3, 3))), ValueError, "[conv2d]", "more than the",
                 where=where)
    # The same kernel fits with padding.
    assert f(np.ones((1, 1, 3, 5)), np.ones((1, 1, 3, 3))).shape == (1, 1, 1, 3)
    g = theano.function([x, w], conv2d(x, w, border_mode="half"), mode=mode)
    assert g(np.ones((1, 1, 2, 5)), np.ones((1, 1, 3, 3))).shape == (1, 1, 2, 5)
    x5, w5 = T.tensor5("x5"), T.tensor5("w5")
    f3 = theano.function([x5, w5], conv3d(x5, w5), mode=mode)
    expect_error(lambda: f3(np.ones((1, 1, 4, 2, 4)), np.ones((1, 1, 2, 3, 2))), ValueError, "[conv3d]", "more than the")


def test_conv_wrong_ndim_and_dtype():
    where = here(1)
    expect_error(lambda: conv2d(T.tensor3("x"), T.tensor4("w")), TypeError, "[conv2d]", "4 dimensions", where=where)
    expect_error(lambda: conv2d(T.tensor4("x"), T.matrix("w")), TypeError, "[conv2d]", "4 dimensions")
    expect_error(lambda: conv3d(T.tensor4("x"), T.tensor4("w")), TypeError, "[conv3d]", "5 dimensions")
    expect_error(lambda: abstract_conv.conv2d_grad_wrt_inputs(T.tensor4("g"), T.tensor4("w"), (1, 2, 3)), ValueError,
                 "input_shape")


def test_conv_num_groups_must_divide():
    where = here(1)
    expect_error(lambda: conv2d(T.tensor("x", shape=(1, 4, 5, 5)), T.tensor("w", shape=(3, 2, 3, 3)), num_groups=2),
                 ValueError, "[conv2d]", "num_groups=2", "3 filters", where=where)
    expect_error(lambda: conv2d(T.tensor("x", shape=(1, 5, 5, 5)), T.tensor("w", shape=(4, 2, 3, 3)), num_groups=2),
                 ValueError, "[conv2d]", "num_groups=2", "5 channels")
    expect_error(lambda: conv2d(T.tensor4("x"), T.tensor4("w"), num_groups=0), ValueError, "num_groups")
    for mode in MODES:
        x, w = T.tensor4("x"), T.tensor4("w")
        where = here(1)
        f = theano.function([x, w], conv2d(x, w, num_groups=2), mode=mode)
        expect_error(lambda: f(np.ones((1, 4, 5, 5)), np.ones((3, 2, 3, 3))), ValueError, "[conv2d]", "num_groups",
                     where=where)
        expect_error(lambda: f(np.ones((1, 4, 5, 5)), np.ones((4, 1, 3, 3))), ValueError, "[conv2d]", "channels",
                     where=where)


def test_conv_bad_options():
    x, w = T.tensor4("x"), T.tensor4("w")
    for bad in ("same", (1, 2, 3), -1, (1, -1)):
        with pytest.raises(ValueError, match="border_mode"):
            conv2d(x, w, border_mode=bad)
    expect_error(lambda: conv2d(x, w, subsample=(0, 1)), ValueError, "[conv2d]", "subsample")
    expect_error(lambda: conv2d(x, w, subsample=(1, 1, 1)), ValueError, "[conv2d]", "subsample")
    expect_error(lambda: conv2d(x, w, filter_dilation=(0, 1)), ValueError, "[conv2d]", "filter_dilation")
    with pytest.raises(NotImplementedError):
        conv2d(x, w, unshared=True)
    with pytest.raises(TypeError):
        conv2d(x, w, no_such_argument=1)


@pytest.mark.parametrize("mode", MODES)
def test_conv_gradient_ops_check_the_output_gradient(mode):
    g, w = T.tensor4("g"), T.tensor4("w")
    where = here(1)
    f = theano.function([g, w], abstract_conv.conv2d_grad_wrt_inputs(g, w, (1, 2, 6, 6)), mode=mode)
    assert f(np.ones((1, 3, 4, 4)), np.ones((3, 2, 3, 3))).shape == (1, 2, 6, 6)
    # An image of 6 gives 4 outputs with a kernel of 3, not 5.
    expect_error(lambda: f(np.ones((1, 3, 5, 4)), np.ones((3, 2, 3, 3))), ValueError, "[conv2d_grad_inputs]",
                 where=where)
    expect_error(lambda: f(np.ones((1, 2, 4, 4)), np.ones((3, 2, 3, 3))), ValueError, "[conv2d_grad_inputs]")
    x = T.tensor4("x")
    where = here(1)
    h = theano.function([x, g], abstract_conv.conv2d_grad_wrt_weights(x, g, (3, 2, 3, 3)), mode=mode)
    assert h(np.ones((2, 2, 6, 6)), np.ones((2, 3, 4, 4))).shape == (3, 2, 3, 3)
    expect_error(lambda: h(np.ones((2, 2, 6, 6)), np.ones((1, 3, 4, 4))), ValueError, "[conv2d_grad_weights]",
                 where=where)


def test_pool_bad_arguments_at_build_time():
    x = T.tensor4("x")
    with pytest.raises((ValueError, NotImplementedError), match="ignore_border"):
        pool.pool_2d(x, (2, 2), ignore_border=False, pad=(1, 1))
    with pytest.raises((ValueError, NotImplementedError), match="smaller"):
        pool.pool_2d(x, (2, 2), ignore_border=True, pad=(2, 1))
    with pytest.raises((ValueError, NotImplementedError), match="smaller"):
        pool.pool_3d(T.tensor5("x"), (2, 2, 3), ignore_border=True, pad=(1, 1, 3))
    where = here(1)
    expect_error(lambda: pool.pool_2d(x, (0, 2), ignore_border=True), ValueError, "[pool_2d]", "ws", where=where)
    expect_error(lambda: pool.pool_2d(x, (2, 2), ignore_border=True, stride=(1, 0)), ValueError, "[pool_2d]",
                 "stride")
    expect_error(lambda: pool.pool_2d(x, (2, 2, 2), ignore_border=True), ValueError, "ws")
    expect_error(lambda: pool.pool_2d(x, (2, 2), ignore_border=True, stride=(1,)), ValueError, "stride")
    expect_error(lambda: pool.pool_2d(x, (2, 2), ignore_border=True, pad=(-1, 0)), ValueError, "pad")
    expect_error(lambda: pool.pool_3d(T.tensor5("x"), (2, 2), ignore_border=True), ValueError, "ws")
    with pytest.raises(ValueError, match="mode"):
        pool.pool_2d(x, (2, 2), ignore_border=True, mode="median")
    with pytest.raises(ValueError):
        pool.pool_2d(x, ignore_border=True)
    with pytest.raises(NotImplementedError, match="pool_2d"):
        pool.pool_2d(T.vector("v"), (2, 2), ignore_border=True)
    with pytest.raises(NotImplementedError, match="pool_3d"):
        pool.pool_3d(T.matrix("m"), (2, 2, 2), ignore_border=True)
    with pytest.raises(TypeError, match="float"):
        pool.pool_2d(T.tensor4("i", dtype="int32"), (2, 2), ignore_border=True)


@pytest.mark.parametrize("mode", MODES)
def test_pool_gradient_shape_errors_at_call_time(mode):
    """An output gradient that is not shaped like the pooled output: an error naming the user's line (the
    product with the pooled output notices it first)."""
    x, gz = T.tensor4("x"), T.tensor4("gz")
    where = here(1)
    f = theano.function([x, gz], T.grad((pool.pool_2d(x, (2, 2), ignore_border=True) * gz).sum(), x), mode=mode)
    assert f(np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2))).shape == (1, 1, 4, 4)
    expect_error(lambda: f(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 2))), ValueError, "(1, 1, 3, 2)", where=where)


def test_images2neibs_errors_at_build_time():
    # (Theano raises TypeError when the patches do not tile the image; its tests check that.)
    where = here(1)
    expect_error(lambda: neighbours.images2neibs(T.tensor("x", shape=(1, 1, 5, 6)), (2, 2)), TypeError,
                 "[images2neibs]", "tile", where=where)
    expect_error(lambda: neighbours.images2neibs(T.tensor("x", shape=(1, 1, 6, 6)), (3, 3), (2, 2)), TypeError,
                 "[images2neibs]", "tile")
    expect_error(lambda: neighbours.images2neibs(T.tensor("x", shape=(1, 1, 2, 6)), (3, 3), mode="ignore_borders"),
                 TypeError, "[images2neibs]")
    expect_error(lambda: neighbours.images2neibs(T.tensor("x", shape=(1, 1, 5, 5)), (2, 2), mode="half"), TypeError,
                 "[images2neibs]", "padded", "tile")
    expect_error(lambda: neighbours.images2neibs(T.tensor("x", shape=(1, 1, 5, 5)), (2, 2), mode="full"), TypeError,
                 "[images2neibs]", "padded", "tile")
    expect_error(lambda: neighbours.images2neibs(T.matrix("m"), (2, 2)), TypeError, "[images2neibs]", "4-d")
    expect_error(lambda: neighbours.images2neibs(T.tensor4("x"), (2, 2), mode="other"), ValueError, "mode")
    expect_error(lambda: neighbours.images2neibs(T.tensor4("x"), (2, 2), mode="wrap_centered"), ValueError, "odd")
    expect_error(lambda: neighbours.images2neibs(T.tensor4("x"), (0, 2)), ValueError, "neib_shape")
    expect_error(lambda: neighbours.images2neibs(T.tensor4("x"), (2, 2), (1, 0)), ValueError, "neib_step")
    expect_error(lambda: neighbours.neibs2images(T.matrix("n"), (2, 2), (1, 1, 4, 4), mode="half"), ValueError,
                 "neibs2images")


@pytest.mark.parametrize("mode", MODES)
def test_images2neibs_errors_at_call_time(mode):
    x = T.tensor4("x")
    where = here(1)
    f = theano.function([x], neighbours.images2neibs(x, (2, 2)), mode=mode)
    assert f(np.ones((1, 1, 4, 6))).shape == (6, 4)
    expect_error(lambda: f(np.ones((1, 1, 5, 6))), TypeError, "[images2neibs]", "tile", where=where)
    g = theano.function([x], neighbours.images2neibs(x, (3, 3), mode="wrap_centered"), mode=mode)
    expect_error(lambda: g(np.ones((1, 1, 2, 6))), TypeError, "[images2neibs]")
    n = T.matrix("n")
    where = here(1)
    h = theano.function([n], neighbours.neibs2images(n, (2, 2), (1, 1, 4, 4)), mode=mode)
    assert h(np.ones((4, 4))).shape == (1, 1, 4, 4)
    expect_error(lambda: h(np.ones((5, 4))), ValueError, "neibs2images", where=where)


def test_batch_normalization_errors():
    x = T.tensor4("x")
    with pytest.raises((TypeError, ValueError), match="gamma"):
        bn.batch_normalization_train(x, T.matrix("g"), T.matrix("b"), "spatial")
    with pytest.raises((TypeError, ValueError), match="beta"):
        bn.batch_normalization_train(x, T.vector("g"), T.matrix("b"), "spatial")
    with pytest.raises(ValueError, match="epsilon"):
        bn.batch_normalization_train(x, T.vector("g"), T.vector("b"), "spatial", epsilon=1e-6)
    with pytest.raises(ValueError, match="epsilon"):
        bn.batch_normalization_test(x, T.vector("g"), T.vector("b"), T.vector("m"), T.vector("v"), epsilon=1e-6)
    with pytest.raises(ValueError, match="running"):
        bn.batch_normalization_train(x, T.vector("g"), T.vector("b"), "spatial", running_mean=T.vector("m"))
    with pytest.raises(ValueError, match="axes"):
        bn.batch_normalization_train(x, T.vector("g"), T.vector("b"), "channels")
    with pytest.raises((TypeError, ValueError), match="var"):
        bn.batch_normalization_test(x, T.vector("g"), T.vector("b"), T.vector("m"), T.matrix("v"), "spatial")
    f = theano.function([x], bn.batch_normalization_train(x, np.ones(3), np.zeros(3), "spatial")[0])
    with pytest.raises(ValueError):
        f(np.ones((2, 4, 2, 2)))  # 4 channels, 3 gammas


# ---------------------------------------------------------------------------------------------------------
# Epilogues: a per-channel bias and an activation after a convolution become part of it (conv_epilogues)
# ---------------------------------------------------------------------------------------------------------

EPILOGUE_ACTIVATIONS = {
    None: (lambda v: v, lambda v: v),
    "relu": (T.nnet.relu, lambda v: np.maximum(v, 0)),
    "tanh": (T.tanh, np.tanh),
    "sigmoid": (T.nnet.sigmoid, lambda v: 1 / (1 + np.exp(-v))),
}


@pytest.mark.parametrize("activation", list(EPILOGUE_ACTIVATIONS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_bias_and_activation_join_the_convolution(activation, dtype):
    rng = np.random.RandomState(7)
    x, w, b = T.tensor4(dtype=dtype), T.tensor4(dtype=dtype), T.vector(dtype=dtype)
    symbolic, numeric = EPILOGUE_ACTIVATIONS[activation]
    out = symbolic(conv2d(x, w, border_mode="half") + b.dimshuffle("x", 0, "x", "x"))
    xv = rng.normal(size=(2, 3, 7, 6)).astype(dtype)
    wv = rng.normal(size=(4, 3, 3, 3)).astype(dtype)
    bv = rng.normal(size=4).astype(dtype)
    expected = numeric(ref_conv(xv, wv, "half") + bv[None, :, None, None])
    fast = theano.function([x, w, b], out)
    text = theano.printing.debugprint(fast, file="str")
    assert "bias" in text and (activation is None or activation in text), text
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fast(xv, wv, bv), expected, **tol)
    np.testing.assert_allclose(theano.function([x, w, b], out, mode="FAST_COMPILE")(xv, wv, bv), expected, **tol)
    # Gradients are built before the rewrite: the fused graph gives the reference's.
    cost = (out * out).sum()
    grads = T.grad(cost, [x, w, b])
    fast_grads = theano.function([x, w, b], grads)(xv, wv, bv)
    slow_grads = theano.function([x, w, b], grads, mode="FAST_COMPILE")(xv, wv, bv)
    for got, want in zip(fast_grads, slow_grads):
        np.testing.assert_allclose(got, want, rtol=1e-3 if dtype == "float32" else 1e-9, atol=1e-3 if dtype == "float32" else 1e-9)


def test_a_bias_that_is_not_per_channel_stays_an_addition():
    x, w, b = T.dtensor4(), T.dtensor4(), T.dvector()
    out = conv2d(x, w) + b.dimshuffle("x", "x", "x", 0)  # along columns, not channels
    text = theano.printing.debugprint(theano.function([x, w, b], out), file="str")
    assert "bias" not in text, text


@pytest.mark.parametrize("shape, axes", [((4, 3, 2, 3), "spatial"), ((5, 3), "per-activation")])
def test_batch_normalization_gradient_of_the_gradient(shape, axes):
    """Statistics per channel run as one op whose gradient is an op too: its own gradient (second order)
    against finite differences."""
    rng = np.random.RandomState(11)
    channels = shape[1]
    gamma = rng.uniform(0.5, 1.5, channels)
    beta = rng.normal(size=channels)
    weights = rng.normal(size=shape)

    def first_gradient(x):
        out, _, _ = bn.batch_normalization_train(x, gamma, beta, axes)
        return T.grad((out ** 3 * weights).sum(), x)

    theano.gradient.verify_grad(first_gradient, [rng.normal(size=shape)], rng=rng)


def test_batch_normalization_statistics_have_gradients_too():
    """A cost that reads the batch mean and invstd differentiates through them (d mean/dx, d invstd/dx)."""
    rng = np.random.RandomState(12)

    def cost(x):
        out, mean, invstd = bn.batch_normalization_train(x, np.ones(3), np.zeros(3), "spatial")
        return (out * 0.5).sum() + (mean ** 2).sum() + (invstd * np.arange(3)).sum()

    theano.gradient.verify_grad(cost, [rng.normal(size=(4, 3, 2, 2))], rng=rng)


@pytest.mark.parametrize("shape, axes", [((8, 5, 6, 7), "spatial"), ((9, 4), "per-activation"), ((4, 3, 2, 3, 2), "spatial")])
def test_batch_normalization_float32_matches_the_reference(shape, axes):
    """float32 per-channel statistics run on oneDNN in FAST_RUN: forward values, statistics and every
    gradient (through the statistics too) as the reference computes them."""
    rng = np.random.RandomState(0)
    x = T.TensorType("float32", (None,) * len(shape))()
    g, b = T.fvector(), T.fvector()
    out, mean, invstd = bn.batch_normalization_train(x, g, b, axes)
    cost = (out ** 2 * np.float32(0.5)).sum() + mean.sum() + invstd.sum()
    outputs = [out, mean, invstd] + T.grad(cost, [x, g, b])
    xv = (rng.normal(size=shape) * 3 + 1).astype("float32")
    gv = rng.uniform(0.5, 2, shape[1]).astype("float32")
    bv = rng.normal(size=shape[1]).astype("float32")
    fast = theano.function([x, g, b], outputs)(xv, gv, bv)
    slow = theano.function([x, g, b], outputs, mode="FAST_COMPILE")(xv, gv, bv)
    # The statistics by NumPy, in float64.
    reduce_axes = (0,) + tuple(range(2, len(shape)))
    np.testing.assert_allclose(fast[1], xv.astype(np.float64).mean(reduce_axes), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(fast[2], 1 / np.sqrt(xv.astype(np.float64).var(reduce_axes) + 1e-4), rtol=1e-4)
    for got, want in zip(fast, slow):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3 * np.abs(want).max())


def test_a_fused_bias_of_the_wrong_length_is_an_error_not_a_read_past_its_end():
    x, w, b = T.dtensor4(), T.dtensor4(), T.dvector()
    out = T.nnet.relu(conv2d(x, w) + b.dimshuffle("x", 0, "x", "x"))
    f = theano.function([x, w, b], out)
    xv, wv = np.ones((1, 2, 4, 4)), np.ones((3, 2, 2, 2))
    np.testing.assert_allclose(f(xv, wv, np.array([1.0, -20.0, 0.0])), np.stack([np.full((3, 3), 9.0), np.zeros((3, 3)),
                                                                             np.full((3, 3), 8.0)])[None])
    with pytest.raises(ValueError, match="bias"):
        f(xv, wv, np.ones(2))


def test_one_bias_value_for_every_channel_is_not_fused_and_broadcasts():
    x, w = T.dtensor4(), T.dtensor4()
    b = T.TensorType("float64", (True,))()
    out = conv2d(x, w) + b.dimshuffle("x", 0, "x", "x")
    f = theano.function([x, w, b], out)
    assert "bias" not in theano.printing.debugprint(f, file="str")
    np.testing.assert_allclose(f(np.ones((1, 2, 4, 4)), np.ones((3, 2, 2, 2)), np.array([0.5])), np.full((1, 3, 3, 3), 8.5))


@pytest.mark.parametrize("mode", ["FAST_RUN", "FAST_COMPILE"])
@pytest.mark.parametrize("image, filters", [((0, 2, 5, 5), (3, 2, 2, 2)), ((2, 0, 5, 5), (3, 0, 2, 2)),
                                            ((2, 2, 5, 5), (0, 2, 2, 2))])
def test_convolutions_of_empty_operands_are_zeros(mode, image, filters):
    x, w = T.ftensor4(), T.ftensor4()
    out = conv2d(x, w)
    g = T.grad(None, [x, w], known_grads={out: T.ones_like(out)})
    f = theano.function([x, w], [out] + g, mode=mode)
    got = f(np.ones(image, "float32"), np.ones(filters, "float32"))
    assert got[0].shape == (image[0], filters[0], 4, 4)
    for value, shape in zip(got, [(image[0], filters[0], 4, 4), image, filters]):
        assert value.shape == shape and not value.any()


def test_convolution_gradient_builders_take_4_or_5_dimensions():
    with pytest.raises(TypeError, match="4 dimensions"):
        abstract_conv.conv2d_grad_wrt_inputs(T.TensorType("float64", (False,) * 6)(), T.TensorType("float64", (False,) * 6)(),
                                             (1, 1, 4, 4))
    with pytest.raises(TypeError, match="5 dimensions"):
        abstract_conv.conv3d_grad_wrt_weights(T.dtensor4(), T.dtensor4(), (1, 1, 2, 2, 2))


def test_pool_old_and_new_argument_names_together_are_refused():
    x = T.dtensor4()
    with pytest.raises(ValueError, match="both"):
        pool.pool_2d(x, ws=(2, 2), ds=(2, 2), ignore_border=True)
    with pytest.raises(ValueError, match="both"):
        pool.pool_2d(x, ws=(2, 2), stride=(1, 1), st=(1, 1), ignore_border=True)
    # Theano's 'max_deterministic' is max on the CPU.
    xv = np.arange(16.0).reshape(1, 1, 4, 4)
    f = theano.function([x], pool.pool_2d(x, (2, 2), ignore_border=True, mode="max_deterministic"))
    np.testing.assert_array_equal(f(xv), [[[[5, 7], [13, 15]]]])


@pytest.mark.parametrize("axes", ["per-activation", "spatial", (0, 2)])
def test_batch_normalization_second_order_with_the_statistics_held(axes):
    """Theano's test_bn: the gradient's gradient with the batch statistics considered constant is the partial
    derivative of AbstractBatchNormTrainGrad's formula (c = dy invstd - (x - mean) mean(dy (x - mean)) invstd^3,
    dx = scale (c - mean(c))), here by central differences in NumPy."""
    rng = np.random.RandomState(5)
    shape = (3, 2, 2, 3)
    reduced = {"per-activation": (0,), "spatial": (0, 2, 3)}.get(axes, axes)
    param_shape = tuple(1 if a in reduced else s for a, s in enumerate(shape))
    x, scale, bias, dy, ddx = (T.TensorType("float64", tuple(s == 1 for s in sh))(n)
                               for n, sh in (("x", shape), ("s", param_shape), ("b", param_shape), ("dy", shape),
                                             ("ddx", shape)))
    out, mean, invstd = bn.batch_normalization_train(x, scale, bias, axes, 5e-3)
    dx = T.grad(None, wrt=x, known_grads={out: dy})
    ddx_x = T.grad(None, wrt=x, known_grads={dx: ddx}, consider_constant=[dy, scale, bias, mean, invstd])
    f = theano.function([x, scale, bias, dy, ddx], [ddx_x, mean, invstd], on_unused_input="ignore")
    xv, sv, bv = 4 + 3 * rng.normal(size=shape), rng.normal(size=param_shape), rng.normal(size=param_shape)
    dyv, ddxv = rng.normal(size=shape), rng.normal(size=shape)
    got, mv, iv = f(xv, sv, bv, dyv, ddxv)

    def theano_dx(xs):
        x_diff = xs - mv
        c = dyv * iv - x_diff * (dyv * x_diff).mean(reduced, keepdims=True) * iv ** 3
        return sv * (c - c.mean(reduced, keepdims=True))

    expected = np.zeros(shape)
    for index in np.ndindex(*shape):
        step = np.zeros(shape)
        step[index] = 1e-6
        expected[index] = ((theano_dx(xv + step) - theano_dx(xv - step)) * ddxv).sum() / 2e-6
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
