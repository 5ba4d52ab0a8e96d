"""Checkpoints resume bit-identically; interrupted fits leave a consistent network."""
import numpy as np
import pytest

import fastbp

pytestmark = pytest.mark.filterwarnings("ignore::fastbp.NotLearningWarning")  # random-label fits


def _data(seed=0, n=60):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=(n, 5)), rng.integers(0, 3, size=n)


SETTINGS = [
    dict(eta=0.5, momentum=0.9),
    dict(eta=0.5, momentum=0.9, nesterov=True, lmbda=0.5, regularization="l1"),
    dict(eta=0.01, optimizer="adam", lmbda=0.1),
    dict(eta=0.5, lr_schedule="cosine", warmup_epochs=2, base_batch_size=4),
]


@pytest.mark.parametrize("kwargs", SETTINGS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_resume_is_bit_identical(tmp_path, kwargs, dtype):
    X, y = _data()
    path = tmp_path / "fit.npz"
    full = fastbp.Network([5, 6, 3], dtype=dtype, seed=1)
    full_history = full.fit(X, y, 7, 8, seed=2, **kwargs)

    first = fastbp.Network([5, 6, 3], dtype=dtype, seed=1)
    first.fit(X, y, 7, 8, seed=2, checkpoint=path, checkpoint_every=2,
              callback=lambda net, epoch, h: epoch == 3, **kwargs)  # stops after 4 epochs
    resumed = fastbp.Network([5, 6, 3], dtype=dtype, seed=123)  # other start: all comes from the file
    history = resumed.fit(X, y, 7, 8, seed=2, checkpoint=path, resume=True, **kwargs)
    np.testing.assert_array_equal(resumed.get_parameters(), full.get_parameters())
    assert history["train_cost"] == full_history["train_cost"]
    assert history["epoch"] == list(range(1, 8))


def test_resume_without_a_file_starts_fresh(tmp_path):
    X, y = _data(1)
    a = fastbp.Network([5, 4, 3], seed=3)
    b = fastbp.Network([5, 4, 3], seed=3)
    a.fit(X, y, 2, 10, 0.3, seed=4)
    b.fit(X, y, 2, 10, 0.3, seed=4, checkpoint=tmp_path / "new.npz", resume=True)
    np.testing.assert_array_equal(a.get_parameters(), b.get_parameters())
    assert (tmp_path / "new.npz").exists()


def test_resume_with_other_settings_is_refused(tmp_path):
    X, y = _data(2)
    path = tmp_path / "ck.npz"
    fastbp.Network([5, 4, 3], seed=3).fit(X, y, 2, 10, 0.3, seed=4, checkpoint=path)
    with pytest.raises(ValueError, match="eta"):
        fastbp.Network([5, 4, 3], seed=3).fit(X, y, 4, 10, 0.5, seed=4, checkpoint=path,
                                              resume=True)
    with pytest.raises(ValueError, match="parameters"):
        fastbp.Network([5, 7, 3], seed=3).fit(X, y, 2, 10, 0.3, seed=4, checkpoint=path,
                                              resume=True)


def test_damaged_checkpoint_is_a_value_error(tmp_path):
    X, y = _data(3)
    path = tmp_path / "ck.npz"
    fastbp.Network([5, 4, 3], seed=3).fit(X, y, 1, 10, 0.3, seed=4, checkpoint=path)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="checkpoint"):
        fastbp.Network([5, 4, 3], seed=3).fit(X, y, 2, 10, 0.3, seed=4, checkpoint=path,
                                              resume=True)


def test_resume_needs_a_checkpoint_path():
    X, y = _data(4)
    with pytest.raises(ValueError, match="checkpoint"):
        fastbp.Network([5, 4, 3]).fit(X, y, 1, 10, 0.3, resume=True)


def test_interrupt_leaves_the_network_at_the_last_completed_minibatch():
    """KeyboardInterrupt between kernel segments: the weights are those after whole mini-batches."""
    X, y = _data(5, n=320)
    batch = 10  # 32 mini-batches: the epoch runs in 16 segments of 2
    seen = []

    def interrupt(epoch, done, total):
        seen.append(done)
        if done == 10:
            raise KeyboardInterrupt

    net = fastbp.Network([5, 6, 3], seed=6)
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, 1, batch, 0.4, shuffle=False, on_progress=interrupt)
    assert seen[-1] == 10
    # The same 10 mini-batches as a fit of exactly those rows.
    expected = fastbp.Network([5, 6, 3], seed=6)
    expected.fit(X[:100], y[:100], 1, batch, 0.4, shuffle=False)
    np.testing.assert_array_equal(net.get_parameters(), expected.get_parameters())
