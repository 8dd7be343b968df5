"""The convolutional-network tutorial of Theano (LeNet: two convolution + max-pooling layers, a tanh hidden
layer, logistic regression on top), written with Theano's API, only the imports changed, and trained on
Fashion-MNIST instead of MNIST (the same 28x28 images and 10 classes). The same model in C++: lenet.cpp.

    .venv/bin/python examples/lenet.py [--epochs 5] [--batch-size 20] [--lr 0.1] [--limit N]

The tutorial trains with batches of 500 for up to 200 epochs; batches of 20 (the MLP tutorial's) reach a test
accuracy above 0.89 within 5 epochs (make bench times the step with batches of 500).
"""
import argparse
import os
import sys
import timeit

import numpy

import hypatia as theano
import hypatia.tensor as T
from hypatia.tensor.signal import pool
from hypatia.tensor.nnet import conv2d

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402


class LogisticRegression(object):
    def __init__(self, input, n_in, n_out):
        self.W = theano.shared(value=numpy.zeros((n_in, n_out), dtype=theano.config.floatX), name='W', borrow=True)
        self.b = theano.shared(value=numpy.zeros((n_out,), dtype=theano.config.floatX), name='b', borrow=True)
        self.p_y_given_x = T.nnet.softmax(T.dot(input, self.W) + self.b)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]
        self.input = input

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        if y.ndim != self.y_pred.ndim:
            raise TypeError('y should have the same shape as self.y_pred', ('y', y.type, 'y_pred', self.y_pred.type))
        if y.dtype.startswith('int'):
            return T.mean(T.neq(self.y_pred, y))
        else:
            raise NotImplementedError()


class HiddenLayer(object):
    def __init__(self, rng, input, n_in, n_out, W=None, b=None, activation=T.tanh):
        self.input = input
        if W is None:
            W_values = numpy.asarray(
                rng.uniform(low=-numpy.sqrt(6. / (n_in + n_out)), high=numpy.sqrt(6. / (n_in + n_out)), size=(n_in, n_out)),
                dtype=theano.config.floatX)
            if activation == theano.tensor.nnet.sigmoid:
                W_values *= 4
            W = theano.shared(value=W_values, name='W', borrow=True)
        if b is None:
            b_values = numpy.zeros((n_out,), dtype=theano.config.floatX)
            b = theano.shared(value=b_values, name='b', borrow=True)
        self.W = W
        self.b = b
        lin_output = T.dot(input, self.W) + self.b
        self.output = (lin_output if activation is None else activation(lin_output))
        self.params = [self.W, self.b]


