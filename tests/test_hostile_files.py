"""Hostile files: bombs, lying headers, damaged and foreign files, full and read-only disks.

Each bomb is a few megabytes on disk that would inflate to gigabytes; it is
opened in a fresh Python whose peak memory (VmHWM) must stay under
``PEAK_LIMIT_MB`` and whose error must name the file and what is wrong.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import re
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from hostile import craft
from zerodl import files, io, nn
from zerodl.data import MNIST, ChecksumError, IDXFormatError, parse_idx, read_idx
from zerodl.data import download as dl

PEAK_LIMIT_MB = 500
TESTS = Path(__file__).resolve().parent
IMAGES_HEAD = bytes([0, 0, 8, 3]) + struct.pack(">III", 10000, 28, 28)
LABELS_HEAD = bytes([0, 0, 8, 1]) + struct.pack(">I", 10000)


def measured(code: str, *args) -> dict:
    """Run ``code`` (which may use ``args``) in a fresh Python; its error and peak RSS in MB."""
    script = (
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        "out = {'error': None}\n"
        "try:\n" + "".join(f"    {line}\n" for line in code.splitlines()) +
        "except BaseException as e:\n"
        "    out = {'error': type(e).__name__, 'message': str(e)}\n"
        "out['peak_mb'] = next(int(line.split()[1]) for line in open('/proc/self/status')\n"
        "                      if line.startswith('VmHWM:')) / 1024\n"
        "print(json.dumps(out))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS.parent / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", script, *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def model_file(tmp_path) -> tuple[nn.Module, Path]:
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    return net, io.save_model(net, tmp_path / "model.npz")


def npz_with(tmp_path, *entries, record=True, name="model.npz") -> Path:
    """A zerodl .npz holding ``entries`` and (with ``record``) a record listing them all."""
    entries = list(entries)
    if record:
        tree = {e.name.decode()[:-4]: {"$array": e.name.decode()[:-4]}
                for e in entries if e.name.endswith(b".npy")}
        entries.append(craft.stored("__zerodl__.json", json.dumps(
            {"format": "zerodl", "version": 1, "tree": tree}).encode()))
    path = tmp_path / name
    path.write_bytes(craft.zip_bytes(entries))
    return path


# ---------------------------------------------------------------- bombs, measured
def test_npz_whose_entry_inflates_far_past_its_header_is_refused_unread(tmp_path):
    """A 2 MB model.npz: 0.W says 4 x 3 float32 but its entry inflates to 2 GiB."""
    head = craft.npy_header((4, 3))
    path = npz_with(tmp_path, craft.inflating("0.W.npy", head, 2 << 30))
    assert path.stat().st_size < 4 << 20
    out = measured("from zerodl import io\nio.load(args[0])", path)
    assert out["error"] == "CorruptFileError"
    assert str(path) in out["message"] and "'0.W.npy'" in out["message"]
    assert "promises 4 x 3 float32 = 48 bytes of data" in out["message"]
    assert f"but the entry holds {2 << 30:,}" in out["message"]
    assert out["peak_mb"] < PEAK_LIMIT_MB


@pytest.mark.parametrize("explicit", [False, True])
def test_npz_whose_header_promises_more_than_the_limit_is_refused_unread(tmp_path, explicit):
    """5 GiB of zeros, honestly described, in a 5 MB file: refused for inflating 1000x,
    and (when a limit is given, which lifts that rule) for passing the 4 GiB limit."""
    n = 5 << 30
    path = npz_with(tmp_path, craft.inflating("W.npy", craft.npy_header((n,), "|u1"), n))
    call = "io.load(args[0], max_bytes=io.MAX_LOAD_BYTES)" if explicit else "io.load(args[0])"
    out = measured(f"from zerodl import io\n{call}", path)
    assert out["error"] == "FileTooLargeError"
    assert str(path) in out["message"] and "'W.npy'" in out["message"]
    if explicit:
        assert f"holds {n} uint8 = {n:,} bytes" in out["message"]
        assert f"{io.MAX_LOAD_BYTES:,}-byte limit" in out["message"]
    else:
        inflated = n + len(craft.npy_header((n,), "|u1"))
        assert re.search(rf"stored bytes to {inflated:,} \(1,\d\d\dx, more than 200x\)",
                         out["message"]), out["message"]
        assert "compression bomb" in out["message"]
    assert "max_bytes=" in out["message"] and "ZERODL_MAX_LOAD_BYTES" in out["message"]
    assert out["peak_mb"] < PEAK_LIMIT_MB


def test_npz_entry_inflating_a_thousandfold_is_refused_without_an_explicit_limit(tmp_path):
    """2 GiB of zeros under an honest header in a 2 MB model.npz: only its ratio gives it away."""
    n = (2 << 30) // 4
    path = npz_with(tmp_path, craft.inflating("0.W.npy", craft.npy_header((n,)), n * 4))
    out = measured("from zerodl import io\nio.load(args[0])", path)
    assert out["error"] == "FileTooLargeError"
    assert "entry '0.W.npy' would inflate from" in out["message"]
    assert out["peak_mb"] < PEAK_LIMIT_MB


def test_compressed_npz_of_real_data_loads_whatever_its_ratio_below_the_floor(tmp_path, rng):
    weights = rng.standard_normal((300, 300)).astype(np.float32)
    np.savez_compressed(tmp_path / "w.npz", W=weights, mask=np.zeros((1000, 1000), np.float32))
    back = io.load(tmp_path / "w.npz")                  # mask: 4 MB from about 4 KB, under 64 MiB
    np.testing.assert_array_equal(back["W"], weights)
    assert back["mask"].shape == (1000, 1000) and not back["mask"].any()


@pytest.mark.parametrize("how", ["load_model", "max_bytes", "environment"])
def test_honest_gigabyte_entry_is_refused_by_the_callers_budget(tmp_path, how):
    """1 GiB of float32 zeros where a 4-3-2 model belongs: load_model's budget (the
    model's own size), an explicit max_bytes or $ZERODL_MAX_LOAD_BYTES refuse it unread."""
    n = (1 << 30) // 4
    path = npz_with(tmp_path, craft.inflating("0.W.npy", craft.npy_header((n,)), n * 4))
    code = {
        "load_model": "from zerodl import io, nn\n"
                      "io.load_model(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)),"
                      " args[0])",
        "max_bytes": "from zerodl import io\nio.load(args[0], max_bytes=256 << 20)",
        "environment": "import os\nos.environ['ZERODL_MAX_LOAD_BYTES'] = str(256 << 20)\n"
                       "from zerodl import io\nio.load(args[0])",
    }[how]
    out = measured(code, path)
    assert out["error"] == "FileTooLargeError", out
    assert f"'0.W.npy' holds {n} float32 = {n * 4:,} bytes" in out["message"]
    assert out["peak_mb"] < PEAK_LIMIT_MB


