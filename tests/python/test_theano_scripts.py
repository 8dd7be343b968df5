"""Old Theano scripts run with only their imports changed: the deeplearning.net tutorials' logistic
regression (logistic_sgd.py) and MLP (mlp.py), as their authors wrote them, on a small synthetic problem."""
import numpy
import pytest

import hypatia as theano
import hypatia.tensor as T


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
                rng.uniform(low=-numpy.sqrt(6. / (n_in + n_out)), high=numpy.sqrt(6. / (n_in + n_out)),
                            size=(n_in, n_out)),
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


class MLP(object):
    def __init__(self, rng, input, n_in, n_hidden, n_out):
        self.hiddenLayer = HiddenLayer(rng=rng, input=input, n_in=n_in, n_out=n_hidden, activation=T.tanh)
        self.logRegressionLayer = LogisticRegression(input=self.hiddenLayer.output, n_in=n_hidden, n_out=n_out)
        self.L1 = abs(self.hiddenLayer.W).sum() + abs(self.logRegressionLayer.W).sum()
        self.L2_sqr = (self.hiddenLayer.W ** 2).sum() + (self.logRegressionLayer.W ** 2).sum()
        self.negative_log_likelihood = self.logRegressionLayer.negative_log_likelihood
        self.errors = self.logRegressionLayer.errors
        self.params = self.hiddenLayer.params + self.logRegressionLayer.params
        self.input = input


def shared_dataset(data_xy, borrow=True):
    data_x, data_y = data_xy
    shared_x = theano.shared(numpy.asarray(data_x, dtype=theano.config.floatX), borrow=borrow)
    shared_y = theano.shared(numpy.asarray(data_y, dtype=theano.config.floatX), borrow=borrow)
    return shared_x, T.cast(shared_y, 'int32')


def synthetic(n, rng):
    """Three Gaussian blobs in 20 dimensions."""
    centers = rng.normal(0, 3, (3, 20))
    labels = rng.integers(0, 3, n)
    return rng.normal(0, 1, (n, 20)) + centers[labels], labels


def train_and_test(build, learning_rate, epochs, floatX):
    with theano.config.change_flags(floatX=floatX):
        rng = numpy.random.default_rng(1234)
        train_set_x, train_set_y = shared_dataset(synthetic(600, rng))
        batch_size = 20
        n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size

        index = T.lscalar()
        x = T.matrix('x')
        y = T.ivector('y')
        classifier, cost = build(x, y, rng)
        gparams = [T.grad(cost, param) for param in classifier.params]
        updates = [(param, param - learning_rate * gparam) for param, gparam in zip(classifier.params, gparams)]
        train_model = theano.function(
            inputs=[index], outputs=cost, updates=updates,
            givens={x: train_set_x[index * batch_size: (index + 1) * batch_size],
                    y: train_set_y[index * batch_size: (index + 1) * batch_size]})
        validate_model = theano.function(inputs=[], outputs=classifier.errors(y),
                                         givens={x: train_set_x, y: train_set_y})
        before = float(validate_model())
        costs = []
        for epoch in range(epochs):
            for minibatch_index in range(n_train_batches):
                costs.append(float(train_model(minibatch_index)))
        return before, float(validate_model()), costs, classifier


@pytest.mark.parametrize("floatX", ["float64", "float32"])
def test_logistic_sgd_tutorial(floatX):
    def build(x, y, rng):
        classifier = LogisticRegression(input=x, n_in=20, n_out=3)
        return classifier, classifier.negative_log_likelihood(y)

    before, after, costs, classifier = train_and_test(build, 0.13, 5, floatX)
    assert before > 0.5 and after < 0.05, (before, after)
    assert numpy.mean(costs[-10:]) < 0.5 * costs[0]
    assert classifier.W.get_value().dtype == floatX


def test_mlp_tutorial_with_regularization():
    def build(x, y, rng):
        classifier = MLP(rng=rng, input=x, n_in=20, n_hidden=30, n_out=3)
        cost = classifier.negative_log_likelihood(y) + 0.00 * classifier.L1 + 0.0001 * classifier.L2_sqr
        return classifier, cost

    before, after, costs, _ = train_and_test(build, 0.01, 5, "float64")
    assert after < 0.05 and after < before, (before, after)
    assert numpy.mean(costs[-10:]) < costs[0]


def test_errors_refuses_mismatched_labels_as_the_tutorial_does():
    classifier = LogisticRegression(input=T.matrix('x'), n_in=4, n_out=2)
    with pytest.raises(TypeError, match="same shape"):
        classifier.errors(T.imatrix('y'))
