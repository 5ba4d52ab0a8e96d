"""Activation functions: the built-in table and user-supplied ones.

Built-in activations are identified inside the kernels by an integer code, so
that the element-wise loops are compiled once and inlined. A custom
:class:`Activation` reaches the same kernels as the addresses of its ``f``
and ``fprime``, compiled once by Numba from the user's scalar Python
functions into C-callable code (:func:`function_addresses`); no Python is
called per element.
"""
import math
import types as types_module
import warnings

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba import types
from numba.extending import intrinsic, overload

from ._numba_options import OVERLOAD_JIT_OPTIONS, jit, jit_inline
from .fast_math import vexp, vsigmoid, vtanh

# Codes by which the compiled kernels tell the built-in activations apart
# (activate_row and fprime_row below).
LINEAR = 0
SIGMOID = 1
TANH = 2
RELU = 3
SOFTMAX = 4
CUSTOM = 5
#: A kind for layers that do not share one code: the kernels read each
#: layer's code from the network's ``codes`` at run time.
MIXED = -1

SCALAR_SIGNATURE = types.float64(types.float64)


class Activation:
    """An element-wise activation function f and its derivative f'.

    Parameters
    ----------
    name : str
        A label for messages, ``repr`` and saved files.
    f, fprime : callable
        Scalar functions of one float returning a float, which Numba can
        compile in nopython mode: plain Python using ``math``, or
        ``numba.njit`` functions. They run inside fastbp's compiled kernels.
    check : bool, default=True
        Probe ``f`` and ``fprime`` on a few points at construction and warn
        (``RuntimeWarning``) where ``fprime`` disagrees with a central
        difference of ``f``.

    Raises
    ------
    TypeError
        If ``f`` or ``fprime`` is not callable, or Numba cannot compile it for
        ``float64 -> float64`` (the message names the function), or they are
        not finite at every probe point.

    Notes
    -----
    Inside the kernels an exception raised by ``f`` or ``fprime`` becomes NaN
    (division by zero gives inf or NaN, as NumPy does); ``fit`` then stops
    with :class:`fastbp.DivergenceError`.

    Examples
    --------
    >>> import math, fastbp
    >>> softplus = fastbp.Activation(
    ...     "softplus", lambda z: math.log1p(math.exp(z)),
    ...     lambda z: 1.0 / (1.0 + math.exp(-z)))
    >>> net = fastbp.Network([4, 8, 3], activation=softplus)
    """

    #: Integer code of the activation inside the kernels.
    code = CUSTOM

    def __init__(self, name, f, fprime, *, check=True):
        if not isinstance(name, str) or not name:
            raise TypeError(f"Activation name must be a non-empty str, found {name!r}")
        self.name = name
        self.f = f
        self.fprime = fprime
        self.f_compiled = _compile_scalar(f, "f", name)
        self.fprime_compiled = _compile_scalar(fprime, "fprime", name)
        if check:
            self._check_derivative()

    def _check_derivative(self):
        points = np.array([-2.5, -1.3, -0.4, 0.3, 0.9, 1.7, 2.8])
        h = 1e-5
        nan_points = []
        for z in points:
            try:
                fz = float(self.f_compiled(z))
                d = float(self.fprime_compiled(z))
                numeric = (float(self.f_compiled(z + h)) - float(self.f_compiled(z - h))) / (2 * h)
            except Exception as exc:  # a user function raising on a probe point
                raise TypeError(f"Activation {self.name!r}: evaluating f or fprime at z={z} "
                                f"raised {exc!r}") from exc
            if not (math.isfinite(fz) and math.isfinite(d)):
                nan_points.append(float(z))
                continue
            if abs(numeric - d) > 1e-4 * max(1.0, abs(d), abs(numeric)):
                warnings.warn(
                    f"Activation {self.name!r}: fprime({z}) = {d!r} but the central difference "
                    f"of f gives {numeric!r}; check that fprime is the derivative of f",
                    RuntimeWarning, stacklevel=3)
                return
        if len(nan_points) == len(points):
            raise TypeError(f"Activation {self.name!r}: f or fprime is not finite (or raises) at "
                            f"every probe point {[float(p) for p in points]}")
        if nan_points:
            warnings.warn(f"Activation {self.name!r}: f or fprime is not finite (or raises) at "
                          f"z = {nan_points}", RuntimeWarning, stacklevel=3)

    def __repr__(self):
        return f"Activation({self.name!r})"

    def __getstate__(self):
        # Compiled functions do not pickle; f and fprime do when they are
        # module-level functions (lambdas do not), and are compiled again.
        return {"name": self.name, "f": self.f, "fprime": self.fprime}

    def __setstate__(self, state):
        self.__init__(state["name"], state["f"], state["fprime"], check=False)

    # Custom activations hold compiled function objects; they are compared by
    # identity, so two networks share one only when the user passes the same one.


