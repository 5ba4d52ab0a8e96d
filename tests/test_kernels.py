"""Every compiled kernel against the per-example NumPy reference.

The kernels of backprop.py, costs.py, optimizers.py and steps.py are called
directly with a Network's architecture tuple and flat parameters from
``engine.kernel_view(net)`` and a workspace from
``layout.workspace(sizes, dtype, cmax)``, as the engine calls them; the
results are read back from the workspace's flat Z/A/Delta buffers with
``layout.layer_rows``. The drivers of steps.py take the buffers of an
``engine.Trainer``. Then whole epochs (``Trainer.run_epoch`` and
``fit(shuffle=False)``) are compared with the reference's epoch in the same
mini-batch order.
"""
import numpy as np
import pytest

import fastbp
from fastbp import backprop, costs, steps
from fastbp._numba_options import call_with_literals
from fastbp.engine import Trainer, kernel_view
from fastbp.layout import layer_biases, layer_rows, layer_weights, workspace
from fastbp.optimizers import (H_MOMENTUM, H_REG, N_HYPER, N_OPTIONS, O_NESTEROV, O_OPTIMIZER,
                               O_REG_KIND, OPT_SGD, REG_L1, REG_L2, REG_NONE, SGD, OptimizerState,
                               Regularization, apply_update)
from fastbp.validation import check_targets
from reference import ReferenceNetwork

pytestmark = pytest.mark.filterwarnings("ignore::fastbp.NotLearningWarning")  # random-label fits

# (sizes, activation, output_activation, cost). "softplus" stands for the
# custom fastbp.Activation of the conftest fixture.
CONFIGS = {
    "sigmoid-quadratic": ([4, 5, 3], "sigmoid", None, "quadratic"),
    "tanh-crossentropy": ([4, 6, 5, 3], "tanh", "sigmoid", "cross_entropy"),
    "relu-softmax": ([4, 6, 3], "relu", "softmax", "log_likelihood"),
    "linear-quadratic": ([4, 5, 3], "linear", "sigmoid", "quadratic"),
    "softplus-tanh-quadratic": ([4, 5, 4, 3], "softplus", "tanh", "quadratic"),
    "one-layer-crossentropy": ([4, 3], "sigmoid", None, "cross_entropy"),
    "mixed-deep-softmax": ([4, 7, 6, 5, 3], ["tanh", "relu", "sigmoid", "softmax"], None,
                           "log_likelihood"),
    "all-linear": ([4, 5, 3], "linear", None, "quadratic"),
}
# An all-linear network is unstable at eta 0.5 (it diverges in two epochs),
# so the training tests use the others.
TRAIN_CONFIGS = [name for name in CONFIGS if name != "all-linear"]


def build(name, softplus, dtype=np.float64, seed=3):
    """A Network for CONFIGS[name] and its ReferenceNetwork (same parameters)."""
    sizes, act, out, cost = CONFIGS[name]
    resolve = lambda a: softplus if a == "softplus" else a  # noqa: E731
    act = [resolve(a) for a in act] if isinstance(act, list) else resolve(act)
    net = fastbp.Network(sizes, activation=act, output_activation=out, cost=cost, dtype=dtype,
                         seed=seed)
    return net, ReferenceNetwork.from_fastbp(net)


def data_for(net, n, seed=11, soft=False):
    """Inputs (n, n_0) and targets (n, n_L) in the network's dtype, validated as fit does."""
    r = np.random.default_rng(seed)
    X = r.uniform(-1.0, 1.0, size=(n, net.sizes[0])).astype(net.dtype)
    n_out = net.sizes[-1]
    if soft and net.activations[-1].name != "softmax":
        Y = r.uniform(0.05, 0.95, size=(n, n_out))
    else:
        Y = np.zeros((n, n_out))
        Y[np.arange(n), r.integers(0, n_out, size=n)] = 1.0
    return X, check_targets(Y, n, n_out, net.dtype)


def load_chunk(net, X, Y, index, cmax):
    """A workspace of cmax rows holding rows X[index], Y[index] (rows <= cmax)."""
    work = workspace(net.sizes, net.dtype, cmax)
    backprop.gather_rows(X, Y, np.asarray(index, dtype=np.int64), 0, len(index),
                         net.dtype.type(1.0), work)
    return work


