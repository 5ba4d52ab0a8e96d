"""A slow, readable NumPy reference of backpropagation, one example at a time.

This is the algorithm of chapter 2 of Nielsen's *Neural Networks and Deep
Learning* (``network.py`` / ``network2.py``), in the book's column-vector
notation, generalised exactly as ``docs/BACKPROP.md`` states:

- one activation per layer: sigmoid, tanh, relu, linear, a user (f, f') pair,
  and softmax for the output layer with the log-likelihood cost;
- three costs: quadratic, cross-entropy (sigmoid output) and log-likelihood
  (softmax output);
- network2.py's update with L2 or L1 regularisation, and momentum.

Per example, for layers l = 1..L with input a^0 = x::

    z^l = W^l a^{l-1} + b^l,   a^l = f_l(z^l)                       (forward pass)
    BP1  delta^L = grad_a C (.) f_L'(z^L)                            (output delta)
    BP2  delta^l = ((W^{l+1})^T delta^{l+1}) (.) f_l'(z^l)          (delta recursion)
    BP3  dC/db^l = delta^l
    BP4  dC/dW^l = delta^l (a^{l-1})^T                               (outer product)

The activation enters only through BP1 and BP2. BP3 and BP4 carry no extra
factor of f' for any f (the seed document's section 3.2 is wrong there):
delta is dC/dz, and z = W a + b does not depend on f.

Everything here is float64, loops over examples and layers in Python, and
favours clarity over speed. It shares no code with fastbp: the tests compare
fastbp's compiled kernels against it.
"""
import numpy as np

# --------------------------------------------------------------------------
# Activations: f and f', element-wise, on column vectors.
# --------------------------------------------------------------------------


def sigmoid(z):
    """sigma(z) = 1 / (1 + e^{-z})."""
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    """sigma'(z) = sigma(z) (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    return np.tanh(z)


def tanh_prime(z):
    """tanh'(z) = 1 - tanh(z)^2."""
    return 1.0 - np.tanh(z) ** 2


def relu(z):
    """max(z, 0)."""
    return np.where(z > 0.0, z, 0.0)


def relu_prime(z):
    """1 where z > 0, else 0 (the derivative at 0 is taken as 0)."""
    return np.where(z > 0.0, 1.0, 0.0)


def linear(z):
    """f(z) = z."""
    return np.array(z, dtype=np.float64, copy=True)


def linear_prime(z):
    """f'(z) = 1."""
    return np.ones_like(z, dtype=np.float64)


def softmax(z):
    """a_j = e^{z_j} / sum_k e^{z_k} over the column (shifted by max z for safety)."""
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


#: name -> (f, f'); softmax has no element-wise derivative (its Jacobian is
#: not diagonal) and is used only at the output with the log-likelihood cost.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
    "relu": (relu, relu_prime),
    "linear": (linear, linear_prime),
    "softmax": (softmax, None),
}

COSTS = ("quadratic", "cross_entropy", "log_likelihood")


def elementwise(scalar_function):
    """Apply a scalar Python function (such as a fastbp.Activation's f) element-wise."""
    vectorised = np.vectorize(lambda v: float(scalar_function(float(v))), otypes=[np.float64])

    def apply(z):
        return vectorised(z)

    return apply


def activation_pair(spec):
    """(f, fprime) acting on arrays, from a name, an (f, fprime) pair or a fastbp.Activation.

    Parameters
    ----------
    spec : str, tuple (f, fprime) of scalar functions, or object with ``.f``/``.fprime``
        Names are those of :data:`ACTIVATIONS`. Scalar functions (one float
        in, one float out) are applied element by element.
    """
    if isinstance(spec, str):
        return ACTIVATIONS[spec]
    if isinstance(spec, tuple):
        f, fprime = spec
    else:
        f, fprime = spec.f, spec.fprime
    return elementwise(f), elementwise(fprime)


# --------------------------------------------------------------------------
# The network.
# --------------------------------------------------------------------------


