"""Data-parallel training: sharded loaders, and real runs of 2 processes under mpirun."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from zerodl import distributed, optim
from zerodl.data import DataLoader
from zerodl.io import load
from zerodl.nn.models import MLP


def mpirun() -> str:
    """The mpirun next to this Python (zerodl[dist] installs MPICH there), or on PATH."""
    found = shutil.which("mpirun", path=f"{Path(sys.executable).parent}{os.pathsep}"
                                        f"{os.environ.get('PATH', '')}")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        if os.environ.get("ZERODL_CI_MPI"):
            pytest.fail("mpirun or mpi4py missing; CI installs them with zerodl[dist]")
        pytest.skip("mpirun and mpi4py are needed: pip install 'zerodl[dist]'")
    return found


# Two "machines" on this one: MPICH's launcher starts a proxy per host name, and ranks
# under different proxies share no memory, so they talk as across a network.
TWO_HOSTS = ["-launcher", "fork", "-hosts", "127.0.0.1,localhost", "-ppn", "1"]


def run_mpi(args, n=2, cwd=None, timeout=120, launch=()):
    """Run ``args`` on ``n`` ranks; the environment sets no thread counts (zerodl picks them)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    return subprocess.run([mpirun(), *launch, "-n", str(n), *args], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def two_hosts() -> list[str]:
    """TWO_HOSTS where mpirun is MPICH's (Hydra), the launcher those options are for."""
    version = subprocess.run([mpirun(), "--version"], capture_output=True, text=True, timeout=60)
    if "HYDRA" not in version.stdout:
        pytest.skip("the two-host launch options are MPICH's (Hydra); this mpirun is another")
    return TWO_HOSTS


def run_script(tmp_path, source: str, n=2, launch=()):
    """Run a Python script on ``n`` ranks; ``report(dict)`` in it leaves each rank's result
    in its own file (the ranks' prints would interleave), returned in rank order."""
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source) + textwrap.dedent("""
        import json as _json
        _json.dump(out, open(f"result-{comm.rank}.json", "w"))
    """))
    done = run_mpi([sys.executable, str(script)], n=n, cwd=tmp_path, launch=launch)
    assert done.returncode == 0, done.stderr
    return [json.loads((tmp_path / f"result-{r}.json").read_text()) for r in range(n)]


# ---------------------------------------------------------------- one process
def test_a_sharded_loader_gives_each_rank_its_part_of_every_batch():
    X, y = np.arange(23)[:, None], np.arange(23)
    whole = [t for _, t in DataLoader((X, y), 8, seed=3)]
    parts = [[t for _, t in DataLoader((X, y), 8, seed=3, shard=(r, 3))] for r in range(3)]
    # batches of 8, 8 and 7: cut 2|3|3, 2|3|3 and 2|2|3, in order, together the whole batch
    assert [[len(t) for t in p] for p in parts] == [[2, 2, 2], [3, 3, 2], [3, 3, 3]]
    for b, batch in enumerate(whole):
        assert np.array_equal(np.concatenate([p[b] for p in parts]), batch)


def test_a_last_batch_smaller_than_the_ranks_is_left_out_on_every_rank():
    X = np.arange(9)[:, None]
    loaders = [DataLoader((X,), 4, shuffle=False, shard=(r, 2)) for r in range(2)]
    assert [len(ld) for ld in loaders] == [2, 2]         # 4, 4 and a last batch of 1
    seen = np.concatenate([x.ravel() for ld in loaders for (x,) in ld])
    assert sorted(seen.tolist()) == list(range(8))


def test_a_sharded_loader_refuses_what_cannot_be_split_the_same_way_on_every_rank():
    data = (np.zeros((10, 1)),)
    with pytest.raises(ValueError, match="needs a seed"):
        DataLoader(data, 4, shard=(0, 2))
    with pytest.raises(ValueError, match="batch_size=1 cannot be split among 2"):
        DataLoader(data, 1, seed=0, shard=(0, 2))
    with pytest.raises(ValueError, match="rank 2 is outside 0..1"):
        DataLoader(data, 4, seed=0, shard=(2, 2))