def block(net, work, which, l, rows):
    """Layer l's (rows, n_out) block of work's Z (which=2), A (3) or Delta (4) buffer."""
    return layer_rows(work[which], kernel_view(net).layout, l, rows, work[0].shape[0])


def reference_traces(ref, X, Y):
    """Per-example (zs, activations, deltas) of the reference, stacked as rows per layer."""
    traces = [ref.backprop_trace(x, y) for x, y in zip(X, Y)]
    L = ref.L
    z = [np.vstack([t[0][l].T for t in traces]) for l in range(L)]
    a = [np.vstack([t[1][l].T for t in traces]) for l in range(L + 1)]
    d = [np.vstack([t[2][l].T for t in traces]) for l in range(L)]
    return z, a, d


def flat_from_lists(net, bs, Ws):
    """Lists of biases and weights as one flat array in theta's layout."""
    out = np.empty(net.n_parameters)
    layout = kernel_view(net).layout
    for l in range(len(net.sizes) - 1):
        n_in, n_out, w0, b0, _ = layout[l]
        out[w0:b0] = np.asarray(Ws[l]).ravel()
        out[b0:b0 + n_out] = np.asarray(bs[l]).ravel()
    return out


TIGHT = dict(rtol=1e-12, atol=1e-13)

# ---------------------------------------------------------------------------
# The step kernels: forward_pass, chunk_cost, output_delta, backward_pass,
# accumulate_gradients.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("specialised", [pytest.param(True, marks=pytest.mark.specialised), False],
                         ids=["literal-codes", "run-time-codes"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_forward_bp1_bp2_bp4_kernels_match_reference(name, specialised, softplus):
    """Each stage against the reference, compiled for the network's codes (as a fit runs it) and for any."""
    net, ref = build(name, softplus)
    X, Y = data_for(net, 9, soft=True)
    index = np.array([8, 2, 5, 0, 3, 7])  # a gathered, permuted subset
    rows, cmax = len(index), 8           # a chunk smaller than its buffers
    work = load_chunk(net, X, Y, index, cmax)
    np.testing.assert_array_equal(work[0][:rows], X[index])
    np.testing.assert_array_equal(work[1][:rows], Y[index])
    z_ref, a_ref, d_ref = reference_traces(ref, X[index], Y[index])
    L = len(net.sizes) - 1
    kv = kernel_view(net)
    hidden, output, cost_code = kv.kinds

    def run(kernel, literal, *args):
        return call_with_literals(kernel, literal if specialised else (), *args)

    run(backprop.forward_pass, (4, 5), rows, kv.theta, kv.arch, work, hidden, output)
    for l in range(L):
        np.testing.assert_allclose(block(net, work, 2, l, rows), z_ref[l], **TIGHT)
        np.testing.assert_allclose(block(net, work, 3, l, rows), a_ref[l + 1], **TIGHT)

    cost = run(costs.chunk_cost, (1,), rows, cost_code, kv.arch, work)
    cost_ref = sum(ref.example_cost(ref.feedforward(x), y) for x, y in zip(X[index], Y[index]))
    np.testing.assert_allclose(cost, cost_ref, rtol=1e-12)

    run(costs.output_delta, (1, 2), rows, output, cost_code, kv.arch, work)  # BP1
    np.testing.assert_allclose(block(net, work, 4, L - 1, rows), d_ref[-1], **TIGHT)

    run(backprop.backward_pass, (4,), rows, kv.theta, kv.arch, work, hidden)  # BP2
    for l in range(L):
        np.testing.assert_allclose(block(net, work, 4, l, rows), d_ref[l], **TIGHT)

    # BP3/BP4: overwrite a garbage-filled G, then accumulate a second time.
    sum_b, sum_w = ref.gradient_sums(X[index], Y[index])
    expected = flat_from_lists(net, sum_b, sum_w)
    G = np.full(net.n_parameters, 123.0)
    backprop.accumulate_gradients(rows, False, kv.arch, work, G)
    np.testing.assert_allclose(G, expected, **TIGHT)
    backprop.accumulate_gradients(rows, True, kv.arch, work, G)
    np.testing.assert_allclose(G, 2 * expected, **TIGHT)


def test_bp4_has_no_extra_fprime_factor(softplus):
    """BP3/BP4 exactly: dC/db = delta and dC/dW = delta (a^{l-1})^T, no f' factor."""
    net, ref = build("softplus-tanh-quadratic", softplus)
    X, Y = data_for(net, 1, soft=True)
    tr = net.trace(X, Y)
    nabla_b, nabla_w = net.gradients(X, Y)
    for l in range(len(net.sizes) - 1):
        np.testing.assert_allclose(nabla_b[l], tr["delta"][l][0], **TIGHT)          # BP3
        np.testing.assert_allclose(nabla_w[l], np.outer(tr["delta"][l][0], tr["a"][l][0]),
                                   **TIGHT)                                         # BP4


def test_gather_rows_scales_uint8_inputs():
    net = fastbp.Network([6, 3, 2], seed=0)
    r = np.random.default_rng(1)
    X8 = r.integers(0, 256, size=(5, 6), dtype=np.uint8)
    Y = check_targets(r.integers(0, 2, size=5), 5, 2, net.dtype)
    work = workspace(net.sizes, net.dtype, 4)
    backprop.gather_rows(X8, Y, np.array([4, 1, 3], dtype=np.int64), 0, 3, 1.0 / 255.0, work)
    np.testing.assert_allclose(work[0][:3], X8[[4, 1, 3]] / 255.0, rtol=1e-15)
    np.testing.assert_array_equal(work[1][:3], Y[[4, 1, 3]])


# ---------------------------------------------------------------------------
# gradient_sums and forward_outputs: chunked loops over rows.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tanh-crossentropy", "mixed-deep-softmax",
                                  "softplus-tanh-quadratic"])
