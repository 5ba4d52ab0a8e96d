"""fastbp.datasets: IDX folders, the search order, downloads (faked), digits, .npz.

Small IDX files are written by hand here (``write_idx``), gzipped or plain,
so the loaders are tested without the real data; the real Fashion-MNIST files
of Debian's dataset-fashion-mnist package are read when installed.
"""
import gzip
import re
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fastbp import datasets
from fastbp.datasets import IDX_FILES, DatasetNotFoundError

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
TRAIN_IMAGES, TRAIN_LABELS = IDX_FILES["train_images"], IDX_FILES["train_labels"]
TEST_IMAGES, TEST_LABELS = IDX_FILES["test_images"], IDX_FILES["test_labels"]


# ------------------------------------------------------------------ helpers
def idx_bytes(arr):
    """The IDX encoding of a uint8 array: magic 0 0 0x08 ndim, big-endian dims, data."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(">" + "I" * arr.ndim, *arr.shape)
    return header + arr.tobytes()


def write_idx(path, arr, gz):
    data = idx_bytes(arr)
    path = Path(str(path) + ".gz") if gz else Path(path)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def make_idx_folder(folder, seed, n_train=6, n_test=4, rows=3, cols=2, gz=True, n_classes=10):
    """Write the four IDX files of a tiny data set; return its arrays for checking."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, rows, cols), dtype=np.uint8),
        "train_labels": rng.integers(0, n_classes, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, rows, cols), dtype=np.uint8),
        "test_labels": rng.integers(0, n_classes, n_test, dtype=np.uint8),
    }
    for role, base in datasets.IDX_FILES.items():
        write_idx(folder / base, arrays[role], gz)
    return arrays


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Isolated search places: $FASTBP_DATA, a fake home (cache) and a fake /usr/share/datasets."""
    env = tmp_path / "env"
    home = tmp_path / "home"
    system = tmp_path / "system"
    for p in (env, home, system):
        p.mkdir()
    monkeypatch.setenv("FASTBP_DATA", str(env))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_DATA_DIR", system)
    return {"env": env / "fashion-mnist", "cache": home / ".cache" / "fastbp" / "fashion-mnist",
            "system": system / "fashion-mnist", "root": tmp_path}


@pytest.fixture
def no_download(monkeypatch):
    """Make any download attempt fail as it does offline; record the attempts."""
    pooch = pytest.importorskip("pooch")
    calls = []

    def offline(url, known_hash=None, fname=None, path=None, **kwargs):
        calls.append({"url": url, "known_hash": known_hash, "fname": fname, "path": path})
        raise ConnectionError(f"Failed to resolve host of {url} (no network)")

    monkeypatch.setattr(pooch, "retrieve", offline)
    return calls


# ---------------------------------------------------------- reading folders
@pytest.mark.parametrize("gz", [True, False])
def test_load_idx_folder_raw_uint8(tmp_path, gz):
    arrays = make_idx_folder(tmp_path, seed=1, gz=gz)
    X_train, y_train, X_test, y_test = datasets.load_idx_folder(tmp_path)
    assert X_train.dtype == np.uint8 and X_test.dtype == np.uint8
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert X_train.shape == (6, 6) and X_test.shape == (4, 6)
    np.testing.assert_array_equal(X_train, arrays["train_images"].reshape(6, 6))
    np.testing.assert_array_equal(X_test, arrays["test_images"].reshape(4, 6))
    np.testing.assert_array_equal(y_train, arrays["train_labels"])
    np.testing.assert_array_equal(y_test, arrays["test_labels"])
    assert X_train.flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtype_scales_to_unit_interval(tmp_path, dtype):
    arrays = make_idx_folder(tmp_path, seed=2)
    arrays["train_images"][0, 0, 0] = 255
    arrays["train_images"][0, 0, 1] = 0
    write_idx(tmp_path / TRAIN_IMAGES, arrays["train_images"], gz=True)
    X_train, _, X_test, _ = datasets.load_idx_folder(tmp_path, dtype=dtype)
    assert X_train.dtype == dtype and X_test.dtype == dtype
    expected = arrays["train_images"].reshape(6, -1).astype(np.float64) / 255.0
    np.testing.assert_allclose(X_train, expected, rtol=1e-6 if dtype == np.float32 else 1e-15)
    assert X_train[0, 0] == 1.0 and X_train[0, 1] == 0.0
    assert X_train.min() >= 0.0 and X_train.max() <= 1.0


def test_bad_dtype_rejected(tmp_path):
    make_idx_folder(tmp_path, seed=3)
    with pytest.raises(ValueError, match="dtype"):
        datasets.load_idx_folder(tmp_path, dtype=np.int32)


def test_dotted_and_plain_names_accepted(tmp_path):
    arrays = make_idx_folder(tmp_path, seed=4, gz=False)
    (tmp_path / TRAIN_IMAGES).rename(tmp_path / "train-images.idx3-ubyte")  # a mirror's spelling
    X_train, *_ = datasets.load_idx_folder(tmp_path)
    np.testing.assert_array_equal(X_train, arrays["train_images"].reshape(6, -1))


def test_missing_file_named(tmp_path):
    make_idx_folder(tmp_path, seed=5)
    (tmp_path / (TEST_LABELS + ".gz")).unlink()
    with pytest.raises(FileNotFoundError, match=TEST_LABELS):
        datasets.load_idx_folder(tmp_path)


# ------------------------------------------------------- malformed files
def _corrupt(folder, name, data):
    (folder / name).write_bytes(data)


def test_truncated_plain_file_rejected(tmp_path):
    make_idx_folder(tmp_path, seed=6, gz=False)
    path = tmp_path / TRAIN_IMAGES
    _corrupt(tmp_path, path.name, path.read_bytes()[:-5])
    with pytest.raises(ValueError, match=f"{TRAIN_IMAGES}.*truncated"):
        datasets.load_idx_folder(tmp_path)


def test_truncated_gzip_stream_rejected(tmp_path):
    make_idx_folder(tmp_path, seed=7, gz=True)
    path = tmp_path / (TEST_IMAGES + ".gz")
    _corrupt(tmp_path, path.name, path.read_bytes()[:-12])
    with pytest.raises(ValueError, match=re.escape(TEST_IMAGES + ".gz")):
        datasets.load_idx_folder(tmp_path)


def test_gzipped_truncated_payload_rejected(tmp_path):
    make_idx_folder(tmp_path, seed=8, gz=True)
    good = idx_bytes(np.zeros((6, 3, 2), np.uint8))
    _corrupt(tmp_path, TRAIN_IMAGES + ".gz", gzip.compress(good[:-1]))
    with pytest.raises(ValueError, match="truncated"):
        datasets.load_idx_folder(tmp_path)


def test_bad_magic_rejected(tmp_path):
    make_idx_folder(tmp_path, seed=9, gz=False)
    _corrupt(tmp_path, TRAIN_LABELS, b"\x01\x02\x08\x01" + bytes(10))
    with pytest.raises(ValueError, match="magic"):
        datasets.load_idx_folder(tmp_path)


def test_image_label_count_mismatch_rejected(tmp_path):
    make_idx_folder(tmp_path, seed=10)
    write_idx(tmp_path / TRAIN_LABELS, np.zeros(5, np.uint8), gz=True)
    with pytest.raises(ValueError, match="6 images but .* 5 labels"):
        datasets.load_idx_folder(tmp_path)


def test_wrong_rank_rejected(tmp_path):
    make_idx_folder(tmp_path, seed=11)
    write_idx(tmp_path / TEST_IMAGES, np.zeros((4, 6), np.uint8), gz=True)
    with pytest.raises(ValueError, match=r"shape \(n, rows, cols\)"):
        datasets.load_idx_folder(tmp_path)


def test_train_test_image_shapes_must_agree(tmp_path):
    make_idx_folder(tmp_path, seed=12)
    write_idx(tmp_path / TEST_IMAGES, np.zeros((4, 2, 3), np.uint8), gz=True)
    with pytest.raises(ValueError, match="test images"):
        datasets.load_idx_folder(tmp_path)


# ---------------------------------------------------------- search order
def _first_label(path=None):
    _, y_train, _, _ = datasets.load_fashion_mnist(path)
    return int(y_train[0])


def _make_marked(folder, mark):
    """A tiny data set whose first training label is ``mark`` (identifies the folder)."""
    arrays = make_idx_folder(folder, seed=100 + mark)
    arrays["train_labels"][0] = mark
    write_idx(folder / TRAIN_LABELS, arrays["train_labels"], gz=True)


def test_search_order_env_cache_system(places, no_download):
    _make_marked(places["system"], 4)
    assert _first_label() == 4
    _make_marked(places["cache"], 3)
    assert _first_label() == 3
    _make_marked(places["env"], 2)
    assert _first_label() == 2
    explicit = places["root"] / "mine"
    _make_marked(explicit, 1)
    assert _first_label(explicit) == 1
    assert no_download == []
    assert datasets.search_folders("fashion-mnist") == [places["env"], places["cache"],
                                                        places["system"]]


def test_xdg_cache_home_respected(places, monkeypatch, no_download):
    xdg = places["root"] / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    _make_marked(xdg / "fastbp" / "fashion-mnist", 7)
    assert datasets.cache_dir() == xdg / "fastbp"
    assert _first_label() == 7


def test_incomplete_folder_is_skipped(places, no_download):
    _make_marked(places["env"], 2)
    (places["env"] / (TEST_IMAGES + ".gz")).unlink()
    _make_marked(places["system"], 4)
    assert _first_label() == 4


def test_explicit_path_subfolder_and_no_fallthrough(places, no_download):
    _make_marked(places["system"], 4)
    explicit = places["root"] / "mine"
    _make_marked(explicit / "fashion-mnist", 5)
    assert _first_label(explicit) == 5
    empty = places["root"] / "empty"
    empty.mkdir()
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(empty))):
        datasets.load_fashion_mnist(empty)
    assert no_download == []  # an explicit path never downloads


def test_explicit_path_partial_names_missing_files(places):
    explicit = places["root"] / "partial"
    make_idx_folder(explicit, seed=13)
    (explicit / (TRAIN_LABELS + ".gz")).unlink()
    with pytest.raises(DatasetNotFoundError, match=f"lacks {TRAIN_LABELS}"):
        datasets.load_fashion_mnist(explicit)


def test_unknown_name_rejected():
    with pytest.raises(ValueError, match="unknown data set"):
        datasets.locate("cifar")


# -------------------------------------------------------------- downloads
def test_offline_error_says_where_to_put_files(places, no_download):
    with pytest.raises(DatasetNotFoundError) as info:
        datasets.load_fashion_mnist()
    msg = str(info.value)
    assert "download failed" in msg and "no network" in msg
    for name in IDX_FILES.values():
        assert name + ".gz" in msg
    for folder in (places["env"], places["cache"], places["system"]):
        assert str(folder) in msg
    assert "FASTBP_DATA" in msg
    # every mirror was tried for the first file, with its SHA-256, into the cache
    assert [c["url"] for c in no_download] == [u + TRAIN_IMAGES + ".gz"
                                               for u in datasets.SOURCES["fashion-mnist"]["urls"]]
    sha = datasets.SOURCES["fashion-mnist"]["sha256"][TRAIN_IMAGES + ".gz"]
    assert all(c["known_hash"] == "sha256:" + sha for c in no_download)
    assert all(Path(c["path"]) == places["cache"] for c in no_download)


def test_download_false_never_calls_pooch(places, no_download):
    with pytest.raises(DatasetNotFoundError, match="downloading was turned off"):
        datasets.load_mnist(download=False)
    assert no_download == []


def test_missing_pooch_named_in_error(places, monkeypatch):
    monkeypatch.setitem(sys.modules, "pooch", None)
    with pytest.raises(DatasetNotFoundError, match=re.escape('pip install "fastbp[data]"')):
        datasets.load_mnist()


def test_download_goes_to_cache_and_is_read(places, monkeypatch):
    pooch = pytest.importorskip("pooch")
    source = places["root"] / "server"
    arrays = make_idx_folder(source, seed=14, gz=True)
    fetched = []

    def fake_retrieve(url, known_hash=None, fname=None, path=None, progressbar=False):
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", known_hash)
        fetched.append(fname)
        dest = Path(path) / fname
        dest.write_bytes((source / fname).read_bytes())
        return str(dest)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    X_train, y_train, _, _ = datasets.load_fashion_mnist()
    assert sorted(fetched) == sorted(f + ".gz" for f in datasets.IDX_FILES.values())
    assert all((places["cache"] / f).is_file() for f in fetched)
    np.testing.assert_array_equal(y_train, arrays["train_labels"])
    # the second call finds the cache and downloads nothing
    fetched.clear()
    datasets.load_fashion_mnist()
    assert fetched == []


def test_official_hash_table_well_formed():
    for name, source in datasets.SOURCES.items():
        assert set(source["sha256"]) == {f + ".gz" for f in datasets.IDX_FILES.values()}
        for sha in source["sha256"].values():
            assert re.fullmatch(r"[0-9a-f]{64}", sha), (name, sha)
        assert len(set(source["sha256"].values())) == 4
        assert all(u.endswith("/") for u in source["urls"])


# ------------------------------------------------------------ real data
@pytest.mark.slow
@pytest.mark.skipif(not (DEBIAN_FASHION / (TRAIN_LABELS + ".gz")).is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_from_debian(monkeypatch, tmp_path):
    monkeypatch.delenv("FASTBP_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty cache: the system copy is found
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert datasets.locate("fashion-mnist", download=False) == DEBIAN_FASHION
    X_train, y_train, X_test, y_test = datasets.load_fashion_mnist(download=False)
    assert X_train.shape == (60000, 784) and X_test.shape == (10000, 784)
    assert X_train.dtype == np.uint8 and y_train.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y_train), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(y_test), np.full(10, 1000))
    # published first labels: ankle boot, T-shirt (train); ankle boot, pullover (test)
    assert list(y_train[:2]) == [9, 0] and list(y_test[:2]) == [9, 2]
    assert 0 < X_train.mean() < 255


# ----------------------------------------------------------------- digits
def test_load_digits_default_split():
    pytest.importorskip("sklearn")
    X_train, y_train, X_test, y_test = datasets.load_digits()
    assert X_train.shape == (1500, 64) and X_test.shape == (297, 64)
    assert X_train.dtype == np.uint8 and y_train.dtype == np.int64
    assert X_train.max() == 16 and X_train.min() == 0
    from sklearn.datasets import load_digits
    images, labels = load_digits(return_X_y=True)
    np.testing.assert_array_equal(X_test, images[1500:])
    np.testing.assert_array_equal(y_train, labels[:1500])


def test_load_digits_float_and_n_train():
    pytest.importorskip("sklearn")
    raw = datasets.load_digits()
    X_train, _, X_test, y_test = datasets.load_digits(dtype=np.float32, n_train=1000)
    assert X_train.dtype == np.float32 and X_train.shape == (1000, 64)
    assert X_test.shape == (797, 64) and y_test.shape == (797,)
    np.testing.assert_allclose(X_train, raw[0][:1000] / 16.0, rtol=1e-7)
    with pytest.raises(ValueError, match="n_train"):
        datasets.load_digits(n_train=1797)
    with pytest.raises(TypeError, match="n_train"):
        datasets.load_digits(n_train=10.0)


def test_load_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=re.escape('fastbp[sklearn]')):
        datasets.load_digits()


# -------------------------------------------------------------------- npz
def test_load_npz(tmp_path):
    rng = np.random.default_rng(15)
    path = tmp_path / "d.npz"
    X_train = rng.integers(0, 256, (5, 2, 3), dtype=np.uint8)
    X_test = rng.integers(0, 256, (2, 2, 3), dtype=np.uint8)
    np.savez(path, X_train=X_train, y_train=np.arange(5), X_test=X_test,
             y_test=np.array([1, 0], np.uint8))
    a, b, c, d = datasets.load_npz(path)
    np.testing.assert_array_equal(a, X_train.reshape(5, 6))
    assert b.dtype == np.int64 and list(d) == [1, 0]
    a, _, c, _ = datasets.load_npz(path, dtype=np.float64)
    np.testing.assert_allclose(a, X_train.reshape(5, 6) / 255.0)
    # float inputs are taken as they are
    np.savez(path, X_train=np.full((3, 4), 0.5), y_train=np.zeros(3, int),
             X_test=np.zeros((1, 4)), y_test=np.zeros(1, int))
    a, *_ = datasets.load_npz(path, dtype=np.float32)
    assert a.dtype == np.float32 and np.all(a == 0.5)


def test_load_npz_errors(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X_train=np.zeros((3, 4)), y_train=np.zeros(3, int))
    with pytest.raises(ValueError, match=r"missing array\(s\) \['X_test', 'y_test'\]"):
        datasets.load_npz(path)
    np.savez(path, X_train=np.zeros((3, 4)), y_train=np.zeros(2, int),
             X_test=np.zeros((1, 4)), y_test=np.zeros(1, int))
    with pytest.raises(ValueError, match="y_train must hold 3 integer labels"):
        datasets.load_npz(path)
    np.savez(path, X_train=np.zeros((3, 4)), y_train=np.zeros(3, int),
             X_test=np.zeros((1, 5)), y_test=np.zeros(1, int))
    with pytest.raises(ValueError, match="X_test 5"):
        datasets.load_npz(path)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="bad.npz"):
        datasets.load_npz(bad)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ValueError, match="not an .npz file"):
        datasets.load_npz(single)


# -------------------------------------------------------------- laziness
@pytest.mark.slow
def test_optional_packages_not_imported():
    code = ("import fastbp, fastbp.datasets, fastbp.cli, sys; "
            "print([m for m in ('pooch', 'tqdm', 'matplotlib', 'sklearn') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert out.strip() == "[]"