class ReferenceNetwork:
    """A feed-forward network in Nielsen's notation: column vectors, one example at a time.

    Parameters
    ----------
    weights : list of array_like of shape (n_l, n_{l-1})
        W^l for l = 1..L. Copied to float64.
    biases : list of array_like of shape (n_l,) or (n_l, 1)
        b^l for l = 1..L. Stored as (n_l, 1) columns, as in the book.
    activations : list of L activation specs
        See :func:`activation_pair`; "softmax" only for the last layer.
    cost : {"quadratic", "cross_entropy", "log_likelihood"}

    Attributes
    ----------
    velocity_w, velocity_b : list of ndarray
        Momentum's velocities v, zero at construction (see :meth:`reset_velocity`).
    """

    def __init__(self, weights, biases, activations, cost="quadratic"):
        self.weights = [np.array(W, dtype=np.float64, copy=True) for W in weights]
        self.biases = [np.array(b, dtype=np.float64, copy=True).reshape(-1, 1) for b in biases]
        self.L = len(self.weights)
        if len(self.biases) != self.L or len(activations) != self.L:
            raise ValueError("one weight matrix, bias vector and activation per layer")
        for l in range(1, self.L):
            if self.weights[l].shape[1] != self.weights[l - 1].shape[0]:
                raise ValueError(f"layer {l + 1}: W has {self.weights[l].shape[1]} columns, "
                                 f"the layer below has {self.weights[l - 1].shape[0]} units")
        self.sizes = [self.weights[0].shape[1]] + [W.shape[0] for W in self.weights]
        self.activation_specs = list(activations)
        self.activations = [activation_pair(a) for a in activations]
        self.output_is_softmax = activations[-1] == "softmax"
        if any(a == "softmax" for a in activations[:-1]):
            raise ValueError("softmax is for the output layer only")
        if cost not in COSTS:
            raise ValueError(f"unknown cost {cost!r}")
        if cost == "log_likelihood" and not self.output_is_softmax:
            raise ValueError("log_likelihood needs a softmax output layer")
        if self.output_is_softmax and cost != "log_likelihood":
            raise ValueError("a softmax output layer needs the log_likelihood cost")
        self.cost = cost
        self.reset_velocity()

    @classmethod
    def from_fastbp(cls, net):
        """A reference network with a fastbp.Network's parameters, activations and cost.

        The parameters are copied (as float64, from whatever dtype ``net`` has),
        so later changes to either network do not reach the other.
        """
        from fastbp import Activation  # only to tell custom activations from built-in ones

        specs = [(act.f, act.fprime) if isinstance(act, Activation) else act.name
                 for act in net.activations]
        return cls([W.astype(np.float64) for W in net.weights],
                   [b.astype(np.float64) for b in net.biases], specs, net.cost_function.name)

    def copy(self):
        """An independent copy (parameters and velocities)."""
        other = ReferenceNetwork(self.weights, self.biases, self.activation_specs, self.cost)
        other.velocity_w = [v.copy() for v in self.velocity_w]
        other.velocity_b = [v.copy() for v in self.velocity_b]
        return other

    def reset_velocity(self):
        """Set momentum's velocities to zero, as at the start of a fit."""
        self.velocity_w = [np.zeros_like(W) for W in self.weights]
        self.velocity_b = [np.zeros_like(b) for b in self.biases]

    # ------------------------------------------------------------- forward
    def forward(self, x):
        """The forward pass for one example.

        Parameters
        ----------
        x : ndarray of shape (n_0, 1) or (n_0,)

        Returns
        -------
        zs : list of L ndarrays of shape (n_l, 1)
            z^l = W^l a^{l-1} + b^l.
        activations : list of L + 1 ndarrays of shape (n_l, 1)
            a^0 = x, then a^l = f_l(z^l).
        """
        a = np.asarray(x, dtype=np.float64).reshape(-1, 1)
        zs, activations = [], [a]
        for W, b, (f, _) in zip(self.weights, self.biases, self.activations):
            z = W @ a + b
            a = f(z)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def feedforward(self, x):
        """a^L for one example x of shape (n_0,) or (n_0, 1); returns shape (n_L, 1)."""
        return self.forward(x)[1][-1]

    # --------------------------------------------------------------- costs
    def example_cost(self, a, y):
        """C_x for one example, from its output a = a^L and target y (both (n_L, 1)).

        - quadratic:      C = 1/2 ||a - y||^2
        - cross_entropy:  C = -sum_j [y_j ln a_j + (1 - y_j) ln(1 - a_j)]
        - log_likelihood: C = -sum_j y_j ln a_j   (= -ln a_y for one-hot y)
        """
        y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
        if self.cost == "quadratic":
            return 0.5 * float(np.sum((a - y) ** 2))
        if self.cost == "cross_entropy":
            # network2.py's np.nan_to_num: 0 ln 0 counts as 0.
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = np.nan_to_num(-y * np.log(a) - (1.0 - y) * np.log(1.0 - a))
            return float(np.sum(terms))
        with np.errstate(divide="ignore"):
            return float(-np.sum(np.where(y != 0.0, y * np.log(a), 0.0)))

    def total_cost(self, X, Y, lmbda=0.0):
        """network2.py's total_cost: mean C_x over the rows plus 1/2 (lmbda / n) sum ||W||^2.

        Parameters
        ----------
        X : ndarray of shape (n, n_0)
        Y : ndarray of shape (n, n_L)
        """
        n = len(X)
        mean = sum(self.example_cost(self.feedforward(x), y) for x, y in zip(X, Y)) / n
        return mean + 0.5 * (lmbda / n) * sum(float(np.sum(W ** 2)) for W in self.weights)

    # ----------------------------------------------------- backpropagation
    def output_delta(self, z, a, y):
        """BP1: delta^L = grad_a C (.) f_L'(z^L), or a - y where f' cancels.

        - quadratic: grad_a C = a - y, so delta^L = (a - y) (.) f_L'(z^L).
        - cross_entropy with a sigmoid output: delta^L = a - y.
        - log_likelihood with a softmax output: delta^L = a - y.
        """
        y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
        if self.cost == "quadratic":
            fprime = self.activations[-1][1]
            return (a - y) * fprime(z)
        return a - y

    def backprop_trace(self, x, y):
        """Forward pass, BP1 and BP2 for one example.

        Returns
        -------
        zs : list of L ndarrays of shape (n_l, 1)
        activations : list of L + 1 ndarrays of shape (n_l, 1), a^0 = x first
        deltas : list of L ndarrays of shape (n_l, 1), delta^l = dC_x/dz^l
        """
        zs, activations = self.forward(x)
        deltas = [None] * self.L
        deltas[-1] = self.output_delta(zs[-1], activations[-1], y)  # BP1
        for l in range(self.L - 2, -1, -1):  # BP2, from layer L-1 down to layer 1
            fprime = self.activations[l][1]
            deltas[l] = (self.weights[l + 1].T @ deltas[l + 1]) * fprime(zs[l])
        return zs, activations, deltas

    def backprop(self, x, y):
        """dC_x/db^l and dC_x/dW^l for one example (network.py's ``backprop``).

        Returns
        -------
        nabla_b : list of L ndarrays of shape (n_l, 1)
            BP3: dC/db^l = delta^l.
        nabla_w : list of L ndarrays of shape (n_l, n_{l-1})
            BP4: dC/dW^l = delta^l (a^{l-1})^T, an outer product; no f' factor.
        """
        _, activations, deltas = self.backprop_trace(x, y)
        nabla_b = [delta.copy() for delta in deltas]  # BP3
        nabla_w = [delta @ activations[l].T for l, delta in enumerate(deltas)]  # BP4
        return nabla_b, nabla_w

    def gradient_sums(self, X, Y):
        """Sums over the rows of X, Y of backprop's nabla_b (as (n_l, 1)) and nabla_w."""
        sum_b = [np.zeros_like(b) for b in self.biases]
        sum_w = [np.zeros_like(W) for W in self.weights]
        for x, y in zip(X, Y):
            nabla_b, nabla_w = self.backprop(x, y)
            for l in range(self.L):
                sum_b[l] += nabla_b[l]
                sum_w[l] += nabla_w[l]
        return sum_b, sum_w

    def gradients(self, X, Y):
        """Mean over the rows of dC_x/db and dC_x/dW, in fastbp's shapes.

        Returns
        -------
        nabla_b : list of ndarrays of shape (n_l,)
        nabla_w : list of ndarrays of shape (n_l, n_{l-1})
        """
        sum_b, sum_w = self.gradient_sums(X, Y)
        n = len(X)
        return [b.ravel() / n for b in sum_b], [W / n for W in sum_w]

    # -------------------------------------------------------------- update
    def sgd_step(self, sum_b, sum_w, m, eta, lmbda=0.0, n=1, regularization="l2",
                 momentum=0.0, nesterov=False):
        """One step of network2.py's update from gradient sums over a mini-batch of m examples.

        With g_W = sum_w / m + (lmbda / n) W (L2) or (lmbda / n) sgn(W) (L1),
        and g_b = sum_b / m (biases are not regularised):

        - plain SGD: W <- W - eta g_W, that is for L2
          W <- (1 - eta lmbda / n) W - (eta / m) sum_x dC_x/dW;
        - momentum mu: v <- mu v - eta g, W <- W + v;
        - Nesterov (fastbp's form): v <- mu v - eta g, W <- W + mu v - eta g.
        """
        for l in range(self.L):
            for params, velocity, grad_sum, is_weight in (
                    (self.weights, self.velocity_w, sum_w, True),
                    (self.biases, self.velocity_b, sum_b, False)):
                p = params[l]
                g = np.asarray(grad_sum[l], dtype=np.float64).reshape(p.shape) / m
                if is_weight and lmbda > 0.0:
                    if regularization == "l2":
                        g = g + (lmbda / n) * p
                    elif regularization == "l1":
                        g = g + (lmbda / n) * np.sign(p)
                    else:
                        raise ValueError(regularization)
                if momentum != 0.0:
                    velocity[l] = momentum * velocity[l] - eta * g
                    if nesterov:
                        params[l] = p + momentum * velocity[l] - eta * g
                    else:
                        params[l] = p + velocity[l]
                else:
                    params[l] = p - eta * g

    def update_mini_batch(self, X_batch, Y_batch, eta, lmbda=0.0, n=1, regularization="l2",
                          momentum=0.0, nesterov=False):
        """Backpropagate each example of the mini-batch, sum, and take one :meth:`sgd_step`.

        Returns the sum of C_x over the mini-batch at the parameters before the step.
        """
        cost = sum(self.example_cost(self.feedforward(x), y) for x, y in zip(X_batch, Y_batch))
        sum_b, sum_w = self.gradient_sums(X_batch, Y_batch)
        self.sgd_step(sum_b, sum_w, len(X_batch), eta, lmbda, n, regularization, momentum,
                      nesterov)
        return cost

    def train_epoch(self, X, Y, order, batch_size, eta, lmbda=0.0, regularization="l2",
                    momentum=0.0, nesterov=False):
        """One epoch of mini-batch SGD with the rows taken in the given order.

        Mini-batch k holds rows order[k*batch_size : (k+1)*batch_size]; the
        last one may be shorter, as when network.py slices its shuffled list.
        n, the training-set size in lmbda / n, is len(order).

        Returns
        -------
        float
            The sum of C_x over all examples, each at the parameters before
            its mini-batch's step.
        """
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        n = len(order)
        total = 0.0
        for start in range(0, n, batch_size):
            rows = np.asarray(order[start:start + batch_size])
            total += self.update_mini_batch(X[rows], Y[rows], eta, lmbda, n, regularization,
                                            momentum, nesterov)
        return total

    def parameters(self):
        """All parameters flat, in fastbp's layout: W^1 (row-major), b^1, W^2, b^2, ..."""
        parts = []
        for W, b in zip(self.weights, self.biases):
            parts.append(W.ravel())
            parts.append(b.ravel())
        return np.concatenate(parts)


def one_hot(labels, n_classes):
    """(n, n_classes) float64 array with a 1 at each row's label."""
    labels = np.asarray(labels)
    out = np.zeros((labels.shape[0], n_classes))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out
