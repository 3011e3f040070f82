"""Datasets: the IDX format, real MNIST/Fashion-MNIST, the file search, downloads, generated sets."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import shutil
import threading
import urllib.error
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import zerodl as zd
from zerodl.data import (
    MNIST,
    ChecksumError,
    DataLoader,
    DatasetNotFoundError,
    FashionMNIST,
    IDXFormatError,
    circles,
    one_hot,
    parse_idx,
    read_idx,
    sine,
    spiral,
    xor,
)
from zerodl.data import download as dl
from zerodl.data.idx import IMAGES_MAGIC, LABELS_MAGIC

REAL_FETCH = dl.fetch


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any download a test did not arrange for fails at once instead of touching the network."""

    def refuse(url, out, timeout=None):
        raise urllib.error.URLError(f"network disabled in tests ({url})")

    monkeypatch.setattr(dl, "fetch", refuse)


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file holding `array`, written by hand from the format's definition."""
    header = bytes([0, 0, type_code, array.ndim])
    header += b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


# ---------------------------------------------------------------- IDX format


@pytest.mark.parametrize("compress", [False, True])
def test_idx_files_round_trip_raw_and_gzipped(tmp_path, compress):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    labels = np.array([7, 1], dtype=np.uint8)
    for name, array in [("img", images), ("lab", labels)]:
        data = idx_bytes(array)
        path = tmp_path / (name + (".gz" if compress else ""))
        path.write_bytes(gzip.compress(data) if compress else data)
    got_images = read_idx(tmp_path / ("img.gz" if compress else "img"), IMAGES_MAGIC)
    got_labels = read_idx(tmp_path / ("lab.gz" if compress else "lab"), LABELS_MAGIC)
    assert got_images.shape == (2, 3, 4) and got_images.dtype == np.uint8
    assert got_images[1, 2, 3] == 23
    np.testing.assert_array_equal(got_labels, [7, 1])


def test_idx_header_bytes_are_big_endian():
    data = idx_bytes(np.zeros((5, 28, 28), np.uint8))
    assert data[:16].hex() == "00000803" "00000005" "0000001c" "0000001c"


def test_idx_reads_multibyte_types_in_native_order():
    values = np.array([[1.5, -2.0], [3.25, 1e6]], dtype=np.float32)
    got = parse_idx(idx_bytes(values, 0x0D))
    assert got.dtype == np.float32 and got.dtype.isnative
    np.testing.assert_array_equal(got, values)


def test_idx_wrong_magic_names_the_file_and_both_numbers(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros(4, np.uint8)))  # a label file where images belong
    with pytest.raises(IDXFormatError) as e:
        read_idx(path, IMAGES_MAGIC)
    assert str(path) in str(e.value)
    assert "0x00000801" in str(e.value) and "0x00000803" in str(e.value)


def test_idx_not_an_idx_file():
    with pytest.raises(IDXFormatError, match="not an IDX header"):
        parse_idx(b"PK\x03\x04 a zip file", "x.zip")


@pytest.mark.parametrize("cut, word", [(-1, "truncated"), (+3, "too long")])
def test_idx_wrong_length_is_reported_with_the_byte_counts(tmp_path, cut, word):
    data = idx_bytes(np.zeros((2, 3, 4), np.uint8))
    data = data[:cut] if cut < 0 else data + b"\0" * cut
    with pytest.raises(IDXFormatError) as e:
        parse_idx(data, "small-idx3", IMAGES_MAGIC)
    message = str(e.value)
    assert "small-idx3" in message and word in message
    assert "2 x 3 x 4" in message and f"{24 + cut:,} bytes follow" in message


def test_idx_truncated_header():
    with pytest.raises(IDXFormatError, match="truncated header"):
        parse_idx(bytes([0, 0, 8, 3, 0, 0, 0, 5]), "head")


def test_damaged_gzip_names_the_file(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(100, np.uint8)))[:-12])
    with pytest.raises(IDXFormatError, match="labels.gz: damaged or incomplete gzip"):
        read_idx(path)