def write_mnist(folder: Path, images: bytes, labels: bytes | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(images)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(
        labels if labels is not None else craft.gzip_bytes(LABELS_HEAD + bytes(10000)))


def test_gzip_bomb_in_the_data_folder_stops_at_the_known_size(tmp_path):
    """A 4 MB t10k-images .gz whose honest header is followed by 4 GiB of zeros."""
    write_mnist(tmp_path / "mnist", craft.gzip_bomb(IMAGES_HEAD, 4 << 30))
    out = measured("from zerodl.data import MNIST\nMNIST(root=args[0], train=False, download=False)",
                   tmp_path)
    assert out["error"] == "ChecksumError"
    assert str(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz") in out["message"]
    assert "too long: more than the 7,840,000 bytes of data its header promises" in out["message"]
    assert "Fix: delete" in out["message"]
    assert out["peak_mb"] < PEAK_LIMIT_MB


def test_gzip_whose_idx_header_promises_terabytes_is_refused_unread(tmp_path):
    head = bytes([0, 0, 8, 3]) + struct.pack(">III", 0xFFFFFFFF, 28, 28)
    write_mnist(tmp_path / "mnist", craft.gzip_bomb(head, 2 << 30))
    out = measured("from zerodl.data import MNIST\nMNIST(root=args[0], train=False, download=False)",
                   tmp_path)
    assert out["error"] == "ChecksumError"
    promised = 0xFFFFFFFF * 28 * 28
    assert f"header says 4294967295 x 28 x 28 uint8 = {promised:,} bytes of data" in out["message"]
    assert f"{16 + promised:,} in all: more than the 7,840,016 this file may hold" in out["message"]
    assert out["peak_mb"] < PEAK_LIMIT_MB


def test_read_idx_of_a_gzip_bomb_reads_what_the_header_promises(tmp_path):
    path = tmp_path / "labels-idx1-ubyte.gz"
    path.write_bytes(craft.gzip_bomb(LABELS_HEAD, 3 << 30))
    out = measured("from zerodl.data import read_idx\nread_idx(args[0])", path)
    assert out["error"] == "IDXFormatError"
    assert f"{path}: too long" in out["message"]
    assert out["peak_mb"] < PEAK_LIMIT_MB


def test_a_server_that_never_stops_is_cut_off_at_the_files_size(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("ZERODL_DATA", str(tmp_path / "nothing"))
    monkeypatch.setattr(dl, "SYSTEM_DATA_DIR", tmp_path / "nothing")
    sent = []

    def endless(url, out, timeout=None):
        out.write(b"\x1f\x8b")
        while True:
            out.write(bytes(4096))
            sent.append(4096)

    monkeypatch.setattr(dl, "fetch", endless)
    source = dl.Source("toy", "Toy", {"labels": "0" * 64}, ("https://mirror.invalid/",),
                       sizes={"labels": 8 + 1000})
    with pytest.raises(dl.DatasetNotFoundError) as e:
        dl.load_file(source, "labels")
    assert "https://mirror.invalid/labels.gz: ChecksumError" in str(e.value)
    cap = 1008 * 101 // 100 + (1 << 16)  # the file's size, and room for gzip's overhead
    assert f"sent more than {cap:,} bytes" in str(e.value)
    assert sum(sent) <= cap
    assert list((tmp_path / "cache" / "zerodl" / "toy").iterdir()) == []


# ---------------------------------------------------------------- .npz that lie or are foreign
PAYLOAD = np.arange(12, dtype=np.float32).tobytes()


@pytest.mark.parametrize("header, message", [
    (craft.npy_header((4, 4)), "promises 4 x 4 float32 = 64 bytes of data, but the entry holds 48"),
    (craft.npy_header((2, 3)), "promises 2 x 3 float32 = 24 bytes of data, but the entry holds 48"),
    (craft.npy_header((-4, -3)), "negative size in shape (-4, -3)"),
    (craft.npy_header((12,), "|O"), "holds Python objects (dtype object)"),
    (craft.npy_header((12,), "<f4")[:6] + b"\x03\x00" + craft.npy_header((12,))[8:],
     ".npy format version 3.0 is not supported"),
    (b"\x93NUMPY\x02\x00" + struct.pack("<I", 1 << 30), "a .npy header of 1,073,741,824 bytes"),
    (b"PK\x03\x04not numpy", "is not a .npy array"),
    (craft.npy_header((12,), "<f4").replace(b"'descr': '<f4'", b"'descr': 'xyz'"),
     "descr is not a valid dtype descriptor: 'xyz'"),
])
def test_npz_entry_with_a_lying_or_bad_npy_header_is_refused(tmp_path, header, message):
    path = npz_with(tmp_path, craft.stored("W.npy", header + PAYLOAD))
    with pytest.raises(io.CorruptFileError, match="model.npz is damaged") as e:
        io.load(path)
    assert message in str(e.value) and "'W.npy'" in str(e.value)


def test_object_arrays_are_never_unpickled(tmp_path):
    """The pickle inside would create a folder if anything unpickled it."""
    marker = tmp_path / "pickle-ran"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    payload = pickle.dumps(np.array([Evil()], dtype=object), protocol=4)
    entry = craft.stored("W.npy", craft.npy_header((1,), "|O") + payload)
    for record in (True, False):
        path = npz_with(tmp_path, entry, record=record)
        with pytest.raises(io.CorruptFileError, match="zerodl never unpickles"):
            io.load(path)
    assert not marker.exists()


@pytest.mark.parametrize("entries, announce, message", [
    ([("W.npy", True), ("W.npy", True)], None, "entries appear twice: ['W.npy']"),
    ([("W", True)], None, "unexpected entry 'W'"),
    ([("W.npy", True), ("V.npy", False)], None, "entry 'V.npy' is not in the file's record"),
    ([("W.npy", True)], 7, "does not list as many entries as it announces"),
])
def test_zip_entries_with_wrong_names_or_counts_are_refused(tmp_path, entries, announce, message):
    good = craft.npy_header((12,)) + PAYLOAD
    made = [craft.stored(name, good) for name, _ in entries]
    tree = {n[:-4]: {"$array": n[:-4]} for n, listed in entries if listed and n.endswith(".npy")}
    made.append(craft.stored("__zerodl__.json", json.dumps(
        {"format": "zerodl", "version": 1, "tree": tree}).encode()))
    path = tmp_path / "model.npz"
    path.write_bytes(craft.zip_bytes(made, announce=announce))
    with pytest.raises(io.CorruptFileError, match="model.npz is damaged") as e:
        io.load(path)
    assert message in str(e.value)


def test_a_zip_announcing_millions_of_entries_is_refused_before_it_is_listed(tmp_path):
    path = tmp_path / "model.npz"
    raw = bytearray(craft.zip_bytes([craft.stored("W.npy", craft.npy_header((12,)) + PAYLOAD)]))
    raw[-22:] = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0, 0, 0)
    locator_target = len(raw) - 22  # a zip64 end record announcing 10 million entries
    raw[-22:-22] = (struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0,
                                10_000_000, 10_000_000, 0, 0)
                    + struct.pack("<IIQI", 0x07064B50, 0, locator_target, 1))
    path.write_bytes(bytes(raw))
    with pytest.raises(io.FileTooLargeError, match="announces 10,000,000 entries"):
        io.load(path)


def test_record_that_is_too_large_is_refused_unread(tmp_path):
    size = 100 << 20
    path = tmp_path / "model.npz"
    path.write_bytes(craft.zip_bytes([craft.inflating("__zerodl__.json", b"{", size)]))
    with pytest.raises(io.FileTooLargeError, match=f"'__zerodl__.json' holds {size + 1:,} bytes"):
        io.load(path)


@pytest.mark.parametrize("keep", [0, 10, 30, 60, 100, 200, -200, -22, -1])
def test_truncated_npz_is_refused(tmp_path, keep):
    _, path = model_file(tmp_path)
    raw = path.read_bytes()
    path.write_bytes(raw[:keep] if keep >= 0 else raw[:len(raw) + keep])
    with pytest.raises(io.CorruptFileError, match="model.npz is damaged or truncated"):
        io.load(path)


def test_a_path_that_is_no_regular_file_is_refused_not_read_forever():
    with pytest.raises(io.CorruptFileError, match="/dev/zero is not a regular file"):
        io.load("/dev/zero")


def test_a_bad_limit_in_the_environment_is_named(tmp_path, monkeypatch):
    _, path = model_file(tmp_path)
    monkeypatch.setenv("ZERODL_MAX_LOAD_BYTES", "4G")
    with pytest.raises(ValueError, match="ZERODL_MAX_LOAD_BYTES='4G' is not a whole number"):
        io.load(path)


# ---------------------------------------------------------------- .safetensors that lie
def safetensors_parts(tmp_path, foreign: bool = False):
    """(JSON header, data) of a saved 4-3 Linear's .safetensors file."""
    pytest.importorskip("safetensors")
    net = nn.Linear(4, 3)
    path = io.save(net.state_dict(), tmp_path / "w.safetensors")
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    if foreign:
        del header["__metadata__"]
    return net, path, header, raw[8 + n:]


def write_safetensors(path: Path, header, data: bytes, text: bytes | None = None) -> None:
    text = json.dumps(header).encode() if text is None else text
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


def _set(key, field, value):
    def change(h):
        h[key][field] = value
    return change


@pytest.mark.parametrize("change, message", [
    (_set("W", "dtype", "I32"), "tensor 'W' is int32 (4, 3) in the file's header but was "
                                "saved as float32 (4, 3): the header was changed"),
    (_set("W", "dtype", "U32"), "the header was changed"),
    (_set("W", "dtype", "F16"), "tensor 'W': F16 (4, 3) needs 24 bytes, but its data_offsets "
                                "[0, 48] span 48"),
    (_set("W", "dtype", "F64"), "tensor 'W': F64 (4, 3) needs 96 bytes"),
    (_set("W", "shape", [3, 4]), "tensor 'W' is float32 (3, 4)"),
    (_set("W", "shape", [6, 3]), "tensor 'W': F32 (6, 3) needs 72 bytes"),
    (_set("W", "shape", [5]), "tensor 'W': F32 (5,) needs 20 bytes"),
    (_set("W", "shape", [2 ** 62, 2 ** 62, 0]), "needs 0 bytes, but its data_offsets [0, 48]"),
    (_set("W", "shape", [2 ** 62, 2 ** 62]), f"needs {2 ** 126:,} bytes"),
    (_set("W", "shape", [-4, 3]), "invalid value"),
    (_set("W", "data_offsets", [0, 40]), "tensor 'W': F32 (4, 3) needs 48 bytes, but its "
                                         "data_offsets [0, 40] span 40"),
    (_set("W", "data_offsets", [8, 56]), "invalid offset for tensor `W`"),
    (_set("W", "data_offsets", [48, 12]), "data_offsets [48, 12] span -36"),
    (_set("b", "data_offsets", [0, 12]), "invalid offset for tensor `W`"),
    (_set("b", "data_offsets", [60, 72]), "invalid offset for tensor `b`"),
    (_set("W", "dtype", "BF16"), "tensor 'W' has dtype 'BF16', which NumPy cannot hold"),
    (_set("W", "dtype", "X9"), "tensor 'W' has dtype 'X9', which NumPy cannot hold"),
    (lambda h: h["__metadata__"].update(__zerodl__=h["__metadata__"]["__zerodl__"][:-1] + " }"),
     "bad CRC-32 for the zerodl record"),
    (lambda h: h.update(V={"dtype": "F32", "shape": [0], "data_offsets": [60, 60]}),
     "the recorded arrays and the stored arrays differ"),
])
def test_safetensors_with_a_lying_header_is_refused(tmp_path, change, message):
    _, path, header, data = safetensors_parts(tmp_path)
    change(header)
    write_safetensors(path, header, data)
    with pytest.raises(io.CorruptFileError, match="w.safetensors is damaged") as e:
        io.load(path)
    assert message in str(e.value)


@pytest.mark.parametrize("text, data, message", [
    (b'{"W": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, '
     b'"W": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}', bytes(8),
     "names appear twice in the header: ['W']"),
    (b'[1, 2, 3]', b"", "the header is not a JSON object"),
    (b'{"W": 5}', b"", "tensor 'W' has dtype None"),
    (b'{"W": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}', bytes(4) + b"tail",
     "not fully covered"),
])
def test_safetensors_with_a_malformed_header_is_refused(tmp_path, text, data, message):
    pytest.importorskip("safetensors")
    path = tmp_path / "w.safetensors"
    write_safetensors(path, None, data, text=text)
    with pytest.raises(io.CorruptFileError, match="w.safetensors is damaged") as e:
        io.load(path)
    assert message in str(e.value)


def test_safetensors_whose_length_field_runs_past_the_end_is_refused(tmp_path):
    pytest.importorskip("safetensors")
    path = tmp_path / "w.safetensors"
    path.write_bytes(struct.pack("<Q", 1 << 62) + b"{}")
    with pytest.raises(io.CorruptFileError, match="header length 4,611,686,018,427,387,904 runs "
                                                  "past the end of the file"):
        io.load(path)


@pytest.mark.parametrize("dtype, kind", [("I32", "int32"), ("U8", "uint8"), ("BOOL", "bool"),
                                         ("I8", "int8"), ("C64", "complex64")])
def test_foreign_safetensors_of_the_wrong_kind_is_refused_by_the_model_with_the_key(
        tmp_path, dtype, kind):
    """Without zerodl's record nothing in the file can tell; the model can: W is float32."""
    net, path, header, data = safetensors_parts(tmp_path, foreign=True)
    itemsize = {"I32": 4, "U8": 1, "BOOL": 1, "I8": 1, "C64": 8}[dtype]
    count = 12 * 4 // itemsize
    header["W"].update(dtype=dtype, shape=[count])
    write_safetensors(path, header, data)
    state = io.load(path)
    assert state["W"].dtype == np.dtype(kind)
    state["W"] = state["W"][:12].reshape(4, 3) if count >= 12 else state["W"]
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(state)
    assert f"dtype mismatch for W: expected float32 (or another float dtype), got {kind}" in str(
        e.value)


# ---------------------------------------------------------------- IDX files that lie
def test_idx_dims_whose_product_overflows_int64_are_refused_not_wrapped():
    """65536^4 is 2^64, which int64 arithmetic wraps to 0: the header would seem to
    promise an empty body. Computed exactly, it promises 18 exabytes."""
    data = bytes([0, 0, 8, 4]) + struct.pack(">IIII", 65536, 65536, 65536, 65536)
    with pytest.raises(IDXFormatError) as e:
        parse_idx(data, "overflow-idx4")
    message = str(e.value)
    assert "overflow-idx4: truncated: header says 65536 x 65536 x 65536 x 65536 uint8" in message
    assert f"= {2 ** 64:,} bytes of data" in message and "but 0 bytes follow" in message


@pytest.mark.parametrize("change, word", [(-3, "truncated"), (+5, "too long")])
def test_gzipped_idx_whose_size_disagrees_with_its_header_is_refused(tmp_path, change, word):
    path = tmp_path / "labels.gz"
    body = LABELS_HEAD + bytes(10000)
    path.write_bytes(craft.gzip_bytes(body[:change] if change < 0 else body + bytes(change)))
    with pytest.raises(IDXFormatError, match=f"labels.gz: {word}"):
        read_idx(path)


@pytest.mark.parametrize("content, message", [
    (b"this is a text file, not gzip", "not an IDX header"),
    (b"\x1f\x8bnot really gzip at all", "damaged or incomplete gzip data"),
    (b"", "0 bytes is too short for an IDX header"),
])
def test_a_gz_that_is_not_gzip_is_refused_with_the_files_name(tmp_path, content, message):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(IDXFormatError, match=message):
        read_idx(path)
    write_mnist(tmp_path / "mnist", content)
    with pytest.raises(ChecksumError) as e:
        MNIST(root=tmp_path, train=False, download=False)
    assert str(tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz") in str(e.value)


# ---------------------------------------------------------------- temporary files
def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporary_files_are_removed_on_the_next_write_and_others_kept(tmp_path):
    host, old = files._HOST, time.time() - 2 * files.STALE_TEMP_SECONDS
    names = {
        f".model.npz.zerodl-{host}-{dead_pid()}-ab12cd.tmp": False,      # writer gone
        f".model.npz.zerodl-{host}-{os.getpid()}-ab12cd.tmp": True,      # writer alive (us)
        f".model.npz.zerodl-{host}-{os.getppid()}-ef34gh.tmp": True,     # writer alive
        ".model.npz.zerodl-otherhost-1-ab12cd.tmp": True,                # elsewhere, fresh
        ".ckpt.npz.zerodl-otherhost-2-ab12cd.tmp": False,                # elsewhere, old
        ".model.npz.k2j4_x9q.tmp": True,                                  # older zerodl, fresh
        ".model.npz.z0a9b8c7.tmp": False,                                 # older zerodl, old
        ".train-images-idx3-ubyte.a1b2c3d4.part": False,                 # older download, old
        ".notes.tmp": True,                                               # not zerodl's
        "model.npz.tmp": True,                                            # not zerodl's
        ".keep.zerodl-x-1-ab.tmp.bak": True,                              # not zerodl's
    }
    for name in names:
        (tmp_path / name).write_bytes(b"partial")
    for name in (".ckpt.npz.zerodl-otherhost-2-ab12cd.tmp", ".model.npz.z0a9b8c7.tmp",
                 ".train-images-idx3-ubyte.a1b2c3d4.part", ".notes.tmp"):
        os.utime(tmp_path / name, (old, old))
    io.save({"w": np.ones(2)}, tmp_path / "other.npz")
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {name for name, kept in names.items() if kept} | {"other.npz"}


def paused_writer(path: Path) -> subprocess.Popen:
    """A process that has written 4 KiB of ``path``'s temporary file and sleeps before the rename."""
    code = ("import sys, time\nfrom zerodl.files import atomic_write\n"
            "atomic_write(sys.argv[1], lambda f: (f.write(b'x' * 4096), f.flush(), "
            "print('writing', flush=True), time.sleep(60)))")
    env = dict(os.environ, PYTHONPATH=str(TESTS.parent / "src"))
    writer = subprocess.Popen([sys.executable, "-c", code, str(path)],
                              stdout=subprocess.PIPE, text=True, env=env)
    assert writer.stdout.readline().strip() == "writing"
    return writer


def test_a_writer_killed_mid_write_leaves_a_temp_file_the_next_write_removes(tmp_path):
    writer = paused_writer(tmp_path / "model.npz")
    temps = [p for p in tmp_path.iterdir() if files.TEMP_PATTERN.match(p.name)]
    assert len(temps) == 1 and temps[0].stat().st_size == 4096
    io.save({"w": np.ones(1)}, tmp_path / "b.npz")     # the writer is alive: its file stays
    assert temps[0].exists()
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    io.save({"w": np.ones(1)}, tmp_path / "b.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.npz"]


def test_a_live_writers_temp_file_is_kept_however_old_or_unknown_its_pid_looks(tmp_path):
    """A writer paused for hours (a laptop asleep mid-download), or one in another PID
    namespace on a host of the same name (a container): its pid says nothing, its lock does."""
    writer = paused_writer(tmp_path / "model.npz")
    try:
        (temp,) = [p for p in tmp_path.iterdir() if files.TEMP_PATTERN.match(p.name)]
        old = time.time() - 2 * files.STALE_TEMP_SECONDS
        os.utime(temp, (old, old))                                   # untouched for two hours
        io.save({"w": np.ones(1)}, tmp_path / "b.npz")
        assert temp.exists()
        elsewhere = temp.with_name(temp.name.replace(f"-{writer.pid}-", f"-{dead_pid()}-"))
        temp.rename(elsewhere)                                       # its pid means nothing here
        io.save({"w": np.ones(1)}, tmp_path / "b.npz")
        assert elsewhere.exists()
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    io.save({"w": np.ones(1)}, tmp_path / "b.npz")                   # gone now: removed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.npz"]


def test_two_processes_saving_into_one_folder_never_disturb_each_other(tmp_path):
    code = ("import sys, numpy as np\nfrom zerodl import io\n"
            "for i in range(40):\n"
            "    io.save({'w': np.full(20000, i)}, f'{sys.argv[1]}/{sys.argv[2]}.npz')\n"
            "    assert io.load(f'{sys.argv[1]}/{sys.argv[2]}.npz')['w'][0] == i\n")
    env = dict(os.environ, PYTHONPATH=str(TESTS.parent / "src"))
    writers = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path), name], env=env,
                                stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz"]


