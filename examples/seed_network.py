# The seed's Theano program, with only the imports changed (and its typos fixed: np.random.normal's
# arguments, range for xrange, a defined lr). It reads data_x.npy and data_y.npy from the current
# directory: `python examples/make_seed_data.py` writes them from Fashion-MNIST.
#########################
# Theano for Training a
# Neural Network on MNIST
#########################

import numpy as np

import hypatia as theano
import hypatia.tensor as tensor

x = np.load('data_x.npy')
y = np.load('data_y.npy')
lr = 1e-7

# symbol declarations
sx = tensor.matrix()
sy = tensor.matrix()
w = theano.shared(np.random.normal(0, .1, (784, 500)))
b = theano.shared(np.zeros(500))
v = theano.shared(np.zeros((500, 10)))
c = theano.shared(np.zeros(10))

# symbolic expression-building
hid = tensor.tanh(tensor.dot(sx, w) + b)
out = tensor.tanh(tensor.dot(hid, v) + c)
err = 0.5 * tensor.sum(out - sy) ** 2
gw, gb, gv, gc = tensor.grad(err, [w, b, v, c])

# compile a fast training function
train = theano.function([sx, sy], err,
    updates={
        w: w - lr * gw,
        b: b - lr * gb,
        v: v - lr * gv,
        c: c - lr * gc})

# now do the computations
batchsize = 100
for i in range(1000):
    x_i = x[i * batchsize: (i + 1) * batchsize]
    y_i = y[i * batchsize: (i + 1) * batchsize]
    err_i = train(x_i, y_i)
