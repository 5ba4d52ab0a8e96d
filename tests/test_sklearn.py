"""fastbp.sklearn: scikit-learn's estimator suite, and the same numbers as scikit-learn's MLP.

Three layers, as elsewhere in tests/:

- scikit-learn's own API checks (``parametrize_with_checks``) for both estimators;
- agreement with ``sklearn.neural_network``'s MLPClassifier/MLPRegressor: the
  same ``random_state`` gives the same initial weights and shuffles, so after a
  few epochs ``coefs_`` and ``loss_curve_`` agree to rounding (1e-10) for every
  solver, momentum form, schedule and output type;
- a slow NumPy reference of scikit-learn's mini-batch step (``reference_sgd``)
  for what scikit-learn cannot run: a custom fastbp.Activation.
"""
import copy
import math
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkRegressor  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from fastbp.engine import kernel_view  # noqa: E402
from fastbp.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

TIGHT = dict(rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ data
def _data(seed=0, n=150, n_features=6, n_targets=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    W = rng.normal(size=(n_features, n_targets))
    Y = np.tanh(X @ W) + 0.1 * rng.normal(size=(n, n_targets))
    return X, Y


X, Y = _data()
Y_MULTICLASS = np.argmax(Y, axis=1)          # 3 classes
Y_BINARY = np.where(Y[:, 0] > 0, "yes", "no")  # string labels
Y_MULTILABEL = (Y > 0).astype(int)
TARGETS = {"multiclass": Y_MULTICLASS, "binary": Y_BINARY, "multilabel": Y_MULTILABEL}


def _quiet_fit(est, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kwargs)


def _pair(sk_cls, fb_cls, X, y, **params):
    """Fit scikit-learn's estimator and ours with the same parameters."""
    return _quiet_fit(sk_cls(**params), X, y), _quiet_fit(fb_cls(**params), X, y)


def assert_same_fit(sk, fb, loss_rtol=1e-10):
    assert fb.n_iter_ == sk.n_iter_ and fb.t_ == sk.t_
    assert fb.n_layers_ == sk.n_layers_ and fb.n_outputs_ == sk.n_outputs_
    assert fb.out_activation_ == sk.out_activation_
    assert len(fb.coefs_) == len(sk.coefs_)
    for a, b in zip(sk.coefs_ + sk.intercepts_, fb.coefs_ + fb.intercepts_):
        assert b.shape == a.shape
        np.testing.assert_allclose(b, a, **TIGHT)
    np.testing.assert_allclose(fb.loss_curve_, sk.loss_curve_, rtol=loss_rtol)
    np.testing.assert_allclose(fb.loss_, sk.loss_, rtol=loss_rtol)


# ------------------------------------------------- scikit-learn's suite
# Small max_iter for speed: the checks' data sets are tiny and 20 epochs of
# Adam are enough for check_classifiers_train's accuracy bar. No check is
# expected to fail.
@pytest.mark.slow
@parametrize_with_checks([MLPClassifier(max_iter=20, random_state=0),
                          MLPRegressor(max_iter=20, random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


@pytest.mark.slow
def test_import_fastbp_does_not_import_sklearn():
    code = "import sys, fastbp; assert 'sklearn' not in sys.modules, 'sklearn imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------- agreement with scikit-learn
SOLVERS = [dict(solver="sgd", momentum=0.0),
           dict(solver="sgd", momentum=0.9, nesterovs_momentum=False),
           dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
           dict(solver="adam")]


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda d: "-".join(map(str, d.values())))
@pytest.mark.parametrize("shuffle", [False, True])
def test_classifier_matches_sklearn(solver, shuffle):
    # 150 rows, batch 16: 10 mini-batches per epoch, the last one short (6 rows).
    params = dict(hidden_layer_sizes=(7, 5), activation="tanh", alpha=1e-2, batch_size=16,
                  learning_rate_init=0.05 if solver["solver"] == "sgd" else 0.01,
                  max_iter=4, shuffle=shuffle, random_state=3, **solver)
    sk, fb = _pair(SkClassifier, MLPClassifier, X, Y_MULTICLASS, **params)
    assert_same_fit(sk, fb)
    np.testing.assert_array_equal(fb.classes_, sk.classes_)
    np.testing.assert_allclose(fb.predict_proba(X), sk.predict_proba(X), **TIGHT)
    np.testing.assert_allclose(fb.predict_log_proba(X), sk.predict_log_proba(X), **TIGHT)
    np.testing.assert_array_equal(fb.predict(X), sk.predict(X))
    assert fb.score(X, Y_MULTICLASS) == sk.score(X, Y_MULTICLASS)


@pytest.mark.parametrize("kind", ["binary", "multilabel"])
def test_logistic_outputs_match_sklearn(kind):
    y = TARGETS[kind]
    sk, fb = _pair(SkClassifier, MLPClassifier, X, y, hidden_layer_sizes=(6,), solver="sgd",
                   momentum=0.5, alpha=1e-3, batch_size=20, learning_rate_init=0.1, max_iter=5,
                   random_state=1)
    assert fb.out_activation_ == "logistic"
    assert_same_fit(sk, fb)
    np.testing.assert_allclose(fb.predict_proba(X), sk.predict_proba(X), **TIGHT)
    np.testing.assert_array_equal(fb.predict(X), sk.predict(X))
    assert fb.predict_proba(X).shape == (X.shape[0], 2 if kind == "binary" else Y.shape[1])


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_regressor_matches_sklearn(activation, n_targets):
    y = Y[:, 0] if n_targets == 1 else Y
    sk, fb = _pair(SkRegressor, MLPRegressor, X, y, hidden_layer_sizes=(8, 4),
                   activation=activation, solver="sgd", momentum=0.9, alpha=1e-2, batch_size=15,
                   learning_rate_init=0.02, max_iter=4, random_state=2)
    assert fb.out_activation_ == "identity"
    assert_same_fit(sk, fb)
    np.testing.assert_allclose(fb.predict(X), sk.predict(X), **TIGHT)
    assert fb.predict(X).shape == y.shape
    np.testing.assert_allclose(fb.score(X, y), sk.score(X, y), rtol=1e-12)


def test_initial_weights_are_sklearns_glorot_draws():
    # One step at a tiny rate moves the weights by about 1e-12: what is left is the draw.
    for activation, factor in (("logistic", 2.0), ("relu", 6.0)):
        params = dict(hidden_layer_sizes=(9,), activation=activation, solver="sgd",
                      learning_rate_init=1e-12, max_iter=1, batch_size=150, random_state=7)
        sk, fb = _pair(SkRegressor, MLPRegressor, X, Y, **params)
        for a, b in zip(sk.coefs_, fb.coefs_):
            np.testing.assert_allclose(b, a, **TIGHT)
            bound = math.sqrt(factor / sum(b.shape))
            assert np.abs(b).max() <= bound and np.abs(b).max() > 0.8 * bound


def test_batch_size_auto_and_clipping():
    # "auto": min(200, n) rows per batch; 250 rows give a 200-row batch and a 50-row one.
    Xl, Yl = _data(seed=4, n=250)
    sk, fb = _pair(SkRegressor, MLPRegressor, Xl, Yl, hidden_layer_sizes=(5,), solver="sgd",
                   learning_rate_init=0.05, max_iter=3, random_state=0)
    assert_same_fit(sk, fb)
    big = MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", batch_size=1000, max_iter=1,
                       random_state=0)
    with pytest.warns(UserWarning, match="clipped"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        big.fit(X, Y)
    assert big._optimizer.trainer.batch_size == X.shape[0]  # the batch its buffers serve


def test_invscaling_schedule_matches_sklearn():
    sk, fb = _pair(SkRegressor, MLPRegressor, X, Y, hidden_layer_sizes=(6,), solver="sgd",
                   learning_rate="invscaling", learning_rate_init=0.2, power_t=0.3, alpha=0.1,
                   batch_size=30, max_iter=5, random_state=0)
    assert_same_fit(sk, fb)
    assert fb._optimizer.learning_rate == pytest.approx(0.2 / (fb.t_ + 1) ** 0.3, rel=1e-15)
    assert fb._optimizer.learning_rate == sk._optimizer.learning_rate


def test_adaptive_schedule_divides_by_five_as_sklearn():
    # tol=10: every epoch counts as "no improvement", so after n_iter_no_change + 1
    # epochs the rate is divided by 5, then again 3 epochs later, ...
    sk, fb = _pair(SkRegressor, MLPRegressor, X, Y, hidden_layer_sizes=(6,), solver="sgd",
                   learning_rate="adaptive", learning_rate_init=0.1, tol=10.0,
                   n_iter_no_change=2, batch_size=30, max_iter=10, random_state=0)
    assert_same_fit(sk, fb)
    assert fb.n_iter_ == 10
    assert fb._optimizer.learning_rate == pytest.approx(0.1 / 5 ** 3, rel=1e-15)
    assert fb._optimizer.learning_rate == sk._optimizer.learning_rate


def test_tol_stops_as_sklearn_without_warning():
    params = dict(hidden_layer_sizes=(6,), solver="sgd", learning_rate_init=0.05, tol=1e-3,
                  n_iter_no_change=3, batch_size=30, max_iter=200, random_state=0)
    sk = SkRegressor(**params).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fb = MLPRegressor(**params).fit(X, Y)
    assert fb.n_iter_ < 200
    assert_same_fit(sk, fb)
    assert fb.best_loss_ == sk.best_loss_ == min(fb.loss_curve_)


def test_convergence_warning_when_max_iter_ends_the_fit():
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier((5,), solver="sgd", max_iter=3, random_state=0).fit(X, Y_MULTICLASS)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_early_stopping_matches_sklearn(kind):
    params = dict(hidden_layer_sizes=(6,), solver="adam", learning_rate_init=0.02,
                  early_stopping=True, validation_fraction=0.2, n_iter_no_change=3,
                  batch_size=30, max_iter=60, random_state=5)
    if kind == "regression":
        sk, fb = _pair(SkRegressor, MLPRegressor, X, Y, **params)
    else:
        sk, fb = _pair(SkClassifier, MLPClassifier, X, TARGETS[kind], **params)
    if kind == "multiclass":
        # scikit-learn's code stratifies only binary targets (its docs say every
        # single-label one); ours stratifies multiclass too, so the splits differ.
        assert len(fb.validation_scores_) == fb.n_iter_
        assert fb.best_validation_score_ == max(fb.validation_scores_)
        return
    assert fb.n_iter_ < 60, "the stopping rule should fire before max_iter"
    assert fb.best_loss_ is None and sk.best_loss_ is None
    np.testing.assert_allclose(fb.validation_scores_, sk.validation_scores_, **TIGHT)
    assert fb.best_validation_score_ == pytest.approx(sk.best_validation_score_, rel=1e-12)
    # The restored weights are the best epoch's, not the last one's.
    assert_same_fit(sk, fb)


def test_early_stopping_split_is_stratified_for_multiclass():
    y = np.repeat([0, 1, 2], [100, 30, 20])
    Xs = np.random.default_rng(0).normal(size=(150, 4))
    clf = MLPClassifier((4,), solver="sgd", early_stopping=True, validation_fraction=0.2,
                        max_iter=1, random_state=0)
    seen = {}
    original = clf._validation_split

    def spy(*args):
        out = original(*args)
        seen["y_val"] = out[3]
        return out
    clf._validation_split = spy
    _quiet_fit(clf, Xs, y)
    np.testing.assert_array_equal(np.bincount(seen["y_val"]), [20, 6, 4])


def test_early_stopping_restores_best_weights():
    clf = _quiet_fit(MLPClassifier((6,), solver="sgd", learning_rate_init=0.5, momentum=0.9,
                                   early_stopping=True, n_iter_no_change=2, max_iter=30,
                                   random_state=0), X, Y_MULTICLASS)
    best = int(np.argmax(clf.validation_scores_))
    assert best < clf.n_iter_ - 1  # the last epoch was not the best
    assert clf.best_validation_score_ == clf.validation_scores_[best]


def test_many_batches_loss_curve_exact():
    # 150 rows in batches of 4: 38 mini-batches, more than the ~16 segments in
    # which the kernel runs an epoch. The penalty part of the loss
    # (0.5 alpha ||W||^2 before each step) is summed by the kernel step by
    # step, so loss_curve_ matches scikit-learn's to rounding even with a
    # large alpha and a fast-moving ||W|| (momentum 0.9).
    params = dict(hidden_layer_sizes=(6,), solver="sgd", momentum=0.9, batch_size=4,
                  learning_rate_init=0.02, max_iter=3, random_state=0)
    sk, fb = _pair(SkRegressor, MLPRegressor, X, Y, alpha=1e-2, **params)
    assert_same_fit(sk, fb)
    sk, fb = _pair(SkRegressor, MLPRegressor, X, Y, alpha=0.0, **params)
    assert_same_fit(sk, fb)


# ----------------------------------------------- partial_fit and warm_start
def test_partial_fit_matches_sklearn():
    chunks = np.array_split(np.arange(X.shape[0]), 3)
    params = dict(hidden_layer_sizes=(6,), solver="adam", learning_rate_init=0.01, alpha=1e-3,
                  batch_size=20, random_state=0)
    sk, fb = SkClassifier(**params), MLPClassifier(**params)
    classes = np.unique(Y_MULTICLASS)
    for _ in range(2):
        for rows in chunks:
            sk.partial_fit(X[rows], Y_MULTICLASS[rows], classes=classes)
            fb.partial_fit(X[rows], Y_MULTICLASS[rows], classes=classes)
    assert fb.n_iter_ == 1 and fb.t_ == 2 * X.shape[0]
    assert_same_fit(sk, fb)
    # The Adam step count carries over between calls.
    assert fb._optimizer.trainer.state.step == 6 * 3


def test_partial_fit_regressor_and_errors():
    params = dict(hidden_layer_sizes=(5,), solver="sgd", random_state=0)
    sk, fb = SkRegressor(**params), MLPRegressor(**params)
    for _ in range(3):
        sk.partial_fit(X, Y)
        fb.partial_fit(X, Y)
    assert_same_fit(sk, fb)
    with pytest.raises(ValueError, match="classes must be passed"):
        MLPClassifier().partial_fit(X, Y_MULTICLASS)
    with pytest.raises(ValueError, match="early_stopping"):
        MLPRegressor(early_stopping=True).partial_fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        fb.partial_fit(X[:, :4], Y)


def test_warm_start_from_copied_weights_matches_sklearn():
    # Our first fit starts from other weights (random_state 1); copying
    # scikit-learn's coefs_ in makes the warm-started fits agree.
    params = dict(hidden_layer_sizes=(6, 4), activation="relu", solver="sgd", momentum=0.9,
                  learning_rate_init=0.05, alpha=1e-3, batch_size=25, max_iter=2,
                  warm_start=True)
    sk = _quiet_fit(SkClassifier(random_state=0, **params), X, Y_MULTICLASS)
    fb = _quiet_fit(MLPClassifier(random_state=1, **params), X, Y_MULTICLASS)
    fb.coefs_ = [c.copy() for c in sk.coefs_]
    fb.intercepts_ = [b.copy() for b in sk.intercepts_]
    fb.set_params(random_state=0)
    _quiet_fit(sk, X, Y_MULTICLASS)
    _quiet_fit(fb, X, Y_MULTICLASS)
    assert fb.t_ == sk.t_ == 4 * X.shape[0] and len(fb.loss_curve_) == 4
    for a, b in zip(sk.coefs_ + sk.intercepts_, fb.coefs_ + fb.intercepts_):
        np.testing.assert_allclose(b, a, **TIGHT)
    np.testing.assert_allclose(fb.loss_curve_[2:], sk.loss_curve_[2:], rtol=1e-10)
    with pytest.raises(ValueError, match="same classes"):
        fb.fit(X, np.where(Y_MULTICLASS == 2, 1, Y_MULTICLASS))
    fb.set_params(hidden_layer_sizes=(3,))
    with pytest.raises(ValueError, match="layer sizes"):
        fb.fit(X, Y_MULTICLASS)


def test_coefs_are_views_into_the_network():
    reg = _quiet_fit(MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", max_iter=2,
                                  random_state=0), X, Y)
    assert reg.coefs_[0].shape == (X.shape[1], 5)
    np.testing.assert_array_equal(reg.coefs_[0], reg._net.weights[0].T)
    assert np.shares_memory(reg.coefs_[1], kernel_view(reg._net).theta)
    before = reg.predict(X)
    reg.coefs_[1][:] = 0.0
    reg.intercepts_[1][:] = [1.0, 2.0, 3.0]
    np.testing.assert_allclose(reg.predict(X), np.tile([1.0, 2.0, 3.0], (X.shape[0], 1)))
    reg.coefs_[1] = np.ones((5, 3))  # a new array: copied into the network
    assert not np.allclose(reg.predict(X), before)
    assert np.shares_memory(reg.coefs_[1], kernel_view(reg._net).theta)


# ------------------------------------------------ dtype, activations, pickle
def test_float32_keeps_float32():
    X32 = X.astype(np.float32)
    params = dict(hidden_layer_sizes=(6,), solver="sgd", learning_rate_init=0.05, batch_size=30,
                  max_iter=3, random_state=0)
    fb = _quiet_fit(MLPClassifier(dtype=np.float32, **params), X32, Y_MULTICLASS)
    sk = _quiet_fit(SkClassifier(**params), X32, Y_MULTICLASS)  # float32 in scikit-learn too
    assert all(c.dtype == np.float32 for c in fb.coefs_ + fb.intercepts_)
    assert fb.predict_proba(X).dtype == np.float32
    for a, b in zip(sk.coefs_, fb.coefs_):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(fb.loss_curve_, sk.loss_curve_, rtol=1e-5)
    with pytest.raises(ValueError, match="dtype"):
        MLPClassifier(dtype=np.float16).fit(X, Y_MULTICLASS)


def reference_sgd(coefs, intercepts, X, Y, f, fprime, lr, alpha, batch_size, epochs):
    """scikit-learn's mini-batch SGD (momentum 0, identity output, squared error), per batch.

    Returns the weights and the per-epoch loss: mean over rows of
    0.5 mean_j (a - y)^2, plus 0.5 alpha ||W||^2 / m for each batch of m rows
    at the weights before its step, weighted by m / n.
    """
    coefs = [c.copy() for c in coefs]
    intercepts = [b.copy() for b in intercepts]
    n = X.shape[0]
    losses = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, n, batch_size):
            xb, yb = X[start:start + batch_size], Y[start:start + batch_size]
            m = xb.shape[0]
            zs, acts = [], [xb]
            for i, (W, b) in enumerate(zip(coefs, intercepts)):
                z = acts[-1] @ W + b
                zs.append(z)
                acts.append(z if i == len(coefs) - 1 else f(z))
            penalty = sum(np.sum(W * W) for W in coefs)
            total += (0.5 * np.mean((acts[-1] - yb) ** 2, axis=0).mean()
                      + 0.5 * alpha * penalty / m) * m
            delta = acts[-1] - yb
            grads = [None] * len(coefs)
            for i in range(len(coefs) - 1, -1, -1):
                grads[i] = ((acts[i].T @ delta + alpha * coefs[i]) / m, delta.sum(axis=0) / m)
                if i > 0:
                    delta = (delta @ coefs[i].T) * fprime(zs[i - 1])
            for i, (gW, gb) in enumerate(grads):
                coefs[i] -= lr * gW
                intercepts[i] -= lr * gb
        losses.append(total / n)
    return coefs, intercepts, losses


def test_custom_activation_matches_numpy_reference(softplus):
    params = dict(hidden_layer_sizes=(6, 5), activation=softplus, solver="sgd", momentum=0.0,
                  alpha=1e-2, batch_size=16, learning_rate_init=0.05, shuffle=False,
                  random_state=0)
    start = _quiet_fit(MLPRegressor(max_iter=1, learning_rate_init=1e-300,
                                    **{k: v for k, v in params.items()
                                       if k != "learning_rate_init"}), X, Y)
    # Glorot factor 6 for anything but "logistic", drawn as scikit-learn draws it.
    sk0 = _quiet_fit(SkRegressor(max_iter=1, learning_rate_init=1e-300,
                                 **{k: v for k, v in params.items()
                                    if k not in ("learning_rate_init", "activation")}), X, Y)
    for a, b in zip(sk0.coefs_, start.coefs_):
        np.testing.assert_array_equal(b, a)
    fb = _quiet_fit(MLPRegressor(max_iter=3, **params), X, Y)

    def f(z):
        return np.log1p(np.exp(z))

    def fprime(z):
        return 1.0 / (1.0 + np.exp(-z))
    coefs, intercepts, losses = reference_sgd(start.coefs_, start.intercepts_, X, Y, f, fprime,
                                              lr=0.05, alpha=1e-2, batch_size=16, epochs=3)
    for a, b in zip(coefs + intercepts, fb.coefs_ + fb.intercepts_):
        np.testing.assert_allclose(b, a, **TIGHT)
    np.testing.assert_allclose(fb.loss_curve_, losses, rtol=1e-10)


@pytest.mark.slow
def test_pickle_and_deepcopy_keep_the_model(softplus):
    for make, y in ((lambda: MLPClassifier((5,), activation=softplus, solver="adam",
                                           max_iter=3, random_state=0), Y_BINARY),
                    (lambda: MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", max_iter=3,
                                          random_state=0), Y)):
        for copier in (lambda e: pickle.loads(pickle.dumps(e)), copy.deepcopy):
            est, twin = _quiet_fit(make(), X, y), _quiet_fit(make(), X, y)
            clone_ = copier(est)
            np.testing.assert_array_equal(clone_.predict(X), est.predict(X))
            assert np.shares_memory(clone_.coefs_[0], kernel_view(clone_._net).theta)
            # Training continues from the same state, optimiser included.
            clone_.partial_fit(X, y)
            twin.partial_fit(X, y)
            for a, b in zip(twin.coefs_ + twin.intercepts_, clone_.coefs_ + clone_.intercepts_):
                np.testing.assert_array_equal(b, a)


# ------------------------------------------------------ invalid arguments
@pytest.mark.parametrize("params, error, match", [
    (dict(solver="lbfgs"), ValueError, "solver"),
    (dict(activation="softmax"), ValueError, "activation"),
    (dict(activation=3), TypeError, "activation"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size="big"), ValueError, "batch_size"),
    (dict(hidden_layer_sizes=(5, 0)), ValueError, r"hidden_layer_sizes\[1\]"),
    (dict(hidden_layer_sizes="5"), TypeError, "hidden_layer_sizes"),
    (dict(alpha=-1.0), ValueError, "alpha"),
    (dict(learning_rate="cyclic"), ValueError, "learning_rate"),
    (dict(learning_rate_init=0.0), ValueError, "learning_rate_init"),
    (dict(momentum=1.5), ValueError, "momentum"),
    (dict(beta_1=1.0), ValueError, "beta_1"),
    (dict(max_iter=1.5), TypeError, "max_iter"),
    (dict(n_iter_no_change=0), ValueError, "n_iter_no_change"),
    (dict(shuffle="yes"), TypeError, "shuffle"),
    (dict(dtype="int32"), ValueError, "dtype"),
])
def test_invalid_parameters_name_the_argument(params, error, match):
    with pytest.raises(error, match=match):
        MLPClassifier(**params).fit(X, Y_MULTICLASS)


def test_regressor_rejects_poisson_and_reports_divergence():
    with pytest.raises(ValueError, match="loss"):
        MLPRegressor(loss="poisson").fit(X, Y)
    huge = MLPRegressor(hidden_layer_sizes=(5,), solver="sgd", learning_rate_init=10.0,
                        momentum=0.0, max_iter=50, random_state=0)
    with pytest.raises(ValueError, match="non-finite"):
        _quiet_fit(huge, X, Y * 1e150)
    assert all(np.isfinite(c).all() for c in huge.coefs_)  # the last finite weights


def test_verbose_prints_scikit_learns_lines(capsys):
    params = dict(hidden_layer_sizes=(4,), solver="sgd", max_iter=2, random_state=0,
                  verbose=True)
    _quiet_fit(SkClassifier(**params), X, Y_MULTICLASS)
    expected = capsys.readouterr().out
    _quiet_fit(MLPClassifier(**params), X, Y_MULTICLASS)
    out = capsys.readouterr().out
    assert out.startswith("Iteration 1, loss = ") and out == expected
