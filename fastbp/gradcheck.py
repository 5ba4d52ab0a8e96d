"""Central-difference check of backpropagation's gradients."""
import numpy as np

from .validation import check_float, check_int, check_nonempty, check_seed, check_targets


def gradcheck(net, X, Y, eps=None, max_parameters=None, seed=0):
    """Worst relative error between ``net.gradients`` and central differences of ``net.cost``.

    For each checked parameter p, the numeric derivative is
    (C(p + eps) - C(p - eps)) / (2 eps), with C the mean cost over the rows
    (no regularisation), and the relative error is
    |analytic - numeric| / max(|analytic| + |numeric|, 1e-8).

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
        The largest relative error over the checked parameters. Expect about
        1e-7 or less in float64 for smooth activations.
    """
    from .model import Network
    if not isinstance(net, Network):
        raise TypeError(f"net: expected a fastbp.Network, found {type(net).__name__}")
    X, _ = net._inputs(X, allow_single=False)
    check_nonempty(X.shape[0])
    Y = check_targets(Y, X.shape[0], net.sizes[-1], net.dtype)
    if eps is None:
        eps = 1e-6 if net.dtype == np.float64 else 1e-2
    eps = check_float(eps, "eps", minimum=0.0, strict_min=True)
    nabla_b, nabla_w = net.gradients(X, Y)
    analytic = np.empty(net.n_parameters)
    L = len(net.sizes) - 1
    for l in range(L):
        n_in, n_out, w0, b0, _ = net._layout[l]
        analytic[w0:b0] = nabla_w[l].ravel()
        analytic[b0:b0 + n_out] = nabla_b[l]
    indices = np.arange(net.n_parameters)
    if max_parameters is not None:
        k = check_int(max_parameters, "max_parameters", minimum=1)
        if k < indices.size:
            indices = np.sort(check_seed(seed).choice(indices, k, replace=False))
    theta = net._theta
    n = X.shape[0]
    worst = 0.0
    for p in indices:
        saved = theta[p]
        theta[p] = saved + eps
        plus = net._forward(X, Y)[1] / n
        theta[p] = saved - eps
        minus = net._forward(X, Y)[1] / n
        theta[p] = saved
        numeric = (plus - minus) / (2 * eps)
        err = abs(analytic[p] - numeric) / max(abs(analytic[p]) + abs(numeric), 1e-8)
        worst = max(worst, err)
    return float(worst)