# ---------------------------------------------------------------- real data

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def mnist(data_root):
    return MNIST(root=data_root, train=True), MNIST(root=data_root, train=False)


def test_mnist_sizes_and_label_counts(mnist):
    train, test = mnist
    assert len(train) == 60_000 and len(test) == 10_000
    assert np.bincount(train.labels).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(test.labels).tolist() == MNIST_TEST_COUNTS


def test_mnist_arrays(mnist):
    train, _ = mnist
    assert train.images.shape == (60_000, 1, 28, 28) and train.images.dtype == np.float32
    assert train.labels.shape == (60_000,) and train.labels.dtype == np.int64
    assert train.images.min() == 0.0 and train.images.max() == 1.0
    assert train.images.mean(dtype=np.float64) == pytest.approx(0.1307, abs=5e-5)
    # every pixel is k/255 for an integer k: the bytes were divided by 255, nothing else
    k = train.images[:100] * 255
    np.testing.assert_allclose(k, np.round(k), atol=1e-4)
    assert train.classes == tuple("0123456789")


def test_mnist_indexing(mnist):
    train, _ = mnist
    x, t = train[0]
    assert x.shape == (1, 28, 28) and t == 5  # the first training image is a 5
    x, t = train[10:20]
    assert x.shape == (10, 1, 28, 28) and t.tolist() == train.labels[10:20].tolist()
    x, t = train[np.array([3, 1, 2])]
    assert t.tolist() == [1, 0, 4]


def test_mnist_flatten_is_the_same_pixels(mnist, data_root):
    _, test = mnist
    flat = MNIST(root=data_root, train=False, flatten=True)
    assert flat.images.shape == (10_000, 784)
    np.testing.assert_array_equal(flat.images, test.images.reshape(10_000, 784))


def test_fashion_mnist_counts(data_root):
    train = FashionMNIST(root=data_root)
    test = FashionMNIST(root=data_root, train=False, flatten=True)
    assert np.bincount(train.labels).tolist() == [6000] * 10
    assert np.bincount(test.labels).tolist() == [1000] * 10
    assert test.images.shape == (10_000, 784) and test.images.dtype == np.float32
    assert train.classes[9] == "Ankle boot" and len(train.classes) == 10


def test_data_loader_batches_real_mnist(mnist):
    _, test = mnist
    loader = DataLoader(test, batch_size=1000, seed=0)
    x, t = next(iter(loader))
    assert len(loader) == 10 and x.shape == (1000, 1, 28, 28) and t.dtype == np.int64


def test_one_hot():
    got = one_hot(np.array([2, 0, 9]))
    assert got.shape == (3, 10) and got.dtype == np.float32
    np.testing.assert_array_equal(got.argmax(axis=1), [2, 0, 9])
    assert got.sum() == 3
    np.testing.assert_array_equal(one_hot([1], num_classes=3), [[0, 1, 0]])
    with pytest.raises(ValueError, match="num_classes"):
        one_hot([3], num_classes=3)


# ---------------------------------------------------------------- the search for files