class BuiltinActivation:
    """A built-in activation: its name and its code in the kernels."""

    def __init__(self, name, code):
        self.name = name
        self.code = code

    def __repr__(self):
        return f"<built-in activation {self.name!r}>"


#: The built-in activations, by name. ``softmax`` is for the output layer,
#: with the ``log_likelihood`` cost (its Jacobian is not diagonal).
ACTIVATIONS = {name: BuiltinActivation(name, code) for name, code in [
    ("linear", LINEAR), ("sigmoid", SIGMOID), ("tanh", TANH), ("relu", RELU),
    ("softmax", SOFTMAX)]}
ACTIVATION_ALIASES = {"identity": "linear", "logistic": "sigmoid"}


def get_activation(spec, argname="activation"):
    """Return the BuiltinActivation or Activation that ``spec`` names."""
    if isinstance(spec, (Activation, BuiltinActivation)):
        return spec
    if isinstance(spec, str):
        key = ACTIVATION_ALIASES.get(spec, spec)
        if key in ACTIVATIONS:
            return ACTIVATIONS[key]
        raise ValueError(f"{argname}: unknown activation {spec!r}; expected one of "
                         f"{sorted(ACTIVATIONS)} or a fastbp.Activation")
    raise TypeError(f"{argname}: expected an activation name (str) or a fastbp.Activation, "
                    f"found {type(spec).__name__}")


