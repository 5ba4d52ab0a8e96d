"""Exceptions raised by fastbp."""


class DivergenceError(ArithmeticError):
    """Training produced a non-finite cost or parameter.

    The network keeps its last finite parameters and ``history_`` holds the
    epochs completed so far.

    Attributes
    ----------
    epoch : int
        0-based epoch in which the step failed.
    batch : int
        0-based index of the mini-batch within that epoch.
    eta : float
        The learning rate in use.
    """

    def __init__(self, epoch, batch, eta):
        self.epoch = epoch
        self.batch = batch
        self.eta = eta
        super().__init__(
            f"training diverged in epoch {epoch + 1}, mini-batch {batch + 1}: the cost or a "
            f"parameter became NaN or infinite at eta={eta}. The network keeps its last finite "
            f"parameters. Try a smaller eta (e.g. {eta / 10:g}).")


class NotLearningWarning(UserWarning):
    """Training runs but the network learns nothing (see :mod:`fastbp.diagnostics`).

    ``Network.fit`` warns at most once per fit, from the third epoch on (or
    after the last epoch of a shorter fit), when at least two of these are
    seen: the training cost has not fallen below its first-epoch value; nearly
    all hidden units are saturated (sigmoid, tanh) or dead (ReLU) on a sample
    of the training rows; the accuracy on that sample is at chance level. The
    message names what was seen and what to try (usually a smaller eta).
    Silence it with ``warnings.filterwarnings("ignore", category=NotLearningWarning)``.
    """