TOY_DATA = idx_bytes(np.arange(10, dtype=np.uint8))
TOY = dl.Source(
    name="toy",
    title="Toy",
    sha256={"toy-labels-idx1-ubyte": hashlib.sha256(TOY_DATA).hexdigest()},
    mirrors=("https://mirror-one.invalid/toy/", "https://mirror-two.invalid/"),
)
TOY_FILE = "toy-labels-idx1-ubyte"


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Four empty places (root, $ZERODL_DATA, cache, system) wired into the search."""
    p = {k: tmp_path / k for k in ("root", "env", "cache", "system")}
    for folder in p.values():
        folder.mkdir()
    monkeypatch.setenv("ZERODL_DATA", str(p["env"]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(p["cache"]))
    monkeypatch.setattr(dl, "SYSTEM_DATA_DIR", p["system"])
    return p


def put(folder: Path, data: bytes = TOY_DATA, gz: bool = True, name: str = TOY_FILE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name + ".gz" if gz else name)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def test_search_order_root_then_env_then_cache_then_system(places):
    expected = [
        put(places["root"] / "toy"),
        put(places["root"], gz=False),
        put(places["env"] / "toy"),
        put(places["cache"] / "zerodl" / "toy", gz=False),
        put(places["system"] / "toy"),
    ]
    for path in expected:
        data, found = dl.load_file(TOY, TOY_FILE, root=places["root"], download=False)
        assert found == path and data == TOY_DATA
        path.unlink()
    with pytest.raises(DatasetNotFoundError):
        dl.load_file(TOY, TOY_FILE, root=places["root"], download=False)


def test_without_root_the_search_starts_at_zerodl_data(places, monkeypatch):
    put(places["root"] / "toy")
    system = put(places["system"] / "toy")
    _, found = dl.load_file(TOY, TOY_FILE, download=False)
    assert found == system
    monkeypatch.delenv("ZERODL_DATA")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(places["root"]))  # default cache: ~/.cache/zerodl/<name>
    cached = put(places["root"] / ".cache" / "zerodl" / "toy")
    assert dl.load_file(TOY, TOY_FILE, download=False)[1] == cached


def test_mnist_found_by_search_order_uncompressed_too(places, data_root):
    """The real classes follow the same order; a system folder may hold uncompressed files."""
    src = data_root / "mnist"
    names = ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    (places["env"] / "mnist").mkdir()
    (places["system"] / "mnist").mkdir()
    for name in names:
        gz = (src / (name + ".gz")).read_bytes()
        (places["env"] / "mnist" / (name + ".gz")).write_bytes(gz)
        (places["system"] / "mnist" / name).write_bytes(gzip.decompress(gz))
    from_env = MNIST(train=False, download=False)
    assert from_env.images_path == places["env"] / "mnist" / (names[0] + ".gz")
    shutil.rmtree(places["env"] / "mnist")
    from_system = MNIST(train=False, download=False)
    assert from_system.labels_path == places["system"] / "mnist" / names[1]
    np.testing.assert_array_equal(from_system.images, from_env.images)
    assert np.bincount(from_system.labels).tolist() == MNIST_TEST_COUNTS


def test_corrupt_present_file_is_an_error_not_skipped(places):
    bad = put(places["root"], data=TOY_DATA[:-1] + b"\x63")  # one label changed
    put(places["env"] / "toy")  # a good copy further down must not be used
    with pytest.raises(ChecksumError) as e:
        dl.load_file(TOY, TOY_FILE, root=places["root"])
    message = str(e.value)
    assert str(bad) in message
    assert TOY.sha256[TOY_FILE] in message
    assert hashlib.sha256(TOY_DATA[:-1] + b"\x63").hexdigest() in message
    assert "delete" in message and bad.exists()


def test_truncated_gzip_present_file_is_an_error(places):
    path = places["cache"] / "zerodl" / "toy" / (TOY_FILE + ".gz")
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(TOY_DATA)[:-5])
    with pytest.raises(ChecksumError, match="damaged or incomplete gzip") as e:
        dl.load_file(TOY, TOY_FILE)
    assert str(path) in str(e.value)


def test_real_mnist_file_with_a_wrong_checksum_is_named(places, data_root):
    """Fashion-MNIST's file put where MNIST's belongs is caught by the checksum."""
    target = places["root"] / "mnist"
    target.mkdir()
    wrong = target / "t10k-labels-idx1-ubyte.gz"
    shutil.copy(data_root / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz", wrong)
    shutil.copy(data_root / "mnist" / "t10k-images-idx3-ubyte.gz", target)
    with pytest.raises(ChecksumError, match="ff7bcfd416de33731a308c3f266cc351222c34898ec") as e:
        MNIST(root=places["root"], train=False)
    assert str(wrong) in str(e.value)


class FakeServer:
    """A stand-in for `fetch`: serves bytes per URL, or raises, and records the calls."""

    def __init__(self, responses: dict):
        self.responses = responses
        self.calls = []

    def __call__(self, url, out, timeout=None):
        self.calls.append(url)
        response = self.responses.get(url, urllib.error.URLError("offline"))
        if isinstance(response, tuple):  # (bytes written before the connection drops, error)
            out.write(response[0])
            raise response[1]
        if isinstance(response, BaseException):
            raise response
        out.write(response)


def test_download_is_verified_renamed_into_the_cache_and_reused(places, monkeypatch):
    server = FakeServer({"https://mirror-two.invalid/toy-labels-idx1-ubyte.gz":
                         gzip.compress(TOY_DATA)})
    monkeypatch.setattr(dl, "fetch", server)
    data, path = dl.load_file(TOY, TOY_FILE)
    assert data == TOY_DATA
    assert path == places["cache"] / "zerodl" / "toy" / (TOY_FILE + ".gz")
    assert [p.name for p in path.parent.iterdir()] == [TOY_FILE + ".gz"]  # no temp file left
    assert len(server.calls) == 2  # the first mirror failed, the second served it
    again, path_again = dl.load_file(TOY, TOY_FILE)
    assert again == TOY_DATA and path_again == path and len(server.calls) == 2


@pytest.mark.parametrize("response, error", [
    (gzip.compress(TOY_DATA[:-1] + b"\x00"), "ChecksumError"),                # wrong content
    (gzip.compress(TOY_DATA)[:-6], "ChecksumError"),                          # cut-off gzip
    ((gzip.compress(TOY_DATA)[:20], ConnectionResetError("reset")), "ConnectionResetError"),
])
def test_bad_download_leaves_nothing_and_says_what_was_expected(
    places, monkeypatch, response, error
):
    url = "https://mirror-one.invalid/toy/toy-labels-idx1-ubyte.gz"
    monkeypatch.setattr(dl, "fetch", FakeServer({url: response}))
    with pytest.raises(DatasetNotFoundError) as e:
        dl.load_file(TOY, TOY_FILE)
    line = next(x for x in str(e.value).splitlines() if url in x)
    assert f"{url}: {error}" in line
    if error == "ChecksumError":
        assert TOY_FILE in line and TOY.sha256[TOY_FILE] in line and "deleted" in line
    assert list((places["cache"] / "zerodl" / "toy").iterdir()) == []


def test_interrupted_download_leaves_nothing(places, monkeypatch):
    url = "https://mirror-one.invalid/toy/toy-labels-idx1-ubyte.gz"
    monkeypatch.setattr(dl, "fetch", FakeServer({url: (b"\x1f\x8b\x08", KeyboardInterrupt())}))
    with pytest.raises(KeyboardInterrupt):
        dl.load_file(TOY, TOY_FILE)
    assert list((places["cache"] / "zerodl" / "toy").iterdir()) == []


def test_offline_error_lists_every_place_and_the_fixes(places):
    with pytest.raises(FileNotFoundError) as e:
        dl.load_file(TOY, TOY_FILE, root=places["root"])
    assert isinstance(e.value, DatasetNotFoundError)
    message = str(e.value)
    for folder in [places["root"] / "toy", places["root"], places["env"] / "toy",
                   places["cache"] / "zerodl" / "toy", places["system"] / "toy"]:
        assert f"{folder}/{TOY_FILE}[.gz]: not found" in message
    for base in TOY.mirrors:
        assert f"{base}{TOY_FILE}.gz: URLError" in message
    assert "ZERODL_DATA=" in message and "root=" in message and "spiral" in message


def test_download_false_says_so(places):
    with pytest.raises(DatasetNotFoundError, match=r"not attempted \(download=False\)") as e:
        FashionMNIST(download=False)
    assert "pass download=True" in str(e.value)


def test_a_failed_download_does_not_suggest_the_download_just_tried(places):
    with pytest.raises(DatasetNotFoundError) as e:
        dl.load_file(TOY, TOY_FILE, root=places["root"])  # download=True, the default: it failed
    message = str(e.value)
    assert "download=True" not in message
    assert "reaches the internet" in message and str(places["cache"]) in message


def test_real_fetch_over_local_http(places, monkeypatch, tmp_path):
    """The real urllib download path, served by a local HTTP server (no outside network)."""
    served = tmp_path / "served"
    put(served)
    handler = partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setattr(dl, "fetch", REAL_FETCH)
        monkeypatch.setenv("no_proxy", "*")  # a proxy in the environment must not see this
        source = dl.Source("toy", "Toy", TOY.sha256, (f"http://127.0.0.1:{server.server_port}/",))
        data, path = dl.load_file(source, TOY_FILE)
    finally:
        server.shutdown()
        server.server_close()
    assert data == TOY_DATA and path.parent == places["cache"] / "zerodl" / "toy"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


# ---------------------------------------------------------------- generated sets


@pytest.mark.parametrize("make", [spiral, xor, circles, sine])
def test_generated_sets_are_reproducible(make):
    a, b, c = make(seed=3), make(seed=3), make(seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    zd.manual_seed(5)
    d = make()
    zd.manual_seed(5)
    np.testing.assert_array_equal(d[0], make()[0])


def test_spiral():
    X, y = spiral(n_per_class=50, classes=4, noise=0.3, seed=0)
    assert X.shape == (200, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50] * 4
    # the radius of point i of each arm is i / n_per_class, whatever the angle noise
    for k in range(4):
        radii = np.sort(np.linalg.norm(X[y == k], axis=1))
        np.testing.assert_allclose(radii, np.arange(50) / 50, atol=1e-6)
    assert not np.array_equal(y[:50], np.zeros(50))  # shuffled, not in class blocks


def test_xor():
    X, y = xor(n=200, noise=0.0, seed=0)
    assert X.shape == (200, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [100, 100]
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(np.int64))
    assert np.abs(X).max() <= 1.0


def test_circles():
    X, y = circles(n=201, noise=0.0, factor=0.3, seed=0)
    assert X.shape == (201, 2) and X.dtype == np.float32
    assert np.bincount(y).tolist() == [101, 100]
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius, np.where(y == 1, 0.3, 1.0), rtol=1e-6)
    with pytest.raises(ValueError, match="factor"):
        circles(factor=1.5)


def test_sine():
    x, y = sine(n=64, noise=0.0, seed=0)
    assert x.shape == y.shape == (64, 1) and x.dtype == y.dtype == np.float32
    assert 0 <= x.min() and x.max() < 1
    np.testing.assert_allclose(y, np.sin(2 * np.pi * x), atol=1e-6)
    _, noisy = sine(n=2000, noise=0.1, seed=0)
    x2, _ = sine(n=2000, noise=0.1, seed=0)
    assert np.std(noisy - np.sin(2 * np.pi * x2)) == pytest.approx(0.1, rel=0.1)


@pytest.mark.parametrize("call, error, message", [
    (lambda: spiral(n_per_class=0), ValueError, "spiral: n_per_class=0 is outside [1, 10,000,000]"),
    (lambda: spiral(n_per_class=10**9), ValueError, "spiral: n_per_class=1000000000 is outside"),
    (lambda: spiral(n_per_class=5_000_000, classes=3), ValueError,
     "spiral: n_per_class * classes = 15,000,000 points, more than MAX_POINTS = 10,000,000"),
    (lambda: spiral(classes=2.5), TypeError, "spiral: classes must be a whole number, got 2.5"),
    (lambda: xor(n=10**400), ValueError, "xor: n=1000"),
    (lambda: xor(n=True), TypeError, "xor: n must be a whole number, got True"),
    (lambda: circles(n=-1), ValueError, "circles: n=-1 is outside"),
    (lambda: sine(noise=float("nan")), ValueError, "sine: noise=nan must be a finite number >= 0"),
    (lambda: sine(noise=-0.1), ValueError, "sine: noise=-0.1 must be"),
    (lambda: xor(noise=1e400), ValueError, "xor: noise=inf must be"),
    (lambda: circles(noise="0.1"), TypeError, "circles: noise must be a number, got '0.1'"),
])
def test_generated_sets_refuse_sizes_and_noise_before_taking_memory(call, error, message):
    with pytest.raises(error) as e:
        call()
    assert message in str(e.value)


def test_generated_sets_are_found_by_name():
    from zerodl.data.generated import GENERATED, MAX_POINTS
    assert GENERATED == {"spiral": spiral, "xor": xor, "circles": circles, "sine": sine}
    assert xor(n=MAX_POINTS // 1000, seed=0)[0].shape == (10_000, 2)
    assert spiral(n_per_class=1, classes=1, noise=0, seed=0)[0].shape == (1, 2)


# ---------------------------------------------------------------- reading within limits


@pytest.mark.parametrize("source", [MNIST.source, FashionMNIST.source])
def test_known_sizes_and_gz_checksums_describe_the_real_files(source, data_root):
    """Every shared .gz is a known copy, and the sizes are the decompressed files' own."""
    folder = data_root / source.name
    for filename, size in source.sizes.items():
        raw = (folder / (filename + ".gz")).read_bytes()
        assert hashlib.sha256(raw).hexdigest() in source.gz_sha256[filename]
        data = gzip.decompress(raw)
        assert len(data) == size and hashlib.sha256(data).hexdigest() == source.sha256[filename]
    assert set(source.sizes) == set(source.gz_sha256) == set(source.sha256)


