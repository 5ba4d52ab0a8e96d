"""fastbp.engine: the one fit loop, its settings and its two ways of running an epoch.

Network.fit and distributed.fit are adapters over engine.fit; these tests call
the engine through its internal API (FitSettings, Trainer, fit, kernel_view).
The per-step path with a communicator (gradient sums, Allreduce, update) must
equal the compiled one-process drivers to rounding, for every optimizer rule.
"""
import dataclasses

import numpy as np
import pytest

import fastbp
from fastbp import engine
from fastbp.distributed import SingleProcess
from fastbp.engine import FitSettings, Trainer, kernel_view
from fastbp.optimizers import SGD, Adam, Regularization

pytestmark = pytest.mark.filterwarnings("ignore::fastbp.NotLearningWarning")


def data(n=37, n_in=5, n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, n_in)), rng.integers(0, n_out, n)


RULES = {
    "sgd": dict(eta=0.4),
    "momentum-l2": dict(eta=0.3, lmbda=0.7, momentum=0.8),
    "nesterov-l1": dict(eta=0.3, lmbda=0.4, momentum=0.6, nesterov=True, regularization="l1"),
    "adam-warmup-l1": dict(eta=0.02, optimizer="adam", lr_schedule="cosine", warmup_epochs=1.0,
                           lmbda=0.3, regularization="l1"),
    "lars-step": dict(eta=0.3, momentum=0.9, lars=0.02, lr_schedule="step", decay_epochs=1,
                      decay_factor=0.5),
}