# ---------------------------------------------------------------- full and read-only disks
@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB tmpfs (needs root; skipped elsewhere), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_gives_one_clear_error_and_keeps_the_old_file(tiny_disk):
    path = tiny_disk / "model.npz"
    io.save({"w": np.ones(100)}, path)
    old = path.read_bytes()
    with pytest.raises(files.WriteError) as e:
        io.save({"w": np.ones(200_000)}, path)             # 1.6 MB on a 256 KiB disk
    assert isinstance(e.value, OSError) and e.value.errno == errno.ENOSPC
    assert e.value.filename == str(path)
    assert str(e.value) == (f"zd.io.save: cannot write {path}: the disk is full "
                            f"(No space left on device); the old file is unchanged. "
                            f"Fix: free space on the disk holding {tiny_disk} "
                            f"or write somewhere else.")
    assert path.read_bytes() == old and os.listdir(tiny_disk) == ["model.npz"]


def test_a_read_only_folder_gives_one_clear_error_and_keeps_the_old_file(tiny_disk):
    path = tiny_disk / "model.npz"
    io.save({"w": np.ones(10)}, path)
    old = path.read_bytes()
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    with pytest.raises(files.WriteError) as e:
        io.save({"w": np.zeros(10)}, path)
    assert e.value.errno == errno.EROFS
    assert f"zd.io.save: cannot write {path}: {tiny_disk} is on a read-only file system" in str(
        e.value)
    assert "Fix: choose a writable folder." in str(e.value)
    assert path.read_bytes() == old and os.listdir(tiny_disk) == ["model.npz"]


