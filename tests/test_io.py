"""Parameter files: exact round trips, nested checkpoints, damaged files refused, atomic writes."""

from __future__ import annotations

import os
import sys
import zipfile

import numpy as np
import pytest

import zerodl as zd
from zerodl import files, io, nn


def checkpoint(rng):
    net = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    return {
        "model": net.state_dict(),
        "epoch": 7,
        "lr": 0.05,
        "name": "MLP",
        "history": {"loss": [2.3, 1.1, 0.7], "done": True, "note": None},
        "extra": [np.arange(3), rng.standard_normal((2, 2))],
        "labels": np.array([3, 1, 4], np.int64),
    }


def assert_same(a, b):
    assert type(a) is type(b) or (isinstance(a, dict) and isinstance(b, dict)), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_save_load_round_trip_is_exact(tmp_path, rng, suffix):
    if suffix == ".safetensors":
        pytest.importorskip("safetensors")
    state = checkpoint(rng)
    path = io.save(state, tmp_path / f"ckpt{suffix}")
    assert path == tmp_path / f"ckpt{suffix}"
    assert_same(io.load(path), state)
    assert [p.name for p in tmp_path.iterdir()] == [f"ckpt{suffix}"]   # no temporary left


def test_module_state_round_trips_through_a_file(tmp_path, rng):
    net = nn.models.MLP([5, 4, 3], batchnorm=True)
    net.layers[1].running_mean[:] = rng.standard_normal(4)
    io.save_model(net, tmp_path / "mlp.npz")
    other = nn.models.MLP([5, 4, 3], batchnorm=True)
    assert io.load_model(other, tmp_path / "mlp.npz") is other
    assert_same(other.state_dict(), net.state_dict())
    with pytest.raises(RuntimeError, match="missing keys"):
        io.load_model(nn.models.MLP([5, 4, 4, 3], batchnorm=True), tmp_path / "mlp.npz")


def test_npz_is_readable_by_numpy_under_dotted_names(tmp_path):
    net = nn.Sequential(nn.Linear(2, 3))
    io.save({"model": net.state_dict(), "epoch": 1}, tmp_path / "a.npz")
    with np.load(tmp_path / "a.npz", allow_pickle=False) as f:
        assert sorted(k for k in f.files if not k.startswith("__")) == ["model.0.W", "model.0.b"]
        np.testing.assert_array_equal(f["model.0.W"], net[0].W.data)


def test_plain_npz_from_numpy_loads_as_a_flat_dict(tmp_path):
    np.savez(tmp_path / "plain.npz", W=np.eye(2), b=np.zeros(2, np.float32))
    back = io.load(tmp_path / "plain.npz")
    assert sorted(back) == ["W", "b"] and back["b"].dtype == np.float32


def test_keys_that_look_like_markers_or_collide_survive(tmp_path):
    state = {"$array": 1, "a.b": np.ones(1), "a": {"b": np.zeros(1)}, "q": {"$dict": "x"}}
    io.save(state, tmp_path / "odd.npz")
    assert_same(io.load(tmp_path / "odd.npz"), state)


def test_tensors_and_numpy_scalars_are_saved_as_values(tmp_path):
    io.save({"w": zd.tensor([1.0, 2.0]), "s": np.float32(2.5), "t": (1, 2)}, tmp_path / "t.npz")
    back = io.load(tmp_path / "t.npz")
    assert back["w"].dtype == np.float32 and back["s"] == 2.5 and back["t"] == [1, 2]


