"""Pictures of a run: learning curves and confusion matrices (matplotlib, optional).

matplotlib is imported inside each function, so ``import fastbp.plotting``
costs nothing and works without it; a call without matplotlib raises
ImportError. The figures are drawn with the Agg canvas (no pyplot, no
display, no global state).
"""
import os

import numpy as np


def _figure(size):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_learning_curves(history, path, title=""):
    """Write a PNG of cost and test accuracy per epoch.

    Parameters
    ----------
    history : dict
        Lists "epoch", "train_cost", and optionally "eval_cost", "eval_accuracy".
    path : str or os.PathLike
    title : str
    """
    fig = _figure((9.0, 3.6))
    ax_cost, ax_acc = fig.subplots(1, 2)
    epochs = history["epoch"]
    ax_cost.plot(epochs, history["train_cost"], "o-", ms=3, label="training (mean over epoch)")
    if history.get("eval_cost"):
        ax_cost.plot(epochs, history["eval_cost"], "s-", ms=3, label="test (after epoch)")
    ax_cost.set_xlabel("epoch")
    ax_cost.set_ylabel("cost")
    ax_cost.set_title("cost")
    ax_cost.legend()
    ax_cost.grid(alpha=0.3)
    if history.get("eval_accuracy"):
        acc = [100 * a for a in history["eval_accuracy"]]
        ax_acc.plot(epochs, acc, "o-", ms=3, color="C2")
        best = int(np.argmax(acc))
        ax_acc.plot([epochs[best]], [acc[best]], "*", ms=9, color="C3")
        ax_acc.annotate(f"best {acc[best]:.2f}% (epoch {epochs[best]})",
                        (epochs[best], acc[best]), textcoords="offset points", xytext=(0, 7),
                        ha="center", va="bottom", fontsize=8)
        ax_acc.margins(y=0.12)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("test accuracy (%)")
    ax_acc.set_title("test accuracy")
    ax_acc.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.savefig(os.fspath(path), dpi=110)


def plot_confusion_matrix(matrix, path, labels=None, title=""):
    """Write a PNG of a confusion matrix: rows true classes, columns predicted ones.

    Each cell shows its count; the colour is the fraction of its row (so the
    diagonal reads as per-class accuracy whatever the class sizes).

    Parameters
    ----------
    matrix : array_like of shape (k, k), integer counts
    path : str or os.PathLike
    labels : sequence of k str, optional
        Class names (default: 0 .. k-1).
    title : str
    """
    matrix = np.asarray(matrix)
    k = matrix.shape[0]
    labels = [str(i) for i in range(k)] if labels is None else [str(s) for s in labels]
    rows = matrix.sum(axis=1, keepdims=True)
    fraction = np.divide(matrix, rows, out=np.zeros(matrix.shape, dtype=float), where=rows > 0)
    side = max(4.0, 0.55 * k + 2.5)
    fig = _figure((side + 1.0, side))
    ax = fig.subplots()
    image = ax.imshow(fraction, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, label="fraction of the true class", shrink=0.8)
    ax.set_xticks(range(k), labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), labels, fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fontsize = 8 if k <= 12 else 6
    for i in range(k):
        for j in range(k):
            if matrix[i, j]:
                ax.text(j, i, str(int(matrix[i, j])), ha="center", va="center",
                        fontsize=fontsize,
                        color="white" if fraction[i, j] > 0.5 else "black")
    if title:
        ax.set_title(title, fontsize=10)
    fig.savefig(os.fspath(path), dpi=110)
