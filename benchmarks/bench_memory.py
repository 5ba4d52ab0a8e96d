"""Peak memory of a fit on config L.

asv's ``peakmem_`` is the peak resident set size of the whole benchmark
process, setup included: Python, NumPy, Numba and the loaded kernels, the
data (8,192 rows of 784 values, the same subset as bench_epoch) and then
the fit's own buffers (spare parameters, velocity, gradients, activations
of one mini-batch). A rise is a rise in what fit allocates.
"""
from .common import CONFIGS, DTYPES, EPOCH_ROWS, Benchmark, make_network, synthetic, warm_fit


class PeakmemFit(Benchmark):
    """One-epoch ``Network.fit`` on config L."""

    params = [["L"], DTYPES]
    param_names = ["config", "dtype"]
    timeout = 600

    def setup(self, config, dtype):
        c = CONFIGS[config]
        self.X, _, self.Y = synthetic(EPOCH_ROWS[config], dtype)
        self.net = make_network(config, dtype, seed=0)
        warm_fit(self.net, config, self.X[:4], self.Y[:4])
        self.batch_size = c["batch_size"]
        self.eta = c["eta"]

    def peakmem_fit(self, config, dtype):
        self.net.fit(self.X, self.Y, epochs=1, batch_size=self.batch_size, eta=self.eta, seed=0)
