"""fastbp keeps Numba's experimental-feature warning to itself.

Custom activations reach the kernels as first-class functions, which Numba
labels experimental and warns about on every kernel call (attributing the
warning to its own numba.core.utils). fastbp ignores it only while its own
methods call kernels (fastbp._numba_options.quiet_numba_experimental); it
installs no process-wide filter, so a user's own warning of that category is
still shown.
"""
import math
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
from numba.core.errors import NumbaExperimentalFeatureWarning

import fastbp
from fastbp._numba_options import _QUIET_FILTER, quiet_numba_experimental

# The tiny random fits below learn nothing, and fastbp says so; not the subject here.
pytestmark = pytest.mark.filterwarnings("ignore::fastbp.NotLearningWarning")


def _no_quiet_filter():
    return not any(entry is _QUIET_FILTER for entry in warnings.filters)


def _fit_and_predict():
    softplus = fastbp.Activation("softplus", lambda z: math.log1p(math.exp(z)),
                                 lambda z: 1.0 / (1.0 + math.exp(-z)))
    rng = np.random.default_rng(0)
    X, y = rng.uniform(-1, 1, size=(40, 4)), rng.integers(0, 3, size=40)
    net = fastbp.Network([4, 5, 3], activation=softplus, seed=0)
    net.fit(X, y, 2, 10, 0.1, evaluation_data=(X, y), seed=0)
    net.predict(X)
    net.gradients(X, y)
    net.trace(X, np.eye(3)[y])
    return net


def test_fastbp_shows_none_and_a_users_own_is_still_shown():
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("always")
        _fit_and_predict()
        assert not [w for w in caught if w.category is NumbaExperimentalFeatureWarning]
        warnings.warn(NumbaExperimentalFeatureWarning("the user's own"))
    mine = [w for w in caught if w.category is NumbaExperimentalFeatureWarning]
    assert len(mine) == 1 and "the user's own" in str(mine[0].message)  # Numba adds colour codes
    assert _no_quiet_filter()


def test_the_filter_is_there_only_inside_and_nests():
    assert _no_quiet_filter()
    with quiet_numba_experimental():
        with quiet_numba_experimental():
            assert warnings.filters[0] is _QUIET_FILTER
        assert warnings.filters[0] is _QUIET_FILTER
    assert _no_quiet_filter()


def test_a_users_identical_filter_survives():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=NumbaExperimentalFeatureWarning)
        theirs = warnings.filters[0]
        with quiet_numba_experimental():
            pass
        assert warnings.filters[0] is theirs
        assert _no_quiet_filter()


def test_the_filter_goes_even_when_a_kernel_call_raises():
    net = fastbp.Network([3, 2], seed=0)
    with pytest.raises(ValueError):
        net.gradients(np.zeros((2, 4)), np.zeros((2, 2)))
    with pytest.raises(RuntimeError):
        with quiet_numba_experimental():
            raise RuntimeError
    assert _no_quiet_filter()


def test_threads_leave_no_filter_behind():
    errors = []

    def work():
        try:
            _fit_and_predict()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _no_quiet_filter()


@pytest.mark.slow
def test_import_installs_no_process_wide_filter_in_a_fresh_process():
    code = (
        "import math, warnings, numpy as np\n"
        "from numba.core.errors import NumbaExperimentalFeatureWarning as W\n"
        "import fastbp\n"
        "assert not [f for f in warnings.filters if f[2] is W], warnings.filters\n"
        "sp = fastbp.Activation('sp', lambda z: math.log1p(math.exp(z)),"
        " lambda z: 1 / (1 + math.exp(-z)))\n"
        "net = fastbp.Network([4, 5, 3], activation=sp, seed=0)\n"
        "X = np.random.default_rng(0).uniform(size=(20, 4)); y = np.arange(20) % 3\n"
        "net.fit(X, y, 2, 5, 0.1); net.predict(X)\n"
        "warnings.warn(W('the user own'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "the user own" in proc.stderr
    assert "First-class function type" not in proc.stderr
