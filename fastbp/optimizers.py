"""Optimizers: the update rules (SGD with momentum, Nesterov and LARS; Adam) and their state.

The compiled update reads its scalars from two small arrays: ``hyper``
(float64, slots H_*) and ``options`` (int64, slots O_*). Only this module
writes them: a front end builds an :class:`SGD` or :class:`Adam` spec and a
:class:`Regularization`, and :class:`OptimizerState` turns them into the
arrays and the state vectors (momentum velocity; Adam's moments) the
kernels read.
"""
import math
from dataclasses import dataclass

import numpy as np

from ._numba_options import jit, jit_inline, jit_reduction
from .blas import as_type_of, zero_of
from .fast_math import select

# Regularisation kinds (options[O_REG_KIND]).
REG_NONE = 0
REG_L2 = 1
REG_L1 = 2

# Slots of the float64 ``hyper`` array read by the update.
H_REG = 0          # regularisation coefficient per step: lmbda / n (network2.py)
H_MOMENTUM = 1     # mu; 0 for plain SGD
H_BETA1 = 2        # Adam
H_BETA2 = 3
H_EPSILON = 4
H_STEP = 5         # Adam's step count t, advanced by the kernel
H_TRUST = 6        # LARS trust coefficient; 0 turns LARS off
H_WEIGHT_SQ_SUM = 7  # with O_REG_PER_BATCH: sum over steps of ||W||^2 before the step (loss reports)
N_HYPER = 8

# Slots of the int64 ``options`` array.
O_OPTIMIZER = 0    # OPT_SGD or OPT_ADAM
O_REG_KIND = 1     # REG_NONE, REG_L2 or REG_L1
O_NESTEROV = 2     # 1 for Nesterov momentum
O_REG_PER_BATCH = 3  # 1: the coefficient is divided by the mini-batch's size m (scikit-learn's alpha)
N_OPTIONS = 4

OPT_SGD = 0
OPT_ADAM = 1


@jit_reduction
def squared_norm(x):
    """sum(x**2), accumulated in float64."""
    total = 0.0
    for v in x:
        total += np.float64(v) * np.float64(v)
    return total


@jit_reduction
def finiteness_check(x):
    """A sum that is 0 iff every value of x is finite (x - x is NaN for inf and NaN)."""
    check = 0.0
    for v in x:
        check += v - v
    return check


@jit_reduction
def regularised_gradient_norm(w, g, inv_m, l2, l1):
    """||g * inv_m + l2 w + l1 sign(w)||, the step direction LARS scales by."""
    total = 0.0
    for p in range(w.shape[0]):
        x = w[p]
        d = g[p] * inv_m + l2 * x + l1 * ((x > 0.0) - (x < 0.0))
        total += d * d
    return math.sqrt(total)


@jit_inline
def step_rule(hyper, options, inv_m, eta):
    """The scalars of one step's update, read from hyper/options; advances Adam's step count.

    Returns the tuple (inv_m, eta, l2, l1, momentum, nesterov, adam, beta1,
    beta2, epsilon, adam_lr) that :func:`update_block` reads.
    """
    adam = options[O_OPTIMIZER] == OPT_ADAM
    nesterov = options[O_NESTEROV] == 1
    reg = hyper[H_REG] * (inv_m if options[O_REG_PER_BATCH] == 1 else 1.0)
    l2 = reg if options[O_REG_KIND] == REG_L2 else 0.0
    l1 = reg if options[O_REG_KIND] == REG_L1 else 0.0
    beta1 = hyper[H_BETA1]
    beta2 = hyper[H_BETA2]
    adam_lr = 0.0
    if adam:
        hyper[H_STEP] += 1.0
        t = hyper[H_STEP]
        adam_lr = eta * math.sqrt(1.0 - beta2 ** t) / (1.0 - beta1 ** t)
    return (inv_m, eta, l2, l1, hyper[H_MOMENTUM], nesterov, adam, beta1, beta2,
            hyper[H_EPSILON], adam_lr)


