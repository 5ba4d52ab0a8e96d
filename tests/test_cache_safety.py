"""Kernels loaded from Numba's on-disk cache in later processes run correctly.

A regression test for a crash: with a parallel (prange) function among the
callees, a kernel compiled in a process that had loaded other signatures from
the cache segfaulted when a third process loaded it. Each step here is a fresh
interpreter sharing one empty cache folder.
"""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # several processes sharing a Numba cache; run by .ci/run (pytest -m slow)

_UINT8 = """
import numpy as np, fastbp
net = fastbp.Network([5, 6, 3], dtype=np.float32, input_scale=1 / 255, seed=0)
X = np.random.default_rng(0).integers(0, 256, (10, 5)).astype(np.uint8)
print(repr(net.gradients(X, np.arange(10) % 3)[1][0].sum()))
"""
_FLOAT32 = """
import numpy as np, fastbp
net = fastbp.Network([5, 6, 3], dtype=np.float32, seed=0)
X = np.random.default_rng(0).random((10, 5)).astype(np.float32)
print(repr(net.gradients(X, np.arange(10) % 3)[1][0].sum()))
"""


@pytest.mark.slow
def test_cached_kernels_across_processes(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    outputs = []
    for code in (_UINT8, _FLOAT32, _FLOAT32, _UINT8):
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, timeout=600)
        assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
        outputs.append(proc.stdout.strip())
    assert outputs[1] == outputs[2]  # compiled, then loaded from the cache: same numbers
    assert outputs[0] == outputs[3]
