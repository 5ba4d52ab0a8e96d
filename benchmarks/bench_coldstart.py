"""Cold start: a fresh interpreter's ``import fastbp`` and first fit of config S.

``timeraw_`` benchmarks return code that asv runs in a new Python process;
the time covers that code (not the interpreter's own start-up, and not the
setup half of the returned pair). The figures:

- import: ``import fastbp`` alone (NumPy, Numba, SciPy and fastbp's modules);
- first fit, cold: import plus ``Network`` plus a one-epoch fit of S on 200
  rows, then ``predict`` on 5 rows, with an empty Numba cache (a fresh
  ``NUMBA_CACHE_DIR``), so every kernel they use is compiled: the first run
  on a new machine (target: under 10 s); the same in float32 (another dtype
  compiles its own kernels: target under 10 s more);
- first predict, cold: import, ``Network`` and ``predict`` alone (a user who
  loads a trained model), empty cache;
- first fit, warm: the fit and predict with the environment's Numba cache
  (``NUMBA_CACHE_DIR`` if set, else ``__pycache__`` beside fastbp) already
  filled, as on every later run (target: under 1 s).
"""
import shutil
import subprocess
import sys
import tempfile
import textwrap

from .common import Benchmark

# Timed: everything a user's first script does (the data is 200 random rows).
FIRST_FIT = """
import warnings
import numpy as np
import fastbp
warnings.simplefilter("ignore", fastbp.NotLearningWarning)  # one epoch of random rows learns nothing
X = np.random.default_rng(0).random((200, 784))
y = np.arange(200) % 10
net = fastbp.Network([784, 30, 10], cost="quadratic", dtype={dtype!r}, seed=0)
net.fit(X, y, epochs=1, batch_size=10, eta=3.0, seed=0)
net.predict(X[:5])
"""

# Timed: a prediction without a fit (a saved model, say).
FIRST_PREDICT = """
import numpy as np
import fastbp
X = np.random.default_rng(0).random((5, 784))
fastbp.Network([784, 30, 10], cost="quadratic", seed=0).predict(X)
"""

# Not timed: point Numba at a new, empty cache folder before anything imports it.
EMPTY_CACHE = """
import os, tempfile
os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(dir={parent!r})
"""

# Not timed: nothing; Numba uses this environment's cache (NUMBA_CACHE_DIR if set, else
# __pycache__ beside the installed fastbp), which setup has filled.
SAME_CACHE = ""


class TimeColdStart(Benchmark):
    """``import fastbp`` and the first fit in a fresh interpreter."""

    number = 1
    repeat = (1, 3, 90.0)
    processes = 1
    timeout = 900

    def setup(self):
        self.parent = tempfile.mkdtemp(prefix="fastbp-asv-numba-")
        # Fill this environment's cache once, so the warm figure never includes a compile.
        subprocess.run([sys.executable, "-c", textwrap.dedent(FIRST_FIT.format(dtype="float64"))],
                       check=True, timeout=self.timeout)

    def teardown(self):
        shutil.rmtree(self.parent, ignore_errors=True)

    def timeraw_import(self):
        return "import fastbp", SAME_CACHE

    def timeraw_first_fit_cold_cache(self):
        return FIRST_FIT.format(dtype="float64"), EMPTY_CACHE.format(parent=self.parent)

    def timeraw_first_fit_float32_cold_cache(self):
        return FIRST_FIT.format(dtype="float32"), EMPTY_CACHE.format(parent=self.parent)

    def timeraw_first_predict_cold_cache(self):
        return FIRST_PREDICT, EMPTY_CACHE.format(parent=self.parent)

    def timeraw_first_fit_warm_cache(self):
        return FIRST_FIT.format(dtype="float64"), SAME_CACHE
