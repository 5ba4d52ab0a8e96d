"""fastbp's kernels raise no Numba warning, and fastbp installs no warning filter.

Custom activations reach the kernels as the addresses of their compiled code
(activations.function_addresses), not as Numba's experimental first-class
function objects, so no NumbaExperimentalFeatureWarning (or any other Numba
warning) is raised by a fit, a prediction, gradients or a trace, and fastbp
has no reason to touch the process's warning filters.
"""
import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from numba.core.errors import NumbaWarning

import fastbp

# The tiny random fits below learn nothing, and fastbp says so; not the subject here.
pytestmark = pytest.mark.filterwarnings("ignore::fastbp.NotLearningWarning")


def _fit_and_predict(dtype=np.float64):
    softplus = fastbp.Activation("softplus", lambda z: math.log1p(math.exp(z)),
                                 lambda z: 1.0 / (1.0 + math.exp(-z)))
    rng = np.random.default_rng(0)
    X, y = rng.uniform(-1, 1, size=(40, 4)), rng.integers(0, 3, size=40)
    net = fastbp.Network([4, 5, 3], activation=[softplus, "sigmoid"], dtype=dtype, seed=0)
    net.fit(X, y, 2, 10, 0.1, evaluation_data=(X, y), seed=0)
    net.fit(X, y, 1, 40, 0.1, chunk_size=16, seed=0)  # the chunked driver too
    net.predict(X)
    net.gradients(X, y)
    net.trace(X, np.eye(3)[y])
    return net


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_predict_gradients_and_trace_raise_no_numba_warning(dtype):
    before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _fit_and_predict(dtype)
    numba_warnings = [w for w in caught if issubclass(w.category, NumbaWarning)]
    assert not numba_warnings, [str(w.message)[:200] for w in numba_warnings]
    assert warnings.filters == before


def test_custom_activation_in_the_kernels_matches_its_python_function():
    softplus = lambda z: math.log1p(math.exp(z))  # noqa: E731
    act = fastbp.Activation("softplus", softplus, lambda z: 1.0 / (1.0 + math.exp(-z)))
    net = fastbp.Network([3, 4], activation=act, seed=1)
    X = np.random.default_rng(2).standard_normal((5, 3))
    Z = X @ net.weights[0].T + net.biases[0]
    expected = np.vectorize(softplus)(Z)
    np.testing.assert_allclose(net.feedforward(X), expected, rtol=1e-14)


@pytest.mark.slow
def test_import_and_a_fit_install_no_filter_in_a_fresh_process():
    code = (
        "import math, warnings, numpy as np\n"
        "before = list(warnings.filters)\n"
        "import fastbp\n"
        "sp = fastbp.Activation('sp', lambda z: math.log1p(math.exp(z)),"
        " lambda z: 1 / (1 + math.exp(-z)))\n"
        "net = fastbp.Network([4, 5, 3], activation=sp, seed=0)\n"
        "X = np.random.default_rng(0).uniform(size=(20, 4)); y = np.arange(20) % 3\n"
        "net.fit(X, y, 2, 5, 0.1); net.predict(X)\n"
        "assert list(warnings.filters) == before, (before, warnings.filters)\n"
    )
    proc = subprocess.run([sys.executable, "-W", "error::numba.core.errors.NumbaWarning",
                           "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
