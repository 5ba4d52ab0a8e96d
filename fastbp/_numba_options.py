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
import os

import numba

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
# per-layer stages (activation, f', cost, BP1) are compiled on their own
# (activations.py, costs.py, backprop.py), and the one-chunk step is inlined
# into its driver (steps.py: one library fewer to link, optimise and emit
# again). Inlined functions stay callable from Python.
jit_inline = numba.njit(**JIT_OPTIONS, inline="always")
# For the implementations of @overload functions (fast_math.py): compiled once
# per signature and linked into the callers, whose cache holds them (no cache
# of their own); the callers' error model, so that division by zero gives
# inf/NaN without a branch that would keep LLVM from vectorising a loop.
OVERLOAD_JIT_OPTIONS = dict(error_model="numpy")

# Custom activations reach the kernels as the addresses of their compiled
# code in an int64 array (activations.function_addresses), called through a
# typed function pointer: no first-class function objects, so no Numba
# experimental-feature warning and no slow typing of function tuples per call.


#: Compile the kernels for each network's activations and cost (the default;
#: see call_with_literals). ``FASTBP_SPECIALISE=0`` in the environment (read
#: at import) compiles one set of kernels that serves every network instead:
#: a slower first fit, but no new compile when the activations or cost change.
SPECIALISE = os.environ.get("FASTBP_SPECIALISE", "1").strip() != "0"


def call_with_literals(dispatcher, literal, *args):
    """``dispatcher(*args)``, compiled with the arguments at positions ``literal`` typed as their values.

    A kernel that branches on a code (the activation of the hidden layers,
    the output layer's, the cost) compiles only the branch it takes when the
    code is a literal (``numba.types.literal``): Numba prunes the others
    before typing them, and passes the literal on to the jitted functions it
    calls. Python callers of such kernels use this function, so a fit and
    a later ``predict`` share one specialisation, loaded from the cache on
    later runs. Called plainly, the same kernel compiles every branch and
    reads the codes at run time.

    Parameters
    ----------
    dispatcher : numba dispatcher
    literal : tuple of int
        Positions of ``args`` that are ints to compile as constants.
    *args
        The arguments, as for ``dispatcher(*args)``.

    With :data:`SPECIALISE` off, no argument is made a literal. Finding the
    signature costs some hundreds of microseconds (``numba.typeof`` of every
    argument); a caller that repeats a call with arguments of the same types
    keeps :func:`compiled_with_literals`'s entry point instead.
    """
    return compiled_with_literals(dispatcher, literal, *args)(*args)


def compiled_with_literals(dispatcher, literal, *args):
    """The compiled function :func:`call_with_literals` calls (compiled, or loaded from the cache, on first use).

    It takes arguments of the types of ``args``; those at positions
    ``literal`` are the constants it was compiled for (the values passed
    there are ignored).
    """
    return dispatcher.compile(literal_signature(args, literal if SPECIALISE else ()))


def literal_signature(args, literal):
    """The Numba argument types of ``args``, the ints at positions ``literal`` as literals (see call_with_literals)."""
    return tuple(numba.types.literal(a) if i in literal else numba.typeof(a)
                 for i, a in enumerate(args))