def test_a_known_gz_copy_is_trusted_but_still_read_no_further_than_its_size(places, data_root):
    """The .gz hash says which file it is; the decompressed bytes come back all the same."""
    name = "t10k-labels-idx1-ubyte"
    shutil.copy(data_root / "mnist" / (name + ".gz"), places["root"])
    data, path = dl.load_file(MNIST.source, name, root=places["root"], download=False)
    assert len(data) == 10_008 and path == places["root"] / (name + ".gz")
    regzipped = places["env"] / "mnist" / (name + ".gz")           # another gzip of the same data
    regzipped.parent.mkdir()
    regzipped.write_bytes(gzip.compress(data, compresslevel=1, mtime=123))
    assert dl.load_file(MNIST.source, name, download=False) == (data, regzipped)


def test_read_idx_refuses_a_header_promising_more_than_max_bytes(tmp_path):
    path = tmp_path / "images-idx3"
    path.write_bytes(idx_bytes(np.zeros((10, 28, 28), np.uint8)))
    with pytest.raises(IDXFormatError) as e:
        read_idx(path, max_bytes=1000)
    assert f"{path}: header says 10 x 28 x 28 uint8 = 7,840 bytes of data, 7,856 in all: " \
           "more than the 1,000 this file may hold" in str(e.value)
    assert read_idx(path, max_bytes=7856).shape == (10, 28, 28)


def test_a_download_removes_stale_temporary_files_of_killed_downloads(places, monkeypatch):
    from zerodl import files
    folder = places["cache"] / "zerodl" / "toy"
    folder.mkdir(parents=True)
    stale = folder / f".{TOY_FILE}.zerodl-{files._HOST}-{2 ** 22 + 7}-abcd1234.tmp"  # no such pid
    stale.write_bytes(b"\x1f\x8b partial")
    monkeypatch.setattr(dl, "fetch", FakeServer({
        "https://mirror-one.invalid/toy/toy-labels-idx1-ubyte.gz": gzip.compress(TOY_DATA)}))
    data, path = dl.load_file(TOY, TOY_FILE)
    assert data == TOY_DATA
    assert [p.name for p in folder.iterdir()] == [TOY_FILE + ".gz"]