@pytest.mark.parametrize("rule", sorted(RULES))
@pytest.mark.parametrize("batch_size,chunk_size", [(8, None), (8, 3)])
def test_per_step_path_equals_the_compiled_drivers(rule, batch_size, chunk_size):
    X, y = data()
    options = dict(RULES[rule], seed=3, chunk_size=chunk_size)
    eta = options.pop("eta")
    nets = [fastbp.Network([5, 6, 3], cost="cross_entropy", seed=2) for _ in range(2)]
    Y = np.eye(3)[y]
    settings = FitSettings.checked(3, batch_size, eta, **options)
    local = engine.fit(nets[0], X, Y, settings)
    # Passing a communicator, even of one rank, selects the per-step path.
    shared = engine.fit(nets[1], X, Y, settings, comm=SingleProcess(), n=X.shape[0])
    np.testing.assert_allclose(kernel_view(nets[1]).theta, kernel_view(nets[0]).theta,
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(shared["train_cost"], local["train_cost"], rtol=1e-12)
    assert shared["eta"] == local["eta"]


def test_network_fit_is_engine_fit():
    X, y = data()
    a, b = (fastbp.Network([5, 4, 3], seed=1) for _ in range(2))
    history = a.fit(X, y, 2, 5, 0.5, momentum=0.5, seed=7)
    expected = engine.fit(b, X, np.eye(3)[y], FitSettings.checked(2, 5, 0.5, momentum=0.5, seed=7))
    assert kernel_view(a).theta.tobytes() == kernel_view(b).theta.tobytes()
    assert history["train_cost"] == expected["train_cost"]


def test_settings_are_checked_and_frozen():
    with pytest.raises(TypeError, match="unexpected keyword"):
        FitSettings.checked(1, 2, 0.1, momentun=0.9)
    with pytest.raises(ValueError, match="eta"):
        FitSettings.checked(1, 2, -0.1)
    with pytest.raises(ValueError, match="decay_epochs"):
        FitSettings.checked(1, 2, 0.1, lr_schedule="step")
    settings = FitSettings.checked(1, 2, 0.1, nesterov=1)
    assert settings.nesterov is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.eta = 1.0
    hook = lambda *a: None  # noqa: E731
    assert FitSettings.checked(1, 2, 0.1, callback=hook).as_dict()["callback"] is hook


def test_trainer_run_epoch_steps_in_the_given_order():
    X, y = data(12)
    Y = np.eye(3)[y]
    net = fastbp.Network([5, 3], seed=0)
    twin = fastbp.Network([5, 3], seed=0)
    order = np.arange(12, dtype=np.int64)[::-1].copy()
    trainer = Trainer(net, SGD(), 4)
    trainer.run_epoch(X, Y, order, 4, np.full(3, 0.5), Regularization())
    for k in range(3):  # the same three steps, one mini-batch at a time
        rows = order[4 * k:4 * k + 4]
        gb, gw = twin.gradients(X[rows], Y[rows])
        twin.weights = [W - 0.5 * g for W, g in zip(twin.weights, gw)]
        twin.biases = [b - 0.5 * g for b, g in zip(twin.biases, gb)]
    np.testing.assert_allclose(kernel_view(net).theta, kernel_view(twin).theta, atol=1e-12)


def test_trainer_reuses_the_optimizer_state_only_when_asked_and_of_the_same_kind():
    net = fastbp.Network([5, 3], seed=0)
    first = Trainer(net, Adam(), 4)
    first.state.step = 5.0
    assert Trainer(net, Adam(), 4, reuse_state=True).state is first.state
    assert Trainer(net, Adam(), 4).state.step == 0.0
    assert Trainer(net, SGD(0.9), 4, reuse_state=True).state.spec == SGD(0.9)


SMALL_RULES = {k: v for k, v in RULES.items() if "lars" not in v}


@pytest.mark.specialised
@pytest.mark.parametrize("rule", sorted(SMALL_RULES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_small_batch_driver_equals_the_general_one_bit_for_bit(rule, dtype):
    """steps.sgd_small_minibatches (a first fit's driver) runs the general driver's small-batch path.

    Both as a fit compiles them (the network's codes as literals), and the small
    one also compiled for any codes (read at run time): all three agree bit for bit.
    """
    from fastbp import steps
    from fastbp._numba_options import call_with_literals
    X, y = data(n=41)
    Y = np.eye(3)[y].astype(dtype)
    options = dict(SMALL_RULES[rule])
    eta = options.pop("eta")
    s = FitSettings.checked(1, 8, eta, **options)
    results = []
    for driver, literal in ((steps.sgd_minibatches, steps.DRIVER_LITERALS),
                            (steps.sgd_small_minibatches, steps.DRIVER_LITERALS),
                            (steps.sgd_small_minibatches, ())):
        net = fastbp.Network([5, 7, 6, 3], cost="cross_entropy", seed=2, dtype=dtype,
                             activation="tanh", output_activation="sigmoid")
        trainer = Trainer(net, s.optimizer_spec(), 8)
        trainer.state.use(s.optimizer_spec(), s.regularization_per_step(41))
        kv, state = kernel_view(net), trainer.state
        order = np.random.default_rng(5).permutation(41).astype(np.int64)
        etas = np.full(6, eta)
        status, done, cost = call_with_literals(
            driver, literal, X.astype(dtype), Y, order, 8, 0, 6, kv.x_scale, *kv.kinds, etas,
            state.hyper, state.options, kv.theta, state.v1, state.v2, trainer.G, trainer.snapshot,
            kv.arch, trainer.work)
        assert (status, done) == (steps.OK, 6)
        results.append((kv.theta.tobytes(), state.v1.tobytes(), state.v2.tobytes(), cost))
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("batch_size,lars,expected", [
    (8, 0.0, "sgd_small_minibatches"), (32, 0.0, "sgd_small_minibatches"),
    (33, 0.0, "sgd_minibatches"), (8, 0.02, "sgd_minibatches")])
def test_trainer_picks_the_small_batch_driver_only_where_it_applies(monkeypatch, batch_size, lars,
                                                                    expected):
    from fastbp import engine
    called = []
    real = engine.compiled_with_literals
    monkeypatch.setattr(engine, "compiled_with_literals",
                        lambda d, *a: called.append(d.py_func.__name__) or real(d, *a))
    X, y = data(n=70)
    net = fastbp.Network([5, 4, 3], seed=1)
    net.fit(X, y, 1, batch_size, 0.1, momentum=0.9 if lars else 0.0, lars=lars)
    assert set(called) == {expected}