@pytest.mark.parametrize("code, where, cause", [
    (errno.ENOSPC, "write", "the disk is full"),
    (errno.EDQUOT, "fsync", "the disk quota is exceeded"),
    (errno.EROFS, "mkstemp", "is on a read-only file system"),
    (errno.EACCES, "mkstemp", "permission denied in"),
    (errno.EACCES, "replace", "permission denied in"),
])
def test_failing_writes_are_reported_once_with_the_cause_and_leave_nothing(
        tmp_path, monkeypatch, code, where, cause):
    path = tmp_path / "ckpt.npz"
    io.save({"w": np.ones(3)}, path)
    old = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    if where == "write":
        monkeypatch.setattr(np.lib.format, "write_array", fail)
    elif where == "mkstemp":
        monkeypatch.setattr(files.tempfile, "mkstemp", fail)
    else:
        monkeypatch.setattr(files.os, where, fail)
    with pytest.raises(files.WriteError, match=f"zd.io.save: cannot write {path}: .*{cause}"):
        io.save({"w": np.zeros(3)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == old and os.listdir(tmp_path) == ["ckpt.npz"]


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(files.WriteError, match=f"the folder {tmp_path / 'no'} does not exist"):
        io.save({"w": np.ones(1)}, tmp_path / "no" / "model.npz")
    (tmp_path / "afile").write_text("")
    with pytest.raises(files.WriteError, match="is a file, not a folder"):
        io.save({"w": np.ones(1)}, tmp_path / "afile" / "model.npz")


def test_other_errors_while_writing_pass_through_unchanged(tmp_path):
    def broken(f):
        f.write(b"abc")
        raise zlib.error("boom")

    with pytest.raises(zlib.error, match="boom"):
        files.atomic_write(tmp_path / "x.bin", broken)
    assert os.listdir(tmp_path) == []
