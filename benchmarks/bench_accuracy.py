"""Test accuracy after a fixed short training: a regression in learning is a regression.

Each config trains from the same seeded initial weights, with seeded
shuffles, for 2 epochs on the first 10,000 rows of Fashion-MNIST's training
set and is tested on the first 2,000 rows of its test set. The "synthetic"
variant uses common.synthetic (always available); the "fashion-mnist" one is
skipped where the data set is absent. Results are deterministic for a given
build, so any change is a change in the arithmetic.

Config L is left out: with mini-batches of 1024 it takes only 20 steps in
2 epochs of 10,000 rows and stays at chance (about 0.10) for any eta, so it
would track nothing; its arithmetic is the same kernels in float32, which
S and M cover in both dtypes.
"""
from .common import (CONFIGS, DTYPES, Benchmark, fashion_mnist, make_network, synthetic,
                     warm_fit)

N_TRAIN = 10000
N_TEST = 2000
EPOCHS = 2


class TrackAccuracy(Benchmark):
    """Fraction of test rows classified right after 2 epochs on 10,000 rows."""

    params = [["S", "M"], DTYPES, ["fashion-mnist", "synthetic"]]
    param_names = ["config", "dtype", "data"]
    timeout = 600

    def setup(self, config, dtype, data):
        if data == "fashion-mnist":
            self.train = fashion_mnist("train", N_TRAIN, dtype)
            self.test = fashion_mnist("test", N_TEST, dtype)
        else:
            X, y, Y = synthetic(N_TRAIN + N_TEST, dtype, seed=7)
            self.train = (X[:N_TRAIN], y[:N_TRAIN], Y[:N_TRAIN])
            self.test = (X[N_TRAIN:], y[N_TRAIN:], Y[N_TRAIN:])
        warm_fit(make_network(config, dtype), config, self.train[0], self.train[2])

    def track_test_accuracy(self, config, dtype, data):
        c = CONFIGS[config]
        net = make_network(config, dtype, seed=0)
        net.fit(self.train[0], self.train[2], epochs=EPOCHS, batch_size=c["batch_size"],
                eta=c["eta"], seed=0)
        return net.accuracy(self.test[0], self.test[1])

    track_test_accuracy.unit = "accuracy"
