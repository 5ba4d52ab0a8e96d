"""fastbp: backpropagation for fully-connected networks, compiled with Numba.

>>> import numpy as np, fastbp
>>> net = fastbp.Network([4, 8, 3], cost="cross_entropy", seed=0)
"""
from .activations import ACTIVATIONS, Activation
from .costs import COSTS
from .exceptions import DivergenceError, NotLearningWarning
from .gradcheck import gradcheck
from .model import Network, load

__version__ = "0.1.0"

__all__ = ["ACTIVATIONS", "COSTS", "Activation", "DivergenceError", "Network", "NotLearningWarning",
           "gradcheck", "load", "__version__"]
