"""Costs: the name-keyed table, with the output delta (BP1) each one implies.

Per example, with output activations a = a^L and target y:

- ``quadratic``: C = 1/2 ||a - y||^2, delta^L = (a - y) (.) f'(z^L); any
  element-wise output activation.
- ``cross_entropy``: C = -sum[y ln a + (1 - y) ln(1 - a)], sigmoid output,
  delta^L = a - y (f' cancels).
- ``log_likelihood``: C = -sum y ln a (= -ln a_y for one-hot y), softmax
  output, delta^L = a - y.

The kernels compute cross-entropy and log-likelihood from z^L (log-sigmoid,
log-softmax), so saturated outputs give finite costs.
"""
QUADRATIC = 0
CROSS_ENTROPY = 1
LOG_LIKELIHOOD = 2


class Cost:
    """A built-in cost: its name, kernel code and the output activation it needs."""

    def __init__(self, name, code, required_output):
        self.name = name
        self.code = code
        self.required_output = required_output

    def __repr__(self):
        return f"<cost {self.name!r}>"


#: The costs, by name. ``required_output`` is the output activation the cost
#: is defined with (None: any element-wise activation).
COSTS = {
    "quadratic": Cost("quadratic", QUADRATIC, None),
    "cross_entropy": Cost("cross_entropy", CROSS_ENTROPY, "sigmoid"),
    "log_likelihood": Cost("log_likelihood", LOG_LIKELIHOOD, "softmax"),
}
COST_ALIASES = {"QuadraticCost": "quadratic", "CrossEntropyCost": "cross_entropy",
                "log_loss": "log_likelihood", "mse": "quadratic"}


def get_cost(spec):
    """Return the Cost that ``spec`` names (a name or a Cost)."""
    if isinstance(spec, Cost):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"cost: expected a cost name (str), found {type(spec).__name__}")
    key = COST_ALIASES.get(spec, spec)
    if key not in COSTS:
        raise ValueError(f"cost: unknown cost {spec!r}; expected one of {sorted(COSTS)}")
    return COSTS[key]
