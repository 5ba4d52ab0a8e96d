"""The one place where fastbp's Numba options live.

Every compiled function in fastbp is decorated with :data:`jit` (or
:data:`jit_reduction`, :data:`jit_inline`), so that a change of flags here changes them all.

- ``cache=True``: compiled machine code is written to Numba's cache folder
  (``NUMBA_CACHE_DIR``, else ``__pycache__`` beside the module) and reused by
  later processes, so compile time is paid once per machine, not per run.
- ``fastmath=False``: results must match the NumPy reference to 1e-10, and
  NaN/inf must stay detectable for divergence checks.
- ``nogil=True``: kernels release the GIL, so a caller may run them in threads.
- ``error_model="numpy"``: division by zero gives inf/nan instead of raising,
  which keeps division out of the exception path in hot loops.
"""
import contextlib
import threading
import warnings

import numba
from numba.core.errors import NumbaExperimentalFeatureWarning

JIT_OPTIONS = dict(cache=True, nogil=True, fastmath=False, error_model="numpy")
# For loops whose only reordering is a sum: "reassoc" lets LLVM vectorise the
# reduction (results change by rounding only); NaN and inf still propagate,
# which is what the divergence checks rely on.
REDUCTION_JIT_OPTIONS = dict(JIT_OPTIONS, fastmath={"reassoc", "contract"})

# No ``parallel=True`` kernels: a parallel (prange) function reached as a callee
# of a cached function crashed processes that loaded it from the disk cache
# (reproduced with Numba 0.68: compile one signature, then another in a second
# process, then load it in a third). The matrix products use all cores through
# BLAS instead.

jit = numba.njit(**JIT_OPTIONS)
jit_reduction = numba.njit(**REDUCTION_JIT_OPTIONS)
# jit_inline functions are inlined into their callers at Numba-IR level (small
# helpers, and stages called once per step). Each separately compiled function
# is linked and optimised again in every caller, but one driver with every stage
# inlined is typed as a whole, which cost more: a step whose two variants (one
# chunk, several chunks) were inlined together tripled the compile time, so the
# per-layer stages (activation, f', cost, BP1) and each step are compiled on
# their own (activations.py, costs.py, backprop.py, steps.py). Inlined functions
# stay callable from Python.
jit_inline = numba.njit(**JIT_OPTIONS, inline="always")

# Custom activations (and the placeholders of unused slots) reach the kernels
# as a tuple of first-class function objects, a feature Numba still labels
# experimental (it is exercised by fastbp's tests). Numba warns each time it
# types that tuple, i.e. on every kernel call from Python, and attributes the
# warning to its own module numba.core.utils, so a ``module=`` filter could not
# tell fastbp's calls from a user's. The warning is therefore ignored only while
# fastbp calls (and compiles) its kernels: see quiet_numba_experimental.

_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_lists = []  # the filter lists our entry was put into
# One filter entry of our own, inserted on the outermost entry and removed (by
# identity, not equality: a user's identical filter stays) on the outermost
# exit, so that nested and concurrent calls from several threads neither stack
# nor remove filters the user installed meanwhile.
_QUIET_FILTER = ("ignore", None, NumbaExperimentalFeatureWarning, None, 0)


def _filters_changed():
    """Tell the warnings module its filter list changed (drops cached decisions)."""
    for name in ("_filters_mutated", "_filters_mutated_lock_held"):
        mutated = getattr(warnings, name, None)
        if mutated is not None:
            try:
                mutated()
            except Exception:  # a private hook whose form changed: caches only
                pass
            return


@contextlib.contextmanager
def quiet_numba_experimental():
    """Ignore NumbaExperimentalFeatureWarning while fastbp calls its kernels.

    Wraps (as the decorator ``@quiet_numba_experimental()``) the few methods
    of :class:`fastbp.Network` that call compiled kernels. Outside them the
    process's warning filters are as the user left them: ``import fastbp``
    installs no filter, and a user's own first-class-function code, or their
    own ``warnings.warn(NumbaExperimentalFeatureWarning(...))``, still warns.
    Python's warning filters are global, so while a kernel call is in progress
    the category is ignored in every thread of the process.
    """
    global _quiet_depth
    with _quiet_lock:
        if _quiet_depth == 0:
            warnings.filters.insert(0, _QUIET_FILTER)
            _quiet_lists.append(warnings.filters)
            _filters_changed()
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                # Also the current list, should a catch_warnings() entered
                # meanwhile have swapped in a copy holding our entry.
                for filters in _quiet_lists + [warnings.filters]:
                    for i, entry in enumerate(filters):
                        if entry is _QUIET_FILTER:
                            del filters[i]
                            break
                _quiet_lists.clear()
                _filters_changed()