def test_alone_the_communicator_is_a_world_of_one_and_changes_nothing(monkeypatch):
    for name in ("PMI_RANK", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK"):
        monkeypatch.delenv(name, raising=False)
    comm = distributed.init()
    assert (comm.rank, comm.size) == (0, 1)
    model = MLP([2, 3, 2])
    for p in model.parameters():
        p.grad = p.data * 2
    before = [p.grad for p in model.parameters()]
    distributed.average_gradients(model.parameters(), comm)
    assert all(p.grad is g for p, g in zip(model.parameters(), before))
    assert comm.sum([1.5, 2]) == [1.5, 2.0]


def test_the_distributed_optimizer_is_the_wrapped_one_to_schedulers_and_checkpoints():
    model = MLP([2, 3, 2])
    inner = optim.Adam(model.named_parameters(), lr=0.01)
    opt = distributed.DistributedOptimizer(inner, distributed.Communicator())
    optim.CosineAnnealingLR(opt, T_max=4).step()
    assert inner.lr == opt.lr < 0.01
    assert opt.state_dict() == inner.state_dict()


# ---------------------------------------------------------------- under mpirun
def test_average_gradients_is_the_mean_over_ranks(tmp_path):
    results = run_script(tmp_path, """
        import numpy as np
        import zerodl as zd
        from zerodl import distributed

        comm = distributed.init()
        r = comm.rank
        a = zd.Tensor(np.zeros(3, np.float32), requires_grad=True)
        b = zd.Tensor(np.zeros((2, 2)), requires_grad=True)           # float64
        c = zd.Tensor(np.zeros(2, np.float32), requires_grad=True)
        a.grad = zd.Tensor(np.full(3, r + 1.0, np.float32))
        b.grad = zd.Tensor(np.full((2, 2), 2.0)) if r == 0 else None   # none on rank 1
        distributed.average_gradients([a, b, c], comm)
        out = {"rank": r, "size": comm.size, "a": a.grad.data.tolist(), "a_dtype": a.grad.dtype.str,
               "b": b.grad.data.tolist(), "b_dtype": b.grad.dtype.str, "c": c.grad is None}
    """)
    assert [r["rank"] for r in results] == [0, 1] and results[0]["size"] == 2
    for r in results:
        assert r["a"] == [1.5, 1.5, 1.5] and r["a_dtype"] == "<f4"
        assert r["b"] == [[1.0, 1.0], [1.0, 1.0]] and r["b_dtype"] == "<f8"
        assert r["c"] is True


@pytest.mark.parametrize("machines", [1, 2])
def test_two_ranks_train_as_one_process_with_the_whole_batch(tmp_path, machines):
    launch = two_hosts() if machines == 2 else ()
    results = run_script(tmp_path, """
        import numpy as np
        import zerodl as zd
        import zerodl.functional as F
        from zerodl import data, distributed, optim
        from zerodl.nn.models import MLP
        from zerodl.train import fit

        def train(comm):
            zd.manual_seed(5 + comm.rank)      # different starts: the broadcast must align them
            model = MLP([2, 16, 3]).to(np.float64)
            distributed.broadcast_parameters(model, comm)
            opt = optim.SGD(model.named_parameters(), lr=0.3, momentum=0.9)
            if comm.size > 1:
                opt = distributed.DistributedOptimizer(opt, comm)
            X, y = data.spiral(seed=1)
            shard = comm if comm.size > 1 else None
            train = data.DataLoader((X, y), 30, seed=2, shard=shard)
            test = data.DataLoader(data.spiral(seed=2), 50, shuffle=False, shard=shard)
            history = fit(model, F.cross_entropy, opt, train, test, epochs=3, progress=False,
                          comm=shard)
            return model, history

        comm = distributed.init()
        model, history = train(comm)
        from mpi4py import MPI
        out = {"rank": comm.rank, "params": [p.data.tolist() for p in model.parameters()],
               "history": history.to_dict(),
               "ranks_sharing_memory": MPI.COMM_WORLD.Split_type(MPI.COMM_TYPE_SHARED).size}
        if comm.rank == 0:
            zd.manual_seed(5)
            alone, alone_history = train(distributed.Communicator())
            out["alone"] = [p.data.tolist() for p in alone.parameters()]
            out["alone_history"] = alone_history.to_dict()
    """, launch=launch)
    first, second = results
    assert first["ranks_sharing_memory"] == second["ranks_sharing_memory"] == 3 - machines
    for p, q, s in zip(first["params"], second["params"], first["alone"]):
        assert np.array_equal(p, q)                         # the ranks never drift apart
        np.testing.assert_allclose(p, s, rtol=1e-10, atol=1e-12)
    for key in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert first["history"][key] == second["history"][key]
        np.testing.assert_allclose(first["history"][key], first["alone_history"][key], rtol=1e-10)


def test_zerodl_train_under_mpirun_matches_one_process_and_writes_once(tmp_path):
    args = ["--dataset", "spiral", "--epochs", "4", "--no-progress"]
    done = run_mpi([sys.executable, "-m", "zerodl", "train", *args, "--out", "par"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("training mlp on spiral") == 1    # rank 0 alone prints
    assert "data-parallel on 2 processes" in done.stdout
    alone = subprocess.run([sys.executable, "-m", "zerodl", "train", *args, "--out", "one"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert alone.returncode == 0, alone.stderr
    par, one = load(tmp_path / "par" / "model.npz")["model"], load(tmp_path / "one" / "model.npz")["model"]
    for key in one:
        np.testing.assert_allclose(par[key], one[key], rtol=1e-4, atol=1e-6)
    m_par = json.loads((tmp_path / "par" / "metrics.json").read_text())
    m_one = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert abs(m_par["test_loss"] - m_one["test_loss"]) < 1e-4
    # the sharded evaluation summed over the ranks is the evaluation of the whole test set
    again = subprocess.run([sys.executable, "-m", "zerodl", "evaluate", "par", "--no-progress"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert f"{m_par['test_accuracy']:.2%}" in again.stdout and f"{m_par['test_loss']:.4f}" in again.stdout
    shared = run_mpi([sys.executable, "-m", "zerodl", "evaluate", "par", "--no-progress"], cwd=tmp_path)
    assert shared.returncode == 0, shared.stderr
    assert shared.stdout == again.stdout                     # one line, from rank 0, the same


def test_an_error_on_the_ranks_ends_the_whole_run(tmp_path):
    done = run_mpi([sys.executable, "-m", "zerodl", "train", "--dataset", "spiral",
                    "--batch-size", "1", "--no-progress", "--out", "bad"], cwd=tmp_path, timeout=60)
    assert done.returncode != 0
    assert "--batch-size 1 cannot be split among 2 processes" in done.stderr


def test_a_data_parallel_run_resumes_to_the_parameters_of_one_that_never_stopped(tmp_path):
    zerodl = [sys.executable, "-m", "zerodl", "train", "--no-progress"]
    first = run_mpi([*zerodl, "--dataset", "spiral", "--epochs", "2", "--out", "run"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    rest = run_mpi([*zerodl, "--resume", "run", "--epochs", "4"], cwd=tmp_path)
    assert rest.returncode == 0, rest.stderr
    assert "resuming mlp on spiral" in rest.stdout and "after epoch 2" in rest.stdout
    straight = subprocess.run([*zerodl, "--dataset", "spiral", "--epochs", "4", "--out", "straight"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert straight.returncode == 0, straight.stderr
    resumed = load(tmp_path / "run" / "model.npz")["model"]
    for key, value in load(tmp_path / "straight" / "model.npz")["model"].items():
        np.testing.assert_allclose(resumed[key], value, rtol=1e-4, atol=1e-6)


def test_a_data_parallel_run_that_diverges_is_reported_once_by_rank_0_with_its_metrics(tmp_path):
    """Every rank sees the same non-finite loss at the same epoch: rank 0 alone reports it,
    after writing metrics.json, and no other rank ends the run before it has."""
    done = run_mpi([sys.executable, "-m", "zerodl", "train", "--dataset", "sine", "--optimizer",
                    "sgd", "--lr", "2", "--epochs", "20", "--no-progress", "--out", "run"],
                   cwd=tmp_path)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith("zerodl train")]
    assert len(lines) == 1 and lines[0].startswith("zerodl train (rank 0): training diverged")
    assert "the checkpoint of epoch 4 in run/checkpoint.npz is kept" in lines[0]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert [r["epoch"] for r in metrics["epochs"]] == [1, 2, 3, 4] and "diverged" in metrics["note"]