class LeNetConvPoolLayer(object):
    """Pool Layer of a convolutional network """

    def __init__(self, rng, input, filter_shape, image_shape, poolsize=(2, 2)):
        assert image_shape[1] == filter_shape[1]
        self.input = input

        # there are "num input feature maps * filter height * filter width" inputs to each hidden unit
        fan_in = numpy.prod(filter_shape[1:])
        # each unit in the lower layer receives a gradient from:
        # "num output feature maps * filter height * filter width" / pooling size
        fan_out = (filter_shape[0] * numpy.prod(filter_shape[2:]) // numpy.prod(poolsize))
        # initialize weights with random weights
        W_bound = numpy.sqrt(6. / (fan_in + fan_out))
        self.W = theano.shared(
            numpy.asarray(rng.uniform(low=-W_bound, high=W_bound, size=filter_shape), dtype=theano.config.floatX),
            borrow=True)

        # the bias is a 1D tensor -- one bias per output feature map
        b_values = numpy.zeros((filter_shape[0],), dtype=theano.config.floatX)
        self.b = theano.shared(value=b_values, borrow=True)

        # convolve input feature maps with filters
        conv_out = conv2d(input=input, filters=self.W, filter_shape=filter_shape, input_shape=image_shape)

        # pool each feature map individually, using maxpooling
        pooled_out = pool.pool_2d(input=conv_out, ws=poolsize, ignore_border=True)

        # add the bias term. Since the bias is a vector (1D array), we first reshape it to a tensor of shape
        # (1, n_filters, 1, 1). Each bias will thus be broadcasted across mini-batches and feature map
        # width & height
        self.output = T.tanh(pooled_out + self.b.dimshuffle('x', 0, 'x', 'x'))

        # store parameters of this layer
        self.params = [self.W, self.b]

        # keep track of model input
        self.input = input


def load_data(data_dir, limit=0):
    """The tutorial's load_data: (train, valid, test) as shared variables (images of 784 floatX pixels in
    [0, 1], int32 labels), here from Fashion-MNIST: its 60000 training images split 55000/5000. Also the
    training set's shared variables, so each epoch can visit it in a new order."""
    def shared_dataset(data_xy, borrow=True):
        data_x, data_y = data_xy
        shared_x = theano.shared(numpy.asarray(data_x, dtype=theano.config.floatX), borrow=borrow)
        shared_y = theano.shared(numpy.asarray(data_y, dtype=theano.config.floatX), borrow=borrow)
        return shared_x, T.cast(shared_y, 'int32'), shared_y

    images, labels = fashion_mnist.load(data_dir, "train", limit, theano.config.floatX)
    test_images, test_labels = fashion_mnist.load(data_dir, "t10k", limit // 6 if limit else 0, theano.config.floatX)
    split = len(images) * 11 // 12
    train, valid, test = (shared_dataset((images[:split], labels[:split])), shared_dataset((images[split:], labels[split:])),
                          shared_dataset((test_images, test_labels)))
    return [train[:2], valid[:2], test[:2]], (train[0], train[2])


def shuffle(shared_variables, rng):
    """Puts the rows of the training set's shared variables in a new order (the same for each)."""
    order = rng.permutation(shared_variables[0].get_value(borrow=True).shape[0])
    for variable in shared_variables:
        variable.set_value(variable.get_value(borrow=True)[order], borrow=True)


def evaluate_lenet5(learning_rate=0.1, n_epochs=5, data_dir=fashion_mnist.DEFAULT_DIR, nkerns=[20, 50],
                    batch_size=500, limit=0, log=print):
    """ Demonstrates lenet on Fashion-MNIST; returns the test accuracy after each epoch.

    :type learning_rate: float
    :param learning_rate: learning rate used (factor for the stochastic gradient)
    :type n_epochs: int
    :param n_epochs: maximal number of epochs to run the optimizer
    :type nkerns: list of ints
    :param nkerns: number of kernels on each layer
    """
    rng = numpy.random.RandomState(23455)

    datasets, training_set = load_data(data_dir, limit)

    train_set_x, train_set_y = datasets[0]
    valid_set_x, valid_set_y = datasets[1]
    test_set_x, test_set_y = datasets[2]

    # compute number of minibatches for training, validation and testing
    n_train_batches = train_set_x.get_value(borrow=True).shape[0]
    n_valid_batches = valid_set_x.get_value(borrow=True).shape[0]
    n_test_batches = test_set_x.get_value(borrow=True).shape[0]
    n_train_batches //= batch_size
    n_valid_batches //= batch_size
    n_test_batches //= batch_size

    # allocate symbolic variables for the data
    index = T.lscalar()  # index to a [mini]batch

    # start-snippet-1
    x = T.matrix('x')   # the data is presented as rasterized images
    y = T.ivector('y')  # the labels are presented as 1D vector of [int] labels

    ######################
    # BUILD ACTUAL MODEL #
    ######################
    log('... building the model')

    # Reshape matrix of rasterized images of shape (batch_size, 28 * 28)
    # to a 4D tensor, compatible with our LeNetConvPoolLayer
    # (28, 28) is the size of MNIST images.
    layer0_input = x.reshape((batch_size, 1, 28, 28))

    # Construct the first convolutional pooling layer:
    # filtering reduces the image size to (28-5+1 , 28-5+1) = (24, 24)
    # maxpooling reduces this further to (24/2, 24/2) = (12, 12)
    # 4D output tensor is thus of shape (batch_size, nkerns[0], 12, 12)
    layer0 = LeNetConvPoolLayer(rng, input=layer0_input, image_shape=(batch_size, 1, 28, 28),
                                filter_shape=(nkerns[0], 1, 5, 5), poolsize=(2, 2))

    # Construct the second convolutional pooling layer
    # filtering reduces the image size to (12-5+1, 12-5+1) = (8, 8)
    # maxpooling reduces this further to (8/2, 8/2) = (4, 4)
    # 4D output tensor is thus of shape (batch_size, nkerns[1], 4, 4)
    layer1 = LeNetConvPoolLayer(rng, input=layer0.output, image_shape=(batch_size, nkerns[0], 12, 12),
                                filter_shape=(nkerns[1], nkerns[0], 5, 5), poolsize=(2, 2))

    # the HiddenLayer being fully-connected, it operates on 2D matrices of
    # shape (batch_size, num_pixels) (i.e matrix of rasterized images).
    # This will generate a matrix of shape (batch_size, nkerns[1] * 4 * 4),
    # or (500, 50 * 4 * 4) = (500, 800) with the default values.
    layer2_input = layer1.output.flatten(2)

    # construct a fully-connected sigmoidal layer
    layer2 = HiddenLayer(rng, input=layer2_input, n_in=nkerns[1] * 4 * 4, n_out=500, activation=T.tanh)

    # classify the values of the fully-connected sigmoidal layer
    layer3 = LogisticRegression(input=layer2.output, n_in=500, n_out=10)

    # the cost we minimize during training is the NLL of the model
    cost = layer3.negative_log_likelihood(y)

    # create a function to compute the mistakes that are made by the model
    test_model = theano.function([index], layer3.errors(y), givens={
        x: test_set_x[index * batch_size: (index + 1) * batch_size],
        y: test_set_y[index * batch_size: (index + 1) * batch_size]})

    validate_model = theano.function([index], layer3.errors(y), givens={
        x: valid_set_x[index * batch_size: (index + 1) * batch_size],
        y: valid_set_y[index * batch_size: (index + 1) * batch_size]})

    # create a list of all model parameters to be fit by gradient descent
    params = layer3.params + layer2.params + layer1.params + layer0.params

    # create a list of gradients for all model parameters
    grads = T.grad(cost, params)

    # train_model is a function that updates the model parameters by
    # SGD Since this model has many parameters, it would be tedious to
    # manually create an update rule for each model parameter. We thus
    # create the updates list by automatically looping over all
    # (params[i], grads[i]) pairs.
    updates = [(param_i, param_i - learning_rate * grad_i) for param_i, grad_i in zip(params, grads)]

    train_model = theano.function([index], cost, updates=updates, givens={
        x: train_set_x[index * batch_size: (index + 1) * batch_size],
        y: train_set_y[index * batch_size: (index + 1) * batch_size]})
    # end-snippet-1

    ###############
    # TRAIN MODEL #
    ###############
    log('... training')
    start_time = timeit.default_timer()
    best_validation_loss = numpy.inf
    test_score = 0.
    accuracies = []
    for epoch in range(1, n_epochs + 1):
        epoch_start = timeit.default_timer()
        shuffle(training_set, rng)
        cost_sum = 0.
        for minibatch_index in range(n_train_batches):
            cost_sum += float(train_model(minibatch_index))
        # compute zero-one loss on validation set
        validation_losses = [validate_model(i) for i in range(n_valid_batches)]
        this_validation_loss = numpy.mean(validation_losses)
        test_losses = [test_model(i) for i in range(n_test_batches)]
        test_score = numpy.mean(test_losses)
        if this_validation_loss < best_validation_loss:
            best_validation_loss = this_validation_loss
        accuracies.append(1. - float(test_score))
        log('epoch %i, train cost %f, validation error %f %%, test error %f %%, %.1f s' %
            (epoch, cost_sum / max(n_train_batches, 1), this_validation_loss * 100., test_score * 100.,
             timeit.default_timer() - epoch_start))
    end_time = timeit.default_timer()
    log('Optimization complete. Best validation score of %f %% with test performance %f %%' %
        (best_validation_loss * 100., test_score * 100.))
    log('The code ran for %.2fm' % ((end_time - start_time) / 60.))
    return accuracies


def main():
    parser = argparse.ArgumentParser(description="Trains the LeNet tutorial's network on Fashion-MNIST.")
    parser.add_argument("--data-dir", default=fashion_mnist.DEFAULT_DIR)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N examples only (0: all)")
    args = parser.parse_args()
    theano.config.floatX = "float32"
    try:
        evaluate_lenet5(args.lr, args.epochs, args.data_dir, batch_size=args.batch_size, limit=args.limit)
    except ValueError as error:
        sys.exit(f"lenet: {error}")


if __name__ == "__main__":
    main()