@pytest.mark.parametrize("cmax", [1, 3, 4, 13, 20])
def test_gradient_sums_any_chunk_size(name, cmax, softplus):
    """13 rows in chunks of 1, 3 and 4 (not dividing 13), 13 (one chunk) and 20 (> rows)."""
    net, ref = build(name, softplus)
    X, Y = data_for(net, 13)
    index = np.random.default_rng(5).permutation(13).astype(np.int64)
    G = np.full(net.n_parameters, np.nan)
    work = workspace(net.sizes, net.dtype, cmax)
    kv = kernel_view(net)

    total = call_with_literals(backprop.gradient_sums, backprop.GRADIENT_SUMS_LITERALS, X, Y,
                               index, 0, 13, 1.0, *kv.kinds, kv.theta, kv.arch, work, G)
    sum_b, sum_w = ref.gradient_sums(X, Y)
    np.testing.assert_allclose(G, flat_from_lists(net, sum_b, sum_w), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(total, ref.total_cost(X, Y) * 13, rtol=1e-12)

    # A sub-range index[2:11] of the permutation.
    rows = index[2:11]
    total = call_with_literals(backprop.gradient_sums, backprop.GRADIENT_SUMS_LITERALS, X, Y,
                               index, 2, 11, 1.0, *kv.kinds, kv.theta, kv.arch, work, G)
    sum_b, sum_w = ref.gradient_sums(X[rows], Y[rows])
    np.testing.assert_allclose(G, flat_from_lists(net, sum_b, sum_w), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(total, ref.total_cost(X[rows], Y[rows]) * 9, rtol=1e-12)


def test_gradient_sums_of_no_rows_is_zero():
    net = fastbp.Network([3, 4, 2], seed=0)
    X, Y = data_for(net, 4)
    G = np.full(net.n_parameters, 5.0)
    kv = kernel_view(net)
    total = backprop.gradient_sums(X, Y, np.arange(4, dtype=np.int64), 2, 2, 1.0, *kv.kinds,
                                   kv.theta, kv.arch, workspace(net.sizes, net.dtype, 2), G)
    assert total == 0.0
    assert np.all(G == 0.0)


@pytest.mark.parametrize("cmax", [1, 4, 9, 16])
@pytest.mark.parametrize("name", ["relu-softmax", "tanh-crossentropy", "linear-quadratic"])
def test_forward_outputs(name, cmax, softplus):
    net, ref = build(name, softplus)
    X, Y = data_for(net, 9)
    index = np.array([3, 3, 0, 8, 1, 6, 2], dtype=np.int64)  # repeats allowed
    expected = np.vstack([ref.feedforward(x).T for x in X[index]])
    out = np.full((7, net.sizes[-1]), np.nan)
    kv = kernel_view(net)
    total = backprop.forward_outputs(X, Y, index, 1.0, *kv.kinds, kv.theta, kv.arch,
                                     workspace(net.sizes, net.dtype, cmax), out)
    np.testing.assert_allclose(out, expected, **TIGHT)
    np.testing.assert_allclose(total, ref.total_cost(X[index], Y[index]) * 7, rtol=1e-12)

    no_targets = np.empty((0, net.sizes[-1]))
    out2 = np.full_like(out, np.nan)
    total = backprop.forward_outputs(X, no_targets, index, 1.0, *kv.kinds, kv.theta, kv.arch,
                                     workspace(net.sizes, net.dtype, cmax), out2)
    assert total == 0.0
    np.testing.assert_array_equal(out2, out)


# ---------------------------------------------------------------------------
# apply_update: network2.py's step, L2/L1, momentum, Nesterov.
# ---------------------------------------------------------------------------


def step_settings(reg_kind, reg, momentum, nesterov):
    """The kernels' (hyper, options) arrays for plain SGD with these settings, slot by slot.

    Written by hand (not through optimizers.OptimizerState) so that the
    update kernel is tested on its own; test_optimizer_state_writes_the_slots
    checks that OptimizerState writes the same arrays.
    """
    hyper = np.zeros(N_HYPER)
    hyper[H_REG] = reg
    hyper[H_MOMENTUM] = momentum
    options = np.zeros(N_OPTIONS, dtype=np.int64)
    options[O_OPTIMIZER] = OPT_SGD
    options[O_REG_KIND] = reg_kind
    options[O_NESTEROV] = int(nesterov)
    return hyper, options


STEP_CASES = [
    (REG_NONE, 0.0, False), (REG_L2, 0.0, False), (REG_L1, 0.0, False),
    (REG_NONE, 0.9, False), (REG_L2, 0.5, False), (REG_L1, 0.7, True),
    (REG_L2, 0.9, True),
]
REG_NAME = {REG_NONE: "l2", REG_L2: "l2", REG_L1: "l1"}


@pytest.mark.parametrize("reg_kind,momentum,nesterov", STEP_CASES)
def test_optimizer_state_writes_the_slots(reg_kind, momentum, nesterov):
    """OptimizerState.use(SGD(...), Regularization(...)) writes what step_settings writes."""
    reg = 0.0 if reg_kind == REG_NONE else 0.05  # no penalty: a coefficient of 0
    theta = np.zeros(7)
    spec = SGD(momentum, nesterov)
    state = OptimizerState(spec, theta)
    state.use(spec, Regularization(REG_NAME[reg_kind], reg))
    hyper, options = step_settings(reg_kind, reg, momentum, nesterov)
    np.testing.assert_array_equal(state.hyper, hyper)
    np.testing.assert_array_equal(state.options, options)
    assert state.v1.shape == theta.shape and state.v2.shape == (0,)


@pytest.mark.parametrize("reg_kind,momentum,nesterov", STEP_CASES)
def test_apply_update_matches_reference_step(reg_kind, momentum, nesterov):
    net = fastbp.Network([3, 4, 2], activation="tanh", seed=0)
    r = np.random.default_rng(2)
    theta = r.standard_normal(net.n_parameters)
    theta[1] = 0.0  # a zero weight: L1's sgn(0) = 0
    G = r.standard_normal(net.n_parameters)
    velocity = r.standard_normal(net.n_parameters) * (momentum != 0.0)
    m, eta, reg = 7, 0.3, 0.05  # reg = lmbda / n

    net.set_parameters(theta)
    ref = ReferenceNetwork.from_fastbp(net)
    L = len(net.sizes) - 1
    layout = kernel_view(net).layout
    ref.velocity_w = [layer_weights(velocity, layout, l).copy() for l in range(L)]
    ref.velocity_b = [layer_biases(velocity, layout, l).copy().reshape(-1, 1) for l in range(L)]
    regularization = REG_NAME[reg_kind]
    ref.sgd_step([layer_biases(G, layout, l) for l in range(L)],
                 [layer_weights(G, layout, l) for l in range(L)], m, eta,
                 lmbda=reg if reg_kind != REG_NONE else 0.0, n=1,
                 regularization=regularization, momentum=momentum, nesterov=nesterov)

    theta_next = theta.copy()
    hyper, options = step_settings(reg_kind, reg, momentum, nesterov)
    ok = apply_update(theta_next, G, velocity, np.zeros(0), layout, 1.0 / m, eta, hyper, options)
    assert ok
    np.testing.assert_allclose(theta_next, ref.parameters(), rtol=1e-14, atol=1e-15)
    if momentum:
        np.testing.assert_allclose(velocity, flat_from_lists(net, ref.velocity_b, ref.velocity_w),
                                   rtol=1e-14, atol=1e-15)


def test_apply_update_reports_non_finite_results():
    net = fastbp.Network([3, 4, 2], seed=0)
    theta = net.get_parameters()
    G = np.zeros_like(theta)
    G[5] = np.inf
    hyper, options = step_settings(REG_NONE, 0.0, 0.0, False)
    layout = kernel_view(net).layout
    assert not apply_update(theta.copy(), G, np.zeros(0), np.zeros(0), layout, 1.0, 0.1, hyper,
                            options)
    G[5] = 0.0
    assert apply_update(theta.copy(), G, np.zeros(0), np.zeros(0), layout, 1.0, 0.1, hyper,
                        options)
    # float32: a finite float64 result that overflows when stored is caught too.
    net32 = fastbp.Network([3, 4, 2], dtype=np.float32, seed=0)
    theta32 = net32.get_parameters()
    theta32[0] = 3.0e38
    G32 = np.zeros_like(theta32)
    G32[0] = -1.0e38
    empty = np.zeros(0, np.float32)
    assert not apply_update(theta32, G32, empty, empty, kernel_view(net32).layout, 1.0, 1.0,
                            hyper, options)


# ---------------------------------------------------------------------------
# Whole epochs: sgd_minibatches, Trainer.run_epoch, fit(shuffle=False).
# ---------------------------------------------------------------------------

TRAINING = {
    "plain": dict(lmbda=0.0, regularization="l2", momentum=0.0, nesterov=False),
    "l2": dict(lmbda=2.0, regularization="l2", momentum=0.0, nesterov=False),
    "l1": dict(lmbda=1.5, regularization="l1", momentum=0.0, nesterov=False),
    "momentum-l2": dict(lmbda=0.5, regularization="l2", momentum=0.8, nesterov=False),
    "nesterov": dict(lmbda=0.0, regularization="l2", momentum=0.6, nesterov=True),
}


def sgd_trainer(net, batch_size, opts):
    """An engine.Trainer stepping with SGD and the momentum / Nesterov of TRAINING's ``opts``."""
    return Trainer(net, SGD(opts["momentum"], opts["nesterov"]), batch_size)


def train_epoch(trainer, X, Y, order, batch_size, eta, opts):
    """trainer.run_epoch with network2-style arguments: one eta, lmbda / n per step.

    ``trainer`` comes from sgd_trainer with the same ``opts``.
    """
    n_batches = -(-len(order) // batch_size)
    regularization = Regularization(opts["regularization"], opts["lmbda"] / len(order))
    return trainer.run_epoch(X, Y, np.asarray(order, dtype=np.int64), batch_size,
                             np.full(n_batches, eta), regularization)


@pytest.mark.parametrize("training", list(TRAINING))
@pytest.mark.parametrize("name", TRAIN_CONFIGS)
def test_one_epoch_matches_reference_float64(name, training, softplus):
    """23 rows in mini-batches of 5 (the last one has 3), eta 0.5, a shuffled order."""
    net, ref = build(name, softplus)
    X, Y = data_for(net, 23, soft=True)
    opts = TRAINING[training]
    order = np.random.default_rng(4).permutation(23)
    trainer = sgd_trainer(net, 5, opts)
    theta = kernel_view(net).theta
    cost_sum = train_epoch(trainer, X, Y, order, 5, 0.5, opts)
    ref_cost_sum = ref.train_epoch(X, Y, order, 5, 0.5, **opts)
    scale = np.abs(ref.parameters()).max()
    assert scale < 20.0  # a tame epoch, so that 1e-10 means something
    assert np.abs(theta - ref.parameters()).max() <= 1e-10 * max(1.0, scale)
    np.testing.assert_allclose(cost_sum, ref_cost_sum, rtol=1e-10)
    # A second epoch carries momentum's velocity over, in both.
    order2 = np.random.default_rng(5).permutation(23)
    train_epoch(trainer, X, Y, order2, 5, 0.5, opts)
    ref.train_epoch(X, Y, order2, 5, 0.5, **opts)
    assert np.abs(theta - ref.parameters()).max() <= 1e-10 * scale


@pytest.mark.parametrize("training", ["plain", "l2", "l1", "momentum-l2"])
@pytest.mark.parametrize("name", ["tanh-crossentropy", "mixed-deep-softmax"])
def test_fit_without_shuffle_matches_reference(name, training, softplus):
    """fit(shuffle=False): rows in order, 2 epochs, mini-batches of 4 of 18 rows, chunk_size 3."""
    net, ref = build(name, softplus)
    X, Y = data_for(net, 18, soft=True)
    opts = TRAINING[training]
    history = net.fit(X, Y, epochs=2, batch_size=4, eta=0.5, lmbda=opts["lmbda"],
                      momentum=opts["momentum"], regularization=opts["regularization"],
                      shuffle=False, chunk_size=3)
    expected_costs = []
    for _ in range(2):
        cost_sum = ref.train_epoch(X, Y, np.arange(18), 4, 0.5, **opts)
        if opts["regularization"] == "l1":
            penalty = opts["lmbda"] / 18 * sum(np.abs(W).sum() for W in ref.weights)
        else:
            penalty = 0.5 * opts["lmbda"] / 18 * sum((W ** 2).sum() for W in ref.weights)
        expected_costs.append(cost_sum / 18 + penalty)
    scale = max(1.0, np.abs(ref.parameters()).max())
    assert np.abs(kernel_view(net).theta - ref.parameters()).max() <= 1e-10 * scale
    np.testing.assert_allclose(history["train_cost"], expected_costs, rtol=1e-10)


def test_sgd_minibatches_in_segments_equals_one_run(softplus):
    """Running batches [0, 2) then [2, 5) equals [0, 5): the kernel's segments are seamless."""
    net_a, ref = build("tanh-crossentropy", softplus)
    net_b, _ = build("tanh-crossentropy", softplus)
    X, Y = data_for(net_a, 22)
    order = np.random.default_rng(9).permutation(22).astype(np.int64)
    results = []
    for net, segments in ((net_a, [(0, 5)]), (net_b, [(0, 2), (2, 5)])):
        spec = SGD(momentum=0.5)
        trainer = Trainer(net, spec, 5)
        state = trainer.state
        state.use(spec, Regularization("l2", 0.01))
        kv = kernel_view(net)
        total = 0.0
        for first, stop in segments:
            status, done, part = call_with_literals(
                steps.sgd_minibatches, steps.DRIVER_LITERALS, X, Y, order, 5, first, stop, 1.0, *kv.kinds, np.full(5, 0.5), state.hyper,
                state.options, kv.theta, state.v1, state.v2, trainer.G, trainer.snapshot,
                kv.arch, trainer.work)
            assert status == steps.OK and done == stop - first
            total += part
        results.append(total)
    np.testing.assert_array_equal(kernel_view(net_a).theta, kernel_view(net_b).theta)
    assert results[0] == results[1]
    ref_total = ref.train_epoch(X, Y, order, 5, 0.5, lmbda=0.01 * 22, momentum=0.5)
    assert np.abs(kernel_view(net_a).theta - ref.parameters()).max() <= 1e-10
    np.testing.assert_allclose(results[0], ref_total, rtol=1e-10)


@pytest.mark.slow  # compiles the kernels for uint8 inputs
def test_sgd_minibatches_reads_scaled_uint8_inputs():
    """x_scale converts uint8 rows on the fly: same result as training on X / 255."""
    net8 = fastbp.Network([6, 5, 3], cost="cross_entropy", seed=1)
    netf = fastbp.Network([6, 5, 3], cost="cross_entropy", seed=1)
    r = np.random.default_rng(3)
    X8 = r.integers(0, 256, size=(12, 6), dtype=np.uint8)
    Y = check_targets(r.integers(0, 3, size=12), 12, 3, np.dtype(np.float64))
    order = r.permutation(12).astype(np.int64)
    for net, X, scale in ((net8, X8, 1.0 / 255.0), (netf, X8 / 255.0, 1.0)):
        spec = SGD()
        trainer = Trainer(net, spec, 4)
        st = trainer.state
        st.use(spec, Regularization())  # plain SGD, no penalty
        kv = kernel_view(net)
        status, done, _ = call_with_literals(
            steps.sgd_minibatches, steps.DRIVER_LITERALS, X, Y, order, 4, 0, 3, scale, *kv.kinds, np.full(3, 0.5), st.hyper, st.options,
            kv.theta, st.v1, st.v2, trainer.G, trainer.snapshot, kv.arch, trainer.work)
        assert (status, done) == (steps.OK, 3)
    np.testing.assert_allclose(kernel_view(net8).theta, kernel_view(netf).theta, rtol=1e-14,
                               atol=1e-15)


# Float32 tolerance. Unit roundoff u = 2**-24 ~ 6.0e-8 (float32 eps / 2).
# In one epoch of S steps each parameter is rewritten S times, each write
# rounding by <= u |w|; each step's gradient entry is a sum over m examples of
# products formed through dot products of length at most K (the widest fan-in
# plus the batch), so its relative error is <= ~(K + 2 L) u (standard bound on
# float dot products), scaled by eta |g|; the few steps of an epoch at
# eta 0.5 barely amplify earlier errors. Per step the error is therefore
# <= u (|w| + eta (K + 2L) |g|) with |w|, |g| <= ~3 here, and over S steps
# <= S u (3 + 0.5 (K + 2L) 3). With S = 5, K = 5 + 7, L = 4: ~5 * 6e-8 * 30 ~
# 1e-5 as a worst case; we assert 2e-5. (Measured: 1.3e-7 .. 3.8e-7 with
# max |w| ~ 3.3, errors adding up like a random walk rather than in step.)
FLOAT32_EPOCH_ATOL = 2e-5


@pytest.mark.parametrize("training", ["plain", "l2", "momentum-l2"])
@pytest.mark.parametrize("name", ["sigmoid-quadratic", "tanh-crossentropy", "mixed-deep-softmax",
                                  "softplus-tanh-quadratic"])
def test_one_epoch_matches_reference_float32(name, training, softplus):
    net, _ = build(name, softplus, dtype=np.float32)
    X, Y = data_for(net, 23, soft=True)
    ref = ReferenceNetwork.from_fastbp(net)  # float64 copy of the float32 start
    opts = TRAINING[training]
    order = np.random.default_rng(4).permutation(23)
    train_epoch(sgd_trainer(net, 5, opts), X, Y, order, 5, 0.5, opts)
    theta = kernel_view(net).theta
    assert theta.dtype == np.float32
    ref.train_epoch(X.astype(np.float64), Y.astype(np.float64), order, 5, 0.5, **opts)
    err = np.abs(theta.astype(np.float64) - ref.parameters()).max()
    assert err <= FLOAT32_EPOCH_ATOL
    assert err > 0.0  # it really computed in float32


# ---------------------------------------------------------------------------
# net.trace: z, a, delta per layer.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CONFIGS))
def test_trace_matches_reference(name, softplus):
    net, ref = build(name, softplus)
    X, Y = data_for(net, 6, soft=True)
    tr = net.trace(X, Y)
    z_ref, a_ref, d_ref = reference_traces(ref, X, Y)
    L = len(net.sizes) - 1
    assert len(tr["z"]) == L and len(tr["a"]) == L + 1 and len(tr["delta"]) == L
    for l in range(L):
        np.testing.assert_allclose(tr["z"][l], z_ref[l], **TIGHT)
        np.testing.assert_allclose(tr["delta"][l], d_ref[l], **TIGHT)
    for l in range(L + 1):
        np.testing.assert_allclose(tr["a"][l], a_ref[l], **TIGHT)


# ---------------------------------------------------------------------------
# The small-batch step: BP4 rows formed in L1 and the in-place step with
# per-segment snapshot and replay.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 8, 10, 13])
@pytest.mark.parametrize("n_out", [1, 2, 5])
def test_weight_gradient_rows_match_numpy(dtype, k, n_out):
    """Rows i, i+1 of D^T A for every pair i; with two=False only out[0] is written."""
    r = np.random.default_rng(k * 10 + n_out)
    D = r.standard_normal((k, n_out)).astype(dtype)
    A = r.standard_normal((k, 37)).astype(dtype)
    expected = D.astype(np.float64).T @ A.astype(np.float64)
    out = np.full((2, 37), np.nan, dtype)
    for i in range(0, n_out, 2):
        two = i + 1 < n_out
        out[:] = np.nan
        backprop.weight_gradient_rows(D, A, i, two, out)
        rows = [i, i + 1] if two else [i]
        eps = np.finfo(dtype).eps
        bound = 4 * (k + 1) * eps * (np.abs(D.T.astype(np.float64)) @ np.abs(A.astype(np.float64)))
        assert np.all(np.abs(out[:len(rows)] - expected[rows]) <= bound[rows])
        if not two:
            assert np.all(np.isnan(out[1])), "out[1] must not be written when two is False"


def _replay_problem():
    """A [2, 2, 1] linear network and 3 mini-batches of 2 rows; batch 2's step overflows W^1.

    Batches 0 and 1 have zero inputs, so W^1 = 1e-300 stays as it is and
    z^1 stays near b^1 even for batch 2's inputs of 1e300: batch 2's cost is
    finite, the top layer's step (taken first) is finite, and the bottom
    layer's gradient delta^1 x ~ 1e300 times eta / m = 5e9 overflows.
    """
    net = fastbp.Network([2, 2, 1], activation="linear", cost="quadratic", seed=0)
    net.weights = [np.full((2, 2), 1e-300), np.array([[0.5, -0.25]])]
    net.biases = [np.array([0.1, 0.2]), np.array([0.3])]
    X = np.array([[0.0, 0.0]] * 4 + [[1e300, 1e300], [1e300, -1e300]])
    Y = np.array([[1.0], [0.0], [0.5], [0.25], [1.0], [0.0]])
    return net, X, Y


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_non_finite_step_restores_snapshot_and_replays(momentum):
    """The failing step wrote the top layer in place: the segment is replayed to batch 2, bit for bit."""
    net, X, Y = _replay_problem()
    twin, _, _ = _replay_problem()
    order = np.arange(6, dtype=np.int64)
    etas = np.array([0.5, 0.5, 1e10])
    spec = SGD(momentum)
    trainer = Trainer(net, spec, 2)
    st = trainer.state
    st.use(spec, Regularization())  # no penalty
    kv = kernel_view(net)
    status, done, cost_sum = call_with_literals(
        steps.sgd_minibatches, steps.DRIVER_LITERALS, X, Y, order, 2, 0, 3, 1.0, *kv.kinds, etas, st.hyper, st.options, kv.theta,
        st.v1, st.v2, trainer.G, trainer.snapshot, kv.arch, trainer.work)
    assert (status, done) == (steps.DIVERGED, 2)
    assert np.all(np.isfinite(kv.theta))
    # The same two steps alone.
    trainer2 = Trainer(twin, spec, 2)
    st2 = trainer2.state
    st2.use(spec, Regularization())
    kv2 = kernel_view(twin)
    status2, done2, cost_sum2 = call_with_literals(
        steps.sgd_minibatches, steps.DRIVER_LITERALS, X, Y, order, 2, 0, 2, 1.0, *kv2.kinds, etas, st2.hyper, st2.options, kv2.theta,
        st2.v1, st2.v2, trainer2.G, trainer2.snapshot, kv2.arch, trainer2.work)
    assert (status2, done2) == (steps.OK, 2)
    assert kv.theta.tobytes() == kv2.theta.tobytes()
    assert st.v1.tobytes() == st2.v1.tobytes()
    assert cost_sum == cost_sum2
    assert st.hyper.tobytes() == st2.hyper.tobytes()


def test_chunked_driver_equals_one_chunk_driver():
    """sgd_minibatches_chunked (batches over several chunks) agrees with the one-chunk driver."""
    net_a, _ = build("tanh-crossentropy", None)
    net_b, _ = build("tanh-crossentropy", None)
    X, Y = data_for(net_a, 24)
    order = np.random.default_rng(5).permutation(24).astype(np.int64)
    results = []
    for net, driver, chunk in ((net_a, steps.sgd_minibatches, 8),
                               (net_b, steps.sgd_minibatches_chunked, 3)):
        spec = SGD(momentum=0.5, nesterov=True)
        trainer = Trainer(net, spec, 8, chunk_size=chunk)
        assert trainer.work[0].shape[0] == chunk
        st = trainer.state
        st.use(spec, Regularization("l2", 0.01))
        kv = kernel_view(net)
        status, done, part = call_with_literals(driver, steps.DRIVER_LITERALS, X, Y, order, 8,
                                                0, 3, 1.0, *kv.kinds, np.full(3, 0.5), st.hyper,
                                                st.options, kv.theta, st.v1, st.v2, trainer.G,
                                                trainer.snapshot, kv.arch, trainer.work)
        assert (status, done) == (steps.OK, 3)
        results.append(part)
    np.testing.assert_allclose(kernel_view(net_a).theta, kernel_view(net_b).theta, rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)