def test_unsupported_values_are_refused_before_writing(tmp_path):
    with pytest.raises(TypeError, match="object array"):
        io.save({"bad": np.array([{}, 1], dtype=object)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="cannot save set at s"):
        io.save({"s": {1, 2}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys must be strings"):
        io.save({1: np.ones(1)}, tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- damaged files
def _data_offset(path, entry):
    """Where ``entry``'s bytes start in the zip (after its local header)."""
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(entry)
    raw = path.read_bytes()
    name_len = int.from_bytes(raw[info.header_offset + 26:info.header_offset + 28], "little")
    extra_len = int.from_bytes(raw[info.header_offset + 28:info.header_offset + 30], "little")
    return info.header_offset + 30 + name_len + extra_len


@pytest.mark.parametrize("damage", ["flip_array_byte", "flip_header_byte", "truncate_half",
                                    "truncate_tail", "empty", "not_a_zip"])
def test_damaged_npz_is_refused_with_the_files_name(tmp_path, rng, damage):
    path = tmp_path / "weights.npz"
    io.save(checkpoint(rng), path)
    raw = bytearray(path.read_bytes())
    if damage == "flip_array_byte":
        raw[_data_offset(path, "model.0.W.npy") + 140] ^= 0x10   # inside W's numbers
    elif damage == "flip_header_byte":
        raw[_data_offset(path, "model.0.W.npy") + 20] ^= 0x01    # inside the .npy header
    elif damage == "truncate_half":
        raw = raw[:len(raw) // 2]
    elif damage == "truncate_tail":
        raw = raw[:-1]
    elif damage == "empty":
        raw = b""
    else:
        raw = b"not a parameter file at all"
    path.write_bytes(bytes(raw))
    with pytest.raises(io.CorruptFileError, match="weights.npz is damaged or truncated"):
        io.load(path)


def test_every_single_byte_flip_is_refused_or_harmless(tmp_path):
    path = tmp_path / "small.npz"
    state = {"W": np.arange(6, dtype=np.float32).reshape(2, 3), "epoch": 3}
    io.save(state, path)
    raw = path.read_bytes()
    for i in range(len(raw)):
        bad = bytearray(raw)
        bad[i] ^= 0x41
        path.write_bytes(bytes(bad))
        try:
            back = io.load(path)
        except io.CorruptFileError:
            continue
        assert_same(back, state)        # only bytes that carry no information may go unnoticed


def test_corrupt_file_error_is_a_value_error_and_missing_files_stay_missing(tmp_path):
    assert issubclass(io.CorruptFileError, ValueError)
    with pytest.raises(FileNotFoundError):
        io.load(tmp_path / "nowhere.npz")


def test_running_out_of_memory_while_loading_is_no_damaged_file(tmp_path, monkeypatch):
    from zerodl import npz

    io.save({"w": np.ones(3)}, tmp_path / "m.npz")

    def no_memory(*args):
        raise MemoryError

    monkeypatch.setattr(npz, "_read_npy", no_memory)
    with pytest.raises(MemoryError):
        io.load(tmp_path / "m.npz")


def test_damaged_safetensors_is_refused(tmp_path, rng):
    pytest.importorskip("safetensors")
    path = tmp_path / "w.safetensors"
    io.save(checkpoint(rng), path)
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0x08                                             # inside the last array
    path.write_bytes(bytes(raw))
    with pytest.raises(io.CorruptFileError, match="w.safetensors is damaged"):
        io.load(path)
    path.write_bytes(bytes(raw[:100]))
    with pytest.raises(io.CorruptFileError, match="w.safetensors"):
        io.load(path)


def test_safetensors_without_the_package_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install 'zerodl\[io\]'"):
        io.save({"w": np.ones(1)}, tmp_path / "w.safetensors")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- atomic writes
def test_a_failing_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    io.save({"w": np.ones(3)}, path)
    old = path.read_bytes()
    calls = []

    def failing_write_array(f, arr, **kwargs):
        calls.append(arr.shape)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(f, arr, **kwargs)

    real = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(OSError, match="disk full"):
        io.save({"a": np.zeros(4), "b": np.zeros(5)}, path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["model.npz"]
    calls.clear()
    with pytest.raises(OSError, match="disk full"):
        io.save({"a": np.zeros(4), "b": np.zeros(5)}, tmp_path / "new.npz")
    assert os.listdir(tmp_path) == ["model.npz"]


# ---------------------------------------------------------------- dtypes that do not fit
@pytest.mark.parametrize("bad", [
    np.array([[True, False, True]] * 2),
    np.arange(6, dtype=np.int8).reshape(2, 3),
    np.arange(6, dtype=np.int64).reshape(2, 3),
    np.arange(6, dtype=np.uint8).reshape(2, 3),
    np.zeros((2, 3), dtype="datetime64[s]"),
    np.zeros((2, 3), dtype=np.complex64),
    np.array([[1, 2, 3], [4, 5, 6]], dtype=object),
    np.full((2, 3), "1.0"),
])
def test_load_state_dict_refuses_non_floating_arrays_for_weights(bad):
    net = nn.Linear(2, 3)
    before = net.W.data.copy()
    state = dict(net.state_dict(), W=bad)
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(state)
    assert (f"dtype mismatch for W: expected float32 (or another float dtype), got {bad.dtype}"
            in str(e.value))
    np.testing.assert_array_equal(net.W.data, before)          # nothing copied
    with pytest.raises(RuntimeError, match="dtype mismatch for W"):
        net.load_state_dict({"W": bad}, strict=False)


def test_load_state_dict_casts_other_floats_and_buffers_keep_their_rules():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    state = net.state_dict()
    state["0.W"] = np.full((2, 3), 0.5, np.float16)
    state["0.b"] = np.full(3, 0.25, np.float64)
    state["1.running_mean"] = np.array([1, 2, 3], np.int64)   # a buffer: cast, as before
    net.load_state_dict(state)
    assert net[0].W.data.dtype == np.float32 and net[0].W.data[0, 0] == 0.5
    assert net[0].b.data.dtype == np.float32 and net[0].b.data[0] == 0.25
    np.testing.assert_array_equal(net[1].running_mean, [1.0, 2.0, 3.0])


def test_shape_and_dtype_mismatches_are_listed_together():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    state = dict(net.state_dict(), **{"0.W": np.zeros((3, 3)), "1.b": np.zeros(1, np.int32)})
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(state)
    assert "shape mismatch for 0.W: expected (2, 3), got (3, 3)" in str(e.value)
    assert "dtype mismatch for 1.b: expected float32 (or another float dtype), got int32" in str(
        e.value)


def test_safetensors_records_dtype_and_shape_of_every_array(tmp_path):
    pytest.importorskip("safetensors")
    import json
    import struct
    path = io.save({"W": np.ones((2, 3), np.float32), "n": np.arange(3)}, tmp_path / "a.safetensors")
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    record = json.loads(json.loads(raw[8:8 + n])["__metadata__"]["__zerodl__"])
    assert record["dtypes"] == {"W": "float32", "n": "int64"}
    assert record["shapes"] == {"W": [2, 3], "n": [3]}


def test_load_model_refuses_a_file_far_larger_than_the_model_unread(tmp_path):
    io.save_model(nn.Linear(600, 600), tmp_path / "big.npz")      # 1.4 MB of weights
    small = nn.Linear(3, 3)
    assert io.budget_for(small) == 8 * (9 + 3) + (1 << 20)
    assert io.budget_for(small, copies=3, extra=0) == 3 * 8 * (9 + 3)
    with pytest.raises(io.FileTooLargeError) as e:
        io.load_model(small, tmp_path / "big.npz")
    assert "big.npz was not loaded: entry 'W.npy' holds 600 x 600 float32 = 1,440,000 bytes" in str(
        e.value)
    assert "left of the 1,048,672-byte limit" in str(e.value)
    assert isinstance(e.value, io.CorruptFileError)
    with pytest.raises(RuntimeError, match="shape mismatch for W"):
        io.load_model(small, tmp_path / "big.npz", strict=False)    # no budget: the shapes say it


def test_write_errors_are_os_errors_and_atomic_write_stays_importable_from_io():
    assert issubclass(io.WriteError, OSError)
    assert io.atomic_write is files.atomic_write
