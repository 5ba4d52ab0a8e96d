"""Learning-rate schedules: one learning rate per mini-batch, computed before each epoch.

The kernel reads ``batch_etas[k]`` for mini-batch k, so any schedule is exact
per step at no cost inside the compiled loop. Time is measured in epochs,
fractional within an epoch: mini-batch k of epoch e (0-based) is at
t = e + k / n_batches.
"""
import math

import numpy as np

SCHEDULES = ("constant", "step", "cosine")


def linear_scaling(eta, batch_size, base_batch_size):
    """The linear scaling rule of Goyal et al. 2017: eta * batch_size / base_batch_size."""
    if base_batch_size is None:
        return eta
    return eta * batch_size / base_batch_size


def epoch_learning_rates(eta, epoch, n_batches, epochs, schedule="constant", warmup_epochs=0.0,
                         decay_epochs=None, decay_factor=0.1):
    """Learning rates for the mini-batches of one epoch.

    Parameters
    ----------
    eta : float
        Peak learning rate (after any linear scaling).
    epoch : int
        0-based epoch.
    n_batches : int
        Mini-batches in the epoch.
    epochs : int
        Epochs in the whole run (the cosine schedule reaches 0 at its end).
    schedule : {"constant", "step", "cosine"}
        "step": multiply by ``decay_factor`` every ``decay_epochs`` epochs.
        "cosine": eta * (1 + cos(pi * s)) / 2, s running from 0 at the end of
        warmup to 1 at the end of the run.
    warmup_epochs : float
        Linear warmup: over the first ``warmup_epochs`` epochs the rate grows
        linearly, step by step, from eta / warmup_steps to eta.
    decay_epochs : int, optional
        Period of the "step" schedule (required for it).
    decay_factor : float

    Returns
    -------
    ndarray of shape (n_batches,), float64
    """
    k = np.arange(n_batches, dtype=np.float64)
    t = epoch + k / n_batches
    if schedule == "constant":
        factor = np.ones(n_batches)
    elif schedule == "step":
        factor = np.full(n_batches, decay_factor ** (epoch // decay_epochs))
    elif schedule == "cosine":
        span = max(epochs - warmup_epochs, 1e-12)
        s = np.clip((t - warmup_epochs) / span, 0.0, 1.0)
        factor = 0.5 * (1.0 + np.cos(math.pi * s))
    else:
        raise ValueError(f"lr_schedule: expected one of {SCHEDULES}, found {schedule!r}")
    if warmup_epochs > 0:
        warmup_steps = max(1, int(round(warmup_epochs * n_batches)))
        step = epoch * n_batches + k
        ramp = np.minimum(1.0, (step + 1) / warmup_steps)
        factor = np.where(step < warmup_steps, ramp, factor)
    return eta * factor