def _compile_scalar(func, role, name):
    if isinstance(func, numba.core.registry.CPUDispatcher):
        func = func.py_func
    if not callable(func):
        raise TypeError(f"Activation {name!r}: {role} must be callable, "
                        f"found {type(func).__name__}")
    if isinstance(func, types_module.BuiltinFunctionType):  # math.tanh, say: wrap it
        builtin = func

        def func(z):
            return builtin(z)
    try:
        # error_model="numpy": division by zero gives inf/NaN, as in the kernels.
        # Any other exception inside the compiled function becomes NaN (an
        # exception cannot leave a kernel that runs without the GIL), which the
        # probe reports at construction and fit turns into DivergenceError.
        inner = numba.njit(SCALAR_SIGNATURE, error_model="numpy")(func)

        def guarded(z):
            try:
                return inner(z)
            except Exception:
                return math.nan
        return numba.cfunc(SCALAR_SIGNATURE, error_model="numpy")(guarded)
    except Exception as exc:
        fname = getattr(func, "__name__", repr(func))
        raise TypeError(
            f"Activation {name!r}: Numba cannot compile {role}={fname} as a scalar "
            f"float64 -> float64 function in nopython mode. Write it with the math "
            f"module and plain arithmetic (no NumPy arrays, no Python objects). "
            f"Numba said: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from exc


def activation_kinds(activations):
    """(hidden, output): the code all hidden layers share (MIXED if they differ) and the output layer's.

    The kernels are compiled for these two kinds as constants
    (:func:`fastbp._numba_options.call_with_literals`), so a fit compiles the
    element-wise loops of its own activations only. A network without hidden
    layers gives LINEAR for ``hidden`` (never used).
    """
    hidden = {act.code for act in activations[:-1]}
    return (hidden.pop() if len(hidden) == 1 else MIXED if hidden else LINEAR,
            activations[-1].code)


def function_addresses(activations):
    """int64 array (L, 2): the addresses of each layer's compiled f and f' (0, 0 for built-ins).

    The kernels call a custom activation through these (:func:`call_scalar_function`);
    the caller keeps the Activation objects, which own the code, alive.
    """
    table = np.zeros((len(activations), 2), dtype=np.int64)
    for l, act in enumerate(activations):
        if act.code == CUSTOM:
            table[l] = (act.f_compiled.address, act.fprime_compiled.address)
    return table


@intrinsic
def call_scalar_function(typingctx, address, z):
    """f(z) for the compiled C function ``double f(double)`` at ``address`` (jitted code only)."""
    def codegen(context, builder, signature, args):
        double = llvm_ir.DoubleType()
        function = builder.inttoptr(args[0], llvm_ir.FunctionType(double, [double]).as_pointer())
        return builder.call(function, [args[1]])
    return types.float64(types.int64, types.float64), codegen


# ------------------------------------------------- the compiled f and f', by code
@jit_inline
def activate_row(Z, b, A, i, code, f):
    """Row i: Z[i] <- Z[i] + b, A[i] <- f(Z[i]), the forward pass's element-wise step.

    ``code`` names a built-in f; for CUSTOM, ``f`` is the address of its
    compiled code (:func:`function_addresses`), else unused.
    """
    cols = Z.shape[1]
    if code == SOFTMAX:
        zmax = -np.inf
        for j in range(cols):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            if z > zmax:
                zmax = z
        total = 0.0
        for j in range(cols):
            e = vexp(Z[i, j] - zmax)
            A[i, j] = e
            total += e
        for j in range(cols):
            A[i, j] = A[i, j] / total
    elif code == SIGMOID:
        for j in range(cols):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            A[i, j] = vsigmoid(z)
    elif code == TANH:
        for j in range(cols):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            A[i, j] = vtanh(z)
    elif code == RELU:
        for j in range(cols):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            A[i, j] = z if z > 0.0 else 0.0
    elif code == CUSTOM:
        for j in range(cols):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            A[i, j] = call_scalar_function(f, np.float64(z))
    else:  # LINEAR
        for j in range(cols):
            z = Z[i, j] + b[j]
            Z[i, j] = z
            A[i, j] = z


@jit_inline
def fprime_row(D, Z, A, i, code, fprime):
    """Row i: D[i] <- D[i] (.) f'(Z[i]), the Hadamard product of BP1 and BP2.

    Sigmoid and tanh derivatives are taken from A = f(Z), which holds the same
    values and saves the exponential. For CUSTOM, ``fprime`` is the address
    of the compiled f' (:func:`function_addresses`).
    """
    cols = D.shape[1]
    if code == SIGMOID:
        for j in range(cols):
            a = A[i, j]
            D[i, j] = D[i, j] * (a * (1.0 - a))
    elif code == TANH:
        for j in range(cols):
            a = A[i, j]
            D[i, j] = D[i, j] * (1.0 - a * a)
    elif code == RELU:
        for j in range(cols):
            if not Z[i, j] > 0.0:
                D[i, j] = 0.0
    elif code == CUSTOM:
        for j in range(cols):
            D[i, j] = D[i, j] * call_scalar_function(fprime, np.float64(Z[i, j]))
    # LINEAR: f' = 1, nothing to do. SOFTMAX never reaches here (see output_delta).


@jit
def add_bias_and_activate(Z, b, A, code, f):
    """Z <- Z + b (row-wise), A <- f(Z)."""
    for i in range(Z.shape[0]):
        activate_row(Z, b, A, i, code, f)


@jit
def multiply_by_fprime(D, Z, A, code, fprime):
    """D <- D (.) f'(Z), BP1/BP2's Hadamard product."""
    if code == LINEAR:
        return
    for i in range(D.shape[0]):
        fprime_row(D, Z, A, i, code, fprime)



def literal_code(kind):
    """The value of a code's Numba type when it is a literal (known when compiling), else None."""
    return kind.literal_value if isinstance(kind, types.IntegerLiteral) else None


def activate_layer(Z, b, A, kind, codes, functions, l):
    """:func:`add_bias_and_activate` for layer l, whose activation is ``kind`` (MIXED: codes[l]); jitted code only.

    A literal ``kind`` compiles the loop of that activation only (its
    :func:`activate_row` branch, as a constant); otherwise the kernel of
    every activation, which reads the code at run time.
    """


def multiply_by_layer_fprime(D, Z, A, kind, codes, functions, l):
    """:func:`multiply_by_fprime` for layer l, whose activation is ``kind`` (MIXED: codes[l]); jitted code only.

    A literal ``kind`` compiles that activation's f' only.
    """


def _layer_overload(row_step, kernel, column):
    """The @overload of activate_layer (f) or multiply_by_layer_fprime (f'), which differ only in these.

    ``row_step`` (activate_row or fprime_row) does one row for a code;
    ``kernel`` (add_bias_and_activate or multiply_by_fprime) every row for a
    run-time code; ``column`` is the address's column in ``functions``.
    """
    def typer(X, Z, A, kind, codes, functions, l):
        code = literal_code(kind)
        if code is not None and code != MIXED:
            def impl(X, Z, A, kind, codes, functions, l):  # the branch of ``code`` only
                address = functions[l, column]
                for i in range(X.shape[0]):
                    row_step(X, Z, A, i, code, address)
        else:
            def impl(X, Z, A, kind, codes, functions, l):
                kernel(X, Z, A, codes[l] if kind == MIXED else kind, functions[l, column])
        return impl
    return typer


overload(activate_layer, prefer_literal=True, jit_options=OVERLOAD_JIT_OPTIONS)(
    _layer_overload(activate_row, add_bias_and_activate, 0))
overload(multiply_by_layer_fprime, prefer_literal=True, jit_options=OVERLOAD_JIT_OPTIONS)(
    _layer_overload(fprime_row, multiply_by_fprime, 1))