@jit_inline
def sign_of(x, zero, one):
    """sgn(x) in x's dtype, as selects (no integer conversion, which AVX2 cannot vectorise)."""
    return select(x > zero, one, select(x < zero, -one, zero))


@jit_reduction
def update_block(w, g, v1, v2, eta, l2, l1, rule):
    """One block (rows of a layer's W, or its b) of the step, in place; returns a sum that is 0 iff all new values are finite.

    g_eff = g * inv_m + l2 w + l1 sign(w). SGD: w' = w - eta g_eff; momentum:
    v <- mu v - eta g_eff, w' = w + v (Nesterov: w' = w + mu v - eta g_eff);
    Adam (scikit-learn's form): m <- b1 m + (1-b1) g_eff, s <- b2 s + (1-b2) g_eff^2,
    w' = w - adam_lr m / (sqrt(s) + epsilon). In place: a separate output
    array that may alias w would cost LLVM's vectorisation of these loops.
    SGD and momentum compute in w's dtype (float32 networks in float32);
    Adam in float64, whose second moment g^2 can underflow float32.
    """
    inv_m, _, _, _, momentum, nesterov, adam, beta1, beta2, epsilon, adam_lr = rule
    zero = zero_of(w)
    one = as_type_of(w, 1.0)
    check = zero
    n = w.shape[0]
    if adam:
        for p in range(n):
            x = w[p]
            d = g[p] * inv_m + l2 * x + l1 * sign_of(x, zero, one)
            m1 = beta1 * v1[p] + (1.0 - beta1) * d
            m2 = beta2 * v2[p] + (1.0 - beta2) * d * d
            v1[p] = m1
            v2[p] = m2
            w[p] = x - adam_lr * m1 / (math.sqrt(m2) + epsilon)
            check += w[p] - w[p]
        return check
    c_inv_m = as_type_of(w, inv_m)
    c_eta = as_type_of(w, eta)
    c_l2 = as_type_of(w, l2)
    c_l1 = as_type_of(w, l1)
    mu = as_type_of(w, momentum)
    if momentum == 0.0:
        for p in range(n):
            x = w[p]
            y = x - c_eta * (g[p] * c_inv_m + c_l2 * x + c_l1 * sign_of(x, zero, one))
            w[p] = y
            check += y - y
    elif nesterov:
        for p in range(n):
            x = w[p]
            d = g[p] * c_inv_m + c_l2 * x + c_l1 * sign_of(x, zero, one)
            vel = mu * v1[p] - c_eta * d
            v1[p] = vel
            y = x + mu * vel - c_eta * d
            w[p] = y
            check += y - y
    else:
        for p in range(n):
            x = w[p]
            d = g[p] * c_inv_m + c_l2 * x + c_l1 * sign_of(x, zero, one)
            vel = mu * v1[p] - c_eta * d
            v1[p] = vel
            y = x + vel
            w[p] = y
            check += y - y
    return check


@jit
def state_slice(v, lo, hi):
    """v[lo:hi], or v itself when the optimiser keeps no such state (v empty).

    Compiled once (LLVM inlines it): inlined in Numba's IR at its eight call
    sites in a step, it made 330 instructions to type and lower.
    """
    return v[lo:hi] if v.shape[0] > 0 else v


@jit_inline
def uses_lars(hyper, rule):
    """LARS is on (a trust coefficient > 0) and applies (SGD, not Adam)."""
    return hyper[H_TRUST] > 0.0 and not rule[6]


@jit_inline
def record_weight_norm(l, theta, layout, hyper, options):
    """With O_REG_PER_BATCH, add ||W^l||^2 before the step to hyper[H_WEIGHT_SQ_SUM] (scikit-learn's loss report)."""
    if options[O_REG_PER_BATCH] == 1:
        hyper[H_WEIGHT_SQ_SUM] += squared_norm(theta[layout[l, 2]:layout[l, 3]])


