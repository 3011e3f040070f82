"""The book's weight files: the restricted unpickler, conversion to npz, loading into zerodl's models."""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest

import zerodl as zd
from zerodl import nn
from zerodl.book import weights
from zerodl.book.deep_convnet import DeepConvNet
from zerodl.book.layers import Affine, Sigmoid
from zerodl.book.mnist import load_mnist
from zerodl.book.simple_convnet import SimpleConvNet
from zerodl.book.weights import UnsafePickleError


def sample_weight_like(rng):
    """A dict in sample_weight.pkl's format: float32 W1 (784, 50), W2 (50, 100), W3 (100, 10), b1..b3."""
    sizes = [784, 50, 100, 10]
    params = {}
    for i, (a, b) in enumerate(zip(sizes, sizes[1:]), start=1):
        params[f"W{i}"] = (rng.standard_normal((a, b)) * 0.1).astype(np.float32)
        params[f"b{i}"] = (rng.standard_normal(b) * 0.1).astype(np.float32)
    return params


def dump(obj, path, protocol=pickle.DEFAULT_PROTOCOL):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)
    return path


# ---------------------------------------------------------------- reading the book's format
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_dict_of_arrays_loads_under_every_protocol(protocol, tmp_path, rng):
    params = sample_weight_like(rng)
    params["extra"] = [1, 2.5, "text", (np.float64(3.0), None)]
    loaded = weights.load_book_pickle(dump(params, tmp_path / "w.pkl", protocol))
    assert sorted(loaded) == sorted(params)
    for key in ("W1", "b3"):
        assert loaded[key].dtype == np.float32 and loaded[key].flags.writeable
        np.testing.assert_array_equal(loaded[key], params[key])
    assert loaded["extra"] == [1, 2.5, "text", (3.0, None)]


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > pwned.txt",))


class Harmless:
    """A user class: refused too, since unpickling it would run its module's code."""

    def __init__(self):
        self.w = np.zeros(3)


