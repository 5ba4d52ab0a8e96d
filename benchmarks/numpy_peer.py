"""The configurations of issue 4 and the NumPy matrix form of one epoch: NumPy only.

One home for the yardstick that both instruments use:

- ``compare_peers.py`` (the plain script) times it in its own subprocess
  beside fastbp, PyTorch, JAX and scikit-learn;
- the asv suite (``bench_ratio.py``) times it in the same process as fastbp,
  epoch for epoch, and tracks fastbp's speedup over it.

This module imports nothing but NumPy (no fastbp, no Unix-only ``resource``),
so the asv suite stays importable wherever NumPy is.
"""
import numpy as np

#: Issue 4's configurations (the dtype is compare_peers' choice; the asv suite runs both).
CONFIGS = {
    "S": dict(sizes=(784, 30, 10), batch_size=10, eta=3.0, cost="quadratic", dtype="float64"),
    "M": dict(sizes=(784, 100, 10), batch_size=10, eta=0.5, cost="cross_entropy",
              dtype="float64"),
    "L": dict(sizes=(784, 1024, 1024, 10), batch_size=1024, eta=0.1, cost="cross_entropy",
              dtype="float32"),
}


def _sigmoid_inplace(Z):
    np.negative(Z, out=Z)
    np.exp(Z, out=Z)
    Z += 1.0
    np.reciprocal(Z, out=Z)


class NumpyMatrixForm:
    """Mini-batch SGD in the fully-matrix form: one matrix product per layer and pass.

    For a mini-batch of m rows (rows are examples)::

        forward   Z^l = A^{l-1} W^T + b,  A^l = sigmoid(Z^l)
        BP1       D^L = A^L - Y                   (cross-entropy)
                  D^L = (A^L - Y) * A^L (1 - A^L)   (quadratic)
        BP2       D^l = (D^{l+1} W^{l+1}) * A^l (1 - A^l)
        BP4, BP3  W^l -= eta/m D^l^T A^{l-1},  b^l -= eta/m sum_rows D^l

    fastbp's update (network2.py's): ``W <- W - eta/m * sum of per-example
    gradients``, the cost summed over the outputs, sigmoid everywhere.

    Parameters
    ----------
    X : ndarray of shape (n, sizes[0]), dtype float32 or float64
        Training inputs; read, never written.
    Y : ndarray of shape (n, sizes[-1]), X's dtype
        One-hot targets; read, never written.
    W : list of ndarray, W[l] of shape (sizes[l+1], sizes[l])
    b : list of ndarray, b[l] of shape (sizes[l+1],)
        Initial parameters; copied, in X's dtype.
    batch_size : int
    eta : float
    cost : str, "quadratic" or "cross_entropy"
    """

    def __init__(self, X, Y, W, b, batch_size, eta, cost):
        if cost not in ("quadratic", "cross_entropy"):
            raise ValueError(f"cost: expected 'quadratic' or 'cross_entropy', got {cost!r}")
        self.X, self.Y = X, Y
        self.dtype = np.dtype(X.dtype)
        self.W = [np.array(w, dtype=self.dtype) for w in W]
        self.b = [np.array(v, dtype=self.dtype) for v in b]
        self.batch_size = int(batch_size)
        self.eta = float(eta)
        self.cost = cost

    def epoch(self, order):
        """One epoch over the rows ``order`` (int array), mini-batch k = order[k*bs:(k+1)*bs]."""
        X, Y, W, b = self.X, self.Y, self.W, self.b
        n, bs, L = order.shape[0], self.batch_size, len(W)
        quadratic = self.cost == "quadratic"
        with np.errstate(over="ignore"):  # exp(-z) may overflow to inf: sigmoid is then 0
            for start in range(0, n, bs):
                idx = order[start:start + bs]
                scale = self.dtype.type(self.eta / idx.shape[0])
                A = [X[idx]]
                for l in range(L):
                    Z = A[-1] @ W[l].T
                    Z += b[l]
                    _sigmoid_inplace(Z)
                    A.append(Z)
                D = A[L] - Y[idx]
                if quadratic:
                    D *= A[L] * (1.0 - A[L])
                for l in range(L - 1, -1, -1):
                    gW = D.T @ A[l]
                    gb = D.sum(axis=0)
                    if l > 0:  # propagate with the weights before their update
                        D_prev = D @ W[l]
                        D_prev *= A[l] * (1.0 - A[l])
                    gW *= scale
                    W[l] -= gW
                    gb *= scale
                    b[l] -= gb
                    if l > 0:
                        D = D_prev

    def predict(self, X):
        """Index of the largest output for each row of X."""
        A = X
        with np.errstate(over="ignore"):
            for W, b in zip(self.W, self.b):
                A = A @ W.T + b
                _sigmoid_inplace(A)
        return np.argmax(A, axis=1)

    def parameters(self):
        """(weights, biases), the lists this object updates."""
        return self.W, self.b
