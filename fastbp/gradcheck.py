"""Central-difference check of backpropagation's gradients."""
import numpy as np

from .validation import check_float, check_int, check_nonempty, check_seed

#: Unit roundoff of each dtype (half the machine epsilon).
_ROUNDOFF = {np.dtype(np.float64): 2.0 ** -53, np.dtype(np.float32): 2.0 ** -24}


def gradcheck(net, X, Y, eps=None, max_parameters=None, seed=0):
    """Worst layer-wise relative error between ``net.gradients`` and central differences.

    For each checked parameter p, the numeric derivative is
    ``(C(p + eps) - C(p - eps)) / (2 eps)``, with C the mean cost over the rows
    (no regularisation). The parameters are grouped by layer (the weights and
    biases of layer l together), and for each layer, with g the analytic and
    n the numeric derivatives of its checked parameters, the error is the
    norm-wise relative difference::

        ||g - n|| / max(||g|| + ||n||, floor)

    (Euclidean norms). The result is the largest over the layers: 0 when the
    derivatives agree, 1 when they are unrelated (or opposite). Unlike an
    element-wise relative error, it is not thrown off by the many gradients
    that are tiny or exactly zero (pixels that are always 0, saturated
    units): their rounding noise counts in proportion to the layer's gradient
    as a whole. ``floor`` is 100 times the rounding noise expected in the
    numeric derivatives, ``100 sqrt(k) u max(|C|, 1) / eps`` (k checked
    parameters of the layer, u the dtype's unit roundoff), so that a layer
    whose gradient vanishes altogether is not reported either.

    Parameters
    ----------
    net : fastbp.Network
    X : array_like of shape (n, sizes[0])
    Y : array_like of shape (n, sizes[-1]), or integer labels of shape (n,)
    eps : float, optional
        Step; default 1e-6 for float64 networks, 1e-2 for float32 ones.
    max_parameters : int, optional
        Check a random sample of this many parameters instead of all of them.
    seed : int, default=0
        Seeds the sample.

    Returns
    -------
    float
        The largest layer-wise relative error. What to expect, measured on
        scikit-learn's digits (X / 16, 300 rows, 400 sampled parameters of
        fresh [64, 30, 10] networks, sigmoid, tanh, softplus and ReLU hidden
        units, each with the quadratic, cross-entropy and log-likelihood costs):

        - float64 (eps = 1e-6), right gradients: 6e-9 to 1.6e-7. Treat
          anything below 1e-6 as a pass.
        - float32 (eps = 1e-2), right gradients: 3e-6 to 3e-5 for smooth
          activations (the truncation error of the central difference,
          eps^2 |C'''| / 6, and float32 rounding of C); below 1e-3 is a pass.
          ReLU: 2e-3 to 7e-3, where a step of 1e-2 moves some z across the
          kink at 0; pass a smaller eps (1e-3) or inputs away from the kink.
        - a derivative 2% off (an activation's fprime 1.02 times the true
          one): 9.9e-3 (0.02 / 2.02) when the output layer's derivative is
          right, 2e-2 when every layer's is off, in both dtypes. Gross errors
          (a layer's gradient doubled, the wrong sign) give 0.3 to 1.
    """
    from .model import Network
    if not isinstance(net, Network):
        raise TypeError(f"net: expected a fastbp.Network, found {type(net).__name__}")
    X, _ = net._inputs(X, allow_single=False)
    check_nonempty(X.shape[0])
    Y = net._targets(Y, X.shape[0])
    if eps is None:
        eps = 1e-6 if net.dtype == np.float64 else 1e-2
    eps = check_float(eps, "eps", minimum=0.0, strict_min=True)
    nabla_b, nabla_w = net.gradients(X, Y)
    analytic = np.empty(net.n_parameters)
    layer_of = np.empty(net.n_parameters, dtype=np.int64)
    L = len(net.sizes) - 1
    for l in range(L):
        n_in, n_out, w0, b0, _ = net._layout[l]
        analytic[w0:b0] = nabla_w[l].ravel()
        analytic[b0:b0 + n_out] = nabla_b[l]
        layer_of[w0:b0 + n_out] = l
    indices = np.arange(net.n_parameters)
    if max_parameters is not None:
        k = check_int(max_parameters, "max_parameters", minimum=1)
        if k < indices.size:
            indices = np.sort(check_seed(seed).choice(indices, k, replace=False))
    theta = net._theta
    n = X.shape[0]
    cost = abs(float(net._forward(X, Y)[1])) / n
    numeric = np.empty(indices.size)
    for i, p in enumerate(indices):
        saved = theta[p]
        theta[p] = saved + eps
        plus = net._forward(X, Y)[1] / n
        theta[p] = saved - eps
        minus = net._forward(X, Y)[1] / n
        theta[p] = saved
        numeric[i] = (plus - minus) / (2 * eps)
    u = _ROUNDOFF.get(np.dtype(net.dtype), 2.0 ** -53)
    worst = 0.0
    for l in range(L):
        mask = layer_of[indices] == l
        k = int(np.count_nonzero(mask))
        if k == 0:
            continue
        g, num = analytic[indices[mask]], numeric[mask]
        floor = 100.0 * np.sqrt(k) * u * max(cost, 1.0) / eps
        denom = max(float(np.linalg.norm(g) + np.linalg.norm(num)), floor)
        worst = max(worst, float(np.linalg.norm(g - num)) / denom)
    return float(worst)