@pytest.mark.parametrize("payload, named", [
    (Evil, "posix.system"),
    (Harmless, "test_book_weights.Harmless"),
    (lambda: pickle.loads(b"cbuiltins\neval\n."), "builtins.eval"),
    (lambda: np.array([1, "a"], dtype=object), "object"),
    (lambda: np.asmatrix(np.eye(2)), "numpy.matrix"),
])
def test_hostile_pickles_are_refused_naming_what_they_ask_for(payload, named, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # np.matrix's
        path = dump({"W1": np.zeros(2), "evil": payload()}, tmp_path / "evil.pkl")
    with pytest.raises(UnsafePickleError, match=named):
        weights.load_book_pickle(path)
    with pytest.raises(UnsafePickleError):
        weights.convert(path)
    assert not (tmp_path / "pwned.txt").exists() and not (tmp_path / "evil.npz").exists()


def test_a_reduce_calling_os_system_directly_never_runs(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "hand.pkl"
    path.write_bytes(b"cposix\nsystem\n(V touch " + str(marker).encode() + b"\ntR.")
    with pytest.raises(UnsafePickleError, match=r"posix\.system.*refusing"):
        weights.load_params(path)
    assert not marker.exists()


def test_a_pickle_cannot_make_the_loader_allocate_what_the_file_does_not_hold(tmp_path):
    path = tmp_path / "bomb.pkl"
    # numpy.ndarray((1000000,), 'f8') called directly: 8 MB of uninitialised memory from 40 bytes
    path.write_bytes(b"(dVW\ncnumpy\nndarray\n((I1000000\ntVf8\ntRs.")
    with pytest.raises(UnsafePickleError, match="numpy.ndarray directly"):
        weights.load_book_pickle(path)
    # NumPy's own rebuilder asked for a non-empty array that the file never fills
    path.write_bytes(b"(dVW\ncnumpy._core.multiarray\n_reconstruct\n(cnumpy\nndarray\n"
                     b"(I1000000\ntVf8\ntRs.")
    with pytest.raises(UnsafePickleError, match=r"shape \(1000000,\)"):
        weights.load_book_pickle(path)


def test_every_refusal_names_the_loader_and_the_file(tmp_path):
    path = tmp_path / "bomb.pkl"
    path.write_bytes(b"(dVW\ncnumpy\nndarray\n((I1000000\ntVf8\ntRs.")
    with pytest.raises(UnsafePickleError, match=r"^load_book_pickle: .*bomb\.pkl: refusing"):
        weights.load_book_pickle(path)


def test_deep_nesting_and_huge_files_are_refused_clearly(tmp_path, monkeypatch):
    deep = tmp_path / "deep.pkl"  # 100,000 nested lists, built by the pickle machine itself
    deep.write_bytes(b"(dVW\n" + b"(" * 100_000 + b"l" * 100_000 + b"s.")
    with pytest.raises(UnsafePickleError, match="nests its data too deeply"):
        weights.load_book_pickle(deep)
    monkeypatch.setattr(weights, "MAX_PICKLE_BYTES", 100)
    big = dump({"W1": np.zeros(100)}, tmp_path / "big.pkl")
    with pytest.raises(UnsafePickleError, match="more than the 100 any of the book's"):
        weights.load_book_pickle(big)


def test_not_a_dict_or_not_a_pickle_is_a_clear_error(tmp_path):
    with pytest.raises(TypeError, match="holds a list, not the book's dict"):
        weights.load_book_pickle(dump([np.zeros(2)], tmp_path / "list.pkl"))
    whole = pickle.dumps({"W1": np.zeros(100)})
    (tmp_path / "cut.pkl").write_bytes(whole[:len(whole) // 2])
    with pytest.raises(pickle.UnpicklingError, match="cut.pkl is not a readable pickle"):
        weights.load_book_pickle(tmp_path / "cut.pkl")


def test_convert_writes_a_plain_npz_atomically(tmp_path, rng):
    params = sample_weight_like(rng)
    pkl = dump(params, tmp_path / "sample_weight.pkl")
    npz = weights.convert(pkl)
    assert npz == tmp_path / "sample_weight.npz"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample_weight.npz", "sample_weight.pkl"]
    with np.load(npz, allow_pickle=False) as f:
        np.testing.assert_array_equal(f["W2"], params["W2"])
    again = weights.load_params(npz)
    assert sorted(again) == sorted(params) and again["b1"].dtype == np.float32


# ---------------------------------------------------------------- into zerodl's models
def test_sample_weights_in_zerodls_mlp_compute_the_books_network(tmp_path, rng):
    params = sample_weight_like(rng)
    npz = weights.convert(dump(params, tmp_path / "sample_weight.pkl"))
    model = weights.load_into(nn.models.MLP([784, 50, 100, 10], activation="sigmoid"), npz)
    np.testing.assert_array_equal(model.layers[2].W.data, params["W2"])
    x = rng.uniform(0, 1, (20, 784)).astype(np.float32)
    a = x
    for i in (1, 2, 3):  # the book's ch. 3 predict, with the book's layers
        a = Affine(params[f"W{i}"], params[f"b{i}"]).forward(a)
        a = Sigmoid().forward(a) if i < 3 else a
    with zd.no_grad():
        np.testing.assert_allclose(model(x).data, a, rtol=1e-6, atol=1e-6)


def test_simple_convnet_weights_compute_the_same_scores(tmp_path, rng):
    zd.manual_seed(1)
    book = SimpleConvNet(weight_init_std=0.1)
    path = dump(book.params, tmp_path / "params.pkl")  # as the book's save_params writes it
    model = weights.load_into(nn.models.SimpleConvNet().double(), path)
    x = rng.uniform(0, 1, (5, 1, 28, 28))
    with zd.no_grad():
        np.testing.assert_allclose(model(x).data, book.predict(x), rtol=1e-12, atol=1e-14)


def test_deep_convnet_weights_carry_the_books_test_time_dropout(tmp_path, rng):
    zd.manual_seed(2)
    book = DeepConvNet()
    book.params["b8"][:] = rng.standard_normal(10)  # so that the bias's factor shows
    path = dump(book.params, tmp_path / "deep_convnet_params.pkl")
    model = weights.load_into(nn.models.DeepConvNet().double(), path).eval()
    state = weights.book_state_dict(weights.load_params(path), model)
    np.testing.assert_array_equal(state["layers.19.W"], book.params["W8"] * 0.25)
    np.testing.assert_array_equal(state["layers.19.b"], book.params["b8"] * 0.5)
    np.testing.assert_array_equal(state["layers.16.W"], book.params["W7"])
    x = rng.uniform(0, 1, (4, 1, 28, 28))
    with zd.no_grad():
        np.testing.assert_allclose(model(x).data, book.predict(x, train_flg=False), rtol=1e-12, atol=1e-14)


def test_dropout_inside_an_mlp_halves_the_next_weight(rng):
    params = {"W1": rng.standard_normal((4, 5)), "b1": np.zeros(5),
              "W2": rng.standard_normal((5, 3)), "b2": np.ones(3)}
    state = weights.book_state_dict(params, nn.models.MLP([4, 5, 3], dropout=0.5))
    np.testing.assert_array_equal(state["layers.3.W"], params["W2"] * 0.5)
    np.testing.assert_array_equal(state["layers.3.b"], params["b2"])


def test_wrong_network_or_shapes_are_named(rng):
    params = sample_weight_like(rng)
    with pytest.raises(KeyError, match=r"no place for \['W3', 'b3'\]"):
        weights.book_state_dict(params, nn.models.MLP([784, 50, 100]))
    with pytest.raises(ValueError, match=r"layers.0.W: model \(784, 40\), weights \(784, 50\)"):
        weights.book_state_dict(params, nn.models.MLP([784, 40, 100, 10]))
    with pytest.raises(KeyError, match="no 'W1'"):
        weights.book_state_dict({}, nn.models.MLP([3, 2]))


def test_book_network_load_params_reads_the_pickle_and_refuses_strangers(tmp_path, rng):
    zd.manual_seed(3)
    source, target = SimpleConvNet(), SimpleConvNet()
    target.load_params(str(dump(source.params, tmp_path / "params.pkl")))
    x = rng.uniform(0, 1, (2, 1, 28, 28))
    np.testing.assert_array_equal(target.predict(x), source.predict(x))
    with pytest.raises(KeyError, match="holds 'W9'"):
        target.load_params(str(dump({"W9": np.zeros(2)}, tmp_path / "other.pkl")))


# ---------------------------------------------------------------- the real files, when given
BOOK_WEIGHTS = os.environ.get("ZERODL_BOOK_WEIGHTS")


def real_file(name: str) -> Path:
    if not BOOK_WEIGHTS:
        pytest.skip("the book's weight files are not here: set ZERODL_BOOK_WEIGHTS to a folder "
                    "holding sample_weight.pkl, params.pkl and deep_convnet_params.pkl")
    path = Path(BOOK_WEIGHTS) / name
    if not path.exists():
        pytest.skip(f"{path} is not there (ZERODL_BOOK_WEIGHTS={BOOK_WEIGHTS})")
    return path


def mnist_test():
    (_, _), (x, t) = load_mnist(flatten=False)
    return x, t


def test_real_sample_weight_gives_0_9352():
    path = real_file("sample_weight.pkl")
    x, t = mnist_test()
    model = weights.load_into(nn.models.MLP([784, 50, 100, 10], activation="sigmoid"), path)
    with zd.no_grad():
        y = model(x.reshape(len(x), -1)).data
    assert np.mean(y.argmax(axis=1) == t) == pytest.approx(0.9352, abs=5e-5)


def test_real_simple_convnet_weights_give_the_known_accuracy():
    path = real_file("params.pkl")
    x, t = mnist_test()
    net = SimpleConvNet()
    net.load_params(str(path))
    acc = net.accuracy(x, t)
    assert round(acc, 4) in (0.9600, 0.9890), acc  # today's file, or the 2016 one the book prints


def test_real_deep_convnet_weights_in_float64_and_float16():
    path = real_file("deep_convnet_params.pkl")
    x, t = mnist_test()
    net = DeepConvNet()
    net.load_params(str(path))
    acc = net.accuracy(x, t)
    assert round(acc, 4) in (0.9797, 0.9935), acc
    model = weights.load_into(nn.models.DeepConvNet().double(), path).eval()
    with zd.no_grad():
        zacc = np.mean(np.concatenate([model(x[i:i + 500]).data.argmax(axis=1)
                                       for i in range(0, len(x), 500)]) == t)
    assert zacc == acc
    for p in net.params.values():  # the book's half_float_network: weights rounded to float16
        p[...] = p.astype(np.float16)
    half = net.accuracy(x.astype(np.float16), t)
    assert half >= (0.99 if acc > 0.99 else acc - 0.005)