@jit_inline
def update_biases(l, theta, G, v1, v2, layout, rule):
    """The step of layer l's biases (never regularised) from their gradient sums in G."""
    b0 = layout[l, 3]
    b1 = b0 + layout[l, 1]
    return update_block(theta[b0:b1], G[b0:b1], state_slice(v1, b0, b1),
                        state_slice(v2, b0, b1), rule[1], 0.0, 0.0, rule)


@jit_inline
def weight_step_size(theta, G, lo, hi, hyper, rule):
    """eta for a layer's weights: with LARS, eta * trust * ||W|| / ||g_eff|| (You et al. 2017; SGD only)."""
    inv_m, eta, l2, l1 = rule[0], rule[1], rule[2], rule[3]
    trust = hyper[H_TRUST]
    if uses_lars(hyper, rule):
        w_norm = math.sqrt(squared_norm(theta[lo:hi]))
        g_norm = regularised_gradient_norm(theta[lo:hi], G[lo:hi], inv_m, l2, l1)
        if w_norm > 0.0 and g_norm > 0.0:
            return eta * trust * w_norm / g_norm
    return eta


@jit_inline
def update_layer(l, theta, G, v1, v2, layout, rule, hyper, options):
    """Layer l's step from its gradient sums in G, in place (weights, then the unregularised biases)."""
    w0 = layout[l, 2]
    b0 = layout[l, 3]
    record_weight_norm(l, theta, layout, hyper, options)
    eta_w = weight_step_size(theta, G, w0, b0, hyper, rule)
    check = update_block(theta[w0:b0], G[w0:b0], state_slice(v1, w0, b0),
                         state_slice(v2, w0, b0), eta_w, rule[2], rule[3], rule)
    return check + update_biases(l, theta, G, v1, v2, layout, rule)


@jit_inline
def apply_update(theta, G, v1, v2, layout, inv_m, eta, hyper, options):
    """One optimisation step of theta, in place, layer by layer.

    Biases are never regularised. With LARS (hyper[H_TRUST] > 0) each layer's
    weights use eta * trust * ||W|| / ||g_eff|| (You et al. 2017; SGD only).
    v1, v2 have theta's layout (momentum velocity; Adam's moments); they may
    be empty when the optimiser does not use them. Returns False if any new
    value is not finite (theta then holds a partly applied step).
    """
    rule = step_rule(hyper, options, inv_m, eta)
    check = 0.0
    for l in range(layout.shape[0]):
        check += update_layer(l, theta, G, v1, v2, layout, rule, hyper, options)
    return check == 0.0


# ---------------------------------------------------------------- specs and state
@dataclass(frozen=True)
class SGD:
    """Stochastic gradient descent; with ``momentum`` mu > 0 heavy-ball (or Nesterov) momentum.

    lars > 0 scales each layer's weight step by lars * ||W|| / ||g_eff||
    (LARS, You et al. 2017).
    """
    momentum: float = 0.0
    nesterov: bool = False
    lars: float = 0.0
    name = "sgd"

    def write(self, hyper, options):
        """Write this rule's slots of the kernels' ``hyper`` and ``options``."""
        options[O_OPTIMIZER] = OPT_SGD
        options[O_NESTEROV] = int(bool(self.nesterov))
        hyper[H_MOMENTUM] = self.momentum
        hyper[H_TRUST] = self.lars

    @property
    def uses_lars(self):
        """The kernels scale the weight steps by LARS (see :func:`uses_lars`, their side of it)."""
        return self.lars > 0.0

    def state_sizes(self, n_parameters):
        """Lengths of the two state vectors (v1: velocity; v2: unused)."""
        return n_parameters, 0


