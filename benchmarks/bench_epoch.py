"""A whole training epoch (``Network.fit`` with epochs=1) of configs S, M and L.

S and M run over 60,000 rows of Fashion-MNIST's shape; L over a subset of
8,192 rows (8 mini-batches of 1024), since a full L epoch takes tens of
seconds per sample (multiply by 60000/8192 for a full-epoch estimate).
"""
from .common import CONFIGS, DTYPES, EPOCH_ROWS, Benchmark, make_network, synthetic, warm_fit


class TimeEpoch(Benchmark):
    """One epoch of mini-batch SGD, shuffled, in the compiled whole-epoch driver."""

    params = [list(CONFIGS), DTYPES]
    param_names = ["config", "dtype"]
    number = 1
    repeat = (1, 5, 40.0)
    warmup_time = 0.0
    timeout = 600

    def setup(self, config, dtype):
        c = CONFIGS[config]
        self.X, _, self.Y = synthetic(EPOCH_ROWS[config], dtype)
        self.net = make_network(config, dtype, seed=0)
        warm_fit(self.net, config, self.X, self.Y)
        self.batch_size = c["batch_size"]
        self.eta = c["eta"]

    def time_epoch(self, config, dtype):
        self.net.fit(self.X, self.Y, epochs=1, batch_size=self.batch_size, eta=self.eta, seed=0)