@dataclass(frozen=True)
class Adam:
    """Adam (Kingma and Ba 2015) in scikit-learn's form; the bias corrections scale eta per step."""
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8
    name = "adam"

    def write(self, hyper, options):
        options[O_OPTIMIZER] = OPT_ADAM
        options[O_NESTEROV] = 0
        hyper[H_MOMENTUM] = 0.0
        hyper[H_TRUST] = 0.0
        hyper[H_BETA1] = self.beta1
        hyper[H_BETA2] = self.beta2
        hyper[H_EPSILON] = self.epsilon

    uses_lars = False  # LARS is for SGD only

    def state_sizes(self, n_parameters):
        """Lengths of the two state vectors (first and second moments)."""
        return n_parameters, n_parameters


#: The optimizers by the name fit's ``optimizer`` takes.
OPTIMIZER_NAMES = (SGD.name, Adam.name)


def optimizer_spec(name, momentum=0.0, nesterov=False, lars=0.0, beta1=0.9, beta2=0.999,
                   epsilon=1e-8):
    """The spec that ``name`` ("sgd" or "adam") and the fit options make (Adam ignores momentum and LARS)."""
    if name == "adam":
        return Adam(beta1, beta2, epsilon)
    return SGD(momentum, bool(nesterov), lars)


#: Regularisation kinds by name.
REGULARIZATIONS = {"l2": REG_L2, "l1": REG_L1}


@dataclass(frozen=True)
class Regularization:
    """The weight penalty of each step: ``coefficient`` W (L2) or ``coefficient`` sign(W) (L1).

    coefficient is per step: lmbda / n for network2.py's form; with
    ``per_batch`` it is divided by the mini-batch's size m as well
    (scikit-learn's alpha). Biases are never regularised.
    """
    kind: str = "l2"
    coefficient: float = 0.0
    per_batch: bool = False

    def write(self, hyper, options):
        on = self.coefficient > 0.0
        options[O_REG_KIND] = REGULARIZATIONS[self.kind] if on else REG_NONE
        options[O_REG_PER_BATCH] = int(bool(self.per_batch))
        hyper[H_REG] = self.coefficient


class OptimizerState:
    """What an optimizer keeps between steps: its state vectors and the kernels' scalar slots.

    Parameters
    ----------
    spec : SGD or Adam
    theta : ndarray of shape (P,)
        The parameters the state belongs to (for its length and dtype).

    Attributes
    ----------
    v1, v2 : ndarray of theta's dtype
        Momentum velocity; Adam's first and second moments (length 0 when unused).
    hyper : ndarray of float64, shape (N_HYPER,)
    options : ndarray of int64, shape (N_OPTIONS,)
    """

    def __init__(self, spec, theta):
        self.spec = spec
        n1, n2 = spec.state_sizes(theta.shape[0])
        self.v1 = np.zeros(n1, theta.dtype)
        self.v2 = np.zeros(n2, theta.dtype)
        self.hyper = np.zeros(N_HYPER, dtype=np.float64)
        self.options = np.zeros(N_OPTIONS, dtype=np.int64)
        spec.write(self.hyper, self.options)

    def use(self, spec, regularization):
        """Step with ``spec``'s scalars (same optimizer kind) and ``regularization`` from now on."""
        if spec.name != self.spec.name:
            raise ValueError(f"optimizer state of {self.spec.name!r} cannot serve {spec.name!r}")
        self.spec = spec
        spec.write(self.hyper, self.options)
        regularization.write(self.hyper, self.options)

    @property
    def step(self):
        """Adam's step count t (advanced by the kernels)."""
        return float(self.hyper[H_STEP])

    @step.setter
    def step(self, value):
        self.hyper[H_STEP] = value

    def take_weight_square_sum(self):
        """The sum over the steps since the last call of ||W||^2 before each step (per-batch regularisation only); resets it."""
        total = float(self.hyper[H_WEIGHT_SQ_SUM])
        self.hyper[H_WEIGHT_SQ_SUM] = 0.0
        return total
